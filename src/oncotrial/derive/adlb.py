"""ADLB: laboratory values with baseline, change and NCI-CTCAE grade (low and high direction).

One record per LB record, none dropped (CDISC ADaM BDS). Follows the pharmaverse admiral ADLB
template (``inst/templates/ad_adlb.R``) with the CTCAE grading of :mod:`oncotrial.rules.ctcae`
(admiral ``derive_var_atoxgr_dir()`` semantics):

* ADT — LBDTC; partial dates are not imputed (admiral ``derive_vars_dt`` default), so such a
  record has no ADT and is neither baseline nor on-treatment.
* PARAMCD = LBTESTCD, PARAM = LBTEST (else LBTESTCD), PARCAT1 = LBCAT, AVAL = LBSTRESN,
  AVALU = LBSTRESU, ANRLO / ANRHI = LBSTNRLO / LBSTNRHI.
* ABLFL — per subject and parameter: the record flagged LBBLFL = "Y" (with a value; the last one
  if several), else the last record with a value on or before TRTSDT (admiral
  ``derive_var_extreme_flag(order = exprs(ADT, LBSEQ), mode = "last")``). BASE is its AVAL,
  CHG = AVAL - BASE on post-baseline records.
* ATOXGRL / ATOXGRH — CTCAE grade (0-4; null when the test is not graded in that direction or
  a needed value is missing) for the version ``protocol.safety.ctcae_version``;
  BTOXGRL / BTOXGRH — the grades of the baseline record.
* ONTRTFL — on-treatment: TRTSDT < ADT <= TRTEDT + ``safety.teae_window_days`` (no upper limit
  while TRTEDT is missing), not the baseline record. Labs on the day of first dose count as
  pre-dose, as they do for the baseline rule.
* WGRLOFL / WGRHIFL — per subject and parameter, the on-treatment record with the worst low /
  high grade (the earliest, then the lowest LBSEQ), as admiral's worst-grade flags.
* ASEQ (by PARAMCD, ADT, LBSEQ within subject); SRCDOM = "LB", SRCSEQ = LBSEQ. Records keep
  the order of LB; every step is a group-by or join on integer keys (no per-subject loop).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from oncotrial.protocol.model import Protocol
from oncotrial.rules.ctcae import grade_lab_frame
from oncotrial.sdtm.dates import dtc_dates

_OPTIONAL_TEXT = ("STUDYID", "LBSEQ", "LBTEST", "LBCAT", "LBSTRESU", "LBBLFL", "VISIT")
_OPTIONAL_NUM = ("LBSTRESN", "LBSTNRLO", "LBSTNRHI")


def _subject_table(adsl: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """One row per subject of ADSL or ``frame`` in USUBJID order (row number = subject index
    _S), with the ADSL columns ADLB carries (the first ADSL row of a subject)."""
    carried = adsl.select(
        "USUBJID",
        *[pl.col(c) for c in ("COHORT", "SAFFL") if c in adsl.columns],
        *[
            pl.col(c) if c in adsl.columns else pl.lit(None, pl.Date).alias(c)
            for c in ("TRTSDT", "TRTEDT")
        ],
        *([pl.col("STUDYID").alias("_STUDYID")] if "STUDYID" in adsl.columns else []),
    ).unique(subset="USUBJID", keep="first", maintain_order=True)
    return (
        pl.concat([adsl.select("USUBJID"), frame.select("USUBJID").unique()])
        .unique()
        .sort("USUBJID", nulls_last=True)
        .join(carried, on="USUBJID", how="left", maintain_order="left")
    )


def _subject_columns(frame: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """Per record: _S (subject index, USUBJID order) and the ADSL columns, gathered by _S (only
    the USUBJID column is joined, never the wide LB frame)."""
    table = _subject_table(adsl, frame)
    index = table.select("USUBJID").with_row_index("_S")
    s = frame.select("USUBJID").join(
        index, on="USUBJID", how="left", nulls_equal=True, maintain_order="left"
    )["_S"]
    return table.drop("USUBJID").select(pl.all().gather(s)).with_columns(_S=s)


def _code(frame: pl.DataFrame, column: str) -> tuple[pl.Expr, int]:
    """Integer code of ``column`` in sorted value order (null last) and the number of codes."""
    values = frame.select(pl.col(column).unique().drop_nulls().sort())[column].to_list()
    mapping = {v: i for i, v in enumerate(values)}
    code = pl.col(column).replace_strict(mapping, default=len(values), return_dtype=pl.Int64)
    return code, len(values) + 1


def order_position(frame: pl.DataFrame, by: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The sort permutation of ``by`` (nulls first, ties in row order) and each row's position
    in it, without sorting the frame itself (only the key columns move)."""
    perm = frame.select(pl.arg_sort_by(by, nulls_last=False, maintain_order=True)).to_series()
    order = perm.to_numpy().astype(np.int64)
    pos = np.empty(frame.height, dtype=np.int64)
    pos[order] = np.arange(frame.height, dtype=np.int64)
    return order, pos


