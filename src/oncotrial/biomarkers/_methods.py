"""The association tests of the biomarker section, each returning a JSON-ready mapping that
names the test and the number of subjects that entered it.

* Fisher's exact test of a 2 x 2 table, two-sided (R ``fisher.test``), with R's odds ratio: the
  conditional maximum-likelihood estimate and its exact conditional interval (Cornfield 1956;
  equal to ``scipy.stats.contingency.odds_ratio(kind="conditional")``), not the sample odds
  ratio ``ad / bc``. Larger tables: the Freeman-Halton exact test (R ``fisher.test`` on an
  r x 2 table). Both in :mod:`oncotrial.biomarkers._fisher`.
* Mann-Whitney U (Wilcoxon rank-sum) as R ``wilcox.test(x, y)``: W is the U of ``x``; exact
  p-value when both samples have fewer than 50 values and there are no ties, otherwise the
  normal approximation with tie and continuity corrections.
* ROC AUC = P(X > Y) + P(X = Y) / 2 of a marker's values in responders (X) against
  non-responders (Y), not flipped when below 0.5, with the DeLong et al. (Biometrics
  1988;44:837-845) variance computed from midranks (Sun & Xu, IEEE SPL 2014;21:1389-1393) and the
  interval ``AUC -/+ z SE`` clipped to [0, 1], as R pROC ``ci.auc(method = "delong")``. It is an
  estimate, not a further test: the Mann-Whitney U test is its test.
* Logistic regression of response on the marker (Newton-Raphson, as R ``glm`` and statsmodels
  ``Logit``; :func:`oncotrial.stats.logistic_screen`): odds
  ratio per unit with the Wald interval and p-value. Complete or quasi-complete separation is
  reported, not fitted.
* Spearman's rank correlation with the p-value of the t approximation, as R
  ``cor.test(method = "spearman", exact = FALSE)``.
* Kruskal-Wallis rank-sum test with the tie correction (R ``kruskal.test``).

A test that cannot be computed (an empty group, a constant variable) returns ``p_value`` None
and a ``note`` saying why.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as st

from oncotrial.biomarkers._fisher import TwoByTwo, freeman_halton

Array = NDArray[np.float64]


def num(value: Any) -> float | None:
    """A finite float, else None (JSON has no infinity or NaN)."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def skipped(test: str, n: int, note: str, **extra: Any) -> dict[str, Any]:
    return {"test": test, "n": n, **extra, "p_value": None, "note": note}


def fisher_2x2(table: list[list[int]], conf_level: float) -> dict[str, Any]:
    """Two-sided Fisher's exact test and the conditional MLE odds ratio of ``table``
    (rows: marker status, first = the group whose odds are the numerator; columns:
    responders, non-responders)."""
    test = "Fisher's exact test (two-sided)"
    n = int(sum(map(sum, table)))
    if min(sum(table[0]), sum(table[1])) == 0:
        return skipped(test, n, "a marker group is empty", table=table)
    dist = TwoByTwo(table)
    p = dist.p_value()
    if dist.lo == dist.hi:
        return {"test": test, "n": n, "table": table, "odds_ratio": None, "ci_low": None,
                "ci_high": None, "p_value": p,
                "note": "every subject has the same response: no odds ratio"}  # fmt: skip
    estimate = dist.estimate()
    low, high = dist.interval(conf_level)
    out = {"test": test, "n": n, "table": table, "odds_ratio": num(estimate),
           "ci_low": num(low), "ci_high": num(high), "p_value": p,
           "odds_ratio_method": "conditional maximum likelihood with exact interval "
                                "(R fisher.test)"}  # fmt: skip
    if math.isinf(estimate) or math.isinf(high):
        out["note"] = "a zero cell: the odds ratio or its upper limit is infinite (null)"
    return out


def fisher_rx2(table: list[list[int]]) -> dict[str, Any]:
    """Freeman-Halton exact test of an r x 2 table (rows with subjects only)."""
    test = "Fisher-Freeman-Halton exact test"
    rows = [r for r in table if sum(r) > 0]
    n = int(sum(map(sum, rows)))
    if len(rows) < 2:
        return skipped(test, n, "fewer than two marker groups have subjects", table=table)
    p, method = freeman_halton(rows)
    return {"test": test, "n": n, "table": table, "p_value": p, "method": method}


