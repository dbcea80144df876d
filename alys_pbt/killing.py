"""Seeded bugs and the kill matrix: which property kills which mutant (and catches which quirk).

A property or state machine declares the mutants it must kill with `@kills("mutant-id", ...)`; the
quirks a property catches come from the registry (`Deviation.breaks`, derived from the invalid-case
records that expose each quirk; a property a quirk breaks only by chance, `may_break`, is no pair:
it cannot be relied on to fail). `run(pair, seed)` runs one
pair in-process on target `alys-fixed+<deviation>` under the `ci` budget (no database, a fixed
seed, shrinking off) and reports whether it failed, after how many examples and seconds. A pair is
killed only by the property's own failure, the one the registry names (`Deviation.fails_with`, an
assertion unless it says otherwise); any other exception is reported as an error, not a kill.
"""

from __future__ import annotations

import fnmatch
import importlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from attrs import evolve, frozen
from hypothesis import Phase, is_hypothesis_test, settings
from hypothesis.stateful import run_state_machine_as_test

from alys_pbt import deviations, targets
from alys_pbt.database import ROOT
from alys_pbt.verdict import ASSERTION, describe, strays

T = TypeVar("T")
PROPERTY_DIR = ROOT / "properties"


def kills(*mutant_ids: str) -> Callable[[T], T]:
    """Declare the seeded mutants this property or state machine must kill."""
    for m in mutant_ids:
        if deviations.get(m).kind != "mutant":
            raise ValueError(
                f"{m!r} is a quirk; the registry lists the properties it breaks (from the invalid-case "
                "records that expose it, alys_pbt/deviations.py)"
            )

    def mark(obj: T) -> T:
        obj.__alys_kills__ = tuple(mutant_ids)  # type: ignore[attr-defined]
        return obj

    return mark


@frozen
class Case:
    """One runnable property: a function (with one parametrization) or a state machine."""

    nodeid: str  # properties/test_x.py::test_y[param]
    function: str  # properties/test_x.py::test_y (the property, without parameters)
    obj: Any
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def is_machine(self) -> bool:
        return hasattr(getattr(self.obj, "runTest", None), "_hypothesis_state_machine_class")

    @property
    def declared(self) -> tuple[str, ...]:
        source = self.obj.runTest._hypothesis_state_machine_class if self.is_machine else self.obj
        return getattr(source, "__alys_kills__", ())


def _parametrizations(fn: Any) -> Iterator[tuple[str, tuple[tuple[str, Any], ...]]]:
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        yield "", ()
        return
    (mark,) = marks  # one parametrize per property keeps node ids predictable
    name = mark.args[0]
    ids = mark.kwargs.get("ids")
    for i, value in enumerate(mark.args[1]):
        value = value.values[0] if hasattr(value, "values") else value
        label = ids(value) if callable(ids) else (ids[i] if ids else str(value))
        yield f"[{label}]", ((name, value),)


def discover(directory: Path = PROPERTY_DIR, pattern: str = "test_*.py") -> list[Case]:
    """Every property function and state machine in `directory`, one Case per parametrization."""
    cases = []
    for path in sorted(directory.glob(pattern)):
        rel_path = path.relative_to(ROOT)
        module = importlib.import_module(".".join(rel_path.with_suffix("").parts))
        rel = rel_path.as_posix()
        for name, obj in vars(module).items():
            if not name.startswith("Test") and not name.startswith("test_"):
                continue
            if is_hypothesis_test(obj):
                for suffix, kwargs in _parametrizations(obj):
                    cases.append(Case(f"{rel}::{name}{suffix}", f"{rel}::{name}", obj, kwargs))
            elif hasattr(getattr(obj, "runTest", None), "_hypothesis_state_machine_class"):
                cases.append(Case(f"{rel}::{name}::runTest", f"{rel}::{name}", obj))
    return cases


@frozen
class Pair:
    """A deviation and the property (all its parametrizations) that must catch it."""

    deviation: str
    function: str
    cases: tuple[Case, ...]
    jointly: tuple[str, ...] = ()  # other quirks it breaks the property together with

    @property
    def target_spec(self) -> str:
        d = deviations.get(self.deviation)
        if d.kind == "library":
            return "alys-fixed"  # the library itself carries it
        return "alys-fixed+" + "+".join((*d.requires, *self.jointly, d.id))

    @property
    def fails_with(self) -> tuple[str, ...]:
        """The failures that count as a kill: those of every deviation switched on for the pair."""
        ids = (*deviations.get(self.deviation).requires, *self.jointly, self.deviation)
        return tuple(dict.fromkeys(name for i in ids for name in deviations.get(i).fails_with))

    @property
    def label(self) -> str:
        return "+".join((*self.jointly, self.deviation)) + f"--{self.function.split('::', 1)[1]}"


