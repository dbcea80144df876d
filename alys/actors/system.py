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

Issue 16 adds what the V2 design has and the port lacked (crates/actor_system: MailboxConfig's
processing_timeout, SupervisionPolicy's EscalateToParent, supervision trees):
* slow and stalled handlers: a handler says how long its message takes (`ctx.takes(seconds)`, in
  simulated time); the actor handles nothing else until then, and a handler that would take longer
  than the actor's processing timeout (30 s by default) is stalled: at the timeout its message fails
  (HandlerTimeout, the ask answered with it) and the actor fails, as for a panic;
* supervision trees of any depth: an actor that fails takes its descendants down with it (they
  wait, mailboxes kept); its restart brings them back; an escalation fails the parent, whose own
  supervisor decides, up to the root (`escalated`); escalation "stop" stops the actor and its
  subtree instead; an actor that escalated stays down;
* overflow along a route: a forward the next hop refuses (full, over its memory limit, unknown) is
  a dead letter naming the hop, never silent;
* nothing left pending: an answered ask cancels its timeout timer; shutdown cancels every timer of
  an actor and answers every ask still queued (ActorStopped).
Seeded mutants: `actors-stalled-handler-hangs`, `actors-handler-timeout-inclusive`,
`actors-slow-handler-overlaps`, `actors-escalation-not-propagated`, `actors-cascade-one-level`,
`actors-route-overflow-silent`, `actors-ask-timer-left-pending`.
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


class HandlerTimeout(TimeoutError):
    """A handler took longer than its actor's processing timeout (a stalled handler)."""


class ActorStopped(RuntimeError):
    """The actor stopped (shutdown, or taken down with its parent) before handling the message."""


class Escalated(RuntimeError):
    """A child's failure handed to its parent (EscalateToParent)."""


class Behaviour:
    """What an actor does with a message; override `handle`. Raising is a panic."""

    def started(self, ctx: Context) -> None:
        pass

    def handle(self, message: Any, ctx: Context) -> Any:
        return None


@define
class Received:
    """One entry of an actor's log: the hook that ran, for whom, on what, in which lifecycle state,
    when, and how many of its messages were in flight then."""

    hook: str
    sender: str
    message: Any
    state: str
    at: float
    in_flight: int


class Scripted(Behaviour):
    """A behaviour given as data (a role, read by attribute: reply, panics_on, takes_item,
    answers_sender), so that a caller in another process can say what its actors do."""

    def __init__(self, role: Any) -> None:
        self.role = role

    def _log(self, hook: str, message: Any, ctx: Context) -> ActorCell:
        cell = ctx.system.lookup(ctx.name)
        now = ctx.system.scheduler.now()
        cell.received.append(Received(hook, ctx.sender, message, cell.state.name, now, len(cell.in_flight)))
        return cell

    def started(self, ctx: Context) -> None:
        self._log("started", None, ctx)

    def handle(self, message: Any, ctx: Context) -> Any:
        cell = self._log("handle", message, ctx)
        role = self.role
        if any(message == p for p in role.panics_on):
            raise RuntimeError("panic")
        for on, answer in role.answers_sender:
            if message == on and ctx.sender in ctx.system.cells:
                ctx.system.tell(ctx.sender, answer, sender=ctx.name)
        if role.takes_item is not None and isinstance(message, (list, tuple)):
            ctx.takes(float(message[role.takes_item]))
        if role.reply == "echo":
            return message
        if role.reply == "count":
            return sum(1 for r in cell.received if r.hook == "handle")
        return None


def _factory(behaviour: Any) -> Callable[[], Behaviour]:
    """A behaviour class or factory as it is, a role (data) as a Scripted behaviour."""
    if hasattr(behaviour, "panics_on") and hasattr(behaviour, "reply"):
        return lambda: Scripted(behaviour)
    return behaviour


@define
class Context:
    system: ActorSystem
    name: str
    sender: str
    duration: float = 0.0  # simulated seconds the message takes to handle (ctx.takes)

    def takes(self, seconds: float) -> None:
        """Handling this message takes `seconds` of simulated time: the actor handles nothing else
        until then, and past its processing timeout the handler is stalled."""
        self.duration = max(self.duration, float(seconds))


@define
class Reply:
    """The answer to an ask: a value, an error, or a timeout."""

    done: bool = False
    value: Any = None
    error: BaseException | None = None
    timer: Any = field(default=None, repr=False, eq=False)  # the timeout's handle, cancelled on answer
    variant: Variant = field(factory=Variant, repr=False, eq=False)

    def resolve(self, value: Any = None, error: BaseException | None = None) -> None:
        if not self.done:
            self.done, self.value, self.error = True, value, error
            if self.timer is not None and not self.variant.on("actors-ask-timer-left-pending"):
                _cancel(self.timer)
                self.timer = None


@define
class DeadLetter:
    """A message the runtime could not pass on: to whom, what, why (the verdict), and from which hop."""

    to: str
    payload: Any
    verdict: str
    by: str


def _cancel(handle: Any) -> None:
    cancel = getattr(handle, "cancel", None)
    if cancel is not None:
        cancel()


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
    processing_timeout: float = 30.0  # MailboxConfig::default processing_timeout
    in_flight: list[Envelope] = field(factory=list)  # taken by a slow handler, not yet finished
    timers: dict[int, Any] = field(factory=dict)  # pending timers of this actor (restart, handler)
    suspended_by: str | None = None  # the ancestor whose failure took this actor down
    cascades: int = 0  # times started again with an ancestor's restart
    unhandled: list[Envelope] = field(factory=list)  # still queued when the actor stopped
    received: list[Received] = field(factory=list)  # a scripted actor's log (its role's record)


class ActorSystem:
    def __init__(self, scheduler: Scheduler, variant: Variant | None = None) -> None:
        self.scheduler = scheduler
        self.v = variant or Variant()
        self.cells: dict[str, ActorCell] = {}
        self.stop_order: list[str] = []
        self._seq: dict[tuple[str, str], int] = {}
        self.dead_letters: list[DeadLetter] = []
        self.escalated: list[str] = []  # failures escalated past the top of a tree
        self._timer_ids = 0

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
        max_bytes: int | None = None,
        processing_timeout: float = 30.0,
    ) -> str:
        cell = ActorCell(
            name,
            _factory(factory),
            Mailbox(capacity, policy, self.v, max_bytes=max_bytes),
            Supervisor(supervision or SupervisionPolicy(), self.v),
            parent,
            tuple(depends_on),
            processing_timeout=processing_timeout,
        )
        if name in self.cells:
            if self.v.on("actors-spawn-replaces-taken-name"):  # pragma: no mutate block
                self.cells[name] = cell  # registered before the check: the refusal comes half-applied
            raise ValueError(f"actor {name!r} already exists")
        self.cells[name] = cell
        self._start(cell)
        return name

    def lookup(self, name: str) -> ActorCell:
        try:
            return self.cells[name]
        except KeyError:
            raise ActorNotFound(name) from None

    def received(self, name: str) -> list[Received]:
        """What a scripted actor was started with and handled (its role's log)."""
        return list(self.lookup(name).received)

    def _start(self, cell: ActorCell) -> None:
        cell.state = Lifecycle.STARTING
        if self.v.on("actors-started-sees-running"):  # pragma: no mutate block
            cell.state = Lifecycle.RUNNING  # marked running before its started() hook has run
        cell.behaviour = cell.factory()
        cell.behaviour.started(Context(self, cell.name, cell.name))
        cell.state = Lifecycle.RUNNING
        cell.history.append((self.scheduler.now(), "running"))
        self._schedule(cell)

    # --- messaging ---------------------------------------------------------------------------------
    def tell(
        self,
        to: str,
        payload: Any,
        *,
        sender: str = "outside",
        priority: Priority = Priority.NORMAL,
        size: int = 0,
    ) -> str:
        """Offer a message (of `size` bytes); the verdict is "accepted", "blocked", "dropped" or
        "rejected"."""
        cell = self.lookup(to)
        key = (sender, to)
        self._seq[key] = self._seq.get(key, 0) + 1
        envelope = Envelope(sender, self._seq[key], Priority(priority), payload, size=size)
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
        size: int = 0,
    ) -> Reply:
        reply = Reply(variant=self.v)
        verdict = self.tell(to, _Ask(payload, reply), sender=sender, priority=priority, size=size)
        if verdict in ("rejected", "dropped") and not self.v.on("actors-ask-refusal-unanswered"):
            reply.resolve(error=MailboxFull(verdict))
        if not reply.done:  # an answered ask needs no timer
            reply.timer = self.scheduler.call_later(
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

    def route(self, chain: Sequence[str], payload: Any, *, sender: str = "outside", size: int = 0) -> str:
        """Send along `chain`: each hop handles the message, then the runtime forwards it; a forward
        the next hop refuses is a dead letter (`dead_letters`)."""
        return self.tell(chain[0], Routed(payload, tuple(chain[1:])), sender=sender, size=size)

    # --- timers --------------------------------------------------------------------------------------
    def _later(self, cell: ActorCell, delay: float, task: Callable[[], None]) -> None:
        """A timer of `cell`'s, kept until it fires so that it can be cancelled."""
        self._timer_ids += 1
        key = self._timer_ids

        def fire() -> None:
            cell.timers.pop(key, None)
            task()

        cell.timers[key] = self.scheduler.call_later(delay, fire)

    def _cancel_timers(self, cell: ActorCell) -> None:
        for handle in cell.timers.values():
            _cancel(handle)
        cell.timers.clear()

    # --- processing --------------------------------------------------------------------------------
    def _free(self, cell: ActorCell) -> bool:
        """Whether the actor may take its next message: one at a time, a slow one included."""
        return not cell.in_flight or self.v.on("actors-slow-handler-overlaps")

    def _schedule(self, cell: ActorCell) -> None:
        if self.v.on("actors-failed-actor-scheduled"):  # pragma: no mutate block
            if not cell.scheduled and len(cell.mailbox) and self._free(cell):  # any state: a wasted task
                cell.scheduled = True
                self.scheduler.call_soon(lambda: self._process_one(cell))
            return
        if cell.state is Lifecycle.RUNNING and not cell.scheduled and len(cell.mailbox) and self._free(cell):
            cell.scheduled = True
            self.scheduler.call_soon(lambda: self._process_one(cell))

    def _process_one(self, cell: ActorCell) -> None:
        cell.scheduled = False
        if cell.state is not Lifecycle.RUNNING or not self._free(cell):
            return
        envelope = cell.mailbox.pop()
        if envelope is None:
            return
        message = envelope.payload
        inner = message.payload if isinstance(message, (_Ask, Routed)) else message
        ctx = Context(self, cell.name, envelope.sender)
        try:
            assert cell.behaviour is not None
            result = cell.behaviour.handle(inner, ctx)
        except Exception as err:  # noqa: BLE001 - a panic in a handler
            cell.failed.append(envelope)
            if isinstance(message, _Ask):
                message.reply.resolve(error=err)
            self._fail(cell, err)
            return
        if ctx.duration > 0:
            self._handle_slowly(cell, envelope, result, ctx.duration)
            return
        self._complete(cell, envelope, result)

    def _handle_slowly(self, cell: ActorCell, envelope: Envelope, result: Any, duration: float) -> None:
        """A message whose handler takes `duration`: it finishes then, or, past the processing
        timeout, fails at the timeout (a stalled handler) and the actor with it."""
        timeout = cell.processing_timeout
        stalled = (
            duration >= timeout  # pragma: no mutate
            if self.v.on("actors-handler-timeout-inclusive")
            else duration > timeout
        )
        cell.in_flight.append(envelope)
        if self.v.on("actors-slow-handler-overlaps"):
            self._schedule(cell)
        if stalled and self.v.on("actors-stalled-handler-hangs"):
            return  # nothing ever ends it

        def finish() -> None:
            if envelope not in cell.in_flight:
                return  # interrupted: the actor failed or stopped meanwhile
            cell.in_flight.remove(envelope)
            if stalled:
                err = HandlerTimeout(f"{cell.name}'s handler took longer than {timeout}s")
                cell.failed.append(envelope)
                if isinstance(envelope.payload, _Ask):
                    envelope.payload.reply.resolve(error=err)
                self._fail(cell, err)
                return
            self._complete(cell, envelope, result)

        self._later(cell, timeout if stalled else duration, finish)

    def _complete(self, cell: ActorCell, envelope: Envelope, result: Any) -> None:
        message = envelope.payload
        cell.processed.append(envelope)
        if isinstance(message, _Ask):
            message.reply.resolve(value=result)
        if isinstance(message, Routed) and message.remaining:
            self._forward(cell, message, envelope.size)
        self._schedule(cell)

    def _forward(self, cell: ActorCell, message: Routed, size: int) -> None:
        hop = message.remaining[0]
        try:
            verdict = self.route(message.remaining, message.payload, sender=cell.name, size=size)
        except ActorNotFound:
            verdict = "not found"
        if verdict in ("rejected", "dropped", "not found") and not self.v.on("actors-route-overflow-silent"):
            self.dead_letters.append(DeadLetter(hop, message.payload, verdict, cell.name))

    # --- supervision -------------------------------------------------------------------------------
    def fail(self, name: str, reason: str = "injected panic") -> None:
        """Make a running actor panic outside any message (fault injection)."""
        cell = self.lookup(name)
        if cell.state is Lifecycle.RUNNING:
            self._fail(cell, RuntimeError(reason))

    def _descendants(self, cell: ActorCell) -> list[ActorCell]:
        """The actors under `cell`, top-down (breadth first, each level in spawn order)."""
        out, level = [], [cell.name]
        while level:
            level = [c.name for c in self.cells.values() if c.parent in level]
            out += [self.cells[n] for n in level]
            if self.v.on("actors-cascade-one-level"):
                break  # only the children go down
        return out

    def _take_down(self, cell: ActorCell, err: BaseException) -> None:
        """What an actor was doing ends: a message in flight fails (its ask answered), timers cancelled."""
        for envelope in cell.in_flight:
            cell.failed.append(envelope)
            if isinstance(envelope.payload, _Ask):
                envelope.payload.reply.resolve(error=err)
        cell.in_flight.clear()
        self._cancel_timers(cell)

    def _fail(self, cell: ActorCell, err: BaseException) -> None:
        now = self.scheduler.now()
        self._take_down(cell, err)
        cell.state = Lifecycle.FAILED
        cell.history.append((now, "failed"))
        for below in self._descendants(cell):  # down with it until it restarts
            if below.state in (Lifecycle.RUNNING, Lifecycle.RECOVERING):
                self._take_down(below, ActorStopped(f"{below.name} went down with {cell.name}"))
                below.state, below.suspended_by = Lifecycle.RECOVERING, cell.name
                below.history.append((now, f"down with {cell.name}"))
        decision = cell.supervisor.on_failure(now)
        if isinstance(decision, Escalate):
            if not self.v.on("actors-escalation-unrecorded"):  # pragma: no mutate block
                cell.history.append((now, f"escalated: {decision.reason}"))
            self._stop_subtree(cell, now)
            if cell.supervisor.policy.escalation == "stop":
                cell.state = Lifecycle.STOPPED
                return
            parent = self.cells.get(cell.parent) if cell.parent is not None else None
            if parent is None:
                self.escalated.append(cell.name)
                return
            parent.escalations.append(cell.name)
            if parent.state is Lifecycle.RUNNING and not self.v.on("actors-escalation-not-propagated"):
                self._fail(parent, Escalated(f"{cell.name} escalated: {decision.reason}"))
            return
        assert isinstance(decision, Restart)
        cell.state = Lifecycle.RECOVERING
        cell.history.append((now, f"restart in {decision.delay}"))
        if cell.supervisor.fires(decision):
            self._later(cell, decision.delay, lambda: self._restart(cell))

    def _stop_subtree(self, cell: ActorCell, now: float) -> None:
        """An actor that escalated stays down, and so does everything under it."""
        for below in self._descendants(cell):
            if below.state not in (Lifecycle.FAILED, Lifecycle.STOPPED):
                self._take_down(below, ActorStopped(f"{below.name} stopped with {cell.name}"))
                below.state, below.suspended_by = Lifecycle.STOPPED, None
                below.history.append((now, f"stopped with {cell.name}"))

    def _restart(self, cell: ActorCell) -> None:
        if cell.state is not Lifecycle.RECOVERING or cell.suspended_by is not None:
            return  # started already, or down with an ancestor: it comes back with that one
        cell.restarts += 1
        if self.v.on("actors-restart-loses-mailbox"):
            cell.mailbox.drain()
        self._start(cell)
        for below in self._descendants(cell):  # top-down: a parent runs before its children
            if below.suspended_by == cell.name and below.state is Lifecycle.RECOVERING:
                below.suspended_by = None
                below.cascades += 1
                self._start(below)

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
                self._quiet(cell)
                cell.state = Lifecycle.STOPPED
                self.stop_order.append(name)
                remaining.discard(name)
        if self.v.on("actors-shutdown-forward-order"):
            self.stop_order.reverse()  # dependencies first
        return self.stop_order

    def _quiet(self, cell: ActorCell) -> None:
        """A stopping actor leaves nothing pending: its timers are cancelled, its message in flight
        and every message still queued are answered (an ask with ActorStopped) and kept as unhandled."""
        stopped = ActorStopped(f"{cell.name} stopped")
        self._take_down(cell, stopped)
        while (envelope := cell.mailbox.pop()) is not None:
            cell.unhandled.append(envelope)
            if isinstance(envelope.payload, _Ask):
                envelope.payload.reply.resolve(error=stopped)


@define
class _Ask:
    payload: Any
    reply: Reply
