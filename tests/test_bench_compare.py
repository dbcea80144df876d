"""The benchmark compare command (alys_pbt/bench.py): passes against the committed baseline, fails on
a deliberately slowed build; and its rule (a ratio to calibration worse by more than 20% fails).

The end-to-end tests run pytest-benchmark on the tiny fixed workload only (benchmarks/
test_calibration.py: the calibration and 24 AuxPoW checks, a few seconds), in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alys_pbt import bench
from alys_pbt.database import ROOT

TINY = "test_tiny_auxpow_checks"
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=", "-p", "no:xdist"]


def _run_tiny(tmp_path: Path, *, slow: int | None = None) -> Path:
    out = tmp_path / f"tiny-{slow or 1}.json"
    # Not this run's worker or coverage settings: pytest-benchmark switches itself off under an
    # xdist worker's environment (and writes no JSON), and the child is no part of this run.
    env = {
        k: v
        for k, v in os.environ.items()
        if k != bench.SLOW_ENV and not k.startswith(("PYTEST_", "COV_CORE_"))
    }
    if slow is not None:
        env[bench.SLOW_ENV] = str(slow)
    subprocess.run(
        [*PYTEST, "benchmarks/test_calibration.py", f"--benchmark-json={out}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_compare_passes_against_the_committed_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _run_tiny(tmp_path)
    assert TINY in bench.load_baseline(bench.BASELINE)
    assert bench.main(["compare", str(results), "--only", TINY]) == 0
    assert "within 20% of the baseline" in capsys.readouterr().out


def test_compare_fails_on_a_deliberately_slowed_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _run_tiny(tmp_path, slow=3)  # every call of the workload does its work three times
    ratio = bench.ratios(json.loads(results.read_text()))[TINY]
    assert ratio < 0.8 * bench.load_baseline(bench.BASELINE)[TINY]
    assert bench.main(["compare", str(results), "--only", TINY]) == 1
    assert f"{TINY}: ratio" in capsys.readouterr().err


def test_the_rule_is_twenty_percent_of_the_ratio_and_names_what_is_missing() -> None:
    baseline = {"a": 10.0, "b": 10.0, "gone": 1.0}
    assert bench.compare({"a": 8.1, "b": 30.0, "gone": 1.0}, baseline) == []  # -19% passes; faster passes
    problems = bench.compare({"a": 7.9, "b": 10.0}, baseline)  # -21% fails; a lost benchmark fails
    assert [p.split(":")[0] for p in problems] == ["a", "gone"]


def test_ratios_divide_by_the_calibration_of_the_same_run() -> None:
    results = {
        "benchmarks": [
            {"name": "test_calibration", "stats": {"min": 0.004}, "extra_info": {"ops": 1}},
            {"name": "test_x", "stats": {"min": 0.002}, "extra_info": {"ops": 10}},
        ]
    }
    assert bench.ratios(results) == pytest.approx({"test_x": 20.0})  # 5,000 ops/s over 250 /s
    with pytest.raises(ValueError, match="no calibration"):
        bench.ratios({"benchmarks": results["benchmarks"][1:]})


def test_a_bad_slowdown_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bench.SLOW_ENV, "fast")
    with pytest.raises(ValueError, match="whole number"):
        bench.slow_factor()
    monkeypatch.setenv(bench.SLOW_ENV, "0")
    with pytest.raises(ValueError, match="at least 1"):
        bench.slow_factor()
    monkeypatch.setenv(bench.SLOW_ENV, "3")
    calls: list[int] = []
    assert bench.slowed(lambda: calls.append(1) or len(calls))() == 3 and len(calls) == 3
