"""A target object over the protocol: the interface of alys_pbt/interface.py, each method a call.

Arguments and results are marshalled by the types of alys_pbt/protocol/methods.py: bytes as hex,
big integers as decimal strings, model objects (approvals, specs, AuxPoW headers) by their JSON
forms, read by attribute as the interface allows; blocks by their wire form (the reference's encoder
and decoder, models/blocks.py), Bitcoin transactions by their consensus bytes. A stateful or decoded
object is a handle on the server, held here by a proxy whose methods are the calls on that kind of
handle; when the proxy is dropped its handle is released. A node keeps the Bitcoin view it was made
with in step: the suite mines peg-ins into that object, and the client sends it again when it changed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from alys_pbt.interface import COMPONENTS
from alys_pbt.models import blocks
from alys_pbt.protocol.methods import METHODS, Method
from alys_pbt.protocol.rpc import Connection, TargetFailure

# --- marshalling ---------------------------------------------------------------------------------


def _block(signed: Any) -> str:
    """The wire form of a block: given as its bytes (sent as they are, canonical or not), or a model
    object or one the target decoded (read by attribute, encoded by the reference)."""
    if isinstance(signed, (bytes, bytearray, memoryview)):
        return bytes(signed).hex()
    return blocks.block_to_bytes(signed).hex()


def _retarget(p: Any) -> dict[str, Any]:
    return {
        "pow_target_timespan": int(p.pow_target_timespan),
        "pow_target_spacing": int(p.pow_target_spacing),
        "max_pow_adjustment": int(p.max_pow_adjustment),
        "pow_no_retargeting": bool(p.pow_no_retargeting),
    }


def _spec(spec: Any) -> dict[str, Any]:
    return {
        "authorities": [bytes(pk).hex() for pk in spec.authorities],
        "federation": [bytes(a).hex() for a in spec.federation],
        "federation_spk": bytes(spec.federation_spk).hex(),
        "chain_id": int(spec.chain_id),
        "bits": int(spec.bits),
        "slot_duration_ms": int(spec.slot_duration_ms),
        "max_blocks_without_pow": int(spec.max_blocks_without_pow),
        "retarget": _retarget(spec.retarget),
        "required_confirmations": int(spec.required_confirmations),
    }


def _bitcoin(view: Any) -> dict[str, Any]:
    return {
        "confirmations": [[bytes(h).hex(), int(n)] for h, n in view.confirmations.items()],
        "transactions": [[bytes(txid).hex(), tx.to_bytes().hex()] for txid, tx in view.transactions.items()],
    }


def _auxpow_header(h: Any) -> dict[str, Any]:
    return {
        "range_start": bytes(h.range_start).hex(),
        "range_end": bytes(h.range_end).hex(),
        "bits": int(h.bits),
        "chain_id": int(h.chain_id),
        "height": int(h.height),
        "auxpow": None if h.auxpow is None else h.auxpow.to_bytes().hex(),
        "fee_recipient": bytes(h.fee_recipient).hex(),
    }


def _pow_context(c: Any) -> dict[str, Any]:
    return {
        "aggregate_hash": bytes(c.aggregate_hash).hex(),
        "bits": int(c.bits),
        "chain_id": int(c.chain_id),
        "height": int(c.height),
        "override": bool(c.override),
    }


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "block": _block,
    "chain-spec": _spec,
    "bitcoin-view": _bitcoin,
    "auxpow-header": _auxpow_header,
    "pow-context": _pow_context,
    "retarget-params": _retarget,
    "bytes": lambda v: bytes(v).hex(),
    "bytes[]": lambda v: [bytes(b).hex() for b in v],
    "int": int,
    "bigint": lambda v: str(int(v)),
    "bool": bool,
    "str": str,
    "individual-approval": lambda a: {
        "signature": bytes(a.signature).hex(),
        "authority_index": int(a.authority_index),
    },
    "aggregate-approval": lambda a: {
        "bits": [bool(b) for b in a.bits],
        "signature": None if a.signature is None else bytes(a.signature).hex(),
    },
}


def _bytes(v: Any) -> bytes:
    if not isinstance(v, str):
        raise TypeError(f"expected hex, got {type(v).__name__}")
    return bytes.fromhex(v)


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an integer, got {type(v).__name__}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"expected true or false, got {type(v).__name__}")
    return v


def _bigint(v: Any) -> int:
    if not isinstance(v, str) or not v.isdigit():
        raise TypeError(f"expected a decimal string, got {v!r:.40}")
    return int(v)


def _null(v: Any) -> None:
    if v is not None:
        raise TypeError(f"expected null, got {v!r:.40}")


def _accepted(v: Any) -> list[tuple[list[bool], bytes | None]]:
    return [([_bool(b) for b in bits], None if sig is None else _bytes(sig)) for bits, sig in v]


def _decoded_block(v: Any) -> Any:
    """What the server decoded, from its own encoding (read back by the reference's decoder)."""
    return blocks.block_from_bytes(_bytes(v))


def _height_map(v: Any) -> dict[int, bytes]:
    if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == 2 for p in v):
        raise TypeError("expected an array of [height, hash] pairs")
    return {_int(h): _bytes(b) for h, b in v}


