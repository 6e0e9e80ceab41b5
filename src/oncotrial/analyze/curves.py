"""The data behind the report's efficacy figures: Kaplan-Meier curves, TTD medians, best % change.

* :func:`compute_km_curves` — the full Kaplan-Meier table (R ``summary(survfit(...),
  censored = TRUE)``: one row per distinct time, ``n_risk``, ``n_event``, ``n_censor``, ``surv``,
  Greenwood ``std_err``, pointwise ``ci_low`` / ``ci_high``) of PFS, OS, DoR and TTP for every
  cohort and the pool (``ALL``), with the protocol's ``analysis.km_conf_type`` and
  ``analysis.conf_level``; times in days (ADTTE AVAL, as the figures expect). The
  populations are those of :mod:`oncotrial.analyze.efficacy` (PFS / OS / TTP:
  ``analysis.tte_analysis_set``; DoR: responders of ``analysis.response_analysis_set``), so the
  curves and the medians of ``results.json`` come from the same records.
* :func:`compute_ttd_summary` — median time to deterioration of every QLQ scale (ADTTE
  ``TTD_<scale>``, :mod:`oncotrial.derive.ttd`) with its Brookmeyer-Crowley interval, in the
  time-to-event analysis set (a subject without a baseline questionnaire is censored at day 1 by
  the derivation, so the set is not narrowed to PROFL).
* :func:`compute_waterfall` — the best (smallest) post-baseline % change of the target-lesion
  sum per subject of the response analysis set (:func:`oncotrial.derive.adtr.compute_best_pchg`,
  the protocol's reader), with the best overall response that colours the bar (ADRS CBOR when
  ``response.confirmation``, else BOR).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from oncotrial.analyze.results import cohort_frames
from oncotrial.derive.adtr import compute_best_pchg
from oncotrial.protocol.model import Protocol
from oncotrial.rules.recist.readers import READER, protocol_reader
from oncotrial.stats import kaplan_meier

KM_PARAMS = ("PFS", "OS", "DOR", "TTP")
KM_SCHEMA = {
    "PARAMCD": pl.String, "COHORT": pl.String, "time": pl.Float64, "n_risk": pl.Int64,
    "n_event": pl.Int64, "n_censor": pl.Int64, "surv": pl.Float64, "std_err": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "std_err_surv": pl.Float64,
}  # fmt: skip
TTD_SCHEMA = {
    "COHORT": pl.String, "PARAMCD": pl.String, "PARAM": pl.String, "PARCAT1": pl.String,
    "N": pl.Int64, "EVENTS": pl.Int64, "CENSORED": pl.Int64, "MEDIAN": pl.Float64,
    "MEDIAN_CI_LOW": pl.Float64, "MEDIAN_CI_HIGH": pl.Float64, "CONF_TYPE": pl.String,
    "UNIT": pl.String,
}  # fmt: skip
WATERFALL_SCHEMA = {
    "COHORT": pl.String, "USUBJID": pl.String, "BPCHG": pl.Float64, "AVISIT": pl.String,
    "ADT": pl.Date, "BOR": pl.String,
}  # fmt: skip


def _population(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    return frame.filter(pl.col(flag) == "Y").select("USUBJID")


def _records(
    adtte: pl.DataFrame, paramcd: str, cohort: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame:
    """ADTTE records of ``paramcd`` of the analysis population within one cohort's ADSL rows."""
    a = protocol.analysis
    flag = a.response_analysis_set if paramcd == "DOR" else a.tte_analysis_set
    return adtte.filter(pl.col("PARAMCD") == paramcd).join(
        _population(cohort, flag), on="USUBJID", how="semi"
    )


def _fit(records: pl.DataFrame, protocol: Protocol, unit_days: float = 1.0) -> Any:
    a = protocol.analysis
    return kaplan_meier(
        (records["AVAL"] / unit_days).to_numpy(),
        (records["CNSR"] == 0).to_numpy(),
        a.conf_level,
        a.km_conf_type,
    )


def compute_km_curves(
    adtte: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol
) -> dict[str, pl.DataFrame]:
    """PARAMCD (PFS, OS, DOR, TTP; those present) -> Kaplan-Meier tables of every cohort and ALL.

    Each frame has PARAMCD, COHORT and the columns of :attr:`oncotrial.stats.KaplanMeier.table`
    (time in days, AVAL). A cohort without records has no rows.

    >>> import datetime as dt
    >>> from oncotrial.protocol import parse_protocol
    >>> p = parse_protocol({"id": "S", "title": "t", "cohorts": [{"id": "A", "label": "A"}]})
    >>> adsl = pl.DataFrame({"USUBJID": ["1", "2"], "COHORT": ["A", "A"], "ITTFL": ["Y", "Y"]})
    >>> adtte = pl.DataFrame({"USUBJID": ["1", "2"], "PARAMCD": ["OS", "OS"],
    ...                       "AVAL": [30.0, 60.0], "CNSR": [0, 1]})
    >>> compute_km_curves(adtte, adsl, p)["OS"].select("COHORT", "time", "surv").rows()
    [('A', 30.0, 0.5), ('A', 60.0, 0.5), ('ALL', 30.0, 0.5), ('ALL', 60.0, 0.5)]
    """
    present = set(adtte["PARAMCD"].unique().to_list())
    out: dict[str, pl.DataFrame] = {}
    for paramcd in (p for p in KM_PARAMS if p in present):
        parts = [pl.DataFrame(schema=KM_SCHEMA)]
        for cohort, frame in cohort_frames(adsl, protocol).items():
            records = _records(adtte, paramcd, frame, protocol)
            if records.height == 0:
                continue
            parts.append(
                _fit(records, protocol)
                .table.with_columns(PARAMCD=pl.lit(paramcd), COHORT=pl.lit(cohort))
                .select(list(KM_SCHEMA))
            )
        out[paramcd] = pl.concat(parts, how="vertical_relaxed")
    return out


