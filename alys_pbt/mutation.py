"""Mutation testing of the port (`alys/`) with mutmut, one module at a time, and its report.

    python -m alys_pbt.mutation run alys/actors/mailbox.py [MODULE ...] [--tests T ...]
    python -m alys_pbt.mutation rerun MODULE ...  # its survivors again, against the suite as it is now
    python -m alys_pbt.mutation report     # docs/mutation.md from the recorded results
    python -m alys_pbt.mutation check      # what the report still lacks (exit 1 if anything)
    python -m alys_pbt.mutation draft      # TOML stubs for survivors not yet accounted for

`run` mutates MODULE in a scratch copy of the project (`.mutation/<module>/`, mutmut's `mutants/`
inside it) and runs, for each mutant, only the tests that answer the module (pyproject.toml
`[tool.alys-pbt.mutation.tests]`, or `--tests`) with one child process. Pass 1 is on target
`alys-fixed`: every quirk off, so no strict xfail masks a mutant. Pass 2 re-runs the survivors on
target `alys`: a mutant inside a quirk's own branch shows only there (the strict xfail passes).
The outcome of every mutant, and the diff of every survivor, goes to docs/mutation-results.json,
with the commit and the module's SHA-256 it was measured at.

Every survivor must be accounted for, by mutant name and diff: shown equivalent in
docs/mutation-equivalents.toml (`[[equivalent]]`: module, mutant, diff, why) or left open in
docs/mutation-open.toml (`[[open]]`: module, mutant, diff, answer: the property or generator that
should kill it). A module not measured yet has a reason in docs/mutation-open.toml `[not-run]`.
The score of a module is killed / (mutants - equivalent), computed, never written by hand.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import frozen

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = DOCS / "mutation-results.json"
EQUIVALENTS = DOCS / "mutation-equivalents.toml"
OPEN = DOCS / "mutation-open.toml"
REPORT = DOCS / "mutation.md"
WORK = ROOT / ".mutation"
# What a scratch project holds: the port, the suite, its tests, copied when the run starts, so that
# every pass sees the same code even while the project changes (mutmut copies them into mutants/).
COPIED = ("alys", "alys_pbt", "models", "strategies", "properties", "tests", "conftest.py")
PASSES = ("alys-fixed", "alys")

# mutmut's exit codes (mutmut/stats.py status_by_exit_code), folded into what the report counts.
# "killed by signal": the test child died of a signal a crash raises (SIGABRT from a failed C assertion
# or abort(), SIGSEGV, SIGBUS, SIGFPE, SIGILL): the mutant broke the run as surely as a failing test.
# mutmut itself calls only SIGSEGV and SIGKILL a "segfault" and files the others as "suspicious".
KILLED = frozenset({"killed", "timeout", "segfault", "killed by signal", "caught by type check"})
SURVIVED = frozenset({"survived", "no tests", "suspicious"})
EXCLUDED = frozenset({"skipped"})
# The signals a crashing child dies of (as waitstatus_to_exitcode gives them: minus the signal number).
CRASH_SIGNALS = frozenset(
    -s for s in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)
)
# Each mutant's test run gets an example database of its own (this module, loaded as a pytest plugin
# in the mutmut child through PYTEST_PLUGINS, names a fresh directory in ALYS_PBT_LOCAL_DB): a
# failure one mutant saved is never replayed for the next, which would change what the next one's
# properties generate (replayed examples take the place of generated ones) and so which it kills.
ISOLATION_PLUGIN = "alys_pbt.mutation"


class MutationError(RuntimeError):
    """A mutmut run that did not finish, or a module it cannot mutate."""


# --- the modules and the tests that answer them -------------------------------------------------
def modules(root: Path = ROOT) -> list[str]:
    """Every module of the port, as a path relative to the project root."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "alys").rglob("*.py"))


def _pyproject(root: Path = ROOT) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text())


