"""The numbers in the report are those of results.json, and the analysis tables behind the report's
figures and subgroup / baseline tables follow their rules (values derived by hand)."""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from oncotrial.analyze.curves import compute_km_curves, compute_ttd_summary, compute_waterfall
from oncotrial.analyze.subgroups import (
    MIN_EVENTS_PER_LEVEL,
    compute_baseline,
    compute_disposition,
    compute_subgroups,
)
from oncotrial.protocol import load_protocol, parse_protocol
from oncotrial.protocol.model import Biomarker
from oncotrial.report import render_html
from tests.conftest import simulated_results

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = ROOT / "examples" / "protocols"


class _ById(HTMLParser):
    """Text and attributes of every element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str | None]] = {}
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("br", "meta", "img", "input", "link"):
            return
        self._open.append((tag, a.get("id")))
        if a.get("id"):
            self.found[a["id"]] = a  # type: ignore[index]
            self.text[a["id"]] = ""  # type: ignore[index]

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.text[ident] += data


@pytest.fixture(
    scope="module", params=["anlotinib-sintilimab-escc", "camrelizumab-chemo-or-anlotinib-escc"]
)
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(request.param)
    protocol = load_protocol(PROTOCOLS / f"{request.param}.yaml")
    results, adam = simulated_results(folder, protocol, 30, 11, n_features=200)
    results.write(folder)
    data = json.loads((folder / "results.json").read_text())
    html, inp = render_html(results, adam=adam, protocol=protocol)
    parser = _ById()
    parser.feed(html)
    cohorts = [cid for cid, _ in inp.cohorts]
    return data, parser, cohorts


def _num(x: float | None, d: int = 1) -> str:
    return "NE" if x is None else f"{x:.{d}f}"


def _rate(r: dict) -> str:
    return f"{100 * r['estimate']:.1f}% [{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]"


def test_orr_and_dcr_per_cohort_are_those_of_results_json(report) -> None:
    data, page, cohorts = report
    for cid in cohorts:
        for key in ("orr", "orr_unconfirmed", "dcr", "dcr_unconfirmed"):
            r = data["cohorts"][cid][key]
            assert page.text[f"{key}-{cid}"].strip() == _rate(r)
            attrs = page.found[f"{key}-{cid}"]
            assert int(attrs["data-x"]) == r["x"] and int(attrs["data-n"]) == r["n"]
            assert float(attrs["data-estimate"]) == r["estimate"]


def test_medians_and_landmark_rates_are_those_of_results_json(report) -> None:
    data, page, cohorts = report
    for cid in cohorts:
        for key in ("pfs", "os", "dor", "ttp"):
            s = data["cohorts"][cid][key]
            expected = (
                f"{_num(s['median'])} ({_num(s['median_ci_low'])}–{_num(s['median_ci_high'])})"
            )
            assert page.text[f"median-{key}-{cid}"] == expected
            assert page.text[f"events-{key}-{cid}"] == str(s["events"])
            assert page.text[f"n-{key}-{cid}"] == str(s["n"])
            for mark, lm in s["landmarks"].items():
                shown = page.text[f"landmark-{mark}-{key}-{cid}"]
                if lm is None:
                    assert shown == "NE"
                else:
                    lo, hi = lm["ci_low"], lm["ci_high"]
                    assert shown == (f"{100 * lm['surv']:.1f}% [{_num(lo and 100 * lo)}, "
                                     f"{_num(hi and 100 * hi)}]")  # fmt: skip
        fu = data["cohorts"][cid]["follow_up"]
        assert page.text[f"follow-up-{cid}"] == (
            f"{_num(fu['median'])} ({_num(fu['median_ci_low'])}–{_num(fu['median_ci_high'])})"
        )


def test_best_response_counts_are_those_of_results_json(report) -> None:
    data, page, cohorts = report
    for cid in cohorts:
        bor = data["cohorts"][cid]["bor"]
        for kind in ("confirmed", "unconfirmed"):
            for cat, v in bor[kind].items():
                shown = page.text[f"bor-{kind}-{cat.replace('/', '_')}-{cid}"]
                assert shown == ("0" if v["n"] == 0 else f"{v['n']} ({v['pct']:.1f}%)")


def test_ae_overview_and_analysis_sets_are_those_of_results_json(report) -> None:
    data, page, cohorts = report
    for cid in cohorts:
        for key, e in data["safety"]["cohorts"][cid]["overview"].items():
            shown = page.text[f"ae-{key}-{cid}"]
            assert shown == ("0" if e["n"] == 0 else f"{e['n']} ({e['pct']:.1f}%)")
        sets = data["analysis_sets"]["by_cohort"][cid]
        assert page.text[f"set-ITTFL-{cid}"].startswith(str(sets["ITTFL"]))
        assert page.text[f"set-SAFFL-{cid}"].startswith(str(sets["SAFFL"]))
    assert page.text["kpi-screened"].split()[1] == str(data["analysis_sets"]["screened"])


def test_test_against_p0_and_ttd_medians_are_those_of_results_json(report) -> None:
    data, page, cohorts = report
    for cid in cohorts:
        test = data["cohorts"][cid]["orr_test"]
        p = test["p_value"]
        assert page.text[f"ptest-{cid}"] == ("<0.001" if p < 0.001 else f"{p:.3f}")
        for row in data["ttd"][cid]:
            assert page.text[f"ttd-{row['PARAMCD']}-{cid}"] == (
                f"{_num(row['MEDIAN'])} ({_num(row['MEDIAN_CI_LOW'])}–{_num(row['MEDIAN_CI_HIGH'])})"
            )


def test_overall_subgroup_row_is_the_cohorts_orr(report) -> None:
    data, _, cohorts = report
    for cid in cohorts:
        overall = next(r for r in data["subgroups"]["cohorts"][cid]["orr"]
                       if r["VARIABLE"] == "OVERALL")  # fmt: skip
        orr = data["cohorts"][cid]["orr"]
        assert (overall["X"], overall["N"]) == (orr["x"], orr["n"])
        assert overall["CI_LOW"] == pytest.approx(orr["ci_low"])


def test_panel_screen_numbers_are_those_of_results_json(report) -> None:
    data, page, _ = report
    screen = data["biomarkers"]["screen"]
    for key in ("orr", "pfs"):
        e = screen[key]
        for cell, value in (("n", e["n"]), ("without", e["without_profile"]),
                            ("events", e["events"]), ("tested", e["tested"]),
                            ("significant", e["significant"])):  # fmt: skip
            assert page.text[f"screen-{key}-{cell}"].strip() == str(value)
        for r in e["top"][:10]:
            shown = f"{r['estimate']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})"
            assert page.text[f"screen-{key}-{r['feature']}"].strip() == shown
        assert f"screen-{key}-{e['top'][10]['feature']}" not in page.text  # top 10 shown


def test_marker_waterfall_is_drawn_from_the_first_marker_of_the_biomarker_table(report) -> None:
    data, page, _ = report
    waterfall = data["biomarkers"].get("waterfall")
    if waterfall is None:  # a protocol without markers: the screen only
        assert "waterfall-biomarker" not in page.found
        return
    assert waterfall["drawn"] == waterfall["markers"][0]["marker"] == "PDL1_CPS"
    assert waterfall["markers"][0]["column"] == "PDL1_CPS_GE1"
    assert "waterfall-biomarker" in page.found


def test_pfs_forest_by_marker_shows_the_cox_hazard_ratios_of_results_json(report) -> None:
    data, page, _ = report
    markers = data["biomarkers"].get("markers")
    if not markers:  # a protocol without markers: the screen only
        assert "forest-pfs-biomarker" not in page.found
        return
    shown = page.text["forest-pfs-biomarker"]
    drawn = 0
    for m in markers.values():
        for split in m["by_cohort"]["ALL"]["pfs"]["by_status"]:
            cox = split["cox"]
            if cox.get("hr") is not None and cox.get("ci_low") is not None:
                assert f"{cox['hr']:.2f} ({cox['ci_low']:.2f}–{cox['ci_high']:.2f})" in shown
                drawn += 1
    assert drawn >= 4


# Analysis tables behind the report: smallest frames, values derived by hand.

PROTOCOL = parse_protocol(
    {"id": "S", "title": "t", "cohorts": [{"id": "A", "label": "A"}, {"id": "B", "label": "B"}]}
)


def _adsl(n: int, **cols: list) -> pl.DataFrame:
    base = {
        "USUBJID": [f"S{i}" for i in range(n)],
        "COHORT": ["A"] * n,
        "ITTFL": ["Y"] * n,
        "SAFFL": ["Y"] * n,
        "EFFFL": ["Y"] * n,
        "STARTDT": [dt.date(2021, 1, 1)] * n,
    }
    return pl.DataFrame(base | cols)


def test_km_curve_is_the_kaplan_meier_table_of_each_cohort_and_the_pool_in_days() -> None:
    adsl = _adsl(3, COHORT=["A", "A", "B"])
    adtte = pl.DataFrame({"USUBJID": ["S0", "S1", "S2"], "PARAMCD": ["PFS"] * 3,
                          "AVAL": [30.0, 60.0, 90.0], "CNSR": [0, 1, 0]})  # fmt: skip
    pfs = compute_km_curves(adtte, adsl, PROTOCOL)["PFS"]
    # A: event at 30 of 2 at risk -> 0.5; censored at 60. ALL: 2/3 after day 30, 0 after day 90.
    rows = pfs.select("COHORT", "time", "n_risk", "surv").rows()
    assert rows == [("A", 30.0, 2, 0.5), ("A", 60.0, 1, 0.5), ("B", 90.0, 1, 0.0),
                    ("ALL", 30.0, 3, pytest.approx(2 / 3)), ("ALL", 60.0, 2, pytest.approx(2 / 3)),
                    ("ALL", 90.0, 1, 0.0)]  # fmt: skip


def test_dor_curve_uses_the_responders_of_the_response_analysis_set_only() -> None:
    adsl = _adsl(2, EFFFL=["Y", "N"])
    adtte = pl.DataFrame({"USUBJID": ["S0", "S1"], "PARAMCD": ["DOR"] * 2,
                          "AVAL": [100.0, 50.0], "CNSR": [0, 0]})  # fmt: skip
    dor = compute_km_curves(adtte, adsl, PROTOCOL)["DOR"]
    assert dor.filter(pl.col("COHORT") == "A")["time"].to_list() == [100.0]


def test_ttd_median_is_in_months_of_the_protocol() -> None:
    adsl = _adsl(2)
    adtte = pl.DataFrame({"USUBJID": ["S0", "S1"], "PARAMCD": ["TTD_QL2"] * 2,
                          "PARAM": ["Time to deterioration of QL2"] * 2,
                          "AVAL": [30.4375, 91.3125], "CNSR": [0, 0]})  # fmt: skip
    ttd = compute_ttd_summary(adtte, adsl, PROTOCOL).filter(pl.col("COHORT") == "A")
    # S(t) = 0.5 on [1, 3) months: R quantile.survfit takes the midpoint of the flat, 2 months.
    assert ttd.select("N", "EVENTS", "MEDIAN").row(0) == (2, 2, pytest.approx(2.0))


def test_waterfall_takes_the_smallest_complete_post_baseline_change_of_the_protocol_reader() -> (
    None
):
    adsl = _adsl(1)
    adtr = pl.DataFrame({
        "USUBJID": ["S0"] * 4, "READER": ["INVESTIGATOR"] * 3 + ["INDEPENDENT ASSESSOR"],
        "PARAMCD": ["SDIAM"] * 4, "ABLFL": ["Y", None, None, None],
        "ANL01FL": ["Y", "Y", "Y", "Y"], "PCHG": [0.0, -20.0, -35.0, -90.0],
        "AVISIT": ["BASELINE", "WEEK 6", "WEEK 12", "WEEK 12"],
        "ADT": [dt.date(2021, 1, 1), dt.date(2021, 2, 12), dt.date(2021, 3, 26),
                dt.date(2021, 3, 26)],
    })  # fmt: skip
    adrs = pl.DataFrame({"USUBJID": ["S0"], "PARAMCD": ["CBOR"], "AVALC": ["PR"]})
    wf = compute_waterfall({"adsl": adsl, "adtr": adtr, "adrs": adrs}, PROTOCOL)
    assert wf.filter(pl.col("COHORT") == "A").select("BPCHG", "AVISIT", "BOR").row(0) == (
        -35.0, "WEEK 12", "PR",
    )  # fmt: skip


def test_subgroup_orr_counts_confirmed_responders_per_level_with_an_exact_interval() -> None:
    adsl = _adsl(4, SEX=["M", "M", "F", "F"])
    adrs = pl.DataFrame({"USUBJID": ["S0", "S1", "S2", "S3"], "PARAMCD": ["CBOR"] * 4,
                         "AVALC": ["CR", "PR", "SD", "PD"]})  # fmt: skip
    data, tables = compute_subgroups({"adsl": adsl, "adrs": adrs}, PROTOCOL)
    sex = tables["subgroup_orr"].filter((pl.col("COHORT") == "A") & (pl.col("VARIABLE") == "SEX"))
    # Clopper-Pearson: 2/2 -> [0.025^(1/2), 1]; 0/2 -> [0, 1 - 0.025^(1/2)].
    m, f = sex.rows(named=True)
    assert (m["LEVEL"], m["X"], m["N"], m["CI_LOW"], m["CI_HIGH"]) == (
        "M",
        2,
        2,
        pytest.approx(0.025**0.5),
        pytest.approx(1.0),
    )
    assert (f["LEVEL"], f["X"], f["N"], f["CI_LOW"], f["CI_HIGH"]) == (
        "F",
        0,
        2,
        pytest.approx(0.0),
        pytest.approx(1 - 0.025**0.5),
    )
    assert data["min_events_per_level"] == MIN_EVENTS_PER_LEVEL == 5


def test_pfs_hazard_ratio_needs_five_events_in_each_level() -> None:
    n = 14
    sex = ["M"] * 6 + ["F"] * 4 + ["U"] * 4
    adsl = _adsl(n, SEX=sex)
    adtte = pl.DataFrame({"USUBJID": [f"S{i}" for i in range(n)], "PARAMCD": ["PFS"] * n,
                          "AVAL": [float(10 * (i + 1)) for i in range(n)],
                          "CNSR": [0] * 6 + [0, 0, 0, 0] + [0, 0, 0, 1]})  # fmt: skip
    _, tables = compute_subgroups({"adsl": adsl, "adtte": adtte}, PROTOCOL)
    rows = {
        r["LEVEL"]: r for r in tables["subgroup_pfs"].filter(pl.col("COHORT") == "A").to_dicts()
    }
    # M has 6 events, F 4 and U 3: only M reaches 5, so no level can be compared with it.
    assert rows["M"]["EVENTS"] == 6 and rows["F"]["EVENTS"] == 4 and rows["U"]["EVENTS"] == 3
    assert all(r["HR"] is None for r in rows.values())
    assert rows["F"]["NOTE"] == "fewer than 5 events"
    assert rows["M"]["NOTE"] == "no other level with at least 5 events"


def test_pfs_hazard_ratio_of_two_levels_with_enough_events_is_the_cox_estimate() -> None:
    n = 10
    adsl = _adsl(n, SEX=["M"] * 5 + ["F"] * 5)
    # M and F fail alternately (M first); whatever the estimate, swapping the labels of the two
    # levels must invert it: HR(F vs M) x HR(M vs F) = 1.
    times = [1.0, 3.0, 5.0, 7.0, 9.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    adtte = pl.DataFrame({"USUBJID": [f"S{i}" for i in range(n)], "PARAMCD": ["PFS"] * n,
                          "AVAL": times, "CNSR": [0] * n})  # fmt: skip
    _, tables = compute_subgroups({"adsl": adsl, "adtte": adtte}, PROTOCOL)
    rows = {
        r["LEVEL"]: r for r in tables["subgroup_pfs"].filter(pl.col("COHORT") == "A").to_dicts()
    }
    assert rows["M"]["REFERENCE"] and rows["M"]["HR"] == 1.0
    swapped = adsl.with_columns(SEX=pl.Series(["F"] * 5 + ["M"] * 5))
    _, t2 = compute_subgroups({"adsl": swapped, "adtte": adtte}, PROTOCOL)
    hr_back = t2["subgroup_pfs"].filter((pl.col("COHORT") == "A") & (pl.col("LEVEL") == "F"))["HR"][
        0
    ]
    assert rows["F"]["HR"] * hr_back == pytest.approx(1.0)


def test_baseline_age_is_summarised_as_n_mean_sd_median_and_range() -> None:
    adsl = _adsl(3, AGE=[50.0, 60.0, 70.0], SEX=["M", "F", None])
    data, table = compute_baseline({"adsl": adsl}, PROTOCOL)
    age = table.filter((pl.col("COHORT") == "A") & (pl.col("KEY") == "age")).row(0, named=True)
    assert (age["n"], age["MEAN"], age["SD"], age["MEDIAN"], age["MIN"], age["MAX"]) == (
        3,
        60.0,
        10.0,
        60.0,
        50.0,
        70.0,
    )
    sex = table.filter((pl.col("COHORT") == "A") & (pl.col("KEY") == "sex"))
    assert sex.select("LEVEL", "n").rows() == [("M", 1), ("F", 1), ("Missing", 1)]
    assert {"variable": "ECOGBL", "key": "ecog", "label": "ECOG performance status"} in data[
        "not_available"
    ]


def test_disposition_counts_screen_failures_with_their_reasons_and_the_enrolled() -> None:
    adsl = pl.DataFrame({
        "USUBJID": ["S0", "S1", "S2", "S3"], "COHORT": ["A", "A", None, None],
        "SCRNFFL": ["N", "N", "Y", "Y"], "SFREAS": [None, None, "ECOG 2", "ECOG 2"],
        "ITTFL": ["Y", "Y", "N", "N"], "SAFFL": ["Y", "N", "N", "N"],
        "EOSSTT": ["DISCONTINUED", None, None, None], "DCSREAS": ["DEATH", None, None, None],
        "DTHDT": [dt.date(2021, 5, 1), None, None, None],
    })  # fmt: skip
    data, table = compute_disposition(adsl, PROTOCOL)
    assert (data["screened"], data["screen_failures"]) == (4, 2)
    assert data["screen_failure_reasons"] == {"ECOG 2": 2}
    a = data["cohorts"]["A"]
    assert (a["enrolled"], a["treated"], a["died"]) == (2, 1, 1)
    assert a["status"] == {"DISCONTINUED": 1, "ONGOING": 1}
    died = table.filter((pl.col("COHORT") == "A") & (pl.col("CATEGORY") == "died")).row(
        0, named=True
    )
    assert (died["n"], died["N"], died["PCT"]) == (1, 2, 50.0)


def test_marker_status_is_a_subgroup_with_cutoff_levels_and_the_missing_level() -> None:
    protocol = PROTOCOL.model_copy(update={"biomarkers": [
        Biomarker(id="CPS", label="PD-L1 CPS", cutoffs=[1.0]),
        Biomarker(id="HER2", type="binary", categories=["POSITIVE", "NEGATIVE"]),
    ]})  # fmt: skip
    adsl = _adsl(5)
    adrs = pl.DataFrame({"USUBJID": [f"S{i}" for i in range(5)], "PARAMCD": ["CBOR"] * 5,
                         "AVALC": ["PR", "SD", "CR", "PD", "PR"]})  # fmt: skip
    # S4 has no ADBM value: Missing. CPS >= 1: S0 (PR), S2 (CR); < 1: S1 (SD), S3 (PD).
    adbm = pl.DataFrame({"USUBJID": ["S0", "S1", "S2", "S3", "S4"],
                         "CPS_GE1": ["Y", "N", "Y", "N", None],
                         "HER2": ["POSITIVE", "NEGATIVE", "NEGATIVE", "NEGATIVE", None]})  # fmt: skip
    data, tables = compute_subgroups({"adsl": adsl, "adrs": adrs, "adbm": adbm}, protocol)
    assert {"variable": "CPS_GE1", "label": "PD-L1 CPS ≥ 1"} in data["variables"]
    orr = tables["subgroup_orr"].filter(pl.col("COHORT") == "A")
    cps = orr.filter(pl.col("VARIABLE") == "CPS_GE1").select("LEVEL", "X", "N").rows()
    assert cps == [("< 1", 0, 2), ("≥ 1", 2, 2), ("Missing", 1, 1)]
    her2 = orr.filter(pl.col("VARIABLE") == "HER2").select("LEVEL", "X", "N").rows()
    assert her2 == [("NEGATIVE", 1, 3), ("POSITIVE", 1, 1), ("Missing", 1, 1)]
