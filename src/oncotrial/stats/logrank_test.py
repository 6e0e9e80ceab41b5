"""Log-rank test comparing survival between groups, as R ``survdiff(Surv(time, status) ~ group)``.

Mantel (Cancer Chemother Rep 1966;50:163-170); Peto & Peto (JRSS A 1972;135:185-207).
At each distinct event time the expected events in group ``j`` are ``d n_j / n`` with the
hypergeometric covariance ``d (n - d) / (n - 1) * n_j / n * (delta_jk - n_k / n)``. The
statistic is ``(O - E)' V^-1 (O - E)`` over all groups with positive expected count but the
first, on ``k - 1`` degrees of freedom, exactly as ``survdiff`` (rho = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

from . import _validate as v


@dataclass(frozen=True)
class LogRank:
    """Log-rank test result; per-group tuples follow ``groups`` (sorted labels)."""

    statistic: float
    df: int
    p_value: float
    groups: tuple[Any, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    variance: tuple[tuple[float, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "groups": [_plain(g) for g in self.groups],
            "n": list(self.n),
            "observed": list(self.observed),
            "expected": list(self.expected),
            "variance": [list(row) for row in self.variance],
        }

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{g!r}: O={o:g} E={e:.2f}"
            for g, o, e in zip(self.groups, self.observed, self.expected, strict=True)
        )
        return (
            f"LogRank(chisq={self.statistic:.4f} on {self.df} df, p_value={self.p_value:.4g}; "
            f"{parts})"
        )


def logrank(time: Any, event: Any, group: Any) -> LogRank:
    """Log-rank test of equal survival across the levels of ``group``.

    >>> res = logrank([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 0], ["a", "b", "a", "b", "a", "b"])
    >>> res.df, round(res.statistic, 4)
    (1, 0.4849)
    """
    problems = v.Problems()
    t, e = v.survival(time, event, problems)
    labels = v.labels(group, problems, "group", t.size)
    levels = _sorted_levels(labels)
    if not problems.lines and len(levels) < 2:
        problems.add(f"group must have at least 2 distinct values, but had {len(levels)}")
    problems.raise_if_any()
    return _survdiff(t, e, _codes(labels, levels), tuple(levels))


def _survdiff(t: np.ndarray, e: np.ndarray, codes: np.ndarray, levels: tuple[Any, ...]) -> LogRank:
    k = len(levels)
    utime, inverse = np.unique(t, return_inverse=True)
    m = utime.size
    at_time = np.zeros((m, k))
    deaths = np.zeros((m, k))
    np.add.at(at_time, (inverse, codes), 1.0)
    np.add.at(deaths, (inverse, codes), e.astype(np.float64))
    # subjects at risk at each distinct time, per group: reverse cumulative sum
    n_risk = np.cumsum(at_time[::-1], axis=0)[::-1]
    n_tot = n_risk.sum(axis=1)
    d_tot = deaths.sum(axis=1)
    rows = d_tot > 0
    n_risk, n_tot, d_tot = n_risk[rows], n_tot[rows], d_tot[rows]
    frac = n_risk / n_tot[:, None]
    expected = (d_tot[:, None] * frac).sum(axis=0)
    observed = deaths.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_tot > 1, d_tot * (n_tot - d_tot) / (n_tot - 1), 0.0)
    weighted = frac * scale[:, None]
    variance = np.diag(weighted.sum(axis=0)) - weighted.T @ frac
    keep = np.flatnonzero(expected > 0)
    if keep.size < 2:
        statistic = 0.0
    else:
        use = keep[1:]
        diff = (observed - expected)[use]
        vv = variance[np.ix_(use, use)]
        statistic = float(diff @ np.linalg.lstsq(vv, diff, rcond=None)[0])
    df = int(keep.size) - 1
    p_value = float(_st.chi2.sf(statistic, df)) if df > 0 else 1.0
    counts = np.bincount(codes, minlength=k)
    return LogRank(
        statistic=statistic,
        df=df,
        p_value=p_value,
        groups=levels,
        n=tuple(int(c) for c in counts),
        observed=tuple(float(o) for o in observed),
        expected=tuple(float(x) for x in expected),
        variance=tuple(tuple(float(x) for x in row) for row in variance),
    )


def _sorted_levels(labels: np.ndarray) -> list[Any]:
    unique = list(dict.fromkeys(labels.tolist()))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=repr)


def _codes(labels: np.ndarray, levels: list[Any]) -> np.ndarray:
    if all(type(g) is str for g in levels):
        # Text labels: a binary search in the sorted levels instead of a lookup per subject.
        sorted_levels = np.array(levels, dtype=str)
        text = np.array(labels.tolist(), dtype=str)
        codes = np.searchsorted(sorted_levels, text)
        distinct = np.unique(sorted_levels).size == len(levels)
        if (
            distinct
            and codes.max(initial=0) < len(levels)
            and np.array_equal(sorted_levels[codes], text)
        ):
            return codes.astype(np.int64)
    lookup = {g: i for i, g in enumerate(levels)}
    return np.fromiter((lookup[g] for g in labels.tolist()), dtype=np.int64, count=labels.size)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
