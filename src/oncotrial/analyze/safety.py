"""Safety numbers: AE overview, TEAEs by SOC/PT and worst NCI-CTCAE grade, lab shift tables.

Population: the safety set (ADSL SAFFL = "Y"), per cohort and pooled (``ALL``). Conventions
(ICH E3 §12.2; the Roche/NEST catalogue tables AET01, AET02/AET03, LBT04/LBT14):

* a subject is counted once per category / term, at the worst grade of that term
  (``ATOXGRN``; a term never graded counts under "grade missing");
* only treatment-emergent events (TRTEMFL = "Y") are counted; non-TEAEs and events of subjects
  outside the safety set are reported as excluded, with records and subjects;
* percentages are of the safety-set size N of the cohort;
* lab shifts: per test and direction (low / high), baseline grade (BTOXGRL/H) against the worst
  on-treatment grade (ONTRTFL = "Y"), among safety-set subjects with a record of the test;
  "MISSING" where no grade is available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from oncotrial.protocol.model import Protocol

ALL = "ALL"
GRADES = ("1", "2", "3", "4", "5")
OVERVIEW: tuple[tuple[str, str, pl.Expr], ...] = (
    ("any", "Any TEAE", pl.col("USUBJID").is_not_null()),
    ("related", "Treatment-related TEAE", pl.col("AREL") == "RELATED"),
    ("grade3plus", "TEAE of grade >= 3", pl.col("ATOXGRN") >= 3),
    ("related_grade3plus", "Treatment-related TEAE of grade >= 3",
     (pl.col("AREL") == "RELATED") & (pl.col("ATOXGRN") >= 3)),
    ("serious", "Serious TEAE", pl.col("AESER") == "Y"),
    ("related_serious", "Treatment-related serious TEAE",
     (pl.col("AREL") == "RELATED") & (pl.col("AESER") == "Y")),
    ("discontinuation", "TEAE leading to treatment discontinuation", pl.col("ACNDISFL") == "Y"),
    ("interruption", "TEAE leading to treatment interruption", pl.col("ACNINTFL") == "Y"),
    ("reduction", "TEAE leading to dose reduction", pl.col("ACNREDFL") == "Y"),
    ("fatal", "Fatal TEAE", pl.col("FATALFL") == "Y"),
)  # fmt: skip
"""AE overview rows: key, label, record condition (on TEAEs)."""
AE_USED = (
    "USUBJID", "TRTEMFL", "AEBODSYS", "AEDECOD", "ATOXGRN", "ATOXGRF", "AREL", "ARELIMFL",
    "AESER", "ACNDISFL", "ACNINTFL", "ACNREDFL", "FATALFL",
)  # fmt: skip
"""The ADAE variables the safety numbers read (those present)."""


def cohort_order(pop: pl.DataFrame, protocol: Protocol) -> list[str]:
    """Every protocol cohort, then other cohorts present in ``pop`` (sorted), then ALL once."""
    present = [c for c in pop["COHORT"].drop_nulls().unique().to_list() if c != ALL]
    ordered = list(protocol.cohort_ids)
    ordered += sorted(c for c in present if c not in ordered)
    return [*ordered, ALL]


def with_pooled(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of each cohort plus a copy of every row with COHORT = ALL."""
    own = frame.filter(pl.col("COHORT").is_not_null() & (pl.col("COHORT") != ALL))
    return pl.concat([own, frame.with_columns(COHORT=pl.lit(ALL))], how="vertical_relaxed")


def subjects(adsl: pl.DataFrame, flag: str) -> pl.DataFrame:
    """USUBJID and COHORT of the subjects with ``flag`` = Y (not pooled)."""
    return adsl.filter(pl.col(flag) == "Y").select("USUBJID", pl.col("COHORT").cast(pl.String))


def population(adsl: pl.DataFrame, flag: str) -> pl.DataFrame:
    """USUBJID and COHORT of the subjects with ``flag`` = Y, each also once under ALL."""
    return with_pooled(subjects(adsl, flag))


def _sizes(pop: pl.DataFrame, cohorts: list[str]) -> pl.DataFrame:
    n = pop.group_by("COHORT").agg(pl.len().cast(pl.Int64).alias("N"))
    return (
        pl.DataFrame({"COHORT": cohorts}, schema={"COHORT": pl.String})
        .join(n, on="COHORT", how="left")
        .with_columns(pl.col("N").fill_null(0))
        .with_row_index("_CORD")
    )


def _pct(n: str, total: str = "N") -> pl.Expr:
    return pl.when(pl.col(total) > 0).then(pl.col(n) * 100.0 / pl.col(total))


