"""ADSL: one record per subject in DM, none dropped (CDISC ADaMIG v1.3 §3.2).

Derived here: cohort (from the protocol's cohorts and DM ARMCD/ARM), TRTSDT/TRTEDT from EX (a
valid dose is EXDOSE > 0, or EXDOSE = 0 for placebo, as admiral's ``derive_vars_merged_exposure``
templates do), RANDDT / ENRLDT from DS, STARTDT by the protocol's ``start_date``, DTHDT (partial
death dates imputed to the first day of the missing period, flagged in DTHDTF), LSTALVDT (last
date the subject is known alive, from every dated record), end-of-study status from DS, and the
analysis-set flags:

* ITTFL — enrolled (every subject who is not a screen failure);
* SAFFL — at least one dose (TRTSDT present);
* EFFFL — response-evaluable: SAFFL and measurable disease at baseline (MEASFL, from the
  RECIST baseline; RECIST 1.1 §3.1: single-arm trials with ORR primary enrol measurable disease);
* PROFL — SAFFL and a baseline PRO assessment (a questionnaire on/before first dose).
"""

from __future__ import annotations

import polars as pl

from oncotrial.protocol.model import Protocol
from oncotrial.sdtm.dates import dtc_dates, dtc_precision, dtc_to_date
from oncotrial.sdtm.read import SdtmData

SCREEN_FAIL_ARMS = ("SCRNFAIL", "SCREEN FAILURE", "SCREEN FAIL", "NOTASSGN", "NOT ASSIGNED")
DM_KEEP = (
    "STUDYID", "USUBJID", "SUBJID", "SITEID", "COUNTRY", "AGE", "AGEU", "SEX", "RACE",
    "ETHNIC", "ARM", "ARMCD", "ACTARM", "ACTARMCD", "RFICDTC", "RFSTDTC", "RFENDTC", "DTHFL",
)  # fmt: skip


def _date(col: str, impute: str = "none") -> pl.Expr:
    return dtc_to_date(pl.col(col), impute)  # type: ignore[arg-type]


def _first_ds_date(ds: pl.DataFrame | None, decods: tuple[str, ...], name: str) -> pl.DataFrame:
    if ds is None:
        return pl.DataFrame(schema={"USUBJID": pl.String, name: pl.Date})
    dtc = "DSSTDTC" if "DSSTDTC" in ds.columns else "DSDTC"
    return (
        ds.filter(pl.col("DSDECOD").str.to_uppercase().is_in(list(decods)))
        .group_by("USUBJID")
        .agg(_date(dtc).min().alias(name))
    )


def _exposure(ex: pl.DataFrame | None) -> pl.DataFrame:
    empty = pl.DataFrame(schema={"USUBJID": pl.String, "TRTSDT": pl.Date, "TRTEDT": pl.Date})
    if ex is None or ex.height == 0:
        return empty
    valid = pl.lit(True)
    if "EXDOSE" in ex.columns:
        placebo = pl.col("EXTRT").str.to_uppercase().str.contains("PLACEBO")
        valid = (
            pl.col("EXDOSE").is_null()
            | (pl.col("EXDOSE") > 0)
            | ((pl.col("EXDOSE") == 0) & placebo)
        )
    # TRTEDT is the last EXENDTC, as admiral; an open record (no end) does not extend it.
    end = "EXENDTC" if "EXENDTC" in ex.columns else "EXSTDTC"
    # Each distinct date text parsed once (dtc_dates): the same dates as row by row, faster.
    valid_ex = ex.filter(valid)
    return (
        valid_ex.select("USUBJID", _S=dtc_dates(valid_ex, "EXSTDTC"), _E=dtc_dates(valid_ex, end))
        .group_by("USUBJID")
        .agg(pl.col("_S").min().alias("TRTSDT"), pl.col("_E").max().alias("TRTEDT"))
    )


def _subject_dates(frame: pl.DataFrame, dtc: str) -> pl.DataFrame:
    """USUBJID, _FIRST and _LAST: each subject's first and last complete date in the text
    variable ``dtc`` (null for a subject with none). Each distinct text is parsed once and
    looked up, so a domain of millions of records costs one lookup and one group-by."""
    parsed = (
        frame.select(pl.col(dtc).unique())
        .with_columns(_D=dtc_to_date(pl.col(dtc)))
        .filter(pl.col("_D").is_not_null())
    )
    date = pl.col(dtc).replace_strict(parsed[dtc], parsed["_D"], default=None, return_dtype=pl.Date)
    return (
        frame.lazy()
        .select("USUBJID", _D=date)
        .group_by("USUBJID")
        .agg(pl.col("_D").min().alias("_FIRST"), pl.col("_D").max().alias("_LAST"))
        .collect()
    )


