"""The volcano plot of a marker screen and the waterfall coloured by marker status."""

from __future__ import annotations

import re
import time

import numpy as np
import polars as pl
import pytest

from oncotrial.report.figures import FigureInputError, volcano_plot, waterfall_plot
from oncotrial.stats import cox_screen


def _screen(**cols: list) -> pl.DataFrame:
    return pl.DataFrame(cols, schema_overrides={"hr": pl.Float64, "p": pl.Float64,
                                                "q": pl.Float64, "flag": pl.String})  # fmt: skip


def test_flagged_and_non_finite_features_are_left_out_and_counted_in_the_caption() -> None:
    screen = _screen(
        feature=["A", "B", "C", "D", "E", "F"],
        hr=[2.0, 0.5, None, None, None, 1.5],
        p=[0.001, 0.2, None, None, None, 0.0],  # F: p underflowed to 0 (-log10 p infinite)
        q=[0.01, 0.3, None, None, None, 0.0],
        flag=[None, None, "constant", "constant", "separation", None],
    )
    fig = volcano_plot(screen, estimate="hr")
    assert fig.marks == {"points": 2}
    assert ("2 features drawn; 4 left out (constant 2, separation 1, non-finite ratio or p 1)"
            in fig.caption)  # fmt: skip
    assert (
        "Highlighted: q < 0.05 (Benjamini-Hochberg across the features of the screen), 1 "
        "features" in fig.caption
    )
    assert "log2 HR" in fig.svg and "q &lt; 0.05 (1)" in fig.svg and "q ≥ 0.05 (1)" in fig.svg


def test_the_features_with_the_smallest_p_are_labelled_ties_by_name() -> None:
    screen = _screen(feature=[f"G{i}" for i in range(6)], hr=[2.0, 0.5, 1.1, 3.0, 0.8, 0.3],
                     p=[0.01, 0.002, 0.5, 0.002, 0.3, 0.04], q=[0.1] * 6, flag=[None] * 6)  # fmt: skip
    fig = volcano_plot(screen, estimate="hr", label_top=3)
    assert fig.data["labelled"]["feature"].to_list() == ["G1", "G3", "G0"]
    assert all(f">{name}<" in fig.svg for name in ("G1", "G3", "G0"))
    assert ">G5<" not in fig.svg


def test_20000_features_stay_light_the_points_are_one_image() -> None:
    rng = np.random.default_rng(7)
    n, p = 120, 20_000
    x = rng.standard_normal((n, p))
    time_ = rng.exponential(300, n).round() + 1
    x[:, :10] += np.log(time_)[:, None] - 5.3  # ten true signals
    screen = cox_screen(time_, np.ones(n, dtype=bool), x)
    start = time.perf_counter()
    fig = volcano_plot(screen, estimate="hr")
    seconds = time.perf_counter() - start
    assert fig.marks == {"points": 20_000}
    assert "<image" in fig.svg
    assert len(re.findall(r"<use\b", fig.svg)) < 100
    assert len(fig.svg) < 400_000
    assert seconds < 5
    assert "q &lt; 0.05 (" in fig.svg and "20,000 features drawn; none left out" in fig.caption


def test_an_unknown_estimate_or_nothing_to_draw_is_a_figure_error() -> None:
    screen = _screen(feature=["A"], hr=[None], p=[None], q=[None], flag=["constant"])
    with pytest.raises(FigureInputError, match="no feature has a finite estimate"):
        volcano_plot(screen, estimate="hr")
    with pytest.raises(FigureInputError, match="estimate must be one of or, hr"):
        volcano_plot(screen, estimate="rr")


BEST = pl.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4"], "PCHG": [30.0, -50.0, -10.0, None],
                     "PD-L1 status": [">= 1", "< 1", None, ">= 1"]})  # fmt: skip
PALETTE = {"≥ 1": "#0072B2", "< 1": "#E69F00", "MISSING": "#CCCCCC"}


def test_waterfall_coloured_by_a_marker_uses_the_palette_and_counts_each_status() -> None:
    best = BEST.with_columns(pl.col("PD-L1 status").replace(">= 1", "≥ 1"))
    fig = waterfall_plot(best, colour_by="PD-L1 status", palette=PALETTE)
    assert fig.marks == {"bars": 3}  # S4 has no change: not drawn, counted
    svg = fig.svg.lower()
    assert "#0072b2" in svg and "#e69f00" in svg and "#cccccc" in svg
    assert "≥ 1 (1)" in fig.svg and "&lt; 1 (1)" in fig.svg and "MISSING (1)" in fig.svg
    assert "coloured by PD-L1 status" in fig.caption
    assert "1 without a post-baseline value not shown" in fig.caption
    # Same bars and order as the response waterfall of the same subjects.
    plain = waterfall_plot(BEST.select("USUBJID", "PCHG").with_columns(CBOR=pl.lit("SD")))
    assert fig.data["bars"]["USUBJID"].to_list() == plain.data["bars"]["USUBJID"].to_list()


def test_waterfall_colour_value_without_a_palette_colour_is_a_figure_error() -> None:
    with pytest.raises(FigureInputError, match=r"values '>= 1', 'MISSING' without a colour"):
        waterfall_plot(BEST, colour_by="PD-L1 status", palette={"< 1": "#E69F00"})
