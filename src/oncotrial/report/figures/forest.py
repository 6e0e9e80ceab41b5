"""Forest plot: an estimate with its confidence interval per subgroup level, and the overall row.

Input rows (the analysis's subgroup table): SUBGROUP, LEVEL, N, X, ESTIMATE, CI_LOW, CI_HIGH.
The overall row is the one whose SUBGROUP is "Overall", "All" or "All subjects" (any case); it
is drawn first, as a diamond, and its estimate is the reference line unless ``reference`` is
given. Proportions (ORR, DCR; ESTIMATE in [0, 1]) are shown as percentages; ratios (HR) on a
log axis with ``log_scale=True`` and the reference line at 1. A row without an estimate (no
subjects) keeps its text line and draws no point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FixedLocator, NullLocator
from matplotlib.transforms import blended_transform_factory

from oncotrial.report.figures._figure import Figure, check_frame, fail, finish
from oncotrial.report.figures._style import (
    COHORT_COLORS,
    PAGE_WIDTH,
    REFERENCE_COLOR,
    house_style,
)

FIGURE = "forest plot"
COLUMNS = ("SUBGROUP", "LEVEL", "N", "X", "ESTIMATE", "CI_LOW", "CI_HIGH")
OVERALL = ("overall", "all", "all subjects")
LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
ROW_HEIGHT = 0.24
TOP, BOTTOM = 0.35, 0.55
"""Inches above the rows (column headings) and below them (axis and its label)."""


def _num(value: float, digits: int) -> str:
    """A number for the text column; NE (not estimable) where it is missing or infinite."""
    return f"{value:.{digits}f}" if np.isfinite(value) else "NE"


def _layout(rows: pl.DataFrame) -> pl.DataFrame:
    """Display lines: overall first, then each subgroup's header and its levels (input order)."""
    rows = rows.with_row_index("_I").with_columns(
        _OVERALL=pl.col("SUBGROUP").str.to_lowercase().is_in(OVERALL).fill_null(False)
    )
    overall = rows.filter("_OVERALL").with_columns(LABEL=pl.lit("Overall"), KIND=pl.lit("overall"))
    levels = rows.filter(~pl.col("_OVERALL"))
    first = levels.group_by("SUBGROUP", maintain_order=True).agg(pl.col("_I").min())
    headers = first.with_columns(LABEL=pl.col("SUBGROUP"), KIND=pl.lit("header"),
                                 _I=pl.col("_I") - 0.5)  # fmt: skip
    body = levels.with_columns(
        LABEL=pl.lit("   ") + pl.col("LEVEL").cast(pl.String).fill_null(""),
        KIND=pl.lit("level"),
    ).with_columns(pl.col("_I").cast(pl.Float64))
    return pl.concat(
        [overall.with_columns(pl.col("_I").cast(pl.Float64) - 1e9), headers, body],
        how="diagonal_relaxed",
    ).sort("_I")