def _dated_records(
    sdtm: SdtmData, domains: list[str], qs_dates: pl.DataFrame | None
) -> list[pl.DataFrame]:
    """Each subject's last complete date at which they were seen alive (USUBJID, _LAST), one
    frame per dated variable of the domains present; ``qs_dates`` are QS's (_subject_dates)."""
    sources = {
        "ae": ("AESTDTC", "AEENDTC"),
        "lb": ("LBDTC",),
        "tr": ("TRDTC",),
        "rs": ("RSDTC",),
        "tu": ("TUDTC",),
        "ex": ("EXSTDTC", "EXENDTC"),
        "qs": ("QSDTC",),
        "vs": ("VSDTC",),
        "cm": ("CMSTDTC",),
        "ds": ("DSSTDTC",),
    }
    out = []
    for dom, cols in sources.items():
        if dom == "qs":
            if "qs" in domains and qs_dates is not None:
                out.append(qs_dates.select("USUBJID", "_LAST"))
            continue
        # Only the date variables: a domain streamed in chunks is not read whole for them.
        frame = sdtm.select(dom, "USUBJID", *cols, "DSDECOD") if dom in domains else None
        if frame is None:
            continue
        if dom == "ds":
            frame = frame.filter(pl.col("DSDECOD").str.to_uppercase() != "DEATH")
        for c in cols:
            if c in frame.columns:
                out.append(_subject_dates(frame, c).select("USUBJID", "_LAST"))
    ss = sdtm.get("ss") if "ss" in domains else None
    if ss is not None:
        alive = pl.col("SSSTRESC").str.to_uppercase() == "ALIVE"
        out.append(ss.filter(alive).select("USUBJID", _date("SSDTC").alias("_LAST")))
    return out