def _prepare(lb: pl.DataFrame) -> pl.DataFrame:
    frame = lb
    for names, dtype in ((_OPTIONAL_TEXT, pl.String), (_OPTIONAL_NUM, pl.Float64)):
        frame = frame.with_columns(
            pl.lit(None, dtype).alias(n) for n in names if n not in frame.columns
        )
    if "_ROW" not in frame.columns:
        frame = frame.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    return frame.with_columns(pl.col(c).cast(pl.Float64) for c in _OPTIONAL_NUM)


def _flag(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.lit("Y")).otherwise(pl.lit(None, pl.String))


def baseline_rows(keys: pl.DataFrame, n_keys: int, order: np.ndarray) -> np.ndarray:
    """Per record, the row number of its subject-parameter's baseline record (-1: none), per
    the ABLFL rule of the module doc. ``keys`` has _K (below ``n_keys``), _O (position in
    ``order``, the record order by _K, ADT, LBSEQ), AVAL, ADT, TRTSDT and LBBLFL. One group-by,
    no window or join."""
    has = pl.col("AVAL").is_not_null()
    last = (
        keys.with_columns(
            _F=(has & (pl.col("LBBLFL").str.to_uppercase() == "Y")).fill_null(False),
            _P=(has & (pl.col("ADT") <= pl.col("TRTSDT"))).fill_null(False),
        )
        .filter(pl.col("_F") | pl.col("_P"))
        .group_by("_K")
        .agg(
            _OF=pl.col("_O").filter("_F").max(),
            _OP=pl.col("_O").filter("_P").max(),
        )
        .select("_K", pl.coalesce("_OF", "_OP").alias("_O"))
    )
    by_key = np.full(n_keys, -1, dtype=np.int64)
    by_key[last["_K"].to_numpy()] = order[last["_O"].to_numpy()]
    return by_key[keys["_K"].to_numpy()]


def _worst(frame: pl.DataFrame, grade: str) -> pl.Expr:
    """First (by _O) on-treatment record of the worst grade per subject and parameter: the
    largest grade * n - _O per _K (unique per record, so it names one record)."""
    rank = pl.col(grade).cast(pl.Int64) * (frame.height + 1) - pl.col("_O")
    ranks = frame.select("_K", rank.alias("_V"), "ONTRTFL").filter(
        (pl.col("ONTRTFL") == "Y") & pl.col("_V").is_not_null()
    )
    best = ranks.group_by("_K").agg(pl.col("_V").max())["_V"]
    return _flag(rank.is_in(best.implode()).fill_null(False))


