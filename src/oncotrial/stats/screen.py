"""Fast univariate screens of a high-dimensional marker panel: one model per feature.

:func:`cox_screen` fits ``coxph(Surv(time, event) ~ x_j)`` and :func:`logistic_screen`
``glm(y ~ x_j, family = binomial)`` for every column ``x_j`` of a subjects x features matrix,
vectorised across features (batch Newton-Raphson on numpy arrays; see
:mod:`oncotrial.stats._screen_cox` and :mod:`oncotrial.stats._screen_logit`). The estimates are
the maximum-likelihood fits of each feature on its own complete cases, equal to per-feature fits
with lifelines ``CoxPHFitter`` / R ``coxph`` (Efron ties by default) and statsmodels ``Logit`` /
R ``glm`` (to 1e-6 and better).

Output, one row per feature in input order: ``feature``, ``n`` (complete cases), ``events``
(events, or responders, among them), ``coef``, ``se`` (inverse observed information), ``hr`` or
``or`` = exp(coef) with its Wald interval ``ci_low``/``ci_high`` at ``conf_level``, ``z``, ``p``
(two-sided Wald), ``q`` (Benjamini-Hochberg 1995 over the features with a p-value, as R
``p.adjust(p, "BH")``), ``converged`` and ``flag``:

* ``constant``: fewer than two distinct values among the complete cases (for Cox: no variation
  within any risk set at an event time);
* ``too few events``: no event among the complete cases (Cox), or every complete case in one
  outcome class (logistic);
* ``separation``: the estimate is infinite: a monotone partial likelihood (every event has the
  largest, or every event the smallest, value of its risk set) or complete / quasi-complete
  separation of responders and non-responders (Albert & Anderson 1984);
* ``not converged``: Newton-Raphson did not settle within 50 iterations.

Missing values: each feature is fitted on its own complete cases, vectorised with a 0/1 mask of
the observed values (a missing value is set to 0 and weighted 0 in every sum, so it drops out
of the score and information; for Cox with Efron ties the number of tied events and their
ranks are counted over the observed values of each feature).

A flagged feature has no estimate (null coef ... q); it is reported, never dropped. Blocks of
features run on a few threads (numpy releases the GIL); the result does not depend on the
number of threads (the block size changes Cox estimates only in the last bits).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import stats as _st

from . import _screen_cox as sc
from . import _screen_logit as sl
from . import _validate as v
from ._errors import StatsInputError

TIES = ("efron", "breslow")
COX_BLOCK = 1 << 15
LOGIT_BLOCK = 1 << 17
"""Subjects x features per block. Cox needs three arrays per block: small enough that the
temporaries stay in cache. A logistic block has few, large numpy calls per feature (one or two
evaluations of ``p``), so it is larger: the per-block Python overhead then stays small."""
MAX_THREADS = 8
_T = TypeVar("_T")


def benjamini_hochberg(p: Any) -> NDArray[np.float64]:
    """Benjamini-Hochberg (JRSS B 1995;57:289-300) adjusted p-values (q-values).

    NaN p-values stay NaN and do not count as tests, as R ``p.adjust(p, method = "BH")``.

    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(4).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m:
        order = ok[np.argsort(p[ok], kind="stable")]
        ranked = p[order] * m / np.arange(1, m + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q


def cox_screen(
    time: Any,
    event: Any,
    X: Any,
    *,
    ties: str = "efron",
    feature_names: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> pl.DataFrame:
    """One univariate Cox model per column of ``X`` (subjects x features; NaN / null = missing).

    ``time`` >= 0 and ``event`` (1 / True = event) are complete, one per row of ``X``: a numpy
    2-D array or a polars frame of numeric columns (drop USUBJID first). ``feature_names``
    defaults to the frame's column names, else ``x1``, ``x2``, ... ``ties`` is ``"efron"`` (R)
    or ``"breslow"`` (SAS). Columns of the result are in the module docstring.

    >>> res = cox_screen([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1],
    ...                  [[0, 1], [1, 1], [0, 1], [1, 1], [0, 1], [1, 1]])
    >>> res.select("feature", "n", "events", "flag").rows()
    [('x1', 6, 5, None), ('x2', 6, 5, 'constant')]
    """
    problems = v.Problems()
    t, e = v.survival(time, event, problems)
    level = v.conf_level(conf_level, problems)
    v.choice(ties, TIES, problems, "ties")
    names, x = _matrix(X, feature_names, problems, t.size)
    problems.raise_if_any()
    tie = sc.tie_structure(t, e, ties)

    def run(cols: slice) -> sc.BlockFit:
        return sc.fit_block(x[tie.order, cols], tie)

    fits = _blocks(run, x.shape, COX_BLOCK)
    n, events = _cat(fits, "n"), _cat(fits, "events")
    info = _cat(fits, "info")
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 1.0 / np.sqrt(info)
    flag = _flags(
        x.shape[1],
        constant=_cat(fits, "constant"),
        few=events == 0,
        separated=_cat(fits, "separated"),
        converged=_cat(fits, "converged"),
    )
    return _frame(
        names, n, events, _cat(fits, "beta"), se, flag, level, "hr", _cat(fits, "converged")
    )


def logistic_screen(
    y: Any,
    X: Any,
    *,
    feature_names: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> pl.DataFrame:
    """One univariate logistic model (with intercept) per column of ``X``; ``y`` is 0/1 or bool
    and complete. ``X`` and ``feature_names`` as in :func:`cox_screen`; ``events`` counts the
    complete cases with ``y = 1`` and ``or`` is the odds ratio per unit of the feature.

    >>> res = logistic_screen([0, 1, 0, 1, 1, 0], [[1, 1], [2, 2], [3, 3], [4, 1], [5, 5], [6, 0]])
    >>> res.select("feature", "n", "events", "flag").rows()
    [('x1', 6, 3, None), ('x2', 6, 3, None)]
    """
    problems = v.Problems()
    out = v.vector(y, problems, "y")
    level = v.conf_level(conf_level, problems)
    size = 0 if out is None else out.size
    if out is not None:
        bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0))
        if bad.any():
            problems.add(f"y must be 0 or 1 (or bool), but was {v.where(bad, out)}")
    names, x = _matrix(X, feature_names, problems, size)
    problems.raise_if_any()
    responder = np.asarray(out) == 1.0
    rows = np.argsort(~responder, kind="stable")  # responders first
    k1 = int(responder.sum())

    def run(cols: slice) -> sl.BlockFit:
        return sl.fit_block(x[rows, cols], k1)

    fits = _blocks(run, x.shape, LOGIT_BLOCK)
    events = _cat(fits, "events")
    with np.errstate(invalid="ignore"):
        se = np.sqrt(_cat(fits, "var"))
    flag = _flags(
        x.shape[1],
        constant=_cat(fits, "constant"),
        few=_cat(fits, "one_class"),
        separated=_cat(fits, "separated"),
        converged=_cat(fits, "converged"),
    )
    return _frame(
        names,
        _cat(fits, "n"),
        events,
        _cat(fits, "beta"),
        se,
        flag,
        level,
        "or",
        _cat(fits, "converged"),
    )


def _blocks(run: Callable[[slice], _T], shape: tuple[int, int], size: int) -> list[_T]:
    n, p = shape
    width = max(1, size // max(n, 1))
    slices = [slice(lo, min(p, lo + width)) for lo in range(0, p, width)]
    threads = min(MAX_THREADS, os.cpu_count() or 1, len(slices))
    if threads <= 1:
        return [run(s) for s in slices]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, slices))


