"""The asyncio test context (alys_pbt/aio.py OwnedLoop, issue 16 item 5) and the actor machines on
both runtimes: the context catches each kind of leak it exists to catch, never waits on the wall
clock, replays, and the seeded leak in the port (an answered ask's timer left pending) fails the
asyncio machine at teardown while the same run on the correct port passes."""

from __future__ import annotations

import asyncio
import selectors
import time

import pytest
from hypothesis import HealthCheck, Phase, settings

from alys_pbt import targets
from alys_pbt.aio import LoopDeadlock, OwnedLoop
from alys_pbt.machines import run_machine
from alys_pbt.models.machines.actors import PressureOnAsyncio, SupervisionTreeOnAsyncio


def test_the_loop_exposes_what_the_context_reads() -> None:
    """OwnedLoop reads CPython's `_ready` and `_scheduled`: they must be there, as deques and lists
    of handles, on the Python that runs the suite."""
    owned = OwnedLoop()
    try:
        owned.loop.call_soon(lambda: None)
        owned.loop.call_later(1.0, lambda: None)
        assert len(owned._ready()) == 1 and len(owned._timers()) == 1
    finally:
        owned.loop.close()


@pytest.mark.parametrize("leak", ["timer", "callback", "task"])
def test_teardown_names_each_kind_of_leak(leak: str) -> None:
    """A timer neither run nor cancelled, a callback that reschedules itself past the runaway limit,
    a task still waiting: each fails teardown, named, and the loop is closed all the same."""
    owned = OwnedLoop()
    if leak == "timer":
        owned.loop.call_later(5.0, lambda: None)
    elif leak == "callback":
        owned.RUNAWAY_LIMIT = 3

        def again() -> None:
            owned.loop.call_soon(again)

        owned.loop.call_soon(again)
    else:
        owned.loop.create_task(asyncio.Event().wait())
    with pytest.raises(
        AssertionError, match={"timer": "timer due at 5", "callback": "ready callback", "task": "task"}[leak]
    ):
        owned.close()
    assert owned.loop.is_closed()


def test_a_clean_loop_tears_down_and_cancelled_timers_are_not_leaks() -> None:
    owned = OwnedLoop()
    owned.loop.call_later(5.0, lambda: None).cancel()
    ran: list[float] = []
    owned.loop.call_later(2.5, lambda: ran.append(owned.now()))
    owned.advance(3.0)
    assert ran == [2.5] and owned.now() == 3.0
    owned.close()
    assert owned.loop.is_closed()


def test_simulated_time_never_waits_on_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """An hour of timers passes without the loop ever reaching a real wait (the OS selector or a
    sleep); a loop with nothing to do says so. (How fast it runs is no test's business.)"""

    def real_wait(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the loop waited on the wall clock: {args}")

    owned = OwnedLoop()
    monkeypatch.setattr(selectors.SelectSelector, "select", real_wait)
    monkeypatch.setattr(time, "sleep", real_wait)
    fired: list[float] = []
    for i in range(60):
        owned.loop.call_later(60.0 * i, lambda: fired.append(owned.now()))
    owned.advance(3600.0)
    assert len(fired) == 60 and fired[-1] == 3540.0 and owned.now() == 3600.0
    with pytest.raises(LoopDeadlock):
        owned.run(asyncio.Event().wait())
    owned.loop.close()


def _run(machine: type, target: str) -> None:
    run_machine(
        machine,
        targets.load(target),
        settings=settings(
            max_examples=60,
            phases=[Phase.generate],
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.mark.parametrize("machine", [SupervisionTreeOnAsyncio, PressureOnAsyncio], ids=lambda m: m.__name__)
def test_an_answered_asks_timer_left_pending_fails_the_asyncio_machine_at_teardown(machine: type) -> None:
    """The same derandomized run: clean on alys-fixed; with the seeded leak, teardown names the
    timer, and a second run fails alike, program and all (the asyncio run replays)."""
    _run(machine, "alys-fixed")
    failures = []
    for _ in range(2):  # and it replays: simulated time, the same program, the same leak
        with pytest.raises(AssertionError, match="left pending at teardown: timer due at") as leaked:
            _run(machine, "alys-fixed+actors-ask-timer-left-pending")
        failures.append(str(leaked.value) + "".join(getattr(leaked.value, "__notes__", [])))
    assert failures[0] == failures[1], "the asyncio run did not replay"
