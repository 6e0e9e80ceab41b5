"""The wide feature matrix of a biomarker panel: USUBJID + one numeric column per feature.

Parquet or CSV (UTF-8; ``.csv.gz`` too). In CSV, an empty cell, ``NA``, ``NaN``, ``nan`` or
``.`` is a missing value; so is NaN or null in Parquet. Checked (all problems together, as
:class:`~oncotrial.errors.InputError` with file, row, variable and value): a USUBJID column is
present, no USUBJID is empty or repeated, every subject is in DM, every other cell is a finite
number. The result has USUBJID (String) and one Float64 column per feature, nulls for missing
values, in file order: the input of :func:`oncotrial.stats.cox_screen`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from oncotrial.biomarkers._problems import rows_problems as _rows
from oncotrial.errors import InputError, Problem

NA_TOKENS = ["", "NA", "NaN", "nan", "."]


def read_feature_matrix(path: str | Path, subjects: pl.Series | None = None) -> pl.DataFrame:
    """A wide feature matrix (Parquet or CSV: USUBJID + one numeric column per feature) as
    USUBJID + Float64 columns, validated; ``subjects`` (DM's USUBJID) are the allowed ones."""
    problems: list[Problem] = []
    known = None if subjects is None else pl.DataFrame({"USUBJID": subjects.cast(pl.String)})
    out = read_matrix(Path(path), known, problems)
    if problems or out is None:
        raise InputError(problems, title="invalid feature matrix")
    return out


def read_matrix(
    path: Path, subjects: pl.DataFrame | None, problems: list[Problem]
) -> pl.DataFrame | None:
    file = path.name
    name = file.lower()
    try:
        if name.endswith(".parquet"):
            raw = pl.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz")):
            raw = pl.read_csv(path, infer_schema=False, null_values=NA_TOKENS)
        else:
            problems.append(
                Problem("unknown file type; accepted: .parquet, .csv, .csv.gz", file=file)
            )
            return None
    except Exception as exc:  # every reader's own error becomes one clear message
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problems.append(Problem(f"cannot be read: {detail}", file=file))
        return None
    raw = raw.rename({c: c.strip() for c in raw.columns})
    id_col = next((c for c in raw.columns if c.upper() == "USUBJID"), None)
    if id_col is None:
        problems.append(
            Problem(
                "the feature matrix needs a USUBJID column (one row per subject)",
                file=file,
                variable="USUBJID",
            )
        )
        return None
    features = [c for c in raw.columns if c != id_col]
    if not features:
        problems.append(
            Problem("the feature matrix has no feature columns besides USUBJID", file=file)
        )
    frame = raw.with_row_index("_ROW", offset=1).with_columns(
        pl.col("_ROW").cast(pl.Int64),
        pl.col(id_col).cast(pl.String).str.strip_chars().replace("", None).alias("USUBJID"),
    )
    problems += _rows(
        frame.filter(pl.col("USUBJID").is_null()),
        file,
        "USUBJID",
        "USUBJID is empty; every row needs it",
    )
    ids = frame.filter(pl.col("USUBJID").is_not_null())
    problems += _rows(
        ids.filter(pl.col("USUBJID").is_duplicated()),
        file,
        "USUBJID",
        "duplicate USUBJID: each subject may appear once",
    )
    if subjects is not None:
        problems += _rows(
            ids.join(subjects, on="USUBJID", how="anti"), file, "USUBJID", "subject not found in DM"
        )
    schema = frame.schema
    cast = [_as_float(c, schema[c]) for c in features]
    numbers = frame.select("USUBJID", *(e for e, _ in cast))
    bad_cols = frame.select([bad.alias(c) for c, (_, bad) in zip(features, cast, strict=True)])
    counts = bad_cols.sum().row(0) if features else ()
    for c, k in zip(features, counts, strict=True):
        if k:
            rows = frame.filter(bad_cols[c]).select("_ROW", pl.col(c).cast(pl.String))
            problems += _rows(
                rows.head(3),
                file,
                c,
                "not a number; expected a numeric feature value (empty, NA or NaN for a missing value)",
            )
            if k > 3:
                problems.append(
                    Problem(
                        f"... and {k - 3} more non-numeric values in this column",
                        file=file,
                        variable=c,
                    )
                )
    return numbers.filter(pl.col("USUBJID").is_not_null())


def _as_float(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(Float64 column with NaN as null, flag of values that are not finite numbers)."""
    col = pl.col(name)
    if dtype.is_numeric() or dtype == pl.Boolean:
        value = col.cast(pl.Float64)
        bad = value.is_infinite().fill_null(False)
    else:
        text = col.cast(pl.String).str.strip_chars()
        value = text.cast(pl.Float64, strict=False)
        missing = text.is_null() | text.is_in(NA_TOKENS)
        bad = ~missing & (value.is_null() | value.is_infinite())
    return value.fill_nan(None).alias(name), bad