def declared_pairs(cases: list[Case] | None = None) -> list[Pair]:
    """Every (mutant, property) pair declared with @kills and (quirk, property) from the registry."""
    cases = discover() if cases is None else cases
    by_function: dict[str, list[Case]] = {}
    for case in cases:
        by_function.setdefault(case.function, []).append(case)
    pairs = []
    for function, group in by_function.items():
        for mutant in group[0].declared:
            pairs.append(Pair(mutant, function, tuple(group)))
    for quirk in deviations.QUIRKS + deviations.LIBRARY:
        for function, group in by_function.items():
            hit = tuple(c for c in group if any(fnmatch.fnmatchcase(c.nodeid, p) for p in quirk.breaks))
            if hit:
                pairs.append(Pair(quirk.id, function, hit))
            for pattern, others in quirk.jointly:
                hit = tuple(c for c in group if fnmatch.fnmatchcase(c.nodeid, pattern))
                if hit:
                    pairs.append(Pair(quirk.id, function, hit, tuple(others)))
    return pairs


class MutantSurvived(AssertionError):
    """A declared deviation survived the ci budget: the property cannot fail on it."""


class NotTheRegisteredFailure(MutantSurvived):
    """The property raised something other than its registered failure: that is not a kill."""


def assert_killed(pair: Pair, *, seed: int = 0, serve: str = "") -> Outcome:
    """Run the pair under the ci budget; raise MutantSurvived unless the property failed as registered."""
    return require_kill(pair, run(pair, seed=seed, serve=serve), seed=seed, serve=serve)


def require_kill(pair: Pair, outcome: Outcome, *, seed: int, serve: str = "") -> Outcome:
    """`outcome` if it is a kill by the registered failure; else MutantSurvived, naming what happened."""
    spec = served(pair.target_spec, serve)
    if outcome.error:
        raise NotTheRegisteredFailure(
            f"{pair.deviation} was not killed by {pair.function} on {spec}: it raised "
            f"{outcome.error}, not the registered failure ({' or '.join(pair.fails_with)}) (seed {seed})"
        )
    if not outcome.killed:
        raise MutantSurvived(
            f"{pair.deviation} survived {pair.function} on {spec} "
            f"after {outcome.examples} examples (seed {seed})"
        )
    return outcome


@frozen
class Outcome:
    killed: bool
    examples: int  # test cases run up to and including the first failure (or the whole budget)
    seconds: float
    counterexample: str = ""
    error: str = ""  # a failure that is not the registered one, named (then killed is False)


