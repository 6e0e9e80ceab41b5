"""Tumour response figures: waterfall (best % change per subject) and spider (% change over time).

Both read ADTR's percentage change from baseline in the sum of target-lesion diameters (PCHG of
PARAMCD SDIAM) and colour each subject by best overall response (ADRS CBOR or BOR, RECIST 1.1
§4.4 / iRECIST), one fixed colour per category (:data:`._style.RESPONSE_COLORS`). The reference
lines are RECIST 1.1's thresholds (Eisenhauer et al., Eur J Cancer 2009;45:228-247, §4.3.1):
−30 % (partial response) and +20 % (progression, relative to the nadir).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from oncotrial.report.figures._figure import Figure, check_frame, fail, finish
from oncotrial.report.figures._raster import COLUMNS, draw_bar_image
from oncotrial.report.figures._style import (
    PAGE_WIDTH,
    REFERENCE_COLOR,
    RESPONSE_COLORS,
    cohort_color,
    house_style,
)

CLIP_AT = 100.0
Y_RANGE = (-105.0, CLIP_AT + 10)
RASTER_ABOVE = 2000
"""Above this many bars they are drawn as one image (:mod:`._raster`); text and axes stay vector."""
MISSING = "MISSING"
MISSING_COLOR = RESPONSE_COLORS[MISSING]
LABELS = {"CBOR": "confirmed best overall response", "BOR": "best overall response"}


def slug(category: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", category).strip("-")


def response_column(frame: pl.DataFrame, response: str | None, figure: str) -> str:
    if response is not None:
        if response not in frame.columns:
            raise fail(figure, f"the response column {response!r} is not in the frame")
        return response
    for name in ("CBOR", "BOR"):
        if name in frame.columns:
            return name
    raise fail(figure, "the frame needs a best-overall-response column, CBOR or BOR")


def categories(values: pl.Series, figure: str, column: str) -> pl.Series:
    cats = values.cast(pl.String).fill_null("MISSING")
    unknown = sorted(set(cats.unique().to_list()) - set(RESPONSE_COLORS))
    if unknown:
        raise fail(
            figure,
            f"{column} has categories {', '.join(map(repr, unknown))}; accepted: "
            + ", ".join(RESPONSE_COLORS),
            variable=column,
        )
    return cats


def colour_categories(
    frame: pl.DataFrame, column: str, palette: Mapping[str, str] | None, figure: str
) -> tuple[pl.Series, dict[str, str]]:
    """Values of ``column`` (null = MISSING) and their colours, in legend order."""
    if column not in frame.columns:
        raise fail(figure, f"the colour column {column!r} is not in the frame", variable=column)
    cats = frame[column].cast(pl.String).fill_null(MISSING)
    seen = cats.unique(maintain_order=True).to_list()
    if palette is None:
        own = [c for c in seen if c != MISSING]
        colors = {c: cohort_color(i) for i, c in enumerate(own)} | {MISSING: MISSING_COLOR}
        return cats, colors
    unknown = [c for c in seen if c not in palette]
    if unknown:
        raise fail(figure, f"{column} has values {', '.join(map(repr, unknown))} without a "
                   f"colour; the palette has: {', '.join(palette)}", variable=column)  # fmt: skip
    return cats, dict(palette)


def reference_lines(ax: Axes, right: float) -> None:
    """RECIST 1.1's +20 % and −30 % as dashed lines labelled at ``right``, and the zero line."""
    for value, text in ((20.0, "+20%"), (-30.0, "−30%")):
        ax.axhline(value, color=REFERENCE_COLOR, lw=0.8, ls="--", zorder=3)
        ax.text(right, value, f" {text}", va="center", ha="left", fontsize=9,
                color=REFERENCE_COLOR, clip_on=False)  # fmt: skip
    ax.axhline(0.0, color="#333333", lw=0.8, zorder=3)


