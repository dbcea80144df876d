"""Reference models for the V2 actor runtime (alys-rules.md §6.3): a mailbox and a supervisor.

Plain and slow: the mailbox keeps one list and decides at each delivery which message is due;
the supervisor replays a failure history against the policy. Neither imports the runtime.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from attrs import frozen

BACKGROUND, LOW, NORMAL, HIGH, CRITICAL, EMERGENCY = range(6)
Verdict = Literal["accepted", "rejected", "blocked", "dropped"]


@frozen
class Msg:
    sender: str
    seq: int
    priority: int


class MailboxModel:
    """What a correct mailbox holds, delivers next, and may drop under its overflow policy."""

    def __init__(self, capacity: int, policy: str) -> None:
        self.capacity, self.policy = capacity, policy
        self.queued: list[tuple[int, Msg]] = []  # (arrival number, message)
        self.waiting: list[Msg] = []  # blocked senders, oldest first
        self.dropped: list[Msg] = []  # what the policy was allowed to drop
        self.arrivals = 0

    def size(self) -> int:
        return len(self.queued)

    def backpressure(self) -> str:
        """From the fill level: Blocked at capacity, Critical from 80%, Warning from 50%."""
        size = self.size()
        if size >= self.capacity:
            return "BLOCKED"
        if size >= self.capacity * 4 // 5:  # floor(capacity x 0.8), as designed
            return "CRITICAL"
        if 2 * size >= self.capacity:
            return "WARNING"
        return "NORMAL"

    def send(self, msg: Msg) -> Verdict:
        if self.size() < self.capacity:
            self._enqueue(msg)
            return "accepted"
        if self.policy == "reject":
            self.dropped.append(msg)
            return "rejected"
        if self.policy == "block":
            self.waiting.append(msg)
            return "blocked"
        # drop-lowest: the lowest priority loses; among equals the newest queued message.
        victim = min(self.queued, key=lambda item: (item[1].priority, -item[0]))
        if msg.priority <= victim[1].priority:
            self.dropped.append(msg)
            return "dropped"
        self.queued.remove(victim)
        self.dropped.append(victim[1])
        self._enqueue(msg)
        return "accepted"

    def _enqueue(self, msg: Msg) -> None:
        self.arrivals += 1
        self.queued.append((self.arrivals, msg))

    def deliver(self) -> Msg | None:
        """The message due next: the most urgent of High and above (older first on ties), else
        the oldest Normal, else the oldest Low or Background."""
        if not self.queued:
            return None
        urgent = [item for item in self.queued if item[1].priority >= HIGH]
        normal = [item for item in self.queued if item[1].priority == NORMAL]
        if urgent:
            due = max(urgent, key=lambda item: (item[1].priority, -item[0]))
        elif normal:
            due = min(normal)
        else:
            due = min(self.queued, key=lambda item: item[0])
        self.queued.remove(due)
        if self.waiting and self.size() < self.capacity:
            self._enqueue(self.waiting.pop(0))
        return due[1]


def restart_delay(strategy: Any, attempt: int) -> float | None:
    """The delay before restart `attempt` (0-based); None when the strategy gives up."""
    # `strategy` is one of the node's RestartStrategy variants, read by its name and fields.
    kind = type(strategy).__name__
    if kind == "Never":
        return None
    if kind == "Immediate":
        return 0.0
    if kind == "Delayed":
        return cast(float, strategy.delay)
    if kind == "ExponentialBackoff":
        return cast(float, min(strategy.initial * strategy.multiplier**attempt, strategy.maximum))
    if kind == "Progressive":
        if attempt >= strategy.max_attempts:
            return None
        return cast(float, strategy.initial * strategy.multiplier**attempt)
    raise ValueError(f"unknown restart strategy {strategy!r}")


def shutdown_order(depends_on: dict[str, tuple[str, ...]]) -> list[str]:
    """The stop order: one actor at a time, the first in name order of those nothing still running
    depends on; on a cycle, the first remaining in name order. Dependents stop before what they
    depend on (V2 design, alys-rules.md §6.1); the tie-break by name is suite hardening: one
    deterministic order, so that a shutdown replays the same way."""
    remaining, order = set(depends_on), []
    while remaining:
        free = [n for n in remaining if not any(n in depends_on[m] for m in remaining if m != n)]
        name = min(free or remaining)
        order.append(name)
        remaining.discard(name)
    return order


class SupervisorModel:
    """Replays failures against a policy: when each restart is due, and when to escalate."""

    def __init__(self, strategy: object, max_restarts: int, window: float) -> None:
        self.strategy, self.max_restarts, self.window = strategy, max_restarts, window
        self.decided_at: list[float] = []  # when each restart was granted
        self.due: list[float] = []  # when each granted restart happens
        self.escalations = 0
        self.reasons: list[str] = []  # why each escalation happened

    def on_failure(self, now: float) -> float | None:
        """The time the child runs again, or None: escalate to the parent (the restart budget of
        the window is checked before the strategy is asked, as supervisor.rs does)."""
        in_window = [t for t in self.decided_at if now - t <= self.window]
        delay = restart_delay(self.strategy, len(self.decided_at))
        if len(in_window) >= self.max_restarts or delay is None:
            self.escalations += 1
            self.reasons.append(
                "too many restarts" if len(in_window) >= self.max_restarts else "the strategy gives up"
            )
            return None
        self.decided_at.append(now)
        self.due.append(now + delay)
        return now + delay

    def restarts_done(self, now: float) -> int:
        return sum(1 for t in self.due if t <= now)


class SchedulerModel:
    """A deterministic scheduler as designed: tasks run in the order they became ready, timers
    become ready by due time (then scheduling order), and time moves only when advanced."""

    RUNAWAY_LIMIT = 1_000_000  # run_until_idle stops after this many steps unless told otherwise

    def __init__(self) -> None:
        self.time = 0.0
        self.ready: list[int] = []  # task ids, in the order they became ready
        self.timers: list[tuple[float, int, int]] = []  # (due, scheduled as number, task id)
        self.scheduled = 0

    def call_soon(self, task: int) -> None:
        self.ready.append(task)

    def call_later(self, delay: float, task: int) -> None:
        """Due `delay` after now (a negative delay is due now); ready at once if already due."""
        self.scheduled += 1
        self.timers.append((self.time + max(delay, 0.0), self.scheduled, task))
        self._release()

    def _release(self) -> None:
        due = sorted(t for t in self.timers if t[0] <= self.time)
        self.timers = [t for t in self.timers if t[0] > self.time]
        self.ready.extend(task for _, _, task in due)

    def take(self, index: int = 0) -> int | None:
        """The ready task at `index` (modulo how many are ready), or None when none is ready."""
        return self.ready.pop(index % len(self.ready)) if self.ready else None

    def advance(self, dt: float) -> None:
        self.time += dt
        self._release()

    def next_timer(self) -> float | None:
        return min(t[0] for t in self.timers) if self.timers else None