DECODERS: dict[str, Callable[[Any], Any]] = {
    "block": _decoded_block,
    "bytes-set": lambda v: {_bytes(b) for b in v},
    "height-map": _height_map,
    "bytes": _bytes,
    "bytes[]": lambda v: [_bytes(b) for b in v],
    "int": _int,
    "bigint": _bigint,
    "bool": _bool,
    "str": lambda v: v if isinstance(v, str) else (_ for _ in ()).throw(TypeError("expected a string")),
    "null": _null,
    "accepted-approval[]": _accepted,
}

# --- handles ---------------------------------------------------------------------------------------


class Handle:
    """An object the server keeps; released when this proxy is dropped."""

    kind = "value"
    _view: tuple[Any, Any] | None = None  # a node's Bitcoin view (the object, and its form last sent)

    def __init__(self, connection: Connection, handle: int) -> None:
        self._connection, self._handle, self._generation = connection, handle, connection.generation
        weakref.finalize(self, connection.release, handle, connection.generation)

    def _id(self) -> int:
        if self._generation != self._connection.generation:
            raise TargetFailure(
                f"target {self._connection.spec!r}: {self.kind} handle {self._handle} belongs to a server "
                "that has since been restarted (after a failure earlier in this example)"
            )
        return self._handle

    def __repr__(self) -> str:
        return f"<{self.kind} handle {self._handle} on {self._connection.spec}>"


def _sync_view(connection: Connection, handle: Handle) -> None:
    """Send the node's Bitcoin view again if the suite changed it since it was last sent (the suite
    mines peg-ins into the same view object the node was made with)."""
    view = getattr(handle, "_view", None)
    if view is None:
        return
    sent = _bitcoin(view[0])
    if sent != view[1]:
        connection.call("node.set_bitcoin", {"node": handle._id(), "bitcoin": sent})
        handle._view = (view[0], sent)


# Method name -> how a Python call's arguments become the method's params (`**config` into one object
# param, say); a client_<component>.py module registers its own.
ADAPTERS: dict[str, Callable[[tuple[Any, ...], dict[str, Any]], tuple[tuple[Any, ...], dict[str, Any]]]] = {}


