"""The calibration workload every other figure is divided by (alys_pbt/bench.py calibrate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alys_pbt.bench import calibrate


def test_calibration(benchmark: Any) -> None:
    # Never slowed (a slowed build slows the code under test, not the yardstick): plain pytest-benchmark.
    benchmark.extra_info["ops"] = 1
    assert benchmark.pedantic(calibrate, rounds=25, iterations=1, warmup_rounds=2) == calibrate()


def test_tiny_auxpow_checks(measure: Callable[..., Any]) -> None:
    """The tiny fixed workload the CI compare test runs (tests/test_bench_compare.py)."""
    from benchmarks.workloads import auxpow_checker

    check, n = auxpow_checker(24)
    assert measure(check, ops=n, rounds=25) == n
