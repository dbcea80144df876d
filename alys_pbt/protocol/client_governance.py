"""The `governance` component on the client side: marshalling of the stream's configuration, routes,
notification fields and connection records, and the proxy of a stream handle, whose calls run on
the scheduler relay of the actor system it was spawned in (alys_pbt/protocol/relay.py): the clock
goes before a command, the tasks it scheduled come back after. Merged into target.py's ENCODERS,
DECODERS, ADAPTERS and proxies by one line there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from alys_pbt.protocol import relay as relays
from alys_pbt.protocol import target as t
from alys_pbt.protocol.methods import BY_NAME, METHODS, Method

# --- marshalling -------------------------------------------------------------------------------------

STREAM_PARAMS = ("system", "name", "routes", "seed")  # governance.stream's named params; the rest is config


def _scalar(v: Any, what: str, *, allow_bool: bool = False) -> Any:
    if v is None and allow_bool:
        return None
    if isinstance(v, bool):
        if allow_bool:
            return v
        raise TypeError(f"{what}: {v!r} is not a number or a string")
    if isinstance(v, (int, float, str)):
        return v
    raise TypeError(f"{what}: {v!r:.40} is not a JSON scalar")


def _str_map(v: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(x) for k, x in (v or {}).items()}


def _config(v: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _scalar(x, f"config {k}") for k, x in v.items()}


def _fields(v: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _scalar(x, f"field {k}", allow_bool=True) for k, x in v.items()}


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "str-map": _str_map,
    "stream-config": _config,
    "notification-fields": _fields,
    "int[]": lambda v: [int(x) for x in v],
    "float": float,
}


def _is(kind: type | tuple[type, ...]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, kind) and not isinstance(v, bool)


_number = _is((int, float))
_integer = _is(int)


def _all(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


CONNECTION: dict[str, Callable[[Any], bool]] = {  # a connection record's keys and what each holds
    "id": _integer,
    "endpoint": _is(str),
    "state": lambda v: v in ("connecting", "connected", "backoff", "gave-up", "closed"),
    "generation": _integer,
    "buffer": _all(_is(str)),
    "dropped": _all(_is(str)),
    "failures": _integer,
    "attempts": _all(_number),
    "waits": _all(lambda p: isinstance(p, list) and len(p) == 2 and _integer(p[0]) and _number(p[1])),
    "out_sequence": _integer,
    "in_sequence": _integer,
    "heartbeat_sequence": _integer,
    "heartbeat_acks": _all(_integer),
    "last_received": _number,
    "connected_at": _number,
    "detections": _all(_number),
    "open": lambda v: isinstance(v, bool),
}


def _connection(v: Any) -> dict[str, Any]:
    """A connection record as the interface gives it (a mapping), checked key by key."""
    if not isinstance(v, dict) or set(v) != set(CONNECTION):
        raise TypeError(f"a connection record has exactly the keys {', '.join(CONNECTION)}")
    wrong = [key for key, check in CONNECTION.items() if not check(v[key])]
    if wrong:
        raise TypeError(f"a connection record's {', '.join(wrong)} are not of their types")
    return v


def _connections(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        raise TypeError("expected an array of connection records")
    return [_connection(c) for c in v]


def _float(v: Any) -> float:
    if not _number(v):
        raise TypeError(f"expected a number, got {v!r:.40}")
    return float(v)


def _strings(v: Any) -> list[str]:
    if not _all(_is(str))(v):
        raise TypeError("expected an array of strings")
    return list(v)


DECODERS: dict[str, Callable[[Any], Any]] = {
    "stream-connection": _connection,
    "stream-connection[]": _connections,
    "float": _float,
    "str[]": _strings,
    "json": lambda v: v,
}


def _stream_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """governance.stream(system, *, name, routes, seed, **config): the overrides as one `config`."""
    named = {k: v for k, v in kwargs.items() if k in STREAM_PARAMS}
    return args, {**named, "config": {k: v for k, v in kwargs.items() if k not in STREAM_PARAMS}}


# --- the proxy -----------------------------------------------------------------------------------------

# Calls that schedule nothing: no clock sent before them, no drain after (a command and `pump` tell
# the actor, so the relay brings back the tasks they scheduled).
READS = {"outcome", "wait_event", "connections", "connection", "pending", "backoff", "close"}


class RemoteStream(t.Handle):
    """A StreamActor on the server: its commands on the relay of the actor system it runs in."""

    kind = "stream"
    _relay: relays.Relay

    def _adopt(self, given: dict[str, Any]) -> None:
        self._relay = relays.of(given["system"])

    def send(self, connection: int, kind: str, request_id: str, **fields: Any) -> Any:
        """A notification (its fields, if any, as keyword arguments: the interface's call)."""
        method = BY_NAME["stream.send"]
        args = (self, connection, kind, request_id)
        return self._relay.call(lambda: t._invoke(self._connection, method, args, {"fields": fields}))

    def pump(self) -> int:
        """Tell the actor what its gRPC client received: the tasks that scheduled come back (none
        when nothing was received, so no drain is asked for then)."""
        self._relay.before()
        told = t._invoke(self._connection, BY_NAME["stream.pump"], (self,), {})
        if told:
            self._relay.drain()
        return int(told)


def _member(method: Method) -> Any:
    def call(self: RemoteStream, *args: Any, **kwargs: Any) -> Any:
        def invoke() -> Any:
            return t._invoke(self._connection, method, (self, *args), kwargs)

        return invoke() if method.short in READS else self._relay.call(invoke)

    call.__name__ = method.short
    call.__doc__ = method.doc
    return call


for _m in METHODS:
    if _m.component == "stream" and _m.short not in ("send", "pump"):
        setattr(RemoteStream, _m.short, _member(_m))


def install() -> None:
    """Merge this component's marshalling, argument adapter and proxy into target.py's."""
    for kind, encode in ENCODERS.items():
        t.ENCODERS.setdefault(kind, encode)
    for kind, decode in DECODERS.items():
        t.DECODERS.setdefault(kind, decode)
    t.ADAPTERS["governance.stream"] = _stream_args
    t._proxies["stream"] = RemoteStream
