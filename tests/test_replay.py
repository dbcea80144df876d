"""A failure found on one machine replays on another from its example database (issue 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alys_pbt import known
from alys_pbt.database import KNOWN, ROOT
from alys_pbt.project import copy_project
from tests.support import FIXTURES, run_pytest


def test_ci_failure_replays_first_from_a_foreign_database(tmp_path: Path) -> None:
    ci_machine = copy_project(tmp_path / "ci")
    laptop = copy_project(tmp_path / "laptop")
    for project in (ci_machine, laptop):
        (project / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())

    ci_log = tmp_path / "ci.log"
    first = run_pytest(
        ci_machine,
        "deliberate_failure.py",
        CI="true",
        HYPOTHESIS_PROFILE="ci",
        ALYS_PBT_EXAMPLE_LOG=str(ci_log),
    )
    assert first.returncode == 1, first.stdout + first.stderr
    assert "@reproduce_failure" in first.stdout  # ci prints the blob
    stored = ci_machine / ".hypothesis" / "examples"
    assert any(p.is_file() for p in stored.rglob("*")), "ci kept no example database"
    minimal = ci_log.read_text().splitlines()[-1]  # the final replay is the shrunk example
    assert minimal == "[1000]"

    # The same run again on the CI machine replays the stored failure first.
    ci_log.write_text("")
    again = run_pytest(
        ci_machine,
        "deliberate_failure.py",
        CI="true",
        HYPOTHESIS_PROFILE="ci",
        ALYS_PBT_EXAMPLE_LOG=str(ci_log),
    )
    assert again.returncode == 1
    assert ci_log.read_text().splitlines()[0] == minimal

    # Control: without the database a fresh copy starts elsewhere (from the simplest example).
    control_log = tmp_path / "control.log"
    control = copy_project(tmp_path / "control")
    (control / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())
    run_pytest(
        control, "deliberate_failure.py", HYPOTHESIS_PROFILE="dev", ALYS_PBT_EXAMPLE_LOG=str(control_log)
    )
    assert control_log.read_text().splitlines()[0] != minimal

    # A fresh copy, given only the downloaded database, fails on its very first example.
    laptop_log = tmp_path / "laptop.log"
    replay = run_pytest(
        laptop,
        "deliberate_failure.py",
        "--replay-db",
        str(stored),
        HYPOTHESIS_PROFILE="dev",
        ALYS_PBT_EXAMPLE_LOG=str(laptop_log),
    )
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert laptop_log.read_text().splitlines()[0] == minimal
    assert f"replaying {stored}" in replay.stdout
    # The foreign database is read-only: the laptop's own database got the failure, not the copy.
    assert any(p.is_file() for p in (laptop / ".hypothesis" / "examples").rglob("*"))


def test_replay_accepts_the_hypothesis_directory_and_the_env_variable(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    (project / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())
    log = tmp_path / "log"
    seed = run_pytest(
        project, "deliberate_failure.py", HYPOTHESIS_PROFILE="ci", ALYS_PBT_EXAMPLE_LOG=str(log)
    )
    assert seed.returncode == 1
    fresh = copy_project(tmp_path / "fresh")
    (fresh / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())
    log.write_text("")
    replay = run_pytest(
        fresh,
        "deliberate_failure.py",
        ALYS_PBT_REPLAY_DB=str(project / ".hypothesis"),
        ALYS_PBT_EXAMPLE_LOG=str(log),
    )
    assert replay.returncode == 1
    assert log.read_text().splitlines()[0] == "[1000]"


def test_a_missing_replay_path_is_a_clear_error(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    result = run_pytest(project, "properties/test_retarget.py", "--replay-db", str(tmp_path / "nope"))
    assert result.returncode == 4  # pytest's usage error
    assert f"replay database '{tmp_path / 'nope'}' does not exist" in result.stderr


# The known failures (issue 17, item 1): every property a quirk or library deviation breaks fails on
# its first example, from the counterexample stored in known-failures/, and is not shrunk again.
# alys_pbt.known's probe counts the test cases Hypothesis runs (observability callbacks).


def _known_entries() -> list[dict[str, Any]]:
    return json.loads((KNOWN / known.MANIFEST).read_text())["entries"]


def test_every_known_failure_fails_on_its_first_example_without_shrinking() -> None:
    nodeids = [e["nodeid"] for e in _known_entries()]
    seen = known.counts(ROOT, nodeids)
    late = {n: seen.get(n) for n in nodeids if (seen.get(n) or {}).get("first_failure") != 1}
    assert not late, late
    # Only the stored examples ran, then Hypothesis's replay of each to report it: nothing was
    # generated and nothing shrunk.
    only = {"during reuse phase", "minimal failing test case"}
    searched = {n: seen[n] for n in nodeids if seen[n]["shrink"] or not set(seen[n]["phases"]) <= only}
    assert not searched, searched


def test_without_the_store_the_same_failure_is_searched_for_and_shrunk() -> None:
    # Control for the test above: the retarget properties, with no known failures, fail later.
    nodeids = [e["nodeid"] for e in _known_entries() if e["nodeid"].startswith("properties/test_retarget.py")]
    assert nodeids
    seen = known.counts(ROOT, nodeids, ALYS_PBT_KNOWN_FAILURES="off")
    assert all(seen[n]["first_failure"] and seen[n]["shrink"] > 0 for n in nodeids), seen


def test_a_quirk_that_stops_failing_still_turns_the_run_red_with_its_example_stored(tmp_path: Path) -> None:
    # A target that claims the retarget quirks but does not carry them, like a node that fixed them:
    # the stored example replays first, passes, generation passes too, and the strict xfail is red.
    nodeid = "properties/test_retarget.py::test_retarget_never_yields_zero_target"
    assert nodeid in {e["nodeid"] for e in _known_entries()}
    log = tmp_path / "counts.jsonl"
    result = run_pytest(
        ROOT,
        "-p",
        "alys_pbt.known",
        nodeid,
        "--target",
        "tests.fixtures.foreign_targets:liar",
        HYPOTHESIS_PROFILE="ci",
        ALYS_PBT_EXAMPLE_COUNTS=str(log),
        ALYS_PBT_LOCAL_DB=str(tmp_path / "examples"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "XPASS(strict)" in result.stdout and "NOT caught  retarget-zero-bits" in result.stdout
    (line,) = map(json.loads, log.read_text().splitlines())
    assert line["first_failure"] is None and "during reuse phase" in line["phases"]