@house_style
def forest_plot(
    rows: pl.DataFrame,
    *,
    measure: str = "ORR",
    log_scale: bool = False,
    reference: float | None = None,
    conf_level: float = 0.95,
    title: str | None = None,
    analysis_set: str | None = None,
) -> Figure:
    """Points with CI whiskers per subgroup level (module doc); ``n_marks`` = points drawn."""
    frame = check_frame(rows, "rows", COLUMNS, FIGURE, "subgroup row")
    est = frame["ESTIMATE"].cast(pl.Float64)
    low, high = frame["CI_LOW"].cast(pl.Float64), frame["CI_HIGH"].cast(pl.Float64)
    problems = []
    if log_scale and ((est <= 0).any() or (low <= 0).any() or (high <= 0).any()):
        problems.append("a log axis needs ESTIMATE, CI_LOW and CI_HIGH > 0")
    if not log_scale and pl.concat([est, low, high]).drop_nulls().is_between(0, 1).not_().any():
        problems.append("proportions (ESTIMATE, CI_LOW, CI_HIGH) must lie in [0, 1]; "
                        "for ratios use log_scale=True")  # fmt: skip
    if ((low > est) | (high < est)).any():
        problems.append("each ESTIMATE must lie within [CI_LOW, CI_HIGH]")
    if problems:
        raise fail(FIGURE, *problems)
    lines = _layout(frame)
    scale = 1.0 if log_scale else 100.0
    e = lines["ESTIMATE"].cast(pl.Float64).to_numpy() * scale
    lo = lines["CI_LOW"].cast(pl.Float64).to_numpy() * scale
    hi = lines["CI_HIGH"].cast(pl.Float64).to_numpy() * scale
    kind = lines["KIND"].to_numpy()
    k = lines.height
    height = TOP + BOTTOM + ROW_HEIGHT * k
    fig = MplFigure(figsize=(PAGE_WIDTH, height))
    ax = fig.add_axes((0.37, BOTTOM / height, 0.36, ROW_HEIGHT * k / height))
    y = np.arange(k, dtype=float)
    has = np.isfinite(e) & (kind != "header")
    left, right = 0.0, 100.0
    if log_scale:  # an infinite upper limit (few events) runs to the edge of the axis
        span = np.r_[lo[has], hi[has], 1.0]
        span = span[np.isfinite(span)]
        left, right = float(span.min()) / 1.25, float(span.max()) * 1.25
    hi_drawn = np.where(np.isposinf(hi), right, hi)
    ax.hlines(y[has], lo[has], hi_drawn[has], color="#333333", lw=1.1, gid="forest-ci")
    level = has & (kind == "level")
    n_col = lines["N"].cast(pl.Float64).to_numpy()
    sizes = 18 + 50 * np.sqrt(np.nan_to_num(n_col) / max(float(np.nanmax(n_col)), 1.0))
    ax.scatter(e[level], y[level], s=sizes[level], marker="s", color=COHORT_COLORS[0], zorder=3,
               gid="forest-points")  # fmt: skip
    overall = has & (kind == "overall")
    ax.scatter(e[overall], y[overall], s=70, marker="D", color="#222222", zorder=3,
               gid="forest-overall")  # fmt: skip
    ref = reference
    if ref is None:
        ref = 1.0 if log_scale else (float(e[overall][0]) / scale if overall.any() else None)
    if ref is not None:
        ax.axvline(ref * scale, color=REFERENCE_COLOR, lw=0.8, ls="--", zorder=1)
    ax.set_ylim(k - 0.5, -0.5)
    ax.yaxis.set_major_locator(NullLocator())
    ax.spines["left"].set_visible(False)
    if log_scale:
        ax.set_xscale("log")
        ticks = [t for t in LOG_TICKS if left <= t <= right]
        ax.set_xlim(left, right)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:g}" for t in ticks])
    else:
        ax.set_xlim(0, 100)
    unit = "" if log_scale else " (%)"
    ax.set_xlabel(f"{measure}{unit} with {100 * conf_level:g}% CI")
    trans = blended_transform_factory(fig.transFigure, ax.transData)
    head: dict[str, Any] = {
        "fontweight": "bold",
        "va": "bottom",
        "transform": trans,
        "clip_on": False,
    }
    ax.text(0.01, -0.7, "Subgroup", ha="left", **head)
    ax.text(0.34, -0.7, "n/N" if not log_scale else "N", ha="right", **head)
    ax.text(0.76, -0.7, f"{measure} ({100 * conf_level:g}% CI)", ha="left", **head)
    x_col = lines["X"].cast(pl.Int64, strict=False).to_list()
    labels = lines["LABEL"].to_list()
    for i in range(k):
        bold = "bold" if kind[i] != "level" else "normal"
        ax.text(0.01, i, labels[i], ha="left", va="center", transform=trans, fontweight=bold)
        if kind[i] == "header":
            continue
        count = (
            f"{n_col[i]:,.0f}" if log_scale or x_col[i] is None else f"{x_col[i]}/{n_col[i]:,.0f}"
        )
        ax.text(0.34, i, count, ha="right", va="center", transform=trans)
        digits = 2 if log_scale else 1
        reference = log_scale and labels[i].rstrip().endswith("(reference)")
        text = (
            ("1" if reference else "NE")  # a reference level's HR is 1 by definition
            if not np.isfinite(e[i])
            else (f"{_num(e[i], digits)} ({_num(lo[i], digits)}–{_num(hi[i], digits)})")
        )
        ax.text(0.76, i, text, ha="left", va="center", transform=trans)
    total = int(n_col[kind == "overall"][0]) if (kind == "overall").any() else None
    caption = (
        f"{measure} with {100 * conf_level:g}% confidence interval by subgroup"
        + (" (log scale)" if log_scale else "")
        + "; square size grows with the subgroup's N; diamond: all subjects"
        + (
            f"; dashed line: {ref * scale:.{2 if log_scale else 1}f}{'' if log_scale else '%'}"
            if ref is not None
            else ""
        )
        + "."
        + (f" Analysis set: {analysis_set}." if analysis_set else "")
        + (f" N = {total:,}." if total is not None else " No overall row given.")
    )
    return finish(fig, kind="forest", title=title or f"{measure} by subgroup", caption=caption,
                  marks={"points": int(level.sum()), "overall": int(overall.sum())})  # fmt: skip