def best_change(
    adtr: pl.DataFrame,
    adrs: pl.DataFrame,
    *,
    response: str = "CBOR",
    subjects: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Waterfall input: one row per subject: USUBJID, PCHG (the smallest post-baseline
    percentage change of SDIAM, i.e. the best shrinkage) and ``response`` (AVALC of that ADRS
    parameter; MISSING where the subject has none). A selection, not an estimate:
    post-baseline = not ABLFL = Y; ANL01FL = Y where the variable exists. With ``subjects``
    (a frame with USUBJID, e.g. the response-evaluable set) the rows are exactly those subjects,
    PCHG null where a subject has no post-baseline value (the waterfall counts them)."""
    check_frame(adtr, "adtr", ("USUBJID", "PCHG"), "waterfall plot", "measurement")
    check_frame(adrs, "adrs", ("USUBJID", "PARAMCD", "AVALC"), "waterfall plot", "response")
    keep = pl.col("PCHG").is_not_null()
    if "PARAMCD" in adtr.columns:
        keep &= pl.col("PARAMCD") == "SDIAM"
    if "ABLFL" in adtr.columns:
        keep &= pl.col("ABLFL").fill_null("N") != "Y"
    if "ANL01FL" in adtr.columns:
        keep &= pl.col("ANL01FL") == "Y"
    best = adtr.filter(keep).group_by("USUBJID").agg(pl.col("PCHG").cast(pl.Float64).min())
    if subjects is not None:
        ids = check_frame(subjects, "subjects", ("USUBJID",), "waterfall plot", "subject")
        best = ids.select("USUBJID").unique().join(best, on="USUBJID", how="left")
    bor = adrs.filter(pl.col("PARAMCD") == response).select(
        "USUBJID", pl.col("AVALC").alias(response)
    )
    return (
        best.join(bor.unique("USUBJID", keep="first"), on="USUBJID", how="left")
        .with_columns(pl.col(response).fill_null("MISSING"))
        .sort("USUBJID")
    )


def _bar_path(x: np.ndarray, h: np.ndarray, width: float) -> Path:
    """All bars of one category as one compound path (5 vertices each, closed)."""
    left, right = x - width / 2, x + width / 2
    zero = np.zeros_like(h)
    verts = np.stack([np.stack([left, zero], 1), np.stack([right, zero], 1),
                      np.stack([right, h], 1), np.stack([left, h], 1),
                      np.stack([left, zero], 1)], axis=1).reshape(-1, 2)  # fmt: skip
    codes = np.tile(
        np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], np.uint8),
        x.size,
    )
    return Path(verts, codes)


@house_style
def waterfall_plot(
    adtr_best: pl.DataFrame,
    *,
    response: str | None = None,
    title: str = "Best percentage change from baseline in target lesions",
    analysis_set: str | None = None,
    colour_by: str | None = None,
    palette: Mapping[str, str] | None = None,
) -> Figure:
    """One bar per subject of best % change (PCHG), largest increase first, coloured by the
    response column (``response``; default CBOR, else BOR); bars above +100 % are clipped and
    marked with a triangle. Subjects without PCHG are not drawn and are counted in the caption.

    ``colour_by`` names another column to colour by (e.g. a marker status; its name is the
    legend title), with ``palette`` mapping each of its values (null = ``MISSING``) to a colour
    in legend order (default: the cohort colours in order of appearance, MISSING grey).

    ``n_marks`` = bars. Above 2,000 bars they are drawn as one image (:mod:`._raster`).
    """
    figure = "waterfall plot"
    frame = check_frame(adtr_best, "adtr_best", ("USUBJID", "PCHG"), figure, "subject")
    if colour_by is None:
        column = response_column(frame, response, figure)
        cats, colors = categories(frame[column], figure, column), dict(RESPONSE_COLORS)
    else:
        column = colour_by
        cats, colors = colour_categories(frame, colour_by, palette, figure)
    dup = frame.filter(pl.col("USUBJID").is_duplicated())["USUBJID"].unique().sort()
    if dup.len():
        raise fail(figure, f"adtr_best must have one row per subject; repeated: "
                   f"{', '.join(dup.head(5).to_list())}{' ...' if dup.len() > 5 else ''}")  # fmt: skip
    bars = (
        frame.select("USUBJID", pl.col("PCHG").cast(pl.Float64))
        .with_columns(cats.alias("RESPONSE"))
        .filter(pl.col("PCHG").is_not_null() & pl.col("PCHG").is_finite())
        .sort(["PCHG", "USUBJID"], descending=[True, False])
        .with_row_index("X")
    )
    n = bars.height
    if n == 0:
        raise fail(figure, "no subject has a best percentage change (PCHG): nothing to draw")
    not_shown = frame.height - n
    h = np.minimum(bars["PCHG"].to_numpy(), CLIP_AT)
    x = bars["X"].to_numpy().astype(float)
    width = 0.8 if n <= 100 else 1.0
    fig = MplFigure(figsize=(PAGE_WIDTH, 3.8), layout="constrained")
    ax = fig.add_subplot()
    resp = bars["RESPONSE"].to_numpy()
    present = [c for c in colors if (resp == c).any()]
    legend = [Patch(color=colors[c], label=f"{c} ({int((resp == c).sum()):,})")
              for c in present]  # fmt: skip
    if n > RASTER_ABOVE:
        index = {c: i for i, c in enumerate(present)}
        cat = bars["RESPONSE"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
        draw_bar_image(ax, h, cat, [colors[c] for c in present], Y_RANGE, "waterfall-bars")
    else:
        for c in present:
            sel = resp == c
            ax.add_artist(PathPatch(_bar_path(x[sel], h[sel], width), facecolor=colors[c],
                                    lw=0, gid=f"waterfall-{slug(c)}"))  # fmt: skip
    clipped = bars["PCHG"].to_numpy() > CLIP_AT
    if clipped.any():
        xc = x[clipped]
        if n > RASTER_ABOVE:  # one marker per image column holding clipped bars
            step = math.ceil(n / COLUMNS)
            xc = np.unique(xc // step) * step + (step - 1) / 2
        ax.plot(xc, np.full(xc.size, CLIP_AT + 4), ls="none", marker="^", ms=4,
                color="#333333", gid="waterfall-clipped")  # fmt: skip
    ax.set_xlim(-1, n)
    ax.set_ylim(*Y_RANGE)
    ax.set_yticks(np.arange(-100, 101, 20))
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    reference_lines(ax, n)
    ax.set_ylabel("Best change from baseline (%)")
    ax.set_xlabel(f"Subjects (n = {n:,}), ordered by best change")
    label = LABELS.get(column, column)
    ax.legend(handles=legend, loc="upper right", title=label[:1].upper() + label[1:],
              title_fontsize=9, ncols=2 if len(legend) > 4 else 1)  # fmt: skip
    k = int(clipped.sum())
    caption = (
        "Best percentage change from baseline in the sum of target-lesion diameters, one bar per "
        f"subject, sorted from the largest increase to the largest decrease and coloured by {label}. "
        "Dashed lines: −30% (RECIST 1.1 partial response, from baseline) and +20% (RECIST 1.1 "
        "progression threshold, which applies to the change from the nadir)."
        + (f" {k:,} bar{'s' if k != 1 else ''} above +100% clipped at +100% (▲)." if k else "")
        + (f" Analysis set: {analysis_set}." if analysis_set else "")
        + f" N = {n:,} subjects with a baseline and a post-baseline sum of diameters"
        + (f"; {not_shown:,} without a post-baseline value not shown." if not_shown else ".")
    )
    return finish(fig, kind="waterfall", title=title, caption=caption, marks={"bars": n},
                  data={"bars": bars})  # fmt: skip
