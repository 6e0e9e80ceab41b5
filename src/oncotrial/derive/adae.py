"""ADAE: adverse events with analysis dates, treatment emergence and NCI-CTCAE grade.

One record per AE record (CDISC ADaM OCCDS v1.1), none dropped: non-treatment-emergent events
stay with ``TRTEMFL = "N"`` so that tables can count them as excluded. The derivations follow the
pharmaverse admiral ADAE template (``inst/templates/ad_adae.R``):

* ASTDT — AESTDTC; a partial date is imputed to the first day of the missing period (2014-02 →
  2014-02-01, 2014 → 2014-01-01) but not before TRTSDT when TRTSDT lies in that period
  (admiral ``derive_vars_dtm(highest_imputation = "M", min_dates = exprs(TRTSDT))``): an AE
  recorded as "2014-02" for a subject first dosed on 2014-02-10 starts on 2014-02-10.
  A missing AESTDTC stays missing. ASTDTF is "D" (day imputed) or "M" (month and day).
* AENDT — AEENDTC; a partial date goes to the last day of the period, but not after the earlier
  of death (DTHDT) and end of study (EOSDT) when that date lies in the period (``max_dates``).
* TRTEMFL — admiral ``derive_var_trtemfl(end_window = teae_window_days)``: "Y" when ASTDT is on
  or after TRTSDT and on or before TRTEDT + window (TRTEDT missing: no upper limit); an AE
  without a start date is treatment-emergent unless it ended before the first dose (worst case);
  a subject without TRTSDT has no TEAE. Everything else is "N".
* ATOXGR / ATOXGRN — AETOXGR (1-5). With ``safety.map_severity_to_grade`` an AE without AETOXGR
  gets MILD/MODERATE/SEVERE → 1/2/3 and ``ATOXGRF = "AESEV"``; otherwise it stays ungraded.
* AREL — "RELATED" / "NOT RELATED" by :data:`RELATEDNESS` (below); a missing or unassessable
  relationship counts as related (the conservative convention of most SAPs; ``ARELIMFL = "Y"``
  marks it). A value not in the table is an InputError naming the row.
* ACNDISFL / ACNINTFL / ACNREDFL — AEACN is DRUG WITHDRAWN / DRUG INTERRUPTED / DOSE REDUCED.
* FATALFL — AEOUT = FATAL, or grade 5, or AESDTH = Y.
* AOCCIFL / AOCCSFL / AOCCPFL — among TEAEs, the first occurrence of the worst grade per
  subject / per subject and AEBODSYS / per subject and AEDECOD (admiral
  ``derive_var_extreme_flag(order = exprs(desc(grade), ASTDT, AESEQ), mode = "first")``);
  ungraded events rank below grade 1.
* ASEQ — sequence within subject by ASTDT, AESEQ; SRCDOM = "AE", SRCSEQ = AESEQ.

AEBODSYS and AEDECOD are taken as coded in AE (no MedDRA dictionary is shipped).
"""

from __future__ import annotations

import polars as pl

from oncotrial.errors import InputError, Problem
from oncotrial.protocol.model import Protocol
from oncotrial.sdtm.dates import dtc_precision, dtc_to_date

# AEREL (upper case) → analysis relationship. Sources: CDISC SDTMIG AE.AEREL (sponsor terms,
# CDISC pilot uses NONE / REMOTE / POSSIBLE / PROBABLE), WHO-UMC causality categories
# (certain, probable/likely, possible, unlikely, conditional, unassessable).
RELATED = "RELATED"
NOT_RELATED = "NOT RELATED"
RELATEDNESS: dict[str, str] = {
    **dict.fromkeys(
        (
            "RELATED", "Y", "YES", "DEFINITE", "DEFINITELY", "DEFINITELY RELATED", "CERTAIN",
            "PROBABLE", "PROBABLY", "PROBABLY RELATED", "LIKELY", "LIKELY RELATED", "POSSIBLE",
            "POSSIBLY", "POSSIBLY RELATED", "RELATED TO STUDY DRUG", "REASONABLE POSSIBILITY",
        ),
        RELATED,
    ),
    **dict.fromkeys(
        (
            "NOT RELATED", "N", "NO", "NONE", "UNRELATED", "UNLIKELY", "UNLIKELY RELATED",
            "REMOTE", "NOT LIKELY", "DOUBTFUL", "NOT SUSPECTED", "NO REASONABLE POSSIBILITY",
        ),
        NOT_RELATED,
    ),
}  # fmt: skip
UNASSESSED = ("UNKNOWN", "UNK", "UNASSESSABLE", "UNCLASSIFIABLE", "NOT ASSESSABLE", "NOT ASSESSED")
"""AEREL values treated like a missing relationship: counted as related, ARELIMFL = Y."""

