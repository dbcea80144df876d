"""The `governance` component over the target protocol (docs/protocol.md, "governance"): the
StreamActor spawned in an actor system of the actors component (a handle, on the scheduler relay of
alys/serve_actors.py), itself a handle of kind `stream`; what the suite reads of it is plain data.

The stream's gRPC client runs in this process and connects to the governance node the suite runs
(an endpoint on the suite's machine); every command and transport event is a message the actor
handles in a task of the relay, so the suite's scheduler still chooses the order and the time.
What the actor tells other actors (ApplySignatures, SignatureTimeout, federation updates) is read
back through the actors component (`system.received`), as JSON objects naming their type. Like
alys.serve, this imports nothing of the suite.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from alys.serve_params import BadParams


def _bad(why: str) -> Exception:
    return BadParams(why)


def _str_map(v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise _bad("routes is an object of strings (a route's name -> an actor's name)")
    return dict(v)


def _config(v: Any) -> dict[str, Any]:
    """The overrides as given: scalars by name (the port refuses a name it does not know: TypeError)."""
    if not isinstance(v, dict) or not all(
        isinstance(x, (int, float, str)) and not isinstance(x, bool) for x in v.values()
    ):
        raise _bad("config is an object of numbers and strings (parameter name -> value)")
    return dict(v)


def _ints(v: Any) -> list[int]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise _bad("expected an array of integers")
    return list(v)


def _fields(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict) or not all(
        isinstance(x, (int, float, str, bool)) or x is None for x in v.values()
    ):
        raise _bad("fields is an object of JSON scalars (field name -> value)")
    return dict(v)


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _bad(f"expected a number, got {v!r:.40}")
    return float(v)


READ: dict[str, Callable[[Any], Any]] = {
    "str-map": _str_map,
    "stream-config": _config,
    "int[]": _ints,
    "notification-fields": _fields,
    "float": _number,
}
WRITE: dict[str, Callable[[Any], Any]] = {
    "stream-connection": dict,  # alys/governance.py connection_view: JSON's types already
    "stream-connection[]": lambda cs: [dict(c) for c in cs],
    "json": lambda v: v,
    "float": float,
    "str[]": lambda v: [str(x) for x in v],
}


def register(session: Any) -> None:
    """Add the governance component's methods to a session (after the actors component's)."""
    g = session.target.governance
    serve = sys.modules[type(session).__module__]  # alys.serve, or __main__ when run with -m
    for kind, write in WRITE.items():
        serve.WRITE.setdefault(kind, write)
    for kind, read in READ.items():
        session.read.setdefault(kind, read)
    add = session._add
    need = ...
    stream = ("stream", "handle:stream", need)
    connection = ("connection", "int", need)

    def make(remote: Any, name: str, routes: dict[str, str], seed: int, config: dict[str, Any]) -> Any:
        return g.stream(remote.system, name=name, routes=routes, seed=seed, **config)

    add(
        "governance.stream",
        [
            ("system", "handle:system", need),
            ("name", "str", "governance-stream"),
            ("routes", "str-map", None),
            ("seed", "int", 0),
            ("config", "stream-config", need),
        ],
        "handle:stream",
        make,
    )
    add("stream.connect", [stream, ("endpoint", "str", need)], "int", lambda s, e: s.connect(e))
    add(
        "stream.send",
        [
            stream,
            connection,
            ("kind", "str", need),
            ("request_id", "str", need),
            ("fields", "notification-fields", {}),
        ],
        "int",
        lambda s, c, kind, request_id, fields: s.send(c, kind, request_id, **fields),
    )
    add(
        "stream.request_signatures",
        [
            stream,
            connection,
            ("request_id", "str", need),
            ("requester", "str", need),
            ("tx_hex", "str", need),
            ("amounts", "int[]", []),
        ],
        "int",
        lambda s, c, request_id, requester, tx_hex, amounts: s.request_signatures(
            c, request_id, requester, tx_hex, tuple(amounts)
        ),
    )
    add("stream.outcome", [stream, ("reply", "int", need)], "json", lambda s, r: s.outcome(r))
    add("stream.pump", [stream], "int", lambda s: s.pump())
    add("stream.wait_event", [stream, ("timeout", "float", need)], "bool", lambda s, t: s.wait_event(t))
    add("stream.connections", [stream], "stream-connection[]", lambda s: s.connections())
    add("stream.connection", [stream, connection], "stream-connection", lambda s, c: s.connection(c))
    add("stream.pending", [stream], "str[]", lambda s: s.pending())
    add("stream.backoff", [stream, ("failures", "int", need)], "float", lambda s, n: s.backoff(n))
    add("stream.close", [stream], "null", lambda s: s.close())
