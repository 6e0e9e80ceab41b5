"""The result of every figure function: inline SVG, title, caption and a count of drawn marks.

The SVG is written by matplotlib's SVG backend under the house style (:mod:`._style`) with a
fixed ``svg.hashsalt`` and no date, so the same input gives byte-identical text. Every ``id`` in
it is prefixed with a digest of the figure's own content, so several figures can be inlined in
one HTML page without clashing ids.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import matplotlib as mpl
import polars as pl
from matplotlib.figure import Figure as MplFigure

from oncotrial.errors import InputError, Problem
from oncotrial.report.figures._style import RC

_ID_REF = re.compile(r'(\bid="|href="#|url\(#)')


class FigureInputError(InputError, ValueError):
    """A figure cannot be drawn from its input (missing columns, no rows, bad values).

    An :class:`~oncotrial.errors.InputError` (one error shape for the CLI) and a ``ValueError``.
    """


def fail(figure: str, *messages: str, variable: str | None = None) -> FigureInputError:
    """The error to raise: one problem per message, titled by the figure."""
    problems = [Problem(m, variable=variable) for m in messages]
    return FigureInputError(problems, title=f"cannot draw the {figure}")


def check_frame(
    frame: object, name: str, required: Sequence[str], figure: str, what: str
) -> pl.DataFrame:
    """``frame`` as a DataFrame with the ``required`` columns and at least one row, else raise."""
    if not isinstance(frame, pl.DataFrame):
        raise fail(figure, f"{name} must be a polars DataFrame, but was {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise fail(
            figure,
            f"{name} lacks the column(s) {', '.join(missing)}; it needs {', '.join(required)}",
        )
    if frame.height == 0:
        raise fail(figure, f"{name} has no rows: the {figure} needs at least one {what}")
    return frame


@dataclass(frozen=True)
class Figure:
    """One drawn figure.

    ``svg`` is the inline SVG text (no XML prolog; width, height and viewBox set so it scales),
    ``n_marks`` the number of drawn data marks (the sum of ``marks``, which names them: bars,
    points, steps, ...), ``data`` the frames drawn that the input did not hold as such (the
    numbers at risk, the subjects sampled), so a report can print them as a table.
    """

    svg: str = field(repr=False)
    title: str
    caption: str
    n_marks: int
    marks: Mapping[str, int]
    data: Mapping[str, pl.DataFrame] = field(repr=False, compare=False)
    _mpl: MplFigure | None = field(repr=False, compare=False)
    """The matplotlib figure; None for a figure drawn in another process (its PNG was rendered
    there: :mod:`oncotrial.report.sections._pool`)."""

    def png(self, dpi: int = 200) -> bytes:
        """The same figure as PNG bytes (no timestamp in the metadata)."""
        if isinstance(dpi, bool) or not isinstance(dpi, int) or not 36 <= dpi <= 1200:
            raise fail("PNG", f"dpi must be an integer in [36, 1200], but was {dpi!r}")
        fig = self._mpl
        if fig is None:
            raise fail(
                "PNG", f"{self.title!r} was drawn in another process, which rendered its PNG"
            )
        buf = io.BytesIO()
        engine = fig.get_layout_engine()
        # The SVG pass has laid the figure out (in figure fractions, the same at any dpi): keep
        # that layout instead of solving it again (a third of the report's time in the QoL grid).
        fig.set_layout_engine("none")
        try:
            with mpl.rc_context(RC):
                fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        finally:
            fig.set_layout_engine(engine)
        return buf.getvalue()

    def write(self, path: str | Path, dpi: int = 200) -> Path:
        """Write ``path`` as SVG (``.svg``) or PNG (``.png``); returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".svg", ".png"):
            raise fail("file", f"{path.name}: a figure is written as .svg or .png, not {suffix!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".svg":
            path.write_text(self.svg, encoding="utf-8")
        else:
            path.write_bytes(self.png(dpi))
        return path

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "caption": self.caption,
            "n_marks": self.n_marks,
            "marks": dict(self.marks),
        }

    def __repr__(self) -> str:
        marks = ", ".join(f"{k}={v}" for k, v in self.marks.items())
        return (
            f"Figure({self.title!r}, n_marks={self.n_marks} ({marks}), svg={len(self.svg):,} chars)"
        )


def _svg_text(fig: MplFigure, title: str, kind: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    text = _ID_REF.sub(lambda m: f"{m.group(1)}{kind}-{digest}-", text)
    head_end = text.index(">") + 1
    head = text[:head_end].replace("<svg ", '<svg role="img" ', 1)
    return f"{head}\n <title>{escape(title, quote=False)}</title>{text[head_end:]}"


def finish(
    fig: MplFigure,
    *,
    kind: str,
    title: str,
    caption: str,
    marks: Mapping[str, int],
    data: Mapping[str, pl.DataFrame] | None = None,
) -> Figure:
    """Serialise ``fig`` (call inside the house style's rc context) into a :class:`Figure`."""
    counts = {k: int(v) for k, v in marks.items()}
    return Figure(
        svg=_svg_text(fig, title, kind),
        title=title,
        caption=caption,
        n_marks=sum(counts.values()),
        marks=counts,
        data=dict(data or {}),
        _mpl=fig,
    )
