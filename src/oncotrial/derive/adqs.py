"""ADQS: EORTC QLQ-C30 and QLQ-OES18 scale scores, one record per subject, questionnaire and scale.

Items are read from SDTM QS and scored by :mod:`oncotrial.rules.qlq` (EORTC QLQ-C30 Scoring
Manual, 3rd ed., 2001: linear transformation to 0-100 and the half rule; OES18: Blazeby et al.
2003). The item number is the trailing digits of QSTESTCD modulo 100 (CDISC QS terminology
``EOR0101`` ... ``EOR0130`` → items 1-30, ``EOR0131`` ... ``EOR0148`` → OES18 items 31-48); an
OES18 module numbered on its own (1-18) is shifted to 31-48. QSCAT names the instrument in any of
the spellings of :data:`INSTRUMENT_NAMES`.

Variables (CDISC ADaM BDS): PARCAT1 (instrument), PARAMCD / PARAM (scale), AVAL (0-100),
ADT / ADY, AVISIT / AVISITN (from VISIT / VISITNUM), NITEMS and NEEDED (items answered / in the
scale), COMPLFL ("Y" when the scale is scorable), QNITEMS and QCOMPLFL (items answered on the
whole questionnaire; "Y" when at least one of its scales is scorable), ABLFL (baseline: the last
scorable assessment on or before TRTSDT — STARTDT when there is no dose — per subject and scale,
as admiral's ``derive_var_extreme_flag(mode = "last", filter = ADT <= TRTSDT)``), BASE, CHG
(AVAL - BASE on post-baseline records, ADT > TRTSDT), ANL01FL (the last scorable post-baseline
record per subject, scale and visit, used for visit summaries), SRCDOM / SRCSEQ (first QS record
of the questionnaire).

A response outside the item's range, a QSTESTCD without an item number of the instrument, or an
item answered twice in one questionnaire is an InputError naming the QS row. Records of other
questionnaires (or instruments the protocol does not list) are left out and counted by
:func:`adqs_exclusions`.
"""

from __future__ import annotations

import polars as pl

from oncotrial.derive.runs import per_run, run_dates
from oncotrial.errors import InputError, Problem
from oncotrial.protocol.model import Protocol
from oncotrial.rules.qlq import (
    SCALES,
    SUMMARY_SCALES,
    QlqInputError,
    item_ranges,
    score_frame,
)

C30, OES18 = "QLQ-C30", "QLQ-OES18"
INSTRUMENT_NAMES: dict[str, str] = {
    "EORTC QLQ-C30": C30,
    "QLQ-C30": C30,
    "EORTC QLQ-C30 V3": C30,
    "EORTC QLQ-C30 V3.0": C30,
    "QLQ-C30 V3": C30,
    "QLQ-C30 V3.0": C30,
    "EORTC QLQ-OES18": OES18,
    "QLQ-OES18": OES18,
}
"""QSCAT (upper case) → instrument."""

MAX_PROBLEMS = 50
_KEYS = ["USUBJID", "PARCAT1", "ADT", "AVISIT"]


def _param_table() -> pl.DataFrame:
    rows: list[tuple[str, str, str, str]] = [(s.instrument, s.code, s.name, s.type) for s in SCALES]
    rows += [(s.instrument, s.code, s.name, s.type) for s in SUMMARY_SCALES]
    return pl.DataFrame(
        rows, schema=["PARCAT1", "PARAMCD", "PARAM", "PARAMTYP"], orient="row"
    ).with_row_index("_PORD")


PARAMS = _param_table()
"""Every scale: PARCAT1, PARAMCD, PARAM and PARAMTYP (functional / symptom / global / summary)."""


def _instrument(qs: pl.DataFrame) -> pl.Series:
    """PARCAT1 from QSCAT, looked up once per run of equal QSCAT."""

    def lookup(runs: pl.Series) -> pl.Series:
        names = [c for c in runs.unique().to_list() if c is not None]
        mapping = {c: INSTRUMENT_NAMES.get(c.strip().upper()) for c in names}
        return runs.replace_strict(mapping, default=None, return_dtype=pl.String)

    return per_run(qs["QSCAT"], lookup).alias("PARCAT1")


def _item_number(qs: pl.DataFrame) -> pl.Expr:
    """Item number from the trailing digits of QSTESTCD (mod 100), once per distinct QSTESTCD."""
    codes = qs.select(pl.col("QSTESTCD").unique().drop_nulls())
    numbers = codes.with_columns(
        _N=pl.col("QSTESTCD").str.extract(r"(\d+)\s*$", 1).cast(pl.Int64, strict=False) % 100
    )
    mapping = dict(numbers.iter_rows())
    return pl.col("QSTESTCD").replace_strict(mapping, default=None, return_dtype=pl.Int64)


