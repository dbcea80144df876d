"""Benchmarks on pytest-benchmark (`pytest benchmarks/ --benchmark-json out.json`), judged as ratios to
the calibration workload (alys_pbt/bench.py); `--profile DIR` writes a pyinstrument profile (HTML)
per benchmark, from one extra call of its workload outside the timed rounds."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alys_pbt.bench import slowed

ROUNDS = 7


@pytest.fixture
def measure(benchmark: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """measure(fn, ops=N): time `fn` (N operations per call) with pytest-benchmark, slowed under
    ALYS_PBT_SLOW_BUILD, and profile one call under --profile."""
    profile_dir = request.config.getoption("profile", None)

    def run(fn: Callable[[], Any], *, ops: int, rounds: int = ROUNDS) -> Any:
        benchmark.extra_info["ops"] = ops
        work = slowed(fn)
        result = benchmark.pedantic(work, rounds=rounds, iterations=1, warmup_rounds=1)
        if profile_dir:
            from pyinstrument import Profiler

            profiler = Profiler()
            with profiler:
                work()
            out = Path(profile_dir)
            out.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            (out / f"{name}.html").write_text(profiler.output_html())
        return result

    return run