SEVERITY_GRADE: dict[str, int] = {"MILD": 1, "MODERATE": 2, "SEVERE": 3}
"""AESEV → CTCAE grade when ``safety.map_severity_to_grade`` (CTCAE v5.0 general definitions:
grade 1 mild, 2 moderate, 3 severe)."""

ACTIONS: dict[str, str] = {
    "ACNDISFL": "DRUG WITHDRAWN",
    "ACNINTFL": "DRUG INTERRUPTED",
    "ACNREDFL": "DOSE REDUCED",
}
"""Flag → AEACN value (CDISC CT codelist ACN, C66767)."""

_OPTIONAL = (
    "STUDYID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AETOXGR", "AESEV", "AESER", "AEREL",
    "AEENDTC", "AEACN", "AEOUT", "AESDTH",
)  # fmt: skip
_ADSL_VARS = ("COHORT", "SAFFL", "TRTSDT", "TRTEDT", "DTHDT", "EOSDT")


def _with_optional(
    frame: pl.DataFrame, names: tuple[str, ...], dtype: pl.DataType | type[pl.DataType]
) -> pl.DataFrame:
    missing = [n for n in names if n not in frame.columns]
    return frame.with_columns(pl.lit(None, dtype=dtype).alias(n) for n in missing)


def _yes(col: str) -> pl.Expr:
    return pl.col(col).str.to_uppercase().is_in(["Y", "YES"]).fill_null(False)


def _flag(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.lit("Y")).otherwise(pl.lit("N"))


def derive_vars_astdt_aendt(adae: pl.DataFrame) -> pl.DataFrame:
    """ASTDT/ASTDTF and AENDT/AENDTF by the admiral ADAE template rules (see module doc).

    Needs AESTDTC, AEENDTC, TRTSDT, DTHDT, EOSDT (dates may be null).
    """
    parts = pl.concat(
        [_dtc_parts(adae, "AESTDTC", "_S"), _dtc_parts(adae, "AEENDTC", "_E")], how="horizontal"
    )
    st_lo, st_hi = pl.col("_SLO"), pl.col("_SHI")
    en_lo, en_hi = pl.col("_ELO"), pl.col("_EHI")
    trtsdt = pl.col("TRTSDT")
    cap = pl.min_horizontal("DTHDT", "EOSDT")
    return (
        pl.concat([adae, parts], how="horizontal")
        .with_columns(
            ASTDT=pl.when(trtsdt.is_between(st_lo, st_hi) & (st_lo != st_hi))
            .then(trtsdt)
            .otherwise(st_lo),
            ASTDTF=pl.col("_SF"),
            AENDT=pl.when(cap.is_between(en_lo, en_hi) & (en_lo != en_hi))
            .then(cap)
            .otherwise(en_hi),
            AENDTF=pl.col("_EF"),
        )
        .drop(parts.columns)
    )


def _dtc_parts(adae: pl.DataFrame, dtc: str, prefix: str) -> pl.DataFrame:
    """Per row of ``adae``: the first (``<prefix>LO``) and last (``<prefix>HI``) day the ISO 8601
    text ``dtc`` can mean, and its imputation flag (``<prefix>F``: D month-only, M year-only).
    Each distinct text is parsed once (AE dates repeat), the result looked up per row."""
    values = adae.select(pl.col(dtc).alias("_DTC"))
    text = pl.col("_DTC")
    parsed = values.unique().with_columns(
        dtc_to_date(text, "first").alias(f"{prefix}LO"),
        dtc_to_date(text, "last").alias(f"{prefix}HI"),
        dtc_precision(text)
        .replace_strict({"month": "D", "year": "M"}, default=None)
        .alias(f"{prefix}F"),
    )
    return values.join(parsed, on="_DTC", how="left", nulls_equal=True, maintain_order="left").drop(
        "_DTC"
    )


