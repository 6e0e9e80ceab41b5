"""Exploratory biomarker analyses: ORR by marker status (table and forest plot), the waterfall
coloured by the status of the first protocol marker that has one (the ``biomarker_waterfall``
table holds every marker; one figure keeps the section short), Kaplan-Meier curves of PFS by
status of the first binary marker, the Cox hazard ratios, and the expression-panel screen
(summary, a volcano plot and the top features per endpoint) -- all read from
``results.json["biomarkers"]`` and the ``biomarker_*`` tables (nothing is computed here)."""

from __future__ import annotations

from typing import Any

import polars as pl

from oncotrial.report.sections._blocks import Cell, Heading, Row, Section, Table, Text
from oncotrial.report.sections._context import ReportInput
from oncotrial.report.sections._format import ci, hr_ci, integer, level_pct, p_value, pct

ID = "biomarkers"
TITLE = "Biomarker analyses (exploratory)"
SCREEN_SHOWN = 10
"""Top features per endpoint listed in the report (results.json and the CSV tables hold more)."""
STATUS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
MISSING_COLOR = "#CCCCCC"
FOREST_SCHEMA = {"SUBGROUP": pl.String, "LEVEL": pl.String, "N": pl.Int64, "X": pl.Int64,
                 "ESTIMATE": pl.Float64, "CI_LOW": pl.Float64, "CI_HIGH": pl.Float64}  # fmt: skip


def _head(*labels: str, left: int = 2) -> Row:
    return Row(tuple(Cell(t, num=i >= left) for i, t in enumerate(labels)))


def _level(status: str) -> str:
    return status.replace(">=", "≥").replace("<=", "≤")


