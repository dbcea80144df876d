"""The pytest plugin behind `pytest properties/`: profiles, database, targets, known deviations.

Options: --target NAME (env ALYS_TARGET), --replay-db PATH (env ALYS_PBT_REPLAY_DB),
--examples N (env ALYS_PBT_EXAMPLES), --findings PATH, --run-slow. Env HYPOTHESIS_PROFILE / CI
choose the profile; env ALYS_PBT_DATABASE_URL shares the database through Redis; the known
failures (`known-failures/`, alys_pbt/known.py) replay first, read-only (env ALYS_PBT_KNOWN_FAILURES
names another store, or `off`).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, cast

import pluggy
import pytest
from hypothesis import is_hypothesis_test, settings

from alys_pbt import coverage, database, deviations, foreign, profiles, targets
from alys_pbt.interface import TargetError
from alys_pbt.models import bls
from alys_pbt.strategies.invalid import AREAS
from alys_pbt.verdict import ASSERTION, describe, is_registered, strays

MARKERS = {
    **AREAS,  # one marker per area, named as the area's files and deviations (strategies/invalid.py)
    "slow": "long-running; skipped unless --run-slow or the nightly profile",
    "bls_reference": "runs BLS on py_ecc (about half a second per verification): keep small",
    coverage.REQUIRES: 'requires("component[.method]", ...): parts of the target interface it needs '
    "beyond what its code shows (alys_pbt/coverage.py); skipped, naming the part, on a target without",
}
QUIRK_KEY = "alys_pbt_quirks"
_QUIRKS = pytest.StashKey[list[str]]()  # the quirks an item is expected to fail on
_ALLOWED = pytest.StashKey[tuple[str, ...]]()  # the failures (class names) that count as its failing
_MAY = pytest.StashKey[bool]()  # its quirks break it only by chance (Deviation.may_break)
_MISSING = pytest.StashKey[str]()  # the part of the interface the target lacks that the item needs
UNCOVERED_KEY = "alys_pbt_uncovered"
_state: dict[str, Any] = {}


class UnregisteredFailure(Exception):
    """A property held as an expected failure failed, but not in the way its deviation is registered
    to make it fail (a dead database, a TypeError in a strategy, Flaky, ...): the run must fail."""

    def __init__(self, quirks: list[str], allowed: tuple[str, ...], failures: list[BaseException]) -> None:
        self.failures = "; ".join(describe(e) for e in failures)
        nouns = {"quirk": "quirk", "library": "library deviation", "foreign": "deviation of the target"}
        kinds = {nouns.get(_deviation(q).kind, "deviation") for q in quirks}
        noun = kinds.pop() if len(kinds) == 1 else "deviation"
        plural = "s" if len(quirks) > 1 else ""
        super().__init__(
            f"expected failure for {noun}{plural} {', '.join(quirks)} was not the "
            f"registered failure ({' or '.join(allowed)}): {self.failures}"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alys-pbt")
    group.addoption(
        "--target",
        default=os.environ.get("ALYS_TARGET", targets.DEFAULT),
        help="implementation to drive: alys (default), alys-fixed, "
        "alys-fixed+ID[+ID], package.module:object, or a server of the target protocol "
        "(docs/protocol.md): exec:'COMMAND ARGS' or tcp:HOST:PORT",
    )
    group.addoption(
        "--replay-db",
        default=os.environ.get("ALYS_PBT_REPLAY_DB") or None,
        help="a foreign .hypothesis/examples directory whose failures replay first (read-only)",
    )
    group.addoption(
        "--bls-backend",
        default=os.environ.get("ALYS_BLS_BACKEND", "blst"),
        help="BLS library that signs and verifies for the suite: blst (default), py_ecc, milagro, blspy",
    )
    group.addoption(
        "--examples",
        default=os.environ.get("ALYS_PBT_EXAMPLES") or None,
        help="example budget: every property's max_examples scaled to N per profile budget "
        "(state machines' step counts by its square root)",
    )
    group.addoption("--findings", default=None, help="write a Markdown findings report here")
    group.addoption("--run-slow", action="store_true", help="run tests marked slow")
    # Measure and show (issue 15): alys_pbt/metrics.py, report.py, history.py, bench.py.
    group.addoption("--metrics", default=None, help="write per-property metrics (JSON lines) into DIR")
    group.addoption("--report", default=None, help="write one self-contained HTML report here")
    group.addoption("--history", default=None, help="append the run's figures to this SQLite file")
    group.addoption(
        "--profile", default=None, help="benchmarks: write a pyinstrument profile per benchmark into DIR"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        profile = profiles.choose(requested=config.getoption("hypothesis_profile", None))
        examples = profiles.budget(config.getoption("examples"))
        known = database.known_directory(os.environ.get("ALYS_PBT_KNOWN_FAILURES"))
        local = os.environ.get("ALYS_PBT_LOCAL_DB") or None
        db = database.build(
            replay=config.getoption("replay_db"),
            url=os.environ.get("ALYS_PBT_DATABASE_URL") or None,
            known=known,
            local=Path(local) if local else None,
        )
        target = targets.prepare(targets.load(config.getoption("target")), config.getoption("target"))
        bls_backend = bls.choose(config.getoption("bls_backend"))
    except (
        profiles.UnknownProfile,
        profiles.BadBudget,
        database.DatabaseError,
        TargetError,
        bls.UnknownBackend,
    ) as err:
        raise pytest.UsageError(str(err)) from None
    import py_ecc.bls  # noqa: F401 - it raises the recursion limit on import: do it before any test

    profiles.load(profile, db, examples)
    targets.select(target)
    from alys_pbt.strategies import auxpow as auxpow_strategies  # draw only what the target supports

    auxpow_strategies.SUPPORTED.update(
        target.coverage.capabilities.get("auxpow", auxpow_strategies.ALL_SUPPORTED)
    )
    _state.update(
        profile=profile,
        target=target,
        results={},
        uncovered={},
        bls=bls_backend,
        known=known,
        examples=examples,
        ratio=profiles.ratio(profile, examples),
    )
    from alys_pbt import chaos  # the chaos section of the findings (issue 16, item 6)

    if not config.pluginmanager.has_plugin("alys-pbt-chaos"):
        config.pluginmanager.register(chaos, "alys-pbt-chaos")
    from alys_pbt import metrics, report  # issue 15: observations, the HTML report, the history

    for name, module in (("alys-pbt-metrics", metrics), ("alys-pbt-report", report)):
        if not config.pluginmanager.has_plugin(name):
            config.pluginmanager.register(module, name)


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = _state["target"]
    replay = config.getoption("replay_db")
    return [
        f"alys-pbt: profile {_state['profile']!r}, target {target.name!r} "
        f"({len(target.quirks)} known quirks held as strict xfails), BLS backend {_state['bls'].name!r}"
        + (f", replaying {replay}" if replay else ""),
        f"alys-pbt: {settings().max_examples} examples per property"
        + (f" (--examples, {_state['ratio']:g}x the profile's)" if _state["examples"] else "")
        + f", state machines of {settings().stateful_step_count} steps; known failures "
        + (f"replay first from {_state['known']}" if _state["known"] else "off"),
        *_coverage_header(target),
    ]


def _coverage_header(target: Any) -> list[str]:
    cov = target.coverage
    if not cov.absent_components and not cov.absent_methods:
        return []
    lacks = [*(f"{c} (the whole component)" for c in cov.absent_components), *cov.absent_methods]
    return [
        f"alys-pbt: target {target.name!r} offers {', '.join(cov.offered)}; the properties needing "
        f"{', '.join(lacks)} are skipped"
    ]


@pytest.fixture(scope="session")
def target() -> Any:
    """The implementation under test (see alys_pbt/interface.py); a state machine is handed it
    through its TestCase (alys_pbt/machines.py machine_test)."""
    return targets.current()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("run_slow") or _state["profile"] in profiles.RUNS_SLOW
    skip_slow = pytest.mark.skip(reason="slow: use --run-slow or HYPOTHESIS_PROFILE=nightly")
    carried = _state["target"].quirks
    _scale_own_budgets(items)
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        missing = coverage.uncovered(item, _state["target"].coverage)
        if missing:  # not run, and listed as not covered (issue 12, item 1)
            item.add_marker(pytest.mark.skip(reason=f"target {_state['target'].name!r} lacks {missing}"))
            item.stash[_MISSING] = missing
            continue
        breaking = foreign.breaking(item.nodeid, carried, _state["target"].foreign)
        if breaking:
            ids = ", ".join(q.id for q in breaking)
            allowed = tuple(dict.fromkeys(name for q in breaking for name in q.fails_with))
            # pytest's xfail(raises=...) turns any other exception into a failure of the run.
            registered = pytest.RaisesExc(check=functools.partial(is_registered, allowed=allowed))
            item.add_marker(
                pytest.mark.xfail(
                    strict=True,
                    raises=registered,
                    reason=f"known deviation: {ids} (expected failure: {' or '.join(allowed)})",
                )
            )
            item.stash[_QUIRKS] = [q.id for q in breaking]
            item.stash[_ALLOWED] = allowed
            continue
        chance = deviations.quirks_that_may_break(item.nodeid, carried)
        if chance:  # a non-strict xfail: a pass is fine, a failure must still be the registered one
            ids = ", ".join(q.id for q in chance)
            allowed = tuple(dict.fromkeys(name for q in chance for name in q.fails_with))
            registered = pytest.RaisesExc(check=functools.partial(is_registered, allowed=allowed))
            item.add_marker(
                pytest.mark.xfail(
                    strict=False,
                    raises=registered,
                    reason=f"known deviation, may show: {ids} (expected failure: {' or '.join(allowed)})",
                )
            )
            item.stash[_QUIRKS] = [q.id for q in chance]
            item.stash[_ALLOWED] = allowed
            item.stash[_MAY] = True


def _scale_own_budgets(items: list[pytest.Item]) -> None:
    """Under --examples, scale the budget of each property that sets its own (the profile already
    carries the new budget, and every settings object that does not set max_examples inherits it)."""
    ratio = _state["ratio"]
    if ratio == 1.0:
        return
    budget = settings().max_examples
    done: set[int] = set()
    for item in items:
        fn: Any = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        if own is None or id(fn) in done or not is_hypothesis_test(fn):
            continue
        done.add(id(fn))  # parametrized items share one function: scale it once
        if own.max_examples != budget:
            scaled = profiles.scaled_examples(own.max_examples, ratio)
            fn._hypothesis_internal_use_settings = settings(own, max_examples=scaled)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if _state["profile"] in profiles.DETERMINISTIC:
        _fix_seed(item)
    try:
        return (yield)
    except Exception as err:  # pytest's own outcomes (skip, fail, exit) are BaseExceptions: they pass
        quirks = item.stash.get(_QUIRKS, [])
        allowed = item.stash.get(_ALLOWED, ())
        stray = strays(err, allowed) if quirks else []
        if stray:  # name what went wrong instead of letting it pass for the deviation
            raise UnregisteredFailure(quirks, allowed, stray) from err
        raise


def _fix_seed(item: pytest.Item) -> None:
    """Seed the test from its node id, keeping the database (unlike derandomize or @seed)."""
    obj = getattr(item, "obj", None)
    machine = getattr(obj, "_hypothesis_state_machine_class", None)
    holder = machine if machine is not None else obj
    if holder is None or not (machine is not None or is_hypothesis_test(obj)):
        return
    if getattr(holder, "_hypothesis_internal_use_seed", None) is None:
        digest = hashlib.sha256(item.nodeid.encode()).digest()
        holder._hypothesis_internal_use_seed = int.from_bytes(digest[:8], "big")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    missing = item.stash.get(_MISSING, None) if call.when == "setup" else None
    if call.when == "call" and call.excinfo is not None:
        # reached while it ran (alys_pbt/interface.py missing): what the reading of its code missed
        missing = getattr(call.excinfo.value, "missing_part", None)
    if missing:
        outcome.get_result().user_properties.append((UNCOVERED_KEY, missing))
    quirks = item.stash.get(_QUIRKS, None)
    if not quirks or call.when != "call":
        return
    report = outcome.get_result()
    # Caught means the property failed as registered, on this run (an xfail, or a plain failure
    # under --runxfail); anything else it raised is an error, named in the findings.
    err = call.excinfo.value if call.excinfo is not None else None
    allowed: tuple[str, ...] = item.stash[_ALLOWED]
    caught = is_registered(err, allowed)
    example = f"{describe(err)}\n{_notes(err)}".strip() if caught and err is not None else ""
    error = ""
    if isinstance(err, UnregisteredFailure):
        error = err.failures
    elif err is not None and not caught and not isinstance(err, pytest.skip.Exception):
        error = describe(err)
    may = item.stash.get(_MAY, False)
    report.user_properties.append(
        (QUIRK_KEY, {"quirks": quirks, "caught": caught, "example": example, "error": error, "may": may})
    )


def _notes(err: BaseException) -> str:
    """Hypothesis's notes on a failure (the falsifying example), of every member of a group."""
    parts = list(getattr(err, "__notes__", []))
    parts += [_notes(e) for e in getattr(err, "exceptions", ())]
    return "\n".join(p for p in parts if p).strip()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == UNCOVERED_KEY and report.skipped:
            _state["uncovered"].setdefault(value, []).append(report.nodeid)
        if key == QUIRK_KEY:
            value = cast(dict[str, Any], value)  # what pytest_runtest_makereport recorded
            for quirk in value["quirks"]:
                _state["results"].setdefault(quirk, []).append((report.nodeid, value))


