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
  the order of LB; every step works on integer keys, sorted once (no per-subject loop).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from oncotrial.derive.runs import per_run, run_dates
from oncotrial.protocol.model import Protocol
from oncotrial.rules.ctcae import grade_lab_frame

_OPTIONAL_TEXT = ("STUDYID", "LBSEQ", "LBTEST", "LBCAT", "LBSTRESU", "LBBLFL", "VISIT")
_OPTIONAL_NUM = ("LBSTRESN", "LBSTNRLO", "LBSTNRHI")


def _subject_columns(frame: pl.DataFrame, adsl: pl.DataFrame, studyid: bool) -> pl.DataFrame:
    """Per record: _S (subject index in USUBJID order, null last) and the ADSL columns ADLB
    carries (the first ADSL row of the subject; _STUDYID only when ``studyid``), gathered by _S.
    Subjects are looked up once per run of records (only USUBJID is joined, never LB)."""
    carried = adsl.select(
        "USUBJID",
        *[pl.col(c) for c in ("COHORT", "SAFFL") if c in adsl.columns],
        *[
            pl.col(c) if c in adsl.columns else pl.lit(None, pl.Date).alias(c)
            for c in ("TRTSDT", "TRTEDT")
        ],
        *([pl.col("STUDYID").alias("_STUDYID")] if studyid and "STUDYID" in adsl.columns else []),
    ).unique(subset="USUBJID", keep="first", maintain_order=True)
    table = (
        frame["USUBJID"]
        .rle()
        .struct.field("value")
        .unique()
        .to_frame("USUBJID")
        .sort("USUBJID", nulls_last=True)
        .join(carried, on="USUBJID", how="left", maintain_order="left")
    )
    index = table.select("USUBJID").with_row_index("_S")
    s = per_run(
        frame["USUBJID"],
        lambda v: v.to_frame().join(
            index, on="USUBJID", how="left", nulls_equal=True, maintain_order="left"
        )["_S"],
    )
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
    return _with_position(perm.to_numpy().astype(np.int64))


