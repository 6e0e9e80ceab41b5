"""Figures drawn by worker processes (``oncotrial report``): the report is the same byte for byte
as when every figure is drawn in one process, a figure that fails still leaves its note, and a
worker that dies costs nothing but time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from oncotrial.report import render_report
from oncotrial.report.sections import FigureBook
from oncotrial.report.sections._blocks import FigureSlot
from oncotrial.report.sections._context import FIGURES_MODULE
from oncotrial.report.sections._pool import FigurePool
from tests.test_report_html import ROOT, build_trial

FIGS = textwrap.dedent(
    '''
    """Figure functions for the pool tests."""
    import multiprocessing
    import os
    import time

    from matplotlib.figure import Figure

    from oncotrial.report.figures._figure import finish
    from oncotrial.report.figures._style import house_style


    @house_style
    def bars(n, title="Bars"):
        fig = Figure(figsize=(3, 2))
        fig.add_subplot().bar(range(n), range(1, n + 1))
        return finish(fig, kind="bars", title=title, caption=f"{n} bars", marks={"bars": n})


    def slow(n, title="Slow"):
        time.sleep(1.5)
        return bars(n, title)


    def boom(title="Boom"):
        raise ValueError("no data to draw")


    def dies_in_a_worker(n, title="Dies"):
        if multiprocessing.parent_process() is not None:
            os._exit(3)
        return bars(n, title)
    '''
)


@pytest.fixture
def figs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of figure functions that the spawned workers can import too."""
    (tmp_path / "pool_figs.py").write_text(FIGS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "pool_figs"


def _slots(blocks: list[FigureSlot]) -> dict[str, FigureSlot]:
    return {b.id: b for b in blocks}


def test_a_busy_worker_leaves_the_last_figures_to_the_report_process(figs: str) -> None:
    """The worker takes the first figure (slow); the figures it has not started when the sections
    are built are drawn by the report process, the last first. Each figure is the one drawn
    without a pool, and its PNG copy is rendered by whichever process drew it."""
    with FigurePool(1, figs) as pool:
        book = FigureBook(module=figs, pool=pool)
        asked = [
            book.draw("s", "slow", 3, title="Slow"),
            book.draw("b1", "bars", 4, title="Four bars"),
            book.draw("b2", "bars", 5, title="Five bars"),
            book.draw("x", "boom", title="Boom"),
        ]
        assert all(slot.svg is None and not slot.note for slot in asked)
        filled = _slots(book.finish(asked))
    alone = FigureBook(module=figs)
    reference = _slots([alone.draw("b2", "bars", 5, title="Five bars"),
                        alone.draw("s", "bars", 3, title="Slow")])  # fmt: skip

    assert list(filled) == ["s", "b1", "b2", "x"]
    assert book.drawn["s"]._mpl is None, "the slow figure was drawn by the worker"
    assert book.drawn["b2"]._mpl is not None, "the second-last figure was drawn here"
    assert filled["b2"] == reference["b2"]
    assert filled["s"].svg == reference["s"].svg
    assert filled["s"].caption == "3 bars"
    assert filled["x"].svg is None
    assert filled["x"].note == (
        "Figure not available: boom could not draw it (ValueError: no data to draw)."
    )
    assert list(book.drawn) == ["s", "b1", "b2"]
    assert book.pngs["s"] == alone.drawn["s"].png(book.png_dpi)
    assert book.pngs["b2"] == alone.drawn["b2"].png(book.png_dpi)


def test_a_worker_that_dies_leaves_its_figures_to_the_report_process(figs: str) -> None:
    with FigurePool(1, figs) as pool:
        book = FigureBook(module=figs, pool=pool)
        asked = [book.draw("d", "dies_in_a_worker", 2, title="Dies"),
                 book.draw("b", "bars", 3, title="Bars")]  # fmt: skip
        filled = _slots(book.finish(asked))
    assert filled["d"].svg is not None and filled["b"].svg is not None
    assert filled["d"].caption == "2 bars"
    assert book.drawn["d"]._mpl is not None


def test_figure_slots_inside_sections_and_grids_are_filled_with_their_numbered_titles(
    figs: str,
) -> None:
    from dataclasses import replace

    from oncotrial.report.sections._blocks import Grid, Section

    with FigurePool(1, figs) as pool:
        book = FigureBook(module=figs, pool=pool)
        slot = replace(book.draw("g", "bars", 2, title="Bars"), title="Figure 7. Bars")
        section = Section("s", "S", (Grid((slot,)),))
        (done,) = book.finish([section])
    inner = done.blocks[0].blocks[0]
    assert inner.title == "Figure 7. Bars"
    assert inner.svg is not None and inner.files == ("figures/g.svg", "figures/g.png")


def test_the_report_with_figure_workers_is_the_report_without_them(tmp_path: Path) -> None:
    """Every byte: the HTML (inline SVG), each SVG and PNG file and each listing."""
    protocol_file = ROOT / "examples" / "protocols" / "anlotinib-sintilimab-escc.yaml"
    results, adam, protocol = build_trial(tmp_path / "trial", protocol_file, subjects=24)
    alone = render_report(results, tmp_path / "alone" / "report.html", adam=adam,
                          protocol=protocol)  # fmt: skip
    with FigurePool(1, FIGURES_MODULE) as pool:
        book = FigureBook(pool=pool)
        pooled = render_report(results, tmp_path / "pooled" / "report.html", adam=adam,
                               protocol=protocol, figures=book)  # fmt: skip
    assert any(fig._mpl is None for fig in book.drawn.values()), "no figure drawn by a worker"
    files = sorted(p.relative_to(alone.parent) for p in alone.parent.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(pooled.parent) for p in pooled.parent.rglob("*") if p.is_file()
    )
    assert any(f.suffix == ".png" for f in files)
    for rel in files:
        assert (pooled.parent / rel).read_bytes() == (alone.parent / rel).read_bytes(), rel
