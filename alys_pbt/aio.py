"""The production (asyncio) runtime under test: an event loop on simulated time that the suite owns.

`OwnedLoop` is the test context of issue 16, item 5: it owns the loop and so every callback, timer
and task scheduled on it, and the loop's own resources (its self-pipe sockets). It runs the loop
without ever waiting on the wall clock: when the loop would sleep until its next timer, the clock
jumps there instead (a selector that never blocks), so a run replays exactly, like the
deterministic scheduler's. `close()` is its teardown: it asserts that nothing was left pending (no
ready callback, no timer that was neither run nor cancelled, no unfinished task) and that the loop
closed, and says what leaked.

Why not a library: looptime (PyPI) fast-forwards a loop's time in the same way, but as a pytest
plugin around a coroutine under test; a Hypothesis state machine needs to turn the loop itself
between rules (one turn, settle, advance by dt), which is these few lines over asyncio's own loop.
It reads two private attributes of CPython's BaseEventLoop (`_ready`, `_scheduled`), the only way
to see what a loop still holds; tests/test_aio.py checks them on the running Python.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from typing import Any


class LoopDeadlock(RuntimeError):
    """The loop would wait forever: nothing is ready and no timer is pending."""


class _Clock(selectors.SelectSelector):
    """A selector that never blocks: a wait for `timeout` moves the loop's simulated clock by it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise LoopDeadlock("the loop would wait forever: nothing ready and no timer pending")
        self.now += max(timeout, 0.0)
        return []


class SimulatedLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop on simulated time: `time()` reads the clock the selector moves."""

    def __init__(self) -> None:
        self._clock = _Clock()
        super().__init__(selector=self._clock)

    def time(self) -> float:
        return self._clock.now


class OwnedLoop:
    """A simulated-time asyncio loop that the test owns: it turns it, and tears it down checking
    that nothing leaked."""

    RUNAWAY_LIMIT = 100_000  # turns of settle(): a callback that reschedules itself forever

    def __init__(self) -> None:
        self.loop = SimulatedLoop()
        self.closed = False

    def now(self) -> float:
        return self.loop.time()

    def _ready(self) -> list[asyncio.Handle]:
        return [h for h in self.loop._ready if not h.cancelled()]  # type: ignore[attr-defined]

    def _timers(self) -> list[asyncio.TimerHandle]:
        return [h for h in self.loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]

    def _due(self) -> bool:
        """Something runs if the loop turns now: a ready callback, or a timer already due."""
        now = self.loop.time()
        return bool(self._ready()) or any(h.when() <= now for h in self._timers())

    def turn(self) -> bool:
        """One turn of the loop, running what is ready now; False if nothing was."""
        if not self._due():
            return False
        self.loop.run_until_complete(asyncio.sleep(0))
        return True

    def settle(self) -> int:
        """Turn the loop until nothing is due now (timers not yet due wait); returns the turns."""
        turns = 0
        while self._due() and turns < self.RUNAWAY_LIMIT:
            self.loop.run_until_complete(asyncio.sleep(0))
            turns += 1
        return turns

    def advance(self, dt: float) -> None:
        """Let `dt` seconds of simulated time pass: every timer due meanwhile runs at its time."""
        self.loop.run_until_complete(asyncio.sleep(max(dt, 0.0)))
        self.settle()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def leftovers(self) -> list[str]:
        """What the loop still holds: ready callbacks, pending timers, unfinished tasks."""
        out = [f"ready callback {h!r}" for h in self._ready()]
        out += [f"timer due at {h.when():g} ({h!r})" for h in self._timers()]
        out += [f"task {t!r}" for t in asyncio.all_tasks(self.loop) if not t.done()]
        return out

    def close(self, before: Callable[[], object] | None = None) -> None:
        """Teardown: run `before` (the system's shutdown), let what is ready run, then assert that
        nothing is left pending and close the loop and its resources."""
        if self.closed:
            return
        try:
            if before is not None:
                before()
            self.settle()
            leaked = self.leftovers()
        finally:
            self.loop.close()
            self.closed = True
        assert self.loop.is_closed(), "the loop did not close"
        assert not leaked, "left pending at teardown: " + "; ".join(leaked)
