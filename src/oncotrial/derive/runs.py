"""Run-length helpers for big, sorted SDTM domains (LB, QS).

Streamed chunks keep the file order, and SDTM files are sorted by subject and visit, so a key
such as USUBJID or --DTC repeats in long runs of equal neighbours. A look-up done once per run
(a few thousand or a hundred thousand runs instead of millions of rows) and spread back by the
run number gives the same value on every row, whatever the order: an unsorted column only has
more, shorter runs.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from oncotrial.sdtm.dates import Imputation, dtc_dates


def per_run(column: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``fn`` of the first value of each run of equal neighbours in ``column``, one value per
    row. ``fn`` maps a Series (the run values, in order) to a Series of the same length."""
    values = column.rle().struct.field("value").alias(column.name)
    return fn(values).gather(column.rle_id())


def run_dates(frame: pl.DataFrame, dtc: str, impute: Imputation = "none") -> pl.Series:
    """``dtc_dates(frame, dtc, impute)`` (:mod:`oncotrial.sdtm.dates`), parsed once per run of
    equal values."""
    return per_run(frame[dtc], lambda v: dtc_dates(v.to_frame(), dtc, impute)).alias(dtc)
