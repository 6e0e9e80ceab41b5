"""Scoring engine for the QLQ scale tables: one answer set (``score``) or a long ADQS-style
frame (``score_frame``). Both read the same tables in ``scales.py`` and must agree."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from oncotrial.rules.qlq.scales import (
    INSTRUMENTS,
    Scale,
    SummaryScale,
    item_ranges,
    scales_for,
    summaries_for,
)

_MAX_SHOWN = 10
_ROWS_SHOWN = 3


class QlqInputError(ValueError):
    """Invalid questionnaire input; ``problems`` lists every problem found, one per entry."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} problems in QLQ input:\n{lines}"
        super().__init__(message)


def _check_instrument(instrument: str) -> None:
    if instrument not in INSTRUMENTS:
        accepted = ", ".join(repr(i) for i in INSTRUMENTS)
        raise QlqInputError([f"instrument must be one of {accepted}, but was {instrument!r}"])


def _item_span(instrument: str) -> str:
    items = list(item_ranges(instrument))
    return f"{items[0]}-{items[-1]}"


def _check_answers(instrument: str, answers: Mapping[int, int | None]) -> dict[int, int]:
    """Validate every answer at once; return the answered items as plain ints."""
    ranges = item_ranges(instrument)
    problems: list[str] = []
    answered: dict[int, int] = {}
    for item, value in answers.items():
        known = isinstance(item, numbers.Integral) and not isinstance(item, bool)
        if not known or int(item) not in ranges:
            problems.append(
                f"{instrument} has no item {item!r}; accepted items are {_item_span(instrument)}"
            )
            continue
        lo, hi = ranges[int(item)]
        if value is None:
            continue
        is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if not is_int or not lo <= int(value) <= hi:
            problems.append(
                f"{instrument} item {item} must be one of {lo}-{hi} (integer) or None for "
                f"missing, but was {value!r}"
            )
            continue
        answered[int(item)] = int(value)
    if problems:
        raise QlqInputError(problems)
    return answered


def _transform(scale: Scale, raw_mean: float) -> float:
    """EORTC linear transformation of a raw score (mean item response) to 0-100."""
    if scale.type == "functional":
        return (1.0 - (raw_mean - scale.item_min) / scale.range) * 100.0
    return (raw_mean - scale.item_min) / scale.range * 100.0


def _score_scale(scale: Scale, answered: Mapping[int, int]) -> float | None:
    values = [
        scale.item_min + scale.item_max - answered[i] if i in scale.reversed_items else answered[i]
        for i in scale.items
        if i in answered
    ]
    if len(values) * 2 < scale.needed:
        return None
    return _transform(scale, sum(values) / len(values))


def _score_summary(summary: SummaryScale, scores: Mapping[str, float | None]) -> float | None:
    values: list[float] = []
    for code in summary.components:
        value = scores[code]
        if value is None:
            return None
        values.append(100.0 - value if code in summary.inverted else value)
    return sum(values) / len(values)


def score(instrument: str, answers: Mapping[int, int | None]) -> dict[str, float | None]:
    """Score one completed questionnaire.

    ``answers`` maps item number (C30 1-30, OES18 31-48) to the response, or None when
    missing; items left out of the mapping count as missing. Returns scale code -> score on
    0-100, or None where the half rule (or, for SUMSC, a missing component) leaves no score.

    >>> s = score("QLQ-C30", {1: 1, 2: 2, 3: 1, 4: 1, 5: None, 29: 6, 30: 5})
    >>> round(s["PF2"], 2), s["QL2"], s["SUMSC"]
    (91.67, 75.0, None)
    """
    _check_instrument(instrument)
    answered = _check_answers(instrument, answers)
    scores: dict[str, float | None] = {
        s.code: _score_scale(s, answered) for s in scales_for(instrument)
    }
    for summary in summaries_for(instrument):
        scores[summary.code] = _score_summary(summary, scores)
    return scores


# --- frame form -----------------------------------------------------------------------------


def _rows_text(rows: Sequence[int], count: int) -> str:
    shown = ", ".join(str(r) for r in rows[:_ROWS_SHOWN])
    more = f" and {count - _ROWS_SHOWN} more" if count > _ROWS_SHOWN else ""
    return f"row {shown}{more}" if count == 1 else f"rows {shown}{more}"


def _more_text(total: int, what: str) -> list[str]:
    if total <= _MAX_SHOWN:
        return []
    return [f"... and {total - _MAX_SHOWN} more {what} not shown"]


def _range_table(instrument: str) -> pl.DataFrame:
    ranges = item_ranges(instrument)
    return pl.DataFrame(
        {
            "ITEM": list(ranges),
            "_LO": [lo for lo, _ in ranges.values()],
            "_HI": [hi for _, hi in ranges.values()],
        },
        schema={"ITEM": pl.Int64, "_LO": pl.Int64, "_HI": pl.Int64},
    )


