"""The report's pieces without a browser: the coverage figures and gate, the kill matrix frame, and the
history's series (alys_pbt/report.py, alys_pbt/history.py)."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from alys_pbt import history, report
from alys_pbt.database import ROOT


def _figures(alys: float, models: float) -> dict[str, dict[str, dict[str, float]]]:
    def row(percent: float) -> dict[str, float]:
        return {"percent": percent, "branch_percent": percent}

    return {"folders": {"alys": row(alys), "models": row(models)}, "modules": {}}


def test_the_gate_fails_each_folder_below_the_minimum_and_a_folder_not_measured() -> None:
    assert report.gate(_figures(90.0, 95.0), 90) == []
    assert report.gate(_figures(89.9, 95.0), 90) == ["alys/: 89.9% < 90%"]
    missing = {"folders": {"alys": {"percent": 99.0, "branch_percent": 99.0}}, "modules": {}}
    assert report.gate(missing, 90) == ["models/: not measured"]


def test_coverage_figures_are_read_per_folder_and_module_from_coverage_data(tmp_path: Path) -> None:
    # Data written through coverage.py's own API (no second tracer inside a --cov run).
    target = ROOT / "alys" / "variant.py"
    data = coverage.CoverageData(basename=str(tmp_path / ".coverage"))
    first = 1 + next(i for i, line in enumerate(target.read_text().splitlines()) if line.startswith("from "))
    data.add_arcs({str(target): {(-1, first), (first, -1)}})  # its first import ran
    data.write()
    figures = report.coverage_figures(str(tmp_path / ".coverage"), html_dir=tmp_path / "html")
    module = figures["modules"]["alys/variant.py"]
    assert module["statements"] > 1 and 0 < module["percent"] < 100
    assert figures["folders"]["alys"]["statements"] == module["statements"]
    assert (tmp_path / "html" / "index.html").exists()
    assert report.gate(figures, 90) == [f"alys/: {module['percent']:.1f}% < 90%", "models/: not measured"]


def test_a_sample_of_the_kill_matrix_shows_with_every_other_declared_pair() -> None:
    declared = report.declared_matrix()["pairs"]
    first = declared[0]
    sample = {"seeds": 2, "pairs": [{**first, "kills": 1, "seeds": 2}]}
    merged = report.with_declared(sample)
    assert len(merged["pairs"]) == len(declared)
    assert merged["pairs"][0]["kills"] == 1 and all(p["seeds"] == 0 for p in merged["pairs"][1:])


def test_the_history_keeps_runs_in_order_and_series_per_name(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    history.append(path, [("bench", "b", "ratio", 2.0), ("coverage", "alys", "percent", 80.0)], run="r1")
    history.append(path, [("bench", "b", "ratio", 1.5)], run="r2")
    assert history.runs(path) == ["r1", "r2"]
    assert history.series(path, "bench", "ratio") == {"b": [("r1", 2.0), ("r2", 1.5)]}
    assert history.series(path, "coverage", "percent") == {"alys": [("r1", 80.0)]}


@pytest.mark.parametrize("section", report.SECTIONS)
def test_every_section_renders_even_with_nothing_measured(section: str) -> None:
    page = report.render({"run": "r", "target": "alys", "outcomes": {}})
    assert f'<section id="{section}">' in page and "<script" not in page
