"""The port as a server of the target protocol (docs/protocol.md): JSON-RPC 2.0, one message per line.

    python -m alys.serve [alys | alys-fixed | alys-fixed+ID[+ID...]]            # over stdin/stdout
    python -m alys.serve alys-fixed --tcp 127.0.0.1:7400                        # over TCP

The variant names are the suite's target names (`alys` carries every quirk). Over TCP each
connection is a session of its own (its own handles). Like the rest of the port, this imports
nothing of the suite: the JSON forms are read here from the protocol document's definitions.
Offered: the `auxpow`, `approvals` (with the candidate cache as a handle) and `chain` components
(nodes as handles; blocks in their wire form, decoded by the port's own decoder).
"""

from __future__ import annotations

import argparse
import re
import socketserver
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, Protocol

from tinyrpc.exc import RPCError
from tinyrpc.protocols.jsonrpc import (
    JSONRPCMethodNotFoundError,
    JSONRPCProtocol,
    JSONRPCRequest,
)

import alys
from alys import serve_actors, serve_governance, serve_sync
from alys.serve_params import BadParams
from alys.wire import encode_block

PROTOCOL_VERSION = 1
REJECTED = -32000
_ROOTS = {"object", "BaseException", "Exception"}


class Rejection(Exception):
    """What the implementation raised, as a JSON-RPC error: code -32000, data {name, bases}."""

    jsonrpc_error_code = REJECTED

    def __init__(self, err: BaseException) -> None:
        super().__init__(str(err) or type(err).__name__)
        names = [c.__name__ for c in type(err).__mro__[1:] if c.__name__ not in _ROOTS]
        self.data = {"name": type(err).__name__, "bases": names}


# --- JSON forms (docs/protocol.md "Types") ---------------------------------------------------------


def _hex(v: Any) -> bytes:
    if not isinstance(v, str):
        raise BadParams(f"expected a hex string, got {type(v).__name__}")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise BadParams(f"not hex: {v[:40]!r}") from None


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadParams(f"expected an integer, got {v!r:.40}")
    return v


def _bigint(v: Any) -> int:
    if not isinstance(v, str) or not v.isdigit():
        raise BadParams(f"expected a decimal string, got {v!r:.40}")
    return int(v)


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise BadParams(f"expected a string, got {v!r:.40}")
    return v


class Approval(NamedTuple):
    signature: bytes
    authority_index: int


class Aggregate(NamedTuple):
    bits: tuple[bool, ...]
    signature: bytes | None


def _approval(v: Any) -> Approval:
    if not isinstance(v, dict):
        raise BadParams("an individual approval is an object")
    return Approval(_hex(v.get("signature")), _int(v.get("authority_index")))


def _aggregate(v: Any) -> Aggregate:
    if not isinstance(v, dict) or not isinstance(v.get("bits"), list) or len(v["bits"]) != 15:
        raise BadParams("an aggregate approval is an object with 15 bits")
    sig = v.get("signature")
    return Aggregate(tuple(bool(b) for b in v["bits"]), None if sig is None else _hex(sig))


