"""The actors component over the target protocol (issue 12, items 2 and 6): behaviours cross as
data (roles), and the scheduler relay keeps every schedule the suite's, so the same
Hypothesis-chosen steps give the same order over `exec:` as in-process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.interface import Role
from alys_pbt.models.machines.actors import CancellingScheduler, SuiteScheduler

SERVE = f"exec:{sys.executable} -m alys.serve"


@pytest.fixture(scope="module")
def remote() -> Iterator[Any]:
    target = targets.prepare(targets.load(f"{SERVE} alys-fixed"))
    yield target
    target.close() if hasattr(target, "close") else None


def _handled_order(actors: Any, steps: list[int]) -> list[str]:
    """Three actors each told "go" by actor `sink`, answering it "done"; the suite's scheduler runs
    the ready task at each chosen index: the order in which the sink hears back."""
    scheduler = SuiteScheduler()
    system = actors.system(scheduler)
    system.spawn("sink", Role())
    for name in ("a0", "a1", "a2"):
        system.spawn(name, Role(answers_sender=(("go", "done"),)))
        system.tell(name, "go", sender="sink")
    for index in steps:
        if not scheduler.ready:
            break
        scheduler.step(index)
    scheduler.run_until_idle()
    return [r.sender for r in system.received("sink") if r.hook == "handle"]


@settings(max_examples=10, deadline=None)
@given(steps=st.lists(st.integers(0, 5), max_size=6))
def test_the_relay_runs_the_suite_schedule_over_the_protocol(remote: Any, steps: list[int]) -> None:
    """Whatever steps Hypothesis picks, the remote runtime handles messages in the order the suite's
    scheduler runs them: the same order as in-process."""
    local = targets.prepare(targets.load("alys-fixed"))
    assert _handled_order(remote.actors, steps) == _handled_order(local.actors, steps)


def test_two_schedules_give_their_two_orders_over_the_protocol(remote: Any) -> None:
    """Two different schedules give two different orders, each the in-process one: the order is the
    suite's choice, not the server's."""
    local = targets.prepare(targets.load("alys-fixed"))
    first, last = [0, 0, 0], [2, 1, 0]
    assert _handled_order(remote.actors, first) == _handled_order(local.actors, first) == ["a0", "a1", "a2"]
    assert _handled_order(remote.actors, last) == _handled_order(local.actors, last) == ["a2", "a1", "a0"]


def test_timers_cross_the_relay_and_a_cancelled_one_never_runs(remote: Any) -> None:
    """An ask's timeout is a timer on the suite's scheduler; answered, the runtime cancels it and
    the suite's cancellable scheduler drops it (nothing left pending); unanswered, it fires at its
    deadline in simulated time."""
    scheduler = CancellingScheduler()
    system = remote.actors.system(scheduler)
    system.spawn("echo", Role(reply="echo"))
    answered = system.ask("echo", [1, "x"], timeout=5.0)
    scheduler.run_until_idle()
    assert (answered.done, answered.value, answered.error) == (True, [1, "x"], None)
    assert scheduler.leftovers() == []
    system.fail("echo")  # down until its restart, 0.1 s later (ExponentialBackoff's first)
    late = system.ask("echo", 2, timeout=0.05)
    scheduler.advance_through(0.05)
    assert late.done and type(late.error).__name__ == "AskTimeout", late
    assert str(late.error) == "echo did not answer in 0.05s"


def test_a_task_not_pending_is_a_typed_rejection(remote: Any) -> None:
    """system.run_task runs a task once; again, or one never scheduled, is UnknownTask."""
    scheduler = SuiteScheduler()
    system = remote.actors.system(scheduler)
    system.spawn("echo", Role())
    system.tell("echo", 1)
    scheduler.run_until_idle()
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the rejection's class is made from its name
        system._connection.call("system.run_task", {"system": system._id(), "task": 10**6})
    assert type(refused.value).__name__ == "UnknownTask"
