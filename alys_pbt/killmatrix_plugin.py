"""The kill matrix as pytest items: one per (deviation, property, seed), so pytest-xdist spreads it.

`killmatrix/test_matrix.py` holds the one test function; this plugin parametrizes it over the
declared pairs (`killing.declared_pairs`) and seeds, and records each item's outcome in its report's
`user_properties`, which xdist carries from the workers (local or over execnet gateways) back to
the controller. There `Results` gathers them for the table (`python -m alys_pbt.killmatrix`):

    pytest -p alys_pbt.killmatrix_plugin killmatrix --kill-seeds 10 [--kill-only TEXT] [-n 2]

An item passes when its property fails on `alys-fixed+<deviation>` with the registered failure
within the ci budget (shrinking off), and fails otherwise, naming what happened (`require_kill`).
With `--kill-shrink` each pair gets one more item, seed 0 with shrinking on, whose counterexample
gives the table's `shrunk` column.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from attrs import frozen

from alys_pbt import killing
from alys_pbt.database import ROOT
from alys_pbt.killing import Outcome, Pair

KEY = "alys-kill-matrix"  # the user_properties entry an item records its outcome under
# Seconds per pair label, measured: `python benchmarks/bench_time_to_failure.py --write-costs`.
COSTS = ROOT / "killmatrix" / "costs.json"


@frozen
class MatrixItem:
    """One run of the matrix: a pair, a seed, and whether Hypothesis shrinks the failure."""

    pair: Pair
    seed: int
    shrink: bool = False

    @property
    def id(self) -> str:
        return f"{self.pair.label}@{'shrunk' if self.shrink else self.seed}"


def selected(pairs: list[Pair] | None = None, *, only: str = "") -> list[Pair]:
    """The declared pairs whose deviation or property contains `only` (all of them when empty)."""
    pairs = killing.declared_pairs() if pairs is None else pairs
    return [p for p in pairs if only in p.deviation or only in p.function]


def costs(path: Path = COSTS) -> dict[str, float]:
    """Measured seconds to the first failure per pair label (benchmarks/bench_time_to_failure.py)."""
    return json.loads(path.read_text()) if path.exists() else {}


def longest_first(pairs: list[Pair], known: dict[str, float] | None = None) -> list[Pair]:
    """`pairs`, the most expensive first: xdist hands items out in collection order, and a long item
    queued last leaves the other workers idle while it runs. Unmeasured pairs count as expensive."""
    known = costs() if known is None else known
    return sorted(pairs, key=lambda p: -known.get(p.label, math.inf))


def matrix(pairs: list[Pair], *, seeds: int, shrink: bool = False) -> list[Any]:
    """pytest params, pair-major and longest first: every pair once shrinking, if asked (its longest
    run), then on seeds 0..seeds-1. Every worker collects the same order, as xdist requires."""
    runs = [
        run
        for p in longest_first(pairs)
        for run in ([MatrixItem(p, 0, shrink=True)] if shrink else [])
        + [MatrixItem(p, s) for s in range(seeds)]
    ]
    return [pytest.param(r, id=r.id) for r in runs]


def check(run: MatrixItem, record_property: Callable[[str, object], None], *, serve: str = "") -> Outcome:
    """The body of a matrix item: run it, record the outcome, fail unless it is a kill."""
    outcome = killing.run(run.pair, seed=run.seed, shrink=run.shrink, serve=serve)
    record_property(
        KEY,
        {
            "label": run.pair.label,
            "seed": run.seed,
            "shrink": run.shrink,
            "killed": outcome.killed,
            "examples": outcome.examples,
            "seconds": outcome.seconds,
            "shrunk": len(outcome.counterexample.splitlines()) if outcome.killed else 0,
            "error": outcome.error,
        },
    )
    return killing.require_kill(run.pair, outcome, seed=run.seed, serve=serve)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alys-pbt kill matrix")
    group.addoption(
        "--kill-seeds", type=int, default=1, help="seeds per (deviation, property) pair (default 1)"
    )
    group.addoption("--kill-only", default="", help="only pairs whose deviation or property contains this")
    group.addoption(
        "--kill-serve",
        default="",
        help="run each pair through the target protocol: this server command, given the pair's variant "
        "(e.g. 'python -m alys.serve'; default: in-process)",
    )
    group.addoption("--kill-timings", default=None, help="write each item's worker and seconds here (JSON)")
    group.addoption(
        "--kill-shrink",
        action="store_true",
        help="one more item per pair: seed 0, shrinking (the shrunk size)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kill_run" not in metafunc.fixturenames:
        return
    opt = metafunc.config.getoption
    pairs = selected(only=opt("kill_only"))
    metafunc.parametrize("kill_run", matrix(pairs, seeds=opt("kill_seeds"), shrink=opt("kill_shrink")))


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("kill_timings") and not hasattr(config, "workerinput"):  # on the controller
        config.pluginmanager.register(Timings(Path(config.getoption("kill_timings"))), "alys-kill-timings")


class Timings:
    """On the controller: which worker ran each matrix item, and for how long (benchmarks/bench_xdist.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            worker = getattr(report, "worker_id", None) or getattr(
                getattr(report, "node", None), "workerid", "main"
            )
            self.items.append({"nodeid": report.nodeid, "worker": str(worker), "seconds": report.duration})

    def pytest_sessionfinish(self) -> None:
        self.path.write_text(json.dumps(self.items, indent=1))


class Results:
    """On the controller: every matrix item's recorded outcome, by pair label (xdist or not)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[dict[str, Any]]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":  # the setup and teardown reports carry the same list
            return
        for key, value in report.user_properties:
            if key == KEY:
                record = cast(dict[str, Any], value)  # what the matrix item recorded under KEY
                self.runs.setdefault(record["label"], []).append(record)
