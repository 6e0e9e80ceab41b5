"""Render :class:`~oncotrial.analyze.Results` as one self-contained HTML study report.

Figures are inline SVG, the style sheet is embedded, nothing is fetched from a network, and the
page prints cleanly to PDF (A4, page breaks before major sections). The report formats numbers
from ``Results``; it never computes a statistic (:mod:`oncotrial.report.sections`). Beside the
report it writes every figure as SVG and PNG (``figures/``) and every listing in full as CSV
(``listings/``); ``Results.write`` writes the tables (``tables/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from oncotrial.analyze.results import Results
from oncotrial.protocol import parse_protocol
from oncotrial.protocol.model import Protocol
from oncotrial.report.sections import FigureBook, ReportInput, build_sections

LISTINGS = ("exclusions", "rs_discrepancies", "baseline_violations", "warnings")
"""Pipeline listings that ``oncotrial derive`` writes beside the ADaM datasets."""


def read_listings(folder: str | Path) -> dict[str, pl.DataFrame]:
    """The pipeline listings found in an ADaM folder (``exclusions.csv`` ...), by name."""
    out: dict[str, pl.DataFrame] = {}
    for name in LISTINGS:
        path = Path(folder) / f"{name}.csv"
        if path.is_file():
            out[name] = pl.read_csv(path, infer_schema_length=None)
    return out


def _inputs(
    adam: Mapping[str, pl.DataFrame] | str | Path | None,
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    if adam is None:
        return {}, {}
    if isinstance(adam, str | Path):
        from oncotrial.adam_io import read_adam

        return read_adam(adam), read_listings(adam)
    frames = {k: v for k, v in adam.items() if k not in LISTINGS}
    return frames, {k: v for k, v in adam.items() if k in LISTINGS}


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("oncotrial.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    results: Results,
    *,
    adam: Mapping[str, pl.DataFrame] | str | Path | None = None,
    protocol: Protocol | None = None,
    figures: FigureBook | None = None,
) -> tuple[str, ReportInput]:
    """The report as text, and the inputs it was built from (figures drawn, listings to write)."""
    frames, listings = _inputs(adam)
    if "adsl" not in frames:
        frames["adsl"] = pl.DataFrame(schema={"USUBJID": pl.String, "COHORT": pl.String})
    proto = protocol if protocol is not None else parse_protocol(results.data["settings"])
    inp = ReportInput(results, frames, listings, proto, figures or FigureBook())
    sections = inp.figures.finish(build_sections(inp))
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    html = (
        _env().get_template("report.html.j2").render(sections=sections, css=css, data=results.data)
    )
    return html, inp


def render_report(
    results: Results,
    out: str | Path,
    *,
    adam: Mapping[str, pl.DataFrame] | str | Path | None = None,
    protocol: Protocol | None = None,
    figures_dir: str | Path | None = None,
    figures: FigureBook | None = None,
) -> Path:
    """Write the report to ``out`` (``report.html``), its figures (SVG and PNG) to
    ``figures_dir`` (default ``figures/`` beside it) and its full listings to ``listings/``.

    ``adam`` is the ADaM folder, or the datasets by name (``adsl``, ``adrs`` ...) plus, when
    available, the pipeline listings (:func:`read_listings`); without it the figures and listings
    that need subject records say so. ``protocol`` defaults to the settings stored in ``results``.
    ``figures`` draws the figures (a :class:`FigureBook` with a worker pool draws them in
    parallel). Returns the path of the report.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    html, inp = render_html(results, adam=adam, protocol=protocol, figures=figures)
    out.write_text(html, encoding="utf-8")
    inp.figures.write(Path(figures_dir) if figures_dir else out.parent / "figures")
    for rel, frame in inp.files.items():
        path = out.parent / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path, date_format="%Y-%m-%d")
    return out
