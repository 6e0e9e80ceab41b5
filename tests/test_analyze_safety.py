"""Safety numbers: subjects counted once per term at the worst grade, TEAEs only, per cohort.

Safety set: S1, S2 in cohort A; S3 in cohort B; S4 in cohort A but never dosed (SAFFL N).
So N(A) = 2, N(B) = 1, N(ALL) = 3.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from oncotrial.analyze.safety import compute_safety_summary
from oncotrial.derive.adae import derive_adae
from oncotrial.derive.adlb import derive_adlb
from oncotrial.protocol import parse_protocol

D = dt.date
PROTOCOL = parse_protocol(
    {"id": "T", "title": "t",
     "cohorts": [{"id": "A", "label": "Cohort A"}, {"id": "B", "label": "Cohort B"}]}
)  # fmt: skip

ADSL = pl.DataFrame(
    {
        "USUBJID": ["S1", "S2", "S3", "S4"],
        "STUDYID": ["T"] * 4,
        "COHORT": ["A", "A", "B", "A"],
        "SAFFL": ["Y", "Y", "Y", "N"],
        "TRTSDT": [D(2021, 3, 1)] * 3 + [None],
        "TRTEDT": [D(2021, 5, 1)] * 3 + [None],
    }
)


def ae(rows: list[tuple]) -> pl.DataFrame:
    """rows: (USUBJID, AEDECOD, AEBODSYS, AETOXGR, AESTDTC[, extra columns as dict])."""
    cols = ["USUBJID", "AEDECOD", "AEBODSYS", "AETOXGR", "AESTDTC", "AESER", "AEREL", "AEACN",
            "AEOUT"]  # fmt: skip
    records = []
    for r in rows:
        extra = r[5] if len(r) > 5 else {}
        records.append({**dict(zip(cols[:5], r[:5], strict=True)), **extra})
    data = {c: [rec.get(c) for rec in records] for c in cols}
    return pl.DataFrame(data, schema=dict.fromkeys(cols, pl.String)).with_columns(
        AESEQ=pl.int_range(1, len(rows) + 1).cast(pl.String),
        _ROW=pl.int_range(1, len(rows) + 1, dtype=pl.Int64),
    )


def summary(rows: list[tuple], adlb: pl.DataFrame | None = None):
    adae = derive_adae(ae(rows), ADSL, PROTOCOL)
    return compute_safety_summary(adae, adlb, ADSL, PROTOCOL)


def pt(result, cohort: str, term: str) -> dict:
    table = result.tables["teae_soc_pt"]
    (row,) = table.filter((pl.col("COHORT") == cohort) & (pl.col("AEDECOD") == term)).to_dicts()
    return row


def test_subject_with_the_same_term_twice_counts_once_at_its_worst_grade() -> None:
    result = summary([
        ("S1", "NAUSEA", "GI", "1", "2021-03-05"),
        ("S1", "NAUSEA", "GI", "3", "2021-03-20"),
        ("S2", "NAUSEA", "GI", "2", "2021-03-07"),
    ])  # fmt: skip
    row = pt(result, "ALL", "NAUSEA")
    grades = [row[f"N_G{g}"] for g in "12345"]
    assert (row["N"], row["N_ANY"], grades, row["N_G3PLUS"]) == (3, 2, [0, 1, 1, 0, 0], 1)
    assert row["PCT_ANY"] == pytest.approx(200 / 3)
    assert row["PCT_G3PLUS"] == pytest.approx(100 / 3)
    in_a = pt(result, "A", "NAUSEA")
    assert (in_a["N"], in_a["N_ANY"], in_a["PCT_ANY"]) == (2, 2, 100.0)


def test_soc_row_counts_each_subject_once_at_the_worst_grade_of_any_term_in_it() -> None:
    result = summary([
        ("S1", "NAUSEA", "GI", "1", "2021-03-05"),
        ("S1", "DIARRHOEA", "GI", "2", "2021-03-06"),
        ("S3", "RASH", "SKIN", None, "2021-03-06"),
    ])  # fmt: skip
    table = result.tables["teae_soc_pt"].filter(pl.col("COHORT") == "ALL")
    soc = table.filter(pl.col("LEVEL") == "SOC").select("AEBODSYS", "N_ANY", "N_G2", "N_GMISS")
    assert soc.rows() == [("GI", 1, 1, 0), ("SKIN", 1, 0, 1)]
    overall = table.filter(pl.col("LEVEL") == "ANY").select("N_ANY", "N_G2", "N_GMISS").rows()
    assert overall == [(2, 1, 1)]
    assert table["LEVEL"].to_list() == ["ANY", "SOC", "PT", "PT", "SOC", "PT"]


def test_non_treatment_emergent_events_are_excluded_and_counted() -> None:
    result = summary([
        ("S1", "NAUSEA", "GI", "2", "2021-02-20"),  # before first dose
        ("S2", "NAUSEA", "GI", "2", "2021-06-01"),  # TRTEDT + 31
        ("S2", "FATIGUE", "GENERAL", "1", "2021-05-31"),  # TRTEDT + 30: TEAE
        ("S4", "FATIGUE", "GENERAL", "3", "2021-03-05"),  # not in the safety set
    ])  # fmt: skip
    table = result.tables["teae_soc_pt"].filter(pl.col("COHORT") == "ALL")
    assert table.filter(pl.col("LEVEL") == "PT")["AEDECOD"].to_list() == ["FATIGUE"]
    excluded = result.to_dict()["cohorts"]["ALL"]["excluded"]
    assert excluded["teae_records"] == 1
    assert (excluded["non_teae_records"], excluded["non_teae_subjects"]) == (2, 2)
    assert excluded["outside_saffl_records"] == 1
    assert result.to_dict()["cohorts"]["A"]["excluded"]["non_teae_records"] == 2


def test_overview_counts_subjects_per_category_as_percent_of_the_safety_set() -> None:
    result = summary([
        ("S1", "NAUSEA", "GI", "3", "2021-03-05", {"AEREL": "PROBABLE", "AESER": "Y"}),
        ("S1", "NAUSEA", "GI", "1", "2021-03-25", {"AEREL": "NONE"}),
        ("S2", "RASH", "SKIN", "2", "2021-03-05",
         {"AEREL": "POSSIBLE", "AEACN": "DRUG WITHDRAWN"}),
        ("S3", "SEPSIS", "INFECTIONS", "5", "2021-04-05", {"AEREL": "REMOTE", "AESER": "Y"}),
    ])  # fmt: skip
    over = result.to_dict()["cohorts"]["ALL"]["overview"]
    counts = {k: (v["n"], v["events"]) for k, v in over.items()}
    assert counts == {
        "any": (3, 4), "related": (2, 2), "grade3plus": (2, 2), "related_grade3plus": (1, 1),
        "serious": (2, 2), "related_serious": (1, 1), "discontinuation": (1, 1),
        "interruption": (0, 0), "reduction": (0, 0), "fatal": (1, 1),
    }  # fmt: skip
    assert over["grade3plus"]["pct"] == pytest.approx(200 / 3)
    by_cohort = result.tables["ae_overview"].filter(pl.col("CATEGORY") == "fatal")
    assert by_cohort.select("COHORT", "N", "n").rows() == [("A", 2, 0), ("B", 1, 1), ("ALL", 3, 1)]


def test_lab_shift_from_baseline_grade_to_worst_on_treatment_grade() -> None:
    # PLAT, LLN 150 (CTCAE v5.0): 160 → 0, 120 → 1, 140 → 1, 70 → 2, 45 → 3
    values = [
        ("S1", "2021-02-27", 160.0), ("S1", "2021-03-15", 70.0), ("S1", "2021-04-01", 45.0),
        ("S2", "2021-02-27", 120.0), ("S2", "2021-03-15", 140.0),
        ("S3", "2021-02-27", 160.0),
    ]  # fmt: skip
    lb = pl.DataFrame(
        {"USUBJID": [v[0] for v in values], "LBTESTCD": ["PLAT"] * 6,
         "LBSTRESN": [v[2] for v in values], "LBSTRESU": ["10^9/L"] * 6,
         "LBSTNRLO": [150.0] * 6, "LBSTNRHI": [400.0] * 6, "LBDTC": [v[1] for v in values]}
    ).with_columns(_ROW=pl.int_range(1, 7, dtype=pl.Int64))  # fmt: skip
    adlb = derive_adlb(lb, ADSL, PROTOCOL)
    result = summary([("S1", "NAUSEA", "GI", "1", "2021-03-05")], adlb)
    shift = result.tables["lab_shift"].filter(pl.col("COHORT") == "ALL")
    assert shift["DIRECTION"].unique().to_list() == ["LOW"]  # platelets are never graded high
    assert shift.select("BTOXGR", "WTOXGR", "n", "N_PARAM").rows() == [
        ("0", "3", 1, 3),
        ("0", "MISSING", 1, 3),
        ("1", "1", 1, 3),
    ]
    in_b = result.tables["lab_shift"].filter(pl.col("COHORT") == "B")
    assert in_b.select("BTOXGR", "WTOXGR", "n").rows() == [("0", "MISSING", 1)]


def test_summary_is_json_ready_with_every_cohort_and_the_pool() -> None:
    result = summary([("S1", "NAUSEA", "GI", "1", "2021-03-05")])
    data = json.loads(json.dumps(result.to_dict()))
    assert list(data["cohorts"]) == ["A", "B", "ALL"]
    assert data["ctcae_version"] == "5.0"
    assert data["teae_window_days"] == 30
    assert data["cohorts"]["B"]["N"] == 1
    assert "ALL: 1/3 with a TEAE" in repr(result)


def test_pooled_aggregation_counts_each_record_once_per_cohort_and_once_under_all() -> None:
    """Records of cohort A (2), B (1) and of no cohort (1): A = 2, B = 1, ALL = 4; the record of
    no cohort is counted only in ALL, as in the pooled copy of :func:`with_pooled`."""
    from oncotrial.analyze.safety import by_cohort_and_pooled, with_pooled

    records = pl.DataFrame({"COHORT": ["A", "A", "B", None], "K": ["x", "x", "x", "x"]})
    aggs = [pl.len().alias("n")]
    direct = by_cohort_and_pooled(records, ["K"], aggs).sort("COHORT")
    assert direct.select("COHORT", "K", "n").rows() == [("A", "x", 2), ("ALL", "x", 4),
                                                        ("B", "x", 1)]  # fmt: skip
    copied = with_pooled(records).group_by("COHORT", "K").agg(aggs).sort("COHORT")
    assert direct.select(copied.columns).equals(copied)


def test_pooled_means_and_sds_are_the_same_bits_on_every_run() -> None:
    """A parallel group-by that meets a group's records in a different order each run sums
    them in that order: means and SDs then differ in the last digits from run to run (a
    million EORTC-like scores were enough to show it). The aggregation runs on polars'
    in-memory engine, which for the same input always sums in the same order."""
    import numpy as np

    from oncotrial.analyze.safety import by_cohort_and_pooled

    rng = np.random.default_rng(5)
    n = 1_000_000
    records = pl.DataFrame({
        "COHORT": rng.choice(["A", "B"], n),
        "PARAMCD": rng.choice(["QL2", "PF2", "FA"], n),
        "AVAL": rng.integers(0, 13, n) * 100 / 12,
    })  # fmt: skip
    aggs = [pl.col("AVAL").mean().alias("MEAN"), pl.col("AVAL").std().alias("SD")]
    runs = [
        by_cohort_and_pooled(records.lazy(), ["PARAMCD"], aggs).sort("COHORT", "PARAMCD")
        for _ in range(5)
    ]
    assert runs[0].height == 9
    for run in runs[1:]:
        assert run.equals(runs[0])