def _budget(own: settings | None, *, shrink: bool, share: int = 1) -> settings:
    """The ci budget (over `share`); a property that sets its own, smaller max_examples (py_ecc) keeps it."""
    base = settings.get_profile("ci") if "ci" in settings._profiles else settings()
    examples = min(base.max_examples, own.max_examples) if own is not None else base.max_examples
    examples = max(1, examples // share)
    phases = (Phase.explicit, Phase.generate) + ((Phase.shrink,) if shrink else ())
    return settings(
        base,
        database=None,
        max_examples=examples,
        phases=phases,
        report_multiple_bugs=False,
        deadline=None,
        print_blob=False,
    )


def _notes(err: BaseException) -> str:
    notes = list(getattr(err, "__notes__", []))
    for inner in getattr(err, "exceptions", ()):
        notes.append(_notes(inner))
    return "\n".join(n for n in notes if n).strip()


def run_case(
    case: Case,
    target: Any,
    *,
    seed: int,
    shrink: bool = False,
    fails_with: tuple[str, ...] = (ASSERTION,),
    share: int = 1,
) -> Outcome:
    """Run one case on `target` under the ci budget (1/`share` of it); restores every attribute it touches.

    Killed only when the property fails as registered (`fails_with`); any other exception is
    returned as the outcome's `error`."""
    calls = [0]
    first_failure: list[int] = []
    explicit = getattr(case.obj, "_hypothesis_internal_settings_applied", False)
    budget = _budget(
        case.obj._hypothesis_internal_use_settings if explicit else None, shrink=shrink, share=share
    )
    start = time.perf_counter()
    with targets.using(target):
        try:
            if case.is_machine:
                _run_machine(case, target, budget, seed, calls, first_failure)
            else:
                _run_function(case, target, budget, seed, calls, first_failure)
        except Exception as err:  # noqa: BLE001 - judged below: only the registered failure kills
            elapsed = time.perf_counter() - start
            n = first_failure[0] if first_failure else calls[0]
            stray = strays(err, fails_with)
            error = "; ".join(describe(e) for e in stray)
            return Outcome(not stray, n, elapsed, _notes(err) or describe(err), error)
    return Outcome(False, calls[0], time.perf_counter() - start)


def _run_function(
    case: Case, target: Any, budget: settings, seed: int, calls: list[int], first: list[int]
) -> None:
    fn = case.obj
    inner = fn.hypothesis.inner_test

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        try:
            return inner(*args, **kwargs)
        except BaseException:
            if not first:
                first.append(calls[0])
            raise

    saved = (fn._hypothesis_internal_use_settings, fn._hypothesis_internal_use_seed)
    fn.hypothesis.inner_test = counting
    fn._hypothesis_internal_use_settings, fn._hypothesis_internal_use_seed = budget, seed
    try:
        fn(target=target, **dict(case.kwargs))
    finally:
        fn.hypothesis.inner_test = inner
        fn._hypothesis_internal_use_settings, fn._hypothesis_internal_use_seed = saved


def _run_machine(
    case: Case, target: Any, budget: settings, seed: int, calls: list[int], first: list[int]
) -> None:
    machine = case.obj.runTest._hypothesis_state_machine_class

    class Counting(machine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            calls[0] += 1
            super().__init__(target)  # a machine is given its target (alys_pbt/machines.py)

    Counting._hypothesis_internal_use_seed = seed
    Counting.__name__ = machine.__name__
    try:
        run_state_machine_as_test(Counting, settings=budget)
    except BaseException:
        first.append(calls[0])
        raise


# A pair over several parametrizations (a catalogue of corruptions, say) is usually killed by one
# of them, often the last: run one after another on the whole budget, the others spend it all
# first (1,500 test cases before `trailing-bytes` kills chain-block-decode-ignores-trailing). So
# every case runs on 1/8 of the budget, then 1/4, 1/2 and all of it: a kill comes in the first pass
# that reaches it, and a pair that survives has still had the whole budget on every case.
WIDENING = (8, 4, 2, 1)


def served(spec: str, serve: str = "") -> str:
    """The target spec a pair runs on: `spec` in-process, or `exec:SERVE spec` when `serve` names a
    server command of the target protocol (`python -m alys.serve`, which takes the same variants)."""
    return f"exec:{serve} {spec}" if serve else spec


def run(pair: Pair, *, seed: int = 0, shrink: bool = False, serve: str = "") -> Outcome:
    """Run the pair's cases on its target, on widening budgets, until one kills; sum what was spent.
    With `serve`, the target is that server command's child process, driven over the protocol."""
    target = targets.load(served(pair.target_spec, serve))
    try:
        spent, seconds = 0, 0.0
        for share in WIDENING if len(pair.cases) > 1 else (1,):
            for case in pair.cases:
                outcome = run_case(
                    case, target, seed=seed, shrink=shrink, fails_with=pair.fails_with, share=share
                )
                spent, seconds = spent + outcome.examples, seconds + outcome.seconds
                if outcome.killed or outcome.error:
                    return evolve(outcome, examples=spent, seconds=seconds)
        return Outcome(False, spent, seconds)
    finally:
        close = getattr(target, "close", None)
        if callable(close):  # a served target: its child process ends with the pair
            close()


@frozen
class Row:
    pair: Pair
    kills: int
    seeds: int
    median_examples: float
    median_seconds: float
    shrunk_size: int  # lines of the shrunk falsifying example (steps, for a state machine)
    errors: tuple[str, ...] = ()  # failures that were not the registered one (not kills), named


def measure(pair: Pair, *, seeds: int = 10) -> Row:
    """ETNA-style: kill rate over `seeds` seeds, medians to the first failure, shrunk size."""
    outcomes = [run(pair, seed=s) for s in range(seeds)]
    killed = [o for o in outcomes if o.killed]
    shrunk = run(pair, seed=0, shrink=True) if killed else None
    return Row(
        pair,
        len(killed),
        seeds,
        statistics.median(o.examples for o in killed) if killed else float("nan"),
        statistics.median(o.seconds for o in killed) if killed else float("nan"),
        len(shrunk.counterexample.splitlines()) if shrunk and shrunk.killed else 0,
        tuple(dict.fromkeys(o.error for o in outcomes if o.error)),
    )