def _deviation(deviation_id: str) -> Any:
    """Ours, or one of the target's own (alys_pbt/foreign.py)."""
    own = {d.id: d for d in _state["target"].foreign} if _state.get("target") else {}
    return own[deviation_id] if deviation_id in own else deviations.get(deviation_id)


def findings() -> list[tuple[deviations.Deviation, str, list[tuple[str, dict[str, Any]]]]]:
    """(quirk, verdict, results) for every quirk the target carries, ours and its own."""
    rows = []
    own = sorted(d.id for d in _state["target"].foreign)
    for quirk_id in [*sorted(set(_state["target"].quirks) - set(own)), *own, *sorted(deviations.LIBRARY_IDS)]:
        results = _state["results"].get(quirk_id, [])
        # A property it breaks only by chance (may show) decides nothing unless it raised a stray.
        sure = [r for _, r in results if not r.get("may") or r.get("error")]
        if not results:
            verdict = "not run"
        elif not sure:
            verdict = "may show"
        elif all(r["caught"] for r in sure):
            verdict = "caught"
        else:
            verdict = "NOT caught"
        rows.append((_deviation(quirk_id), verdict, results))
    # Grouped by area (Deviation.component), in the order of the areas, then as listed.
    order = {area: i for i, area in enumerate(AREAS)}
    return sorted(rows, key=lambda row: order.get(getattr(row[0], "component", ""), len(order)))


