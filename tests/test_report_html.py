"""The study report as a document: every section, self-contained (no external URL), figures inline,
files beside it, and no statistic computed while it is written."""

from __future__ import annotations

import re
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from oncotrial.adam_io import read_adam
from oncotrial.analyze import Results, analyze_all
from oncotrial.biomarkers.screen_results import FeaturePanel
from oncotrial.derive.pipeline import derive_all
from oncotrial.protocol import load_protocol, parse_protocol
from oncotrial.report import read_listings, render_html, render_report
from oncotrial.report.sections import SECTION_IDS, FigureBook, ReportInput
from oncotrial.report.sections import _format as fmt
from oncotrial.report.sections._listing import MAX_ROWS, listing
from oncotrial.sdtm.read import read_sdtm
from oncotrial.simulate import simulate_trial, write_sdtm
from oncotrial.simulate.biomarkers import simulate_biomarkers

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "examples" / "protocols" / "camrelizumab-chemo-or-anlotinib-escc.yaml"


def build_trial(folder: Path, protocol_file: Path, subjects: int = 30, seed: int = 3,
                n_features: int = 0):  # fmt: skip
    """Simulate, derive and analyse a small trial (with an expression panel of ``n_features``
    when > 0); returns (results, adam with listings, protocol)."""
    protocol = load_protocol(protocol_file)
    domains = simulate_trial(protocol, subjects, seed, None)
    write_sdtm(domains, folder / "sdtm")
    sdtm = read_sdtm(folder / "sdtm", files=protocol.sdtm_files)
    derive_all(sdtm, protocol).write(folder / "adam")
    adam = read_adam(folder / "adam")
    panel = None
    if n_features:
        matrix = simulate_biomarkers(domains, seed, n_features=n_features)[1]
        panel = FeaturePanel("expression.parquet", matrix) if matrix is not None else None
    results = analyze_all(adam, protocol, panel)
    return results, {**adam, **read_listings(folder / "adam")}, protocol


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory):
    return build_trial(tmp_path_factory.mktemp("trial"), MULTI, n_features=200)


