"""The `actors` component on the client side: marshalling of roles, policies, tasks and messages,
and the proxies of mailboxes, systems (on the scheduler relay, alys_pbt/protocol/relay.py) and
replies. Merged into target.py's ENCODERS, DECODERS and proxies by one line there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from alys_pbt.protocol import relay as relays
from alys_pbt.protocol import target as t
from alys_pbt.protocol.methods import BY_NAME, METHODS, Method
from alys_pbt.protocol.rpc import error_class

# --- marshalling -------------------------------------------------------------------------------------


def _json(v: Any) -> Any:
    """A message as JSON: tuples as arrays (what comes back is an array)."""
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return v
    raise TypeError(f"a message crosses as JSON: {v!r:.60} is not")


_STRATEGY_FIELDS = {
    "Never": (),
    "Immediate": (),
    "Delayed": ("delay",),
    "ExponentialBackoff": ("initial", "maximum", "multiplier"),
    "Progressive": ("initial", "max_attempts", "multiplier"),
}


def _strategy(s: Any) -> dict[str, Any]:
    kind = type(s).__name__
    if kind not in _STRATEGY_FIELDS:
        raise TypeError(f"not a restart strategy: {kind}")
    return {"kind": kind, **{f: getattr(s, f) for f in _STRATEGY_FIELDS[kind]}}


def _policy(p: Any) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "strategy": _strategy(p.strategy),
        "max_restarts": int(p.max_restarts),
        "window": float(p.window),
        "escalation": str(p.escalation),
    }


def _role(r: Any) -> dict[str, Any]:
    return {
        "reply": r.reply,
        "panics_on": _json(list(r.panics_on)),
        "takes_item": r.takes_item,
        "answers_sender": [[_json(a), _json(b)] for a, b in r.answers_sender],
    }


def _task(task: Any) -> dict[str, Any]:
    then = task.then
    return {
        "id": int(task.id),
        "then": None if then is None else [str(then[0]), float(then[1]), int(then[2])],
        "repeat": int(task.repeat),
    }


def _envelope_out(e: Any) -> dict[str, Any]:
    return {
        "sender": str(e.sender),
        "seq": int(e.seq),
        "priority": int(e.priority),
        "payload": _json(e.payload),
        "queued_at": int(getattr(e, "queued_at", 0)),
        "size": int(getattr(e, "size", 0)),
    }


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "json": _json,
    "float": float,
    "float?": lambda v: None if v is None else float(v),
    "int?": lambda v: None if v is None else int(v),
    "str?": lambda v: None if v is None else str(v),
    "str[]": lambda v: [str(x) for x in v],
    "role": _role,
    "restart-strategy": _strategy,
    "supervision-policy?": _policy,
    "task": _task,
    "envelope": _envelope_out,
    "scheduler": lambda s: {"cancellable": relays.Relay.cancellable(s)},
}


@frozen
class EnvelopeView:
    """A message as a remote mailbox holds it (interface.Envelope's fields, and its size)."""

    sender: str
    seq: int
    priority: int
    payload: Any
    queued_at: int
    size: int


@frozen
class Named:
    """A lifecycle state or backpressure level, read by `.name` as the port's enums are."""

    name: str


@frozen
class MailboxView:
    size: int
    capacity: int
    held_bytes: int
    queued: tuple[EnvelopeView, ...]
    waiting: tuple[EnvelopeView, ...]

    def __len__(self) -> int:
        return self.size


@frozen
class ActorView:
    """An actor as it was when looked up (system.lookup)."""

    name: str
    state: Named
    restarts: int
    cascades: int
    escalations: list[str]
    history: list[tuple[float, str]]
    processed: list[EnvelopeView]
    failed: list[EnvelopeView]
    in_flight: list[EnvelopeView]
    unhandled: list[EnvelopeView]
    scheduled: bool
    depends_on: tuple[str, ...]
    mailbox: MailboxView


@frozen
class ReceivedView:
    hook: str
    sender: str
    message: Any
    state: str
    at: float
    in_flight: int


@frozen
class DeadLetterView:
    to: str
    payload: Any
    verdict: str
    by: str


def _env(v: Any) -> EnvelopeView:
    return EnvelopeView(v["sender"], v["seq"], v["priority"], v["payload"], v["queued_at"], v["size"])


def _actor(v: Any) -> ActorView:
    m = v["mailbox"]
    return ActorView(
        v["name"],
        Named(v["state"]),
        t._int(v["restarts"]),
        t._int(v["cascades"]),
        list(v["escalations"]),
        [(float(at), str(event)) for at, event in v["history"]],
        [_env(e) for e in v["processed"]],
        [_env(e) for e in v["failed"]],
        [_env(e) for e in v["in_flight"]],
        [_env(e) for e in v["unhandled"]],
        bool(v["scheduled"]),
        tuple(v["depends_on"]),
        MailboxView(
            t._int(m["size"]),
            t._int(m["capacity"]),
            t._int(m["held_bytes"]),
            tuple(_env(e) for e in m["queued"]),
            tuple(_env(e) for e in m["waiting"]),
        ),
    )


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {v!r:.40}")
    return float(v)


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TypeError("expected an array of strings")
    return v


def _error(e: Any) -> BaseException | None:
    if e is None:
        return None
    return error_class(str(e["name"]), tuple(e.get("bases") or ()))(str(e.get("message", "")))


DECODERS: dict[str, Callable[[Any], Any]] = {
    "float": _float,
    "float?": lambda v: None if v is None else _float(v),
    "int[]": lambda v: [t._int(x) for x in v],
    "str[]": _str_list,
    "json": lambda v: v,
    "envelope?": lambda v: None if v is None else _env(v),
    "envelope[]": lambda v: [_env(e) for e in v],
    "verdicts": lambda v: {str(k): str(x) for k, x in v.items()},
    "scheduled": lambda v: v,
    "actor": _actor,
    "received[]": lambda v: [ReceivedView(**r) for r in v],
    "dead-letter[]": lambda v: [DeadLetterView(**d) for d in v],
    "reply-state": lambda v: (bool(v["done"]), v["value"], _error(v["error"])),
}


# --- proxies -------------------------------------------------------------------------------------------


def _methods(kind: str) -> list[Method]:
    return [m for m in METHODS if m.component == kind]


class RemoteMailbox(t.Handle):
    kind = "mailbox"

    def _call(self, short: str, *args: Any) -> Any:
        return t._invoke(self._connection, BY_NAME[f"mailbox.{short}"], (self, *args), {})

    def send(self, envelope: Any) -> str:
        return self._call("send", envelope)  # type: ignore[no-any-return]

    def pop(self) -> EnvelopeView | None:
        return self._call("pop")  # type: ignore[no-any-return]

    def drain(self) -> list[EnvelopeView]:
        return self._call("drain")  # type: ignore[no-any-return]

    def backpressure(self) -> Named:
        return Named(self._call("backpressure"))

    def __len__(self) -> int:
        return self._call("size")  # type: ignore[no-any-return]

    @property
    def waiting(self) -> list[EnvelopeView]:
        return self._call("waiting")  # type: ignore[no-any-return]

    @property
    def dropped(self) -> list[EnvelopeView]:
        return self._call("dropped")  # type: ignore[no-any-return]


# Reads that schedule nothing: no clock sent before them, no drain after.
READS = {"lookup", "received", "escalated", "dead_letters", "scheduled", "set_time"}


class RemoteSystem(t.Handle):
    """An actor system on the server, its tasks on the suite's scheduler through a Relay."""

    kind = "system"
    _relay: relays.Relay

    def _adopt(self, given: dict[str, Any]) -> None:
        self._relay = relays.Relay(self._connection, self._id, given["scheduler"])

    def __len__(self) -> int:  # a system is never falsy
        return 1


def _system_member(method: Method) -> Any:
    def call(self: RemoteSystem, *args: Any, **kwargs: Any) -> Any:
        def invoke() -> Any:
            return t._invoke(self._connection, method, (self, *args), kwargs)

        return invoke() if method.short in READS else self._relay.call(invoke)

    call.__name__ = method.short
    call.__doc__ = method.doc
    return property(call) if method.attribute else call


for _m in _methods("system"):
    setattr(RemoteSystem, _m.short, _system_member(_m))


class RemoteReply(t.Handle):
    """An ask's reply: done, value, error (read from the server; kept once answered)."""

    kind = "reply"
    _answer: tuple[bool, Any, BaseException | None] | None = None

    def _state(self) -> tuple[bool, Any, BaseException | None]:
        if self._answer is not None:
            return self._answer
        state = t._invoke(self._connection, BY_NAME["reply.state"], (self,), {})
        if state[0]:
            self._answer = state
        return state  # type: ignore[no-any-return]

    @property
    def done(self) -> bool:
        return self._state()[0]

    @property
    def value(self) -> Any:
        return self._state()[1]

    @property
    def error(self) -> BaseException | None:
        return self._state()[2]

    def __repr__(self) -> str:
        done, value, error = self._state()
        return f"RemoteReply(done={done}, value={value!r}, error={error!r})"


def install() -> None:
    """Merge this component's marshalling and proxies into target.py's."""
    t.ENCODERS.update(ENCODERS)
    t.DECODERS.update(DECODERS)
    t._proxies.update({"mailbox": RemoteMailbox, "system": RemoteSystem, "reply": RemoteReply})
