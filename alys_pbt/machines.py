"""State machines wired to their target: the TestCase pytest collects for a machine.

A machine (alys_pbt.models.machines) is given its target as its constructor argument, as zarr's
stateful tests are given their store; it never looks one up. `machine_test(Machine)` is what a
property module exports (`TestChain = machine_test(ChainMachine)`): a unittest TestCase whose
runTest runs the machine on the run's target, which the plugin's `target` fixture hands it. Its
settings are Hypothesis's own for a machine's TestCase (no deadline, no health checks) over the
profile loaded when it runs; a property may still assign `TestX.settings`.

`wired(Machine, target)` is the zero-argument factory `run_state_machine_as_test` takes: a subclass
that keeps the machine's name, source and signature, so the shrunk program still reads
`state = Machine()`, the example database keys it as it keys the machine itself (the known
failures keep their keys), and a seed or `@reproduce_failure` put on the machine class applies.
A printed program replays by binding the machine's name to `wired(Machine, target)`.
"""

from __future__ import annotations

import inspect
import unittest
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from alys_pbt.interface import Target

M = TypeVar("M", bound=RuleBasedStateMachine)


def wired(machine: type[M], target: Target) -> type[M]:
    """`machine` on `target`, as a class that takes no arguments."""

    def __init__(self: M) -> None:
        machine.__init__(self, target)  # type: ignore[call-arg]

    namespace = {
        "__init__": __init__,
        "__module__": machine.__module__,
        "__qualname__": machine.__qualname__,  # inspect.getsource finds the machine's own source
        "__doc__": machine.__doc__,
        "__signature__": inspect.signature(machine),
    }
    return type(machine.__name__, (machine,), namespace)


def run_machine(
    machine: type[RuleBasedStateMachine], target: Target, *, settings: settings | None = None
) -> None:
    """Run `machine` on `target` as a test: nothing, or the shrunk failing program raised."""
    run_state_machine_as_test(wired(machine, target), settings=settings or machine_settings())


def machine_settings() -> settings:
    """Hypothesis's settings for a machine's TestCase, over the profile loaded now."""
    return settings(deadline=None, suppress_health_check=list(HealthCheck))


def machine_test(machine: type[RuleBasedStateMachine]) -> type[unittest.TestCase]:
    """The TestCase that runs `machine` on the target of the run (the plugin's `target` fixture)."""

    class MachineTest(unittest.TestCase):
        settings: settings | None = None  # None: machine_settings() when the test runs
        target: Target

        @pytest.fixture(autouse=True)
        def _given_target(self, target: Target) -> None:
            self.target = target

        def runTest(self) -> None:
            run_machine(machine, self.target, settings=self.settings)

        runTest.is_hypothesis_test = True  # type: ignore[attr-defined]
        # The plugin seeds the machine class and the kill matrix reads its @kills from here.
        runTest._hypothesis_state_machine_class = machine  # type: ignore[attr-defined]

    MachineTest.__name__ = f"{machine.__name__}.TestCase"
    MachineTest.__qualname__ = f"{machine.__qualname__}.TestCase"
    return MachineTest
