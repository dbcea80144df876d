"""The known failures kept in `known-failures/` are current (issue 17, item 1).

The store holds the shrunk counterexample of every quirk and library deviation of target `alys`,
under each property's Hypothesis database key. It is stale when Hypothesis is not the version it was
written with, when a property a deviation breaks has no entry (or an entry names a property that is
gone), or when a property was edited (its key, the digest of its source, changed). Each of these
fails here, naming the property and the command that refreshes the store.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import hypothesis
from hypothesis.database import DirectoryBasedExampleDatabase

from alys_pbt import known
from alys_pbt.database import KNOWN
from alys_pbt.project import copy_project
from tests.support import clean_env


def test_the_known_failures_are_current_for_the_installed_hypothesis() -> None:
    problems = known.check()
    assert not problems, "\n".join(problems) + f"\nrun `{known.REFRESH}` and commit known-failures/"


def test_the_store_is_a_hypothesis_database_of_one_entry_per_quirk_broken_property() -> None:
    manifest = json.loads((KNOWN / known.MANIFEST).read_text())
    assert manifest["hypothesis"] == hypothesis.__version__ and manifest["target"] == "alys"
    ids = {q for entry in manifest["entries"] for q in entry["quirks"]}
    from alys_pbt import deviations

    # every quirk of alys and every library deviation has its counterexample
    assert ids == deviations.QUIRK_IDS | deviations.LIBRARY_IDS, ids ^ (
        deviations.QUIRK_IDS | deviations.LIBRARY_IDS
    )
    db = DirectoryBasedExampleDatabase(KNOWN)
    for entry in manifest["entries"]:
        assert list(db.fetch(bytes.fromhex(entry["key"]))), entry["nodeid"]


def _edit_property(project: Path, nodeid: str) -> None:
    """Add one statement at the end of a property's body: what any edit does to its database key."""
    path, name = nodeid.split("::")
    source = (project / path).read_text()
    fn = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = source.splitlines(keepends=True)
    indent = " " * fn.body[-1].col_offset
    lines.insert(fn.end_lineno or 0, f"{indent}_edited = None\n")
    (project / path).write_text("".join(lines))


def test_a_stale_store_is_named_for_each_thing_that_makes_it_stale(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    store = project / "known-failures"
    manifest = json.loads((store / known.MANIFEST).read_text())
    plain = [e for e in manifest["entries"] if "[" not in e["nodeid"] and "::Test" not in e["nodeid"]]
    edited, emptied = plain[0], plain[1]
    dropped = next(e for e in manifest["entries"] if e not in (edited, emptied))
    _edit_property(project, edited["nodeid"])
    db = DirectoryBasedExampleDatabase(store)
    for value in list(db.fetch(bytes.fromhex(emptied["key"]))):
        db.delete(bytes.fromhex(emptied["key"]), value)
    manifest["entries"].remove(dropped)
    manifest["entries"].append(
        {"nodeid": "properties/test_gone.py::test_gone", "quirks": ["retarget-zero-bits"], "key": "00"}
    )
    manifest["hypothesis"] = "6.0.0"
    (store / known.MANIFEST).write_text(json.dumps(manifest))

    problems = known.check(project)
    expected = [
        f"stored for Hypothesis 6.0.0, but {hypothesis.__version__} is installed",
        f"{edited['nodeid']}: its database key changed",
        f"{emptied['nodeid']}: its stored example is missing",
        f"{dropped['nodeid']} ({', '.join(dropped['quirks'])}) has no stored example",
        "properties/test_gone.py::test_gone: stored, but no such property",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert len(problems) == len(expected), problems

    cli = subprocess.run(
        [sys.executable, "-m", "alys_pbt.known", "check"],
        check=False,
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1 and f"run `{known.REFRESH}`" in cli.stdout, cli.stdout + cli.stderr


def test_a_property_a_quirk_breaks_only_by_chance_is_neither_kept_nor_required() -> None:
    """A may-break property (a non-strict xfail) may pass on a run, so the store cannot require its
    failure (a refresh that demanded one failed on such a pass); the strict ones stay required."""
    from alys_pbt import deviations

    carried = [q.id for q in deviations.QUIRKS]
    chance = (
        "properties/test_evm_and_wire.py::test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors"
    )
    assert deviations.quirks_that_may_break(chance, carried), "the example is no longer a may-break property"
    entries = {e["nodeid"] for e in known.collect()}
    assert chance not in entries
    assert "properties/test_chain.py::TestChain::runTest" in entries