def tests_for(module: str, root: Path = ROOT) -> list[str]:  # noqa: PT028 - not a test: it names them
    """The tests that answer `module`: the first matching glob of [tool.alys-pbt.mutation.tests]."""
    table: dict[str, list[str]] = _pyproject(root)["tool"]["alys-pbt"]["mutation"]["tests"]
    for pattern, tests in table.items():
        if fnmatch.fnmatchcase(module, pattern):
            return list(tests)
    raise MutationError(
        f"no tests answer {module}: add it to [tool.alys-pbt.mutation.tests] in pyproject.toml"
    )


# --- running mutmut --------------------------------------------------------------------------------
def _scratch(
    module: str, tests: Sequence[str], work: Path, root: Path, timeout_constant: float | None = None
) -> Path:
    """A fresh scratch project for one module: a copy of the sources, a pyproject naming the module."""
    scratch = work / module.replace("/", "__").removesuffix(".py")
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    _snapshot(scratch, root, COPIED)
    text = (root / "pyproject.toml").read_text()
    # Keep pytest's settings, replace mutmut's selection: this module, these tests.
    head, _, _ = text.partition("[tool.mutmut]")
    cfg = _pyproject(root)["tool"]["mutmut"]
    cfg = {**cfg, "only_mutate": [module], "pytest_add_cli_args_test_selection": list(tests)}
    if timeout_constant is not None:
        cfg["timeout_constant"] = timeout_constant
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in cfg.items()]
    (scratch / "pyproject.toml").write_text(head + "\n".join(lines) + "\n")
    return scratch


def _set_timeout_constant(scratch: Path, seconds: float) -> None:
    """Give every mutant's tests `seconds` more wall time before mutmut calls it a timeout. mutmut
    allows timeout_multiplier * (the tests' clean duration + timeout_constant) of wall time: on a
    loaded machine a short clean run and the default 1 s make timeouts of mutants that merely ran
    slowly, each counted as a kill. mutmut re-runs exactly the timeouts when this setting changes."""
    path = scratch / "pyproject.toml"
    head, _, table = path.read_text().partition("[tool.mutmut]\n")
    lines = [line for line in table.splitlines() if not line.startswith("timeout_constant = ")]
    path.write_text(
        head + "[tool.mutmut]\n" + "\n".join([*lines, f"timeout_constant = {json.dumps(seconds)}"]) + "\n"
    )


def _set_test_selection(scratch: Path, tests: Sequence[str]) -> None:
    """The tests mutmut runs in a scratch project (its pytest_add_cli_args_test_selection)."""
    path = scratch / "pyproject.toml"
    head, _, table = path.read_text().partition("[tool.mutmut]\n")
    key = "pytest_add_cli_args_test_selection = "
    lines = [line for line in table.splitlines() if not line.startswith(key)]
    path.write_text(head + "[tool.mutmut]\n" + "\n".join([*lines, key + json.dumps(list(tests))]) + "\n")