def not_covered() -> dict[str, list[str]]:
    """The properties skipped because the target lacks a part, by the part (issue 12, item 1)."""
    return {part: sorted(set(ids)) for part, ids in sorted(_state["uncovered"].items())}


def _coverage_lines() -> list[str]:
    return [f"{len(ids):>5}  {part}" for part, ids in not_covered().items()]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not _state.get("target"):
        return
    if _state["uncovered"]:
        terminalreporter.section(f"alys-pbt coverage: not run on target {_state['target'].name} (it lacks)")
        for line in _coverage_lines():
            terminalreporter.write_line(line)
    from alys_pbt import chaos

    if chaos.merged():
        terminalreporter.section("alys-pbt chaos: examples per fault kind, invariants exercised")
        for line in chaos.lines():
            terminalreporter.write_line(line)
    rows = [row for row in findings() if row[1] != "not run" or row[0].kind in ("quirk", "foreign")]
    if all(verdict == "not run" for _, verdict, _ in rows):
        if config.getoption("findings") and (_state["uncovered"] or chaos.merged()):
            Path(config.getoption("findings")).write_text(_markdown(rows))
        return
    terminalreporter.section("alys-pbt findings: known deviations of target " + _state["target"].name)
    for quirk, verdict, results in rows:
        errors = [f"{nodeid} raised {r['error']}" for nodeid, r in results if r.get("error")]
        detail = f"; not the registered failure: {'; '.join(errors)}" if errors else ""
        chance = [r for _, r in results if r.get("may") and not r.get("error")]
        if chance:
            detail += f"; may show in {len(chance)}, shown in {sum(r['caught'] for r in chance)}"
        terminalreporter.write_line(f"{verdict:>10}  {quirk.id}  ({len(results)} properties{detail})")
    path = config.getoption("findings")
    if path:
        Path(path).write_text(_markdown(rows))
        terminalreporter.write_line(f"findings report written to {path}")


