"""The V2 actor runtime (crates/actor_system, app/src/actors): actors with bounded priority
mailboxes, lifecycle, supervision with restart strategies and escalation, tell / ask / broadcast /
routed messages, a registry, and shutdown in reverse dependency order.

Each actor processes one message per scheduled task, so with the deterministic scheduler the
interleaving of actors is whatever the caller (Hypothesis) chooses. A handler that raises is a
panic: the message is recorded as failed, the actor fails, and its supervisor decides. Messages
waiting in the mailbox survive a restart (mutant `actors-restart-loses-mailbox` clears them).
Seeded mutants `actors-broadcast-drops-priority` (broadcast sends at Normal),
`actors-ask-refusal-unanswered` (an ask the mailbox refuses is left to time out) and
`actors-shutdown-cycle-left-running` (actors on a dependency cycle are never stopped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from attrs import define, field

from alys.actors.mailbox import Envelope, Mailbox, MailboxFull, Policy, Priority
from alys.actors.scheduler import Scheduler
from alys.actors.supervision import Escalate, Restart, SupervisionPolicy, Supervisor
from alys.variant import Variant


class Lifecycle(Enum):
    UNINITIALIZED = "Uninitialized"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    RECOVERING = "Recovering"


class ActorNotFound(LookupError):
    pass


class AskTimeout(TimeoutError):
    pass


class Behaviour:
    """What an actor does with a message; override `handle`. Raising is a panic."""

    def started(self, ctx: Context) -> None:
        pass

    def handle(self, message: Any, ctx: Context) -> Any:
        return None


@define
class Context:
    system: ActorSystem
    name: str
    sender: str


@define
class Reply:
    """The answer to an ask: a value, an error, or a timeout."""

    done: bool = False
    value: Any = None
    error: BaseException | None = None

    def resolve(self, value: Any = None, error: BaseException | None = None) -> None:
        if not self.done:
            self.done, self.value, self.error = True, value, error


@define
class Routed:
    payload: Any
    remaining: tuple[str, ...]


@define
class ActorCell:
    name: str
    factory: Callable[[], Behaviour]
    mailbox: Mailbox
    supervisor: Supervisor
    parent: str | None
    depends_on: tuple[str, ...]
    state: Lifecycle = Lifecycle.UNINITIALIZED
    behaviour: Behaviour | None = None
    scheduled: bool = False
    restarts: int = 0
    processed: list[Envelope] = field(factory=list)
    failed: list[Envelope] = field(factory=list)
    escalations: list[str] = field(factory=list)
    history: list[tuple[float, str]] = field(factory=list)  # (time, event)


class ActorSystem:
    def __init__(self, scheduler: Scheduler, variant: Variant | None = None) -> None:
        self.scheduler = scheduler
        self.v = variant or Variant()
        self.cells: dict[str, ActorCell] = {}
        self.stop_order: list[str] = []
        self._seq: dict[tuple[str, str], int] = {}

    # --- registry and lifecycle ------------------------------------------------------------------
    def spawn(
        self,
        name: str,
        factory: Callable[[], Behaviour],
        *,
        capacity: int = 1000,
        policy: Policy = "reject",
        supervision: SupervisionPolicy | None = None,
        parent: str | None = None,
        depends_on: Sequence[str] = (),
    ) -> str:
        if name in self.cells:
            raise ValueError(f"actor {name!r} already exists")
        cell = ActorCell(
            name,
            factory,
            Mailbox(capacity, policy, self.v),
            Supervisor(supervision or SupervisionPolicy(), self.v),
            parent,
            tuple(depends_on),
        )
        self.cells[name] = cell
        self._start(cell)
        return name

    def lookup(self, name: str) -> ActorCell:
        try:
            return self.cells[name]
        except KeyError:
            raise ActorNotFound(name) from None

    def _start(self, cell: ActorCell) -> None:
        cell.state = Lifecycle.STARTING
        cell.behaviour = cell.factory()
        cell.behaviour.started(Context(self, cell.name, cell.name))
        cell.state = Lifecycle.RUNNING
        cell.history.append((self.scheduler.now(), "running"))
        self._schedule(cell)

    # --- messaging ---------------------------------------------------------------------------------
    def tell(
        self, to: str, payload: Any, *, sender: str = "outside", priority: Priority = Priority.NORMAL
    ) -> str:
        """Offer a message; the verdict is "accepted", "blocked", "dropped" or "rejected"."""
        cell = self.lookup(to)
        key = (sender, to)
        self._seq[key] = self._seq.get(key, 0) + 1
        envelope = Envelope(sender, self._seq[key], Priority(priority), payload)
        try:
            verdict = cell.mailbox.send(envelope)
        except MailboxFull:
            return "rejected"
        self._schedule(cell)
        return verdict

    def ask(
        self,
        to: str,
        payload: Any,
        *,
        timeout: float,
        sender: str = "outside",
        priority: Priority = Priority.NORMAL,
    ) -> Reply:
        reply = Reply()
        verdict = self.tell(to, _Ask(payload, reply), sender=sender, priority=priority)
        if verdict in ("rejected", "dropped") and not self.v.on("actors-ask-refusal-unanswered"):
            reply.resolve(error=MailboxFull(verdict))
        self.scheduler.call_later(
            timeout, lambda: reply.resolve(error=AskTimeout(f"{to} did not answer in {timeout}s"))
        )
        return reply

    def broadcast(
        self, payload: Any, *, sender: str = "outside", priority: Priority = Priority.NORMAL
    ) -> dict[str, str]:
        if self.v.on("actors-broadcast-drops-priority"):
            priority = Priority.NORMAL
        return {
            name: self.tell(name, payload, sender=sender, priority=priority)
            for name in sorted(self.cells)
            if name != sender
        }

    def route(self, chain: Sequence[str], payload: Any, *, sender: str = "outside") -> str:
        """Send along `chain`: each hop handles the message, then the runtime forwards it."""
        return self.tell(chain[0], Routed(payload, tuple(chain[1:])), sender=sender)

    # --- processing --------------------------------------------------------------------------------
    def _schedule(self, cell: ActorCell) -> None:
        if cell.state is Lifecycle.RUNNING and not cell.scheduled and len(cell.mailbox):
            cell.scheduled = True
            self.scheduler.call_soon(lambda: self._process_one(cell))

    def _process_one(self, cell: ActorCell) -> None:
        cell.scheduled = False
        if cell.state is not Lifecycle.RUNNING:
            return
        envelope = cell.mailbox.pop()
        if envelope is None:
            return
        message = envelope.payload
        inner = message.payload if isinstance(message, (_Ask, Routed)) else message
        try:
            assert cell.behaviour is not None
            result = cell.behaviour.handle(inner, Context(self, cell.name, envelope.sender))
        except Exception as err:  # noqa: BLE001 - a panic in a handler
            cell.failed.append(envelope)
            if isinstance(message, _Ask):
                message.reply.resolve(error=err)
            self._fail(cell, err)
            return
        cell.processed.append(envelope)
        if isinstance(message, _Ask):
            message.reply.resolve(value=result)
        if isinstance(message, Routed) and message.remaining:
            self.route(message.remaining, message.payload, sender=cell.name)
        self._schedule(cell)

    # --- supervision -------------------------------------------------------------------------------
    def fail(self, name: str, reason: str = "injected panic") -> None:
        """Make a running actor panic outside any message (fault injection)."""
        cell = self.lookup(name)
        if cell.state is Lifecycle.RUNNING:
            self._fail(cell, RuntimeError(reason))

    def _fail(self, cell: ActorCell, err: BaseException) -> None:
        now = self.scheduler.now()
        cell.state = Lifecycle.FAILED
        cell.history.append((now, "failed"))
        decision = cell.supervisor.on_failure(now)
        if isinstance(decision, Escalate):
            cell.history.append((now, f"escalated: {decision.reason}"))
            if cell.parent is not None and cell.parent in self.cells:
                self.cells[cell.parent].escalations.append(cell.name)
            return
        assert isinstance(decision, Restart)
        cell.state = Lifecycle.RECOVERING
        cell.history.append((now, f"restart in {decision.delay}"))
        if cell.supervisor.fires(decision):
            self.scheduler.call_later(decision.delay, lambda: self._restart(cell))

    def _restart(self, cell: ActorCell) -> None:
        if cell.state is not Lifecycle.RECOVERING:
            return
        cell.restarts += 1
        if self.v.on("actors-restart-loses-mailbox"):
            cell.mailbox.drain()
        self._start(cell)

    # --- shutdown ----------------------------------------------------------------------------------
    def shutdown(self) -> list[str]:
        """Stop every actor, dependents before what they depend on; returns the stop order."""
        remaining = set(self.cells)
        while remaining:
            # An actor can stop once nothing still running depends on it.
            ready = sorted(
                n for n in remaining if not any(n in self.cells[m].depends_on for m in remaining if m != n)
            )
            if not ready:  # a dependency cycle: stop the rest in name order
                if self.v.on("actors-shutdown-cycle-left-running"):
                    break
                ready = sorted(remaining)
            for name in ready[:1]:
                cell = self.cells[name]
                cell.state = Lifecycle.STOPPING
                cell.state = Lifecycle.STOPPED
                self.stop_order.append(name)
                remaining.discard(name)
        if self.v.on("actors-shutdown-forward-order"):
            self.stop_order.reverse()  # dependencies first
        return self.stop_order


@define
class _Ask:
    payload: Any
    reply: Reply