def _check_frame(items: pl.DataFrame, instrument: str, keys: list[str]) -> None:
    """Validate the whole frame; every problem is reported with example row indices (0-based)."""
    required = [*keys, "ITEM", "RESPONSE"]
    missing = [c for c in required if c not in items.columns]
    if missing:
        raise QlqInputError([f"items frame lacks column(s) {missing}; it needs {required}"])
    if len(set(keys)) != len(keys) or {"ITEM", "RESPONSE"} & set(keys):
        raise QlqInputError(
            [f"by must name distinct key columns other than ITEM and RESPONSE, but was {keys}"]
        )
    problems: list[str] = []
    if not items.schema["ITEM"].is_integer():
        problems.append(f"column ITEM must be integer, but was {items.schema['ITEM']}")
    if not items.schema["RESPONSE"].is_numeric():
        problems.append(f"column RESPONSE must be numeric, but was {items.schema['RESPONSE']}")
    if problems:
        raise QlqInputError(problems)

    rows = items.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_ROW"),
        pl.col("ITEM").cast(pl.Int64),
        pl.col("RESPONSE").cast(pl.Float64),
    ).join(_range_table(instrument), on="ITEM", how="left", maintain_order="left")

    null_items = rows.filter(pl.col("ITEM").is_null())
    if null_items.height:
        where = _rows_text(null_items["_ROW"].to_list(), null_items.height)
        problems.append(f"ITEM is null at {where}")

    unknown = (
        rows.filter(pl.col("ITEM").is_not_null() & pl.col("_HI").is_null())
        .group_by("ITEM")
        .agg(pl.col("_ROW").head(_ROWS_SHOWN), pl.len().alias("_N"))
        .sort("ITEM")
    )
    for item, where_rows, n in unknown.head(_MAX_SHOWN).iter_rows():
        problems.append(
            f"ITEM {item} ({_rows_text(where_rows, n)}) is not an item of {instrument}; "
            f"accepted items are {_item_span(instrument)}"
        )
    problems += _more_text(unknown.height, "unknown ITEM values")

    r = pl.col("RESPONSE")
    bad = (
        rows.filter(
            pl.col("_HI").is_not_null()
            & r.is_not_null()
            & (r.is_nan() | (r != r.floor()) | (r < pl.col("_LO")) | (r > pl.col("_HI")))
        )
        .group_by("ITEM", "RESPONSE", "_LO", "_HI")
        .agg(pl.col("_ROW").head(_ROWS_SHOWN), pl.len().alias("_N"))
        .sort("ITEM", "RESPONSE")
    )
    for item, value, lo, hi, where_rows, n in bad.head(_MAX_SHOWN).iter_rows():
        problems.append(
            f"RESPONSE {value} for ITEM {item} ({_rows_text(where_rows, n)}) must be one of "
            f"{lo}-{hi} (integer) or null for missing"
        )
    problems += _more_text(bad.height, "invalid ITEM/RESPONSE pairs")

    dupes = (
        items.select(*keys, "ITEM")
        .with_row_index("_ROW")
        .group_by(*keys, "ITEM")
        .agg(pl.col("_ROW").head(_ROWS_SHOWN), pl.len().alias("_N"))
        .filter(pl.col("_N") > 1)
        .sort(pl.col("_ROW").list.first())
    )
    for *_, item, where_rows, n in dupes.head(_MAX_SHOWN).iter_rows():
        problems.append(
            f"ITEM {item} appears {n} times for one {'/'.join(keys)} "
            f"({_rows_text(where_rows, n)}); each item may have one row per key"
        )
    problems += _more_text(dupes.height, "duplicated items")

    if problems:
        raise QlqInputError(problems)


def _scale_table(scales: Sequence[Scale]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "PARAMCD": [s.code for s in scales],
            "_ORDER": list(range(len(scales))),
            "_FUNCTIONAL": [s.type == "functional" for s in scales],
            "_LO": [s.item_min for s in scales],
            "_RANGE": [s.range for s in scales],
            "NEEDED": [s.needed for s in scales],
        },
        schema={
            "PARAMCD": pl.String,
            "_ORDER": pl.Int64,
            "_FUNCTIONAL": pl.Boolean,
            "_LO": pl.Int64,
            "_RANGE": pl.Int64,
            "NEEDED": pl.Int64,
        },
    )


def _membership_table(scales: Sequence[Scale]) -> pl.DataFrame:
    pairs = [
        (s.code, i, i in s.reversed_items, s.item_min + s.item_max) for s in scales for i in s.items
    ]
    return pl.DataFrame(
        pairs,
        schema={"PARAMCD": pl.String, "ITEM": pl.Int64, "_REV": pl.Boolean, "_FLIP": pl.Int64},
        orient="row",
    )


