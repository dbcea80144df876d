"""The `sync` component over the target protocol (docs/protocol.md: `sync.*`, `network.*`, `store.*`,
`engine.*`): the simulated network, the store and the engine as handles, every call with JSON values.
Registered into a session by alys/serve.py; like the rest of the port, imports nothing of the suite.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from alys.serve_params import BadParams

_PAIR_LEN = 2


def _num(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _bad(f"expected a number, got {v!r:.40}")
    return float(v)


def _bad(why: str) -> Exception:
    return BadParams(why)


def _strs(v: Any, *, nullable: bool = False) -> list[str | None]:
    if not isinstance(v, list) or not all(isinstance(x, str) or (nullable and x is None) for x in v):
        raise _bad("expected an array of strings" + (" or nulls" if nullable else ""))
    return list(v)


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _bad(f"expected an integer, got {v!r:.40}")
    return v


def _pairs(v: Any) -> list[tuple[int, int]]:
    if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == _PAIR_LEN for p in v):
        raise _bad("expected an array of [int, int] pairs")
    return [(_int(a), _int(b)) for a, b in v]


READ: dict[str, Callable[[Any], Any]] = {
    "float": _num,
    "int?": lambda v: None if v is None else _int(v),
    "str[]": _strs,
    "str?[]": lambda v: _strs(v, nullable=True),
    "int-pairs": _pairs,
    "json": lambda v: v,
}


def _request(r: Any) -> dict[str, Any]:
    return {
        "sent": float(r.sent),
        "peer": str(r.peer),
        "start": int(r.start),
        "count": int(r.count),
        "ended": float(r.ended),
        "outcome": str(r.outcome),
        "blocks": [bytes(b).hex() for b in r.blocks],
    }


def _checkpoint(cp: Any) -> dict[str, Any]:
    try:
        state = cp.state
    except ValueError:  # MalformedCheckpointState: what is stored is not an object
        state = None
    return {"height": int(cp.height), "state": state, "verified": bool(cp.verified)}


def _standing(h: Any) -> dict[str, Any] | None:
    if h is None:
        return None
    return {
        "failures": int(h.failures),
        "backoff_until": float(h.backoff_until),
        "breaker_until": float(h.breaker_until),
    }


WRITE: dict[str, Callable[[Any], Any]] = {
    "float": float,
    "str": str,
    "str[]": lambda v: [str(x) for x in v],
    "int[]": lambda v: [int(x) for x in v],
    "sync-request[]": lambda rs: [_request(r) for r in rs],
    "checkpoint[]": lambda cps: [_checkpoint(cp) for cp in cps],
    "block-row[]": lambda rows: [[int(h), bytes(bh).hex(), bytes(d).hex()] for h, bh, d in rows],
    "sync-round[]": lambda rounds: [[str(o), int(h), int(f)] for o, h, f in rounds],
    "peer-standing?": _standing,
}


def register(session: Any) -> None:
    """Add the sync component's methods to a session."""
    s = session.target.sync
    serve = sys.modules[type(session).__module__]  # alys.serve, or __main__ when run with -m
    for name, write in WRITE.items():
        serve.WRITE.setdefault(name, write)
    for name, read in READ.items():
        session.read.setdefault(name, read)
    need = ...
    add = session._add
    add(
        "sync.serve",
        [("blocks", "bytes[]", need), ("start", "int", need), ("count", "int", need)],
        "bytes[]",
        s.serve,
    )
    add("sync.network", [], "handle:network", s.network)
    add(
        "sync.store",
        [
            ("interval", "int", need),
            ("retention", "int", need),
            ("path", "str", ":memory:"),
            ("busy_timeout", "float", 5.0),
        ],
        "handle:store",
        lambda interval, retention, path, busy_timeout: s.store(
            interval=interval, retention=retention, path=path, busy_timeout=busy_timeout
        ),
    )
    add(
        "sync.engine",
        [
            ("node", "handle:node", need),
            ("network", "handle:network", need),
            ("store", "handle:store", need),
            ("batch", "int", 1024),
        ],
        "handle:engine",
        lambda node, network, store, batch: s.engine(node, network, store, batch=batch),
    )
    add(
        "sync.recover",
        [
            ("store", "handle:store", need),
            ("spec", "chain-spec", need),
            ("genesis", "block", need),
            ("bitcoin", "bitcoin-view", need),
        ],
        "handle:node",
        s.recover,
    )
    net = ("network", "handle:network", need)
    peer = ("peer", "str", need)
    add(
        "network.add_peer",
        [
            net,
            ("name", "str", need),
            ("chain", "bytes[]", need),
            ("behaviour", "str", "honest"),
            ("lag", "int", 0),
            ("claimed", "int?", None),
        ],
        "null",
        lambda n, name, chain, behaviour, lag, claimed: n.add_peer(name, chain, behaviour, lag, claimed),
    )
    add("network.grow", [net, peer, ("blocks", "bytes[]", need)], "null", lambda n, p, b: n.grow(p, b))
    add("network.remove_peer", [net, peer], "null", lambda n, p: n.remove_peer(p))
    add("network.peer_names", [net], "str[]", lambda n: n.peer_names())
    add(
        "network.queue_faults",
        [net, peer, ("faults", "str?[]", need)],
        "null",
        lambda n, p, f: n.queue_faults(p, f),
    )
    add("network.clear_faults", [net], "null", lambda n: n.clear_faults())
    add("network.disconnect", [net, peer], "null", lambda n, p: n.disconnect(p))
    add("network.partition", [net, peer], "null", lambda n, p: n.partition(p))
    add("network.heal", [net], "null", lambda n: n.heal())
    add("network.set_latency", [net, ("seconds", "float", need)], "null", lambda n, t: n.set_latency(t))
    add("network.advance", [net, ("seconds", "float", need)], "null", lambda n, t: n.advance(t))
    add("network.time", [net], "float", lambda n: n.time)
    add("network.reachable", [net], "str[]", lambda n: n.reachable())
    add(
        "network.wire",
        [net, ("topology", "str", need), ("extra", "int-pairs", [])],
        "null",
        lambda n, topology, extra: n.wire(topology, extra),
    )
    add(
        "network.blocks_by_range",
        [net, peer, ("start", "int", need), ("count", "int", need)],
        "bytes[]",
        lambda n, p, start, count: n.blocks_by_range(p, start, count),
    )
    add("network.requests", [net, ("since", "int", 0)], "sync-request[]", lambda n, since: n.requests(since))
    store = ("store", "handle:store", need)
    add(
        "store.put_block",
        [
            store,
            ("height", "int", need),
            ("block_hash", "bytes", need),
            ("data", "bytes", need),
            ("state", "json", need),
            ("now", "int", need),
        ],
        "null",
        lambda st, height, block_hash, data, state, now: st.put_block(height, block_hash, data, state, now),
    )
    add("store.stored_heights", [store], "int[]", lambda st: st.stored_heights())
    add(
        "store.blocks_from",
        [store, ("height", "int", need), ("up_to", "int?", None)],
        "block-row[]",
        lambda st, height, up_to: st.blocks_from(height, up_to),
    )
    add("store.checkpoints", [store], "checkpoint[]", lambda st: st.checkpoints())
    add(
        "store.corrupt_checkpoint",
        [store, ("height", "int", need)],
        "null",
        lambda st, h: st.corrupt_checkpoint(h),
    )
    add(
        "store.set_fault",
        [store, ("at_write", "int?", need), ("kind", "str", "io-error")],
        "null",
        lambda st, at, kind: st.set_fault(at, kind),
    )
    add("store.writes", [store], "int", lambda st: st.writes)
    add("store.inject_fault", [store, ("name", "str", need)], "null", lambda st, name: st.inject_fault(name))
    add("store.clear_fault", [store, ("name", "str", need)], "null", lambda st, name: st.clear_fault(name))
    add("store.close", [store], "null", lambda st: st.close())
    engine = ("engine", "handle:engine", need)
    add("engine.import_block", [engine, ("raw", "bytes", need)], "null", lambda e, raw: e.import_block(raw))
    add("engine.round", [engine], "str", lambda e: e.round())
    add("engine.sync", [engine, ("max_rounds", "int", 10_000)], "str", lambda e, m: e.sync(max_rounds=m))
    add("engine.sync_rounds", [engine], "sync-round[]", lambda e: e.sync_rounds())
    add(
        "engine.sync_parallel",
        [engine, ("peers", "str[]", need), ("target", "int", need)],
        "int",
        lambda e, peers, target: e.sync_parallel(peers, target),
    )
    add("engine.standing", [engine, peer], "peer-standing?", lambda e, p: e.standing(p))
    add("engine.acknowledged", [engine], "int", lambda e: e.acknowledged)
    add("engine.batch", [engine], "int", lambda e: e.batch)
    add(
        "engine.set_bitcoin",
        [engine, ("bitcoin", "bitcoin-view", need)],
        "null",
        lambda e, view: session._set_bitcoin(e.node, view),
    )
