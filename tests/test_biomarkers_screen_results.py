"""The expression-panel screen in the pipeline (``analyze``/``report --features``):
results.json ``biomarkers.screen`` equals direct cox_screen / logistic_screen calls on the ORR set
and PFS records, unmatched subjects are counted, the simulated true signals rank at the top, and a
bad matrix is a clear CLI error; the waterfall by marker status (``biomarker_waterfall``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from oncotrial.adam_io import read_adam
from oncotrial.analyze import analyze_all
from oncotrial.biomarkers.screen_results import (
    TOP,
    FeaturePanel,
    compute_biomarker_screen,
    read_feature_panel,
)
from oncotrial.biomarkers.waterfall import compute_marker_waterfall
from oncotrial.cli import app
from oncotrial.derive.pipeline import derive_all
from oncotrial.errors import InputError
from oncotrial.protocol import load_protocol
from oncotrial.protocol.model import Biomarker, Cohort, Protocol
from oncotrial.sdtm.read import read_sdtm
from oncotrial.simulate import simulate_sdtm, simulate_trial, write_sdtm
from oncotrial.simulate.biomarkers import PANEL, simulate_biomarkers
from oncotrial.stats import cox_screen, logistic_screen

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "protocols" / "anlotinib-sintilimab-escc.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small demo trial written by the CLI's library calls, with a 300-feature panel."""
    folder = tmp_path_factory.mktemp("screen")
    protocol = load_protocol(DEMO)
    paths = simulate_sdtm(protocol, folder / "sdtm", n_subjects=40, seed=3,
                          features=folder / "panel.parquet", n_features=300)  # fmt: skip
    derive_all(read_sdtm(folder / "sdtm", files=protocol.sdtm_files), protocol).write(
        folder / "adam"
    )
    adam = read_adam(folder / "adam")
    panel = read_feature_panel(paths[-1], adam["adsl"])
    results = analyze_all(adam, protocol, panel)
    return {"folder": folder, "protocol": protocol, "adam": adam, "panel": panel,
            "results": results, "screen": results.data["biomarkers"]["screen"]}  # fmt: skip