def _list(of: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def read(v: Any) -> list[Any]:
        if not isinstance(v, list):
            raise BadParams("expected an array")
        return [of(x) for x in v]

    return read


def _object(v: Any, what: str, keys: Iterable[str]) -> dict[str, Any]:
    keys = tuple(keys)
    if not isinstance(v, dict) or set(v) != set(keys):
        raise BadParams(f"{what} is an object with exactly {', '.join(keys)}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadParams(f"expected true or false, got {v!r:.40}")
    return v


class Retarget(NamedTuple):
    pow_target_timespan: int
    pow_target_spacing: int
    max_pow_adjustment: int
    pow_no_retargeting: bool


class Spec(NamedTuple):
    authorities: tuple[bytes, ...]
    federation: tuple[bytes, ...]
    federation_spk: bytes
    chain_id: int
    bits: int
    slot_duration_ms: int
    max_blocks_without_pow: int
    retarget: Retarget
    required_confirmations: int


class RawAuxPow(NamedTuple):
    raw: bytes

    def to_bytes(self) -> bytes:
        return self.raw


class PowHeader(NamedTuple):
    range_start: bytes
    range_end: bytes
    bits: int
    chain_id: int
    height: int
    auxpow: RawAuxPow | None
    fee_recipient: bytes


class PowCtx(NamedTuple):
    aggregate_hash: bytes
    bits: int
    chain_id: int
    height: int
    override: bool


def _retarget(v: Any) -> Retarget:
    d = _object(v, "retarget-params", Retarget._fields)
    return Retarget(
        _int(d["pow_target_timespan"]),
        _int(d["pow_target_spacing"]),
        _int(d["max_pow_adjustment"]),
        _bool(d["pow_no_retargeting"]),
    )


def _spec(v: Any) -> Spec:
    d = _object(v, "a chain spec", Spec._fields)
    return Spec(
        tuple(_list(_hex)(d["authorities"])),
        tuple(_list(_hex)(d["federation"])),
        _hex(d["federation_spk"]),
        _int(d["chain_id"]),
        _int(d["bits"]),
        _int(d["slot_duration_ms"]),
        _int(d["max_blocks_without_pow"]),
        _retarget(d["retarget"]),
        _int(d["required_confirmations"]),
    )


def _pow_header(v: Any) -> PowHeader:
    d = _object(v, "an auxpow header", PowHeader._fields)
    raw = d["auxpow"]
    return PowHeader(
        _hex(d["range_start"]),
        _hex(d["range_end"]),
        _int(d["bits"]),
        _int(d["chain_id"]),
        _int(d["height"]),
        None if raw is None else RawAuxPow(_hex(raw)),
        _hex(d["fee_recipient"]),
    )


def _pow_ctx(v: Any) -> PowCtx:
    d = _object(v, "a pow context", PowCtx._fields)
    return PowCtx(
        _hex(d["aggregate_hash"]),
        _int(d["bits"]),
        _int(d["chain_id"]),
        _int(d["height"]),
        _bool(d["override"]),
    )


def _pairs(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def read(v: Any) -> list[Any]:
        if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == 2 for p in v):
            raise BadParams("expected an array of pairs")
        return [(first(a), second(b)) for a, b in v]

    return read


class BitcoinView:
    """What the node's Bitcoin RPC answers; changed in place (node.set_bitcoin), so a node restarted
    from another sees the same view."""

    def __init__(self) -> None:
        self.confirmations: dict[bytes, int] = {}
        self.transactions: dict[bytes, Any] = {}


READ: dict[str, Callable[[Any], Any]] = {
    "bytes": _hex,
    "bytes[]": _list(_hex),
    "int": _int,
    "bigint": _bigint,
    "str": _str,
    "approval": _approval,
    "aggregate": _aggregate,
    "handle": _int,
    "bool": _bool,
    "retarget-params": _retarget,
    "chain-spec": _spec,
    "auxpow-header": _pow_header,
    "pow-context": _pow_ctx,
}
WRITE: dict[str, Callable[[Any], Any]] = {
    "bytes": lambda b: bytes(b).hex(),
    "bytes[]": lambda bs: [bytes(b).hex() for b in bs],
    "int": int,
    "bigint": lambda n: str(int(n)),
    "bool": bool,
    "null": lambda _: None,
    "accepted": lambda rows: [
        [list(map(bool, bits)), None if s is None else bytes(s).hex()] for bits, s in rows
    ],
    "block": lambda signed: encode_block(signed).hex(),
    "bytes-set": lambda bs: sorted(bytes(b).hex() for b in bs),
    "height-map": lambda index: [[int(h), bytes(b).hex()] for h, b in sorted(index.items())],
}


# --- the methods ------------------------------------------------------------------------------------


class Session:
    """One client's view: a target of the chosen variant and the handles it made."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.target = build(variant)
        self.handles: dict[int, tuple[str, Any]] = {}
        self._next = 1
        t = self.target
        a, p = t.auxpow, t.approvals
        # name -> (params as (name, type, default), result type, what to call)
        self.methods: dict[str, tuple[tuple[tuple[str, str, Any], ...], str, Callable[..., Any]]] = {}
        need = ...
        self._add("auxpow.decode_transaction", [("data", "bytes", need)], "handle:tx", a.decode_transaction)
        self._add("auxpow.encode_transaction", [("tx", "handle:tx", need)], "bytes", a.encode_transaction)
        self._add("auxpow.txid", [("tx", "handle:tx", need)], "bytes", a.txid)
        self._add("auxpow.decode_header", [("data", "bytes", need)], "handle:header", a.decode_header)
        self._add("auxpow.encode_header", [("header", "handle:header", need)], "bytes", a.encode_header)
        self._add("auxpow.header_hash", [("header", "handle:header", need)], "bytes", a.header_hash)
        self._add("auxpow.decode_auxpow", [("data", "bytes", need)], "handle:auxpow", a.decode_auxpow)
        self._add("auxpow.encode_auxpow", [("auxpow", "handle:auxpow", need)], "bytes", a.encode_auxpow)
        self._add("auxpow.merkle_root", [("txids", "bytes[]", need)], "bytes", a.merkle_root)
        self._add("auxpow.target_from_compact", [("bits", "int", need)], "bigint", a.target_from_compact)
        self._add("auxpow.compact_from_target", [("target", "bigint", need)], "int", a.compact_from_target)
        self._add(
            "auxpow.hash_meets_target",
            [("block_hash", "bytes", need), ("bits", "int", need)],
            "bool",
            a.hash_meets_target,
        )
        self._add(
            "auxpow.check_proof_of_work",
            [("header", "bytes", need), ("bits", "int", need)],
            "bool",
            a.check_proof_of_work,
        )
        self._add(
            "auxpow.expected_index",
            [("nonce", "int", need), ("chain_id", "int", need), ("h", "int", need)],
            "int",
            a.expected_index,
        )
        self._add(
            "auxpow.check",
            [
                ("auxpow", "bytes", need),
                ("aux_hash", "bytes", need),
                ("chain_id", "int", need),
                ("layout", "str", "output-script"),
                ("root_order", "str", "internal"),
            ],
            "null",
            a.check,
        )
        self._add(
            "approvals.verify",
            [("pk", "bytes", need), ("message", "bytes", need), ("signature", "bytes", need)],
            "bool",
            p.verify,
        )
        self._add(
            "approvals.fast_aggregate_verify",
            [("pks", "bytes[]", need), ("message", "bytes", need), ("signature", "bytes", need)],
            "bool",
            p.fast_aggregate_verify,
        )
        self._add("approvals.required_approvals", [("n", "int", need)], "int", p.required_approvals)
        self._add(
            "approvals.check_individual",
            [("approval", "approval", need), ("authorities", "bytes[]", need), ("message", "bytes", need)],
            "null",
            p.check_individual,
        )
        self._add(
            "approvals.majority_approved",
            [("approval", "aggregate", need), ("authorities", "bytes[]", need), ("message", "bytes", need)],
            "bool",
            p.majority_approved,
        )
        self._add(
            "approvals.candidate_cache", [("authorities", "bytes[]", need)], "handle:cache", p.candidate_cache
        )
        cache = "handle:cache"
        self._add(
            "candidate_cache.insert_block",
            [
                ("cache", cache, need),
                ("block_hash", "bytes", need),
                ("height", "int", need),
                ("slot", "int", need),
            ],
            "null",
            lambda c, h, height, slot: c.insert_block(h, height, slot),
        )
        self._add(
            "candidate_cache.add_approval",
            [("cache", cache, need), ("block_hash", "bytes", need), ("approval", "approval", need)],
            "null",
            lambda c, h, approval: c.add_approval(h, approval),
        )
        self._add("candidate_cache.accepted", [("cache", cache, need)], "bytes[]", lambda c: list(c.accepted))
        self._add(
            "candidate_cache.accepted_approvals",
            [("cache", cache, need)],
            "accepted",
            lambda c: list(c.accepted_approvals),
        )
        self._chain(need)
        serve_actors.register(self)  # the actors component (alys/serve_actors.py)
        serve_governance.register(self)  # the governance component (alys/serve_governance.py)
        serve_sync.register(self)  # the sync component (alys/serve_sync.py)

    def _chain(self, need: Any) -> None:
        """The chain component: a block crosses as its wire form, read with the port's own decoder
        (a block it cannot decode is its DecodeError); a node is a handle."""
        c = self.target.chain
        self.read: dict[str, Callable[[Any], Any]] = {
            **READ,
            "block": lambda v: c.decode_block(_hex(v)),
            "bitcoin-view": self._bitcoin,
        }
        self._add("chain.aggregate_hash", [("block_hashes", "bytes[]", need)], "bytes", c.aggregate_hash)
        self._add(
            "chain.check_pow",
            [("header", "auxpow-header", need), ("ctx", "pow-context", need)],
            "null",
            c.check_pow,
        )
        retarget = ("params", "retarget-params", need)
        self._add(
            "chain.get_next_work_required",
            [
                ("last_pow_height", "int", need),
                ("last_bits", "int", need),
                retarget,
                ("head_height", "int", need),
            ],
            "int",
            c.get_next_work_required,
        )
        self._add(
            "chain.calculate_next_work_required",
            [("diff", "int", need), ("last_bits", "int", need), retarget],
            "int",
            c.calculate_next_work_required,
        )
        self._add(
            "chain.node",
            [
                ("spec", "chain-spec", need),
                ("genesis", "block", need),
                ("bitcoin", "bitcoin-view", need),
                ("validator", "bool", True),
            ],
            "handle:node",
            lambda spec, genesis, bitcoin, validator: c.node(spec, genesis, bitcoin, validator=validator),
        )
        self._add("chain.decode_block", [("data", "block", need)], "block", lambda block: block)
        self._add("chain.transaction_sender", [("raw", "bytes", need)], "bytes", c.transaction_sender)
        node = ("node", "handle:node", need)
        self._add(
            "node.process_block", [node, ("block", "block", need)], "null", lambda n, b: n.process_block(b)
        )
        self._add("node.set_bitcoin", [node, ("bitcoin", "bitcoin-view", need)], "null", self._set_bitcoin)
        self._add("node.rollback", [node, ("height", "int", need)], "null", lambda n, h: n.rollback(h))
        self._add("node.restart", [node], "handle:node", lambda n: n.restart())
        for attr, kind in (
            ("head", "bytes"),
            ("head_height", "int"),
            ("finalized_height", "int"),
            ("latest_pow", "bytes"),
            ("stored", "bytes-set"),
            ("by_height", "height-map"),
        ):
            self._add(f"node.{attr}", [node], kind, lambda n, _attr=attr: getattr(n, _attr))
        self._add("node.holds", [node, ("signed", "block", need)], "bool", lambda n, b: n.holds(b))
        self._add(
            "node.rollback_head", [node, ("height", "int", need)], "null", lambda n, h: n.rollback_head(h)
        )
        self._add(
            "node.import_trusted", [node, ("signed", "block", need)], "null", lambda n, b: n.import_trusted(b)
        )
        self._add(
            "node.restore_pointer",
            [node, ("latest_pow", "bytes", need)],
            "null",
            lambda n, h: n.restore_pointer(h),
        )

    def _bitcoin(self, v: Any, into: BitcoinView | None = None) -> BitcoinView:
        d = _object(v, "a bitcoin view", ("confirmations", "transactions"))
        view = into if into is not None else BitcoinView()
        confirmations = dict(_pairs(_hex, _int)(d["confirmations"]))
        transactions = {
            txid: self.target.auxpow.decode_transaction(raw)
            for txid, raw in _pairs(_hex, _hex)(d["transactions"])
        }
        view.confirmations.clear()
        view.confirmations.update(confirmations)
        view.transactions.clear()
        view.transactions.update(transactions)
        return view

    def _set_bitcoin(self, node: Any, view: BitcoinView) -> None:
        current = node.bitcoin
        if isinstance(current, BitcoinView):  # in place: the nodes restarted from this one share it
            current.confirmations, current.transactions = view.confirmations, view.transactions
        else:
            node.bitcoin = view

    def _add(
        self, name: str, params: list[tuple[str, str, Any]], result: str, fn: Callable[..., Any]
    ) -> None:
        self.methods[name] = (tuple(params), result, fn)

    def hello(self) -> dict[str, Any]:
        components: dict[str, list[str]] = {}
        for name in self.methods:
            component, _, short = name.partition(".")
            if component in ("auxpow", "approvals", "chain", "actors", "sync", "governance"):
                components.setdefault(component, []).append(short)
        return {
            "protocol": PROTOCOL_VERSION,
            "name": self.variant,
            "components": components,
            "capabilities": {
                "auxpow": {
                    "layouts": ["output-script", "script-sig"],
                    "root_orders": ["internal", "reversed"],
                }
            },
            "quirks": sorted(self.target.quirks),
            "deviations": [],
        }

    def call(self, method: str, args: dict[str, Any]) -> Any:
        if method == "hello":
            if args.get("protocol") != PROTOCOL_VERSION:
                raise BadParams(f"this server speaks protocol {PROTOCOL_VERSION}")
            return self.hello()
        if method == "release":
            handles = args.get("handles", [])
            for h in handles if isinstance(handles, list) else []:
                if isinstance(h, int):
                    self.handles.pop(h, None)
            return None
        if method not in self.methods:
            raise JSONRPCMethodNotFoundError()
        params, result, fn = self.methods[method]
        unknown = set(args) - {name for name, _, _ in params}
        if unknown:
            raise BadParams(f"unknown parameters {sorted(unknown)}")
        try:
            values = []
            for name, kind, default in params:
                if name not in args:
                    if default is ...:
                        raise BadParams(f"missing parameter {name!r}")
                    values.append(default)
                elif kind.startswith("handle:"):
                    values.append(self._get(args[name], kind.removeprefix("handle:")))
                else:  # a block the port cannot decode is its answer (DecodeError), not a bad request
                    values.append(self.read[kind](args[name]))
            value = fn(*values)
        except RPCError:
            raise
        except Exception as err:  # noqa: BLE001 - every exception is the implementation's answer, by name
            raise Rejection(err) from None
        if result.startswith("handle:"):
            handle = self._next
            self._next += 1
            self.handles[handle] = (result.removeprefix("handle:"), value)
            return handle
        return WRITE[result](value)

    def _get(self, handle: Any, kind: str) -> Any:
        # JSON true is not handle 1 (Python's bool is an int)
        found = self.handles.get(handle) if isinstance(handle, int) and not isinstance(handle, bool) else None
        if found is None or found[0] != kind:
            raise BadParams(f"{handle!r} is not a live {kind} handle")
        return found[1]


def build(variant: str) -> alys.AlysTarget:
    if variant == "alys":
        return alys.build("alys", alys.QUIRKS)
    if variant == "alys-fixed":
        return alys.build("alys-fixed")
    if variant.startswith("alys-fixed+"):
        try:
            return alys.build(variant, variant.removeprefix("alys-fixed+").split("+"))
        except ValueError as err:
            raise SystemExit(f"unknown variant {variant!r}: {err}") from None
    raise SystemExit(f"unknown variant {variant!r}: alys, alys-fixed or alys-fixed+ID[+ID...]")


# --- transports --------------------------------------------------------------------------------------


def answer(session: Session, protocol: JSONRPCProtocol, line: bytes) -> bytes | None:
    """The reply line to one request line (None for a notification)."""
    if nesting(line) > MAX_NESTING:  # json's C parser recurses: past the recursion limit it crashes
        return PARSE_ERROR
    try:
        request = protocol.parse_request(line)
    except RPCError as err:
        return bytes(err.error_respond().serialize())
    except (UnicodeDecodeError, RecursionError):  # not UTF-8, or nested past any request's depth
        return PARSE_ERROR
    if not isinstance(request, JSONRPCRequest):  # a batch: not part of this protocol
        return b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "no batches"}}'
    try:
        result = session.call(request.method, request.kwargs or {})
    except (RPCError, Rejection) as err:
        response = request.error_respond(err)
    else:
        response = request.respond(result)
    return None if response is None else bytes(response.serialize())


class Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...
    def flush(self) -> object: ...


MAX_NESTING = 64  # no request of the protocol nests deeper than a few levels
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(line: bytes) -> int:
    """How deep the line's arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _STRINGS.sub(b"", line).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class Reader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


# A request longer than this is refused whole (a Parse error) without being held in memory.
MAX_REQUEST = 64 << 20
PARSE_ERROR = b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}'


def request_lines(reader: Reader, limit: int = MAX_REQUEST) -> Iterator[bytes | None]:
    """Each request line, or None for one longer than `limit` (read past in bounded pieces)."""
    while line := reader.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        while (rest := reader.readline(limit + 1)) and not rest.endswith(b"\n"):
            pass
        yield None


def serve_stream(session: Session, reader: Reader, writer: Writer) -> None:
    protocol = JSONRPCProtocol()
    for line in request_lines(reader):
        if line is not None and not line.strip():
            continue
        reply = PARSE_ERROR if line is None else answer(session, protocol, line)
        if reply is not None:
            writer.write(reply + b"\n")
            writer.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m alys.serve", description=__doc__.splitlines()[0])
    parser.add_argument("variant", nargs="?", default="alys")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdin/stdout")
    args = parser.parse_args(argv)
    build(args.variant)  # an unknown variant fails here, before anything is served
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        variant = args.variant

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                serve_stream(Session(variant), self.rfile, self.wfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        with socketserver.ThreadingTCPServer((host, int(port)), Handler) as server:
            server.daemon_threads = True
            print(f"listening on {host}:{server.server_address[1]}", file=sys.stderr, flush=True)
            server.serve_forever()
    else:
        out = sys.stdout.buffer
        sys.stdout = sys.stderr  # anything the port prints must not land in the protocol stream
        serve_stream(Session(args.variant), sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
