"""Print the kill matrix, ETNA-style: `python -m alys_pbt.killmatrix [--seeds 10] [--only TEXT] [-n N]`.

With `--serve CMD` every pair runs through the target protocol instead: its variant
(`alys-fixed+<deviation>`) served by `CMD VARIANT` as a child process (`--serve '.venv/bin/python -m
alys.serve'`), so the matrix judges the served port, or any server that takes our variant names.

For each declared (deviation, property) pair: how many of the seeds killed it within the ci budget,
the median number of test cases and seconds to the first failure, and the size (lines) of the
shrunk counterexample. Mutants come from `@kills`, quirks from the registry's `breaks`. Only the
property's own failure counts as a kill (`Deviation.fails_with`); any other exception is printed
under the pair's row, named.

Each (pair, seed) is a pytest item (`killmatrix/test_matrix.py`, parametrized by
`alys_pbt.killmatrix_plugin`), so `-n N` spreads the matrix over N pytest-xdist workers, and any
other pytest option given after `--` (`--dist worksteal`, `--tx ssh=host//python=...`) goes to
pytest as is. The table is built from the items' recorded outcomes, gathered on the controller.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from alys_pbt import deviations
from alys_pbt.database import ROOT
from alys_pbt.killing import Pair
from alys_pbt.killmatrix_plugin import Results, selected

ITEMS = ROOT / "killmatrix" / "test_matrix.py"


def pytest_args(
    *,
    seeds: int,
    only: str,
    workers: str,
    shrink: bool = True,
    serve: str = "",
    extra: Sequence[str] = (),
) -> list[str]:
    """The pytest command line that runs the selected matrix items (rootdir: the project)."""
    # The items by testpaths, not by a path argument: xdist refuses an absolute path that is not under
    # an rsync root, so a remote gateway (--tx socket=... / ssh=...) could not be given one.
    args = [f"--rootdir={ROOT}", "-o", f"testpaths={ITEMS.relative_to(ROOT).as_posix()}"]
    args += ["-p", "alys_pbt.killmatrix_plugin", "-p", "no:cacheprovider"]
    # This process imported hypothesis and the plugin before pytest could rewrite their asserts.
    args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args += ["-o", "addopts=", "-q", "--tb=line", "--target", "alys-fixed", "-n", workers]
    args += ["--kill-seeds", str(seeds), "--kill-only", only] + (["--kill-shrink"] if shrink else [])
    args += ["--kill-serve", serve] if serve else []
    return args + list(extra)


def run_items(args: list[str]) -> tuple[int, Results]:
    """Run pytest in this process on `args`; its exit code and every item's outcome."""
    results = Results()
    here = os.getcwd()
    os.chdir(ROOT)  # pyproject.toml's settings and the items' testpaths are the project's, wherever we start
    try:
        code = pytest.main(args, plugins=[results])
    finally:
        os.chdir(here)
    return int(code), results


def rows(pairs: list[Pair], results: Results) -> list[tuple[Pair, dict[str, Any]]]:
    """Per pair, what the table shows: kills over the seeds run, medians over the kills, shrunk size."""
    table = []
    for pair in pairs:
        runs = results.runs.get(pair.label, [])
        seeded = sorted((r for r in runs if not r["shrink"]), key=lambda r: r["seed"])
        killed = [r for r in seeded if r["killed"]]
        shrunk = [r["shrunk"] for r in runs if r["shrink"]]
        table.append(
            (
                pair,
                {
                    "kills": len(killed),
                    "seeds": len(seeded),
                    "examples": statistics.median(r["examples"] for r in killed) if killed else math.nan,
                    "seconds": statistics.median(r["seconds"] for r in killed) if killed else math.nan,
                    "shrunk": shrunk[0] if shrunk else 0,
                    "errors": tuple(dict.fromkeys(r["error"] for r in seeded if r["error"])),
                },
            )
        )
    return table


def print_table(table: list[tuple[Pair, dict[str, Any]]], *, seeds: int) -> int:
    """Print the ETNA-style table; the number of pairs not killed on every seed."""
    header = f"{'deviation':<34} {'kind':<6} {'property':<52} {'killed':>7} {'examples':>9} {'seconds':>8}"
    header += f" {'shrunk':>6}"
    print(header)
    print("-" * len(header))
    survivors = 0
    for pair, row in table:
        survivors += row["kills"] < seeds
        print(
            f"{'+'.join((*pair.jointly, pair.deviation)):<34} {deviations.get(pair.deviation).kind:<6} "
            f"{pair.function.split('::', 1)[1]:<52} {row['kills']:>3}/{seeds:<3} "
            f"{row['examples']:>9.1f} {row['seconds']:>8.3f} {row['shrunk']:>6}"
        )
        for error in row["errors"]:  # an exception that is not the property's own failure is no kill
            print(f"    not the registered failure ({' or '.join(pair.fails_with)}): {error}")
    print(f"\n{len(table)} pairs, {survivors} not killed on every seed")
    return survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds per pair (default 10)")
    parser.add_argument("--only", default="", help="only pairs whose deviation or property contains this")
    parser.add_argument(
        "-n", dest="workers", default="0", help="pytest-xdist workers (default 0: in process)"
    )
    parser.add_argument(
        "--serve",
        default="",
        metavar="COMMAND",
        help="run every pair through the target protocol: a server command given the pair's variant, "
        "e.g. '.venv/bin/python -m alys.serve' (default: in-process)",
    )
    parser.add_argument(
        "pytest_args", nargs="*", help="after --: more pytest options (--dist worksteal, --tx ...)"
    )
    args = parser.parse_args(argv)
    code, results = run_items(
        pytest_args(
            seeds=args.seeds,
            only=args.only,
            workers=args.workers,
            serve=args.serve,
            extra=args.pytest_args,
        )
    )
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):  # no table without the items run
        print(f"pytest stopped before the matrix ran (exit code {code})", file=sys.stderr)
        return code
    print()
    print_table(rows(selected(only=args.only), results), seeds=args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