def derive_var_cohort(adsl: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """COHORT (protocol cohort id) and COHORTL (label); null for screen failures."""
    sf = pl.col("SCRNFFL") == "Y"
    if not protocol.cohorts:
        return adsl.with_columns(
            COHORT=pl.when(sf).then(None).otherwise(pl.lit("ALL")),
            COHORTL=pl.when(sf).then(None).otherwise(pl.lit(protocol.title)),
        )
    expr_id = pl.lit(None, dtype=pl.String)
    expr_lb = pl.lit(None, dtype=pl.String)
    single_catch_all = len(protocol.cohorts) == 1 and not protocol.cohorts[0].arms
    for c in reversed(protocol.cohorts):
        arms = [a.upper() for a in c.arms]
        hit = (
            ~sf
            if single_catch_all
            else pl.col("ARMCD").str.to_uppercase().is_in(arms)
            | pl.col("ARM").str.to_uppercase().is_in(arms)
        )
        expr_id = pl.when(hit & ~sf).then(pl.lit(c.id)).otherwise(expr_id)
        expr_lb = pl.when(hit & ~sf).then(pl.lit(c.label)).otherwise(expr_lb)
    return adsl.with_columns(COHORT=expr_id, COHORTL=expr_lb)


def derive_adsl(
    sdtm: SdtmData, protocol: Protocol, measurable: pl.DataFrame | None = None
) -> pl.DataFrame:
    """ADSL from DM (+ DS, EX and every dated domain); ``measurable`` gives MEASFL per subject."""
    dm = sdtm["dm"]
    keep = [c for c in DM_KEEP if c in dm.columns]
    adsl = dm.select(
        *keep, "DTHDTC" if "DTHDTC" in dm.columns else pl.lit(None, pl.String).alias("DTHDTC")
    )
    ds = sdtm.get("ds")
    armcd = pl.col("ARMCD").fill_null("").str.to_uppercase()
    sf_ids = (
        ds.filter(pl.col("DSDECOD").str.to_uppercase() == "SCREEN FAILURE")["USUBJID"]
        if ds is not None
        else pl.Series([], dtype=pl.String)
    )
    adsl = adsl.with_columns(
        SCRNFFL=pl.when(
            armcd.is_in(list(SCREEN_FAIL_ARMS)) | pl.col("USUBJID").is_in(sf_ids.implode())
        )
        .then(pl.lit("Y"))
        .otherwise(pl.lit("N"))
    )
    adsl = derive_var_cohort(adsl, protocol)
    adsl = (
        adsl.join(_exposure(sdtm.get("ex")), on="USUBJID", how="left")
        .join(_first_ds_date(ds, ("RANDOMIZED",), "RANDDT"), on="USUBJID", how="left")
        .join(
            _first_ds_date(ds, ("ENROLLED", "ENROLLMENT", "ENROLMENT"), "ENRLDT"),
            on="USUBJID",
            how="left",
        )
    )
    if "RFSTDTC" in adsl.columns:
        # DM's reference start is the fallback first-dose date when EX is absent.
        adsl = adsl.with_columns(TRTSDT=pl.coalesce("TRTSDT", _date("RFSTDTC")))
    start = {"first_dose": "TRTSDT", "enrolment": "ENRLDT", "randomisation": "RANDDT"}[
        protocol.start_date
    ]
    adsl = adsl.with_columns(
        STARTDT=pl.col(start),
        DTHDT=_date("DTHDTC", "first"),
        DTHDTF=pl.when(dtc_precision(pl.col("DTHDTC")) == "month")
        .then(pl.lit("D"))
        .when(dtc_precision(pl.col("DTHDTC")) == "year")
        .then(pl.lit("M")),
    )
    qs = sdtm.select("qs", "USUBJID", "QSDTC")
    qs_dates = _subject_dates(qs, "QSDTC") if qs is not None and "QSDTC" in qs.columns else None
    dated = _dated_records(sdtm, list(protocol.os.last_alive_sources), qs_dates)
    if dated:
        last = pl.concat(dated).group_by("USUBJID").agg(pl.col("_LAST").max())
        adsl = adsl.join(last, on="USUBJID", how="left")
    else:
        adsl = adsl.with_columns(_LAST=pl.lit(None, dtype=pl.Date))
    adsl = adsl.with_columns(LSTALVDT=pl.max_horizontal("_LAST", "TRTEDT")).drop("_LAST")
    adsl = adsl.join(_end_of_study(ds), on="USUBJID", how="left").with_columns(
        EOSSTT=pl.when(pl.col("SCRNFFL") == "Y")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("EOSSTT").fill_null("ONGOING"))
    )
    adsl = adsl.with_columns(MEASFL=pl.lit(None, dtype=pl.String))
    # A baseline questionnaire: the subject's first complete QS date is on/before first dose.
    pro_base = (
        qs_dates.join(adsl.select("USUBJID", "TRTSDT"), on="USUBJID").filter(
            pl.col("_FIRST") <= pl.col("TRTSDT")
        )["USUBJID"]
        if qs_dates is not None
        else pl.Series([], dtype=pl.String)
    )
    adsl = adsl.join(_baseline_disease(sdtm, adsl), on="USUBJID", how="left")
    y = pl.lit("Y")
    n = pl.lit("N")
    adsl = adsl.with_columns(
        AGEGR1=pl.when(pl.col("AGE") < 65)
        .then(pl.lit("<65"))
        .when(pl.col("AGE") >= 65)
        .then(pl.lit(">=65"))
        if "AGE" in adsl.columns
        else pl.lit(None, dtype=pl.String),
        ITTFL=pl.when(pl.col("SCRNFFL") == "N").then(y).otherwise(n),
        SAFFL=pl.when(pl.col("TRTSDT").is_not_null() & (pl.col("SCRNFFL") == "N"))
        .then(y)
        .otherwise(n),
    ).with_columns(
        EFFFL=pl.when((pl.col("SAFFL") == "Y") & (pl.col("MEASFL") == "Y")).then(y).otherwise(n),
        PROFL=pl.when((pl.col("SAFFL") == "Y") & pl.col("USUBJID").is_in(pro_base.implode()))
        .then(y)
        .otherwise(n),
        TRTDURD=(pl.col("TRTEDT") - pl.col("TRTSDT")).dt.total_days() + 1,
    )
    return adsl if measurable is None else derive_var_measfl(adsl, measurable)


def derive_var_measfl(adsl: pl.DataFrame, measurable: pl.DataFrame) -> pl.DataFrame:
    """MEASFL (``measurable``: USUBJID, MEASFL — measurable disease at baseline) and the
    efficacy flag it decides, EFFFL = Y when SAFFL = Y and MEASFL = Y."""
    measfl = adsl.select("USUBJID").join(
        measurable.select("USUBJID", "MEASFL"), on="USUBJID", how="left", maintain_order="left"
    )["MEASFL"]
    y, n = pl.lit("Y"), pl.lit("N")
    return adsl.with_columns(MEASFL=measfl).with_columns(
        EFFFL=pl.when((pl.col("SAFFL") == "Y") & (pl.col("MEASFL") == "Y")).then(y).otherwise(n)
    )


