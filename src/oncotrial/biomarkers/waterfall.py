"""Waterfall data by marker status: the response section's waterfall rows (table ``waterfall``
of :func:`oncotrial.analyze.curves.compute_waterfall`: best % change of the sum of target
diameters per subject of the response analysis set, per cohort and ALL, in plot order) with each
subject's status of every protocol marker that has one (table ``biomarker_waterfall``).

Status of a marker, from ADBM: a binary or categorical marker's value (its categories); a
continuous marker's first cut-off flag ``<ID>_GE<c>`` (Y -> ``>= c``, N -> ``< c``; ADBM,
:func:`oncotrial.derive.pipeline.status_column`); ``MISSING`` without a value. A continuous
marker without a cut-off has no status and is left out. The report draws the first marker.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from oncotrial.derive.pipeline import status_column
from oncotrial.protocol.model import Biomarker, Protocol

MISSING = "MISSING"
SCHEMA = {"COHORT": pl.String, "USUBJID": pl.String, "BPCHG": pl.Float64, "BOR": pl.String,
          "MARKER": pl.String, "STATUS": pl.String}  # fmt: skip


def _status(m: Biomarker, adbm: pl.DataFrame) -> tuple[str, list[str], pl.Expr] | None:
    """(ADBM column, levels in legend order, status expression) of one marker, or None."""
    if m.type == "continuous":
        if not m.cutoffs or status_column(m.id, m.cutoffs[0]) not in adbm.columns:
            return None
        column, c = status_column(m.id, m.cutoffs[0]), m.cutoffs[0]
        hi, lo = f">= {c:g}", f"< {c:g}"
        expr = pl.col(column).replace_strict({"Y": hi, "N": lo}, default=None)
        return column, [hi, lo], expr
    if m.id not in adbm.columns:
        return None
    values = adbm[m.id].cast(pl.String).drop_nulls().unique().sort().to_list()
    levels = list(m.categories) or (["POSITIVE", "NEGATIVE"] if m.type == "binary" else [])
    levels += [v for v in values if v not in levels]
    return m.id, levels, pl.col(m.id).cast(pl.String)


def compute_marker_waterfall(
    waterfall: pl.DataFrame, adbm: pl.DataFrame, protocol: Protocol
) -> tuple[dict[str, Any], pl.DataFrame]:
    """(``results.json["biomarkers"]["waterfall"]``, table ``biomarker_waterfall``): one row
    per waterfall row and marker, in the waterfall's order, with the subject's STATUS."""
    adbm = adbm.with_columns(pl.col("USUBJID").cast(pl.String))
    rows = waterfall.select("COHORT", pl.col("USUBJID").cast(pl.String), "BPCHG", "BOR")
    parts, markers = [pl.DataFrame(schema=SCHEMA)], []
    for m in protocol.biomarkers:
        found = _status(m, adbm)
        if found is None:
            continue
        column, levels, expr = found
        status = adbm.select("USUBJID", expr.alias("STATUS"))
        part = rows.join(status, on="USUBJID", how="left", maintain_order="left").with_columns(
            MARKER=pl.lit(m.id), STATUS=pl.col("STATUS").fill_null(MISSING)
        )
        parts.append(part.select(list(SCHEMA)))
        markers.append({"marker": m.id, "label": m.label or m.id, "column": column,
                        "levels": levels, "missing": MISSING})  # fmt: skip
    table = pl.concat(parts, how="vertical_relaxed")
    data = {"table": "biomarker_waterfall", "markers": markers,
            "drawn": markers[0]["marker"] if markers else None,
            "order": "as the response section's waterfall: BPCHG descending per cohort"}  # fmt: skip
    return data, table
