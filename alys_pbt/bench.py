"""Benchmarks against a committed baseline: ratios to a calibration workload, and a compare command.

The benchmarks (`benchmarks/test_*.py`) run on pytest-benchmark, which times them and writes its
JSON (`--benchmark-json`). Machines differ, and this one is shared, so a figure is judged as a
*ratio*: its operations per second over those of a fixed calibration workload (`calibrate`, pure
Python: hashing, integer arithmetic, sorting, dicts) timed by pytest-benchmark in the same process.

    python -m alys_pbt.bench compare RESULT.json [--baseline benchmarks/baseline.json] [--tolerance 0.2]
    python -m alys_pbt.bench baseline RESULT.json [--out benchmarks/baseline.json]

`compare` exits 1 when a benchmark's ratio is worse than the baseline's by more than the tolerance
(20%), naming each. `ALYS_PBT_SLOW_BUILD=F` runs each workload wrapped by `slowed` F times more
work (a deliberately slowed build; tests/test_bench_compare.py shows compare fails on it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alys_pbt.database import ROOT

CALIBRATION = "calibration"
BASELINE = ROOT / "benchmarks" / "baseline.json"
TOLERANCE = 0.20
SLOW_ENV = "ALYS_PBT_SLOW_BUILD"
T = TypeVar("T")


def calibrate(rounds: int = 2_000) -> int:
    """The fixed calibration workload: the same pure-Python work on every machine and run."""
    digest = b"alys-pbt calibration"
    acc = 0
    table: dict[int, int] = {}
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
        value = int.from_bytes(digest[:8], "little")
        acc = (acc * 6364136223846793005 + value) % (1 << 64)
        table[value % 997] = acc
    return acc ^ sum(sorted(table.values())[:50])


def slow_factor() -> int:
    """How many times the slowed build repeats each workload (1: not slowed)."""
    raw = os.environ.get(SLOW_ENV, "").strip()
    if not raw:
        return 1
    try:
        factor = int(raw)
    except ValueError:
        raise ValueError(f"{SLOW_ENV} must be a whole number of repeats, not {raw!r}") from None
    if factor < 1:
        raise ValueError(f"{SLOW_ENV} must be at least 1, not {factor}")
    return factor


def slowed(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn`, repeated `slow_factor()` times per call (the deliberately slowed build)."""
    factor = slow_factor()
    if factor == 1:
        return fn

    def slow() -> T:
        for _ in range(factor - 1):
            fn()
        return fn()

    return slow


def ops_per_second(result: Mapping[str, Any]) -> float:
    """A pytest-benchmark entry's operations per second, from its fastest round (on a shared machine
    the least disturbed one: load only ever adds time) and its per-call operations (extra_info `ops`:
    messages, blocks, examples or steps in one call)."""
    stats = result["stats"]
    per_call = float(result.get("extra_info", {}).get("ops", 1))
    return per_call / float(stats["min"])


def ratios(results: Mapping[str, Any]) -> dict[str, float]:
    """name -> ops/s over the calibration workload's, from one pytest-benchmark JSON."""
    entries = {b["name"]: b for b in results["benchmarks"]}
    calibration = next((b for n, b in entries.items() if n.startswith(f"test_{CALIBRATION}")), None)
    if calibration is None:
        raise ValueError("the results hold no calibration benchmark (benchmarks/test_calibration.py)")
    unit = ops_per_second(calibration)
    return {name: ops_per_second(b) / unit for name, b in entries.items() if b is not calibration}


def figures(results: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """name -> {ops_per_second, ratio} for every benchmark but the calibration."""
    entries = {b["name"]: b for b in results["benchmarks"]}
    return {
        name: {"ops_per_second": ops_per_second(entries[name]), "ratio": ratio}
        for name, ratio in ratios(results).items()
    }


def median_ratios(runs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per benchmark, the median of its ratios over several runs (a shared machine's runs differ)."""
    each: dict[str, list[float]] = {}
    for results in runs:
        for name, ratio in ratios(results).items():
            each.setdefault(name, []).append(ratio)
    return {name: statistics.median(values) for name, values in sorted(each.items())}


def compare(
    current: Mapping[str, float], baseline: Mapping[str, float], *, tolerance: float = TOLERANCE
) -> list[str]:
    """One line per benchmark whose ratio is worse than the baseline's by more than `tolerance`;
    a benchmark of the baseline missing from the run is named too."""
    problems = []
    for name, base in sorted(baseline.items()):
        if name not in current:
            problems.append(f"{name}: in the baseline, not in this run")
            continue
        change = current[name] / base - 1.0
        if change < -tolerance:
            problems.append(
                f"{name}: ratio {current[name]:.4g} vs baseline {base:.4g} ({change:+.0%}, "
                f"worse than -{tolerance:.0%})"
            )
    return problems


def load_baseline(path: Path) -> dict[str, float]:
    return {k: float(v) for k, v in json.loads(path.read_text())["ratios"].items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.bench")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare", help="fail on a ratio worse than the baseline's by more than the tolerance"
    )
    cmp.add_argument("results", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    cmp.add_argument("--baseline", type=Path, default=BASELINE)
    cmp.add_argument("--tolerance", type=float, default=TOLERANCE)
    cmp.add_argument("--only", default="", help="compare only the benchmarks whose name contains this")
    base = sub.add_parser("baseline", help="write the median ratio of one or more runs as the baseline")
    base.add_argument("results", type=Path, nargs="+", help="pytest-benchmark JSON of each run")
    base.add_argument("--out", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    if args.command == "baseline":
        runs = [json.loads(path.read_text()) for path in args.results]
        current = median_ratios(runs)
        machine = runs[-1].get("machine_info", {})
        payload = {
            "note": "median ratios of ops/s to the calibration workload over runs (alys_pbt/bench.py); "
            "refresh with `python -m alys_pbt.bench baseline RESULT.json [RESULT.json ...]`",
            "machine": {
                "python": machine.get("python_version"),
                "cpu": machine.get("cpu", {}).get("brand_raw"),
                "cores": machine.get("cpu", {}).get("count"),
            },
            "ratios": dict(sorted(current.items())),
        }
        args.out.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
        print(f"baseline of {len(current)} benchmarks ({len(runs)} runs) written to {args.out}")
        return 0
    current = ratios(json.loads(args.results.read_text()))
    baseline = {k: v for k, v in load_baseline(args.baseline).items() if args.only in k}
    problems = compare(
        {k: v for k, v in current.items() if args.only in k}, baseline, tolerance=args.tolerance
    )
    for name in sorted(baseline):
        if name in current:
            print(f"{current[name] / baseline[name] - 1.0:+7.1%}  {name}")
    if problems:
        print(f"{len(problems)} benchmark(s) regressed by more than {args.tolerance:.0%}:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"{len(baseline)} benchmark(s) within {args.tolerance:.0%} of the baseline ({args.baseline})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
