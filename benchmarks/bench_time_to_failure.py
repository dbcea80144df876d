"""Time to first failure per kill-matrix pair: `python benchmarks/bench_time_to_failure.py [--seeds 5]`.

Options: -n N (xdist workers, --dist worksteal), --only TEXT (pairs whose deviation or property
contains it), --json FILE, --write-costs.

Every declared (deviation, property) pair (seeded mutants from `@kills`, quirks and library
deviations from the registry) runs on its target under the ci budget with shrinking off, once per
seed, as the kill matrix's pytest items (`alys_pbt.killmatrix_plugin`, spread over `-n` xdist
workers). Per pair: the seeds that failed, and the median and 90th percentile of the seconds and
of the test cases up to the first failure, over the seeds that failed; sorted slowest first. The
properties whose median is above `--slow` seconds (default 10) are listed at the end. Seconds are
wall-clock on a shared machine: compare them within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys_pbt.database import ROOT
from alys_pbt.killmatrix import pytest_args, run_items
from alys_pbt.killmatrix_plugin import COSTS, costs, selected


def p90(values: list[float]) -> float:
    """The 90th percentile (inclusive method: within the observed range), or the only value."""
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [r for r in runs if r["killed"]]
    seconds, examples = [r["seconds"] for r in failed], [r["examples"] for r in failed]
    nan = float("nan")
    return {
        "failed": len(failed),
        "seeds": len(runs),
        "median_s": statistics.median(seconds) if failed else nan,
        "p90_s": p90(seconds) if failed else nan,
        "median_examples": statistics.median(examples) if failed else nan,
        "p90_examples": p90(examples) if failed else nan,
        # a pair that never failed costs its whole budget on every seed: sort it first
        "cost_s": statistics.median(seconds) if failed else max((r["seconds"] for r in runs), default=0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds per pair (default 5)")
    parser.add_argument("--only", default="", help="only pairs whose deviation or property contains this")
    parser.add_argument("-n", dest="workers", default="0", help="pytest-xdist workers (default 0)")
    parser.add_argument(
        "--slow", type=float, default=10.0, help="list properties whose median exceeds this (s)"
    )
    parser.add_argument("--json", type=Path, help="also write the per-pair figures here")
    parser.add_argument(
        "--write-costs",
        action="store_true",
        help=f"update {COSTS.relative_to(ROOT)} (the matrix's item order)",
    )
    args = parser.parse_args(argv)
    extra = ["--dist", "worksteal"] if args.workers not in ("0", "") else []
    code, results = run_items(
        pytest_args(seeds=args.seeds, only=args.only, workers=args.workers, shrink=False, extra=extra)
    )
    if code not in (0, 1):
        print(f"pytest stopped before the pairs ran (exit code {code})", file=sys.stderr)
        return int(code)
    pairs = selected(only=args.only)
    figures = sorted(
        ((p, summary(results.runs.get(p.label, []))) for p in pairs), key=lambda pf: -pf[1]["cost_s"]
    )
    print(f"\ntime to first failure, shrinking off, {args.seeds} seeds per pair, ci budget; slowest first")
    header = f"{'pair':<100} {'failed':>7} {'median s':>9} {'p90 s':>8} {'median ex':>9} {'p90 ex':>8}"
    print(header)
    print("-" * len(header))
    for pair, f in figures:
        print(
            f"{pair.label:<100} {f['failed']:>3}/{f['seeds']:<3} {f['median_s']:>9.2f} {f['p90_s']:>8.2f} "
            f"{f['median_examples']:>9.1f} {f['p90_examples']:>8.1f}"
        )
    slow = [(p, f) for p, f in figures if f["cost_s"] > args.slow]
    print(f"\n{len(slow)} pairs with a median above {args.slow:g} s to the first failure (or never failing):")
    for pair, f in slow:
        print(
            f"  {pair.function}  ({pair.label}: median {f['cost_s']:.1f} s, "
            f"{f['failed']}/{f['seeds']} failed)"
        )
    if args.json:
        args.json.write_text(json.dumps({p.label: f for p, f in figures}, indent=1, sort_keys=True))
    if args.write_costs:  # keep the declared pairs not run this time; round: only the order matters
        declared = {p.label for p in selected()}
        known = {label: cost for label, cost in costs().items() if label in declared}
        known.update({p.label: round(f["cost_s"], 2) for p, f in figures if f["seeds"]})
        COSTS.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