def _summary_rows(scored: pl.DataFrame, summary: SummaryScale, order: int) -> pl.DataFrame:
    aval = pl.col("AVAL")
    return (
        scored.filter(pl.col("PARAMCD").is_in(summary.components))
        .with_columns(
            pl.when(pl.col("PARAMCD").is_in(summary.inverted))
            .then(100.0 - aval)
            .otherwise(aval)
            .alias("AVAL")
        )
        .group_by("_KEY")
        .agg(aval.sum().alias("_SUM"), aval.count().cast(pl.Int64).alias("NITEMS"))
        .select(
            "_KEY",
            pl.lit(summary.code).alias("PARAMCD"),
            pl.when(pl.col("NITEMS") == summary.needed)
            .then(pl.col("_SUM") / summary.needed)
            .otherwise(None)
            .alias("AVAL"),
            "NITEMS",
            pl.lit(summary.needed, dtype=pl.Int64).alias("NEEDED"),
            pl.lit(order, dtype=pl.Int64).alias("_ORDER"),
        )
    )


def score_frame(
    items: pl.DataFrame,
    instrument: str,
    *,
    by: Sequence[str] = ("USUBJID", "VISIT"),
    validate: bool = True,
) -> pl.DataFrame:
    """Score a long item-level frame (one row per key and item), as for ADQS.

    ``items`` has the key columns ``by`` (the full list of grouping keys, default USUBJID and
    VISIT), ITEM (integer item number) and RESPONSE (numeric; null = missing; an absent row
    also counts as missing). Returns one row per key and scale, in first-appearance order of
    the keys and table order of the scales: the ``by`` columns, PARAMCD, AVAL (0-100 or null),
    NITEMS (items answered) and NEEDED (items in the scale). For SUMSC, NITEMS and NEEDED
    count component scales (13 needed). Raises QlqInputError listing every invalid row group.

    ``validate=False`` skips the row checks, for callers that have already checked every row
    against the same item ranges (ADQS does, naming the QS row); scores are unchanged.
    """
    _check_instrument(instrument)
    keys = [by] if isinstance(by, str) else list(by)
    if validate:
        _check_frame(items, instrument, keys)
    scales = scales_for(instrument)

    key_index = items.select(keys).unique(maintain_order=True).with_row_index("_KEY")
    n_scales = len(scales)
    table = _scale_table(scales)
    answered = (
        items.select(*keys, pl.col("ITEM").cast(pl.Int64), pl.col("RESPONSE").cast(pl.Float64))
        .filter(pl.col("RESPONSE").is_not_null())
        .join(key_index, on=keys, how="left", nulls_equal=True)
        .join(_membership_table(scales), on="ITEM", how="inner")
        .join(table.select("PARAMCD", "_ORDER"), on="PARAMCD", how="left")
        .select(
            (pl.col("_KEY").cast(pl.Int64) * n_scales + pl.col("_ORDER")).alias("_SLOT"),
            pl.when(pl.col("_REV"))
            .then(pl.col("_FLIP") - pl.col("RESPONSE"))
            .otherwise(pl.col("RESPONSE"))
            .alias("_VALUE"),
        )
    )
    # Every (key, scale) slot: item sums and counts by slot number. The responses are integers
    # (checked), so their float sums are exact in any order.
    size = key_index.height * n_scales
    slots = answered["_SLOT"].to_numpy()
    sums = np.bincount(slots, weights=answered["_VALUE"].to_numpy(), minlength=size)
    counts = np.bincount(slots, minlength=size)

    # (RS - 1) / range, with RS the mean of the answered items
    position = (pl.col("_SUM") / pl.col("NITEMS") - pl.col("_LO")) / pl.col("_RANGE")
    scored = (
        pl.DataFrame(
            {
                "_KEY": np.repeat(np.arange(key_index.height, dtype=np.uint32), n_scales),
                "_ORDER": np.tile(np.arange(n_scales, dtype=np.int64), key_index.height),
                "_SUM": sums,
                "NITEMS": counts.astype(np.int64),
            }
        )
        .with_columns(pl.col("_KEY").set_sorted())
        .join(table, on="_ORDER", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("NITEMS") * 2 < pl.col("NEEDED"))
            .then(None)
            .when(pl.col("_FUNCTIONAL"))
            .then((1.0 - position) * 100.0)
            .otherwise(position * 100.0)
            .alias("AVAL")
        )
        .select("_KEY", "PARAMCD", "AVAL", "NITEMS", "NEEDED", "_ORDER")
    )
    summaries = [
        _summary_rows(scored, summary, len(scales) + n)
        for n, summary in enumerate(summaries_for(instrument))
    ]
    n_all = n_scales + len(summaries)
    result = pl.concat([scored, *summaries], how="vertical").sort(
        pl.col("_KEY").cast(pl.Int64) * n_all + pl.col("_ORDER")
    )
    return pl.concat(
        [key_index.drop("_KEY")[result["_KEY"]], result.drop("_KEY", "_ORDER")],
        how="horizontal",
    )