@pytest.fixture(scope="module")
def written(trial, tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, adam, protocol = trial
    out = tmp_path_factory.mktemp("report") / "report.html"
    results.write(out.parent)
    return render_report(results, out, adam=adam, protocol=protocol)


class _Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def test_every_section_is_present_once_in_the_documented_order(written: Path) -> None:
    ids = [a["id"] for _, a in _elements(written.read_text()) if a.get("id") in SECTION_IDS]
    assert ids == list(SECTION_IDS)
    assert SECTION_IDS == (
        "title", "toc", "disposition", "demographics", "response", "time-to-event", "subgroups",
        "biomarkers", "safety", "quality-of-life", "data-quality", "listings",
    )  # fmt: skip


def test_no_resource_is_fetched_from_anywhere(written: Path) -> None:
    html = written.read_text()
    for tag, attrs in _elements(html):
        for name in ("src", "href", "srcset", "data", "action", "xlink:href", "poster"):
            if name not in attrs:
                continue
            value = attrs[name] or ""
            assert not re.match(r"\s*(https?:|//|ftp:|file:)", value, re.I), (tag, name, value)
            if name in ("src", "srcset"):
                assert value.startswith("data:"), (tag, name, value)
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", html, re.I)


def test_every_figure_is_inline_svg_with_drawn_marks(written: Path) -> None:
    html = written.read_text()
    figures = re.findall(r'<figure id="([^"]+)"[^>]*>(.*?)</figure>', html, re.S)
    ids = {f for f, _ in figures}
    assert {"consort", "waterfall-CHEMO", "spider-ANLOTINIB", "swimmer-CHEMO", "km-pfs", "km-os",
            "km-dor", "km-ttp", "forest-orr", "forest-pfs", "qol-change", "volcano-orr",
            "volcano-pfs"} <= ids  # fmt: skip
    for fig_id, body in figures:
        assert "Figure not available" not in body, fig_id
        svg = re.search(r"<svg\b.*?</svg>", body, re.S)
        assert svg, fig_id
        drawn = len(re.findall(r"<(path|use|rect|line|polyline|polygon|circle|text)\b", svg[0]))
        assert drawn >= 10, (fig_id, drawn)


def test_every_element_id_is_unique(written: Path) -> None:
    ids = [a["id"] for _, a in _elements(written.read_text()) if a.get("id")]
    assert len(ids) == len(set(ids)) > 100


def test_figures_and_listings_are_written_beside_the_report(written: Path) -> None:
    folder = written.parent
    figures = {p.name for p in (folder / "figures").iterdir()}
    for fig_id in ("consort", "km-pfs", "forest-orr", "waterfall-CHEMO"):
        assert {f"{fig_id}.svg", f"{fig_id}.png"} <= figures
    assert (folder / "figures" / "km-pfs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listings = {p.name for p in (folder / "listings").iterdir()}
    assert {"response_history.csv", "deaths.csv", "serious_adverse_events.csv"} <= listings
    tables = {p.name for p in (folder / "tables").iterdir()}
    assert {"km_pfs.csv", "subgroup_orr.csv", "baseline.csv", "disposition.csv"} <= tables


def test_print_style_breaks_pages_before_sections_and_keeps_tables_whole(written: Path) -> None:
    css = written.read_text()
    assert "@media print" in css
    assert re.search(r"\.report-section\s*\{\s*break-before:\s*page", css)
    assert re.search(r"\.table-block,[^{]*\{\s*break-inside:\s*avoid", css)


STATISTICS = ("kaplan_meier", "reverse_kaplan_meier", "binomial_ci", "binomial_test", "cox",
              "logrank", "compute_efficacy", "compute_safety_summary", "compute_pro_summary",
              "compute_km_curves", "compute_subgroups", "compute_baseline", "compute_best_pchg",
              "cox_screen", "logistic_screen", "benjamini_hochberg", "compute_biomarker_screen",
              "compute_marker_waterfall")  # fmt: skip


def test_the_report_never_computes_a_statistic(trial, monkeypatch: pytest.MonkeyPatch) -> None:
    results, adam, protocol = trial
    before, _ = render_html(results, adam=adam, protocol=protocol)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report called a statistics function")

    for name, module in list(sys.modules.items()):
        if name.startswith("oncotrial") and module is not None:
            for attr in STATISTICS:
                if callable(getattr(module, attr, None)):
                    monkeypatch.setattr(module, attr, forbidden)
    after, _ = render_html(results, adam=adam, protocol=protocol)
    assert after == before


def test_a_missing_figure_function_leaves_a_clear_note(trial, monkeypatch) -> None:
    results, adam, protocol = trial
    fake = types.ModuleType("fake_figures")
    monkeypatch.setitem(sys.modules, "fake_figures", fake)
    html, inp = render_html(results, adam=adam, protocol=protocol,
                            figures=FigureBook(module="fake_figures"))  # fmt: skip
    assert "Figure not available: fake_figures.km_plot is not part of this build." in html
    assert "km_plot" in inp.figures.missing
    assert "<svg" not in html


def test_a_figure_that_fails_leaves_a_note_and_the_rest_of_the_report(trial, monkeypatch) -> None:
    results, adam, protocol = trial
    fake = types.ModuleType("broken_figures")

    def km_plot(*args: object, **kwargs: object) -> None:
        raise ValueError("no curve")

    fake.km_plot = km_plot  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "broken_figures", fake)
    html, _ = render_html(results, adam=adam, protocol=protocol,
                          figures=FigureBook(module="broken_figures"))  # fmt: skip
    assert "km_plot could not draw it (ValueError: no curve)" in html
    assert 'id="listings"' in html


def test_results_alone_render_with_notes_where_subject_records_are_needed(trial) -> None:
    results, _, _ = trial
    html, _ = render_html(results)
    for section in SECTION_IDS:
        assert f'id="{section}"' in html
    assert "Not found beside the ADaM datasets" in html


def _input(cohorts: dict[str, dict]) -> ReportInput:
    protocol = parse_protocol({"id": "S", "title": "t"})
    results = Results(data={"cohorts": cohorts})
    return ReportInput(results, {}, {}, protocol, FigureBook())


def test_a_single_cohort_trial_shows_its_cohort_without_a_pooled_copy() -> None:
    inp = _input({"A": {"label": "Arm A"}, "ALL": {"label": "All subjects"}})
    assert inp.cohorts == [("A", "Arm A")]
    assert inp.pooled == "A"


def test_a_trial_with_cohorts_shows_each_and_the_pool() -> None:
    inp = _input({"A": {"label": "Arm A"}, "B": {"label": "Arm B"}, "ALL": {"label": "All"}})
    assert inp.cohorts == [("A", "Arm A"), ("B", "Arm B"), ("ALL", "All")]
    assert inp.own_cohorts == [("A", "Arm A"), ("B", "Arm B")]
    assert inp.pooled == "ALL"


def test_a_long_listing_shows_200_rows_and_keeps_every_row_in_its_csv() -> None:
    inp = _input({})
    frame = pl.DataFrame({"USUBJID": [f"S-{i:03d}" for i in range(250)], "AVAL": [1.5] * 250})
    table = listing(inp, "long", "Long", frame, [("USUBJID", "Subject"), ("AVAL", "Value")],
                    numeric=("AVAL",))  # fmt: skip
    assert len(table.body) == MAX_ROWS == 200
    assert (
        "Showing the first 200 of 250 rows; the full listing is in listings/long.csv." in table.note
    )
    assert inp.files["listings/long.csv"].height == 250


def test_an_empty_listing_says_none() -> None:
    table = listing(_input({}), "empty", "Empty", pl.DataFrame({"USUBJID": []}, schema={"USUBJID": pl.String}),
                    [("USUBJID", "Subject")])  # fmt: skip
    assert [c.text for c in table.body[0].cells] == ["None."]


def test_csr_number_formats() -> None:
    assert fmt.n_pct(6, 11.320754) == "6 (11.3%)"
    assert fmt.n_pct(0, 0.0) == "0"
    assert fmt.pct(0.113207) == "11.3%"
    assert fmt.ci(0.042696, 0.230290, scale=100) == "[4.3, 23.0]"
    assert fmt.median_ci(4.2053, 2.9569, 5.4538) == "4.2 (3.0–5.5)"
    assert fmt.median_ci(None, 14.2259, None) == "NE (14.2–NE)"
    assert fmt.p_value(0.00004) == "<0.001"
    assert fmt.p_value(0.96775) == "0.968"
    assert fmt.hr_ci(0.6234, 0.3207, 1.2139) == "0.62 (0.32–1.21)"
    assert fmt.title_case("PROGRESSIVE DISEASE") == "Progressive disease"
