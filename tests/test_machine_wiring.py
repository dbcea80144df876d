"""Machines are given their target (issue 18, item 2): constructed with an explicit target object, as
zarr's stateful tests are given their store, they run without the plugin's current target; the
plugin wires its `target` fixture to each machine through `alys_pbt.machines.machine_test`.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.reflection import function_digest
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, run_state_machine_as_test

import alys
from alys_pbt import targets
from alys_pbt.machines import machine_test, wired
from alys_pbt.models.machines.actors import FlowsMachine, MailboxMachine, SchedulerMachine, SupervisionMachine
from alys_pbt.models.machines.approvals import FederationMachine
from alys_pbt.models.machines.chain import ChainMachine
from alys_pbt.models.machines.sync import CheckpointMachine, SyncMachine
from properties import test_actors, test_approvals, test_chain, test_sync
from tests.support import ROOT

MACHINES = (
    ChainMachine,
    FederationMachine,
    SyncMachine,
    CheckpointMachine,
    MailboxMachine,
    SupervisionMachine,
    FlowsMachine,
    SchedulerMachine,
)
SMALL = settings(
    phases=(Phase.explicit, Phase.generate),  # only whether it fails: no shrinking, no explaining
    max_examples=3,
    stateful_step_count=8,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def no_current_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that asked for the run's target would fail here."""

    def refuse() -> Any:
        raise AssertionError("a machine looked up the current target instead of using the one it was given")

    monkeypatch.setattr(targets, "current", refuse)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.__name__)
@pytest.mark.usefixtures("no_current_target")
def test_a_machine_runs_on_the_target_it_is_given(machine: type[RuleBasedStateMachine]) -> None:
    target = alys.build("alys-fixed")
    run_state_machine_as_test(lambda: machine(target), settings=SMALL)


@pytest.mark.usefixtures("no_current_target")
def test_the_target_a_machine_is_given_is_the_one_it_drives() -> None:
    """The same machine passes on alys-fixed and fails on a seeded mutant, in one process."""
    mutant = alys.build("alys-fixed+approvals-duplicate-counted", ["approvals-duplicate-counted"])
    budget = settings(SMALL, max_examples=30, stateful_step_count=20, report_multiple_bugs=False)
    run_state_machine_as_test(wired(FederationMachine, alys.build("alys-fixed")), settings=budget)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(wired(FederationMachine, mutant), settings=budget)


def test_the_machine_modules_import_nothing_of_the_plugin_or_the_targets() -> None:
    code = (
        "import sys\n"
        "import alys_pbt.models.machines.actors, alys_pbt.models.machines.approvals\n"
        "import alys_pbt.models.machines.chain, alys_pbt.models.machines.sync\n"
        "print(sorted(m for m in sys.modules if m in ('alys_pbt.plugin', 'alys_pbt.targets')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    for machine in MACHINES:
        assert list(inspect.signature(machine).parameters) == ["target"], machine.__name__


def test_a_wired_machine_keeps_the_name_source_and_database_key_of_the_machine() -> None:
    """So the shrunk program reads `state = Machine()`, and the example database (and the known
    failures, alys_pbt/known.py) key a wired machine as they key the machine itself."""
    target = alys.build("alys-fixed")
    for machine in MACHINES:
        bound = wired(machine, target)
        assert bound.__name__ == machine.__name__ and inspect.getsource(bound) == inspect.getsource(machine)
        assert function_digest(bound) == function_digest(machine)
        key = function_digest(get_state_machine_test(bound).hypothesis.inner_test)
        assert key == function_digest(get_state_machine_test(machine).hypothesis.inner_test)


def test_the_properties_export_each_machine_as_a_test_case_under_its_node_id() -> None:
    exported = {
        test_chain.TestChain: ChainMachine,
        test_approvals.TestFederation: FederationMachine,
        test_sync.TestSync: SyncMachine,
        test_sync.TestCheckpoints: CheckpointMachine,
        test_actors.TestMailbox: MailboxMachine,
        test_actors.TestSupervision: SupervisionMachine,
        test_actors.TestMessageFlows: FlowsMachine,
        test_actors.TestScheduler: SchedulerMachine,
    }
    for case, machine in exported.items():
        assert case.runTest._hypothesis_state_machine_class is machine  # type: ignore[attr-defined]
        assert case.__name__ == f"{machine.__name__}.TestCase"


@pytest.mark.usefixtures("no_current_target")
def test_a_machine_test_case_runs_on_the_target_the_fixture_hands_it() -> None:
    """What pytest does with TestX: the `target` fixture sets the case's target, runTest drives it."""
    test_case = machine_test(FederationMachine)
    test_case.settings = settings(SMALL, max_examples=30, stateful_step_count=20, report_multiple_bugs=False)
    case = test_case()
    case.target = alys.build("alys-fixed+approvals-duplicate-counted", ["approvals-duplicate-counted"])
    with pytest.raises(AssertionError):
        case.runTest()
    case.target = alys.build("alys-fixed")
    case.runTest()
