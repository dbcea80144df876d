"""The `sync` component on the client side: marshalling of the network's requests, the store's
checkpoints and rows, the engine's round trace and peer standing (as the records alys_pbt/interface.py
defines), and the engine's proxy, which keeps its node's Bitcoin view in step. Merged into target.py's
ENCODERS, DECODERS and proxies by one line there."""

from __future__ import annotations

from typing import Any

from alys_pbt.interface import CheckpointRecord, PeerStanding, SyncRequest
from alys_pbt.protocol import target as t

_PAIR = 2
_ROW = 3


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {v!r:.40}")
    return float(v)


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {v!r:.40}")
    return v


def _list(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError(f"expected an array of {what}, got {v!r:.40}")
    return v


def _object(v: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(v, dict) or set(v) != set(keys):
        raise TypeError(f"expected an object with exactly {', '.join(keys)}, got {v!r:.60}")
    return v


def _request(v: Any) -> SyncRequest:
    d = _object(v, ("sent", "peer", "start", "count", "ended", "outcome", "blocks"))
    return SyncRequest(
        _float(d["sent"]),
        _str(d["peer"]),
        t._int(d["start"]),
        t._int(d["count"]),
        _float(d["ended"]),
        _str(d["outcome"]),
        tuple(t._bytes(b) for b in _list(d["blocks"], "blocks")),
    )


def _checkpoint(v: Any) -> CheckpointRecord:
    d = _object(v, ("height", "state", "verified"))
    state = d["state"]
    if state is not None and not isinstance(state, dict):
        raise TypeError(f"a checkpoint's state is an object or null, got {state!r:.40}")
    return CheckpointRecord(t._int(d["height"]), state, t._bool(d["verified"]))


def _row(v: Any) -> tuple[int, bytes, bytes]:
    if not isinstance(v, list) or len(v) != _ROW:
        raise TypeError(f"expected a [height, hash, data] row, got {v!r:.60}")
    return t._int(v[0]), t._bytes(v[1]), t._bytes(v[2])


def _round(v: Any) -> tuple[str, int, int]:
    if not isinstance(v, list) or len(v) != _ROW:
        raise TypeError(f"expected an [outcome, head, finalized] round, got {v!r:.60}")
    return _str(v[0]), t._int(v[1]), t._int(v[2])


def _standing(v: Any) -> PeerStanding | None:
    if v is None:
        return None
    d = _object(v, ("failures", "backoff_until", "breaker_until"))
    return PeerStanding(t._int(d["failures"]), _float(d["backoff_until"]), _float(d["breaker_until"]))


def _pairs(v: Any) -> list[list[int]]:
    out = []
    for p in v:
        if len(p) != _PAIR:
            raise TypeError(f"expected a pair of indices, got {p!r:.40}")
        out.append([int(p[0]), int(p[1])])
    return out


def _json_object(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError(f"a checkpoint state is an object, got {type(v).__name__}")
    return {str(k): x for k, x in v.items()}


ENCODERS: dict[str, Any] = {
    "float": float,
    "int?": lambda v: None if v is None else int(v),
    "str[]": lambda v: [str(x) for x in v],
    "str?[]": lambda v: [None if x is None else str(x) for x in v],
    "int-pairs": _pairs,
    "json": _json_object,
}
DECODERS: dict[str, Any] = {
    "float": _float,
    "str[]": lambda v: [_str(x) for x in _list(v, "strings")],
    "int[]": lambda v: [t._int(x) for x in _list(v, "integers")],
    "sync-request[]": lambda v: [_request(x) for x in _list(v, "requests")],
    "checkpoint[]": lambda v: [_checkpoint(x) for x in _list(v, "checkpoints")],
    "block-row[]": lambda v: [_row(x) for x in _list(v, "rows")],
    "sync-round[]": lambda v: [_round(x) for x in _list(v, "rounds")],
    "peer-standing?": _standing,
}

# Engine calls that run the node's validation (which reads its Bitcoin view).
_READS_VIEW = ("import_block", "round", "sync", "sync_parallel")


def _send_view(engine: t.Handle) -> None:
    """Send the engine's node's Bitcoin view again if the suite changed it since it was last sent."""
    view = getattr(engine, "_view", None)
    if view is None:
        return
    sent = t._bitcoin(view[0])
    if sent != view[1]:
        engine._connection.call("engine.set_bitcoin", {"engine": engine._id(), "bitcoin": sent})
        engine._view = (view[0], sent)


def _reading_view(base: type[t.Handle], name: str) -> Any:
    call = getattr(base, name)

    def method(self: t.Handle, *args: Any, **kwargs: Any) -> Any:
        _send_view(self)
        return call(self, *args, **kwargs)

    method.__name__ = name
    return method


def install() -> None:
    """Merge this component's marshalling and proxies into target.py's (the shared names, such as
    `float` and `str[]`, are kept as another component defined them)."""
    for name, encode in ENCODERS.items():
        t.ENCODERS.setdefault(name, encode)
    for name, decode in DECODERS.items():
        t.DECODERS.setdefault(name, decode)
    base = t._proxy_class("engine")
    members = {name: _reading_view(base, name) for name in _READS_VIEW}
    t._proxies["engine"] = type("Remote_engine", (base,), members)
