"""The HTML report, opened in a real browser: headless Chromium (Debian's, /usr/bin/chromium, driven
by Playwright) loads it offline, with no console error, every section present and every plot drawn.

The report is rendered from a small run's data made here (a passing and an expected-failure
property with events, a finding with its counterexample, a kill matrix, coverage, benchmarks and a
two-run history), so the test needs no earlier run; the screenshot is saved beside it
(ALYS_PBT_REPORT_DIR, else pytest's tmp_path).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from alys_pbt import history, metrics, report

CHROMIUM = os.environ.get("ALYS_PBT_CHROMIUM", "/usr/bin/chromium")


def _record(prop: str, *, failing: bool) -> dict[str, Any]:
    r = metrics.empty(prop)
    r.update(examples=12, outcome="xfailed" if failing else "passed")
    r["status"].update(valid=10, invalid=1, overrun=0, interesting=1 if failing else 0)
    r["seconds"].update(generating=0.2, executing=0.1, shrinking=0.05 if failing else 0.0)
    r["per_example_seconds"] = [0.01 * (i + 1) for i in range(12)]
    r["events"] = {"corruption: truncate": 7, "corruption: flip-bit": 5}
    if failing:
        r["first_failure"] = {"examples": 9, "seconds": 0.2}
        r["shrink"] = {"steps": 14, "improvements": 3}
        r["counterexample"] = {"chars": 20, "arguments": 1, "representation": "test(case=Case(x=0))"}
    return r


def sample_data() -> dict[str, Any]:
    return {
        "run": "2026-01-01T00:00:00Z",
        "target": "alys",
        "outcomes": {
            "properties/test_auxpow.py::test_a": {"outcome": "passed", "area": "auxpow"},
            "properties/test_auxpow.py::test_b": {"outcome": "xfailed", "area": "auxpow"},
            "tests/test_x.py::test_c": {"outcome": "skipped", "area": "tests"},
        },
        "findings": [
            {
                "id": "auxpow-example-quirk",
                "kind": "quirk",
                "area": "auxpow",
                "summary": "the node accepts <a thing> it should refuse",
                "source": "app/src/auxpow.rs check",
                "verdict": "caught",
                "results": [
                    {
                        "property": "properties/test_auxpow.py::test_b",
                        "caught": True,
                        "may": False,
                        "example": "AssertionError\nFalsifying example: test_b(case=<Case 1>)",
                        "error": "",
                    }
                ],
            }
        ],
        "metrics": [
            _record("properties/test_auxpow.py::test_a", failing=False),
            _record("properties/test_auxpow.py::test_b", failing=True),
        ],
        "coverage": {
            "folders": {
                "alys": report._percents(
                    {"statements": 100, "covered_lines": 95, "branches": 40, "covered_branches": 35}
                ),
                "models": report._percents(
                    {"statements": 80, "covered_lines": 80, "branches": 20, "covered_branches": 18}
                ),
            },
            "modules": {
                "alys/auxpow.py": report._percents(
                    {"statements": 100, "covered_lines": 95, "branches": 40, "covered_branches": 35}
                ),
                "models/auxpow.py": report._percents(
                    {"statements": 80, "covered_lines": 80, "branches": 20, "covered_branches": 18}
                ),
            },
        },
        "killmatrix": {
            "seeds": 2,
            "pairs": [
                {
                    "deviation": "d1",
                    "property": "p::t1",
                    "kills": 2,
                    "seeds": 2,
                    "examples": 3.0,
                    "shrunk": 4,
                },
                {
                    "deviation": "d1",
                    "property": "p::t2",
                    "kills": 1,
                    "seeds": 2,
                    "examples": 30.0,
                    "shrunk": 6,
                },
                {
                    "deviation": "d2",
                    "property": "p::t2",
                    "kills": 0,
                    "seeds": 2,
                    "examples": None,
                    "shrunk": 0,
                },
            ],
        },
        "benchmarks": {
            "benchmarks": [
                {"name": "test_calibration", "stats": {"min": 0.002}, "extra_info": {"ops": 1}},
                {"name": "test_tiny_auxpow_checks", "stats": {"min": 0.0002}, "extra_info": {"ops": 24}},
            ]
        },
    }


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("ALYS_PBT_REPORT_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    data = sample_data()
    hist = tmp_path / "history.sqlite"
    history.append(hist, report.history_figures(data), run="2026-01-01T00:00:00Z")
    data["run"] = "2026-01-02T00:00:00Z"
    history.append(hist, report.history_figures(data), run=data["run"])
    path = directory / "report-browser-check.html"
    path.write_text(report.render(data, history_path=hist))
    return path


def test_the_report_renders_in_headless_chromium_with_every_section_and_plot(rendered: Path) -> None:
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
        if os.environ.get("CI"):  # CI installs it: its absence there is a failure, not a skip
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(rendered.as_uri())
            page.wait_for_load_state("load")
            for section in report.SECTIONS:
                assert page.locator(f"section#{section} h2").count() == 1, f"section {section} missing"
            # Each plot is an inline SVG the browser laid out with a real size and drew marks into.
            plots = page.locator("div.plot > svg")
            assert plots.count() >= 8
            for i in range(plots.count()):
                box = plots.nth(i).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 50, (i, box)
                assert plots.nth(i).locator("path, use, image").count() > 0, f"plot {i} is empty"
            for section in ("summary", "killmatrix", "properties", "coverage", "benchmarks", "trends"):
                assert page.locator(f"section#{section} div.plot > svg").count() >= 1, f"no plot in {section}"
            assert (
                "test_b(case=<Case 1>)" in page.locator("section#findings pre.counterexample").text_content()
                or ""
            )
            page.screenshot(path=str(rendered.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests  # works offline
    assert rendered.with_suffix(".png").stat().st_size > 10_000
