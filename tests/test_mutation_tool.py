"""The mutation driver itself (alys_pbt/mutation.py): how it reads a mutant's test run, and that no
state of one mutant's run reaches the next (issue 14, "mutation testing as part of the suite's own
checks": a score is only worth what the driver's verdict per mutant is worth)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from alys_pbt import mutation


@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL])
def test_a_test_child_that_dies_of_a_crash_signal_killed_its_mutant(sig: signal.Signals) -> None:
    """A child that died of SIGABRT (a C library's failed assertion) is a kill, not mutmut's
    "suspicious" (which the report counts as a survivor): the exit code is the one a real child
    gives, taken the way mutmut takes it (os.waitstatus_to_exitcode, minus the signal number)."""
    child = subprocess.run([sys.executable, "-c", f"import os, signal; os.kill(os.getpid(), {int(sig)})"])
    assert child.returncode == -sig
    assert mutation.status(child.returncode) == "killed by signal"
    assert mutation.status(child.returncode) in mutation.KILLED


def test_mutmuts_own_readings_of_exit_codes_stand() -> None:
    """Only crash signals change: a pass is a survivor, a failure a kill, an interrupt or an unknown
    code (mutmut's "suspicious") is no kill, SIGXCPU (the CPU limit) is a timeout."""
    assert mutation.status(0) == "survived"
    assert mutation.status(1) == "killed"
    assert mutation.status(5) == "no tests"
    assert mutation.status(-signal.SIGXCPU) == "timeout"
    assert mutation.status(-signal.SIGINT) not in mutation.KILLED
    assert mutation.status(42) not in mutation.KILLED


def test_the_report_says_a_crash_signal_is_a_kill() -> None:
    text = mutation.render({}, [], {})
    assert "dies of a signal" in " ".join(text.split())
    assert "SIGABRT" in text


def test_each_run_gets_an_empty_example_database_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs (two mutants) never share the directory the alys_pbt plugin builds the local database
    on, and each directory is removed when its run ends."""
    monkeypatch.delenv("ALYS_PBT_LOCAL_DB", raising=False)
    cleanups: list[Callable[[], None]] = []
    first = mutation.isolate_example_database(cleanups.append, tmp_path)
    assert os.environ["ALYS_PBT_LOCAL_DB"] == str(first)
    second = mutation.isolate_example_database(cleanups.append, tmp_path)
    assert os.environ["ALYS_PBT_LOCAL_DB"] == str(second)
    assert first != second and first.is_dir() and not any(second.iterdir())
    assert first.parent == second.parent == tmp_path
    for cleanup in cleanups:
        cleanup()
    assert not first.exists() and not second.exists()


def test_mutmut_children_load_the_isolation_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver starts mutmut with PYTEST_PLUGINS naming the module whose pytest_cmdline_main
    isolates the database: seen in the environment mutmut is given (no mutmut run needed)."""
    seen: dict[str, str] = {}

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        seen.update(kwargs["env"])  # type: ignore[arg-type]
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(mutation.subprocess, "run", fake_run)
    monkeypatch.setenv("ALYS_PBT_LOCAL_DB", "/somewhere/shared")
    mutation._mutmut(tmp_path, ["run"], "alys-fixed", tmp_path / "log")
    assert seen["PYTEST_PLUGINS"] == mutation.ISOLATION_PLUGIN == "alys_pbt.mutation"
    assert "ALYS_PBT_LOCAL_DB" not in seen
    assert mutation.pytest_cmdline_main.__module__ == mutation.ISOLATION_PLUGIN


@pytest.mark.slow  # three pytest processes, each loading the plugin and the suite's imports (~20 s)
def test_a_failure_saved_in_one_run_is_not_replayed_in_the_next(tmp_path: Path) -> None:
    """End to end, through pytest and the alys_pbt plugin (its database from ALYS_PBT_LOCAL_DB): a
    property fails in the first run, which saves its counterexample; in the second run (another
    mutant's, where the property holds for every example generation reaches) that counterexample
    is not replayed. Without the isolation plugin the second run replays it and fails."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["alys_pbt.plugin"]\n')
    # The second run's property fails only on the one value the first run saved, which generation
    # does not reach in 20 examples from its seed, but a replayed counterexample is.
    (project / "test_leak.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path
            from hypothesis import given, strategies as st

            MARK = Path(__file__).with_name("first-run")

            @given(st.integers(min_value=0, max_value=10**9))
            def test_property(n):
                if MARK.exists():
                    assert n < 100_012_345  # shrinks to exactly this bound, which is saved
                else:
                    assert n != 100_012_345
            """
        )
    )
    shared = tmp_path / "shared-db"

    def run(isolated: bool) -> int:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_", "ALYS_"))}
        env.update(HYPOTHESIS_PROFILE="ci", ALYS_PBT_LOCAL_DB=str(shared), ALYS_PBT_EXAMPLES="20")
        if isolated:
            env["PYTEST_PLUGINS"] = mutation.ISOLATION_PLUGIN
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_leak.py"]
        return subprocess.run(args, cwd=project, env=env, capture_output=True).returncode

    (project / "first-run").touch()
    assert run(isolated=False) == 1  # saves its counterexample in the shared database
    (project / "first-run").unlink()
    assert run(isolated=True) == 0  # a fresh database: the counterexample is not replayed
    assert run(isolated=False) == 1  # the shared database replays it: the leak the plugin closes