def _wanted(protocol: Protocol) -> list[str]:
    return list(protocol.pro.instruments) or [C30, OES18]


def _items(qs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """QS records of the wanted instruments with PARCAT1, ITEM, RESPONSE, ADT, AVISIT(N), and
    _FORM: one integer per questionnaire, numbered in the order PARCAT1, USUBJID, ADT (missing
    first), AVISIT."""
    frame = qs
    for name, dtype in (("VISIT", pl.String), ("VISITNUM", pl.String), ("QSSEQ", pl.String)):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    if "_ROW" not in frame.columns:
        frame = frame.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    number = _item_number(frame)
    needed = ["USUBJID", "QSCAT", "QSTESTCD", "QSSTRESN", "QSDTC", "VISIT", "VISITNUM", "QSSEQ"]
    # A narrow frame of the columns used: filtering the whole (wide, streamed) chunk copies it.
    items = (
        frame.select(*needed, "_ROW")
        .with_columns(_instrument(frame))
        .filter(pl.col("PARCAT1").is_in(_wanted(protocol)))
        .with_columns(_N=number)
        .select(
            "USUBJID",
            "PARCAT1",
            pl.when((pl.col("PARCAT1") == OES18) & pl.col("_N").is_between(1, 18))
            .then(pl.col("_N") + 30)
            .otherwise(pl.col("_N"))
            .alias("ITEM"),
            pl.col("QSSTRESN").cast(pl.Float64).alias("RESPONSE"),
            pl.col("QSDTC"),
            pl.col("VISIT").alias("AVISIT"),
            pl.col("VISITNUM").cast(pl.Float64, strict=False).alias("AVISITN"),
            pl.col("QSSEQ").cast(pl.Int64, strict=False).alias("_SEQ"),
            "QSTESTCD",
            "QSSTRESN",
            "_ROW",
        )
    )
    items = items.with_columns(ADT=run_dates(items, "QSDTC")).drop("QSDTC")
    return items.with_columns(_FORM=_form_key(items))


def _form_key(items: pl.DataFrame) -> pl.Series:
    """Dense rank of (USUBJID, PARCAT1, ADT, AVISIT), missing first: each component is coded as
    an integer and packed into one Int64 (subject 24 bits, instrument 1, day 20, visit 16),
    which ranks faster than a struct. Subject first: ADQS is in subject order, so a chunk of
    subjects derives the same records in the same order as the whole domain does. The items
    of a questionnaire are neighbours in QS, so every look-up and the rank run once per run of
    equal values (:mod:`oncotrial.derive.runs`)."""
    visits = items.select(pl.col("AVISIT").unique().drop_nulls().sort())["AVISIT"].to_list()
    visit = per_run(
        items["AVISIT"],
        lambda v: v.replace_strict(
            {v: i + 1 for i, v in enumerate(visits)}, default=0, return_dtype=pl.Int64
        ),
    )
    subject = per_run(items["USUBJID"], lambda v: v.rank("dense").cast(pl.Int64))
    day = (pl.col("ADT").cast(pl.Int64) + 2**19 + 1).fill_null(0)
    packed = items.select(
        subject * 2**37
        + (pl.col("PARCAT1") == OES18).cast(pl.Int64) * 2**36
        + day * 2**16
        + pl.lit(visit)
    ).to_series()
    return per_run(packed, lambda v: v.rank("dense")).alias("_FORM")


def _forms(items: pl.DataFrame) -> pl.DataFrame:
    return (
        items.group_by("_FORM")
        .agg(
            *[pl.col(c).first() for c in _KEYS],
            pl.col("AVISITN").drop_nulls().first(),
            pl.col("RESPONSE").count().cast(pl.Int64).alias("QNITEMS"),
            pl.col("_SEQ").min().alias("SRCSEQ"),
            pl.col("_ROW").min(),
        )
        .sort("_FORM")
    )


def _ranges() -> pl.DataFrame:
    rows = [(i, item, lo, hi) for i in (C30, OES18) for item, (lo, hi) in item_ranges(i).items()]
    return pl.DataFrame(rows, schema=["PARCAT1", "ITEM", "_LO", "_HI"], orient="row")


def check_qs_items(items: pl.DataFrame, file: str = "qs") -> list[Problem]:
    """Every invalid QS record of the scored instruments, one Problem per row (see module doc)."""
    # (instrument, item) as one integer: a lookup instead of a join on text
    slot_of = pl.col("ITEM") + 1000 * (pl.col("PARCAT1") == OES18).cast(pl.Int64)
    ranges = _ranges()
    known_slots = ranges.select(slot_of)["ITEM"]
    checked = items.select(
        "PARCAT1", "ITEM", "RESPONSE", "QSTESTCD", "QSSTRESN", "_ROW", "_FORM",
        slot_of.replace_strict(known_slots, ranges["_LO"], default=None).alias("_LO"),
        slot_of.replace_strict(known_slots, ranges["_HI"], default=None).alias("_HI"),
    )  # fmt: skip
    r = pl.col("RESPONSE")
    problems: list[Problem] = []
    for row, testcd, instrument in (
        checked.filter(pl.col("_HI").is_null()).select("_ROW", "QSTESTCD", "PARCAT1").iter_rows()
    ):
        span = list(item_ranges(instrument))
        problems.append(
            Problem(
                f"no {instrument} item number in QSTESTCD; expected trailing digits giving an "
                f"item {span[0]}-{span[-1]} (e.g. EOR01{span[0]:02d})",
                file=file,
                row=row,
                variable="QSTESTCD",
                value=testcd,
            )
        )
    bad = checked.filter(
        pl.col("_HI").is_not_null()
        & r.is_not_null()
        & ((r != r.floor()) | (r < pl.col("_LO")) | (r > pl.col("_HI")))
    )
    for row, value, instrument, item, lo, hi in bad.select(
        "_ROW", "QSSTRESN", "PARCAT1", "ITEM", "_LO", "_HI"
    ).iter_rows():
        problems.append(
            Problem(
                f"{instrument} item {item} must be an integer {lo}-{hi} (or empty when missing)",
                file=file,
                row=row,
                variable="QSSTRESN",
                value=f"{value:g}",
            )
        )
    slot = pl.col("_FORM").cast(pl.Int64) * 100 + pl.col("ITEM")
    known = checked.filter(pl.col("_HI").is_not_null())
    # Counting distinct slots is cheap; only a questionnaire with a repeated item is searched.
    has_dupes = known.select(slot.n_unique()).item() < known.height
    dupes = known.filter(~slot.is_first_distinct()) if has_dupes else known.clear()
    for row, testcd in dupes.select("_ROW", "QSTESTCD").iter_rows():
        problems.append(
            Problem(
                "item answered twice in one questionnaire (same subject, QSCAT, date and visit); "
                "keep one record",
                file=file,
                row=row,
                variable="QSTESTCD",
                value=testcd,
            )
        )
    return problems


def _score(items: pl.DataFrame) -> pl.DataFrame:
    """_FORM, PARAMCD, AVAL, NITEMS, NEEDED, _PORD (scale order in PARAMS) and _RID (record
    order), sorted by _RID: form order, scales in table order."""
    order = {code: i for i, code in enumerate(PARAMS["PARAMCD"].to_list())}
    merged = pl.DataFrame(
        schema={"_FORM": pl.UInt32, "PARAMCD": pl.String, "AVAL": pl.Float64,
                "NITEMS": pl.Int64, "NEEDED": pl.Int64, "_PORD": pl.Int64, "_RID": pl.Int64}
    )  # fmt: skip
    narrow = items.select("PARCAT1", "_FORM", "ITEM", "RESPONSE")
    for instrument in sorted(narrow["PARCAT1"].unique().to_list()):
        subset = narrow.filter(pl.col("PARCAT1") == instrument).drop("PARCAT1").sort("_FORM")
        try:
            # check_qs_items has checked every row against the same item ranges.
            scored = score_frame(subset, instrument, by=["_FORM"], validate=False)
        except QlqInputError as exc:  # the row checks above make this unreachable for QS data
            raise InputError([Problem(p) for p in exc.problems], title="invalid QS") from None
        scored = scored.with_columns(
            _PORD=pl.col("PARAMCD").replace_strict(order, return_dtype=pl.Int64)
        ).with_columns(_RID=pl.col("_FORM").cast(pl.Int64) * 100 + pl.col("_PORD"))
        # Each instrument's records are in _RID order already: merging keeps the order.
        merged = merged.merge_sorted(scored, key="_RID")
    return merged


def adqs_exclusions(qs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """QS records not scored into ADQS, counted by reason (DATASET, SOURCE, REASON, N)."""
    inst = qs.select(_instrument(qs).alias("I"), pl.col("QSCAT"))
    wanted = _wanted(protocol)
    other = inst.filter(pl.col("I").is_null()).group_by("QSCAT").len().sort("QSCAT")
    unlisted = inst.filter(pl.col("I").is_not_null() & ~pl.col("I").is_in(wanted))
    rows = [
        ("ADQS", "QS", f"QSCAT {q!r} is not a scored EORTC instrument", n)
        for q, n in other.iter_rows()
    ]
    if unlisted.height:
        rows.append(
            ("ADQS", "QS", "instrument not listed in protocol pro.instruments", unlisted.height)
        )
    return pl.DataFrame(
        rows,
        schema={"DATASET": pl.String, "SOURCE": pl.String, "REASON": pl.String, "N": pl.Int64},
        orient="row",
    )


def derive_adqs(
    qs: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol, *, file: str = "qs"
) -> pl.DataFrame:
    """ADQS from SDTM QS and ADSL (see the module docstring); ``file`` names QS in errors."""
    items = _items(qs, protocol)
    problems = check_qs_items(items, file)
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(Problem(f"... and {len(problems) - MAX_PROBLEMS} more", file=file))
        raise InputError(shown, title="invalid questionnaire responses")
    forms = _forms(items)
    scored = _score(items)
    ref = pl.coalesce(
        *[pl.col(c) for c in ("TRTSDT", "STARTDT") if c in adsl.columns], pl.lit(None, pl.Date)
    )
    subj = adsl.select(
        "USUBJID", *[c for c in ("STUDYID", "COHORT") if c in adsl.columns], ref.alias("_REFDT")
    )
    days = (pl.col("ADT") - pl.col("_REFDT")).dt.total_days()
    forms = (
        forms.join(subj, on="USUBJID", how="left", maintain_order="left")
        .with_columns(
            ADY=pl.when(days >= 0).then(days + 1).otherwise(days),
            _S=pl.col("USUBJID").rank("dense").cast(pl.Int64),
            # visit as an integer (null stays null): the same groups, faster to group by
            _V=pl.col("AVISIT").rank("dense"),
            _PRE=(pl.col("ADT") <= pl.col("_REFDT")).fill_null(False),
            _POST=(pl.col("ADT") > pl.col("_REFDT")).fill_null(False),
        )
        .drop("_REFDT")
    )
    scored_forms = scored.filter(pl.col("AVAL").is_not_null())["_FORM"].unique()
    forms = forms.with_columns(QCOMPLFL=_yn(pl.col("_FORM").is_in(scored_forms.implode())))
    names = dict(zip(PARAMS["PARAMCD"], PARAMS["PARAM"], strict=True))
    frame = _join_forms(scored, forms).with_columns(
        PARAM=pl.col("PARAMCD").replace_strict(names, return_dtype=pl.String),
        COMPLFL=_yn(pl.col("AVAL").is_not_null()),
    )
    scorable = pl.col("AVAL").is_not_null()
    frame = frame.with_columns(
        _K=pl.col("_S") * 100 + pl.col("_PORD"),
        _PRE=pl.col("_PRE") & scorable,
        _POST=pl.col("_POST") & scorable,
    )
    keys = frame.select("_K", "_RID", "_PRE", "_POST", "_V", "AVAL")
    baseline = keys.filter("_PRE").group_by("_K").agg(pl.col("_RID").max())
    base_value = keys.filter(pl.col("_RID").is_in(baseline["_RID"].implode())).select(
        "_K", pl.col("AVAL").alias("BASE")
    )
    # (_K, _V) packed into one integer (null visit = 0): one integer key to group by
    n_visits = int(keys.select(pl.col("_V").max().fill_null(0)).item()) + 1
    analysis = (
        keys.filter("_POST")
        .group_by(pl.col("_K") * n_visits + pl.col("_V").fill_null(0).cast(pl.Int64))
        .agg(pl.col("_RID").max())["_RID"]
    )
    frame = frame.join(base_value, on="_K", how="left", maintain_order="left").with_columns(
        ABLFL=_flag(pl.col("_RID").is_in(baseline["_RID"].implode())),
        CHG=pl.when("_POST").then(pl.col("AVAL") - pl.col("BASE")),
        ANL01FL=_flag(pl.col("_RID").is_in(analysis.implode())),
        SRCDOM=pl.lit("QS"),
    )
    cols = [
        "STUDYID", "USUBJID", "COHORT", "PARCAT1", "PARAMCD", "PARAM", "AVISIT", "AVISITN",
        "ADT", "ADY", "AVAL", "NITEMS", "NEEDED", "COMPLFL", "QNITEMS", "QCOMPLFL", "ABLFL",
        "BASE", "CHG", "ANL01FL", "SRCDOM", "SRCSEQ", "_ROW",
    ]  # fmt: skip
    # _score's _RID order is kept by every left join above.
    return frame.select([c for c in cols if c in frame.columns])


def _join_forms(scored: pl.DataFrame, forms: pl.DataFrame) -> pl.DataFrame:
    """``scored`` left-joined with ``forms`` on _FORM. _FORM is a dense rank, so when forms
    holds each of 1..n once, in order, the join is a gather by row number."""
    n = forms.height
    if n and forms["_FORM"].cast(pl.Int64).equals(pl.Series("_FORM", range(1, n + 1))):
        rows = scored["_FORM"].cast(pl.Int64) - 1
        return pl.concat([scored, forms.drop("_FORM")[rows]], how="horizontal")
    return scored.join(forms, on="_FORM", how="left", maintain_order="left")


def _yn(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _flag(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.lit("Y")).otherwise(pl.lit(None, pl.String))
