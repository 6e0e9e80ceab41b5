"""Subject groups: disposition, baseline characteristics, and ORR / PFS by subgroup.

Per protocol cohort and pooled (``ALL``; :func:`oncotrial.analyze.results.cohort_frames`):

* **Disposition** (ICH E3 §10.1; NEST DST01): screened (every ADSL row), screen failures with
  their reason (ADSL ``SFREAS`` when the derivation carries it), enrolled (ITTFL), treated
  (SAFFL), response-evaluable (EFFFL), PRO-evaluable (PROFL), study status (EOSSTT: ongoing,
  completed, discontinued with DCSREAS) and deaths (DTHDT or DTHFL = Y); percentages of the
  enrolled.
* **Baseline characteristics** (ICH E3 §11.2; NEST DMT01), in the enrolled set (ITTFL):
  :data:`CHARACTERISTICS` — continuous variables as n, mean, SD, median, min, max; categorical
  ones as n (%) of the cohort with a "Missing" level. A characteristic whose ADSL variable is
  absent is listed under ``not_available``. The baseline sum of target-lesion diameters is the
  ADTR SDIAM baseline record (ABLFL = Y) of the protocol's reader.
* **Subgroups** (:data:`SUBGROUPS`, those present with two or more levels): ORR with the
  protocol's binomial interval (``analysis.ci_method``, Clopper-Pearson by default) in the
  response analysis set — the responder rule of :mod:`oncotrial.analyze.efficacy` (CR or PR as
  ADRS CBOR with confirmation, else BOR; no record = not a responder) — and the PFS hazard ratio
  of each level against the first level (Cox model with Efron ties, R ``coxph``) in the
  time-to-event analysis set. A level takes part in the Cox model only with at least
  :data:`MIN_EVENTS_PER_LEVEL` events (fewer give unstable estimates; the level is reported with
  its n and events and no HR); subjects with a missing value are left out of the model.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from oncotrial.analyze.results import cohort_frames
from oncotrial.protocol.model import Protocol
from oncotrial.rules.recist.confirm import scale_for
from oncotrial.rules.recist.readers import READER, protocol_reader
from oncotrial.stats import StatsInputError, binomial_ci, cox

MISSING = "Missing"
MIN_EVENTS_PER_LEVEL = 5
CHARACTERISTICS: tuple[tuple[str, str, str, str], ...] = (
    ("age", "Age (years)", "AGE", "continuous"),
    ("agegr1", "Age group", "AGEGR1", "categorical"),
    ("sex", "Sex", "SEX", "categorical"),
    ("race", "Race", "RACE", "categorical"),
    ("ecog", "ECOG performance status", "ECOGBL", "categorical"),
    ("sites", "Number of disease sites", "NMETSITE", "continuous"),
    ("liver", "Liver metastases", "LIVERMFL", "categorical"),
    ("sod", "Sum of target-lesion diameters (mm)", "BSOD", "continuous"),
    ("prior", "Prior lines of systemic therapy", "PRIORLN", "categorical"),
)
"""Baseline characteristics: key, label, ADSL variable (BSOD: from ADTR), kind."""
SUBGROUPS: tuple[tuple[str, str], ...] = (
    ("COHORT", "Cohort"),
    ("AGEGR1", "Age group"),
    ("SEX", "Sex"),
    ("ECOGBL", "ECOG performance status"),
    ("LIVERMFL", "Liver metastases"),
)
"""Subgroup variables of the forest plots: ADSL variable, label."""
LEVEL_ORDER = {"SEX": ("M", "F", "U"), "LIVERMFL": ("Y", "N")}

BASELINE_SCHEMA = {
    "COHORT": pl.String, "KEY": pl.String, "LABEL": pl.String, "VARIABLE": pl.String,
    "KIND": pl.String, "LEVEL": pl.String, "N": pl.Int64, "n": pl.Int64, "PCT": pl.Float64,
    "MEAN": pl.Float64, "SD": pl.Float64, "MEDIAN": pl.Float64, "MIN": pl.Float64,
    "MAX": pl.Float64,
}  # fmt: skip
DISPOSITION_SCHEMA = {
    "COHORT": pl.String, "CATEGORY": pl.String, "LEVEL": pl.String, "n": pl.Int64,
    "N": pl.Int64, "PCT": pl.Float64,
}  # fmt: skip
ORR_SCHEMA = {
    "COHORT": pl.String, "VARIABLE": pl.String, "LABEL": pl.String, "LEVEL": pl.String,
    "X": pl.Int64, "N": pl.Int64, "ESTIMATE": pl.Float64, "CI_LOW": pl.Float64,
    "CI_HIGH": pl.Float64, "METHOD": pl.String,
}  # fmt: skip
PFS_SCHEMA = {
    "COHORT": pl.String, "VARIABLE": pl.String, "LABEL": pl.String, "LEVEL": pl.String,
    "N": pl.Int64, "EVENTS": pl.Int64, "REFERENCE": pl.Boolean, "HR": pl.Float64,
    "HR_CI_LOW": pl.Float64, "HR_CI_HIGH": pl.Float64, "P_VALUE": pl.Float64, "NOTE": pl.String,
}  # fmt: skip


def _levels(values: pl.Series, variable: str) -> list[str]:
    """Levels of a variable in display order (protocol-independent conventions), Missing last."""
    present = [v for v in values.unique().to_list() if v is not None]
    order = LEVEL_ORDER.get(variable, ())
    known = [v for v in order if v in present]
    rest = sorted((v for v in present if v not in order), key=lambda v: (len(v), v))
    return known + rest + ([MISSING] if values.null_count() else [])


def _as_text(frame: pl.DataFrame, variable: str) -> pl.Series:
    col = frame[variable]
    if col.dtype.is_float():
        col = pl.Series(variable, [None if v is None else f"{v:g}" for v in col.to_list()])
    return col.cast(pl.String)


def _with_baseline_sod(adam: dict[str, pl.DataFrame], protocol: Protocol) -> pl.DataFrame:
    adsl = adam["adsl"]
    adtr = adam.get("adtr")
    if adtr is None or "BSOD" in adsl.columns:
        return adsl
    if READER in adtr.columns:
        adtr = adtr.filter(pl.col(READER) == protocol_reader(protocol.response))
    base = (
        adtr.filter((pl.col("PARAMCD") == "SDIAM") & (pl.col("ABLFL") == "Y"))
        .group_by("USUBJID")
        .agg(pl.col("AVAL").first().cast(pl.Float64).alias("BSOD"))
    )
    return adsl.join(base, on="USUBJID", how="left")


def _continuous(values: pl.Series) -> dict[str, Any]:
    v = values.cast(pl.Float64).drop_nulls()
    if v.len() == 0:
        return {"n": 0, "MEAN": None, "SD": None, "MEDIAN": None, "MIN": None, "MAX": None}
    return {"n": v.len(), "MEAN": v.mean(), "SD": v.std(ddof=1) if v.len() > 1 else None,
            "MEDIAN": v.median(), "MIN": v.min(), "MAX": v.max()}  # fmt: skip


def compute_baseline(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Baseline characteristics of the enrolled set per cohort and ALL (module doc)."""
    adsl = _with_baseline_sod(adam, protocol)
    used = [c for c in CHARACTERISTICS if c[2] in adsl.columns]
    rows: list[dict[str, Any]] = []
    per: dict[str, Any] = {}
    for cohort, frame in cohort_frames(adsl, protocol).items():
        pop = frame.filter(pl.col("ITTFL") == "Y") if "ITTFL" in frame.columns else frame
        big_n = pop.height
        per[cohort] = {"N": big_n, "characteristics": []}
        for key, label, variable, kind in used:
            base = {"COHORT": cohort, "KEY": key, "LABEL": label, "VARIABLE": variable,
                    "KIND": kind, "N": big_n}  # fmt: skip
            entry: dict[str, Any] = {"key": key, "label": label, "variable": variable,
                                     "kind": kind}  # fmt: skip
            if kind == "continuous":
                stats = _continuous(pop[variable])
                rows.append({**base, **stats})
                entry["summary"] = {k.lower(): v for k, v in stats.items()}
            else:
                text = _as_text(pop, variable)
                entry["levels"] = []
                for level in _levels(text, variable):
                    hit = text.is_null() if level == MISSING else text == level
                    n = int(hit.sum())
                    pct = 100.0 * n / big_n if big_n else None
                    rows.append({**base, "LEVEL": level, "n": n, "PCT": pct})
                    entry["levels"].append({"level": level, "n": n, "pct": pct})
            per[cohort]["characteristics"].append(entry)
    missing = [{"key": k, "label": lab, "variable": v} for k, lab, v, _ in CHARACTERISTICS
               if v not in adsl.columns]  # fmt: skip
    data = {"population": "ITTFL", "cohorts": per, "not_available": missing}
    return data, pl.DataFrame(rows, schema=BASELINE_SCHEMA)