def test_more_wall_time_or_other_tests_are_one_setting_of_the_scratch_project(tmp_path: Path) -> None:
    """On a loaded machine a timeout may be a mutant that merely ran slowly (mutmut's wall limit is
    timeout_multiplier * (clean duration + timeout_constant), and a kill): `run --timeout-constant`
    writes the constant into the scratch project, and `rerun --timeout-constant` changes it there,
    which makes mutmut judge exactly the timeouts again. pytest's settings stay as they were."""
    scratch = mutation._scratch("alys/variant.py", ["tests/test_targets.py"], tmp_path, mutation.ROOT, 30.0)
    cfg = tomllib.loads((scratch / "pyproject.toml").read_text())
    assert cfg["tool"]["mutmut"]["timeout_constant"] == 30.0
    assert cfg["tool"]["mutmut"]["only_mutate"] == ["alys/variant.py"]
    assert cfg["tool"]["pytest"] == mutation._pyproject()["tool"]["pytest"]
    mutation._set_timeout_constant(scratch, 90.0)
    again = tomllib.loads((scratch / "pyproject.toml").read_text())
    assert again["tool"]["mutmut"] == {**cfg["tool"]["mutmut"], "timeout_constant": 90.0}
    # `rerun --mapped-tests`: the selection the module's mapping names now, nothing else changed
    mutation._set_test_selection(scratch, ["tests/test_targets.py", "tests/test_mutation_tool.py"])
    third = tomllib.loads((scratch / "pyproject.toml").read_text())
    assert third["tool"]["mutmut"] == {
        **again["tool"]["mutmut"],
        "pytest_add_cli_args_test_selection": ["tests/test_targets.py", "tests/test_mutation_tool.py"],
    }


def test_a_later_pass_that_cannot_start_keeps_the_passes_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mutmut refuses a pass whose clean run fails on its target (a strict expected failure that does
    not fail at the examples given: XPASS(strict)); the first pass's verdicts stand, and the record
    names only the passes that ran."""
    module = "alys/example.py"
    meta = tmp_path / "mutants" / f"{module}.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"m_1": None, "m_2": None}}))
    calls: list[str] = []

    def fake_mutmut(scratch: Path, args: list[str], target: str, log: Path, examples: int | None) -> None:
        calls.append(target)
        if target == "alys-fixed":
            meta.write_text(json.dumps({"exit_code_by_key": {"m_1": 1, "m_2": 0}}))
        else:
            meta.write_text(json.dumps({"exit_code_by_key": {"m_1": 1, "m_2": None}}))
            raise mutation.MutationError("mutmut run m_2 failed (exit 1)")

    monkeypatch.setattr(mutation, "_mutmut", fake_mutmut)
    killed_on, ran = mutation._passes(tmp_path, module, ("alys-fixed", "alys"), 1, only=None)
    assert calls == ["alys-fixed", "alys"]
    assert (killed_on, ran) == ({"m_1": "alys-fixed"}, ["alys-fixed"])
    assert json.loads(meta.read_text())["exit_code_by_key"] == {"m_1": 1, "m_2": 0}


def test_a_first_pass_that_cannot_start_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = "alys/example.py"
    meta = tmp_path / "mutants" / f"{module}.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"m_1": None}}))

    def failing(*args: object) -> None:
        raise mutation.MutationError("mutmut run failed (exit 1)")

    monkeypatch.setattr(mutation, "_mutmut", failing)
    with pytest.raises(mutation.MutationError):
        mutation._passes(tmp_path, module, ("alys-fixed", "alys"), 1, only=None)


def test_a_rerun_that_runs_a_new_pass_records_it_in_order() -> None:
    """A module measured on alys-fixed alone whose survivors are then run on alys is measured "on
    alys-fixed then alys"; a pass that did not start (absent from `ran`) is not recorded."""
    assert mutation.passes_after(["alys-fixed"], ["alys"]) == ["alys-fixed", "alys"]
    assert mutation.passes_after(["alys-fixed"], []) == ["alys-fixed"]
    assert mutation.passes_after(["alys-fixed", "alys"], ["alys-fixed"]) == ["alys-fixed", "alys"]
    assert mutation.passes_after(["alys"], ["alys-fixed"]) == ["alys-fixed", "alys"]
