"""Volcano plot of a high-dimensional marker screen: effect size against significance, one point
per feature.

Input: the screen table of :func:`oncotrial.stats.logistic_screen` (ratio column ``or``) or
:func:`oncotrial.stats.cox_screen` (``hr``), as written by analyze (``biomarker_screen_orr`` /
``biomarker_screen_pfs``): feature, the ratio, p, q, flag. x = log2 of the odds or hazard ratio
per unit of the feature, y = -log10 of the Wald p-value; features with q below the threshold
(Benjamini-Hochberg, computed by the screen) are highlighted, the features with the smallest p
are labelled. Flagged features (no estimate) and non-finite values (p = 0 underflow, infinite
ratio) are not drawn; the caption counts them. Above :data:`RASTER_ABOVE` points the points are
one embedded image (as the waterfall's bars, :mod:`._raster`); text and axes stay vector.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure as MplFigure

from oncotrial.report.figures._figure import Figure, check_frame, fail, finish
from oncotrial.report.figures._style import PAGE_WIDTH, REFERENCE_COLOR, house_style

FIGURE = "volcano plot"
RASTER_ABOVE = 1000
HIGHLIGHT = "#D55E00"
BACKGROUND = "#8C8C8C"
RATIOS = {"or": "odds ratio", "hr": "hazard ratio"}
LABEL_ROOM = 1.5
"""x range as a multiple of the largest |log2 ratio|: room for the labels on the outer side."""
LABEL_GAP = 0.055
"""Smallest vertical distance between two labels on one side, as a fraction of the y range."""


def _labels(ax: Axes, x: np.ndarray, y: np.ndarray, names: np.ndarray, span: float,
            ymax: float) -> None:  # fmt: skip
    """Label each point on its side of 0, stacked top-down so that labels never overlap (the
    stack centred on its points, below the top of the axes), with a thin leader line from the
    point to its label."""
    segments = []
    for side in (1, -1):
        sel = np.flatnonzero((x >= 0) if side > 0 else (x < 0))
        sel = sel[np.argsort(-y[sel], kind="stable")]
        if not sel.size:
            continue
        ty = y[sel].copy()
        for i in range(1, ty.size):
            ty[i] = min(ty[i], ty[i - 1] - LABEL_GAP * ymax)
        ty += max(0.0, float(np.mean(y[sel] - ty)))  # centre the stack on its points
        ty -= max(0.0, ty[0] - 0.97 * ymax)
        for j, label_y in zip(sel, ty, strict=True):
            tx = side * max(abs(x[j]) + 0.08 * span, 1.04 * span)
            ax.text(tx, label_y, str(names[j]), fontsize=7.5, ha="left" if side > 0 else "right",
                    va="center", color="#222222")  # fmt: skip
            segments.append([(x[j] + side * 0.012 * span, y[j]),
                             (tx - side * 0.012 * span, label_y)])  # fmt: skip
    ax.add_collection(LineCollection(segments, colors="#777777", linewidths=0.5,
                                     gid="volcano-leaders"))  # fmt: skip


@house_style
def volcano_plot(
    screen: pl.DataFrame,
    *,
    estimate: str = "hr",
    q_threshold: float = 0.05,
    label_top: int = 10,
    title: str = "Volcano plot of the marker screen",
    analysis_set: str | None = None,
) -> Figure:
    """One point per feature (module doc); ``n_marks`` = points drawn."""
    if estimate not in RATIOS:
        raise fail(FIGURE, f"estimate must be one of {', '.join(RATIOS)}, but was {estimate!r}")
    frame = check_frame(screen, "screen", ("feature", estimate, "p", "q", "flag"), FIGURE,
                        "feature")  # fmt: skip
    flags = frame["flag"].drop_nulls().value_counts(sort=True)
    ratio = frame[estimate].cast(pl.Float64).fill_null(np.nan).to_numpy()
    p = frame["p"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    q = frame["q"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    flagged = frame["flag"].is_not_null().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        x, y = np.log2(ratio), -np.log10(p)
    ok = ~flagged & np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n == 0:
        raise fail(FIGURE, "no feature has a finite estimate and p-value: nothing to draw")
    hi = ok & (q < q_threshold)
    lo = ok & ~hi
    fig = MplFigure(figsize=(PAGE_WIDTH, 4.2))
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    raster = n > RASTER_ABOVE
    for sel, color, size, gid, label in (
        (lo, BACKGROUND, 2.6, "volcano-points", f"q ≥ {q_threshold:g} ({int(lo.sum()):,})"),
        (hi, HIGHLIGHT, 3.4, "volcano-highlight", f"q < {q_threshold:g} ({int(hi.sum()):,})"),
    ):
        ax.plot(x[sel], y[sel], ls="none", marker="o", ms=size, mew=0, color=color,
                alpha=0.6 if sel is lo else 1.0, rasterized=raster, gid=gid, label=label)  # fmt: skip
    ax.axvline(0.0, color=REFERENCE_COLOR, lw=0.8, ls="--", zorder=0)
    if hi.any():
        ax.axhline(float(-np.log10(np.max(p[hi]))), color=REFERENCE_COLOR, lw=0.8, ls=":", zorder=0)
    names = frame["feature"].to_numpy()
    idx = np.flatnonzero(ok)
    top = idx[np.lexsort((names[idx], p[idx]))][:label_top]
    span = float(np.max(np.abs(x[ok]))) or 1.0
    ymax = float(np.max(y[ok])) * 1.08 or 1.0
    ax.set_xlim(-LABEL_ROOM * span, LABEL_ROOM * span)
    ax.set_ylim(0, ymax)
    _labels(ax, x[top], y[top], names[top], span, ymax)
    name = RATIOS[estimate]
    ax.set_xlabel(f"log2 {estimate.upper()} ({name} per unit of the feature, base-2 log)")
    ax.set_ylabel("−log10 p (Wald)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, markerscale=1.5,
              borderaxespad=0.2)  # fmt: skip
    reasons = [f"{k} {c:,}" for k, c in flags.iter_rows()]
    other = int((~flagged & ~ok).sum())
    if other:
        reasons.append(f"non-finite ratio or p {other:,}")
    left = int(flagged.sum()) + other
    left_out = f"; {left:,} left out ({', '.join(reasons)})" if left else "; none left out"
    caption = (
        f"One point per feature: x = log2 of the {name} per unit of the feature (base-2 "
        f"logarithm; 0 = no association), y = −log10 of the Wald p-value of the univariate "
        f"model. Highlighted: q < {q_threshold:g} (Benjamini-Hochberg across the features of "
        f"the screen), {int(hi.sum()):,} features"
        + ("; dotted line: the largest p with q below the threshold" if hi.any() else "")
        + f". Labelled: the {len(top)} features with the smallest p. {n:,} features drawn"
        + f"{left_out}." + (f" Analysis set: {analysis_set}." if analysis_set else "")
        + " Exploratory."
    )  # fmt: skip
    return finish(fig, kind="volcano", title=title, caption=caption, marks={"points": n},
                  data={"labelled": frame[top.tolist()].select("feature", estimate, "p", "q")})  # fmt: skip
