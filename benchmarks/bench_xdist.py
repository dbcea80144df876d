"""Kill matrix on pytest-xdist, side by side: `python benchmarks/bench_xdist.py [--seeds 1] [--only TEXT]`.

Runs the same selection of kill-matrix items (`alys_pbt.killmatrix_plugin`: one per pair and seed,
shrinking off) in one invocation, one way after another, each in a fresh pytest process:
in process (`-n 0`), on two workers with xdist's default `--dist load`, and on two workers with
`--dist worksteal` (an idle worker takes half of a busy one's queue, so a long item queued late does
not leave the other worker idle). Items are collected longest first either way (the plugin orders
them by `killmatrix/costs.json`). Reports each way's wall and CPU seconds, the items' own seconds
summed and on the busiest worker, and the speed-up over `-n 0` in wall time; the machine is shared,
so read the ratios within one run (the load average is printed), not the seconds. The schedule
balance (items' seconds over the busiest worker's, at most 2 on two workers) is what the
scheduler achieved whatever else runs on the machine; the wall-time ratio also pays for worker
start-up (each worker imports and collects the suite) and for cores taken by other processes. When
the machine is saturated (load average above its CPUs), the CPU-time estimate is the figure to read:
-n 0's CPU seconds over this way's CPU seconds divided by its balance.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alys_pbt.killmatrix import pytest_args  # noqa: E402

WAYS = {
    "-n 0": ("0", []),
    "-n 2 --dist load": ("2", ["--dist", "load"]),
    "-n 2 --dist worksteal": ("2", ["--dist", "worksteal"]),
}


def wall(workers: str, extra: list[str], *, seeds: int, only: str) -> dict[str, Any]:
    """Run one way in a fresh process: wall and CPU seconds, and the items' busy seconds per worker."""
    with tempfile.TemporaryDirectory() as tmp:
        timings = Path(tmp) / "timings.json"
        args = pytest_args(seeds=seeds, only=only, workers=workers, shrink=False, extra=extra)
        args += ["--kill-timings", str(timings)]
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        items = json.loads(timings.read_text()) if timings.exists() else []
    busy: dict[str, float] = {}
    for item in items:
        busy[item["worker"]] = busy.get(item["worker"], 0.0) + item["seconds"]
    out = result.stdout.strip()
    return {
        "wall": seconds,
        "cpu": (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime),
        "busy": sum(busy.values()),
        "longest_worker": max(busy.values(), default=0.0),
        "summary": out.splitlines()[-1] if out else result.stderr.strip()[-200:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per pair (default 1)")
    parser.add_argument("--only", default="", help="only pairs whose deviation or property contains this")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help=f"comma-separated subset of: {', '.join(WAYS)}"
    )
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest options for every way (-k ...)")
    args = parser.parse_args(argv)
    ways = [w.strip() for w in args.ways.split(",")]
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    timings = {}
    for way in ways:
        workers, extra = WAYS[way]
        timings[way] = t = wall(workers, [*extra, *args.pytest_args], seeds=args.seeds, only=args.only)
        print(
            f"{way:<24} wall {t['wall']:>7.1f} s  cpu {t['cpu']:>7.1f} s  items {t['busy']:>7.1f} s  "
            f"busiest worker {t['longest_worker']:>7.1f} s   ({t['summary']})",
            flush=True,
        )
    print(f"load average after:  {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base = timings.get("-n 0")
    print()
    for way, t in timings.items():
        ratio = f"{base['wall'] / t['wall']:>5.2f}x" if base else "  -  "
        # items' seconds over the busiest worker's: the speed-up the schedule allows, whatever the load
        balance = t["busy"] / t["longest_worker"] if t["longest_worker"] else 0.0
        # On a saturated machine every way gets the same share of a core, so wall time hides the
        # parallelism; CPU seconds do not: -n 0's CPU over (this way's CPU / its balance) is the
        # speed-up two otherwise idle cores would give, start-up of the workers included.
        estimate = (
            f"{base['cpu'] / (t['cpu'] / balance):>5.2f}x" if base and t["cpu"] and balance else "  -  "
        )
        print(
            f"{way:<24} speed-up over -n 0: wall {ratio}   schedule balance {balance:.2f}   "
            f"on idle cores (CPU-time estimate) {estimate}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
