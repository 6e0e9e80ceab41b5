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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from markupsafe import Markup

from oncotrial.analyze.results import ALL, Results
from oncotrial.protocol.model import Protocol
from oncotrial.report.sections._blocks import FigureSlot
from oncotrial.report.sections._pool import Drawn, FigurePool, draw_figure

FIGURES_MODULE = "oncotrial.report.figures"
_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
B = TypeVar("B")


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
    the files; ``missing`` lists the drawing functions this build lacks.

    With a ``pool`` (:class:`~._pool.FigurePool`), :meth:`draw` hands the figure to the pool's
    workers and returns its slot empty; :meth:`finish` fills the slots once every section is
    built, drawing here the figures no worker has started. Without one, :meth:`draw` draws at
    once. The report is the same either way."""

    module: str = FIGURES_MODULE
    drawn: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    pool: FigurePool | None = None
    png_dpi: int = PNG_DPI
    """Resolution of the PNG copies (:meth:`write`)."""
    pngs: dict[str, bytes] = field(default_factory=dict)
    """PNG copies rendered when the figure was drawn (with a pool), by figure id."""
    _jobs: dict[str, _Job] = field(default_factory=dict)

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
        slot = FigureSlot(fig_id, title, caption, None, size=size)
        job = _Job(slot, function, args, kwargs)
        if self.pool is None:
            return self._filled(job, draw_figure(self.module, function, args, kwargs, None))
        job.future = self.pool.submit(function, args, kwargs, self.png_dpi)
        self._jobs[fig_id] = job
        return slot

    def _filled(self, job: _Job, drawn: Drawn) -> FigureSlot:
        """The job's slot with its figure, or with the note saying why there is none."""
        slot = job.slot
        if isinstance(drawn, str):
            return replace(slot, note=f"Figure not available: {drawn}.")
        fig, png = drawn
        self.drawn[slot.id] = fig
        if png is not None:
            self.pngs[slot.id] = png
        svg = Markup(scope_svg(str(fig.svg), slot.id))  # noqa: S704 - drawn by our own code
        files = (f"figures/{slot.id}.svg", f"figures/{slot.id}.png")
        return replace(slot, caption=getattr(fig, "caption", "") or slot.caption, svg=svg,
                       files=files)  # fmt: skip

    def finish(self, blocks: Sequence[B]) -> list[B]:
        """``blocks`` (sections, grids, slots: any depth) with the pool's figures in their
        slots. The figures no worker has started are drawn here, the last first, while the
        workers go on with theirs."""
        if not self._jobs:
            return list(blocks)
        jobs = list(self._jobs.values())
        outcomes: dict[str, Drawn] = {}
        for job in reversed(jobs):
            if job.future is None or not job.future.cancel():
                break
            outcomes[job.slot.id] = draw_figure(
                self.module, job.function, job.args, job.kwargs, self.png_dpi
            )
        filled = {}
        for job in jobs:  # in drawing order: the files are written in this order
            drawn = outcomes.get(job.slot.id)
            if drawn is None and job.future is not None:
                try:
                    drawn = job.future.result()
                except Exception:  # a worker that died: draw the figure here instead
                    drawn = draw_figure(
                        self.module, job.function, job.args, job.kwargs, self.png_dpi
                    )
            filled[job.slot.id] = self._filled(job, drawn or "no worker drew it")
        self._jobs.clear()
        return [_fill(b, filled) for b in blocks]

    def note(self, fig_id: str, title: str, why: str) -> FigureSlot:
        """A figure that cannot be drawn from these data (e.g. no ADTR): say why."""
        return FigureSlot(fig_id, title, "", None, f"Figure not available: {why}.")

    def write(self, folder: Path) -> list[Path]:
        """Every drawn figure as ``<id>.svg`` (the vector master) and ``<id>.png`` in ``folder``.

        PNG copies rendered by the pool's workers are written as they are. Rendering the others
        is most of the report's writing time; where the system can fork, a child process renders
        every second one while this process renders the others (both cores busy; the child only
        uses matplotlib). If the child fails, its share is rendered here: the files are the same
        either way."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = [fig.write(folder / f"{fig_id}.svg") for fig_id, fig in self.drawn.items()]
        pngs = [(folder / f"{fig_id}.png", fig_id) for fig_id in self.drawn]
        for path, fig_id in pngs:
            if fig_id in self.pngs:
                path.write_bytes(self.pngs[fig_id])
        todo = [(path, self.drawn[fig_id]) for path, fig_id in pngs if fig_id not in self.pngs]
        theirs = todo[1::2] if hasattr(os, "fork") and len(todo) > 1 else []
        pid = os.fork() if theirs else 0
        if theirs and pid == 0:  # the child: its share, then leave without any clean-up
            code = 1
            try:
                for path, fig in theirs:
                    fig.write(path, dpi=self.png_dpi)
                code = 0
            finally:
                os._exit(code)
        for path, fig in todo[0::2] if theirs else todo:
            fig.write(path, dpi=self.png_dpi)
        if theirs:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                for path, fig in theirs:
                    fig.write(path, dpi=self.png_dpi)
        return paths + [path for path, _ in pngs]


@dataclass
class _Job:
    """A figure asked for: its (empty) slot, how to draw it, and the pool's answer to come."""

    slot: FigureSlot
    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Drawn] | None = None


def _fill(block: B, filled: Mapping[str, FigureSlot]) -> B:
    """``block`` with every empty figure slot in it (at any depth) replaced by its filled one,
    keeping the slot's numbered title."""
    if isinstance(block, FigureSlot) and block.svg is None and not block.note:
        done = filled.get(block.id)
        return block if done is None else replace(done, title=block.title)  # type: ignore[return-value]
    inner = getattr(block, "blocks", None)
    if isinstance(inner, tuple):
        return replace(block, blocks=tuple(_fill(b, filled) for b in inner))  # type: ignore[type-var]
    return block


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