def _cat(fits: Sequence[Any], name: str) -> NDArray[Any]:
    if not fits:
        return np.empty(0)
    return np.concatenate([getattr(f, name) for f in fits])


def _flags(
    p: int,
    *,
    constant: NDArray[np.bool_],
    few: NDArray[np.bool_],
    separated: NDArray[np.bool_],
    converged: NDArray[np.bool_],
) -> NDArray[np.object_]:
    flag = np.full(p, None, dtype=object)
    if not p:
        return flag
    flag[~converged] = "not converged"
    flag[separated] = "separation"
    flag[few] = "too few events"
    flag[constant] = "constant"
    return flag


def _frame(
    names: list[str],
    n: NDArray[Any],
    events: NDArray[Any],
    beta: NDArray[np.float64],
    se: NDArray[np.float64],
    flag: NDArray[np.object_],
    level: float,
    ratio: str,
    converged: NDArray[np.bool_],
) -> pl.DataFrame:
    ok = np.array([f is None for f in flag], dtype=bool)
    zq = float(_st.norm.ppf(1 - (1 - level) / 2))
    with np.errstate(all="ignore"):
        coef = np.where(ok, beta, np.nan)
        se = np.where(ok, se, np.nan)
        z = coef / se
        p = 2 * _st.norm.sf(np.abs(z))
        low, high = np.exp(coef - zq * se), np.exp(coef + zq * se)
        ratio_values = np.exp(coef)
    columns = {
        "feature": pl.Series(names, dtype=pl.String),
        "n": pl.Series(n.astype(np.int64) if n.size else [], dtype=pl.Int64),
        "events": pl.Series(events.astype(np.int64) if events.size else [], dtype=pl.Int64),
        "coef": coef,
        "se": se,
        ratio: ratio_values,
        "ci_low": low,
        "ci_high": high,
        "z": z,
        "p": p,
        "q": benjamini_hochberg(p),
        "converged": pl.Series(converged.astype(bool), dtype=pl.Boolean),
        "flag": pl.Series(flag.tolist(), dtype=pl.String),
    }
    frame = pl.DataFrame(columns)
    floats = ["coef", "se", ratio, "ci_low", "ci_high", "z", "p", "q"]
    return frame.with_columns(pl.col(floats).cast(pl.Float64).fill_nan(None))


