"""The actor runtime under the chaos issue 16 asks for (models/machines/actors.py): supervision
trees three or more levels deep, with cascades and escalation; mailboxes bounded in bytes; slow and
stalled handlers; overflow along a routing chain. Each machine runs on the deterministic scheduler
and on the production asyncio runtime (a loop the test owns, on simulated time), held to the same
invariants; at teardown the asyncio loop must hold nothing: no task, timer or callback pending."""

from __future__ import annotations

import pytest

from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models.machines.actors import (
    PressureMachine,
    PressureOnAsyncio,
    SupervisionTreeMachine,
    SupervisionTreeOnAsyncio,
)

pytestmark = pytest.mark.actors

TREE = ("actors-escalation-not-propagated", "actors-cascade-one-level", "actors-restart-loses-mailbox")
PRESSURE = (
    "actors-memory-not-released",
    "actors-memory-limit-off-by-one",
    "actors-stalled-handler-hangs",
    "actors-handler-timeout-inclusive",
    "actors-slow-handler-overlaps",
    "actors-route-overflow-silent",
)

TestSupervisionTree = machine_test(kills(*TREE, "actors-ask-timer-left-pending")(SupervisionTreeMachine))
TestSupervisionTreeOnAsyncio = machine_test(kills(*TREE)(SupervisionTreeOnAsyncio))
TestPressure = machine_test(kills(*PRESSURE)(PressureMachine))
TestPressureOnAsyncio = machine_test(kills(*PRESSURE, "actors-ask-timer-left-pending")(PressureOnAsyncio))
