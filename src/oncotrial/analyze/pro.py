"""Quality-of-life numbers (EORTC QLQ-C30 / QLQ-OES18): compliance, scores, change, responders.

Per cohort and pooled (``ALL``), per instrument, scale and visit (baseline = ADQS ABLFL records;
later visits = AVISIT of post-baseline records, ADY >= 2):

* compliance (EORTC / NCIC approach, Fayers et al. EORTC Scoring Manual 2001; domain reference
  §2.5): questionnaires received / expected. Received: the subject returned a questionnaire at
  that visit with at least one scorable scale (QCOMPLFL = Y). Expected: safety-set subjects still
  on study at the visit's nominal day (the median ADY of the questionnaires of that visit),
  i.e. whose end of follow-up — the earlier of death (DTHDT) and end of study (EOSDT), else the
  last date known alive (LSTALVDT) — is on or after TRTSDT + nominal day - 1; a subject who
  returned the questionnaire is always expected. At baseline every safety-set subject is.
* mean score (AVAL) and mean change from baseline (CHG) with SD and a t-based confidence
  interval (mean ± t(1 - alpha/2, n - 1) · SD / √n, level ``analysis.conf_level``), in the PRO
  population (ADSL PROFL = Y), one record per subject and visit (ADQS ANL01FL);
* improved / stable / deteriorated at each visit: a change of at least
  ``pro.deterioration_threshold`` points in the better / worse direction (functional, global and
  summary scales: higher is better; symptom and OES18 scales: higher is worse; Osoba et al.,
  JCO 1998;16:139-144), else stable; denominator: subjects with a change at that visit.

The QLQ-OES18 dysphagia direction used by the scoring is stated in the output
(:data:`oncotrial.rules.qlq.OES18_DYSPHAGIA_DIRECTION`). Post-baseline questionnaires without a
VISIT cannot be placed in a visit; they are counted (``post_baseline_forms_without_visit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from oncotrial.analyze.safety import (
    ALL,
    by_cohort_and_pooled,
    cohort_order,
    population,
    subjects,
)
from oncotrial.derive.adqs import OES18, PARAMS
from oncotrial.protocol.model import Protocol
from oncotrial.rules.qlq import OES18_DYSPHAGIA_DIRECTION

EPS = 1e-9
BASELINE = "BASELINE"
_HIGHER_IS_BETTER = ("functional", "global", "summary")


def _date(adsl: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in adsl.columns else pl.lit(None, pl.Date).alias(name)


def _visits(adqs: pl.LazyFrame) -> pl.DataFrame:
    """Post-baseline visits per instrument with their order (VISORD >= 1) and nominal day."""
    post = adqs.select("PARCAT1", "AVISIT", "AVISITN", "ADY").filter(
        (pl.col("ADY") >= 2) & pl.col("AVISIT").is_not_null()
    )
    return (
        post.group_by("PARCAT1", "AVISIT")
        .agg(
            pl.col("AVISITN").min().alias("_VN"),
            pl.col("ADY").median().round(0).cast(pl.Int64).alias("NOMDAY"),
        )
        .sort("PARCAT1", "_VN", "NOMDAY", "AVISIT", nulls_last=True)
        .with_columns(VISORD=pl.int_range(1, pl.len() + 1).over("PARCAT1").cast(pl.Int64))
        .drop("_VN")
        .collect()
    )


def _compliance(
    adqs: pl.LazyFrame, adsl: pl.DataFrame, saf: pl.DataFrame, visits: pl.DataFrame
) -> pl.DataFrame:
    """Forms expected and received per cohort (and ALL), instrument and visit; ``saf``: the
    safety-set subjects with their COHORT, not pooled."""
    instruments = adqs.select("PARCAT1").unique().collect()
    end = pl.coalesce(pl.min_horizontal("DTHDT", "EOSDT"), pl.col("LSTALVDT"))
    ref = pl.coalesce(_date(adsl, "TRTSDT"), _date(adsl, "STARTDT"))
    follow = adsl.select(
        "USUBJID",
        ref.alias("_REF"),
        *[_date(adsl, c) for c in ("DTHDT", "EOSDT", "LSTALVDT")],
    ).select("USUBJID", "_REF", end.alias("_END"))
    forms = adqs.select("USUBJID", "PARCAT1", "AVISIT", "ADY", "QCOMPLFL", "ABLFL")
    received_bl = (
        (forms.filter(pl.col("ABLFL") == "Y").select("USUBJID", "PARCAT1").unique())
        .with_columns(_GOT=pl.lit(True))
        .collect()
    )
    baseline = (
        saf.join(instruments, how="cross")
        .join(received_bl, on=["USUBJID", "PARCAT1"], how="left")
        .with_columns(
            AVISIT=pl.lit(BASELINE),
            VISORD=pl.lit(0, pl.Int64),
            NOMDAY=pl.lit(None, pl.Int64),
            _EXP=pl.lit(True),
            _GOT=pl.col("_GOT").fill_null(False),
        )
    )
    # Later visits: a subject is expected when on study at the visit's nominal day or when
    # the form was received. Counted without pairing every subject with every visit's forms:
    # the subjects on study (subjects x visits) plus the received forms of subjects not on
    # study (received forms x their subject and visit).
    received = (
        forms.filter((pl.col("ADY") >= 2) & (pl.col("QCOMPLFL") == "Y"))
        .select("USUBJID", "PARCAT1", "AVISIT")
        .unique()
        .collect()
    )
    subjects_follow = saf.join(follow, on="USUBJID", how="left")
    on_study = (
        pl.col("_END") >= pl.col("_REF") + pl.duration(days=pl.col("NOMDAY") - 1)
    ).fill_null(False)
    keys = ["PARCAT1", "AVISIT", "VISORD", "NOMDAY"]
    expected = by_cohort_and_pooled(
        subjects_follow.join(visits, how="cross"),
        keys,
        [on_study.sum().cast(pl.Int64).alias("_ON")],
    )
    got = by_cohort_and_pooled(
        received.join(subjects_follow, on="USUBJID").join(visits, on=["PARCAT1", "AVISIT"]),
        keys,
        [
            pl.len().cast(pl.Int64).alias("N_RECEIVED"),
            (~on_study).sum().cast(pl.Int64).alias("_OFF"),
        ],
    )
    later = (
        expected.join(got, on=["COHORT", *keys], how="left", nulls_equal=True)
        .with_columns(pl.col("N_RECEIVED", "_OFF").fill_null(0))
        .with_columns(N_EXPECTED=pl.col("_ON") + pl.col("_OFF"))
    )
    cols = ["COHORT", "PARCAT1", "AVISIT", "VISORD", "NOMDAY", "_EXP", "_GOT"]
    first = by_cohort_and_pooled(
        baseline.select(cols),
        keys,
        [
            pl.col("_EXP").sum().cast(pl.Int64).alias("N_EXPECTED"),
            (pl.col("_GOT") & pl.col("_EXP")).sum().cast(pl.Int64).alias("N_RECEIVED"),
        ],
    )
    return pl.concat([first, later.select(first.columns)], how="vertical_relaxed").with_columns(
        PCT=pl.when(pl.col("N_EXPECTED") > 0).then(
            pl.col("N_RECEIVED") * 100.0 / pl.col("N_EXPECTED")
        )
    )


def _t_ci(frame: pl.DataFrame, var: str, conf_level: float) -> pl.DataFrame:
    n = frame[f"N_{var}"].to_numpy().astype(float)
    df = np.where(n > 1, n - 1, np.nan)
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf((1 + conf_level) / 2, df)
    half = pl.Series(q, dtype=pl.Float64).fill_nan(None) * frame[f"SD_{var}"] / np.sqrt(n)
    return frame.with_columns(
        (pl.col(f"MEAN_{var}") - half).alias(f"LCL_{var}"),
        (pl.col(f"MEAN_{var}") + half).alias(f"UCL_{var}"),
    )


def _analysis_records(
    adqs: pl.LazyFrame, pro_subjects: pl.DataFrame, visits: pl.DataFrame
) -> pl.LazyFrame:
    """Baseline and analysis-flagged records of the PRO population with the subject's COHORT
    and the visit's order (VISORD; 0 at baseline), once each: the pooled ``ALL`` numbers are
    aggregated from the same records (:func:`oncotrial.analyze.safety.by_cohort_and_pooled`),
    so the 10 million ADQS records of 100,000 subjects are never copied per cohort."""
    used = adqs.select("USUBJID", "PARCAT1", "PARAMCD", "AVISIT", "AVAL", "CHG", "ABLFL",
                       "ANL01FL")  # fmt: skip
    base = used.filter(pl.col("ABLFL") == "Y").with_columns(
        VISORD=pl.lit(0, pl.Int64), CHG=pl.lit(None, pl.Float64)
    )
    post = used.filter(pl.col("ANL01FL") == "Y").join(
        visits.lazy().select("PARCAT1", "AVISIT", "VISORD"), on=["PARCAT1", "AVISIT"]
    )
    cols = ["USUBJID", "PARCAT1", "PARAMCD", "VISORD", "AVAL", "CHG"]
    return (
        pl.concat([base.select(cols), post.select(cols)])
        .join(pro_subjects.lazy(), on="USUBJID")
        .drop("USUBJID")
    )


def _aggregates(records: pl.LazyFrame, visits: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """One pass over the records per cohort, scale and visit: n, mean and SD of AVAL and CHG,
    and the number of changes at or above ``threshold`` (_HIGH), at or below ``-threshold``
    (_LOW) and both (_BOTH; possible only for a threshold of about 0). The visit is grouped by
    its order VISORD; its name AVISIT (BASELINE at VISORD 0) is put back on the result."""
    aggs = []
    for var in ("AVAL", "CHG"):
        c = pl.col(var)
        aggs += [
            c.count().cast(pl.Int64).alias(f"N_{var}"),
            c.mean().alias(f"MEAN_{var}"),
            c.std(ddof=1).alias(f"SD_{var}"),
        ]
    high = pl.col("CHG") >= threshold - EPS
    low = pl.col("CHG") <= -threshold + EPS
    aggs += [
        high.sum().cast(pl.Int64).alias("_HIGH"),
        low.sum().cast(pl.Int64).alias("_LOW"),
        (high & low).sum().cast(pl.Int64).alias("_BOTH"),
    ]
    frame = by_cohort_and_pooled(records, ["PARCAT1", "PARAMCD", "VISORD"], aggs)
    return frame.join(
        visits.select("PARCAT1", "VISORD", "AVISIT"), on=["PARCAT1", "VISORD"], how="left"
    ).with_columns(
        AVISIT=pl.when(pl.col("VISORD") == 0).then(pl.lit(BASELINE)).otherwise(pl.col("AVISIT"))
    )


def _scores(frame: pl.DataFrame, conf_level: float) -> pl.DataFrame:
    for var in ("AVAL", "CHG"):
        frame = _t_ci(frame, var, conf_level)
    return frame


def _responders(frame: pl.DataFrame) -> pl.DataFrame:
    """Improved / stable / deteriorated counts among the changes from baseline (N = N_CHG). The
    direction of a scale is the same for all its records, so the changes are counted above
    the threshold and below its negative and the scale's direction (PARAMS PARAMTYP) then says
    which count is improvement."""
    better = pl.col("PARAMTYP").is_in(_HIGHER_IS_BETTER)
    return (
        frame.filter(pl.col("N_CHG") > 0)
        .join(PARAMS.select("PARCAT1", "PARAMCD", "PARAMTYP"), on=["PARCAT1", "PARAMCD"])
        .with_columns(
            N=pl.col("N_CHG"),
            N_IMPROVED=pl.when(better).then(pl.col("_HIGH")).otherwise(pl.col("_LOW")),
            N_DETERIORATED=pl.when(better).then(pl.col("_LOW")).otherwise(pl.col("_HIGH")),
            N_STABLE=pl.col("N_CHG") - pl.col("_HIGH") - pl.col("_LOW") + pl.col("_BOTH"),
        )
        .with_columns(
            (pl.col(f"N_{k}") * 100.0 / pl.col("N")).alias(f"PCT_{k}")
            for k in ("IMPROVED", "STABLE", "DETERIORATED")
        )
    )


def _order(frame: pl.DataFrame, cohorts: list[str], extra: list[str]) -> pl.DataFrame:
    rank = pl.DataFrame({"COHORT": cohorts}).with_row_index("_C")
    frame = frame.join(rank, on="COHORT")
    if "PARAMCD" in frame.columns:
        frame = frame.join(
            PARAMS.select("PARCAT1", "PARAMCD", "PARAM", "_PORD"), on=["PARCAT1", "PARAMCD"]
        )
        return frame.sort("_C", "PARCAT1", "_PORD", "VISORD").select(extra)
    return frame.sort("_C", "PARCAT1", "VISORD").select(extra)


@dataclass(frozen=True)
class ProSummary:
    """QoL numbers per cohort and pooled: ``tables`` (frames for CSV) and ``to_dict()``."""

    cohorts: tuple[str, ...]
    instruments: tuple[str, ...]
    threshold: float
    conf_level: float
    forms_without_visit: int
    tables: dict[str, pl.DataFrame] = field(repr=False)

    def __repr__(self) -> str:
        base = self.tables["compliance"].filter(
            (pl.col("COHORT") == ALL) & (pl.col("AVISIT") == BASELINE)
        )
        shown = ", ".join(f"{i}: {r}/{e} at baseline" for i, r, e in
                          base.select("PARCAT1", "N_RECEIVED", "N_EXPECTED").iter_rows())  # fmt: skip
        return f"ProSummary({shown or 'no questionnaires'}; threshold {self.threshold:g})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, the OES18 direction note and, per cohort, the three tables."""
        out: dict[str, Any] = {}
        for cohort in self.cohorts:
            out[cohort] = {
                name: table.filter(pl.col("COHORT") == cohort).drop("COHORT").to_dicts()
                for name, table in self.tables.items()
            }
        return {
            "population": "PROFL",
            "compliance_population": "SAFFL",
            "instruments": list(self.instruments),
            "deterioration_threshold": self.threshold,
            "conf_level": self.conf_level,
            "post_baseline_forms_without_visit": self.forms_without_visit,
            "oes18_dysphagia_direction": (
                OES18_DYSPHAGIA_DIRECTION if OES18 in self.instruments else None
            ),
            "cohorts": out,
        }


