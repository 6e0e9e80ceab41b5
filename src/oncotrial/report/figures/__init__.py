"""The report's figures: pure functions from polars frames (ADaM or analysis tables) to a
:class:`Figure` (inline SVG, title, caption with the analysis set and N, count of drawn marks).

Nothing is estimated here: curves, rates and means come from the analysis. matplotlib draws
(Agg and SVG canvases only; a figure never opens a window), with one house style
(:mod:`._style`) and a fixed SVG hash salt, so the same input gives the same bytes.

* :func:`km_plot` — Kaplan–Meier curves, confidence bands, censor marks, numbers at risk.
* :func:`waterfall_plot` (input from :func:`best_change`), :func:`spider_plot`,
  :func:`swimmer_plot` — tumour response.
* :func:`forest_plot` — estimates by subgroup (ORR, or HR on a log axis).
* :func:`consort_diagram` — flow of subjects.
* :func:`volcano_plot` — a high-dimensional marker screen (effect vs −log10 p per feature).
* :func:`qol_change_plot` — mean change from baseline in QoL scales.

Bad or empty input raises :class:`FigureInputError` (an ``InputError`` and a ``ValueError``).
"""

import os
import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ:
    # Headless by default; a notebook that already chose a backend keeps it (figures here use
    # their own Agg/SVG canvases and never depend on the global backend).
    matplotlib.use("Agg")

from oncotrial.report.figures._figure import Figure, FigureInputError  # noqa: E402
from oncotrial.report.figures.consort import consort_diagram  # noqa: E402
from oncotrial.report.figures.forest import forest_plot  # noqa: E402
from oncotrial.report.figures.km import km_plot, numbers_at_risk  # noqa: E402
from oncotrial.report.figures.qol import qol_change_plot  # noqa: E402
from oncotrial.report.figures.response import best_change, waterfall_plot  # noqa: E402
from oncotrial.report.figures.spider import spider_plot  # noqa: E402
from oncotrial.report.figures.swimmer import swimmer_plot  # noqa: E402
from oncotrial.report.figures.volcano import volcano_plot  # noqa: E402

__all__ = [
    "Figure",
    "FigureInputError",
    "best_change",
    "consort_diagram",
    "forest_plot",
    "km_plot",
    "numbers_at_risk",
    "qol_change_plot",
    "spider_plot",
    "swimmer_plot",
    "volcano_plot",
    "waterfall_plot",
]
