"""TU and TR as the RECIST engine reads them: one lesion table and one row per lesion and assessment.

* Lesions come from TU identification records (``TUSTRESC``, else ``TUORRES``: TARGET, NON-TARGET,
  NEW; ``TULOC``): a lesion whose location is one of the protocol's ``node_locations`` is a lymph
  node and is measured by its short axis (RECIST 1.1 §3.1: nodes by short axis, every other lesion
  by its longest diameter). TR lesions with no TU record take their role from ``TRGRPID``.
* An assessment is one visit of one reader: TR records (and TU NEW identifications) sharing
  ``VISITNUM`` (else ``VISIT``, else the date of ``--DTC``). Its date is the latest scan date of
  the visit; partial dates are imputed by the protocol's ``date_imputation``.
* A lesion's value at an assessment, in mm: the numeric result of the test chosen by location
  (LDIAM / DIAMETER for non-nodal lesions, LPERP / SAXIS for nodes; ``TRSTRESN``, else the numeric
  text of ``TRSTRESC`` / ``TRORRES``; cm are converted). A recorded number is used as is, even
  below 5 mm; "too small to measure" without a number is the protocol's ``too_small_mm``
  (RECIST 1.1 Appendix II); a lesion recorded ABSENT (TUMSTATE, or as the diameter's result)
  measures 0 mm; "not evaluable" or no record means the lesion was not assessed.
* Several records for one lesion, test and assessment (conflicts that ``read_sdtm`` reports as
  errors) are resolved by the largest value, the conservative reading.
"""

from __future__ import annotations

import polars as pl

from oncotrial.errors import InputError, Problem
from oncotrial.protocol.model import ResponseSettings
from oncotrial.rules.recist.readers import READER, ReaderMode, select_reader
from oncotrial.rules.recist.tables import TUMSTATE_RANK
from oncotrial.rules.recist.terms import (
    CODE_NE,
    CODE_TSTM,
    NE_MM,
    RANK_TO_STATE,
    ROLES,
    STATE_ABSENT,
    STATE_PD,
    akey,
    date_code,
    date_lookup,
    kind_code,
    mapped,
    require,
    role_code,
    term_code,
    unit_factor,
    upper,
    visit,
    visitnum,
)

SUBJECT_KEYS = ["USUBJID", READER]
ASSESSMENT_KEYS = ["USUBJID", READER, "AKEY"]
LESION_KEYS = ["USUBJID", READER, "TRLNKID"]