def compute_pro_summary(adqs: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol) -> ProSummary:
    """QoL compliance, scores and responder proportions from ADQS and ADSL (module doc)."""
    threshold = protocol.pro.deterioration_threshold
    conf = protocol.analysis.conf_level
    saf = population(adsl, "SAFFL")
    if "PROFL" in adsl.columns:
        pro_subjects = subjects(adsl, "PROFL")
    else:
        with_bl = adqs.filter(pl.col("ABLFL") == "Y")["USUBJID"].unique().implode()
        pro_subjects = subjects(adsl, "SAFFL").filter(pl.col("USUBJID").is_in(with_bl))
    cohorts = cohort_order(saf, protocol)
    lazy = adqs.lazy()
    visits = _visits(lazy)
    numbers = _aggregates(_analysis_records(lazy, pro_subjects, visits), visits, threshold)
    compliance = _compliance(lazy, adsl, subjects(adsl, "SAFFL"), visits)
    scores = _scores(numbers, conf)
    responders = _responders(numbers)
    tables = {
        "compliance": _order(
            compliance, cohorts,
            ["COHORT", "PARCAT1", "AVISIT", "VISORD", "NOMDAY", "N_EXPECTED", "N_RECEIVED", "PCT"],
        ),
        "scores": _order(
            scores, cohorts,
            ["COHORT", "PARCAT1", "PARAMCD", "PARAM", "AVISIT", "VISORD",
             *[f"{s}_{v}" for v in ("AVAL", "CHG") for s in ("N", "MEAN", "SD", "LCL", "UCL")]],
        ),
        "responders": _order(
            responders, cohorts,
            ["COHORT", "PARCAT1", "PARAMCD", "PARAM", "AVISIT", "VISORD", "N",
             *[f"{s}_{k}" for k in ("IMPROVED", "STABLE", "DETERIORATED") for s in ("N", "PCT")]],
        ),
    }  # fmt: skip
    instruments = tuple(sorted(adqs["PARCAT1"].unique().to_list()))
    no_visit = adqs.filter((pl.col("ADY") >= 2) & pl.col("AVISIT").is_null())
    n_no_visit = no_visit.select("USUBJID", "PARCAT1", "ADT").unique().height
    return ProSummary(tuple(cohorts), instruments, threshold, conf, n_no_visit, tables)
