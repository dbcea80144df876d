"""Metrics from Hypothesis's observations (alys_pbt/metrics.py), the report and the history, end to end:
a small suite run by pytest over two xdist workers with --metrics, --report and --history.

The suite (written here) has a passing property that calls event() and target(), and a failing one
that Hypothesis shrinks; each ends on a different worker's report, so the one metrics file, the
report and the history show the records merged on the controller.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alys_pbt import metrics, report
from alys_pbt.database import ROOT

SUITE = """
from hypothesis import event, given, settings, target, strategies as st


@settings(max_examples=40)
@given(st.integers(0, 100))
def test_passes(x):
    event("parity", "even" if x % 2 == 0 else "odd")
    target(float(x), label="x")


@settings(max_examples=300)
@given(st.lists(st.integers(0, 1000)))
def test_fails(xs):
    assert sum(xs) < 1500
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("metrics-run")
    (tmp / "test_small.py").write_text(SUITE)
    out = tmp / "out"
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "dev",
        "ALYS_PBT_KNOWN_FAILURES": "off",
        "ALYS_PBT_LOCAL_DB": str(tmp / "db"),
        "PYTHONPATH": str(ROOT),
    }
    args = [sys.executable, "-m", "pytest", "-p", "alys_pbt.plugin", "-p", "no:cacheprovider"]
    args += [f"--rootdir={tmp}", "-c", os.devnull, "-n", "2", "-q", str(tmp / "test_small.py")]
    args += ["--metrics", str(out), "--report", str(out / "report.html"), "--history", str(out / "h.sqlite")]
    done = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # test_fails fails
    return {"out": out, "stdout": done.stdout}


def _records(out: Path) -> dict[str, dict[str, Any]]:
    return {r["property"].split("::")[-1]: r for r in metrics.read(out / metrics.FILE)}


def test_metrics_hold_hypothesis_observations_per_property_merged_across_workers(run: dict[str, Any]) -> None:
    records = _records(run["out"])
    assert sorted(records) == ["test_fails", "test_passes"]  # one line each, from two workers
    passing = records["test_passes"]
    assert passing["outcome"] == "passed" and passing["examples"] >= 40
    assert passing["status"]["valid"] == passing["examples"] - passing["status"]["invalid"]
    assert passing["status"]["interesting"] == 0 and passing["first_failure"] is None
    assert set(passing["events"]) <= {"parity: even", "parity: odd"} and sum(passing["events"].values()) > 0
    assert 0 < passing["targets"]["x"] <= 100
    assert passing["seconds"]["generating"] > 0 and passing["seconds"]["executing"] > 0
    assert len(passing["per_example_seconds"]) == passing["examples"]


def test_a_failing_property_records_first_failure_shrinking_and_its_counterexample(
    run: dict[str, Any],
) -> None:
    failing = _records(run["out"])["test_fails"]
    assert failing["outcome"] == "failed"
    assert failing["first_failure"]["examples"] >= 1 and failing["first_failure"]["seconds"] > 0
    assert failing["shrink"]["steps"] > 0 and failing["shrink"]["improvements"] > 0
    assert failing["seconds"]["shrinking"] > 0 and failing["status"]["interesting"] > 0
    example = failing["counterexample"]
    assert example["arguments"] == 1 and example["chars"] == len(example["representation"])
    assert "test_fails(" in example["representation"]


def test_the_run_writes_a_report_and_appends_its_figures_to_the_history(run: dict[str, Any]) -> None:
    page = (run["out"] / "report.html").read_text()
    for section in report.SECTIONS:
        assert f'<section id="{section}">' in page
    assert "<script" not in page and "http://" not in page.split("<svg", 1)[0]  # self-contained
    assert "test_fails(" in page  # the shrunk counterexample, in the per-property table's source data
    data = json.loads((run["out"] / report.DATA).read_text())
    assert (
        data["outcomes"][next(k for k in data["outcomes"] if k.endswith("test_fails"))]["outcome"] == "failed"
    )
    with sqlite3.connect(run["out"] / "h.sqlite") as db:
        rows = dict(
            db.execute("SELECT metric, value FROM figures WHERE kind = 'tests' AND name = 'all'").fetchall()
        )
        examples = db.execute(
            "SELECT value FROM figures WHERE kind = 'metrics' AND metric = 'examples' AND name LIKE ?",
            ("%test_passes",),
        ).fetchone()
    assert rows == {"passed": 1.0, "failed": 1.0}
    assert examples[0] >= 40


def test_merging_adds_counts_and_keeps_the_first_failure() -> None:
    a, b = metrics.empty("p"), metrics.empty("p")
    a.update(examples=3, events={"e": 2})
    a["status"]["valid"] = 3
    b.update(examples=2, events={"e": 1, "f": 1}, first_failure={"examples": 2, "seconds": 0.1})
    b["status"]["interesting"] = 1
    b["targets"] = {"x": 5.0}
    merged = metrics.merge(a, b)
    assert merged["examples"] == 5 and merged["events"] == {"e": 3, "f": 1}
    assert merged["status"]["valid"] == 3 and merged["status"]["interesting"] == 1
    assert merged["first_failure"] == {"examples": 2, "seconds": 0.1} and merged["targets"] == {"x": 5.0}