def _with_position(order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = np.empty(order.size, dtype=np.int64)
    pos[order] = np.arange(order.size, dtype=np.int64)
    return order, pos


def _record_order(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`order_position` by _K, ADT, _SEQN. When _SEQN holds whole numbers from 1 (as
    LBSEQ does) the three keys are packed into one Int64 (null = 0, first) and sorted at once;
    otherwise by the three columns."""
    seq = pl.col("_SEQN")
    s = frame.select(
        k=pl.col("_K").max(),
        d0=pl.col("ADT").min().cast(pl.Int64),
        d1=pl.col("ADT").max().cast(pl.Int64),
        s0=seq.min(),
        s1=seq.max(),
        odd=(seq.is_nan() | (seq != seq.floor())).any(),
    ).row(0, named=True)
    days = 1 if s["d0"] is None else s["d1"] - s["d0"] + 2
    seqs = 1 if s["s0"] is None else int(s["s1"]) + 1
    usable = s["s0"] is None or (s["s0"] >= 1 and s["s1"] < 2**31 and not s["odd"])
    if not usable or ((s["k"] or 0) + 1) * days * seqs >= 2**62:
        return order_position(frame, ["_K", "ADT", "_SEQN"])
    day = (pl.col("ADT").cast(pl.Int64) - (s["d0"] or 0) + 1).fill_null(0)
    packed = (pl.col("_K") * days + day) * seqs + seq.cast(pl.Int64).fill_null(0)
    return _with_position(np.argsort(frame.select(packed).to_series().to_numpy(), kind="stable"))


def _prepare(lb: pl.DataFrame) -> pl.DataFrame:
    frame = lb
    for names, dtype in ((_OPTIONAL_TEXT, pl.String), (_OPTIONAL_NUM, pl.Float64)):
        frame = frame.with_columns(
            pl.lit(None, dtype).alias(n) for n in names if n not in frame.columns
        )
    if "_ROW" not in frame.columns:
        frame = frame.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    return frame.with_columns(pl.col(c).cast(pl.Float64) for c in _OPTIONAL_NUM)


def _chunked_like(frame: pl.DataFrame, template: pl.Series) -> pl.DataFrame:
    """``frame`` cut into the chunks of ``template`` (zero-copy slices). A streamed chunk of LB
    comes in several chunks; derived columns laid out the same way join it without copying the
    whole of LB into one chunk."""
    lengths = [len(c) for c in template.get_chunks()]
    if len(lengths) < 2:
        return frame
    starts = np.cumsum([0, *lengths[:-1]])
    return pl.concat(
        [frame.slice(int(a), n) for a, n in zip(starts, lengths, strict=True)], rechunk=False
    )


def _flag(cond: pl.Expr | pl.Series) -> pl.Expr:
    return pl.when(cond).then(pl.lit("Y")).otherwise(pl.lit(None, pl.String))


def _last_per_key(
    keys: np.ndarray, flags: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each key with a flagged record: the key and the position (in ``order``) of its last
    flagged record. ``keys`` and ``flags`` are in ``order``, so each key is one run."""
    at = np.flatnonzero(flags)
    k = keys[at]
    last = np.append(k[1:] != k[:-1], True) if k.size else np.zeros(0, dtype=bool)
    return k[last], at[last]


def baseline_rows(keys: pl.DataFrame, n_keys: int, order: np.ndarray) -> np.ndarray:
    """Per record, the row number of its subject-parameter's baseline record (-1: none), per
    the ABLFL rule of the module doc. ``keys`` has _K (below ``n_keys``), AVAL, ADT, TRTSDT and
    LBBLFL; ``order`` is the record order by _K, ADT, LBSEQ. No group-by, window or join: the
    last flagged record of each _K run in that order."""
    has = pl.col("AVAL").is_not_null()
    flags = keys.select(
        # to_uppercase() == "Y" holds for exactly "Y" and "y"
        _F=(has & pl.col("LBBLFL").is_in(["Y", "y"])).fill_null(False),
        _P=(has & (pl.col("ADT") <= pl.col("TRTSDT"))).fill_null(False),
    )
    k_sorted = keys["_K"].to_numpy()[order]
    by_key = np.full(n_keys, -1, dtype=np.int64)
    for name in ("_P", "_F"):  # a flagged record wins over the last pre-dose one
        k, at = _last_per_key(k_sorted, flags[name].to_numpy()[order], order)
        by_key[k] = order[at]
    return by_key[keys["_K"].to_numpy()]


def _worst(
    grade: pl.Series, on_trt: np.ndarray, k_sorted: np.ndarray, order: np.ndarray
) -> pl.Series:
    """First (in ``order``) on-treatment record of the worst grade per subject and parameter
    (_K, given in ``order`` as ``k_sorted``), as a Boolean per record."""
    g = grade.fill_null(-1).to_numpy()[order]
    at = np.flatnonzero(on_trt[order] & (g >= 0))
    flag = np.zeros(order.size, dtype=bool)
    if at.size:
        k = k_sorted[at]
        new = np.append(True, k[1:] != k[:-1])
        # unique per record: the worst grade, then the earliest
        value = g[at].astype(np.int64) * (order.size + 1) - at
        best = np.maximum.reduceat(value, np.flatnonzero(new))
        run = np.cumsum(new) - 1
        flag[order[at[value == best[run]]]] = True
    return pl.Series(flag)


def derive_adlb(lb: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """ADLB from SDTM LB and ADSL (see the module docstring for every rule); records keep the
    order of LB."""
    safety = protocol.safety
    lb = _prepare(lb)
    # the variables the rules read, in one chunk each; the rest of LB is passed through
    frame = lb.select(
        "USUBJID", "LBTESTCD", "LBSEQ", "LBDTC", "LBBLFL", "LBSTRESU", *_OPTIONAL_NUM
    ).rechunk()  # fmt: skip
    # STUDYID from ADSL only fills gaps: skip it when LB has every STUDYID
    fill_studyid = lb["STUDYID"].null_count() > 0
    frame = frame.hstack(_subject_columns(frame, adsl, fill_studyid))
    days = pl.col("ADT").cast(pl.Int64) - pl.col("TRTSDT").cast(pl.Int64)
    param, n_params = _code(frame, "LBTESTCD")
    frame = frame.with_columns(
        ADT=run_dates(frame, "LBDTC"),
        AVAL=pl.col("LBSTRESN"),
        _SEQN=pl.col("LBSEQ").cast(pl.Float64, strict=False),
        _K=pl.col("_S").cast(pl.Int64) * n_params + param,
    ).with_columns(ADY=pl.when(days >= 0).then(days + 1).otherwise(days))
    order, pos = _record_order(frame)
    n_keys = (int(frame["_S"].to_numpy().max(initial=0)) + 1) * n_params
    base_row = baseline_rows(frame.select("_K", "AVAL", "ADT", "TRTSDT", "LBBLFL"), n_keys, order)
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
        _ON=on_trt.fill_null(False),
        CHG=pl.when((pl.col("ADT") > pl.col("TRTSDT")) & ~pl.col("_BL")).then(
            pl.col("AVAL") - pl.col("BASE")
        ),
        SRCSEQ=pl.col("_SEQN").cast(pl.Int64, strict=False),
        # a materialised column (not a literal) can be cut into LB's chunks below
        SRCDOM=pl.repeat("LB", frame.height, dtype=pl.String, eager=True),
    )
    # ASEQ: position within the subject; records are ordered by _K, whose leading part is _S
    subjects = frame["_S"].to_numpy()
    counts = np.bincount(subjects)
    first = (np.cumsum(counts) - counts)[subjects]
    on = frame["_ON"].to_numpy()
    k_sorted = frame["_K"].to_numpy()[order]
    frame = frame.with_columns(
        ONTRTFL=_flag(pl.col("_ON")),
        BTOXGRL=pl.col("ATOXGRL").gather(pl.col("_B")),
        BTOXGRH=pl.col("ATOXGRH").gather(pl.col("_B")),
        WGRLOFL=_flag(_worst(frame["ATOXGRL"], on, k_sorted, order)),
        WGRHIFL=_flag(_worst(frame["ATOXGRH"], on, k_sorted, order)),
        ASEQ=pl.Series(pos - first + 1),
    )
    derived = [
        "COHORT", "SAFFL", "TRTSDT", "TRTEDT", "PARAMCD", "PARAM", "PARCAT1", "AVISIT", "ADT",
        "ADY", "AVAL", "AVALU", "ANRLO", "ANRHI", "ABLFL", "BASE", "CHG", "ONTRTFL", "ATOXGRL",
        "ATOXGRH", "BTOXGRL", "BTOXGRH", "WGRLOFL", "WGRHIFL", "ASEQ", "SRCDOM", "SRCSEQ",
    ]  # fmt: skip
    new = _chunked_like(
        frame.select(c for c in [*derived, "_STUDYID"] if c in frame.columns), lb["USUBJID"]
    )
    out = lb.hstack(new.select(c for c in new.columns if c not in lb.columns))
    if "_STUDYID" in out.columns:
        out = out.with_columns(STUDYID=pl.coalesce("STUDYID", "_STUDYID"))
    out = out.with_columns(
        # rows of ``new`` replace LB variables of the same name (e.g. an LB COHORT)
        *[new[c] for c in new.columns if c in lb.columns],
        PARAMCD=pl.col("LBTESTCD"),
        PARAM=pl.coalesce("LBTEST", "LBTESTCD"),
        PARCAT1=pl.col("LBCAT"),
        AVALU=pl.col("LBSTRESU"),
        ANRLO=pl.col("LBSTNRLO"),
        ANRHI=pl.col("LBSTNRHI"),
        AVISIT=pl.col("VISIT"),
    )
    source = [c for c in lb.columns if c not in derived and not c.startswith("_")]
    return out.select(*source, *[c for c in derived if c in out.columns], "_ROW")