def derive_adlb(lb: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """ADLB from SDTM LB and ADSL (see the module docstring for every rule); records keep the
    order of LB."""
    safety = protocol.safety
    frame = _prepare(lb)
    carried = _subject_columns(frame, adsl)
    frame = frame.drop(c for c in carried.columns if c in frame.columns).hstack(carried)
    if "_STUDYID" in frame.columns:
        frame = frame.with_columns(STUDYID=pl.coalesce("STUDYID", "_STUDYID")).drop("_STUDYID")
    days = (pl.col("ADT") - pl.col("TRTSDT")).dt.total_days()
    param, n_params = _code(frame, "LBTESTCD")
    frame = frame.with_columns(
        ADT=dtc_dates(frame, "LBDTC"),
        PARAMCD=pl.col("LBTESTCD"),
        PARAM=pl.coalesce("LBTEST", "LBTESTCD"),
        PARCAT1=pl.col("LBCAT"),
        AVAL=pl.col("LBSTRESN"),
        AVALU=pl.col("LBSTRESU"),
        ANRLO=pl.col("LBSTNRLO"),
        ANRHI=pl.col("LBSTNRHI"),
        AVISIT=pl.col("VISIT"),
        _SEQN=pl.col("LBSEQ").cast(pl.Float64, strict=False),
        _K=pl.col("_S").cast(pl.Int64) * n_params + param,
    ).with_columns(ADY=pl.when(days >= 0).then(days + 1).otherwise(days))
    order, pos = order_position(frame, ["_K", "ADT", "_SEQN"])
    frame = frame.with_columns(_O=pl.Series(pos))
    n_keys = (int(frame["_S"].to_numpy().max(initial=0)) + 1) * n_params
    base_row = baseline_rows(
        frame.select("_K", "_O", "AVAL", "ADT", "TRTSDT", "LBBLFL"), n_keys, order
    )
    frame = frame.with_columns(_B=pl.Series(base_row)).with_columns(
        _B=pl.when(pl.col("_B") >= 0).then(pl.col("_B"))
    )
    frame = frame.with_columns(
        _BL=(pl.col("_B") == pl.int_range(pl.len(), dtype=pl.Int64)).fill_null(False),
        BASE=pl.col("AVAL").gather(pl.col("_B")),
    ).with_columns(ABLFL=_flag(pl.col("_BL")))
    graded = grade_lab_frame(
        frame.select("LBTESTCD", "LBSTRESN", "LBSTRESU", "LBSTNRLO", "LBSTNRHI", "BASE"),
        safety.ctcae_version,
    )
    end = pl.col("TRTEDT") + pl.duration(days=safety.teae_window_days)
    on_trt = (
        (pl.col("ADT") > pl.col("TRTSDT"))
        & (pl.col("TRTEDT").is_null() | (pl.col("ADT") <= end))
        & ~pl.col("_BL")
    )
    frame = frame.with_columns(
        ATOXGRL=graded["ATOXGRL"].cast(pl.Int64),
        ATOXGRH=graded["ATOXGRH"].cast(pl.Int64),
        ONTRTFL=_flag(on_trt.fill_null(False)),
        CHG=pl.when((pl.col("ADT") > pl.col("TRTSDT")) & ~pl.col("_BL")).then(
            pl.col("AVAL") - pl.col("BASE")
        ),
        SRCDOM=pl.lit("LB"),
        SRCSEQ=pl.col("_SEQN").cast(pl.Int64, strict=False),
    )
    # ASEQ: position within the subject; records are ordered by _K, whose leading part is _S
    subjects = frame["_S"].to_numpy()
    counts = np.bincount(subjects)
    first = (np.cumsum(counts) - counts)[subjects]
    frame = frame.with_columns(
        BTOXGRL=pl.col("ATOXGRL").gather(pl.col("_B")),
        BTOXGRH=pl.col("ATOXGRH").gather(pl.col("_B")),
        WGRLOFL=_worst(frame, "ATOXGRL"),
        WGRHIFL=_worst(frame, "ATOXGRH"),
        ASEQ=pl.Series(pos - first + 1),
    )
    derived = [
        "COHORT", "SAFFL", "TRTSDT", "TRTEDT", "PARAMCD", "PARAM", "PARCAT1", "AVISIT", "ADT",
        "ADY", "AVAL", "AVALU", "ANRLO", "ANRHI", "ABLFL", "BASE", "CHG", "ONTRTFL", "ATOXGRL",
        "ATOXGRH", "BTOXGRL", "BTOXGRH", "WGRLOFL", "WGRHIFL", "ASEQ", "SRCDOM", "SRCSEQ",
    ]  # fmt: skip
    source = [c for c in frame.columns if c not in derived and not c.startswith("_")]
    return frame.select(*source, *[c for c in derived if c in frame.columns], "_ROW")
