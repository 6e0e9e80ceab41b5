"""Batch Newton-Raphson for many univariate logistic models at once (``logistic_screen``).

One model ``logit P(y = 1) = a_j + b_j x_j`` per column ``j``, fitted by maximum likelihood on
the complete cases of that column. All columns of a block are updated together: the 2 x 2
information matrix of every feature is formed from column sums (``sum w``, ``sum w x``,
``sum w x^2`` with ``w = p (1 - p)``) and inverted in closed form. The score is summed from the
residuals: ``U_a = sum (y - p)``, ``U_b = sum x (y - p)``. One evaluation writes ``p - y``,
``x (p - y)``, ``w``, ``x w`` and ``x^2 w`` one after the other and takes all five column sums in
one matrix-vector product; ``exp`` in float64 is most of its time.

**Missing values**: a 0/1 mask ``M`` (1 = observed) multiplies ``p`` (hence ``w``), and a
missing value is set to 0 after centring, so a subject with a missing value adds nothing to that
feature's score or information: exactly the complete-case fit.

Columns are centred at their complete-case means (the slope and its standard error do not
change). Iteration starts at ``a0 = logit(mean y)``, ``b = 0``, where the score and information
are known without computing ``p`` (every fitted probability is the mean response ``ybar``). The
first step is not the Newton step there (the one-step estimator from the score test) but solves
the score equation expanded to fourth order around that point, which needs only the column
moments ``sum x^k`` (k = 2..5) and the derivatives of the logistic function at ``a0``: for the
modest effects of a screen it lands within 1e-7 of the estimate for most features, so that one
evaluation of ``p`` confirms convergence (a plain Newton start needs three). Where it differs
from the Newton step by more than half of that step (in ``a`` and ``b sd(x)``: a strong effect,
where the expansion is poor, or moments beyond the float range) the Newton step is taken
instead. A step that does not lower the feature's Newton decrement ``U' I^-1 U`` (0 only at the
maximum of the concave log-likelihood) is halved, the first one included. A feature stops when
its Newton steps in ``a`` and in ``b sd(x)`` are below 1e-7 (1 + |b| sd(x)), with the standard
deviation over the complete cases, so that the criterion does not depend on the unit of ``x``
(that last step is taken without a new evaluation): Newton converges quadratically, so its error
is then about the square of that step. Only features still moving are evaluated (an active
set).

Complete or quasi-complete separation (no finite estimate; Albert & Anderson, Biometrika
1984;71:1-10) is detected before fitting, exactly for one covariate: the largest value among
non-responders is at most the smallest among responders, or the reverse. The caller passes the
subjects sorted with the responders first, so that without missing values these are plain
column maxima and minima of two row slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
MAX_ITER = 50
STEP_TOL = 1e-7
MAX_HALVINGS = 30


@dataclass(frozen=True)
class Block:
    """Centred columns (missing = 0), their 0/1 mask, the number of responders (first rows)
    and the sums of ``y`` and ``x y`` of every column."""

    x: Array
    mask: Array | None
    k1: int
    sum_y: Array
    sum_xy: Array

    def take(self, idx: NDArray[np.intp]) -> Block:
        mask = None if self.mask is None else self.mask[:, idx]
        return Block(self.x[:, idx], mask, self.k1, self.sum_y[idx], self.sum_xy[idx])


def evaluate(blk: Block, a: Array, b: Array) -> tuple[Array, Array, Array, Array, Array]:
    """Score (a, b) and information (aa, ab, bb) of every column."""
    x = blk.x
    n, m = x.shape
    work = np.empty((5, n, m))
    r, xr, w, xw, x2w = work
    np.multiply(x, -b, out=r)
    r -= a
    np.exp(r, out=r)  # exp(-eta): inf, so p = 0, beyond the float range
    r += 1.0
    np.divide(1.0, r, out=r)  # p
    if blk.mask is not None:
        r *= blk.mask
    np.subtract(1.0, r, out=w)
    w *= r
    r[: blk.k1] -= 1.0 if blk.mask is None else blk.mask[: blk.k1]  # p - y
    np.multiply(x, r, out=xr)
    np.multiply(x, w, out=xw)
    np.multiply(x, xw, out=x2w)
    ua, ub, iaa, iab, ibb = np.ones(n) @ work
    return -ua, -ub, iaa, iab, ibb


@dataclass(frozen=True)
class BlockFit:
    n: Array
    events: Array
    beta: Array
    var: Array
    converged: NDArray[np.bool_]
    constant: NDArray[np.bool_]
    one_class: NDArray[np.bool_]
    separated: NDArray[np.bool_]


def _ranges(xs: Array, missing: NDArray[np.bool_] | None, k1: int) -> tuple[Array, ...]:
    """Column max / min over responders (rows < k1) and non-responders, missing values aside."""
    hi = xs if missing is None else np.where(missing, -np.inf, xs)
    lo = xs if missing is None else np.where(missing, np.inf, xs)
    return (_ext(hi[:k1], np.max, -np.inf), _ext(lo[:k1], np.min, np.inf),
            _ext(hi[k1:], np.max, -np.inf), _ext(lo[k1:], np.min, np.inf))  # fmt: skip


def _ext(rows: Array, fn: object, empty: float) -> Array:
    if rows.shape[0] == 0:
        return np.full(rows.shape[1], empty)
    return fn(rows, axis=0)  # type: ignore[operator, no-any-return]


def fit_block(xs: Array, k1: int) -> BlockFit:
    """Fit every column of ``xs`` (NaN = missing); its first ``k1`` rows are the responders."""
    with np.errstate(all="ignore"):
        total = xs.sum(axis=0)  # NaN in a column with a missing value: no separate scan
        missing: NDArray[np.bool_] | None = None
        if np.isnan(total).any():
            missing = np.isnan(xs)
        max1, min1, max0, min0 = _ranges(xs, missing, k1)
        constant = ~(np.maximum(max1, max0) > np.minimum(min1, min0))
        separated = (max0 <= min1) | (max1 <= min0)
        if missing is not None:
            mask = (~missing).astype(np.float64)
            n = mask.sum(axis=0)
            events = mask[:k1].sum(axis=0)
            x = np.where(missing, 0.0, xs)
            x -= np.where(missing, 0.0, x.sum(axis=0) / n)
        else:
            mask = None
            n = np.full(xs.shape[1], float(xs.shape[0]))
            events = np.full(xs.shape[1], float(k1))
            x = xs - total / xs.shape[0]
        one_class = (events == 0) | (events == n)
        p = xs.shape[1]
        beta = np.zeros(p)
        var = np.full(p, np.nan)
        converged = np.zeros(p, dtype=bool)
        cols = np.flatnonzero(~constant & ~one_class & ~separated)
        if cols.size:
            if cols.size < p:
                x = x[:, cols]
                mask = None if mask is None else mask[:, cols]
            blk = Block(x, mask, k1, events[cols], x[:k1].sum(axis=0))
            _newton(blk, cols, n[cols], beta, var, converged)
    return BlockFit(n, events, beta, var, converged, constant, one_class, separated)


def _start(blk: Block, n: Array) -> tuple[Array, list[Array], tuple[Array, Array], Array]:
    """``a0 = logit(ybar)``, the score and information at ``(a0, 0)`` (every fitted
    probability is ``ybar`` and the centred ``x`` sums to 0 over the complete cases) and the
    first step: the root of the score expanded to fourth order around ``(a0, 0)``; and the
    standard deviation of ``x`` over the complete cases.

    With ``t = da + db x`` and ``p(a0 + t) = ybar + sum_k c_k t^k / k!`` (``c_1 = w``,
    ``c_2 = w (1 - 2 ybar)``, ``c_3 = w (1 - 6 w)``, ``c_4 = w (1 - 2 ybar)(1 - 12 w)``,
    ``w = ybar (1 - ybar)``), the score equations ``sum (y - p) = 0`` and ``sum x (y - p) = 0``
    read ``w n da = -R_a`` and ``w S2 db = sum x y - R_b``, where ``R`` collects the terms of
    order 2 to 4 in ``(da, db)``, polynomials in the moments ``S_k = sum x^k``. Four
    fixed-point sweeps from the one-step estimator solve them to well below the truncation
    error."""
    ybar = blk.sum_y / n
    w = ybar * (1 - ybar)
    work = np.empty((4, *blk.x.shape))
    x2, x3, x4, x5 = work
    np.multiply(blk.x, blk.x, out=x2)
    np.multiply(x2, blk.x, out=x3)
    np.multiply(x2, x2, out=x4)
    np.multiply(x3, x2, out=x5)
    s2, s3, s4, s5 = np.ones(blk.x.shape[0]) @ work
    zero = np.zeros_like(n)
    state = [zero, blk.sum_xy.copy(), n * w, zero.copy(), w * s2]
    c2, c3 = w * (1 - 2 * ybar) / 2, w * (1 - 6 * w) / 6
    c4 = w * (1 - 2 * ybar) * (1 - 12 * w) / 24
    # R_a and R_b as coefficients of the monomials A^2, AB, B^2, A^3, A^2B, AB^2, B^3, A^4,
    # A^3B, A^2B^2, AB^3, B^4 of (A, B) = (da, db), divided by -w n and -w S2
    coef = np.array(
        [
            [c2 * n, 0 * n, c2 * s2, c3 * n, 0 * n, 3 * c3 * s2, c3 * s3,
             c4 * n, 0 * n, 6 * c4 * s2, 4 * c4 * s3, c4 * s4],
            [0 * n, 2 * c2 * s2, c2 * s3, 0 * n, 3 * c3 * s2, 3 * c3 * s3, c3 * s4,
             0 * n, 4 * c4 * s2, 6 * c4 * s3, 4 * c4 * s4, c4 * s5],
        ]
    )  # fmt: skip
    coef[0] /= -w * n
    coef[1] /= -w * s2
    one_step = blk.sum_xy / (w * s2)
    da, db = zero.copy(), one_step
    mono = np.empty((12, n.size))
    for _sweep in range(4):
        np.multiply([da, da, db], [da, db, db], out=mono[0:3])
        np.multiply(mono[0:3], da, out=mono[3:6])
        np.multiply(mono[2], db, out=mono[6])
        np.multiply(mono[3:7], da, out=mono[7:11])
        np.multiply(mono[6], db, out=mono[11])
        da, db = np.einsum("kij,ij->kj", coef, mono)
        db += one_step
    return np.log(ybar / (1 - ybar)), state, (da, db), np.sqrt(s2 / n)


def _decrement(ua: Array, ub: Array, iaa: Array, iab: Array, ibb: Array) -> Array:
    """Newton decrement U' I^-1 U: 0 exactly at the maximum likelihood estimate."""
    return (ibb * ua * ua - 2 * iab * ua * ub + iaa * ub * ub) / (iaa * ibb - iab * iab)


