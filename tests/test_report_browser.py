"""The report as a browser renders it (headless Chromium): every section and figure in the DOM, no
figure empty; screenshots of the whole page and of each section under build/report-screenshots/.

Chromium is the Debian package ``chromium``; this test installs nothing. Without it the test is
skipped, unless ``ONCOTRIAL_REQUIRE_BROWSER`` is set (as in ``make test``), when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from oncotrial.protocol import load_protocol
from oncotrial.report import render_report
from oncotrial.report.sections import SECTION_IDS
from tests.conftest import simulated_results

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "examples" / "protocols" / "anlotinib-sintilimab-escc.yaml"
SCREENSHOTS = ROOT / "build" / "report-screenshots"
WIDTH = 1280
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")  # fmt: skip


def _chromium(known: tuple[str, ...] = ("/usr/bin/chromium",)) -> str:
    found = shutil.which("chromium") or next((p for p in known if Path(p).exists()), None)
    if found:
        return found
    if os.environ.get("ONCOTRIAL_REQUIRE_BROWSER"):
        pytest.fail("chromium is not installed, but ONCOTRIAL_REQUIRE_BROWSER is set "
                    "(install it: apt-get install -y chromium)")  # fmt: skip
    pytest.skip("chromium is not installed (apt-get install -y chromium); set "
                "ONCOTRIAL_REQUIRE_BROWSER=1 to make this a failure")  # fmt: skip


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> str:
    return _chromium()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    protocol = load_protocol(PROTOCOL)
    results, adam = simulated_results(folder, protocol, 40, 5, n_features=1500)
    out = folder / "report" / "report.html"
    results.write(out.parent)
    return render_report(results, out, adam=adam, protocol=protocol)


@pytest.fixture(scope="module")
def dom(browser: str, report: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    done = _run(browser, tmp_path_factory.mktemp("profile"), "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Figures(HTMLParser):
    """Ids of every element, and the drawn SVG elements inside each <figure>."""

    DRAWN = ("path", "use", "rect", "line", "polyline", "polygon", "circle", "ellipse", "text")

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.marks: dict[str, int] = {}
        self.svgs: dict[str, int] = {}
        self._figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "figure":
            self._figure = str(a.get("id"))
            self.marks[self._figure] = 0
            self.svgs[self._figure] = 0
        elif self._figure and tag == "svg":
            self.svgs[self._figure] += 1
        elif self._figure and tag in self.DRAWN:
            self.marks[self._figure] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None


def test_without_chromium_the_browser_tests_skip_unless_the_browser_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("ONCOTRIAL_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        _chromium(known=())
    monkeypatch.setenv("ONCOTRIAL_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="ONCOTRIAL_REQUIRE_BROWSER is set"):
        _chromium(known=())


def test_every_section_is_in_the_rendered_page(dom: str) -> None:
    parser = _Figures()
    parser.feed(dom)
    assert [i for i in parser.ids if i in SECTION_IDS] == list(SECTION_IDS)


def test_every_figure_is_rendered_and_none_is_empty(dom: str) -> None:
    parser = _Figures()
    parser.feed(dom)
    expected = {"consort", "waterfall-ANL_SIN", "spider-ANL_SIN", "swimmer-ANL_SIN", "km-pfs",
                "km-os", "km-dor", "km-ttp", "forest-orr", "forest-pfs", "qol-change",
                "forest-orr-biomarker", "forest-pfs-biomarker", "waterfall-biomarker",
                "km-pfs-biomarker", "volcano-orr", "volcano-pfs"}  # fmt: skip
    assert expected <= set(parser.marks)
    for fig_id, marks in parser.marks.items():
        assert parser.svgs[fig_id] >= 1, f"{fig_id}: no SVG"
        assert marks >= 10, f"{fig_id}: only {marks} drawn elements"
    assert "Figure not available" not in dom


def _screenshot(browser: str, profile: Path, page: Path, png: Path, height: int) -> None:
    done = _run(browser, profile, f"--screenshot={png}", f"--window-size={WIDTH},{height}",
                page.as_uri())  # fmt: skip
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_screenshots_of_the_page_and_of_each_section(browser: str, report: Path,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("shots")
    _screenshot(browser, profile, report, SCREENSHOTS / "report-top.png", 2400)
    html = report.read_text(encoding="utf-8")
    for section in SECTION_IDS:
        # Show one section alone (the others hidden) so that each screenshot starts at its top.
        hide = (f"header.cover:not(#{section}), nav.toc:not(#{section}), "
                f".report-section:not(#{section}), footer {{ display: none !important; }}")  # fmt: skip
        page = report.parent / f"_screenshot-{section}.html"
        page.write_text(re.sub("</style>", hide + "</style>", html, count=1), encoding="utf-8")
        _screenshot(browser, profile, page, SCREENSHOTS / f"section-{section}.png", 3000)
        page.unlink()
