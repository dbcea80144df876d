"""Throughput of the suite itself: examples/s of a few properties, steps/s of a few state machines
(target alys-fixed, derandomized, generate phase only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alys_pbt.models.machines.actors import MailboxMachine
from alys_pbt.models.machines.approvals import FederationMachine
from alys_pbt.models.machines.chain import ChainMachine
from benchmarks import workloads
from properties import test_auxpow, test_retarget

PROPERTIES = {
    "auxpow-valid-proofs": (test_auxpow.test_valid_proofs_are_accepted, 20),
    "auxpow-encodings": (test_auxpow.test_encodings_round_trip, 50),
    "retarget": (test_retarget.test_retarget_matches_reference, 50),
}
MACHINES = {"mailbox": MailboxMachine, "federation": FederationMachine, "chain": ChainMachine}


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_property_examples(measure: Callable[..., Any], name: str) -> None:
    test, examples = PROPERTIES[name]
    run, n = workloads.property_examples(test, examples)
    assert measure(run, ops=n, rounds=5) == n


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_machine_steps(measure: Callable[..., Any], name: str) -> None:
    run, n = workloads.machine_steps(MACHINES[name])
    assert n > 0
    assert measure(run, ops=n, rounds=5) == n