def _newton(
    blk: Block,
    cols: NDArray[np.intp],
    n: Array,
    beta: Array,
    var: Array,
    converged: NDArray[np.bool_],
) -> None:
    """Damped Newton-Raphson from the fourth-order first step of :func:`_start`: a step that
    does not lower the Newton decrement is halved. The last, tiny step is taken without
    evaluating the information again."""
    a, state, first, sd = _start(blk, n)
    b = np.zeros(cols.size)
    live = np.arange(cols.size)
    for it in range(MAX_ITER):
        ua, ub, iaa, iab, ibb = (s[live] for s in state)
        det = iaa * ibb - iab * iab
        ok = np.isfinite(det) & (det > 0)
        live = live[ok]
        ua, ub, iaa, iab, ibb, det = (v[ok] for v in (ua, ub, iaa, iab, ibb, det))
        da = (ibb * ua - iab * ub) / det
        db = (iaa * ub - iab * ua) / det
        unit = sd[live]
        small = np.maximum(np.abs(da), np.abs(db) * unit) <= STEP_TOL * (1 + np.abs(b[live]) * unit)
        a[live[small]] += da[small]
        b[live[small]] += db[small]
        converged[cols[live[small]]] = True
        keep = ~small
        live, ua, ub, da, db = live[keep], ua[keep], ub[keep], da[keep], db[keep]
        if not live.size:
            break
        if it == 0:  # the fourth-order step where it only refines the Newton step
            fa, fb, unit = first[0][live], first[1][live], unit[keep]
            near = np.abs(fa - da) + np.abs(fb - db) * unit <= np.abs(db) * unit / 2
            da[near], db[near] = fa[near], fb[near]
        sub = blk if live.size == cols.size else blk.take(live)
        merit = da * ua + db * ub
        new_a, new_b = a[live] + da, b[live] + db
        new = list(evaluate(sub, new_a, new_b))
        worse = ~(_decrement(*new) < merit)
        for _halving in range(MAX_HALVINGS):
            if not worse.any():
                break
            idx = np.flatnonzero(worse)
            da[idx] /= 2
            db[idx] /= 2
            new_a[idx] = a[live[idx]] + da[idx]
            new_b[idx] = b[live[idx]] + db[idx]
            again = evaluate(sub.take(idx), new_a[idx], new_b[idx])
            for k in range(5):
                new[k][idx] = again[k]
            worse[idx] = ~(_decrement(*again) < merit[idx])
        a[live], b[live] = new_a, new_b
        for target, value in zip(state, new, strict=True):
            target[live] = value
        live = live[~worse]
    beta[cols] = b
    ua, ub, iaa, iab, ibb = state
    var[cols] = iaa / (iaa * ibb - iab * iab)