def compute_ttd_summary(
    adtte: pl.DataFrame, adsl: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame:
    """Median time to deterioration (months) per cohort, ALL and ``TTD_<scale>`` parameter."""
    a = protocol.analysis
    ttd = adtte.filter(pl.col("PARAMCD").str.starts_with("TTD_"))
    for col in ("PARAM", "PARCAT1"):
        if col not in ttd.columns:
            ttd = ttd.with_columns(pl.lit(None, pl.String).alias(col))
    params = ttd.group_by("PARAMCD", maintain_order=True).agg(
        pl.col("PARAM").first(), pl.col("PARCAT1").first()
    )
    rows: list[dict[str, Any]] = []
    for cohort, frame in cohort_frames(adsl, protocol).items():
        members = ttd.select("USUBJID", "PARAMCD", "AVAL", "CNSR").join(
            _population(frame, a.tte_analysis_set), on="USUBJID", how="semi"
        )
        by_param = members.partition_by("PARAMCD", as_dict=True, maintain_order=True)
        for paramcd, param, parcat in params.iter_rows():
            records = by_param.get((paramcd,), members.clear())
            row: dict[str, Any] = {
                "COHORT": cohort, "PARAMCD": paramcd, "PARAM": param, "PARCAT1": parcat,
                "N": records.height, "EVENTS": int((records["CNSR"] == 0).sum()),
                "CONF_TYPE": a.km_conf_type, "UNIT": "months",
            }  # fmt: skip
            row["CENSORED"] = row["N"] - row["EVENTS"]
            if records.height:
                km = _fit(records, protocol, a.days_per_month)
                row["MEDIAN"], (row["MEDIAN_CI_LOW"], row["MEDIAN_CI_HIGH"]) = (
                    km.median,
                    km.median_ci,
                )
            rows.append(row)
    return pl.DataFrame(rows, schema=TTD_SCHEMA)


def _best_response(adrs: pl.DataFrame | None, protocol: Protocol) -> pl.DataFrame:
    paramcd = "CBOR" if protocol.response.confirmation else "BOR"
    if adrs is None:
        return pl.DataFrame(schema={"USUBJID": pl.String, "BOR": pl.String})
    return (
        adrs.filter(pl.col("PARAMCD") == paramcd)
        .group_by("USUBJID")
        .agg(pl.col("AVALC").first().alias("BOR"))
    )


def compute_waterfall(adam: dict[str, pl.DataFrame], protocol: Protocol) -> pl.DataFrame:
    """Best % change of the target-lesion sum per subject of the response analysis set.

    Columns COHORT, USUBJID, BPCHG (null when no complete post-baseline sum), AVISIT, ADT and
    BOR (MISSING without an ADRS record); sorted by cohort, then BPCHG descending (the waterfall's
    order), subjects without a change last.
    """
    adtr = adam.get("adtr")
    if adtr is None or "PCHG" not in adtr.columns:
        return pl.DataFrame(schema=WATERFALL_SCHEMA)
    if READER in adtr.columns:
        adtr = adtr.filter(pl.col(READER) == protocol_reader(protocol.response))
    best = compute_best_pchg(adtr).drop(READER, strict=False)
    bor = _best_response(adam.get("adrs"), protocol)
    parts = [pl.DataFrame(schema=WATERFALL_SCHEMA)]
    for cohort, frame in cohort_frames(adam["adsl"], protocol).items():
        members = _population(frame, protocol.analysis.response_analysis_set)
        parts.append(
            best.join(members, on="USUBJID", how="semi")
            .join(bor, on="USUBJID", how="left")
            .with_columns(COHORT=pl.lit(cohort), BOR=pl.col("BOR").fill_null("MISSING"))
            .select(
                "COHORT",
                "USUBJID",
                pl.col("BPCHG").cast(pl.Float64),
                "AVISIT",
                pl.col("ADT").cast(pl.Date),
                "BOR",
            )  # fmt: skip
            .sort("BPCHG", "USUBJID", descending=[True, False], nulls_last=True)
        )
    return pl.concat(parts, how="vertical_relaxed")


def compute_figure_data(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """Numbers for ``results.json`` (``ttd``) and the tables ``km_<PARAMCD>``, ``ttd_summary``
    and ``waterfall`` (those the ADaM datasets allow)."""
    adsl = adam["adsl"]
    data: dict[str, Any] = {}
    tables: dict[str, pl.DataFrame] = {}
    adtte = adam.get("adtte")
    if adtte is not None:
        for paramcd, curve in compute_km_curves(adtte, adsl, protocol).items():
            tables[f"km_{paramcd.lower()}"] = curve
        ttd = compute_ttd_summary(adtte, adsl, protocol)
        if ttd.height:
            tables["ttd_summary"] = ttd
            data["ttd"] = {
                cohort: ttd.filter(pl.col("COHORT") == cohort).drop("COHORT").to_dicts()
                for cohort in ttd["COHORT"].unique(maintain_order=True).to_list()
            }
    if "adtr" in adam:
        tables["waterfall"] = compute_waterfall(adam, protocol)
    return data, tables


__all__ = [
    "compute_figure_data",
    "compute_km_curves",
    "compute_ttd_summary",
    "compute_waterfall",
]