def _overview(teae: pl.DataFrame, sizes: pl.DataFrame) -> pl.DataFrame:
    parts = []
    for order, (key, label, cond) in enumerate(OVERVIEW):
        hit = teae.filter(cond.fill_null(False))
        counts = hit.group_by("COHORT").agg(
            pl.col("USUBJID").n_unique().cast(pl.Int64).alias("n"),
            pl.len().cast(pl.Int64).alias("EVENTS"),
        )
        parts.append(
            sizes.join(counts, on="COHORT", how="left").with_columns(
                CATEGORY=pl.lit(key), LABEL=pl.lit(label), _ORD=pl.lit(order)
            )
        )
    return (
        pl.concat(parts)
        .with_columns(pl.col("n", "EVENTS").fill_null(0))
        .with_columns(PCT=_pct("n"))
        .sort("_CORD", "_ORD")
        .select("COHORT", "CATEGORY", "LABEL", "N", "n", "PCT", "EVENTS")
    )


def _worst_counts(teae: pl.DataFrame, sizes: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    per_subject = teae.group_by("COHORT", *keys, "USUBJID").agg(pl.col("ATOXGRN").max())
    grade = pl.col("ATOXGRN")
    return (
        per_subject.group_by("COHORT", *keys)
        .agg(
            pl.len().cast(pl.Int64).alias("N_ANY"),
            *[(grade == int(g)).sum().cast(pl.Int64).alias(f"N_G{g}") for g in GRADES],
            grade.is_null().sum().cast(pl.Int64).alias("N_GMISS"),
            (grade >= 3).sum().cast(pl.Int64).alias("N_G3PLUS"),
        )
        .join(sizes, on="COHORT")
    )


def _soc_pt(teae: pl.DataFrame, sizes: pl.DataFrame) -> pl.DataFrame:
    frame = teae.with_columns(
        pl.col("AEBODSYS").fill_null("UNCODED"), pl.col("AEDECOD").fill_null("UNCODED")
    )
    any_row = _worst_counts(frame.with_columns(_X=pl.lit(ALL)), sizes, ["_X"]).with_columns(
        LEVEL=pl.lit("ANY"),
        AEBODSYS=pl.lit(None, pl.String),
        AEDECOD=pl.lit(None, pl.String),
    )
    soc = _worst_counts(frame, sizes, ["AEBODSYS"]).with_columns(
        LEVEL=pl.lit("SOC"), AEDECOD=pl.lit(None, pl.String)
    )
    pt = _worst_counts(frame, sizes, ["AEBODSYS", "AEDECOD"]).with_columns(LEVEL=pl.lit("PT"))
    cols = [
        "COHORT", "LEVEL", "AEBODSYS", "AEDECOD", "N", "N_ANY", "PCT_ANY",
        *[f"N_G{g}" for g in GRADES], "N_GMISS", "N_G3PLUS", "PCT_G3PLUS",
    ]  # fmt: skip
    rows = pl.concat([any_row.drop("_X"), soc, pt], how="diagonal").with_columns(
        PCT_ANY=_pct("N_ANY"), PCT_G3PLUS=_pct("N_G3PLUS")
    )
    pooled = rows.filter(pl.col("COHORT") == ALL)
    soc_rank = pooled.filter(pl.col("LEVEL") == "SOC").select(
        "AEBODSYS", pl.col("N_ANY").alias("_SOCN")
    )
    pt_rank = pooled.filter(pl.col("LEVEL") == "PT").select(
        "AEBODSYS", "AEDECOD", pl.col("N_ANY").alias("_PTN")
    )
    return (
        rows.join(soc_rank, on="AEBODSYS", how="left")
        .join(pt_rank, on=["AEBODSYS", "AEDECOD"], how="left")
        .with_columns(_LV=pl.col("LEVEL").replace_strict({"ANY": 0, "SOC": 1, "PT": 2}))
        .sort(
            ["_CORD", "_SOCN", "AEBODSYS", "_LV", "_PTN", "AEDECOD"],
            descending=[False, True, False, False, True, False],
            nulls_last=False,
        )
        .select(cols)
    )


ADLB_USED = {
    "USUBJID": pl.String, "PARAMCD": pl.String, "PARAM": pl.String, "ONTRTFL": pl.String,
    "ATOXGRL": pl.Int64, "ATOXGRH": pl.Int64, "BTOXGRL": pl.Int64, "BTOXGRH": pl.Int64,
}  # fmt: skip


def by_cohort_and_pooled(
    records: pl.DataFrame | pl.LazyFrame, keys: list[str], aggs: list[pl.Expr]
) -> pl.DataFrame:
    """``aggs`` per COHORT and ``keys``, and over every record as COHORT = ALL: the numbers of
    :func:`with_pooled` records, without making the pooled copy of every record.

    Run on polars' in-memory engine: the streaming engine meets a group's records in a
    different order from run to run, so floating-point sums (means, SDs) would differ in the
    last digits between two runs on the same data; in memory they are the same bits."""
    own = records.lazy().filter(pl.col("COHORT").is_not_null() & (pl.col("COHORT") != ALL))
    per_cohort = own.group_by("COHORT", *keys).agg(aggs)
    pooled = records.lazy().group_by(keys).agg(aggs).with_columns(COHORT=pl.lit(ALL))
    return pl.concat([per_cohort, pooled], how="diagonal").collect(engine="in-memory")


def _lab_shift(adlb: pl.DataFrame, saf: pl.DataFrame, sizes: pl.DataFrame) -> pl.DataFrame:
    """``saf``: USUBJID and COHORT of the safety set, not pooled."""
    schema = {
        "COHORT": pl.String, "PARAMCD": pl.String, "PARAM": pl.String, "DIRECTION": pl.String,
        "BTOXGR": pl.String, "WTOXGR": pl.String, "n": pl.Int64, "N_PARAM": pl.Int64,
        "PCT": pl.Float64,
    }  # fmt: skip
    on_trt = pl.col("ONTRTFL") == "Y"
    # Plain numeric aggregations per subject and test (no per-group filter, no text aggregated),
    # then the safety set: at 18 million ADLB records the group-by neither copies the records
    # nor leaves its fast path. PARAM, the test's name, is that of the test's first record (_I)
    # in the safety set.
    per_subject = (
        adlb.lazy()
        .select("USUBJID", "PARAMCD", "ONTRTFL", *[f"{v}TOXGR{d}" for v in "AB" for d in "LH"])
        .with_row_index("_I")
        .with_columns(pl.when(on_trt).then(pl.col(f"ATOXGR{d}")).alias(f"_A{d}") for d in "LH")
        .group_by("USUBJID", "PARAMCD")
        .agg(
            pl.col("_I").first(),
            *[pl.col(f"BTOXGR{d}").first(ignore_nulls=True).alias(f"_B{d}") for d in "LH"],
            *[pl.col(f"_A{d}").max().alias(f"_W{d}") for d in "LH"],
            *[(pl.col(f"ATOXGR{d}").count() > 0).alias(f"_G{d}") for d in "LH"],
        )
        .join(saf.lazy(), on="USUBJID")
        .collect()
    )
    first = per_subject.group_by("PARAMCD").agg(pl.col("_I").min())
    names = first.select("PARAMCD", PARAM=adlb["PARAM"].gather(first["_I"]))
    parts = []
    for direction, d in (("LOW", "L"), ("HIGH", "H")):
        graded = per_subject.filter(f"_G{d}")["PARAMCD"].unique().implode()
        cells = per_subject.filter(pl.col("PARAMCD").is_in(graded)).with_columns(
            pl.col(f"_B{d}").cast(pl.String).fill_null("MISSING").alias("BTOXGR"),
            pl.col(f"_W{d}").cast(pl.String).fill_null("MISSING").alias("WTOXGR"),
        )
        parts.append(
            by_cohort_and_pooled(
                cells, ["PARAMCD", "BTOXGR", "WTOXGR"], [pl.len().cast(pl.Int64).alias("n")]
            ).with_columns(
                DIRECTION=pl.lit(direction),
                N_PARAM=pl.col("n").sum().over("COHORT", "PARAMCD"),
            )
        )
    return (
        pl.concat(parts, how="diagonal")
        .join(names, on="PARAMCD", how="left")
        .join(sizes.select("COHORT", "_CORD"), on="COHORT")
        .with_columns(PCT=_pct("n", "N_PARAM"))
        .sort("_CORD", "PARAMCD", "DIRECTION", "BTOXGR", "WTOXGR")
        .select(list(schema))
    )


def _exclusions(adae: pl.DataFrame, adsl: pl.DataFrame, sizes: pl.DataFrame) -> pl.DataFrame:
    """Per cohort: AE records counted, and those left out of the TEAE tables (and why)."""
    cohort = adsl.select("USUBJID", pl.col("COHORT").cast(pl.String), "SAFFL")
    used = [c for c in AE_USED if c in adae.columns and c not in ("COHORT", "SAFFL")]
    ae = with_pooled(adae.select(used).join(cohort, on="USUBJID"))
    saf = pl.col("SAFFL") == "Y"
    teae = saf & (pl.col("TRTEMFL") == "Y")
    non = saf & (pl.col("TRTEMFL") != "Y")

    def n_rec(cond: pl.Expr) -> pl.Expr:
        return cond.fill_null(False).sum().cast(pl.Int64)

    def n_subj(cond: pl.Expr) -> pl.Expr:
        return pl.col("USUBJID").filter(cond.fill_null(False)).n_unique().cast(pl.Int64)

    counts = ae.group_by("COHORT").agg(
        n_rec(teae).alias("TEAE_RECORDS"),
        n_rec(non).alias("NON_TEAE_RECORDS"),
        n_subj(non).alias("NON_TEAE_SUBJECTS"),
        n_rec(~saf).alias("OUTSIDE_SAFFL_RECORDS"),
        n_subj(~saf).alias("OUTSIDE_SAFFL_SUBJECTS"),
        n_rec(teae & pl.col("ATOXGRN").is_null()).alias("TEAE_UNGRADED_RECORDS"),
        n_rec(teae & (pl.col("ATOXGRF") == "AESEV")).alias("TEAE_GRADE_FROM_AESEV_RECORDS"),
        n_rec(teae & (pl.col("ARELIMFL") == "Y")).alias("TEAE_REL_MISSING_RECORDS"),
    )
    return (
        sizes.join(counts, on="COHORT", how="left")
        .sort("_CORD")
        .drop("_CORD", "N")
        .with_columns(pl.exclude("COHORT").fill_null(0))
    )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.drop("COHORT").to_dicts()


@dataclass(frozen=True)
class SafetySummary:
    """Safety numbers per cohort and pooled: ``tables`` (frames for CSV) and ``to_dict()``."""

    cohorts: tuple[str, ...]
    ctcae_version: str
    teae_window_days: int
    tables: dict[str, pl.DataFrame] = field(repr=False)

    def __repr__(self) -> str:
        over = self.tables["ae_overview"].filter(pl.col("CATEGORY") == "any")
        n = {c: (s, k) for c, s, k in over.select("COHORT", "N", "n").iter_rows()}
        shown = ", ".join(f"{c}: {k}/{s} with a TEAE" for c, (s, k) in n.items())
        return f"SafetySummary(CTCAE v{self.ctcae_version}; {shown})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, exclusions and, per cohort, N, overview, SOC/PT, lab shifts."""
        out: dict[str, Any] = {}
        for cohort in self.cohorts:
            pick = {k: t.filter(pl.col("COHORT") == cohort) for k, t in self.tables.items()}
            over = pick["ae_overview"]
            out[cohort] = {
                "N": int(over["N"][0]) if over.height else 0,
                "overview": {
                    r["CATEGORY"]: {
                        "label": r["LABEL"],
                        "n": r["n"],
                        "pct": r["PCT"],
                        "events": r["EVENTS"],
                    }
                    for r in over.to_dicts()
                },
                "teae_by_soc_pt": _rows(pick["teae_soc_pt"].drop("N")),
                "lab_shift": _rows(pick["lab_shift"]),
                "excluded": {k.lower(): v for k, v in _rows(pick["ae_exclusions"])[0].items()},
            }
        return {
            "population": "SAFFL",
            "ctcae_version": self.ctcae_version,
            "teae_window_days": self.teae_window_days,
            "cohorts": out,
        }


def compute_safety_summary(
    adae: pl.DataFrame, adlb: pl.DataFrame | None, adsl: pl.DataFrame, protocol: Protocol
) -> SafetySummary:
    """Safety numbers from ADAE, ADLB (None when there is no LB) and ADSL (module doc)."""
    saf = subjects(adsl, "SAFFL")
    pop = with_pooled(saf)
    cohorts = cohort_order(pop, protocol)
    sizes = _sizes(pop, cohorts)
    teae = (
        adae.select([c for c in AE_USED if c in adae.columns])
        .filter(pl.col("TRTEMFL") == "Y")
        .join(pop, on="USUBJID")
    )
    lab = _lab_shift(adlb if adlb is not None else pl.DataFrame(schema=ADLB_USED), saf, sizes)
    tables = {
        "ae_overview": _overview(teae, sizes),
        "teae_soc_pt": _soc_pt(teae, sizes),
        "lab_shift": lab,
        "ae_exclusions": _exclusions(adae, adsl, sizes),
    }
    return SafetySummary(
        cohorts=tuple(cohorts),
        ctcae_version=protocol.safety.ctcae_version,
        teae_window_days=protocol.safety.teae_window_days,
        tables=tables,
    )