def mann_whitney(x: Array, y: Array) -> dict[str, Any]:
    """R ``wilcox.test(x, y)`` (two-sided)."""
    test = "Mann-Whitney U (Wilcoxon rank-sum)"
    n = int(x.size + y.size)
    if x.size == 0 or y.size == 0:
        return skipped(test, n, "a group is empty", n_x=int(x.size), n_y=int(y.size))
    both = np.concatenate([x, y])
    if np.all(both == both[0]):
        return skipped(test, n, "every value is the same", n_x=int(x.size), n_y=int(y.size))
    ties = np.unique(both).size < both.size
    exact = x.size < 50 and y.size < 50 and not ties
    res = st.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                          method="exact" if exact else "asymptotic")  # fmt: skip
    return {"test": test, "n": n, "n_x": int(x.size), "n_y": int(y.size),
            "statistic": float(res.statistic), "statistic_name": "W",
            "p_value": float(res.pvalue),
            "method": "exact" if exact else "normal approximation with continuity correction"}  # fmt: skip


def _midrank(v: Array) -> Array:
    return st.rankdata(v, method="average")


def roc_auc(pos: Array, neg: Array, conf_level: float) -> dict[str, Any]:
    """AUC of ``pos`` (responders) against ``neg`` with the DeLong interval."""
    test = "ROC AUC (DeLong)"
    m, k = pos.size, neg.size
    if m < 2 or k < 2:
        return {"test": test, "n": m + k, "n_pos": m, "n_neg": k, "auc": None,
                "note": "each group needs at least 2 subjects for the DeLong variance"}  # fmt: skip
    tz = _midrank(np.concatenate([pos, neg]))
    v10 = (tz[:m] - _midrank(pos)) / k
    v01 = 1.0 - (tz[m:] - _midrank(neg)) / m
    auc = float(v10.mean())
    se = math.sqrt(float(np.var(v10, ddof=1)) / m + float(np.var(v01, ddof=1)) / k)
    z = float(st.norm.ppf(1 - (1 - conf_level) / 2))
    return {"test": test, "n": m + k, "n_pos": m, "n_neg": k, "auc": auc, "se": se,
            "ci_low": max(0.0, auc - z * se), "ci_high": min(1.0, auc + z * se)}  # fmt: skip


def logistic(x: Array, y: NDArray[np.bool_], conf_level: float) -> dict[str, Any]:
    """Odds ratio of response per unit of ``x`` (logistic model with intercept, Wald CI)."""
    test = "logistic regression (Wald)"
    n, events = int(x.size), int(y.sum())
    if events in (0, n) or np.all(x == x[0]):
        return skipped(test, n, "constant response or marker", events=events)
    if x[y].max() <= x[~y].min() or x[~y].max() <= x[y].min():
        return skipped(test, n, "separation: responders and non-responders do not overlap, "
                       "the odds ratio is infinite", events=events)  # fmt: skip
    # One column of the batched Newton-Raphson fit: the same estimates as statsmodels Logit
    # (tests/test_screen.py), without importing statsmodels (1.5 s) at every command start.
    from oncotrial.stats import logistic_screen

    fit = logistic_screen(y.astype(np.float64), x.reshape(-1, 1), conf_level=conf_level).row(
        0, named=True
    )
    if fit["flag"] is not None or not fit["converged"]:
        return skipped(test, n, "the fit did not converge", events=events)
    b, se = float(fit["coef"]), float(fit["se"])
    z = float(st.norm.ppf(1 - (1 - conf_level) / 2))
    return {"test": test, "n": n, "events": events, "odds_ratio": num(math.exp(b)),
            "ci_low": num(math.exp(b - z * se)), "ci_high": num(math.exp(b + z * se)),
            "coef": b, "se": se, "p_value": float(fit["p"]), "per": "unit of the marker"}  # fmt: skip


def spearman(x: Array, y: Array) -> dict[str, Any]:
    test = "Spearman rank correlation"
    n = int(x.size)
    if n < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return skipped(test, n, "fewer than 3 subjects or a constant variable", rho=None)
    res = st.spearmanr(x, y)
    return {"test": test, "n": n, "rho": float(res.statistic), "p_value": float(res.pvalue),
            "method": "t approximation"}  # fmt: skip


def kruskal(groups: list[Array]) -> dict[str, Any]:
    test = "Kruskal-Wallis rank-sum test"
    used = [g for g in groups if g.size]
    n = int(sum(g.size for g in used))
    both = np.concatenate(used) if used else np.empty(0)
    if len(used) < 2 or np.all(both == both[0]):
        return skipped(test, n, "fewer than two non-empty groups or every value the same")
    res = st.kruskal(*used)
    return {"test": test, "n": n, "statistic": float(res.statistic), "df": len(used) - 1,
            "p_value": float(res.pvalue)}  # fmt: skip
