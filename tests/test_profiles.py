"""Profile selection, the ci profile's determinism and database (issue 2)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from alys_pbt import database, profiles
from alys_pbt.project import copy_project
from tests.support import run_pytest


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "dev"),
        ({"CI": "true"}, "ci"),
        ({"CI": "1", "HYPOTHESIS_PROFILE": "nightly"}, "nightly"),
        ({"CI": "true", "HYPOTHESIS_PROFILE": "dev"}, "dev"),
        ({"HYPOTHESIS_PROFILE": "debug"}, "debug"),
        ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_profile_is_chosen_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert profiles.choose(env) == expected


def test_an_unknown_profile_names_the_valid_ones() -> None:
    with pytest.raises(profiles.UnknownProfile, match="valid profiles: dev, ci, nightly, debug"):
        profiles.choose({"HYPOTHESIS_PROFILE": "fast"})


def test_profiles_keep_a_database_and_scale_as_documented() -> None:
    db = DirectoryBasedExampleDatabase(database.LOCAL)
    profiles.register(db)
    ci, nightly, debug = (settings.get_profile(n) for n in ("ci", "nightly", "debug"))
    assert ci.database is db and not ci.derandomize and ci.deadline is None and ci.print_blob
    assert nightly.max_examples >= 10 * ci.max_examples
    assert nightly.stateful_step_count > ci.stateful_step_count
    assert debug.verbosity == Verbosity.verbose and debug.max_examples <= 10


def _probe(project: Path, *args: str, cwd: Path | None = None, **env: str) -> dict[str, str]:
    probe = project / "tests" / "fixtures" / "database_probe.py"
    result = run_pytest(cwd or project, str(probe), "-s", *args, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "PROFILE=" in line)
    return dict(re.findall(r"(\w+)=(\S+)", line[line.index("PROFILE=") :]))


def _budget_run(project: Path, tmp_path: Path, *args: str, **env: str) -> list[str]:
    log = tmp_path / "budget.log"
    log.write_text("")
    result = run_pytest(
        project, "tests/fixtures/budget_probe.py", *args, ALYS_PBT_EXAMPLE_LOG=str(log), **env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return log.read_text().splitlines()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("profiles") / "p")


def test_ci_env_alone_loads_our_ci_profile_with_a_real_database(project: Path) -> None:
    # Hypothesis loads its own `ci` (database None) whenever CI is set; ours must win.
    seen = _probe(project, CI="true")
    assert seen["PROFILE"] == "ci"
    assert seen["DB"] == "DirectoryBasedExampleDatabase"
    assert seen["PATH"] == str(project / ".hypothesis" / "examples")


def test_explicit_profile_wins_over_ci(project: Path) -> None:
    seen = _probe(project, CI="true", HYPOTHESIS_PROFILE="dev")
    assert seen["PROFILE"] == "dev" and seen["DB"] == "DirectoryBasedExampleDatabase"


def test_database_is_at_the_project_root_whatever_the_working_directory(project: Path) -> None:
    seen = _probe(project, cwd=project / "tests" / "fixtures", HYPOTHESIS_PROFILE="ci")
    assert seen["PATH"] == str(project / ".hypothesis" / "examples")


def test_unknown_profile_is_a_usage_error(project: Path) -> None:
    result = run_pytest(project, "tests/fixtures/profile_probe.py", HYPOTHESIS_PROFILE="fast")
    assert result.returncode == 4
    assert "unknown Hypothesis profile 'fast'; valid profiles: dev, ci, nightly, debug" in result.stderr


def test_ci_runs_are_deterministic(project: Path, tmp_path: Path) -> None:
    logs = []
    for run in range(2):
        shutil.rmtree(project / ".hypothesis", ignore_errors=True)
        log = tmp_path / f"run{run}.log"
        result = run_pytest(
            project,
            "tests/fixtures/examples_probe.py",
            HYPOTHESIS_PROFILE="ci",
            ALYS_PBT_EXAMPLE_LOG=str(log),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        logs.append(log.read_text())
    assert logs[0] == logs[1]
    assert len(logs[0].splitlines()) >= 50


@pytest.mark.parametrize(
    ("args", "env", "outcome"),
    [
        ((), {}, "1 skipped"),
        (("--run-slow",), {}, "1 passed"),
        ((), {"HYPOTHESIS_PROFILE": "nightly"}, "1 passed"),
    ],
)
def test_slow_tests_run_only_when_asked(
    project: Path, args: tuple[str, ...], env: dict[str, str], outcome: str
) -> None:
    result = run_pytest(project, "tests/fixtures/slow_probe.py", *args, **env)
    assert result.returncode == 0 and outcome in result.stdout, result.stdout


def test_the_known_failures_replay_first_in_front_of_the_local_database(
    project: Path, tmp_path: Path
) -> None:
    seen = _probe(project, HYPOTHESIS_PROFILE="ci")
    assert seen["DB"] == "DirectoryBasedExampleDatabase" and seen["PATH"] == str(
        project / ".hypothesis" / "examples"
    )
    assert seen["FRONT"] == str(project / "known-failures")  # read-only (the probe asserts it)
    replay = tmp_path / "replay"
    replay.mkdir()
    both = _probe(project, "--replay-db", str(replay), HYPOTHESIS_PROFILE="ci")
    assert both["FRONT"] == f"{project / 'known-failures'},{replay}"
    off = _probe(project, HYPOTHESIS_PROFILE="ci", ALYS_PBT_KNOWN_FAILURES="off")
    assert off["FRONT"] == "-" and off["DB"] == "DirectoryBasedExampleDatabase"


def test_examples_scales_every_budget_from_one_option(project: Path, tmp_path: Path) -> None:
    # dev: 50 examples and machines of 50 steps. --examples 150 is 3x: a property on the profile's
    # budget runs up to 150, one with its own budget of 4 up to 12, and machines up to 50 * sqrt(3).
    plain = _budget_run(project, tmp_path)
    scaled = _budget_run(project, tmp_path, "--examples", "150")
    for run, profile, own, machines in ((plain, 50, 4, 50), (scaled, 150, 12, 150)):
        assert profile * 0.9 <= run.count("profile") <= profile, run.count("profile")
        assert own * 0.5 < run.count("own") <= own, run.count("own")
        runs = [int(line.split()[1]) for line in run if line.startswith("machine")]
        # A run Hypothesis does not count (an overrun or invalid test case) still tears down, and logs,
        # but does not count toward max_examples: a few more runs than the budget are logged.
        assert machines * 0.9 <= len(runs) <= machines * 1.05, len(runs)
    assert max(int(line.split()[1]) for line in scaled if line.startswith("machine")) <= 87
    budget = _probe(project, "--examples", "150")
    assert (budget["MAX"], budget["STEPS"]) == ("150", "87")
    nightly = _probe(project, HYPOTHESIS_PROFILE="nightly", ALYS_PBT_EXAMPLES="10000")
    assert (nightly["MAX"], nightly["STEPS"]) == ("10000", str(round(200 * 10**0.5)))


def test_the_environment_sets_the_budget_too(project: Path, tmp_path: Path) -> None:
    run = _budget_run(project, tmp_path, ALYS_PBT_EXAMPLES="100")
    assert 90 <= run.count("profile") <= 100 and 4 < run.count("own") <= 8


@pytest.mark.parametrize("value", ["0", "-3", "many", "1.5"])
def test_a_bad_budget_is_a_usage_error(project: Path, value: str) -> None:
    result = run_pytest(project, "tests/fixtures/budget_probe.py", f"--examples={value}")
    assert result.returncode == 4
    assert f"--examples / ALYS_PBT_EXAMPLES must be a positive integer, got {value!r}" in result.stderr
