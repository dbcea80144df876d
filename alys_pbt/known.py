"""The known failures: the shrunk counterexample of every registered quirk and library deviation,
kept in the repository (`known-failures/`) as a read-only Hypothesis example database that every
run replays first (alys_pbt/database.py puts it in front of the local one).

    python -m alys_pbt.known refresh [-n N] [--reuse]   # rewrite known-failures/ (after editing a property)
    python -m alys_pbt.known check            # exit 1, naming each problem, if it is stale

`refresh` collects, on target `alys`, every property a quirk or library deviation breaks; runs them
under the `ci` profile with no known failures into a fresh database; keeps only the primary entries
(the shrunk failures) under each property's database key; writes them and `manifest.json` (the
Hypothesis version, and per entry the node id, the deviations and the key); then runs them again
with the new store in place and reports how many examples each needed to fail (1 is the aim).

The store is stale when the installed Hypothesis is not the manifest's (the choice sequences and
keys are only valid for one version), when a property a deviation breaks has no entry, when an entry
names a node id that no longer exists or other deviations, or when a property's database key
changed. Hypothesis keys a test by its source (`function_digest`: the function without decorators
or comments, its signature, and for a parametrized test its node id; for a state machine, the class
source), so editing a quirk-broken property needs a refresh; `tests/test_known_failures.py` fails
until it is done.

Loaded as a pytest plugin (`-p alys_pbt.known`) it also serves the two runs above: with
ALYS_PBT_KNOWN_COLLECT=FILE it writes the quirk-broken items and their keys at collection; with
ALYS_PBT_EXAMPLE_COUNTS=FILE it appends, per item, the test cases Hypothesis ran (through
Hypothesis's observability callbacks) and the position of the first failing one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.internal.reflection import function_digest

from alys_pbt.database import KNOWN, ROOT

MANIFEST = "manifest.json"
TARGET = "alys"
PROFILE = "ci"
REFRESH = "python -m alys_pbt.known refresh"


def database_key(item: pytest.Item) -> bytes | None:
    """The key Hypothesis 6.170 stores an item's examples under (None: not a Hypothesis test).

    As core.py `run_engine` and stateful.py `get_state_machine_test` compute it: the digest of the
    test's inner function, with the node id added for a parametrized test (the pytest plugin's
    `_hypothesis_internal_add_digest`), or, for a state machine, the digest of the machine class."""
    obj = getattr(item, "obj", None)
    machine = getattr(obj, "_hypothesis_state_machine_class", None)
    if machine is not None:
        from hypothesis.stateful import get_state_machine_test

        test: Any = get_state_machine_test(machine)  # a @given test: it carries .hypothesis
        return function_digest(test.hypothesis.inner_test)
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    if inner is None:
        return None
    parametrized = item.get_closest_marker("parametrize") is not None or bool(
        getattr(getattr(item, "callspec", None), "params", None)
    )
    missing = object()
    before = getattr(inner, "_hypothesis_internal_add_digest", missing)
    try:
        if parametrized:
            inner._hypothesis_internal_add_digest = item.nodeid.encode()
        elif before is not missing:
            del inner._hypothesis_internal_add_digest
        return function_digest(inner)
    finally:
        if before is missing:
            if hasattr(inner, "_hypothesis_internal_add_digest"):
                del inner._hypothesis_internal_add_digest
        else:
            inner._hypothesis_internal_add_digest = before


# --- the pytest plugin --------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after alys_pbt.plugin has marked the quirk-broken items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = os.environ.get("ALYS_PBT_KNOWN_COLLECT")
    if not path:
        return
    from alys_pbt.plugin import _MAY, _QUIRKS

    entries = []
    for item in items:
        quirks = item.stash.get(_QUIRKS, None)
        if not quirks or not item.nodeid.startswith("properties/"):
            continue
        if item.stash.get(_MAY, False):  # may break by chance (non-strict): no failure to keep
            continue
        key = database_key(item)
        entries.append(
            {
                "nodeid": item.nodeid,
                "quirks": quirks,
                "key": key.hex() if key is not None else None,
                "slow": item.get_closest_marker("slow") is not None,
            }
        )
    Path(path).write_text(json.dumps(entries, indent=1))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    keys = os.environ.get("ALYS_PBT_KNOWN_KEYS")
    if keys:  # the key this very run stores the item's failure under (the source may change meanwhile)
        key = database_key(item)
        with open(keys, "a") as out:
            out.write(json.dumps({"nodeid": item.nodeid, "key": key.hex() if key else None}) + "\n")
    path = os.environ.get("ALYS_PBT_EXAMPLE_COUNTS")
    if not path:
        return (yield)
    from hypothesis.internal.observability import add_observability_callback, remove_observability_callback

    cases: list[tuple[str, str]] = []

    def record(observation: Any) -> None:
        if getattr(observation, "type", None) == "test_case":
            cases.append((observation.status, observation.how_generated))

    add_observability_callback(record)
    try:
        return (yield)
    finally:
        remove_observability_callback(record)
        failing = [i for i, (status, _) in enumerate(cases, 1) if status == "failed"]
        line = {
            "nodeid": item.nodeid,
            "examples": len(cases),
            "first_failure": failing[0] if failing else None,
            "phases": sorted({how for _, how in cases}),
            "shrink": sum(1 for _, how in cases if "shrink" in how),
        }
        with open(path, "a") as out:
            out.write(json.dumps(line) + "\n")


# --- refresh and check ------------------------------------------------------------------------


class StaleStore(RuntimeError):
    """The known failures cannot be refreshed (a property did not fail as registered)."""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS_", "ALYS_", "PYTEST_"))}
    env.pop("CI", None)
    env.update(HYPOTHESIS_PROFILE=PROFILE, ALYS_TARGET=TARGET, **extra)
    return env


def _pytest(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "alys_pbt.known", *args]
    return subprocess.run(cmd, cwd=root, env=_env(**env), capture_output=True, text=True, check=False)


def collect(root: Path = ROOT) -> list[dict[str, Any]]:
    """Every property (not marked slow) a deviation of target `alys` breaks, with its current key."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "items.json"
        result = _pytest(root, "--collect-only", "-q", "properties/", ALYS_PBT_KNOWN_COLLECT=str(out))
        if result.returncode != 0 or not out.exists():
            raise StaleStore(
                f"collecting properties/ failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return [e for e in json.loads(out.read_text()) if not e["slow"]]


def check(root: Path = ROOT, store: Path | None = None) -> list[str]:
    """What makes the store at `store` (default: root/known-failures) stale; [] when it is current."""
    store = store or root / KNOWN.name
    manifest_path = store / MANIFEST
    if not manifest_path.is_file():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text())
    problems = []
    if manifest.get("hypothesis") != hypothesis.__version__:
        problems.append(
            f"stored for Hypothesis {manifest.get('hypothesis')}, but {hypothesis.__version__} is installed"
        )
    stored = {e["nodeid"]: e for e in manifest.get("entries", [])}
    current = {e["nodeid"]: e for e in collect(root)}
    db = DirectoryBasedExampleDatabase(store)
    for nodeid, entry in current.items():
        old = stored.get(nodeid)
        if old is None:
            problems.append(f"{nodeid} ({', '.join(entry['quirks'])}) has no stored example")
        elif old["key"] != entry["key"]:
            problems.append(f"{nodeid}: its database key changed (the property or its machine was edited)")
        elif sorted(old["quirks"]) != sorted(entry["quirks"]):
            problems.append(f"{nodeid}: stored for {old['quirks']}, the registry now says {entry['quirks']}")
        elif not list(db.fetch(bytes.fromhex(old["key"]))):
            problems.append(f"{nodeid}: its stored example is missing from {store}")
    for nodeid in sorted(set(stored) - set(current)):
        problems.append(f"{nodeid}: stored, but no such property is broken by a deviation any more")
    return problems