def _mutmut(scratch: Path, args: Sequence[str], target: str, log: Path, examples: int | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_", "ALYS_"))}
    # ci profile: each test seeded from its node id, so a run repeats; the database lives in the
    # scratch copy (alys_pbt is copied into mutants/), never in the project's own.
    env.update(ALYS_TARGET=target, HYPOTHESIS_PROFILE="ci", PYTHONHASHSEED="0")
    env["PYTEST_PLUGINS"] = ISOLATION_PLUGIN  # a fresh example database per mutant (pytest_cmdline_main)
    if examples is not None:  # a smaller (or larger) budget per property: ALYS_PBT_EXAMPLES, the plugin's
        env["ALYS_PBT_EXAMPLES"] = str(examples)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # `mutmut run`, as its console script starts it (python -m would import mutmut twice).
    # The scratch project's name ends the command line, so `ps` tells concurrent runs apart.
    code = f"import sys; from mutmut.__main__ import cli; sys.argv[0] = 'mutmut'; cli()  # {scratch.name}"
    # The whole of a pass (generating mutants takes seconds; running each one against its tests is
    # the time) goes to the log: say where, or a long pass looks like a hang.
    named = f"{len(args) - 3} named mutants" if len(args) > 3 else "every mutant"
    print(f"  pass on {target}, {named}: progress in {log}", flush=True)
    with log.open("a") as out:
        out.write(f"\n=== mutmut {' '.join(args)} on target {target}\n")
        out.flush()
        done = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise MutationError(f"mutmut {' '.join(args)} failed (exit {done.returncode}); see {log}")


def status(exit_code: int | None) -> str:
    """What a mutant's test run ended in: mutmut's reading of its exit code, except that a child
    that died of a crash signal (SIGABRT, SIGSEGV, ...) killed the mutant ("killed by signal")."""
    from mutmut.stats import status_by_exit_code

    if exit_code in CRASH_SIGNALS:
        return "killed by signal"
    return status_by_exit_code[exit_code]


def _statuses(scratch: Path, module: str) -> dict[str, str]:
    meta = json.loads((scratch / "mutants" / f"{module}.meta").read_text())
    return {name: status(code) for name, code in sorted(meta["exit_code_by_key"].items())}


def isolate_example_database(cleanup: Callable[[Callable[[], None]], None], base: Path) -> Path:
    """A fresh, empty example database for one test run, under `base` (ALYS_PBT_LOCAL_DB, read by
    the alys_pbt plugin when pytest configures), removed when the run ends; its path. (A child
    killed for time never cleans up: `base` goes with the scratch copy.)"""
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="examples-", dir=base))
    os.environ["ALYS_PBT_LOCAL_DB"] = str(path)
    cleanup(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def pytest_cmdline_main(config: Any) -> None:
    """pytest hook, when PYTEST_PLUGINS names this module (only in mutmut's children, see _mutmut):
    each pytest run, that is each mutant's, starts from an empty example database. It runs before
    pytest configures, so before the alys_pbt plugin builds the database from ALYS_PBT_LOCAL_DB."""
    isolate_example_database(config.add_cleanup, Path(config.rootpath) / ".hypothesis" / "per-mutant")


def diffs(scratch: Path, module: str, names: Iterable[str]) -> dict[str, list[str]]:
    """The changed lines of each named mutant (mutmut's unified diff, without its headers)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    old = Path.cwd()
    os.chdir(scratch)
    try:
        return {name: changed_lines(get_diff_for_mutant(name, path=module)) for name in names}
    finally:
        os.chdir(old)


def changed_lines(diff: str) -> list[str]:
    return [
        line.rstrip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def _git_blob_sha256(root: Path, module: str) -> str:
    """SHA-256 of the module as committed at HEAD ("" when git cannot say)."""
    done = subprocess.run(["git", "show", f"HEAD:{module}"], cwd=root, capture_output=True)
    return hashlib.sha256(done.stdout).hexdigest() if done.returncode == 0 else ""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(scratch: Path, root: Path, names: Iterable[str]) -> None:
    skip = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in names:
        if (scratch / name).is_dir():
            shutil.rmtree(scratch / name)
        if (root / name).is_dir():
            shutil.copytree(root / name, scratch / name, ignore=skip)
        else:
            shutil.copy2(root / name, scratch / name)


def _passes(
    scratch: Path,
    module: str,
    passes: Sequence[str],
    max_children: int,
    *,
    only: list[str] | None,
    examples: int | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Run the passes (all mutants, or only the named ones, on the first): where each mutant was
    killed, and the passes that ran. A later pass that mutmut cannot start (its clean run fails on
    that target: a strict expected failure that does not fail at the examples given is XPASS(strict))
    ends the run there, and the passes before it stand: their verdicts are not thrown away."""
    log = scratch / "mutmut.log"
    killed_on: dict[str, str] = {}
    ran: list[str] = []
    for number, target in enumerate(passes):
        if number == 0 and only is None:
            _mutmut(scratch, ["run", "--max-children", str(max_children)], target, log, examples)
        else:
            alive = (
                only if number == 0 else [n for n, s in _statuses(scratch, module).items() if s == "survived"]
            )
            if not alive:
                break
            before = _exit_codes(scratch, module)
            try:
                _mutmut(scratch, ["run", "--max-children", str(max_children), *alive], target, log, examples)
            except MutationError as err:
                if number == 0:
                    raise
                print(f"  the pass on {target} did not run ({err}); the passes before it stand", flush=True)
                _restore(scratch, module, before)
                break
            if number > 0:
                _timeouts_survive(scratch, module, alive)
        ran.append(target)
        for name, status in _statuses(scratch, module).items():
            if status in KILLED and name not in killed_on:
                killed_on[name] = target
    return killed_on, ran


def passes_after(recorded: Sequence[str], ran: Sequence[str]) -> list[str]:
    """The passes a record names once a rerun ran `ran` on its survivors: a pass new to it (the
    survivors of `alys-fixed` judged on `alys`, once its clean run can start) is added, in PASSES order."""
    return [target for target in PASSES if target in recorded or target in ran]


def _exit_codes(scratch: Path, module: str) -> dict[str, int | None]:
    meta = json.loads((scratch / "mutants" / f"{module}.meta").read_text())
    return dict(meta["exit_code_by_key"])


def _restore(scratch: Path, module: str, codes: dict[str, int | None]) -> None:
    """Put back the verdicts the passes before made, after a later one failed to start (mutmut may
    have reset the mutants it was asked to run)."""
    meta_path = scratch / "mutants" / f"{module}.meta"
    meta = json.loads(meta_path.read_text())
    meta["exit_code_by_key"] = codes
    meta_path.write_text(json.dumps(meta))


def _timeouts_survive(scratch: Path, module: str, names: Iterable[str]) -> None:
    """On a target with quirks, a property that fails anyway shrinks its failure, far past the
    time its passing run took: a timeout there says nothing about the mutant, so it stays a survivor."""
    meta_path = scratch / "mutants" / f"{module}.meta"
    meta = json.loads(meta_path.read_text())
    statuses = _statuses(scratch, module)
    for name in names:
        if statuses[name] == "timeout":
            meta["exit_code_by_key"][name] = 0
    meta_path.write_text(json.dumps(meta))


def _record(
    scratch: Path,
    module: str,
    root: Path,
    tests: Sequence[str],
    passes: Sequence[str],
    killed_on: dict[str, str],
    **extra: Any,
) -> dict[str, Any]:
    statuses = _statuses(scratch, module)
    unchecked = [name for name, status in statuses.items() if status not in KILLED | SURVIVED | EXCLUDED]
    if unchecked:
        raise MutationError(
            f"{len(unchecked)} mutants of {module} were not checked: {unchecked[:3]};"
            f" see {scratch / 'mutmut.log'}"
        )
    survivors = [name for name, status in statuses.items() if status in SURVIVED]
    return {
        "commit": _git(root, "rev-parse", "--short=12", "HEAD"),
        "dirty": sha256(scratch / module) != _git_blob_sha256(root, module),
        "source_sha256": sha256(scratch / module),  # what was mutated, even if the project moved on
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "tests": list(tests),
        "passes": list(passes),
        **extra,
        "mutants": dict(sorted(statuses.items())),
        "killed_on": dict(sorted(killed_on.items())),
        "survivors": diffs(scratch, module, survivors),
    }


def run_module(
    module: str,
    *,
    tests: Sequence[str] | None = None,
    max_children: int = 1,
    passes: Sequence[str] = PASSES,
    work: Path = WORK,
    root: Path = ROOT,
    examples: int | None = None,
    timeout_constant: float | None = None,
) -> dict[str, Any]:
    """Mutate one module, pass by pass; the record that goes to docs/mutation-results.json."""
    if module not in modules(root):
        raise MutationError(f"{module} is not a module of alys/ (one of: {', '.join(modules(root))})")
    tests = list(tests) if tests else tests_for(module, root)
    scratch = _scratch(module, tests, work, root, timeout_constant)
    killed_on, ran = _passes(scratch, module, passes, max_children, only=None, examples=examples)
    extra = {} if examples is None else {"examples": examples}
    return _record(scratch, module, root, tests, ran, killed_on, **extra)


def rerun_module(
    module: str,
    previous: dict[str, Any],
    *,
    max_children: int = 1,
    work: Path = WORK,
    root: Path = ROOT,
    passes: Sequence[str] | None = None,
    timeouts: bool = False,
    timeout_constant: float | None = None,
    tests: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Check a module's survivors again against the suite as it is now (stronger properties), in
    the scratch project of its last run: the module itself must be unchanged since (its SHA-256),
    mutants killed then stay killed, and the tests' coverage is collected afresh. `timeouts`: judge
    the mutants that timed out again too (with more wall time: `timeout_constant`), since a
    timeout on a loaded machine may be a mutant that merely ran slowly. `tests`: against these
    tests (e.g. the module's mapping now, with a new file of answers); mutmut forgets every verdict
    when its test selection changes, so the verdicts of the mutants not judged again are restored."""
    scratch = work / module.replace("/", "__").removesuffix(".py")
    if not (scratch / "mutants" / f"{module}.meta").exists():
        raise MutationError(f"{module} has no scratch run in {work} to resume: use `run`")
    if (
        sha256(root / module) != previous["source_sha256"]
        or sha256(scratch / module) != previous["source_sha256"]
    ):
        raise MutationError(f"{module} changed since it was measured: use `run`")
    _snapshot(scratch, root, [n for n in COPIED if n != "alys"])
    for path in (root / "alys").rglob("*.py"):  # the rest of the port as it is now, unmutated
        rel = path.relative_to(root).as_posix()
        if rel != module:
            for dest in (scratch / rel, scratch / "mutants" / rel):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
    (scratch / "mutants" / "mutmut-stats.json").unlink(
        missing_ok=True
    )  # coverage of the tests as they are now
    if timeout_constant is not None:  # mutmut then resets every timeout: they must all run again
        _set_timeout_constant(scratch, timeout_constant)
        timeouts = True
    judged = SURVIVED | ({"timeout"} if timeouts else set())
    alive = [n for n, status in _statuses(scratch, module).items() if status in judged]
    killed_on = {n: t for n, t in previous["killed_on"].items() if n not in alive}
    meta_path = scratch / "mutants" / f"{module}.meta"
    verdicts = json.loads(meta_path.read_text())["exit_code_by_key"]
    selection = list(tests) if tests else list(previous["tests"])
    if selection != previous["tests"]:
        _set_test_selection(scratch, selection)
    # The kills of the earlier runs stand: the module is answered by their tests and these.
    tests = [*previous["tests"], *(t for t in selection if t not in previous["tests"])]
    recorded = list(previous["passes"])
    if alive:
        # `passes`: a subset when a pass already ran on these survivors and only tests changed since.
        killed_now, ran = _passes(
            scratch,
            module,
            passes or previous["passes"],
            max_children,
            only=alive,
            examples=previous.get("examples"),
        )
        for name, target in killed_now.items():
            killed_on.setdefault(name, target)
        recorded = passes_after(recorded, ran)
    meta = json.loads(meta_path.read_text())
    for name, code in verdicts.items():  # what was not judged again keeps its verdict
        if name not in alive:
            meta["exit_code_by_key"][name] = code
    meta_path.write_text(json.dumps(meta))
    reruns = [*previous.get("survivors_rechecked", []), datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")]
    extra = {"examples": previous["examples"]} if "examples" in previous else {}
    return _record(
        scratch,
        module,
        root,
        tests,
        recorded,
        killed_on,
        survivors_rechecked=reruns,
        **extra,
    )


# --- the recorded results, the accounts of survivors, the report ---------------------------------
def load_results(path: Path = RESULTS) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text()) if path.exists() else {}


def save_results(results: dict[str, dict[str, Any]], path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(results.items())), indent=1, ensure_ascii=False) + "\n")


@frozen
class Account:
    """One survivor, accounted for: equivalent (`why`) or open (`answer`)."""

    kind: str  # "equivalent" or "open"
    module: str
    mutant: str
    diff: tuple[str, ...]
    text: str  # why it is equivalent, or the property or generator that should answer it


def load_accounts(equivalents: Path = EQUIVALENTS, open_: Path = OPEN) -> list[Account]:
    accounts = []
    for path, kind, key in ((equivalents, "equivalent", "why"), (open_, "open", "answer")):
        data = tomllib.loads(path.read_text()) if path.exists() else {}
        for entry in data.get(kind, []):
            accounts.append(
                Account(
                    kind,
                    entry["module"],
                    entry["mutant"],
                    tuple(changed_lines(entry["diff"])),
                    entry.get(key, ""),
                )
            )
    return accounts


def load_not_run(open_: Path = OPEN) -> dict[str, str]:
    data = tomllib.loads(open_.read_text()) if open_.exists() else {}
    return dict(data.get("not-run", {}))


@frozen
class Row:
    module: str
    total: int
    killed: int
    survived: int
    equivalent: int
    open: int
    skipped: int

    @property
    def score(self) -> float | None:
        """Killed over the mutants that can be killed (equivalent and skipped ones excluded)."""
        judged = self.total - self.equivalent - self.skipped
        return None if judged == 0 else self.killed / judged


def row(module: str, record: dict[str, Any], accounts: Sequence[Account]) -> Row:
    statuses = record["mutants"].values()
    mine = [a for a in accounts if a.module == module and a.mutant in record["survivors"]]
    return Row(
        module=module,
        total=len(record["mutants"]),
        killed=sum(s in KILLED for s in statuses),
        survived=sum(s in SURVIVED for s in statuses),
        equivalent=sum(a.kind == "equivalent" for a in mine),
        open=sum(a.kind == "open" for a in mine),
        skipped=sum(s in EXCLUDED for s in statuses),
    )


def problems(
    results: dict[str, dict[str, Any]],
    accounts: Sequence[Account],
    not_run: dict[str, str],
    all_modules: Sequence[str],
) -> list[str]:
    """Everything that keeps the report from being complete and consistent."""
    found = []
    for module in all_modules:
        if module in results and module in not_run:
            found.append(f"{module}: both measured and listed as not run")
        elif module not in results and not not_run.get(module, "").strip():
            found.append(f"{module}: neither measured nor listed as not run, with a reason")
    for module in results:
        if module not in all_modules:
            found.append(f"{module}: measured, but no longer a module of alys/")
    by_key = {}
    for account in accounts:
        key = (account.module, account.mutant)
        if key in by_key:
            found.append(f"{account.mutant}: accounted for twice")
        by_key[key] = account
        if not account.text.strip():
            what = (
                "why it is equivalent"
                if account.kind == "equivalent"
                else "the property or generator to answer it"
            )
            found.append(f"{account.mutant}: {account.kind} without {what}")
    for module, record in results.items():
        for mutant, diff in record["survivors"].items():
            accounted = by_key.get((module, mutant))
            if accounted is None:
                found.append(f"{mutant} ({module}) survived and is neither shown equivalent nor open")
            elif list(accounted.diff) != changed_lines("\n".join(diff)):
                found.append(f"{mutant}: the account's diff is not the survivor's (the module changed?)")
    for (module, mutant), account in by_key.items():
        if mutant not in results.get(module, {}).get("survivors", {}):
            found.append(f"{mutant}: accounted for ({account.kind}) but not a recorded survivor of {module}")
    return found


def _pct(score: float | None) -> str:
    return "n/a" if score is None else f"{100 * score:.1f}%"


def render(results: dict[str, dict[str, Any]], accounts: Sequence[Account], not_run: dict[str, str]) -> str:
    """docs/mutation.md: per module the counts and the score, then every survivor's account."""
    rows = [row(module, record, accounts) for module, record in sorted(results.items())]
    out = [
        "# Mutation testing of the port",
        "",
        "Generated by `python -m alys_pbt.mutation report` from `docs/mutation-results.json` (written by",
        "`python -m alys_pbt.mutation run MODULE`), `docs/mutation-equivalents.toml` and",
        "`docs/mutation-open.toml`; `tests/test_mutation_report.py` checks that it is complete and current.",
        "Do not edit by hand.",
        "",
        "Each module is mutated by mutmut and its mutants run against the tests that answer it",
        "(pyproject.toml `[tool.alys-pbt.mutation.tests]`): on target `alys-fixed` first (every quirk",
        "off, so no strict xfail hides a mutant), then the survivors again on target `alys` (the quirks'",
        'own branches). Score = killed / (mutants - equivalent - skipped). "Survived" counts mutants no',
        'selected test covers (mutmut\'s "no tests") too. A mutant whose test child dies of a signal a',
        "crash raises (SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL) counts as killed, like a failing test.",
        "Each mutant's tests start from an empty example database of their own, so a failure saved for",
        "one mutant is never replayed for the next. A timeout counts as a kill: mutmut allows each mutant",
        "timeout_multiplier x (its tests' clean duration + timeout_constant) of wall time, so on a loaded",
        "machine a survivor that merely ran slowly can time out; `rerun --timeouts --timeout-constant S`",
        "judges the timeouts again with S more seconds. Figures are a snapshot at the commit named:",
        "modules under active change are measured again with `run`.",
        "",
        "Seeded mutants (alys_pbt/deviations.py MUTANTS, off in every shipped target) sit in `if",
        "self.v.on(...)` blocks of their own marked `# pragma: no mutate block`: mutmut makes no mutant",
        "inside them, since no shipped target runs that code (a mutant there is equivalent by",
        "construction); the seeded bugs themselves are killed by the properties that declare them",
        "(tests/test_kill_matrix.py). Quirks' branches are mutated: pass 2 runs them.",
        "",
        "| module | measured at | mutants | killed | killed on `alys` | survived | equivalent | open "
        "| score |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        record = results[r.module]
        at = record["commit"] + (" + local changes" if record["dirty"] else "")
        on_alys = sum(target == "alys" for target in record["killed_on"].values())
        out.append(
            f"| `{r.module}` | {at} | {r.total} | {r.killed} | {on_alys} | {r.survived} | {r.equivalent} "
            f"| {r.open} | {_pct(r.score)} |"
        )
    total = Row(
        "all",
        *(
            sum(getattr(r, f) for r in rows)
            for f in ("total", "killed", "survived", "equivalent", "open", "skipped")
        ),
    )
    all_on_alys = sum(t == "alys" for rec in results.values() for t in rec["killed_on"].values())
    out.append(
        f"| **all measured** | | {total.total} | {total.killed} | {all_on_alys} | {total.survived} "
        f"| {total.equivalent} | {total.open} | {_pct(total.score)} |"
    )
    if not_run:
        out += ["", "## Not run yet", ""]
        out += [f"* `{module}`: {' '.join(reason.split())}" for module, reason in sorted(not_run.items())]
    out += ["", "## Tests that answer each module", ""]
    for module, record in sorted(results.items()):
        targets = " then ".join(f"`{t}`" for t in record["passes"])
        tests = ", ".join(f"`{t}`" for t in record["tests"])
        budget = f", {record['examples']} examples per property" if "examples" in record else ""
        out.append(f"* `{module}` ({record['measured']}, on {targets}{budget}): {tests}")
    for kind, title, label in (
        ("open", "Open survivors: the property or generator that should kill each", "answer"),
        ("equivalent", "Equivalent mutants (excluded from the score)", "why"),
    ):
        out += ["", f"## {title}", ""]
        chosen = [a for a in accounts if a.kind == kind]
        if not chosen:
            out.append("None.")
        for module in sorted({a.module for a in chosen}):
            out += [f"### `{module}`", ""]
            for a in sorted((a for a in chosen if a.module == module), key=lambda a: _natural(a.mutant)):
                status = results.get(module, {}).get("mutants", {}).get(a.mutant, "?")
                out += [
                    f"* `{a.mutant.rpartition('.')[2]}` ({status}); {label}: {' '.join(a.text.split())}",
                    "",
                ]
                out += ["  ```diff", *(f"  {line}" for line in a.diff), "  ```", ""]
        while out[-1] == "":
            out.pop()
    return "\n".join(out) + "\n"


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("_")
    return (stem, int(number)) if number.isdigit() else (name, 0)


def draft(results: dict[str, dict[str, Any]], accounts: Sequence[Account]) -> str:
    """TOML stubs for the survivors no account covers yet (to be filled in and moved by hand)."""
    known = {(a.module, a.mutant) for a in accounts}
    out = []
    for module, record in sorted(results.items()):
        for mutant, diff in sorted(record["survivors"].items(), key=lambda kv: _natural(kv[0])):
            if (module, mutant) not in known:
                out += [
                    "[[open]]",
                    f'module = "{module}"',
                    f'mutant = "{mutant}"',
                    "diff = '''",
                    *diff,
                    "'''",
                    'answer = ""',
                    "",
                ]
    return "\n".join(out)


# --- command line ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alys_pbt.mutation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="mutate modules of alys/ and record the outcome")
    run_p.add_argument("modules", nargs="+", help="e.g. alys/actors/mailbox.py (globs: 'alys/actors/*.py')")
    run_p.add_argument("--tests", nargs="+", help="the tests to run (default: pyproject's table)")
    run_p.add_argument("--max-children", type=int, default=1, help="mutmut worker processes (default 1)")
    run_p.add_argument(
        "--passes",
        nargs="+",
        choices=PASSES,
        default=list(PASSES),
        help="the targets to run, in order (default: alys-fixed then alys; a module whose code no quirk"
        " guards can stop after alys-fixed)",
    )
    run_p.add_argument(
        "--examples",
        type=int,
        help="example budget per property (ALYS_PBT_EXAMPLES; default: the ci profile's, 100)",
    )
    run_p.add_argument(
        "--timeout-constant",
        type=float,
        help="seconds of wall time added to each mutant's clean test time before a timeout (mutmut's"
        " timeout_constant, default 1): raise it on a loaded machine",
    )
    run_p.add_argument(
        "--results", type=Path, default=RESULTS, help="results file (default docs/mutation-results.json)"
    )
    rerun_p = sub.add_parser(
        "rerun", help="check the survivors of earlier runs again against the suite as it is now"
    )
    rerun_p.add_argument("modules", nargs="+")
    rerun_p.add_argument("--max-children", type=int, default=1)
    rerun_p.add_argument(
        "--passes", nargs="+", choices=PASSES, help="the targets to run again (default: the run's own)"
    )
    rerun_p.add_argument("--timeouts", action="store_true", help="judge the mutants that timed out again too")
    rerun_p.add_argument("--timeout-constant", type=float, help="as for run")
    rerun_p.add_argument(
        "--mapped-tests",
        action="store_true",
        help="run the tests pyproject.toml maps to the module now (default: those of its run)",
    )
    rerun_p.add_argument(
        "--tests",
        nargs="+",
        help="run only these (e.g. a new file of answers: a survivor the earlier tests spared needs"
        " only the new ones; do not combine with --timeouts)",
    )
    rerun_p.add_argument("--results", type=Path, default=RESULTS)
    sub.add_parser("report", help="write docs/mutation.md")
    sub.add_parser("check", help="list what keeps the report from being complete")
    sub.add_parser("draft", help="print TOML stubs for unaccounted survivors")
    args = parser.parse_args(argv)

    if args.command in ("run", "rerun"):
        chosen = [m for pattern in args.modules for m in modules() if fnmatch.fnmatchcase(m, pattern)]
        if not chosen:
            parser.error(f"no module of alys/ matches {' '.join(args.modules)}")
        for module in chosen:
            print(f"mutating {module} ...", flush=True)
            if args.command == "run":
                record = run_module(
                    module,
                    tests=args.tests,
                    max_children=args.max_children,
                    examples=args.examples,
                    passes=args.passes,
                    timeout_constant=args.timeout_constant,
                )
            else:
                record = rerun_module(
                    module,
                    load_results(args.results)[module],
                    max_children=args.max_children,
                    passes=args.passes,
                    timeouts=args.timeouts,
                    timeout_constant=args.timeout_constant,
                    tests=args.tests or (tests_for(module) if args.mapped_tests else None),
                )
            results = load_results(args.results)
            results[module] = record
            save_results(results, args.results)
            r = row(module, record, load_accounts())
            print(
                f"  {r.total} mutants, {r.killed} killed, {r.survived} survived, score {_pct(r.score)}",
                flush=True,
            )
        return 0
    results, accounts, not_run = load_results(), load_accounts(), load_not_run()
    if args.command == "report":
        REPORT.write_text(render(results, accounts, not_run))
        print(f"wrote {REPORT.relative_to(ROOT)}")
        return 0
    if args.command == "draft":
        print(draft(results, accounts))
        return 0
    found = problems(results, accounts, not_run, modules())
    print(
        "\n".join(found)
        if found
        else "complete: every module measured or excused, every survivor accounted for"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
