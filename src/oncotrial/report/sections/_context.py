"""What every section builder receives, and the figure book that draws and keeps the figures.

Figures come from :mod:`oncotrial.report.figures`. A drawing function that is missing (not
installed in this build) or fails on the data gives a visible "figure not available" note in the
report instead of a figure; the report is still written.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from markupsafe import Markup

from oncotrial.analyze.results import ALL, Results
from oncotrial.protocol.model import Protocol
from oncotrial.report.sections._blocks import FigureSlot

FIGURES_MODULE = "oncotrial.report.figures"
_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def scope_svg(svg: str, prefix: str) -> str:
    """Inline-ready SVG: no XML prolog or metadata, every id prefixed so that several figures
    on one page cannot share an id (``url(#x)`` and ``href="#x"`` follow)."""
    svg = _XML_PROLOG.sub("", svg).strip()
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}-{name}" if name in ids else match.group(0)

    svg = re.sub(r'(\bid=")([^"]+)', rename, svg)
    return re.sub(r"((?:url\(|href=\")#)([^)\"]+)", rename, svg)


PNG_DPI = 150
"""PNG copies of the figures, for slides and documents; the SVG files are the vector masters
(a 7-inch figure at 150 dpi is 1,050 pixels wide)."""


@dataclass
class FigureBook:
    """Draws figures through :mod:`oncotrial.report.figures` (or ``module``) and keeps them for
    the files; ``missing`` lists the drawing functions this build lacks."""

    module: str = FIGURES_MODULE
    drawn: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def _function(self, name: str) -> Callable[..., Any] | None:
        try:
            module = importlib.import_module(self.module)
        except ImportError:
            return None
        func = getattr(module, name, None)
        return func if callable(func) else None

    def draw(
        self, fig_id: str, function: str, *args: Any, title: str, caption: str = "",
        size: str = "", **kwargs: Any,
    ) -> FigureSlot:  # fmt: skip
        func = self._function(function)
        if func is None:
            self.missing.append(function)
            return FigureSlot(fig_id, title, caption, None,
                              f"Figure not available: {self.module}.{function} is not "
                              "part of this build.", size=size)  # fmt: skip
        if "title" in inspect.signature(func).parameters:
            kwargs.setdefault("title", title)
        try:
            fig = func(*args, **kwargs)
        except Exception as exc:  # a figure must never stop the report; the note says why
            return FigureSlot(fig_id, title, caption, None,
                              f"Figure not available: {function} could not draw it "
                              f"({type(exc).__name__}: {exc}).", size=size)  # fmt: skip
        self.drawn[fig_id] = fig
        svg = Markup(scope_svg(str(fig.svg), fig_id))  # noqa: S704 - drawn by our own code
        files = (f"figures/{fig_id}.svg", f"figures/{fig_id}.png")
        return FigureSlot(fig_id, title, getattr(fig, "caption", "") or caption, svg,
                          files=files, size=size)  # fmt: skip

    def note(self, fig_id: str, title: str, why: str) -> FigureSlot:
        """A figure that cannot be drawn from these data (e.g. no ADTR): say why."""
        return FigureSlot(fig_id, title, "", None, f"Figure not available: {why}.")

    def write(self, folder: Path, png_dpi: int = PNG_DPI) -> list[Path]:
        """Every drawn figure as ``<id>.svg`` (the vector master) and ``<id>.png`` in ``folder``.

        Rendering the PNG copies is most of the report's writing time; where the system can
        fork, a child process renders every second one while this process renders the others
        (both cores busy). If the child fails, its share is rendered here: the files are the
        same either way."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = [fig.write(folder / f"{fig_id}.svg") for fig_id, fig in self.drawn.items()]
        pngs = [(folder / f"{fig_id}.png", fig) for fig_id, fig in self.drawn.items()]
        theirs = pngs[1::2] if hasattr(os, "fork") and len(pngs) > 1 else []
        pid = os.fork() if theirs else 0
        if theirs and pid == 0:  # the child: its share, then leave without any clean-up
            code = 1
            try:
                for path, fig in theirs:
                    fig.write(path, dpi=png_dpi)
                code = 0
            finally:
                os._exit(code)
        for path, fig in pngs[0::2] if theirs else pngs:
            fig.write(path, dpi=png_dpi)
        if theirs:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                for path, fig in theirs:
                    fig.write(path, dpi=png_dpi)
        return paths + [path for path, _ in pngs]


@dataclass(frozen=True)
class ReportInput:
    """Results, the ADaM records behind them, the pipeline listings and the protocol."""

    results: Results
    adam: Mapping[str, pl.DataFrame]
    listings: Mapping[str, pl.DataFrame]
    protocol: Protocol
    figures: FigureBook
    files: dict[str, pl.DataFrame] = field(default_factory=dict)
    """Full listings to write as CSV beside the report (relative path -> frame)."""

    @property
    def data(self) -> dict[str, Any]:
        return self.results.data

    def table(self, name: str) -> pl.DataFrame | None:
        return self.results.tables.get(name)

    @property
    def cohorts(self) -> list[tuple[str, str]]:
        """Cohorts shown side by side: each protocol cohort, and the pool when there are
        several (a single-cohort trial shows its cohort only: the pool is the same subjects)."""
        per = self.data.get("cohorts", {})
        own = [(cid, c.get("label") or cid) for cid, c in per.items() if cid != ALL]
        if len(own) == 1:
            return own
        return [*own, (ALL, per.get(ALL, {}).get("label", "All subjects"))] if ALL in per else own

    @property
    def pooled(self) -> str:
        """The cohort id of the whole trial: ALL, or the single cohort."""
        own = [cid for cid in self.data.get("cohorts", {}) if cid != ALL]
        return own[0] if len(own) == 1 else ALL

    @property
    def own_cohorts(self) -> list[tuple[str, str]]:
        """Protocol cohorts only (one figure each: waterfall, spider, swimmer)."""
        return [(cid, label) for cid, label in self.cohorts if cid != ALL]

    def safety_cohort(self, cohort: str) -> dict[str, Any]:
        return self.data.get("safety", {}).get("cohorts", {}).get(cohort, {})
