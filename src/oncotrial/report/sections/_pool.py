"""Figures drawn in worker processes while the report is being built.

Drawing the figures (matplotlib) and rendering their PNG copies is most of ``oncotrial
report``'s time on a small trial, and it runs on one core. A :class:`FigurePool` starts its
workers when it is created (the CLI creates it before the analysis, so the workers have imported
matplotlib by the time the first figure is asked for); :class:`~._context.FigureBook` then hands
each figure to the pool as the sections ask for it and, once every section is built, draws the
figures no worker has started yet itself, from the last one back. Both cores are busy until the
last figure is done, whatever each figure costs.

Workers are started with ``spawn``, never ``fork``: a forked child of a process whose polars
thread pool is running can hang on its first parallel operation, and figure functions use polars.
A worker returns the figure without its matplotlib object (SVG text, marks, data) and its PNG
bytes, or the error text a figure note shows; the report is the same byte for byte whichever
process drew a figure.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import Any

Drawn = tuple[Any, bytes | None] | str
"""What drawing one figure gives: the figure and its PNG bytes, or why it could not be drawn."""


def draw_figure(
    module: str, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], png_dpi: int | None
) -> Drawn:
    """Draw ``module.function(*args, **kwargs)``; in a worker the figure comes back without its
    matplotlib object (:meth:`Figure.png` is then unavailable: its PNG is the bytes given)."""
    try:
        fig = getattr(importlib.import_module(module), function)(*args, **kwargs)
        png = fig.png(png_dpi) if png_dpi else None
    except Exception as exc:  # a figure must never stop the report; the note says why
        return f"{function} could not draw it ({type(exc).__name__}: {exc})"
    return fig, png


def _worker_draw(
    module: str, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], png_dpi: int | None
) -> Drawn:
    drawn = draw_figure(module, function, args, kwargs, png_dpi)
    return drawn if isinstance(drawn, str) else (replace(drawn[0], _mpl=None), drawn[1])


def _warm_up(module: str) -> None:
    """Import the figure functions (matplotlib and its fonts) before the first figure."""
    importlib.import_module(module)


def default_workers() -> int:
    """One worker per core beyond the one that builds the report, at most three."""
    return max(0, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1), 4) - 1)  # fmt: skip


class FigurePool:
    """Worker processes that draw figures (see the module doc); use as a context manager or
    call :meth:`close`."""

    def __init__(self, workers: int, module: str) -> None:
        self.module = module
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
            initargs=(module,),
        )
        # Start the workers now, not at the first figure: they import while the analysis runs.
        for _ in range(workers):
            self._executor.submit(_warm_up, module)

    def submit(
        self, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], png_dpi: int | None
    ) -> Future[Drawn]:
        return self._executor.submit(_worker_draw, self.module, function, args, kwargs, png_dpi)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FigurePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