def _tests(inp: ReportInput, cohort: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(marker, endpoint, analysis) -> the test row of ``biomarker_tests`` in ``cohort``."""
    tests = inp.table("biomarker_tests")
    if tests is None:
        return {}
    rows = tests.filter(pl.col("COHORT") == cohort).to_dicts()
    return {(r["MARKER"], r["ENDPOINT"], r["ANALYSIS"]): r for r in rows}


def forest_rows(orr: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """Forest-plot rows (SUBGROUP = marker split, LEVEL = status) from ``biomarker_orr``."""
    rows = [{"SUBGROUP": labels.get(r["SPLIT"], r["SPLIT"]), "LEVEL": _level(r["STATUS"]),
             "N": r["N"], "X": r["X"], "ESTIMATE": r["ORR"], "CI_LOW": r["CI_LOW"],
             "CI_HIGH": r["CI_HIGH"]} for r in orr.filter(pl.col("N") > 0).to_dicts()]  # fmt: skip
    return pl.DataFrame(rows, schema=FOREST_SCHEMA)


def _split_labels(bm: dict[str, Any], orr: pl.DataFrame) -> dict[str, str]:
    out = {}
    for split, marker in orr.select("SPLIT", "MARKER").unique(maintain_order=True).iter_rows():
        label = bm["markers"].get(marker, {}).get("label") or marker
        out[split] = _level(split.replace(marker, label, 1)) if split != marker else label
    return out


def _orr_table(bm: dict[str, Any], orr: pl.DataFrame, tests: dict[Any, dict[str, Any]],
               labels: dict[str, str]) -> Table:  # fmt: skip
    level = level_pct(bm["conf_level"])
    body = []
    for (marker, split), part in orr.group_by(["MARKER", "SPLIT"], maintain_order=True):
        test = tests.get((marker, "response", split), {})
        odds = (hr_ci(test["ESTIMATE"], test["CI_LOW"], test["CI_HIGH"])
                if test.get("ESTIMATE_NAME") == "odds_ratio" else "")  # fmt: skip
        for i, r in enumerate(part.to_dicts()):
            first = i == 0
            body.append(Row((
                Cell(labels.get(str(split), str(split)) if first else "", head=True),
                Cell(_level(r["STATUS"])), Cell(integer(r["N"]), num=True),
                Cell(integer(r["X"]), num=True),
                Cell(f"{pct(r['ORR'])} {ci(r['CI_LOW'], r['CI_HIGH'], scale=100)}", num=True,
                     id=f"bm-orr-{marker}-{split}-{r['STATUS']}".replace(" ", "_")),
                Cell(p_value(test.get("P_VALUE")) if first else "", num=True),
                Cell(odds if first else "", num=True),
                Cell(p_value(test.get("Q_VALUE")) if first else "", num=True),
            ), cls="first" if first else ""))  # fmt: skip
    return Table(
        "biomarker-orr-table", "Objective response rate by marker status",
        head=(_head("Marker", "Status", "n", "Responders", f"ORR ({level} CI)", "Fisher p",
                    f"OR ({level} CI)", "q"),),
        body=tuple(body), csv="tables/biomarker_orr.csv",
        note=f"Response analysis set {bm['analysis_sets']['response']}; responder = "
        f"{bm['response_variable']} CR or PR. {bm['methods']['orr_by_status']}; "
        f"{bm['methods']['response_by_status']}. OR: first status vs second. q: "
        f"{bm['multiplicity']}.",
    )  # fmt: skip


def _comparison(bm: dict[str, Any], r: dict[str, Any]) -> str:
    """``POSITIVE vs NEGATIVE``, ``≥ 10 vs < 10`` or ``per unit`` from a Cox test row."""
    marker, analysis = r["MARKER"], str(r["ANALYSIS"])
    if not analysis.endswith(" (Cox)"):
        return "per unit" if analysis.endswith("per unit") else analysis
    split = analysis.removesuffix(" (Cox)")
    levels = bm["markers"].get(marker, {}).get("levels") or []
    if split == marker and len(levels) == 2:
        return f"{levels[0]} vs {levels[1]}"
    rest = split.removeprefix(marker).strip()
    if rest.startswith(">="):
        return f"{_level(rest)} vs {rest.replace('>=', '<', 1)}"
    return _level(split)


def _pfs_forest(bm: dict[str, Any], cohort: str, inp: ReportInput) -> Any:
    """Forest plot of the Cox hazard ratio of PFS (Efron ties) for each marker status split
    (first status vs second, from ``biomarker_tests``; p and q are in the Cox table), on a log
    axis with the line at 1."""
    tests = inp.table("biomarker_tests")
    if tests is None:
        return None
    cox = tests.filter((pl.col("COHORT") == cohort) & (pl.col("ENDPOINT") == "PFS")
                       & (pl.col("ESTIMATE_NAME") == "hr")
                       & pl.col("ANALYSIS").str.ends_with(" (Cox)"))  # fmt: skip
    rows = [{"SUBGROUP": bm["markers"].get(r["MARKER"], {}).get("label") or r["MARKER"],
             "LEVEL": _comparison(bm, r), "N": r["N"], "X": None, "ESTIMATE": r["ESTIMATE"],
             "CI_LOW": r["CI_LOW"], "CI_HIGH": r["CI_HIGH"]}
            for r in cox.to_dicts() if r["ESTIMATE"] is not None and r["CI_LOW"] is not None
            and r["CI_HIGH"] is not None]  # fmt: skip
    if not rows:
        return inp.figures.note("forest-pfs-biomarker", "PFS hazard ratio by marker status",
                                "no marker status split has an estimable hazard ratio")  # fmt: skip
    return inp.figures.draw(
        "forest-pfs-biomarker", "forest_plot", pl.DataFrame(rows, schema=FOREST_SCHEMA),
        title="Hazard ratio for progression-free survival by marker status", measure="HR",
        log_scale=True, reference=1.0, conf_level=bm["conf_level"],
        analysis_set=bm["analysis_sets"]["time_to_event"],
    )  # fmt: skip


def _cox_table(bm: dict[str, Any], cohort: str, inp: ReportInput) -> Table | None:
    tests = inp.table("biomarker_tests")
    if tests is None:
        return None
    cox = tests.filter((pl.col("COHORT") == cohort) & (pl.col("ESTIMATE_NAME") == "hr")
                       & pl.col("ENDPOINT").is_in(["PFS", "OS"]))  # fmt: skip
    if cox.height == 0:
        return None
    level = level_pct(bm["conf_level"])
    body = []
    for r in cox.to_dicts():
        label = bm["markers"].get(r["MARKER"], {}).get("label") or r["MARKER"]
        body.append(Row((
            Cell(label, head=True), Cell(r["ENDPOINT"]), Cell(_comparison(bm, r)),
            Cell(integer(r["N"]), num=True),
            Cell(hr_ci(r["ESTIMATE"], r["CI_LOW"], r["CI_HIGH"]), num=True,
                 id=f"bm-hr-{r['MARKER']}-{r['ENDPOINT']}-{r['ANALYSIS']}".replace(" ", "_")),
            Cell(p_value(r["P_VALUE"]), num=True), Cell(p_value(r["Q_VALUE"]), num=True),
        )))  # fmt: skip
    return Table(
        "biomarker-cox-table", "Cox hazard ratios of PFS and OS by marker",
        head=(_head("Marker", "Endpoint", "Comparison", "N", f"HR ({level} CI)", "p", "q",
                    left=3),),
        body=tuple(body), csv="tables/biomarker_tests.csv",
        note=f"Time-to-event analysis set {bm['analysis_sets']['time_to_event']}. "
        f"{bm['methods']['time_to_event']}. A status split compares the first status with the "
        "second; a continuous marker gives the HR per unit.",
    )  # fmt: skip


def _km(bm: dict[str, Any], cohort: str, inp: ReportInput) -> Any:
    km, table = bm.get("km"), inp.table("biomarker_km_pfs")
    if not km or table is None:
        return None
    rows = table.filter(pl.col("COHORT") == cohort)
    label = bm["markers"].get(km["marker"], {}).get("label") or km["marker"]
    curves = {s: rows.filter(pl.col("STATUS") == s).drop("MARKER", "COHORT", "STATUS")
              for s in km["levels"] if rows.filter(pl.col("STATUS") == s).height}  # fmt: skip
    if not curves:
        return inp.figures.note("km-pfs-biomarker", f"PFS by {label}",
                                "no subject of the time-to-event set has a value of the marker")  # fmt: skip
    return inp.figures.draw(
        "km-pfs-biomarker", "km_plot", curves, title=f"Kaplan-Meier estimate of PFS by {label}",
        caption="Exploratory. Shaded: pointwise confidence band; +: censored subjects; numbers "
        "at risk below the axis. Time in months.",
        conf_level=bm["conf_level"], analysis_set=bm["analysis_sets"]["time_to_event"],
        days_per_month=inp.data["efficacy"]["days_per_month"], ylabel="Progression-free survival",
    )  # fmt: skip


def _marker_waterfall(bm: dict[str, Any], cohort: str, inp: ReportInput) -> list[Any]:
    wf, table = bm.get("waterfall"), inp.table("biomarker_waterfall")
    if not wf or not wf.get("drawn") or table is None:
        return []
    m = next(x for x in wf["markers"] if x["marker"] == wf["drawn"])
    name = f"{m['label']} status"
    rows = table.filter((pl.col("COHORT") == cohort) & (pl.col("MARKER") == m["marker"]))
    best = rows.select("USUBJID", pl.col("BPCHG").alias("PCHG"),
                       pl.col("STATUS").replace(m["levels"], [_level(v) for v in m["levels"]])
                       .alias(name))  # fmt: skip
    palette = {_level(v): STATUS_COLORS[i % len(STATUS_COLORS)]
               for i, v in enumerate(m["levels"])} | {m["missing"]: MISSING_COLOR}  # fmt: skip
    if not rows.height:
        return [inp.figures.note("waterfall-biomarker", f"Waterfall by {name}",
                                 "no subject of the response set has a best change")]  # fmt: skip
    split = f" {m['column']}" if m["column"] != m["marker"] else f" {m['marker']}"
    others = [x["label"] for x in wf["markers"] if x["marker"] != m["marker"]]
    return [inp.figures.draw(
        "waterfall-biomarker", "waterfall_plot", best, colour_by=name, palette=palette,
        title=f"Best percentage change in target lesions by {name}",
        analysis_set=bm["analysis_sets"]["response"],
    ), Text(f"Status from ADBM{split}; {m['missing']}: no value. The same subjects and order "
            "as the response section's waterfall. "
            + (f"The statuses of the other markers ({', '.join(others)}) are in "
               f"tables/{wf['table']}.csv." if others else ""), note=True)]  # fmt: skip


def _sci(p: Any) -> str:
    """A screen's p or q: three decimals, or two significant digits below 0.001."""
    if p is None:
        return "NE"
    return f"{float(p):.1e}" if float(p) < 0.001 else f"{float(p):.3f}"


def _screen_summary(sc: dict[str, Any], ends: list[tuple[str, dict[str, Any]]]) -> Table:
    body = []
    for key, e in ends:
        flagged = ", ".join(f"{k} {integer(v)}" for k, v in e["flagged"].items() if v) or "none"
        body.append(Row((
            Cell(e["endpoint"], head=True), Cell("Logistic" if key == "orr" else "Cox"),
            Cell(e["analysis_set"]),
            Cell(integer(e["n"]), num=True, id=f"screen-{key}-n"),
            Cell(integer(e["without_profile"]), num=True, id=f"screen-{key}-without"),
            Cell(integer(e["events"]), num=True, id=f"screen-{key}-events"),
            Cell(integer(e["tested"]), num=True, id=f"screen-{key}-tested"),
            Cell(integer(e["significant"]), num=True, id=f"screen-{key}-significant"),
            Cell(flagged, id=f"screen-{key}-flagged"),
        )))  # fmt: skip
    return Table(
        "screen-summary-table", "Univariate screen of the expression panel",
        head=(_head("Endpoint", "Model", "Set", "n", "No profile", "Responders / events",
                    "Features tested", f"q < {sc['q_threshold']:g}", "Flagged (no estimate)",
                    left=3),),
        body=tuple(body),
        note=" ".join(f"{e['endpoint']}: {e['method']}; {e['outcome']}." for _, e in ends)
        + f" q: {sc['multiplicity']}. No profile: subjects of the analysis set without a row "
        "in the matrix (left out of the screen).",
    )  # fmt: skip


def _screen_top(sc: dict[str, Any], key: str, e: dict[str, Any]) -> Table:
    level = level_pct(sc["conf_level"])
    ratio = e["estimate"].upper()
    body = tuple(Row((
        Cell(r["feature"], head=True), Cell(integer(r["n"]), num=True),
        Cell(hr_ci(r["estimate"], r["ci_low"], r["ci_high"]), num=True,
             id=f"screen-{key}-{r['feature']}"),
        Cell(_sci(r["p"]), num=True), Cell(_sci(r["q"]), num=True),
    )) for r in e["top"][:SCREEN_SHOWN])  # fmt: skip
    return Table(
        f"screen-{key}-top-table",
        f"{e['endpoint']}: the {len(body)} features with the smallest p",
        head=(_head("Feature", "n", f"{ratio} per unit ({level} CI)", "p", "q", left=1),),
        body=body, csv=f"tables/{e['table']}.csv",
        note=f"{ratio} per unit of the feature, Wald interval and p. Every feature is in the "
        "CSV table; results.json lists the top "
        f"{integer(sc['top_n'])}.",
    )  # fmt: skip


def _screen(bm: dict[str, Any], inp: ReportInput) -> list[Any]:
    sc = bm.get("screen")
    if not sc:
        return []
    ends = [(k, sc[k]) for k in ("orr", "pfs") if sc.get(k)]
    blocks: list[Any] = [
        Heading("Expression panel screen", id="biomarker-screen"),
        Text(f"{sc['note']} Panel {sc['file']}: {integer(sc['features'])} features, "
             f"{integer(sc['subjects']['in_matrix'])} subjects."),
    ]  # fmt: skip
    if not ends:
        return [*blocks, Text("No ADRS or ADTTE: the panel was not screened.", note=True)]
    blocks.append(_screen_summary(sc, ends))
    for key, e in ends:
        table = inp.table(e["table"])
        if table is None:
            blocks.append(inp.figures.note(f"volcano-{key}", f"Volcano plot, {e['endpoint']}",
                                           f"the table {e['table']} is missing"))  # fmt: skip
        else:
            blocks.append(inp.figures.draw(
                f"volcano-{key}", "volcano_plot", table, estimate=e["estimate"],
                q_threshold=sc["q_threshold"], analysis_set=e["analysis_set"],
                title=f"Volcano plot of the panel screen: {e['endpoint']}",
            ))  # fmt: skip
        blocks.append(_screen_top(sc, key, e))
    return blocks


def build(inp: ReportInput) -> Section:
    bm = inp.data.get("biomarkers")
    orr = inp.table("biomarker_orr")
    if bm and bm.get("screen") and orr is None:
        return Section(ID, TITLE, (Text("No protocol markers in ADBM: only the expression "
                                        "panel was analysed.", note=True), *_screen(bm, inp)))  # fmt: skip
    if not bm or orr is None:
        return Section(ID, TITLE, (Text("No biomarker data (no ADBM): not analysed.", note=True),))
    cohort = inp.pooled
    orr = orr.filter(pl.col("COHORT") == cohort)
    labels = _split_labels(bm, orr)
    counts = ", ".join(f"{m.get('label') or k} {integer(m.get('with_value'))}/"
                       f"{integer(m.get('subjects'))}" for k, m in bm["markers"].items())  # fmt: skip
    blocks: list[Any] = [
        Text(f"{bm['note']} {integer(bm['n_tests'])} tests in all."),
        Text(f"Subjects with a value of each marker (of those in DM): {counts}.", note=True),
    ]  # fmt: skip
    rows = forest_rows(orr, labels)
    if rows.height:
        blocks.append(inp.figures.draw(
            "forest-orr-biomarker", "forest_plot", rows,
            title="Objective response rate by marker status", measure="ORR",
            conf_level=bm["conf_level"], analysis_set=bm["analysis_sets"]["response"],
        ))  # fmt: skip
    else:
        blocks.append(inp.figures.note("forest-orr-biomarker", "ORR by marker status",
                                       "no subject of the response set has a marker value"))  # fmt: skip
    if orr.height:
        blocks.append(_orr_table(bm, orr, _tests(inp, cohort), labels))
    blocks += _marker_waterfall(bm, cohort, inp)
    for block in (_pfs_forest(bm, cohort, inp), _km(bm, cohort, inp),
                  _cox_table(bm, cohort, inp)):  # fmt: skip
        if block is not None:
            blocks.append(block)
    return Section(ID, TITLE, (*blocks, *_screen(bm, inp)))