def _orr_set(adam: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Enrolled EFFFL subjects, responder = CBOR CR or PR (no record: non-responder)."""
    cbor = adam["adrs"].filter(pl.col("PARAMCD") == "CBOR").select("USUBJID", "AVALC")
    return (
        adam["adsl"].filter(pl.col("COHORT").is_not_null() & (pl.col("EFFFL") == "Y"))
        .select("USUBJID").join(cbor, on="USUBJID", how="left")
        .select("USUBJID", pl.col("AVALC").is_in(["CR", "PR"]).fill_null(False).alias("Y"))
    )  # fmt: skip


def test_orr_screen_equals_logistic_screen_of_the_orr_set_and_its_responders(demo) -> None:
    adam, panel, screen = demo["adam"], demo["panel"], demo["screen"]
    pop = _orr_set(adam).join(panel.matrix, on="USUBJID").sort("USUBJID")
    direct = logistic_screen(pop["Y"].to_numpy(), pop.select(panel.features))
    assert_frame_equal(demo["results"].tables["biomarker_screen_orr"], direct)
    orr = demo["results"].data["ALL"]["orr"]
    assert screen["orr"]["n_analysis_set"] == orr["n"]
    assert screen["orr"]["events"] == orr["x"]  # every simulated treated subject has a profile
    top = direct.filter(pl.col("p").is_not_null()).sort("p", "feature").head(TOP)
    assert [r["feature"] for r in screen["orr"]["top"]] == top["feature"].to_list()
    assert [r["estimate"] for r in screen["orr"]["top"]] == top["or"].to_list()
    assert screen["orr"]["significant"] == int((direct["q"] < 0.05).sum())


def test_pfs_screen_equals_cox_screen_of_adtte_pfs_in_the_time_to_event_set(demo) -> None:
    adam, panel = demo["adam"], demo["panel"]
    ids = adam["adsl"].filter(pl.col("COHORT").is_not_null() & (pl.col("ITTFL") == "Y"))
    pfs = (adam["adtte"].filter(pl.col("PARAMCD") == "PFS")
           .join(ids.select("USUBJID"), on="USUBJID", how="semi")
           .join(panel.matrix, on="USUBJID").sort("USUBJID"))  # fmt: skip
    direct = cox_screen(pfs["AVAL"].to_numpy(), (pfs["CNSR"] == 0).to_numpy(),
                        pfs.select(panel.features))  # fmt: skip
    assert_frame_equal(demo["results"].tables["biomarker_screen_pfs"], direct)
    s = demo["screen"]["pfs"]
    assert (s["n"], s["events"]) == (pfs.height, int((pfs["CNSR"] == 0).sum()))
    assert s["flagged"] == {"constant": 0, "too few events": 0, "separation": 0,
                            "not converged": 0}  # fmt: skip
    assert s["volcano"] == {"x": "log2 HR", "y": "-log10 p", "drawn": 300, "left_out": 0,
                            "highlighted": s["significant"]}  # fmt: skip


def test_subjects_of_the_set_without_a_profile_and_rows_outside_it_are_counted(demo) -> None:
    adam, panel = demo["adam"], demo["panel"]
    orr_ids = _orr_set(adam)["USUBJID"].sort()
    screen_fail = adam["adsl"].filter(pl.col("COHORT").is_null())["USUBJID"][0]
    # Drop the first two subjects of the ORR set; add a screen failure's profile.
    kept = panel.matrix.filter(~pl.col("USUBJID").is_in(orr_ids.head(2).implode()))
    extra = panel.matrix.head(1).with_columns(USUBJID=pl.lit(screen_fail))
    smaller = FeaturePanel("panel.csv", pl.concat([kept, extra]))
    data, _ = compute_biomarker_screen(adam, smaller, demo["protocol"])
    assert data["subjects"] == {"in_matrix": panel.matrix.height - 1, "not_in_adsl": 0}
    assert data["orr"]["without_profile"] == 2
    assert data["orr"]["n"] == data["orr"]["n_analysis_set"] - 2
    assert data["orr"]["outside_set"] == 1


def test_a_matrix_subject_not_in_adsl_is_an_error_never_dropped(demo) -> None:
    bad = FeaturePanel("p.csv", demo["panel"].matrix.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("GHOST")).otherwise("USUBJID")
        .alias("USUBJID")))  # fmt: skip
    with pytest.raises(InputError, match=r"p\.csv, USUBJID = 'GHOST': subject not found in ADSL"):
        compute_biomarker_screen(demo["adam"], bad, demo["protocol"])


def test_a_matrix_without_any_subject_of_the_set_is_a_clear_error(demo) -> None:
    adsl = demo["adam"]["adsl"]
    outside = adsl.filter(pl.col("COHORT").is_null())["USUBJID"]
    assert outside.len() > 0  # screen failures: in ADSL, in no analysis set
    matrix = pl.DataFrame({"USUBJID": outside, "G1": [float(i) for i in range(outside.len())]})
    with pytest.raises(InputError, match=r"p\.csv, USUBJID: no subject of the ORR analysis set "
                       r"\(EFFFL = Y, \d+ subjects\) has a row in the matrix"):  # fmt: skip
        compute_biomarker_screen(demo["adam"], FeaturePanel("p.csv", matrix), demo["protocol"])


def test_true_simulated_signals_rank_first_in_the_pfs_screen_through_adtte(tmp_path: Path) -> None:
    protocol = Protocol(id="SIG", title="signals", biomarkers=PANEL,
                        cohorts=[Cohort(id="A", label="A")])  # fmt: skip
    domains = simulate_trial(protocol, n_subjects=240, seed=11, n_screen_fail=10)
    _, matrix = simulate_biomarkers(domains, seed=11, n_features=2000, n_signals=5)
    assert matrix is not None
    write_sdtm(domains, tmp_path)
    adam = derive_all(read_sdtm(tmp_path), protocol).datasets
    data, tables = compute_biomarker_screen(adam, FeaturePanel("m", matrix), protocol)
    signals = [f"GENE_{j:05d}" for j in range(1, 6)]
    assert sorted(r["feature"] for r in data["pfs"]["top"][:5]) == signals
    assert all(r["estimate"] < 1 for r in data["pfs"]["top"][:5])  # higher value, longer PFS
    pfs = tables["biomarker_screen_pfs"].filter(pl.col("feature").is_in(signals))
    assert (pfs["q"] < 0.05).all()


# --- the command line -------------------------------------------------------------------------


def _invoke(demo: dict[str, Any], command: str, panel: Path, out: Path) -> Any:
    target = ["--out", str(out / "report.html")] if command == "report" else ["--out", str(out)]
    return runner.invoke(app, [command, "--adam", str(demo["folder"] / "adam"), "--protocol",
                               str(DEMO), *target, "--features", str(panel)])  # fmt: skip


def test_analyze_with_features_writes_the_screen_and_both_tables(demo, tmp_path: Path) -> None:
    result = _invoke(demo, "analyze", demo["folder"] / "panel.parquet", tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["biomarkers"]["screen"]["file"] == "panel.parquet"
    assert data["biomarkers"]["screen"]["features"] == 300
    for key in ("orr", "pfs"):
        table = pl.read_csv(tmp_path / "tables" / f"biomarker_screen_{key}.csv")
        assert table.height == 300 and table["feature"][0] == "GENE_00001"


def test_a_bad_matrix_is_exit_2_naming_file_row_variable_and_value(demo, tmp_path: Path) -> None:
    subject = demo["adam"]["adsl"]["USUBJID"][0]
    panel = tmp_path / "panel.csv"
    panel.write_text(f"USUBJID,G1,G2\n{subject},1.5,abc\nNOT-A-SUBJECT,2,3\n", encoding="utf-8")
    for command in ("analyze", "report"):
        result = _invoke(demo, command, panel, tmp_path / command)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "invalid feature matrix: 2 problems" in result.output
        assert "panel.csv, row 1, G2 = 'abc': not a number" in result.output
        assert "panel.csv, row 2, USUBJID = 'NOT-A-SUBJECT': subject not found" in result.output
        assert not (tmp_path / command / "results.json").exists()


def test_simulate_writes_the_panel_of_the_treated_subjects(tmp_path: Path) -> None:
    panel = tmp_path / "panel" / "expression.csv"
    result = runner.invoke(app, ["simulate", "--protocol", str(DEMO), "--subjects", "12",
                                 "--seed", "2", "--out", str(tmp_path / "sdtm"), "--features",
                                 str(panel), "--n-features", "25"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote a panel of 25 features to {panel}" in result.output
    matrix = pl.read_csv(panel)
    assert matrix.columns == ["USUBJID", *[f"GENE_{j:05d}" for j in range(1, 26)]]
    assert matrix.height == 12  # treated subjects only, no screen failure


def test_simulate_rejects_a_panel_file_that_is_not_parquet_or_csv(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--protocol", str(DEMO), "--subjects", "5",
                                 "--out", str(tmp_path / "sdtm"), "--features",
                                 str(tmp_path / "panel.xlsx")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert ("panel.xlsx, features = '.xlsx': a feature panel is written as .parquet or .csv"
            in result.output)  # fmt: skip
    assert not (tmp_path / "sdtm").exists()  # checked before anything is simulated


# --- waterfall by marker status ---------------------------------------------------------------

CPS = Biomarker(id="PDL1_CPS", type="continuous", source="GF", cutoffs=[1, 10])
HER2 = Biomarker(id="HER2", type="binary", source="GF", categories=["POSITIVE", "NEGATIVE"])
NOCUT = Biomarker(id="AGE_SCORE", type="continuous", source="GF")


def test_marker_status_is_the_first_cutoff_flag_or_the_category_and_missing_without_value() -> None:
    waterfall = pl.DataFrame({"COHORT": ["A", "A", "A"], "USUBJID": ["S3", "S1", "S2"],
                              "BPCHG": [10.0, -40.0, None], "BOR": ["SD", "PR", "NE"]})  # fmt: skip
    adbm = pl.DataFrame({"USUBJID": ["S1", "S2", "S3"], "PDL1_CPS": [0.5, 12.0, None],
                         "HER2": ["POSITIVE", None, "NEGATIVE"], "AGE_SCORE": [1.0, 2.0, 3.0],
                         "PDL1_CPS_GE1": ["N", "Y", None], "PDL1_CPS_GE10": ["N", "Y", None]})  # fmt: skip
    protocol = Protocol(id="W", title="w", biomarkers=[CPS, HER2, NOCUT])
    data, table = compute_marker_waterfall(waterfall, adbm, protocol)
    # Waterfall order kept (S3, S1, S2); CPS from PDL1_CPS_GE1 (first cut-off); AGE_SCORE has no
    # cut-off, so no status.
    assert table.filter(pl.col("MARKER") == "PDL1_CPS")["STATUS"].to_list() == [
        "MISSING", "< 1", ">= 1"]  # fmt: skip
    assert table.filter(pl.col("MARKER") == "HER2")["STATUS"].to_list() == [
        "NEGATIVE", "POSITIVE", "MISSING"]  # fmt: skip
    assert table["USUBJID"].to_list() == ["S3", "S1", "S2"] * 2
    assert [m["column"] for m in data["markers"]] == ["PDL1_CPS_GE1", "HER2"]
    assert data["markers"][0]["levels"] == [">= 1", "< 1"] and data["drawn"] == "PDL1_CPS"
