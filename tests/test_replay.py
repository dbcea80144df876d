"""A failure found on one machine replays on another from its example database (issue 2)."""

from __future__ import annotations

from pathlib import Path

from tests.support import FIXTURES, copy_project, run_pytest


def test_ci_failure_replays_first_from_a_foreign_database(tmp_path: Path) -> None:
    ci_machine = copy_project(tmp_path / "ci")
    laptop = copy_project(tmp_path / "laptop")
    for project in (ci_machine, laptop):
        (project / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())

    ci_log = tmp_path / "ci.log"
    first = run_pytest(
        ci_machine, "deliberate_failure.py", CI="true", HYPOTHESIS_PROFILE="ci", ALYS_PBT_EXAMPLE_LOG=str(ci_log)
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
        ci_machine, "deliberate_failure.py", CI="true", HYPOTHESIS_PROFILE="ci", ALYS_PBT_EXAMPLE_LOG=str(ci_log)
    )
    assert again.returncode == 1
    assert ci_log.read_text().splitlines()[0] == minimal

    # Control: without the database a fresh copy starts elsewhere (from the simplest example).
    control_log = tmp_path / "control.log"
    control = copy_project(tmp_path / "control")
    (control / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())
    run_pytest(control, "deliberate_failure.py", HYPOTHESIS_PROFILE="dev", ALYS_PBT_EXAMPLE_LOG=str(control_log))
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
    seed = run_pytest(project, "deliberate_failure.py", HYPOTHESIS_PROFILE="ci", ALYS_PBT_EXAMPLE_LOG=str(log))
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
