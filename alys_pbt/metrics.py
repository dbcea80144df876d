"""Per-property metrics from Hypothesis's own observations (its observability callbacks), not timers.

`--metrics DIR` (or `--report`/`--history`, which read them) switches Hypothesis's observability on
(`hypothesis.internal.observability.add_observability_callback`, the documented API of the pinned
version) and folds each test-case and info observation of a test item into one record:

- examples by status (Hypothesis's `data_status`: valid, invalid, overrun, interesting) and by phase;
- seconds generating (`generate:*` timings), executing (`execute:*`) and in the garbage collector,
  and seconds spent in the shrink phase (every timing of its examples);
- examples and seconds (Hypothesis's own per-example timings, summed) to the first failure;
- shrink steps (examples run in the shrink phase, and how many of them still failed), and the size
  of the final counterexample (its representation, in characters, and in arguments);
- the features drawn: every `event()` (with its payload) counted, every `target()` label's best.

The record of an item travels to the controller on its report (`user_properties`, which
pytest-xdist ships, as alys_pbt/chaos.py does), so the file written at the end, one JSON line per
property in `DIR/metrics.jsonl`, is the merged run whatever the number of workers.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import pluggy
import pytest
from hypothesis.internal import observability
from hypothesis.internal.conjecture.data import Status

METRICS_KEY = "alys_pbt_metrics"
FILE = "metrics.jsonl"
STATUSES = ("valid", "invalid", "overrun", "interesting")
_REPR_KEEP = 4000  # characters of a counterexample kept for the report
_pending: dict[str, dict[str, Any]] = {}  # this process's records since the last report, by property
_merged: dict[str, dict[str, Any]] = {}  # the run's, on the controller
_on: list[bool] = []


def empty(prop: str) -> dict[str, Any]:
    """A property's record before any observation."""
    return {
        "property": prop,
        "examples": 0,
        "status": dict.fromkeys(STATUSES, 0),
        "phases": {},
        "seconds": {"generating": 0.0, "executing": 0.0, "gc": 0.0, "shrinking": 0.0},
        "first_failure": None,  # {"examples": n, "seconds": s}
        "shrink": {"steps": 0, "improvements": 0},
        "counterexample": None,  # {"chars": n, "arguments": n, "representation": text}
        "events": {},
        "targets": {},
        "per_example_seconds": [],
        "stopped_because": "",
    }


def observe(obs: Any) -> None:
    """The observability callback: fold one observation into its property's record."""
    record = _pending.setdefault(obs.property, empty(obs.property))
    if obs.type == "info":
        if obs.title == "Hypothesis Statistics" and isinstance(obs.content, str):
            for line in obs.content.splitlines():
                if "Stopped because" in line:
                    record["stopped_because"] = line.split("Stopped because", 1)[1].strip()
        return
    if obs.type != "test_case":
        return
    timing: Mapping[str, float] = obs.timing
    generating = sum(v for k, v in timing.items() if k.startswith("generate:"))
    executing = sum(v for k, v in timing.items() if k.startswith("execute:"))
    gc = float(timing.get("overall:gc", 0.0))
    phase = obs.metadata.phase or (
        "final" if obs.how_generated == "minimal failing test case" else "explicit"
    )
    record["phases"][phase] = record["phases"].get(phase, 0) + 1
    if obs.how_generated == "minimal failing test case":  # the replay of the shrunk counterexample
        record["counterexample"] = {
            "chars": len(obs.representation),
            "arguments": len(obs.arguments),
            "representation": obs.representation[:_REPR_KEEP],
        }
        return
    record["examples"] += 1
    status = Status(obs.metadata.data_status).name.lower()
    record["status"][status] = record["status"].get(status, 0) + 1
    spent = generating + executing + gc
    record["seconds"]["generating"] += generating
    record["seconds"]["executing"] += executing
    record["seconds"]["gc"] += gc
    record["per_example_seconds"].append(round(spent, 6))
    record["_elapsed"] = record.get("_elapsed", 0.0) + spent
    if phase == "shrink":
        record["seconds"]["shrinking"] += spent
        record["shrink"]["steps"] += 1
        record["shrink"]["improvements"] += obs.status == "failed"
    if obs.status == "failed" and record["first_failure"] is None:
        record["first_failure"] = {"examples": record["examples"], "seconds": record["_elapsed"]}
    for key, value in obs.features.items():
        if key.startswith("target:") or key == "target":
            label = key.removeprefix("target").removeprefix(":") or "(unlabelled)"
            best = record["targets"].get(label)
            record["targets"][label] = value if best is None else max(best, value)
        else:
            name = f"{key}: {value}" if value not in ("", None) else key
            record["events"][name] = record["events"].get(name, 0) + 1