def derive_var_trtemfl(adae: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """TRTEMFL "Y"/"N" as admiral ``derive_var_trtemfl(end_window = window_days)``.

    >>> import datetime as dt
    >>> f = pl.DataFrame({"ASTDT": [dt.date(2021, 3, 31), dt.date(2021, 4, 1)],
    ...                   "AENDT": [None, None], "TRTSDT": [dt.date(2021, 1, 1)] * 2,
    ...                   "TRTEDT": [dt.date(2021, 3, 1)] * 2})
    >>> derive_var_trtemfl(f, 30)["TRTEMFL"].to_list()
    ['Y', 'N']
    """
    ast, aen, trts, trte = (pl.col(c) for c in ("ASTDT", "AENDT", "TRTSDT", "TRTEDT"))
    after_window = trte.is_not_null() & (ast > trte + pl.duration(days=window_days))
    emergent = (
        pl.when(trts.is_null())
        .then(False)
        .when(after_window.fill_null(False))
        .then(False)
        .when(ast.is_null())
        .then(aen.is_null() | (aen >= trts))
        .otherwise(ast >= trts)
    )
    return adae.with_columns(TRTEMFL=_flag(emergent))


def derive_vars_atoxgr(adae: pl.DataFrame, map_severity: bool) -> pl.DataFrame:
    """ATOXGR, ATOXGRN and ATOXGRF (see module doc)."""
    given = pl.col("AETOXGR").cast(pl.Int64, strict=False)
    from_sev = (
        pl.col("AESEV")
        .str.to_uppercase()
        .replace_strict(SEVERITY_GRADE, default=None, return_dtype=pl.Int64)
    )
    use_sev = given.is_null() & from_sev.is_not_null() if map_severity else pl.lit(False)
    grade = pl.when(use_sev).then(from_sev).otherwise(given)
    return adae.with_columns(
        ATOXGRN=grade,
        ATOXGR=grade.cast(pl.String),
        ATOXGRF=pl.when(use_sev).then(pl.lit("AESEV")).otherwise(pl.lit(None, pl.String)),
    )


def derive_var_arel(adae: pl.DataFrame, file: str = "ae") -> pl.DataFrame:
    """AREL and ARELIMFL from AEREL by :data:`RELATEDNESS`; unknown terms are an InputError."""
    rel = pl.col("AEREL").str.to_uppercase().str.strip_chars()
    unknown = adae.filter(
        rel.is_not_null() & ~rel.is_in(list(RELATEDNESS)) & ~rel.is_in(list(UNASSESSED))
    )
    if unknown.height:
        accepted = ", ".join(sorted(RELATEDNESS)) + " (or " + ", ".join(UNASSESSED) + ")"
        raise InputError(
            [
                Problem(
                    f"unknown causality term; accepted: {accepted}",
                    file=file,
                    row=row,
                    variable="AEREL",
                    value=value,
                )
                for row, value in unknown.select("_ROW", "AEREL").iter_rows()
            ],
            title="invalid AE relationship",
        )
    mapped = rel.replace_strict(RELATEDNESS, default=None, return_dtype=pl.String)
    return adae.with_columns(
        AREL=mapped.fill_null(pl.lit(RELATED)),
        ARELIMFL=_flag(mapped.is_null()),
    )


def _first_of_worst(adae: pl.DataFrame, by: list[str], name: str) -> pl.DataFrame:
    """Flag "Y" on the first TEAE of the worst grade within ``by`` (admiral AOCCxFL)."""
    first = (
        adae.select(*by, "ATOXGRN", "ASTDT", "_SEQN", "_I", "TRTEMFL")
        .filter(pl.col("TRTEMFL") == "Y")
        .sort(
            [*by, "ATOXGRN", "ASTDT", "_SEQN", "_I"],
            descending=[False] * len(by) + [True, False, False, False],
            nulls_last=True,
        )
        .unique(subset=by, keep="first", maintain_order=True)["_I"]
    )
    return adae.with_columns(
        pl.when(pl.col("_I").is_in(first.implode()))
        .then(pl.lit("Y"))
        .otherwise(pl.lit(None, pl.String))
        .alias(name)
    )


def derive_adae(
    ae: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol, *, file: str = "ae"
) -> pl.DataFrame:
    """ADAE from SDTM AE and ADSL (see the module docstring for every rule).

    ``ae`` is the text frame from :func:`oncotrial.sdtm.read.read_sdtm` (with ``_ROW``);
    ``file`` names the AE file in error messages. Every AE record is kept.
    """
    safety = protocol.safety
    frame = _with_optional(ae, _OPTIONAL, pl.String)
    if "AESTDTC" not in frame.columns:
        frame = frame.with_columns(
            AESTDTC=pl.col("AEDTC") if "AEDTC" in frame.columns else pl.lit(None, pl.String)
        )
    if "_ROW" not in frame.columns:
        frame = frame.with_row_index("_ROW", offset=1).with_columns(pl.col("_ROW").cast(pl.Int64))
    adsl_vars = adsl.select(
        "USUBJID",
        *[
            pl.col(c)
            if c in adsl.columns
            else pl.lit(None, pl.Date if "DT" in c else pl.String).alias(c)
            for c in _ADSL_VARS
        ],
        *([pl.col("STUDYID").alias("_STUDYID")] if "STUDYID" in adsl.columns else []),
    )
    frame = frame.drop([c for c in _ADSL_VARS if c in frame.columns]).join(
        adsl_vars, on="USUBJID", how="left", maintain_order="left"
    )
    if "_STUDYID" in frame.columns:
        frame = frame.with_columns(STUDYID=pl.coalesce("STUDYID", "_STUDYID")).drop("_STUDYID")
    frame = frame.with_row_index("_I").with_columns(
        _SEQN=pl.col("AESEQ").cast(pl.Float64, strict=False)
    )
    frame = derive_vars_astdt_aendt(frame)
    frame = derive_var_trtemfl(frame, safety.teae_window_days)
    frame = derive_vars_atoxgr(frame, safety.map_severity_to_grade)
    frame = derive_var_arel(frame, file)
    acn = pl.col("AEACN").str.to_uppercase().str.strip_chars()
    days = (pl.col("ASTDT") - pl.col("TRTSDT")).dt.total_days()
    frame = frame.with_columns(
        *[_flag(acn == value).alias(name) for name, value in ACTIONS.items()],
        AESER=pl.col("AESER").str.to_uppercase(),
        FATALFL=_flag(
            (pl.col("AEOUT").str.to_uppercase() == "FATAL").fill_null(False)
            | (pl.col("ATOXGRN") == 5).fill_null(False)
            | _yes("AESDTH")
        ),
        ASTDY=pl.when(days >= 0).then(days + 1).otherwise(days),
        SRCDOM=pl.lit("AE"),
        SRCSEQ=pl.col("_SEQN").cast(pl.Int64, strict=False),
    )
    frame = _first_of_worst(frame, ["USUBJID"], "AOCCIFL")
    frame = _first_of_worst(frame, ["USUBJID", "AEBODSYS"], "AOCCSFL")
    frame = _first_of_worst(frame, ["USUBJID", "AEDECOD"], "AOCCPFL")
    frame = frame.sort(
        ["USUBJID", "ASTDT", "_SEQN", "_I"], nulls_last=True, maintain_order=True
    ).with_columns(ASEQ=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("USUBJID"))
    derived = [
        "COHORT", "SAFFL", "TRTSDT", "TRTEDT", "ASTDT", "ASTDTF", "AENDT", "AENDTF", "ASTDY",
        "TRTEMFL", "ATOXGR", "ATOXGRN", "ATOXGRF", "AREL", "ARELIMFL", *ACTIONS, "FATALFL",
        "AOCCIFL", "AOCCSFL", "AOCCPFL", "ASEQ", "SRCDOM", "SRCSEQ",
    ]  # fmt: skip
    source = [c for c in frame.columns if c not in derived and not c.startswith("_")]
    source = [c for c in source if c not in ("DTHDT", "EOSDT")]
    return frame.sort("USUBJID", "ASEQ").select(*source, *derived, "_ROW")
