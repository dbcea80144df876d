"""Restart strategies and supervision policies (crates/actor_system/src/supervisor.rs, §6.3).

Quirks (on in target `alys`):
* `actors-restart-limit-hardcoded`: failure handling allows a hard-coded 3 restarts, not the
  policy's maximum, and never looks at the restart window;
* `actors-delayed-restarts-never-fire`: Delayed and backoff restarts are scheduled as a TODO and
  never fire, so the actor stays down.
"""

from __future__ import annotations

from typing import Any, Literal

from attrs import field, frozen

from alys.variant import Variant


@frozen
class Never:
    pass


@frozen
class Immediate:
    pass


@frozen
class Delayed:
    delay: float


@frozen
class ExponentialBackoff:
    initial: float = 0.1
    maximum: float = 30.0
    multiplier: float = 2.0


@frozen
class Progressive:
    initial: float
    max_attempts: int
    multiplier: float


RestartStrategy = Never | Immediate | Delayed | ExponentialBackoff | Progressive
Escalation = Literal["escalate", "stop"]


@frozen
class SupervisionPolicy:
    strategy: RestartStrategy = field(factory=ExponentialBackoff)
    max_restarts: int = 5
    window: float = 60.0
    escalation: Escalation = "escalate"


def restart_delay(strategy: RestartStrategy, attempt: int, variant: Variant) -> float | None:
    """Seconds before restart number `attempt` (0-based), or None: this strategy gives up."""
    if variant.on("actors-restart-count-from-1"):
        attempt += 1
    # The node's RestartStrategy is an enum read by its variant: any object named as a variant, with
    # that variant's fields, is one (so a caller's own plain-data classes work as the port's do).
    kind = type(strategy).__name__
    s: Any = strategy
    if kind == "Never":
        return None
    if kind == "Immediate":
        return 0.0
    if kind == "Delayed":
        return float(s.delay)
    if kind == "ExponentialBackoff":
        return float(min(s.initial * s.multiplier**attempt, s.maximum))
    if kind != "Progressive":
        raise TypeError(f"not a restart strategy: {kind}")
    if attempt >= s.max_attempts:
        return None
    return float(s.initial * s.multiplier**attempt)


@frozen
class Restart:
    delay: float


@frozen
class Escalate:
    reason: str


class Supervisor:
    """Decides, for each failure of one child, whether and when it restarts."""

    def __init__(self, policy: SupervisionPolicy, variant: Variant) -> None:
        self.policy, self.v = policy, variant
        self.restart_times: list[float] = []

    def on_failure(self, now: float) -> Restart | Escalate:
        if self.v.on("actors-restart-limit-hardcoded"):
            allowed = len(self.restart_times) < 3
        else:
            recent = [t for t in self.restart_times if now - t <= self.policy.window]
            allowed = len(recent) < self.policy.max_restarts
        if not allowed:
            return Escalate("too many restarts")
        delay = restart_delay(self.policy.strategy, len(self.restart_times), self.v)
        if delay is None:
            return Escalate("the strategy gives up")
        self.restart_times.append(now)
        return Restart(delay)

    def fires(self, decision: Restart) -> bool:
        """Whether a scheduled restart actually happens (the node's TODO: only immediate ones)."""
        return decision.delay == 0 or not self.v.on("actors-delayed-restarts-never-fire")
