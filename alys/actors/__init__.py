"""The V2 actor runtime, as the V2 design describes it (the V2 branch only scaffolds it)."""

from alys.actors.mailbox import Backpressure, Envelope, Mailbox, MailboxFull, Priority
from alys.actors.scheduler import AsyncioScheduler, DeterministicScheduler, TaskScheduler
from alys.actors.supervision import (
    Delayed,
    ExponentialBackoff,
    Immediate,
    Never,
    Progressive,
    SupervisionPolicy,
    restart_delay,
)
from alys.actors.system import ActorSystem, Behaviour, Context, Lifecycle, Reply
from alys.variant import Variant


class ActorsPort:
    """The `actors` component of target `alys`: builds mailboxes and systems carrying the variant."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant

    def mailbox(self, capacity: int, policy: str) -> Mailbox:
        return Mailbox(capacity, policy, self.v)  # type: ignore[arg-type]

    def scheduler(self) -> TaskScheduler:
        """A deterministic scheduler carrying the variant (its seeded mutants), taking tasks as data."""
        return TaskScheduler(self.v)

    def asyncio_scheduler(self, loop: object) -> AsyncioScheduler:
        """The production scheduler on `loop` (an asyncio event loop the caller owns)."""
        return AsyncioScheduler(loop)  # type: ignore[arg-type]

    def system(self, scheduler: object) -> ActorSystem:
        return ActorSystem(scheduler, self.v)  # type: ignore[arg-type]

    def restart_delay(self, strategy: object, attempt: int) -> float | None:
        return restart_delay(strategy, attempt, self.v)  # type: ignore[arg-type]


__all__ = [
    "ActorSystem",
    "ActorsPort",
    "AsyncioScheduler",
    "Backpressure",
    "Behaviour",
    "Context",
    "Delayed",
    "DeterministicScheduler",
    "Envelope",
    "ExponentialBackoff",
    "Immediate",
    "Lifecycle",
    "Mailbox",
    "MailboxFull",
    "Never",
    "Priority",
    "Progressive",
    "Reply",
    "SupervisionPolicy",
    "TaskScheduler",
    "restart_delay",
]
