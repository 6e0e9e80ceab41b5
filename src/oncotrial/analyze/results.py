"""The analysis driver: ADaM datasets in, one :class:`Results` out (``results.json`` + tables).

Each section is computed by its own module from the ADaM datasets; this module only orders them,
names the cohorts (each protocol cohort and ``ALL``) and writes the files. Every number carries
the analysis set and the method that produced it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from oncotrial import __version__
from oncotrial.protocol.io import protocol_to_dict
from oncotrial.protocol.model import Protocol

if TYPE_CHECKING:
    from oncotrial.biomarkers.screen_results import FeaturePanel

ALL = "ALL"
FLAGS = ("ITTFL", "SAFFL", "EFFFL", "PROFL")


@dataclass
class Results:
    """Everything an analysis produced: JSON-ready numbers and the tables behind them."""

    data: dict[str, Any]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def write(self, out: str | Path) -> list[Path]:
        out = Path(out)
        (out / "tables").mkdir(parents=True, exist_ok=True)
        paths = [out / "results.json"]
        paths[0].write_text(json.dumps(self.data, indent=2, default=str) + "\n", encoding="utf-8")
        for name, table in self.tables.items():
            p = out / "tables" / f"{name}.csv"
            table.write_csv(p, date_format="%Y-%m-%d")
            paths.append(p)
        return paths


def cohort_frames(adsl: pl.DataFrame, protocol: Protocol) -> dict[str, pl.DataFrame]:
    """ADSL restricted to each cohort, then pooled (``ALL``); screen failures belong to none."""
    enrolled = adsl.filter(pl.col("COHORT").is_not_null())
    out = {c.id: enrolled.filter(pl.col("COHORT") == c.id) for c in protocol.cohorts}
    out[ALL] = enrolled
    return out


def analysis_sets(adsl: pl.DataFrame, protocol: Protocol) -> tuple[dict[str, Any], pl.DataFrame]:
    """Subjects per analysis set and cohort (screened, screen failures, ITT, SAF, EFF, PRO)."""
    per: dict[str, Any] = {}
    rows = []
    for cohort, frame in cohort_frames(adsl, protocol).items():
        counts = {flag: int((frame[flag] == "Y").sum()) for flag in FLAGS if flag in frame.columns}
        per[cohort] = counts
        rows.append({"COHORT": cohort, **counts})
    screened = adsl.height
    screen_fail = int((adsl["SCRNFFL"] == "Y").sum()) if "SCRNFFL" in adsl.columns else 0
    data = {"screened": screened, "screen_failures": screen_fail, "by_cohort": per}
    return data, pl.DataFrame(rows)


def analyze_all(
    adam: dict[str, pl.DataFrame], protocol: Protocol, features: FeaturePanel | None = None
) -> Results:
    """Every analysis the ADaM datasets allow (and the screen of ``features``, an expression
    panel read by :func:`oncotrial.biomarkers.screen_results.read_feature_panel`).

    ``results.json`` layout: ``study``, ``settings``, ``analysis_sets``; ``cohorts`` maps each
    cohort id and ``ALL`` to its label and endpoint numbers (``orr``, ``dcr`` → x, n, estimate,
    ci_low, ci_high, method; ``pfs``, ``os``, ``dor``, ``ttp`` → n, events, median with CI,
    conf_type, landmarks); the same per-cohort mappings also stand at the top level under the
    cohort id (``results["ALL"]["orr"]``); ``efficacy`` holds the methods and analysis sets used;
    ``safety`` and ``pro`` the safety and quality-of-life numbers.
    """
    from oncotrial.analyze import pro, safety  # noqa: F401 - imported before the worker runs
    from oncotrial.analyze.efficacy import compute_efficacy

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The safety and quality-of-life numbers (polars aggregations of ADLB and ADQS) are
        # computed beside the others (mostly numpy); errors surface in the order of the
        # sections, as if they had run one after the other.
        side = pool.submit(_safety_and_pro, adam, protocol)
        adsl = adam["adsl"]
        sets, sets_table = analysis_sets(adsl, protocol)
        tables: dict[str, pl.DataFrame] = {"analysis_sets": sets_table}
        efficacy, eff_tables = compute_efficacy(adam, protocol)
        tables.update(eff_tables)
        per_cohort = efficacy.pop("by_cohort")
        labels = {c.id: c.label for c in protocol.cohorts} | {ALL: "All subjects"}
        cohorts = {
            cid: {"label": labels.get(cid, cid), **numbers} for cid, numbers in per_cohort.items()
        }
        data: dict[str, Any] = {
            "study": {"id": protocol.id, "title": protocol.title, "condition": protocol.condition},
            "software": {"name": "oncotrial", "version": __version__},
            "generated": datetime.now(UTC).strftime("%Y-%m-%d"),
            "data_cutoff": str(protocol.data_cutoff) if protocol.data_cutoff else None,
            "settings": protocol_to_dict(protocol),
            "analysis_sets": sets,
            "efficacy": efficacy,
            "cohorts": cohorts,
        }
        try:
            later, later_tables = _later_sections(adam, protocol, features, efficacy, cohorts)
        except Exception:
            side.result()  # an error of the safety or PRO numbers comes first
            raise
        side_data, side_tables = side.result()
    for numbers, frames in ((side_data, side_tables), (later, later_tables)):
        data.update(numbers)
        tables.update(frames)
    data.update(cohorts)
    return Results(data=data, tables=tables)


def _safety_and_pro(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """``results.json["safety"]`` and ``["pro"]`` and their tables (those the ADaM allow)."""
    data: dict[str, Any] = {}
    tables: dict[str, pl.DataFrame] = {}
    adsl = adam["adsl"]
    if "adae" in adam:
        from oncotrial.analyze.safety import compute_safety_summary

        safety = compute_safety_summary(adam["adae"], adam.get("adlb"), adsl, protocol)
        data["safety"] = safety.to_dict()
        tables.update({f"safety_{k}": v for k, v in safety.tables.items()})
    if "adqs" in adam:
        from oncotrial.analyze.pro import compute_pro_summary

        pro = compute_pro_summary(adam["adqs"], adsl, protocol)
        data["pro"] = pro.to_dict()
        tables.update({f"pro_{k}": v for k, v in pro.tables.items()})
    return data, tables


def _later_sections(
    adam: dict[str, pl.DataFrame], protocol: Protocol, features: FeaturePanel | None,
    efficacy: dict[str, Any], cohorts: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:  # fmt: skip
    """Figure data, subject groups, design decisions and biomarker results, in that order."""
    data: dict[str, Any] = {}
    tables: dict[str, pl.DataFrame] = {}
    # Report tables (analyze/curves.py, analyze/subgroups.py): Kaplan-Meier curves, TTD medians,
    # waterfall data, disposition, baseline characteristics and subgroup ORR / PFS HR.
    from oncotrial.analyze.curves import compute_figure_data
    from oncotrial.analyze.subgroups import compute_subject_groups

    for numbers, frames in (
        compute_figure_data(adam, protocol),
        compute_subject_groups(adam, protocol),
    ):
        data.update(numbers)
        tables.update(frames)
    from oncotrial.analyze.design_decision import compute_design_decisions

    data["design"] = compute_design_decisions(protocol, efficacy, cohorts)
    if "adbm" in adam and protocol.biomarkers:
        data["biomarkers"], bm_tables = compute_biomarker_results(adam, protocol)
        tables.update(bm_tables)
        if "waterfall" in tables:
            from oncotrial.biomarkers.waterfall import compute_marker_waterfall

            data["biomarkers"]["waterfall"], tables["biomarker_waterfall"] = (
                compute_marker_waterfall(tables["waterfall"], adam["adbm"], protocol)
            )
    if features is not None:
        from oncotrial.biomarkers.screen_results import compute_biomarker_screen

        screen, screen_tables = compute_biomarker_screen(adam, features, protocol)
        data.setdefault("biomarkers", {})["screen"] = screen
        tables.update(screen_tables)
    return data, tables


BM_KM_PARAM = "PFS"


def compute_biomarker_results(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """``results.json["biomarkers"]`` and the tables ``biomarker_*``: the exploratory
    associations of :func:`oncotrial.biomarkers.compute_biomarker_associations` on the protocol
    markers found in ADBM, and ``biomarker_km_pfs``, the Kaplan-Meier table of PFS (time in days)
    by status of the first binary marker, per cohort and ALL (time-to-event analysis set)."""
    from oncotrial.biomarkers import BiomarkerData, compute_biomarker_associations

    adbm = adam["adbm"].with_columns(pl.col("USUBJID").cast(pl.String))
    markers = tuple(m for m in protocol.biomarkers if m.id in adbm.columns)
    values = adbm.select(
        "USUBJID",
        *(pl.col(m.id).cast(pl.Float64 if m.type == "continuous" else pl.String) for m in markers),
    )
    levels = {
        m.id: tuple(m.categories) if m.categories else ("POSITIVE", "NEGATIVE")
        if m.type == "binary" else tuple(sorted(values[m.id].drop_nulls().unique().to_list()))
        for m in markers if m.type != "continuous"
    }  # fmt: skip
    counts = {m.id: {"subjects": values.height, "with_value": int(values[m.id].is_not_null().sum()),
                     "missing": int(values[m.id].is_null().sum())} for m in markers}  # fmt: skip
    data, tables = compute_biomarker_associations(
        adam, BiomarkerData(values, markers, levels, counts), protocol
    )
    binary = next((m for m in markers if m.type == "binary"), None)
    if binary is not None and "adtte" in adam:
        tables["biomarker_km_pfs"] = _km_by_status(adam, values, binary.id, levels[binary.id],
                                                   protocol)  # fmt: skip
        data["km"] = {"marker": binary.id, "paramcd": BM_KM_PARAM, "levels": list(levels[binary.id]),
                      "table": "biomarker_km_pfs"}  # fmt: skip
    return data, tables


def _km_by_status(
    adam: dict[str, pl.DataFrame], values: pl.DataFrame, marker: str, levels: tuple[str, ...],
    protocol: Protocol,
) -> pl.DataFrame:  # fmt: skip
    from oncotrial.stats import kaplan_meier

    a = protocol.analysis
    records = (
        adam["adtte"]
        .filter(pl.col("PARAMCD") == BM_KM_PARAM)
        .select(pl.col("USUBJID").cast(pl.String), pl.col("AVAL").cast(pl.Float64), "CNSR")
        .join(values.select("USUBJID", pl.col(marker).alias("STATUS")), on="USUBJID")
    )
    parts = []
    for cohort, frame in cohort_frames(adam["adsl"], protocol).items():
        ids = frame.filter(pl.col(a.tte_analysis_set) == "Y").select(
            pl.col("USUBJID").cast(pl.String)
        )
        pop = records.join(ids, on="USUBJID", how="semi")
        for status in levels:
            part = pop.filter(pl.col("STATUS") == status)
            if part.height == 0:
                continue
            km = kaplan_meier(part["AVAL"].to_numpy(), (part["CNSR"] == 0).to_numpy(),
                              a.conf_level, a.km_conf_type)  # fmt: skip
            parts.append(km.table.with_columns(MARKER=pl.lit(marker), COHORT=pl.lit(cohort),
                                               STATUS=pl.lit(status)))  # fmt: skip
    if not parts:
        return pl.DataFrame(schema={"MARKER": pl.String, "COHORT": pl.String, "STATUS": pl.String,
                                    "time": pl.Float64, "n_risk": pl.Int64, "n_event": pl.Int64,
                                    "n_censor": pl.Int64, "surv": pl.Float64})  # fmt: skip
    table = pl.concat(parts, how="vertical_relaxed")
    return table.select("MARKER", "COHORT", "STATUS", pl.exclude("MARKER", "COHORT", "STATUS"))