def merge(into: dict[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """Add `other` (one property's record, e.g. from another worker or item) into `into`."""
    for key in ("examples",):
        into[key] += other[key]
    for group in ("status", "phases", "events"):
        counts = Counter(into[group])
        counts.update(other[group])
        into[group] = dict(counts)
    for key, value in other["seconds"].items():
        into["seconds"][key] = into["seconds"].get(key, 0.0) + value
    for key, value in other["shrink"].items():
        into["shrink"][key] += value
    for label, value in other["targets"].items():
        into["targets"][label] = max(into["targets"].get(label, value), value)
    into["first_failure"] = into["first_failure"] or other["first_failure"]
    into["counterexample"] = other["counterexample"] or into["counterexample"]
    into["per_example_seconds"] = [*into["per_example_seconds"], *other["per_example_seconds"]]
    into["stopped_because"] = other["stopped_because"] or into["stopped_because"]
    return into


def enable() -> None:
    """Switch observability on in this process (once), without Hypothesis's per-example line
    coverage: it traces with sys.settrace on Python 3.11, which is slow and would take the tracer
    from coverage.py (pytest-cov)."""
    if _on:
        return
    observability.OBSERVABILITY_COLLECT_COVERAGE = False
    observability.add_observability_callback(observe)
    _on.append(True)


def disable() -> None:
    if _on:
        observability.remove_observability_callback(observe)
        _on.clear()


def wanted(config: pytest.Config) -> bool:
    return any(config.getoption(name, None) for name in ("metrics", "report", "history"))


def pytest_configure(config: pytest.Config) -> None:
    if wanted(config):
        _merged.clear()
        enable()


def pytest_unconfigure(config: pytest.Config) -> None:
    disable()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome: pluggy.Result[pytest.TestReport] = yield
    if call.when == "call" and _pending:
        records = [_finish(r) for r in _pending.values()]
        _pending.clear()
        outcome.get_result().user_properties.append((METRICS_KEY, records))


def _finish(record: dict[str, Any]) -> dict[str, Any]:
    record.pop("_elapsed", None)
    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == METRICS_KEY:
            for record in cast(list[dict[str, Any]], value):  # what makereport attached
                xfail = hasattr(report, "wasxfail")
                outcome = ("xfailed" if report.skipped else "xpassed") if xfail else report.outcome
                add(record, outcome=outcome)


def add(record: Mapping[str, Any], *, outcome: str = "") -> None:
    """Fold one record into the run's (the controller's) metrics."""
    mine = _merged.get(record["property"])
    fresh = json.loads(json.dumps(record))
    if outcome:
        fresh["outcome"] = outcome
    _merged[record["property"]] = fresh if mine is None else merge(mine, fresh)


def merged() -> dict[str, dict[str, Any]]:
    """The run's records, by property (on the controller; in-process runs too)."""
    return {k: json.loads(json.dumps(v)) for k, v in sorted(_merged.items())}


def write(directory: Path, records: Iterable[Mapping[str, Any]], *, run: str = "") -> Path:
    """One JSON line per property, stamped with the run, in `directory/metrics.jsonl` (appended)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE
    run = run or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with path.open("a") as out:
        for record in records:
            out.write(json.dumps({"run": run, **record}, sort_keys=True) + "\n")
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics file (the last run's, if it holds several)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    last = rows[-1]["run"] if rows else ""
    return [r for r in rows if r["run"] == last]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not config.getoption("metrics", None):
        return
    path = write(Path(config.getoption("metrics")), merged().values())
    config.stash[_WRITTEN] = path


_WRITTEN = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = config.stash.get(_WRITTEN, None)
    if path is not None:
        terminalreporter.write_line(f"alys-pbt metrics: {len(_merged)} properties written to {path}")