def _markdown(rows: list[tuple[deviations.Deviation, str, list[tuple[str, dict[str, Any]]]]]) -> str:
    out = [f"# alys-pbt findings: target `{_state['target'].name}`", ""]
    out += [
        "*caught*: on this run, a property the deviation breaks failed with its registered failure (an "
        "AssertionError: a verdict mismatch or a broken invariant, unless the registry names a crash); "
        "*NOT caught*: it passed, was skipped, or raised anything else (named below); *not run*: no "
        "property it breaks ran; *may show*: a property it breaks only by chance (a draw must find "
        "its form) ran, as a non-strict expected failure: a pass is no finding, a failure must still "
        "be the registered one.",
        "",
    ]
    out += ["| area | quirk | verdict | properties |", "|---|---|---|---|"]
    out += [f"| {getattr(q, 'component', '')} | `{q.id}` | {v} | {len(r)} |" for q, v, r in rows]
    from alys_pbt import chaos

    out += chaos.markdown()
    if _state["uncovered"]:
        out += [
            "",
            "## Not covered",
            "",
            f"Skipped because target `{_state['target'].name}` lacks a part:",
            "",
        ]
        for part, ids in not_covered().items():
            out += [f"- {part}: {len(ids)} properties", *(f"  - `{i}`" for i in ids)]
    for quirk, verdict, results in rows:
        out += ["", f"## `{quirk.id}`: {verdict}", "", quirk.summary + ".", "", f"Source: {quirk.source}", ""]
        if quirk.fails_with != (ASSERTION,):
            out += [f"Registered failure: {' or '.join(quirk.fails_with)}.", ""]
        for nodeid, result in results:
            if result.get("error"):
                out += [f"### error in `{nodeid}`: not the registered failure", ""]
                out += ["```", result["error"], "```", ""]
                continue
            if result.get("may"):
                shown = "shown on this run" if result["caught"] else "not shown on this run"
                out += [f"### may show in `{nodeid}`: {shown}", ""]
            else:
                out += [f"### {'caught by' if result['caught'] else 'missed by'} `{nodeid}`", ""]
            if result["example"]:
                out += ["```", result["example"], "```", ""]
    return "\n".join(out) + "\n"