def _matrix(
    X: Any, feature_names: Sequence[str] | None, problems: v.Problems, size: int
) -> tuple[list[str], NDArray[np.float64]]:
    """Subjects x features float matrix (NaN = missing) and the feature names."""
    empty: tuple[list[str], NDArray[np.float64]] = ([], np.empty((size, 0)))
    if isinstance(X, pl.DataFrame):
        bad = [c for c, t in X.schema.items() if not (t.is_numeric() or t == pl.Boolean)]
        if bad:
            shown = ", ".join(f"{c!r} ({X.schema[c]})" for c in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            problems.add(f"X columns must be numeric, but {shown}{more} were not")
            return empty
        names = list(X.columns)
        x = X.select(pl.all().cast(pl.Float64)).to_numpy() if X.width else np.empty((X.height, 0))
    else:
        try:
            x = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            problems.add(f"X must be a 2-D array of numbers (NaN = missing), but {exc}")
            return empty
        if x.ndim != 2:
            problems.add(f"X must be 2-dimensional (subjects x features), but had shape {x.shape}")
            return empty
        names = [f"x{j + 1}" for j in range(x.shape[1])]
    if size and x.shape[0] != size:
        problems.add(f"X must have one row per subject ({size}), but had {x.shape[0]} rows")
    inf = np.isinf(x)
    if inf.any():
        row, col = np.argwhere(inf)[0]
        problems.add(
            f"X must be finite (NaN marks a missing value), but had {int(inf.sum())} infinite "
            f"values, the first at row {int(row)}, column {int(col)}"
        )
    if feature_names is not None:
        given = [str(f) for f in feature_names]
        if len(given) != x.shape[1]:
            problems.add(
                f"feature_names must name each of the {x.shape[1]} columns of X, but had "
                f"{len(given)} names"
            )
        names = given
    dup = _dups(names)
    if dup:
        problems.add(f"feature names must be unique, but {dup[:5]} were repeated")
    return names, np.ascontiguousarray(x)


def _dups(names: list[str]) -> list[str]:
    s = pl.Series(names, dtype=pl.String)
    return sorted(s.filter(s.is_duplicated()).unique().to_list())


__all__ = ["StatsInputError", "benjamini_hochberg", "cox_screen", "logistic_screen"]
