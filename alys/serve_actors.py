"""The `actors` component over the target protocol (docs/protocol.md, "actors"): mailboxes, actor
systems and the runtime's own scheduler as handles; behaviours as roles (data); messages as JSON.

An actor system here runs on a relay scheduler: every task the runtime schedules is recorded, not
run; the client takes the record (`system.scheduled`), puts each task on the suite's own scheduler,
and sends `system.run_task` when that scheduler runs it. So the suite still chooses every
interleaving, and a schedule shrinks and replays over the protocol as in-process. The server's clock
is the suite's (`system.set_time`). Like alys.serve, this imports nothing of the suite.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import attrs

from alys.actors.mailbox import Envelope, Priority
from alys.actors.supervision import (
    Delayed,
    Escalation,
    ExponentialBackoff,
    Immediate,
    Never,
    Progressive,
    SupervisionPolicy,
)
from alys.serve_params import BadParams


class UnknownTask(LookupError):
    """run_task named a task that is not pending (never scheduled, already run, or cancelled)."""


class RelayTimer:
    """A call_later of the relay: cancelling it records the id for the client."""

    def __init__(self, relay: RelayScheduler, task: int) -> None:
        self.relay, self.task = relay, task

    def cancel(self) -> None:
        self.relay.cancel(self.task)


class RelayScheduler:
    """Records what the runtime schedules (`[id, delay or None]`) and runs a task when told."""

    def __init__(self, cancellable: bool) -> None:
        self.time = 0.0
        self.cancellable = cancellable  # whether the suite's timers can be cancelled (else None handles)
        self.pending: dict[int, Callable[[], object]] = {}
        self.tasks: list[list[Any]] = []
        self.cancelled: list[int] = []
        self._ids = 0

    def now(self) -> float:
        return self.time

    def _record(self, task: Callable[[], object], delay: float | None) -> int:
        self._ids += 1
        self.pending[self._ids] = task
        self.tasks.append([self._ids, delay])
        return self._ids

    def call_soon(self, task: Callable[[], object]) -> None:
        self._record(task, None)

    def call_later(self, delay: float, task: Callable[[], object]) -> RelayTimer | None:
        ident = self._record(task, float(delay))
        return RelayTimer(self, ident) if self.cancellable else None

    def cancel(self, task: int) -> None:
        if self.pending.pop(task, None) is not None:
            self.cancelled.append(task)

    def scheduled(self) -> dict[str, list[Any]]:
        """What was scheduled and cancelled since the last call (and forget it)."""
        out: dict[str, list[Any]] = {"tasks": self.tasks, "cancelled": self.cancelled}
        self.tasks, self.cancelled = [], []
        return out

    def run(self, task: int) -> None:
        run = self.pending.pop(task, None) if isinstance(task, int) else None
        if run is None:
            raise UnknownTask(f"task {task!r} is not pending")
        run()


class Remote(NamedTuple):
    """A system and the relay it runs on."""

    system: Any
    relay: RelayScheduler


class Role(NamedTuple):
    reply: str
    panics_on: tuple[Any, ...]
    takes_item: int | None
    answers_sender: tuple[tuple[Any, Any], ...]


class TaskData(NamedTuple):
    id: int
    then: tuple[str, float, int] | None
    repeat: int


# --- JSON forms --------------------------------------------------------------------------------------


def jsonable(v: Any) -> Any:
    """A value the runtime holds, as JSON: attrs records as objects naming their type, tuples as
    arrays, bytes as hex, enums by name."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if attrs.has(type(v)):
        return {
            "type": type(v).__name__,
            **{f.name: jsonable(getattr(v, f.name)) for f in attrs.fields(type(v))},
        }
    return repr(v)


def _bad(why: str) -> Exception:
    return BadParams(why)