def lesion_table(
    tu: pl.DataFrame, settings: ResponseSettings, readers: ReaderMode
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(lesions, new identifications) from TU.

    ``lesions``: one row per USUBJID, READER, TRLNKID with ROLE (the first TU record's), ROLES
    (every role TU gives the lesion), TULOC, NODE, TUACPT (TUACPTFL=Y), TUEVAL, TUEVALID.
    ``new``: TU NEW records (AKEY, VISIT, VISITNUM, NEWDT, TULOC).
    """
    require(tu, "TU", ("USUBJID", "TULNKID"), (("TUSTRESC", "TUORRES"),))
    tu_r = _readers(tu, "TU", settings, readers)
    if "_ROW" not in tu_r.columns:
        tu_r = tu_r.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    if "TUTESTCD" in tu_r.columns:
        tu_r = tu_r.filter(
            mapped(tu_r, "TUTESTCD", lambda v: upper(v) or "TUMIDENT", pl.String()) == "TUMIDENT"
        )
    role = pl.coalesce(
        mapped(tu_r, "TUSTRESC", upper, pl.String()),
        mapped(tu_r, "TUORRES", upper, pl.String()),
    )
    nodes = [s.strip().upper() for s in settings.node_locations]
    base = tu_r.lazy().select(
        "USUBJID",
        READER,
        "TUEVAL",
        "TUEVALID",
        pl.col("TULNKID").cast(pl.String).alias("TRLNKID"),
        role.alias("ROLE"),
        mapped(tu_r, "TULOC", upper, pl.String()).alias("TULOC"),
        mapped(tu_r, "TUACPTFL", lambda v: upper(v) == "Y", pl.Boolean()).alias("TUACPT"),
        akey(tu_r, "TUDTC").alias("AKEY"),
        visit(tu_r),
        visitnum(tu_r),
        (
            pl.col("TUDTC").cast(pl.String) if "TUDTC" in tu_r.columns else pl.lit(None, pl.String)
        ).alias("TUDTC"),
        "_ROW",
    )
    if "TUDTC" in tu_r.columns:
        base = base.join(
            date_lookup(tu_r, "TUDTC", settings.date_imputation),
            on="TUDTC",
            how="left",
            nulls_equal=True,
        ).rename({"DT": "NEWDT"})
    else:
        base = base.with_columns(pl.lit(None, dtype=pl.Date).alias("NEWDT"))
    base_df = base.sort("_ROW").collect()
    lesions = (
        base_df.group_by(LESION_KEYS, maintain_order=True)
        .agg(
            pl.col("ROLE").first(),
            pl.col("TULOC").drop_nulls().first(),
            pl.col("TUACPT").any(),
            pl.col("TUEVAL").first(),
            pl.col("TUEVALID").first(),
            pl.col("_ROW").first().alias("TUROW"),
            pl.col("ROLE").drop_nulls().unique(maintain_order=True).alias("ROLES"),
        )
        .with_columns(pl.col("TULOC").is_in(nodes).fill_null(False).alias("NODE"))
    )
    new = base_df.filter(pl.col("ROLE") == "NEW").select(
        *ASSESSMENT_KEYS, "TRLNKID", "VISIT", "VISITNUM", "NEWDT", "TULOC"
    )
    return lesions, new


def _readers(
    frame: pl.DataFrame, prefix: str, settings: ResponseSettings, readers: ReaderMode
) -> pl.DataFrame:
    """Every reader (``all``) or every reader of the protocol's evaluator, READER naming the
    actual reader; which reader is accepted is resolved later, per assessment."""
    out = select_reader(frame, prefix, settings, mode="all")
    if readers != "all":
        out = out.filter(pl.col(f"{prefix}EVAL") == settings.evaluator.strip().upper())
        if settings.evaluator_id:
            out = out.filter(pl.col(f"{prefix}EVALID") == settings.evaluator_id.strip().upper())
    return out


def measurements(
    tr: pl.DataFrame, settings: ResponseSettings, readers: ReaderMode
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(measurements, readers, visits) from TR.

    ``measurements``: one row per USUBJID, READER, AKEY, TRLNKID with the longest diameter (LD)
    and short axis (SA) in mm (-1: recorded as not evaluable), the TUMSTATE rank (RANK) and state
    (ST: 0 absent, 1 present, 2 unequivocal progression), DT (latest scan date), VISITC (visit
    name code), GRP (TRGRPID role code), TRACPT (TRACPTFL = Y). ``readers``: READER,
    RSEVAL, RSEVALID. ``visits``: VISITC, VISIT.

    Only a handful of aggregations run over the millions of TR rows; text is interpreted once per
    distinct value (see ``mapped``).
    """
    require(
        tr,
        "TR",
        ("USUBJID", "TRLNKID", "TRTESTCD"),
        (("TRSTRESN", "TRSTRESC", "TRORRES"), ("TRDTC", "VISIT", "VISITNUM")),
    )
    ev = mapped(tr, "TREVAL", lambda v: upper(v) or "INVESTIGATOR", pl.String())
    evid = mapped(tr, "TREVALID", upper, pl.String())
    keep = pl.lit(True)
    if readers != "all":
        keep = ev == settings.evaluator.strip().upper()
        if settings.evaluator_id:
            keep = keep & (evid == settings.evaluator_id.strip().upper())
    wanted = pl.lit(True)
    if readers != "all":
        wanted = pl.col("RSEVAL") == settings.evaluator.strip().upper()
        if settings.evaluator_id:
            wanted = wanted & (pl.col("RSEVALID") == settings.evaluator_id.strip().upper())
    present = [c for c in ("TREVAL", "TREVALID") if c in tr.columns]
    raw = tr.lazy().filter(keep).select(present).unique().collect() if present else None
    if raw is None:
        raw = pl.DataFrame({"_": [0]}) if tr.height else pl.DataFrame({"_": []})
    reader_map = (
        raw.with_columns(ev.alias("RSEVAL"), evid.alias("RSEVALID"))
        .select("RSEVAL", "RSEVALID")
        .unique()
        .with_columns(
            pl.when(pl.col("RSEVALID").is_null())
            .then(pl.col("RSEVAL"))
            .otherwise(pl.col("RSEVAL") + "/" + pl.col("RSEVALID"))
            .alias(READER)
        )
        .filter(wanted)
        .sort(READER)
    )
    if reader_map.height == 0:
        found = ", ".join(sorted({str(v) for v in tr.select(ev).to_series().unique().to_list()}))
        raise InputError(
            Problem(
                f"TR has no records of the protocol's evaluator {settings.evaluator!r}"
                + (f" / {settings.evaluator_id!r}" if settings.evaluator_id else "")
                + f"; evaluators found: {found or 'none'}",
                file="TR",
                variable="TREVAL",
            ),
            title="TR cannot be used for RECIST",
        )
    reader = (
        pl.lit(reader_map[READER][0], dtype=pl.String)
        if reader_map.height == 1
        else pl.when(evid.is_null()).then(ev).otherwise(ev + "/" + evid)
    )
    visits = (
        tr.select(visit(tr))
        .to_series()
        .unique()
        .drop_nulls()
        .sort()
        .to_frame()
        .with_row_index("VISITC")
    )
    visit_code = (
        pl.col("VISIT")
        .cast(pl.String)
        .replace_strict(
            dict(zip(visits["VISIT"].to_list(), visits["VISITC"].to_list(), strict=True)),
            default=None,
            return_dtype=pl.UInt32,
        )
        if "VISIT" in tr.columns
        else pl.lit(None, dtype=pl.UInt32)
    )
    kind = mapped(tr, "TRTESTCD", kind_code, pl.Int8())
    num = {
        c: pl.col(c).cast(pl.Float64, strict=False)
        for c in ("TRSTRESC", "TRORRES")
        if c in tr.columns
    }
    none = pl.lit(None, dtype=pl.Float64)
    stresn = pl.col("TRSTRESN").cast(pl.Float64, strict=False) if "TRSTRESN" in tr.columns else none
    value = pl.coalesce(
        pl.coalesce(stresn, num.get("TRSTRESC", none))
        * mapped(tr, "TRSTRESU", unit_factor, pl.Float64()),
        num.get("TRORRES", none) * mapped(tr, "TRORRESU", unit_factor, pl.Float64()),
    )
    codes = [mapped(tr, c, term_code, pl.Int8(), where=num[c].is_null()) for c in num]
    # The number, the term code and the test kind are computed once per row (columns _V, _CODE,
    # _KIND) and referred to below, not repeated inside every expression that uses them.
    stage = {
        "_V": value,
        "_CODE": pl.coalesce(codes) if codes else pl.lit(None, dtype=pl.Int8),
        "_KIND": kind,
    }
    code, kind = pl.col("_CODE"), pl.col("_KIND")
    value = (
        pl.when(pl.col("_V").is_not_null())
        .then(pl.col("_V"))
        .when(code == CODE_TSTM)
        .then(pl.lit(settings.too_small_mm))
    )
    rank = pl.when(code <= 3).then(code)
    measured = (
        pl.when(value.is_not_null())
        .then(value)
        .when(code == CODE_NE)
        .then(NE_MM)
        .when(code == TUMSTATE_RANK["ABSENT"])
        .then(0.0)
    )
    several = reader_map.height > 1
    optional = {
        "GRP": ("TRGRPID" in tr.columns, mapped(tr, "TRGRPID", role_code, pl.Int8()), "min"),
        "TRACPT": (
            several and "TRACPTFL" in tr.columns,
            mapped(tr, "TRACPTFL", lambda v: upper(v) == "Y", pl.Boolean()),
            "any",
        ),
        "VISITC": ("VISIT" in tr.columns, visit_code, "min"),
    }
    extra = {name: expr for name, (use, expr, _) in optional.items() if use}
    keys = [*ASSESSMENT_KEYS, "TRLNKID"] if several else ["USUBJID", "AKEY", "TRLNKID"]
    lf = (
        tr.lazy()
        .filter(keep)
        .select(
            pl.col("USUBJID").cast(pl.String),
            *([reader.alias(READER)] if several else []),
            pl.col("TRLNKID").cast(pl.String),
            akey(tr, "TRDTC").alias("AKEY"),
            date_code(tr, settings).alias("DT"),
            *(expr.alias(name) for name, expr in extra.items()),
            **stage,
        )
        .with_columns(_M=measured)
        .with_columns(
            pl.when(kind == 0).then(pl.col("_M")).alias("LD"),
            pl.when(kind == 1).then(pl.col("_M")).alias("SA"),
            pl.when(kind == 2).then(rank).alias("RANK"),
        )
    )
    aggs = [getattr(pl.col(name), optional[name][2])() for name in extra]
    meas = (
        lf.group_by(keys)
        .agg(
            pl.col("DT").max(), pl.col("LD").max(), pl.col("SA").max(), pl.col("RANK").max(), *aggs
        )
        .collect()
    )
    missing = {
        READER: pl.lit(reader_map[READER][0], dtype=pl.String),
        "GRP": pl.lit(None, dtype=pl.Int8),
        "TRACPT": pl.lit(False),
        "VISITC": pl.lit(None, dtype=pl.UInt32),
    }
    meas = meas.with_columns(
        pl.col("DT").cast(pl.Date),
        pl.col("RANK")
        .replace_strict(RANK_TO_STATE, default=None, return_dtype=pl.Int8)
        .alias("ST"),
        *(expr.alias(name) for name, expr in missing.items() if name not in meas.columns),
    )
    return meas, reader_map.select(READER, "RSEVAL", "RSEVALID"), visits


def lesion_assessments(
    meas: pl.DataFrame, lesions: pl.DataFrame, settings: ResponseSettings
) -> tuple[pl.DataFrame, int]:
    """Measurements with each lesion's ROLE, TULOC and NODE, its value VAL (mm) at the
    assessment and its state: EVAL (assessed), PD (unequivocal progression), RESOLVED (absent,
    0 mm, or a node measured below ``node_pathological_min_mm``), PRESENT (assessed, not resolved).

    Returns the frame and the number of lesion-assessments whose lesion has no TU record and no
    usable TRGRPID (they are not used; the caller reports them).
    """
    lf = meas.lazy().join(
        lesions.lazy().select(*LESION_KEYS, "ROLE", "TULOC", "NODE"), on=LESION_KEYS, how="left"
    )
    node = pl.col("NODE").fill_null(False)
    chosen = pl.when(node).then(pl.col("SA")).otherwise(pl.col("LD"))
    chosen_ne = (chosen == NE_MM).fill_null(False)
    absent = (pl.col("ST") == STATE_ABSENT).fill_null(False)
    value = (
        pl.when(chosen_ne)
        .then(pl.lit(None, dtype=pl.Float64))
        .when(chosen.is_not_null())
        .then(chosen)
        .when(absent)
        .then(0.0)
    )
    lf = lf.with_columns(
        pl.coalesce(
            pl.col("ROLE"),
            pl.col("GRP").replace_strict(
                dict(enumerate(ROLES)), default=None, return_dtype=pl.String
            ),
        ).alias("ROLE"),
        node.alias("NODE"),
        value.alias("VAL"),
    )
    pd = (pl.col("ST") == STATE_PD).fill_null(False)
    evaluated = pl.col("ST").is_not_null() | pl.col("VAL").is_not_null()
    small_node = (
        pl.col("NODE") & (pl.col("SA") >= 0) & (pl.col("SA") < settings.node_pathological_min_mm)
    ).fill_null(False)
    gone = (~pl.col("NODE") & (pl.col("VAL") == 0)).fill_null(False)
    resolved = (absent | small_node | gone) & ~pd
    out = lf.with_columns(
        evaluated.alias("EVAL"),
        pd.alias("PD"),
        resolved.alias("RESOLVED"),
        (evaluated & ~resolved).alias("PRESENT"),
    ).collect()
    unknown = out["ROLE"].null_count()
    return (out.filter(pl.col("ROLE").is_not_null()) if unknown else out), unknown
