"""Injectable schedulers and clocks: a deterministic one whose next step the caller (Hypothesis)
chooses, and one on asyncio for production. Neither sleeps on the wall clock in tests.

Seeded mutants (alys_pbt/deviations.py), off unless a variant carries them:
`actors-timer-ties-newest-first` (timers due together become ready newest first) and
`actors-idle-runs-past-limit` (run_until_idle takes one step more than its limit).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from typing import Protocol

from alys.variant import Variant

Task = Callable[[], None]


class Scheduler(Protocol):
    """A scheduler may return a handle with `cancel()` from call_later (asyncio's TimerHandle, the
    deterministic scheduler's Timer); the runtime cancels a timer it no longer needs (an answered
    ask's timeout), so that nothing is left pending. One that returns None is never cancelled."""

    def now(self) -> float: ...
    def call_soon(self, task: Task) -> object: ...
    def call_later(self, delay: float, task: Task) -> object: ...


class Timer:
    """A pending call_later of the deterministic scheduler; `cancel()` before it falls due and it
    never runs (asyncio.TimerHandle's contract)."""

    def __init__(self, task: Task) -> None:
        self.task, self.cancelled = task, False

    def cancel(self) -> None:
        self.cancelled = True


class DeterministicScheduler:
    """Ready tasks wait until `step(i)` runs the i-th; time moves only by `advance(dt)`."""

    def __init__(self, variant: Variant | None = None) -> None:
        self.v = variant or Variant()
        self.time = 0.0
        self.ready: list[Task] = []
        self._timers: list[tuple[float, int, Timer]] = []
        self._count = 0

    def now(self) -> float:
        return self.time

    def call_soon(self, task: Task) -> None:
        self.ready.append(task)

    def call_later(self, delay: float, task: Task) -> Timer:
        self._count += 1
        order = -self._count if self.v.on("actors-timer-ties-newest-first") else self._count
        timer = Timer(task)
        heapq.heappush(self._timers, (self.time + max(delay, 0.0), order, timer))
        self._release()
        return timer

    def _release(self) -> None:
        while self._timers and self._timers[0][0] <= self.time:
            timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                self.ready.append(timer.task)

    def pending(self) -> int:
        """Timers not yet due and not cancelled: what a run would leave behind."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    def step(self, index: int = 0) -> bool:
        """Run the ready task at `index` (mod the number ready); False when nothing is ready."""
        if not self.ready:
            return False
        self.ready.pop(index % len(self.ready))()
        return True

    def advance(self, dt: float) -> None:
        """Move simulated time forward; timers that fall due become ready, in due order."""
        self.time += dt
        self._release()

    def next_timer(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def run_until_idle(self, limit: int = 1_000_000) -> int:
        """Run ready tasks, oldest first (a fair schedule), until none is ready or `limit` have run
        (a guard against a task that reschedules itself forever); returns how many ran."""
        steps = 0
        if self.v.on("actors-idle-runs-past-limit"):
            limit += 1
        while self.ready and steps < limit:
            self.step(0)
            steps += 1
        return steps


class AsyncioScheduler:
    """Production: the running asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_event_loop()

    def now(self) -> float:
        return self.loop.time()

    def call_soon(self, task: Task) -> asyncio.Handle:
        return self.loop.call_soon(task)

    def call_later(self, delay: float, task: Task) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, task)


class _Run:
    """A task given as data (id, then, repeat, read by attribute), as the scheduler runs it."""

    def __init__(self, owner: TaskScheduler, task: object) -> None:
        self.owner, self.task = owner, task
        self.id: int | None = getattr(task, "id", None)

    def __call__(self) -> None:
        task: object = self.task
        if self.id is None:  # a plain callable
            task()  # type: ignore[operator]
            return
        self.owner.ran.append(self.id)
        then = getattr(task, "then", None)
        repeat = int(getattr(task, "repeat", 0))
        if then is not None:
            how, delay, follow = then
            nxt = _Task(int(follow), None, 0)
            if how == "soon":
                self.owner.call_soon(nxt)
            else:
                self.owner.call_later(float(delay), nxt)
        elif repeat > 0:
            self.owner.call_soon(_Task(self.id, None, repeat - 1))


class _Task:
    def __init__(self, id: int, then: object, repeat: int) -> None:
        self.id, self.then, self.repeat = id, then, repeat


class TaskScheduler(DeterministicScheduler):
    """The deterministic scheduler taking tasks as data (a caller in another process cannot hand it
    code): each records its id in `ran` when it runs, then schedules its follow-up or runs again."""

    def __init__(self, variant: Variant | None = None) -> None:
        super().__init__(variant)
        self.ran: list[int] = []

    def call_soon(self, task: object) -> None:
        super().call_soon(_Run(self, task))

    def call_later(self, delay: float, task: object) -> Timer:
        return super().call_later(delay, _Run(self, task))

    @property
    def ready_ids(self) -> list[int | None]:
        return [getattr(t, "id", None) for t in self.ready]
