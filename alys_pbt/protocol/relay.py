"""The scheduler relay, client side (CROSSING.md; issue 12, item 6: schedules stay ours).

A remote actor system schedules nothing itself: its server records each task the runtime schedules
and hands the record over (`system.scheduled`). A `Relay` keeps one remote system in step with the
suite's scheduler: `before()` sends the suite's clock when it moved (`system.set_time`), `drain()`
takes what was scheduled and puts each task on the suite's scheduler, as a callable that sends
`system.run_task` (call_soon for a task without delay, call_later for a timer; a timer the runtime
cancelled is cancelled on the suite's side). So the suite's scheduler chooses every interleaving,
over the protocol exactly as in-process, and a failing schedule shrinks and replays.

Every call on a handle that belongs to the system (the system itself, and what is made from it, such
as a governance stream) is wrapped: `relay.before()`, the call, `relay.drain()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alys_pbt.protocol.rpc import Connection, RemoteError


class Relay:
    """One remote system's tasks, on the suite's scheduler."""

    def __init__(self, connection: Connection, system: Callable[[], int], scheduler: Any) -> None:
        self.connection = connection
        self._system = system  # the system's handle id (checked against a restarted server)
        self.scheduler = scheduler
        self.sent: float | None = None  # the clock as last sent
        self.timers: dict[int, Any] = {}  # task id -> the suite scheduler's handle for its timer

    @staticmethod
    def cancellable(scheduler: Any) -> bool:
        """Whether the suite's scheduler hands back timers that can be cancelled."""
        return bool(getattr(scheduler, "cancellable", False))

    def before(self) -> None:
        """Send the suite's clock if it moved since it was last sent."""
        now = float(self.scheduler.now())
        if now != self.sent:
            self.connection.call("system.set_time", {"system": self._system(), "now": now})
            self.sent = now

    def drain(self) -> None:
        """Put every task the runtime scheduled since the last drain on the suite's scheduler."""
        self._schedule(
            self.connection.call("system.scheduled", {"system": self._system()}), "system.scheduled"
        )

    def _schedule(self, got: Any, method: str) -> None:
        if not isinstance(got, dict) or not isinstance(got.get("tasks"), list):
            self.connection._fail(f"{method} answered {got!r:.80}", method)
        for task, delay in got["tasks"]:
            run = self._runner(int(task))
            if delay is None:
                self.scheduler.call_soon(run)
            else:
                handle = self.scheduler.call_later(float(delay), run)
                if handle is not None:
                    self.timers[int(task)] = handle
        for task in got.get("cancelled") or ():
            handle = self.timers.pop(int(task), None)
            cancel = getattr(handle, "cancel", None)
            if cancel is not None:
                cancel()

    def _runner(self, task: int) -> Callable[[], None]:
        def run() -> None:
            self.timers.pop(task, None)
            self.call(
                lambda: self.connection.call("system.run_task", {"system": self._system(), "task": task})
            )

        run.__name__ = f"remote_task_{task}"
        return run

    def call(self, fn: Callable[[], Any]) -> Any:
        """`fn()` (a call on a handle of this system) in step: the clock before, the tasks after."""
        self.before()
        try:
            result = fn()
        except RemoteError:  # a rejection: what the runtime scheduled before it still runs
            self.drain()
            raise
        self.drain()
        return result


def of(handle: Any) -> Relay:
    """The relay of a remote system (or of a handle made from one)."""
    relay = getattr(handle, "_relay", None)
    if not isinstance(relay, Relay):
        raise TypeError(f"{handle!r} is not a remote actor system's handle")
    return relay