def _baseline_disease(sdtm: SdtmData, adsl: pl.DataFrame) -> pl.DataFrame:
    """Screen-failure reason (SFREAS, DS DSTERM), baseline ECOG (ECOGBL: last RS ECOG101 on or
    before the start date), liver metastases (LIVERMFL: a baseline TU lesion in the liver) and the
    number of distinct baseline lesion sites (NMETSITE)."""
    out = adsl.select("USUBJID", "STARTDT", "SCRNFFL")
    ds = sdtm.get("ds")
    if ds is not None and "DSTERM" in ds.columns:
        reasons = (
            ds.filter(pl.col("DSDECOD").str.to_uppercase() == "SCREEN FAILURE")
            .group_by("USUBJID", maintain_order=True)
            .agg(pl.col("DSTERM").first().alias("SFREAS"))
        )
        out = out.join(reasons, on="USUBJID", how="left")
    rs = sdtm.get("rs")
    if rs is not None and {"RSTESTCD", "RSSTRESC"} <= set(rs.columns):
        dtc = "RSDTC" if "RSDTC" in rs.columns else None
        ecog = rs.filter(pl.col("RSTESTCD").str.to_uppercase().is_in(["ECOG101", "ECOG"])).select(
            "USUBJID", "RSSTRESC", (_date(dtc) if dtc else pl.lit(None, pl.Date)).alias("_D")
        )
        ecog = (
            ecog.join(out.select("USUBJID", "STARTDT"), on="USUBJID")
            .filter(
                pl.col("STARTDT").is_null()
                | pl.col("_D").is_null()
                | (pl.col("_D") <= pl.col("STARTDT"))
            )
            .sort("USUBJID", "_D", nulls_last=False)
            .group_by("USUBJID")
            .agg(pl.col("RSSTRESC").last().alias("ECOGBL"))
        )
        out = out.join(ecog, on="USUBJID", how="left")
    tu = sdtm.get("tu")
    if tu is not None and "TULOC" in tu.columns:
        role = pl.coalesce(*[pl.col(c) for c in ("TUSTRESC", "TUORRES") if c in tu.columns])
        base = tu.filter(role.str.to_uppercase().is_in(["TARGET", "NON-TARGET"]))
        sites = base.group_by("USUBJID").agg(
            pl.col("TULOC").str.to_uppercase().str.contains("LIVER").any().alias("_LIV"),
            pl.col("TULOC").str.to_uppercase().n_unique().alias("NMETSITE"),
        )
        out = (
            out.join(sites, on="USUBJID", how="left")
            .with_columns(
                LIVERMFL=pl.when(pl.col("_LIV"))
                .then(pl.lit("Y"))
                .when(pl.col("_LIV").is_not_null())
                .then(pl.lit("N"))
            )
            .drop("_LIV")
        )
    return out.drop("STARTDT", "SCRNFFL")


def _end_of_study(ds: pl.DataFrame | None) -> pl.DataFrame:
    schema = {"USUBJID": pl.String, "EOSSTT": pl.String, "DCSREAS": pl.String, "EOSDT": pl.Date}
    if ds is None or "DSCAT" not in ds.columns:
        return pl.DataFrame(schema=schema)
    dtc = "DSSTDTC" if "DSSTDTC" in ds.columns else "DSDTC"
    ev = ds.filter(
        (pl.col("DSCAT").str.to_uppercase() == "DISPOSITION EVENT")
        & (pl.col("DSDECOD").str.to_uppercase() != "SCREEN FAILURE")
    )
    return (
        ev.sort("USUBJID", dtc)
        .group_by("USUBJID")
        .agg(pl.col("DSDECOD").last().alias("_D"), _date(dtc).last().alias("EOSDT"))
        .select(
            "USUBJID",
            pl.when(pl.col("_D").str.to_uppercase() == "COMPLETED")
            .then(pl.lit("COMPLETED"))
            .otherwise(pl.lit("DISCONTINUED"))
            .alias("EOSSTT"),
            pl.when(pl.col("_D").str.to_uppercase() != "COMPLETED")
            .then(pl.col("_D"))
            .alias("DCSREAS"),
            "EOSDT",
        )
    )