def _count_rows(cohort: str, category: str, values: pl.Series, big_n: int) -> list[dict[str, Any]]:
    counts = values.drop_nulls().value_counts(sort=True, name="n")
    return [
        {"COHORT": cohort, "CATEGORY": category, "LEVEL": level, "n": n, "N": big_n,
         "PCT": 100.0 * n / big_n if big_n else None}
        for level, n in counts.sort(["n", values.name], descending=[True, False]).iter_rows()
    ]  # fmt: skip


def compute_disposition(
    adsl: pl.DataFrame, protocol: Protocol
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Subjects screened, failed screening (with reasons), enrolled, treated, in each analysis
    set, by study status and reason, and who died; per cohort and ALL (module doc)."""
    sf = adsl.filter(pl.col("SCRNFFL") == "Y") if "SCRNFFL" in adsl.columns else adsl.clear()
    reasons = sf["SFREAS"] if "SFREAS" in sf.columns else pl.Series("SFREAS", [], pl.String)
    data: dict[str, Any] = {
        "screened": adsl.height,
        "screen_failures": sf.height,
        "screen_failure_reasons": dict(
            reasons.fill_null("Not recorded").value_counts(sort=True).iter_rows()
        ),
        "screen_failure_reason_variable": "SFREAS" if "SFREAS" in sf.columns else None,
        "cohorts": {},
    }
    rows: list[dict[str, Any]] = [
        {"COHORT": "ALL", "CATEGORY": "screened", "LEVEL": None, "n": adsl.height,
         "N": adsl.height, "PCT": 100.0 if adsl.height else None},
        {"COHORT": "ALL", "CATEGORY": "screen_failure", "LEVEL": None, "n": sf.height,
         "N": adsl.height, "PCT": 100.0 * sf.height / adsl.height if adsl.height else None},
    ]  # fmt: skip
    for reason, n in data["screen_failure_reasons"].items():
        rows.append({"COHORT": "ALL", "CATEGORY": "screen_failure_reason", "LEVEL": reason,
                     "n": n, "N": sf.height, "PCT": 100.0 * n / sf.height})  # fmt: skip
    for cohort, frame in cohort_frames(adsl, protocol).items():
        enrolled = frame.filter(pl.col("ITTFL") == "Y") if "ITTFL" in frame.columns else frame
        big_n = enrolled.height
        counts: dict[str, Any] = {}
        for category, flag in (("enrolled", "ITTFL"), ("treated", "SAFFL"),
                               ("response_evaluable", "EFFFL"), ("pro_evaluable", "PROFL")):  # fmt: skip
            if flag in frame.columns:
                counts[category] = int((frame[flag] == "Y").sum())
        status = enrolled["EOSSTT"] if "EOSSTT" in enrolled.columns else None
        if status is not None:
            counts["status"] = dict(status.fill_null("ONGOING").value_counts(sort=True).iter_rows())
            rows += _count_rows(cohort, "status", status.fill_null("ONGOING"), big_n)
        if "DCSREAS" in enrolled.columns:
            reason = enrolled["DCSREAS"]
            counts["discontinuation_reasons"] = dict(
                reason.drop_nulls().value_counts(sort=True).iter_rows()
            )
            rows += _count_rows(cohort, "discontinuation_reason", reason, big_n)
        died = pl.lit(False)
        if "DTHDT" in enrolled.columns:
            died = died | pl.col("DTHDT").is_not_null()
        if "DTHFL" in enrolled.columns:
            died = died | (pl.col("DTHFL") == "Y")
        counts["died"] = int(enrolled.select(died.sum()).item())
        for category in ("enrolled", "treated", "response_evaluable", "pro_evaluable", "died"):
            if category in counts:
                n = counts[category]
                rows.append({"COHORT": cohort, "CATEGORY": category, "LEVEL": None, "n": n,
                             "N": big_n, "PCT": 100.0 * n / big_n if big_n else None})  # fmt: skip
        data["cohorts"][cohort] = counts
    return data, pl.DataFrame(rows, schema=DISPOSITION_SCHEMA)


def subject_responders(adam: dict[str, pl.DataFrame], protocol: Protocol) -> pl.DataFrame:
    """USUBJID and _RSP: the best overall response (ADRS CBOR when the protocol confirms, else
    BOR) is CR or PR (RECIST 1.1 section 4.4; the iRECIST terms when the protocol uses them)."""
    sc = scale_for(protocol.response)
    paramcd = "CBOR" if protocol.response.confirmation else "BOR"
    adrs = adam.get("adrs")
    if adrs is None:
        return pl.DataFrame(schema={"USUBJID": pl.String, "_RSP": pl.Boolean})
    return (
        adrs.filter(pl.col("PARAMCD") == paramcd)
        .group_by("USUBJID")
        .agg(pl.col("AVALC").first().is_in([sc.cr, sc.pr]).alias("_RSP"))
    )


def _orr_row(cohort: str, variable: str, label: str, level: str, members: pl.DataFrame,
             protocol: Protocol) -> dict[str, Any]:  # fmt: skip
    a = protocol.analysis
    n, x = members.height, int(members["_RSP"].sum())
    ci = binomial_ci(x, n, a.conf_level, a.ci_method) if n else None
    return {
        "COHORT": cohort, "VARIABLE": variable, "LABEL": label, "LEVEL": level, "X": x, "N": n,
        "ESTIMATE": ci.estimate if ci else None, "CI_LOW": ci.ci_low if ci else None,
        "CI_HIGH": ci.ci_high if ci else None, "METHOD": a.ci_method,
    }  # fmt: skip


def _orr_rows(cohort: str, pop: pl.DataFrame, variable: str, label: str,
              protocol: Protocol) -> list[dict[str, Any]]:  # fmt: skip
    """One row per level of ``variable`` (Missing last); ``OVERALL``: one row, every subject."""
    if variable == "OVERALL":
        return [_orr_row(cohort, variable, label, "All", pop, protocol)]
    text = _as_text(pop, variable)
    return [
        _orr_row(cohort, variable, label, level,
                 pop.filter(text.is_null() if level == MISSING else (text == level).fill_null(False)),
                 protocol)
        for level in _levels(text, variable)
    ]  # fmt: skip


def _pfs_rows(cohort: str, pop: pl.DataFrame, variable: str, label: str,
              protocol: Protocol) -> list[dict[str, Any]]:  # fmt: skip
    text = _as_text(pop, variable)
    levels = [lv for lv in _levels(text, variable) if lv != MISSING]
    frame = pop.with_columns(text.alias("_LEVEL"))
    events = {lv: int(frame.filter(pl.col("_LEVEL") == lv)["_EVENT"].sum()) for lv in levels}
    sizes = {lv: frame.filter(pl.col("_LEVEL") == lv).height for lv in levels}
    fitted = [lv for lv in levels if events[lv] >= MIN_EVENTS_PER_LEVEL]
    rows = {lv: {"COHORT": cohort, "VARIABLE": variable, "LABEL": label, "LEVEL": lv,
                 "N": sizes[lv], "EVENTS": events[lv], "REFERENCE": False,
                 "NOTE": f"fewer than {MIN_EVENTS_PER_LEVEL} events"} for lv in levels}  # fmt: skip
    if len(fitted) >= 2:
        ref, others = fitted[0], fitted[1:]
        sub = frame.filter(pl.col("_LEVEL").is_in(fitted))
        covariates = {lv: (sub["_LEVEL"] == lv).cast(pl.Float64).to_numpy() for lv in others}
        try:
            res = cox(sub["_TIME"].to_numpy(), sub["_EVENT"].to_numpy(), covariates)
        except StatsInputError as exc:
            for lv in fitted:
                rows[lv]["NOTE"] = f"Cox model not estimable: {exc}"
        else:
            rows[ref].update(REFERENCE=True, HR=1.0, NOTE="reference")
            for i, lv in enumerate(others):
                rows[lv].update(HR=res.hr[i], HR_CI_LOW=res.hr_ci_low[i],
                                HR_CI_HIGH=res.hr_ci_high[i], P_VALUE=res.p[i], NOTE=None)  # fmt: skip
    elif fitted:
        rows[fitted[0]]["NOTE"] = f"no other level with at least {MIN_EVENTS_PER_LEVEL} events"
    return list(rows.values())


def marker_subgroups(
    adsl: pl.DataFrame, adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """ADSL with each protocol marker's status from ADBM as a subgroup variable: a continuous
    marker's cut-off flag ``<ID>_GE<c>`` as ``≥ c`` / ``< c``, a binary or categorical
    marker's result as it is; without a value the subject is in the Missing level."""
    from oncotrial.derive.pipeline import status_column

    adbm = adam.get("adbm")
    if adbm is None or not protocol.biomarkers or "USUBJID" not in adbm.columns:
        return adsl, []
    exprs, variables = [], []
    for m in protocol.biomarkers:
        label = m.label or m.id
        if m.type == "continuous":
            for c in m.cutoffs:
                name = status_column(m.id, c)
                if name in adbm.columns and name not in adsl.columns:
                    flag = pl.col(name)
                    exprs.append(pl.when(flag == "Y").then(pl.lit(f"≥ {c:g}"))
                                 .when(flag == "N").then(pl.lit(f"< {c:g}")).alias(name))  # fmt: skip
                    variables.append((name, f"{label} ≥ {c:g}"))
        elif m.id in adbm.columns and m.id not in adsl.columns:
            exprs.append(pl.col(m.id).cast(pl.String))
            variables.append((m.id, label))
    if not exprs:
        return adsl, []
    status = adbm.select(pl.col("USUBJID").cast(pl.String), *exprs).unique("USUBJID")
    return adsl.join(status, on="USUBJID", how="left", maintain_order="left"), variables


def compute_subgroups(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """ORR and PFS hazard ratios by subgroup, per cohort and ALL (module doc): numbers for
    ``results.json`` and the tables ``subgroup_orr`` and ``subgroup_pfs``. The subgroups are
    :data:`SUBGROUPS` and the protocol markers' statuses (:func:`marker_subgroups`)."""
    adsl, markers = marker_subgroups(adam["adsl"], adam, protocol)
    a = protocol.analysis
    variables = [(v, lab) for v, lab in SUBGROUPS if v in adsl.columns] + markers
    rsp = subject_responders(adam, protocol)
    adtte = adam.get("adtte")
    pfs = (
        adtte.filter(pl.col("PARAMCD") == "PFS").select(
            "USUBJID",
            (pl.col("AVAL") / a.days_per_month).alias("_TIME"),
            (pl.col("CNSR") == 0).cast(pl.Int64).alias("_EVENT"),
        )  # fmt: skip
        if adtte is not None
        else None
    )
    orr_rows: list[dict[str, Any]] = []
    pfs_rows: list[dict[str, Any]] = []
    used = ["USUBJID", *dict.fromkeys(v for v, _ in variables)]  # the subsets' filters copy these
    for cohort, frame in cohort_frames(adsl, protocol).items():
        resp_pop = (
            frame.filter(pl.col(a.response_analysis_set) == "Y")
            .select(used)
            .join(rsp, on="USUBJID", how="left")
            .with_columns(pl.col("_RSP").fill_null(False))
        )
        orr_rows += _orr_rows(cohort, resp_pop, "OVERALL", "All subjects", protocol)
        tte_pop = None
        if pfs is not None:
            tte_pop = (
                frame.filter(pl.col(a.tte_analysis_set) == "Y").select(used).join(pfs, on="USUBJID")
            )
        for variable, label in variables:
            if frame[variable].drop_nulls().n_unique() < 2:
                continue
            orr_rows += _orr_rows(cohort, resp_pop, variable, label, protocol)
            if tte_pop is not None:
                pfs_rows += _pfs_rows(cohort, tte_pop, variable, label, protocol)
    orr = pl.DataFrame(orr_rows, schema=ORR_SCHEMA)
    pfs_table = pl.DataFrame(pfs_rows, schema=PFS_SCHEMA)
    cohorts = orr["COHORT"].unique(maintain_order=True).to_list()
    data = {
        "variables": [{"variable": v, "label": lab} for v, lab in variables],
        "not_available": [
            {"variable": v, "label": lab} for v, lab in SUBGROUPS if v not in adsl.columns
        ],  # fmt: skip
        "response_analysis_set": a.response_analysis_set,
        "tte_analysis_set": a.tte_analysis_set,
        "ci_method": a.ci_method,
        "conf_level": a.conf_level,
        "hr_method": "Cox proportional hazards, Efron ties, Wald interval; first level = reference",
        "min_events_per_level": MIN_EVENTS_PER_LEVEL,
        "cohorts": {
            c: {
                "orr": orr.filter(pl.col("COHORT") == c).drop("COHORT").to_dicts(),
                "pfs": pfs_table.filter(pl.col("COHORT") == c).drop("COHORT").to_dicts(),
            }
            for c in cohorts
        },
    }
    return data, {"subgroup_orr": orr, "subgroup_pfs": pfs_table}


def compute_subject_groups(
    adam: dict[str, pl.DataFrame], protocol: Protocol
) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    """``disposition``, ``baseline`` and ``subgroups`` for ``results.json``, and their tables."""
    disposition, disp_table = compute_disposition(adam["adsl"], protocol)
    baseline, base_table = compute_baseline(adam, protocol)
    subgroups, sub_tables = compute_subgroups(adam, protocol)
    data = {"disposition": disposition, "baseline": baseline, "subgroups": subgroups}
    return data, {"disposition": disp_table, "baseline": base_table, **sub_tables}