def counts(root: Path, nodeids: list[str], *args: str, **env: str) -> dict[str, dict[str, Any]]:
    """Run `nodeids` on target alys under ci and return, per item, the examples Hypothesis ran."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "counts.jsonl"
        local = Path(tmp) / "examples"
        result = _pytest(
            root, "-q", *args, *nodeids, ALYS_PBT_EXAMPLE_COUNTS=str(log), ALYS_PBT_LOCAL_DB=str(local), **env
        )
        if result.returncode != 0:
            raise StaleStore(f"the run of the quirk-broken properties failed:\n{result.stdout[-6000:]}")
        return {line["nodeid"]: line for line in map(json.loads, log.read_text().splitlines())}


def refresh(root: Path = ROOT, workers: int = 0, reuse: bool = False) -> list[dict[str, Any]]:
    """Rewrite root/known-failures from a ci run on target alys into a fresh database; return the
    entries. With `reuse`, the current store replays first (read-only): an example that still fails
    exactly is kept without a search, and only the properties whose key changed are searched and
    shrunk from scratch (minutes instead of the full run's time)."""
    entries = collect(root)
    nodeids = [e["nodeid"] for e in entries]
    xdist = ["-n", str(workers)] if workers else []
    store = root / KNOWN.name
    staging = root / (KNOWN.name + ".new")
    front = str(store) if reuse and store.is_dir() else "off"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "examples"
        keys = Path(tmp) / "keys.jsonl"
        result = _pytest(
            root,
            "-q",
            *xdist,
            *nodeids,
            ALYS_PBT_KNOWN_FAILURES=front,
            ALYS_PBT_LOCAL_DB=str(fresh),
            ALYS_PBT_KNOWN_KEYS=str(keys),
        )
        lines = keys.read_text().splitlines() if keys.exists() else []
        ran = {line["nodeid"]: line["key"] for line in map(json.loads, lines)}
        for entry in entries:  # someone may edit a property while it runs: keep the key it ran under
            entry["key"] = ran.get(entry["nodeid"], entry["key"])
        source = DirectoryBasedExampleDatabase(fresh)
        shutil.rmtree(staging, ignore_errors=True)
        out = DirectoryBasedExampleDatabase(staging)
        missing = []
        for entry in entries:
            values = sorted(source.fetch(bytes.fromhex(entry["key"])), key=lambda v: (len(v), v))
            if not values:
                missing.append(entry["nodeid"])
            for value in values:
                out.save(bytes.fromhex(entry["key"]), value)
    manifest = {
        "hypothesis": hypothesis.__version__,
        "target": TARGET,
        "profile": PROFILE,
        "refresh": REFRESH,
        "entries": [
            {k: e[k] for k in ("nodeid", "quirks", "key")} for e in entries if e["nodeid"] not in missing
        ],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(store, ignore_errors=True)
    staging.rename(store)
    if result.returncode != 0 or missing:  # the rest is written; `check` names these until stored
        raise StaleStore(
            f"no failure stored for: {', '.join(missing) or '-'}; the run of the quirk-broken properties "
            f"(exit status {result.returncode}) ended:\n{result.stdout[-6000:]}"
        )
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.known", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("refresh", help="rewrite known-failures/ from a fresh ci run on target alys")
    run.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers (default: none)")
    run.add_argument(
        "--reuse",
        action="store_true",
        help="replay the current store first: search again only for the properties edited since",
    )
    sub.add_parser("check", help="exit 1, naming each problem, if known-failures/ is stale")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            problems = check()
            for problem in problems:
                print(f"stale: {problem}")
            if problems:
                print(f"run `{REFRESH}` and commit known-failures/")
                return 1
            print(f"known-failures/ is current (Hypothesis {hypothesis.__version__})")
            return 0
        entries = refresh(workers=args.workers, reuse=args.reuse)
        print(f"known-failures/: {len(entries)} entries for Hypothesis {hypothesis.__version__}")
        seen = counts(
            ROOT, [e["nodeid"] for e in entries], *(["-n", str(args.workers)] if args.workers else [])
        )
        print("examples to the first failure, with the store in place (1 is the aim):")
        for entry in entries:
            line = seen.get(entry["nodeid"], {})
            print(f"  {line.get('first_failure')!s:>4}  {entry['nodeid']}  ({', '.join(entry['quirks'])})")
        return 0
    except StaleStore as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