def _invoke(connection: Connection, method: Method, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if method.name in ADAPTERS:
        args, kwargs = ADAPTERS[method.name](args, kwargs)
    params: dict[str, Any] = {}
    names = [p.name for p in method.params]
    if len(args) > len(names):
        raise TypeError(f"{method.name} takes {len(names)} arguments, {len(args)} given")
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names or key in given:
            raise TypeError(f"{method.name} got an unexpected or repeated argument {key!r}")
        given[key] = value
    for p in method.params:
        if p.name not in given:
            if p.required:
                raise TypeError(f"{method.name} needs {p.name!r}")
            continue
        value = given[p.name]
        params[p.name] = value._id() if p.type == "handle" else ENCODERS[p.type](value)
    if method.reads_view and args and isinstance(args[0], Handle):
        _sync_view(connection, args[0])
    result = connection.call(method.name, params)
    if method.result == "handle":
        if not isinstance(result, int) or isinstance(result, bool) or result <= 0:
            connection._fail(
                f"{method.name} answered {result!r:.60} where a handle was due", method.name, params
            )
        proxy = _proxy_class(method.made)(connection, result)
        if hasattr(proxy, "_adopt"):  # a proxy that keeps what it was made with (an actor system: its relay)
            proxy._adopt(given)
        views = [(given[p.name], params[p.name]) for p in method.params if p.type == "bitcoin-view"]
        if views:  # a node made with a view: kept in step with it
            proxy._view = views[0]
        elif args and getattr(args[0], "_view", None) is not None:  # a restarted node shares its view
            proxy._view = args[0]._view
        return proxy
    try:
        return DECODERS[method.result](result)
    except (TypeError, ValueError) as err:
        return connection._fail(f"{method.name} answered {result!r:.60}: {err}", method.name, params)


_proxies: dict[str, type[Handle]] = {}


def _proxy_class(kind: str) -> type[Handle]:
    """The proxy for handles of `kind`: one member per `kind.*` method (attributes as properties)."""
    if kind in _proxies:
        return _proxies[kind]
    members: dict[str, Any] = {"kind": kind}
    for method in METHODS:
        if method.component != kind:
            continue

        def call(self: Handle, *args: Any, _m: Method = method, **kwargs: Any) -> Any:
            return _invoke(self._connection, _m, (self, *args), kwargs)

        members[method.short] = property(call) if method.attribute else call
    _proxies[kind] = type(f"Remote_{kind}", (Handle,), members)
    return _proxies[kind]


class Component:
    """One component: the methods the server listed for it in its hello."""

    def __init__(
        self, connection: Connection, name: str, offered: list[str], capabilities: dict[str, Any]
    ) -> None:
        self._connection, self._name = connection, name
        self.offered = sorted(offered)
        self.capabilities = capabilities  # as the hello declared them (alys_pbt/interface.py CAPABILITIES)
        for method in METHODS:
            if method.component == name and method.short in offered:
                setattr(self, method.short, self._bind(method))

    def _bind(self, method: Method) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return _invoke(self._connection, method, args, kwargs)

        call.__name__ = method.short
        call.__doc__ = method.doc
        return call

    def __repr__(self) -> str:
        return f"<{self._name} over {self._connection.spec}>"


class RemoteTarget:
    """A target whose components live in a server (exec: or tcp:)."""

    def __init__(self, connection: Connection, hello: dict[str, Any]) -> None:
        self.connection = connection
        self.spec = connection.spec
        # the server's name for itself, and the way in (the run's header and skip reasons show it)
        self.name = f"{hello.get('name') or '?'} (over {connection.kind}:)"
        self.quirks = frozenset(hello.get("quirks") or ())
        self.deviations = list(hello.get("deviations") or ())
        self.capabilities: dict[str, Any] = dict(hello.get("capabilities") or {})
        components = hello.get("components") or {}
        self.components = {c: list(ms) for c, ms in components.items() if c in COMPONENTS}
        for component, offered in self.components.items():
            caps = self.capabilities.get(component) or {}
            setattr(self, component, Component(connection, component, offered, dict(caps)))

    def close(self) -> None:
        self.connection.close()

    def __repr__(self) -> str:
        return f"<target {self.name} over {self.spec}>"


# Components whose client side lives in modules of their own (CROSSING.md): one line each.
from alys_pbt.protocol import client_actors  # noqa: E402

client_actors.install()
from alys_pbt.protocol import client_governance  # noqa: E402

client_governance.install()
from alys_pbt.protocol import client_sync  # noqa: E402

client_sync.install()