def _num(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _bad(f"expected a number, got {v!r:.40}")
    return float(v)


def _obj(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _bad(f"{what} is an object")
    return v


def _role(v: Any) -> Role:
    d = _obj(v, "a role")
    unknown = set(d) - {"reply", "panics_on", "takes_item", "answers_sender"}
    if unknown:
        raise _bad(f"a role has no {sorted(unknown)}")
    reply = d.get("reply", "none")
    if reply not in ("none", "echo", "count"):
        raise _bad(f"a role's reply is none, echo or count, not {reply!r:.40}")
    takes = d.get("takes_item")
    if takes is not None and (not isinstance(takes, int) or isinstance(takes, bool)):
        raise _bad("a role's takes_item is an integer or null")
    pairs = d.get("answers_sender", [])
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise _bad("a role's answers_sender is an array of [message, answer] pairs")
    panics = d.get("panics_on", [])
    if not isinstance(panics, list):
        raise _bad("a role's panics_on is an array")
    return Role(reply, tuple(panics), takes, tuple((a, b) for a, b in pairs))


STRATEGIES: dict[str, tuple[type, tuple[str, ...]]] = {
    "Never": (Never, ()),
    "Immediate": (Immediate, ()),
    "Delayed": (Delayed, ("delay",)),
    "ExponentialBackoff": (ExponentialBackoff, ("initial", "maximum", "multiplier")),
    "Progressive": (Progressive, ("initial", "max_attempts", "multiplier")),
}


def _strategy(v: Any) -> Any:
    d = _obj(v, "a restart strategy")
    kind = d.get("kind")
    if kind not in STRATEGIES:
        raise _bad(f"an unknown restart strategy {kind!r:.40}")
    cls, names = STRATEGIES[kind]
    if set(d) != {"kind", *names}:
        raise _bad(f"{kind} has exactly {', '.join(('kind', *names))}")
    return cls(*(_integer(d[n], f"{kind}'s {n}") if n == "max_attempts" else _num(d[n]) for n in names))


def _policy(v: Any) -> SupervisionPolicy | None:
    if v is None:
        return None
    d = _obj(v, "a supervision policy")
    if set(d) != {"strategy", "max_restarts", "window", "escalation"}:
        raise _bad("a supervision policy has exactly strategy, max_restarts, window, escalation")
    return SupervisionPolicy(
        _strategy(d["strategy"]),
        _integer(d["max_restarts"], "a policy's max_restarts"),
        _num(d["window"]),
        _escalation(d["escalation"]),
    )


def _escalation(v: Any) -> Escalation:
    # A literal per branch: mypy narrows a str to the Literal only by comparison.
    if v == "escalate":
        return "escalate"
    if v == "stop":
        return "stop"
    raise _bad(f"a policy's escalation is escalate or stop, not {v!r:.40}")


def _string(v: Any) -> str:
    if not isinstance(v, str):
        raise _bad(f"expected a string, got {v!r:.40}")
    return v


def _integer(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _bad(f"{what} is an integer, not {v!r:.40}")
    return v


def _integer_or_null(v: Any) -> int | None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise _bad(f"expected an integer or null, got {v!r:.40}")
    return v


def _fields(d: dict[str, Any], what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """Exactly the named keys: a missing or unknown one is the client's mistake, named."""
    missing = [k for k in required if k not in d]
    unknown = sorted(set(d) - {*required, *optional})
    if missing or unknown:
        raise _bad(
            f"{what} has {', '.join(required) or 'no required key'}"
            + (f" (and maybe {', '.join(optional)})" if optional else "")
            + f": missing {missing}, unknown {unknown}"
        )


def _scheduler(v: Any) -> bool:
    d = _obj(v, "a scheduler")
    _fields(d, "a scheduler", (), ("cancellable",))
    cancellable = d.get("cancellable", False)
    if not isinstance(cancellable, bool):
        raise _bad(f"a scheduler's cancellable is true or false, not {cancellable!r:.40}")
    return cancellable


def _task(v: Any) -> TaskData:
    d = _obj(v, "a task")
    _fields(d, "a task", ("id",), ("then", "repeat"))
    then = d.get("then")
    if then is not None and not (isinstance(then, list) and len(then) == 3 and then[0] in ("soon", "later")):
        raise _bad('a task\'s then is ["soon" or "later", delay, follow-up id] or null')
    return TaskData(
        _integer(d["id"], "a task's id"),
        None if then is None else (then[0], _num(then[1]), _integer(then[2], "a follow-up's id")),
        _integer(d.get("repeat", 0), "a task's repeat"),
    )


def _envelope_in(v: Any) -> Envelope:
    d = _obj(v, "an envelope")
    _fields(d, "an envelope", ("sender", "seq", "priority"), ("payload", "queued_at", "size"))
    priority = _integer(d["priority"], "an envelope's priority")
    if priority not in {p.value for p in Priority}:
        raise _bad(f"an envelope's priority is one of {sorted(p.value for p in Priority)}, not {priority}")
    return Envelope(
        _string(d["sender"]),
        _integer(d["seq"], "an envelope's seq"),
        Priority(priority),
        d.get("payload"),
        size=_integer(d.get("size", 0), "an envelope's size"),
    )


def _message(payload: Any) -> Any:
    """What the suite sent: an ask's or a route's wrapper opened."""
    while attrs.has(type(payload)) and type(payload).__name__ in ("_Ask", "Routed"):
        payload = payload.payload
    return payload


def envelope(e: Any) -> dict[str, Any]:
    return {
        "sender": e.sender,
        "seq": int(e.seq),
        "priority": int(e.priority),
        "payload": jsonable(_message(e.payload)),
        "queued_at": int(e.queued_at),
        "size": int(e.size),
    }


def actor(cell: Any) -> dict[str, Any]:
    m = cell.mailbox
    return {
        "name": cell.name,
        "state": cell.state.name,
        "restarts": cell.restarts,
        "cascades": cell.cascades,
        "escalations": list(cell.escalations),
        "history": [[float(t), event] for t, event in cell.history],
        "processed": [envelope(e) for e in cell.processed],
        "failed": [envelope(e) for e in cell.failed],
        "in_flight": [envelope(e) for e in cell.in_flight],
        "unhandled": [envelope(e) for e in cell.unhandled],
        "scheduled": bool(cell.scheduled),
        "depends_on": list(cell.depends_on),
        "mailbox": {
            "size": len(m),
            "capacity": m.capacity,
            "held_bytes": m.held_bytes,
            "queued": [envelope(e) for e in m.queued],
            "waiting": [envelope(e) for e in m.waiting],
        },
    }


def error(err: BaseException | None) -> dict[str, Any] | None:
    if err is None:
        return None
    bases = [
        c.__name__
        for c in type(err).__mro__[1:]
        if c.__name__ not in ("object", "BaseException", "Exception")
    ]
    return {"name": type(err).__name__, "bases": bases, "message": str(err)}


READ: dict[str, Callable[[Any], Any]] = {
    "json": lambda v: v,
    "float": _num,
    "float?": lambda v: None if v is None else _num(v),
    "int?": _integer_or_null,
    "str?": lambda v: None if v is None else _string(v),
    "str[]": lambda v: (
        [_string(x) for x in v] if isinstance(v, list) else (_ for _ in ()).throw(_bad("an array"))
    ),
    "role": _role,
    "restart-strategy": _strategy,
    "supervision-policy?": _policy,
    "task": _task,
    "envelope": _envelope_in,
    "scheduler": _scheduler,
}
WRITE: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "str[]": lambda v: [str(x) for x in v],
    "float": float,
    "float?": lambda v: None if v is None else float(v),
    "int[]": lambda v: [int(x) for x in v],
    "json": jsonable,
    "envelope?": lambda e: None if e is None else envelope(e),
    "envelope[]": lambda es: [envelope(e) for e in es],
    "verdicts": lambda d: {str(k): str(v) for k, v in d.items()},
    "scheduled": lambda d: d,
    "actor": actor,
    "received[]": lambda rs: [
        {
            "hook": r.hook,
            "sender": r.sender,
            "message": jsonable(r.message),
            "state": r.state,
            "at": r.at,
            "in_flight": r.in_flight,
        }
        for r in rs
    ],
    "dead-letter[]": lambda ds: [
        {"to": d.to, "payload": jsonable(d.payload), "verdict": d.verdict, "by": d.by} for d in ds
    ],
    "reply-state": lambda r: {"done": r.done, "value": jsonable(r.value), "error": error(r.error)},
}


# --- the methods ------------------------------------------------------------------------------------


def register(session: Any) -> None:
    """Add the actors component's methods to a session."""
    a = session.target.actors
    serve = sys.modules[type(session).__module__]  # alys.serve, or __main__ when run with -m
    need = ...
    serve.WRITE.update(WRITE)
    session.read.update(READ)
    add = session._add
    sys_ = ("system", "handle:system", need)

    def system(cancellable: bool) -> Remote:
        relay = RelayScheduler(cancellable)
        return Remote(a.system(relay), relay)

    add("actors.mailbox", [("capacity", "int", need), ("policy", "str", need)], "handle:mailbox", a.mailbox)
    mb = ("mailbox", "handle:mailbox", need)
    add("mailbox.send", [mb, ("envelope", "envelope", need)], "str", lambda m, e: m.send(e))
    add("mailbox.pop", [mb], "envelope?", lambda m: m.pop())
    add("mailbox.drain", [mb], "envelope[]", lambda m: m.drain())
    add("mailbox.backpressure", [mb], "str", lambda m: m.backpressure().name)
    add("mailbox.size", [mb], "int", len)
    add("mailbox.waiting", [mb], "envelope[]", lambda m: m.waiting)
    add("mailbox.dropped", [mb], "envelope[]", lambda m: m.dropped)
    add(
        "actors.restart_delay",
        [("strategy", "restart-strategy", need), ("attempt", "int", need)],
        "float?",
        a.restart_delay,
    )
    add("actors.system", [("scheduler", "scheduler", need)], "handle:system", system)
    add("system.scheduled", [sys_], "scheduled", lambda s: s.relay.scheduled())
    add("system.run_task", [sys_, ("task", "int", need)], "null", lambda s, t: s.relay.run(t))
    add("system.set_time", [sys_, ("now", "float", need)], "null", lambda s, t: setattr(s.relay, "time", t))
    add(
        "system.spawn",
        [
            sys_,
            ("name", "str", need),
            ("role", "role", need),
            ("capacity", "int", 1000),
            ("policy", "str", "reject"),
            ("supervision", "supervision-policy?", None),
            ("parent", "str?", None),
            ("depends_on", "str[]", []),
            ("max_bytes", "int?", None),
            ("processing_timeout", "float", 30.0),
        ],
        "str",
        lambda s, name, role, capacity, policy, supervision, parent, depends_on, max_bytes, timeout: (
            s.system.spawn(
                name,
                role,
                capacity=capacity,
                policy=policy,
                supervision=supervision,
                parent=parent,
                depends_on=depends_on,
                max_bytes=max_bytes,
                processing_timeout=timeout,
            )
        ),
    )
    add(
        "system.tell",
        [
            sys_,
            ("to", "str", need),
            ("message", "json", need),
            ("sender", "str", "outside"),
            ("priority", "int", 2),
            ("size", "int", 0),
        ],
        "str",
        lambda s, to, message, sender, priority, size: s.system.tell(
            to, message, sender=sender, priority=Priority(priority), size=size
        ),
    )
    add(
        "system.ask",
        [
            sys_,
            ("to", "str", need),
            ("message", "json", need),
            ("timeout", "float", need),
            ("sender", "str", "outside"),
            ("priority", "int", 2),
            ("size", "int", 0),
        ],
        "handle:reply",
        lambda s, to, message, timeout, sender, priority, size: s.system.ask(
            to, message, timeout=timeout, sender=sender, priority=Priority(priority), size=size
        ),
    )
    add("reply.state", [("reply", "handle:reply", need)], "reply-state", lambda r: r)
    add(
        "system.broadcast",
        [sys_, ("message", "json", need), ("sender", "str", "outside"), ("priority", "int", 2)],
        "verdicts",
        lambda s, message, sender, priority: s.system.broadcast(
            message, sender=sender, priority=Priority(priority)
        ),
    )
    add(
        "system.route",
        [
            sys_,
            ("hops", "str[]", need),
            ("message", "json", need),
            ("sender", "str", "outside"),
            ("size", "int", 0),
        ],
        "str",
        lambda s, hops, message, sender, size: s.system.route(hops, message, sender=sender, size=size),
    )
    add(
        "system.fail",
        [sys_, ("name", "str", need), ("reason", "str", "injected panic")],
        "null",
        lambda s, name, reason: s.system.fail(name, reason),
    )
    add("system.lookup", [sys_, ("name", "str", need)], "actor", lambda s, name: s.system.lookup(name))
    add("system.received", [sys_, ("name", "str", need)], "received[]", lambda s, n: s.system.received(n))
    add("system.escalated", [sys_], "str[]", lambda s: s.system.escalated)
    add("system.dead_letters", [sys_], "dead-letter[]", lambda s: s.system.dead_letters)
    add("system.shutdown", [sys_], "str[]", lambda s: s.system.shutdown())
    if hasattr(a, "scheduler"):
        add("actors.scheduler", [], "handle:scheduler", a.scheduler)
        sch = ("scheduler", "handle:scheduler", need)
        add("scheduler.call_soon", [sch, ("task", "task", need)], "null", lambda s, t: s.call_soon(t))
        add(
            "scheduler.call_later",
            [sch, ("delay", "float", need), ("task", "task", need)],
            "null",
            lambda s, d, t: s.call_later(d, t) and None,
        )
        add("scheduler.step", [sch, ("index", "int", 0)], "bool", lambda s, i: s.step(i))
        add("scheduler.advance", [sch, ("dt", "float", need)], "null", lambda s, dt: s.advance(dt))
        add(
            "scheduler.run_until_idle",
            [sch, ("limit", "int", 1_000_000)],
            "int",
            lambda s, limit: s.run_until_idle(limit),
        )
        add("scheduler.now", [sch], "float", lambda s: s.now())
        add("scheduler.next_timer", [sch], "float?", lambda s: s.next_timer())
        add("scheduler.ready", [sch], "int[]", lambda s: [i or 0 for i in s.ready_ids])
        add("scheduler.ran", [sch], "int[]", lambda s: list(s.ran))
