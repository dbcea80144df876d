"""Kill matrix on pytest-xdist, side by side: `python benchmarks/bench_xdist.py [--seeds 1] [--only TEXT]`.

Runs the same selection of kill-matrix items (`alys_pbt.killmatrix_plugin`: one per pair and seed,
shrinking off) in one invocation, one way after another, each in a fresh pytest process:
in process (`-n 0`), on two workers with xdist's default `--dist load`, and on two workers with
`--dist worksteal` (an idle worker takes half of a busy one's queue, so a long item queued late does
not leave the other worker idle). Items are collected longest first either way (the plugin orders
them by `killmatrix/costs.json`). Reports each wall time and its speed-up over `-n 0`; the machine
is shared, so read the ratios within one run, not the seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alys_pbt.killmatrix import pytest_args  # noqa: E402

WAYS = {
    "-n 0": ("0", []),
    "-n 2 --dist load": ("2", ["--dist", "load"]),
    "-n 2 --dist worksteal": ("2", ["--dist", "worksteal"]),
}


def wall(workers: str, extra: list[str], *, seeds: int, only: str) -> tuple[float, str]:
    args = pytest_args(seeds=seeds, only=only, workers=workers, shrink=False, extra=extra)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    summary = (
        result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()[-200:]
    )
    return seconds, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per pair (default 1)")
    parser.add_argument("--only", default="", help="only pairs whose deviation or property contains this")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help=f"comma-separated subset of: {', '.join(WAYS)}"
    )
    args = parser.parse_args(argv)
    ways = [w.strip() for w in args.ways.split(",")]
    timings = {}
    for way in ways:
        workers, extra = WAYS[way]
        timings[way], summary = wall(workers, extra, seeds=args.seeds, only=args.only)
        print(f"{way:<24} {timings[way]:>8.1f} s   ({summary})", flush=True)
    base = timings.get("-n 0")
    if base:
        print()
        for way, seconds in timings.items():
            print(f"speed-up {way:<24} {base / seconds:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
