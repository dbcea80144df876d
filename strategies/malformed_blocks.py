"""Structure-aware bad input for the block and transaction decoders (issue 14, item 5).

Each strategy decodes a valid encoding to its tree, breaks the tree in one named way, and encodes
it again with an encoder that can write what no library writes: RLP length forms long, with a
leading zero, or a single byte wrapped; MessagePack integers, strings and arrays in wider forms
than the minimal ones. The ways (`RLP_WAYS`, `WIRE_WAYS`) are the classes of bad input the
mutation-free strategies never made: non-minimal length forms, type confusion (list / string /
integer / map), nesting thousands deep, huge element counts, over-long digit strings, hex case
and whitespace. Every result is something the references must refuse with their typed error.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
import msgpack
import rlp
from attrs import field, frozen
from hypothesis import strategies as st

from alys_pbt.models import evm
from alys_pbt.models.blocks import block_to_bytes
from alys_pbt.models.reprs import pretty_as_repr, short_bytes
from alys_pbt.strategies.evm import evm_transactions

# --- RLP ---------------------------------------------------------------------------------------------

RLP_WAYS = (
    "long-length-form",
    "length-with-leading-zero",
    "wrapped-single-byte",
    "integer-with-leading-zero",
    "list-as-integer",
    "string-as-list",
    "deep-nesting",
    "huge-count",
    "over-wide-integer",
    "extra-field",
    "missing-field",
    "trailing-bytes",
)
INTEGER_FIELDS = {0: (0, 1, 2, 4, 6, 7, 8), 2: (0, 1, 2, 3, 4, 6, 9, 10, 11)}  # legacy / type 2


def _length(size: int, base: int, form: str = "canonical") -> bytes:
    """An RLP length header; `form` "long" writes the long form even below 56, "zero" pads the
    length of the length with a leading zero byte."""
    if size < 56 and form == "canonical":
        return bytes([base + size])
    raw = size.to_bytes(max(1, (size.bit_length() + 7) // 8), "big")
    if form == "zero":
        raw = b"\x00" + raw
    return bytes([base + 55 + len(raw)]) + raw


def rlp_encode(item: Any, forms: dict[int, str] | None = None, counter: list[int] | None = None) -> bytes:
    """RLP of a tree of bytes and lists, node i (pre-order) written in `forms[i]` ("canonical",
    "long", "zero", "wrapped"). Iterative in spirit for lists built here: depth stays at the tree's."""
    forms = forms or {}
    counter = counter if counter is not None else [0]
    index = counter[0]
    counter[0] += 1
    form = forms.get(index, "canonical")
    if isinstance(item, list):
        payload = b"".join(rlp_encode(x, forms, counter) for x in item)
        return _length(len(payload), 0xC0, form) + payload
    raw = bytes(item)
    if len(raw) == 1 and raw[0] < 0x80 and form == "canonical":
        return raw
    if form == "wrapped" or (len(raw) == 1 and raw[0] < 0x80):
        return b"\x81" + raw if len(raw) == 1 else _length(len(raw), 0x80) + raw
    return _length(len(raw), 0x80, form) + raw


def nested_rlp(depth: int, core: bytes = b"\xc0") -> bytes:
    """`depth` lists, each holding the next (built bottom-up, without recursion)."""
    item = core
    for _ in range(depth):
        item = _length(len(item), 0xC0) + item
    return item


def _nodes(item: Any) -> int:
    """How many nodes `item` is in pre-order (itself and everything inside it)."""
    return 1 + sum(_nodes(x) for x in item) if isinstance(item, list) else 1


def _preorder(fields: list[Any]) -> list[int]:
    """The pre-order index (rlp_encode's `forms` key) of each top-level field; the list is node 0.
    A field after a nested list (an access list) is not at its position plus one."""
    at, indices = 1, []
    for item in fields:
        indices.append(at)
        at += _nodes(item)
    return indices


@st.composite
def malformed_transactions(draw: st.DrawFn, *, ways: tuple[str, ...] = RLP_WAYS) -> tuple[bytes, str]:
    """A signed transaction broken in one structural way: (bytes, the way)."""
    tx = draw(evm_transactions())
    raw = tx.to_bytes()
    kind = 2 if raw[0] == 2 else 0
    prefix, body = (raw[:1], raw[1:]) if kind == 2 else (b"", raw)
    fields: list[Any] = rlp.decode(body)
    way = draw(st.sampled_from(ways), label="way")
    ints = INTEGER_FIELDS[kind]
    at = draw(st.sampled_from(ints), label="field")
    if way == "long-length-form":
        short = [
            node
            for node, f in zip(_preorder(fields), fields, strict=True)
            if not isinstance(f, list) and len(f) < 56 and not (len(f) == 1 and f[0] < 0x80)
        ]
        node = draw(st.sampled_from(short), label="node")  # the transaction's own list is never short
        return prefix + rlp_encode(fields, {node: "long"}), way
    if way == "length-with-leading-zero":
        return prefix + rlp_encode(fields, {0: "zero"}), way
    if way == "wrapped-single-byte":
        fields[at] = bytes([draw(st.integers(0, 0x7F))])
        return prefix + rlp_encode(fields, {_preorder(fields)[at]: "wrapped"}), way
    if way == "integer-with-leading-zero":
        fields[at] = b"\x00" * draw(st.integers(1, 3)) + fields[at]
    elif way == "list-as-integer":
        fields[at] = draw(st.sampled_from([[], [b""], [fields[at]], [[]]]))
    elif way == "string-as-list":
        fields = [b"".join(f if isinstance(f, bytes) else b"" for f in fields)]
        return prefix + rlp_encode(fields[0]), way  # the transaction itself is a string
    elif way == "deep-nesting":
        depth = draw(st.sampled_from([64, 999, 1000, 1001, 3000]) | st.integers(5, 5000), label="depth")
        payload = b"".join(rlp_encode(f) if i != at else nested_rlp(depth) for i, f in enumerate(fields))
        return prefix + _length(len(payload), 0xC0) + payload, way
    elif way == "huge-count":
        count = draw(st.sampled_from([10_000, 40_000]) | st.integers(1_000, 40_000), label="count")
        payload = b"".join(
            rlp_encode(f) if i != at else _length(count, 0xC0) + b"\x80" * count for i, f in enumerate(fields)
        )
        return prefix + _length(len(payload), 0xC0) + payload, way
    elif way == "over-wide-integer":
        width = 9 if at in ((0, 2) if kind == 0 else (1, 4)) or (kind == 0 and at == 6) else 33
        fields[at] = b"\x01" * draw(st.integers(width, width + 4))
    elif way == "extra-field":
        fields.append(draw(st.binary(max_size=3)))
    elif way == "missing-field":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif way == "trailing-bytes":
        return raw + draw(st.binary(min_size=1, max_size=4)), way
    return prefix + rlp_encode(fields), way


# --- MessagePack: the block wire form ----------------------------------------------------------------

WIRE_WAYS = (
    "hex-upper-case",
    "hex-whitespace",
    "hex-without-prefix",
    "decimal-leading-zeros",
    "decimal-sign",
    "long-digits",
    "type-confusion",
    "map-for-struct",
    "deep-nesting",
    "huge-count",
    "non-minimal-integer",
    "non-minimal-string",
    "non-minimal-array",
    "trailing-bytes",
)


def _msgpack(value: Any, **options: Any) -> bytes:
    packed: bytes = msgpack.packb(value, **options)  # msgpack ships no types
    return packed


def pack(value: Any, wide: frozenset[int] = frozenset(), counter: list[int] | None = None) -> bytes:
    """MessagePack of `value`; the nodes numbered in `wide` (pre-order) take their widest form
    (uint64 for a non-negative integer, str32 / bin32 / array32), which rmp-serde never writes."""
    counter = counter if counter is not None else [0]
    index = counter[0]
    counter[0] += 1
    if index not in wide:
        if isinstance(value, list):
            n = len(value)
            head = (
                bytes([0x90 | n])
                if n < 16
                else (b"\xdc" + struct.pack(">H", n) if n < 1 << 16 else b"\xdd" + struct.pack(">I", n))
            )
            return head + b"".join(pack(x, wide, counter) for x in value)
        return _msgpack(value, use_bin_type=True)
    if isinstance(value, bool) or value is None:
        return _msgpack(value)
    if isinstance(value, int):
        return b"\xcf" + struct.pack(">Q", value) if value >= 0 else b"\xd3" + struct.pack(">q", value)
    if isinstance(value, str):
        raw = value.encode()
        return b"\xdb" + struct.pack(">I", len(raw)) + raw
    if isinstance(value, bytes):
        return b"\xc6" + struct.pack(">I", len(value)) + value
    if isinstance(value, list):
        return b"\xdd" + struct.pack(">I", len(value)) + b"".join(pack(x, wide, counter) for x in value)
    return _msgpack(value, use_bin_type=True)


def _paths(tree: Any) -> list[tuple[tuple[int, ...], Any]]:
    """Every node of the tree with its path, pre-order (the order `pack` numbers them in)."""
    out: list[tuple[tuple[int, ...], Any]] = []
    stack: list[tuple[tuple[int, ...], Any]] = [((), tree)]
    while stack:
        path, node = stack.pop()
        out.append((path, node))
        if isinstance(node, list):
            stack.extend(reversed([((*path, i), x) for i, x in enumerate(node)]))
    return out


def _put(tree: Any, path: tuple[int, ...], value: Any) -> Any:
    if not path:
        return value
    node = tree
    for i in path[:-1]:
        node = node[i]
    node[path[-1]] = value
    return tree


def _is_hex(x: Any) -> bool:
    return isinstance(x, str) and x.startswith("0x")


def _is_decimal(x: Any) -> bool:
    return isinstance(x, str) and x.isdigit()


PAYLOAD = (0, 3)  # message.execution_payload
WITHDRAWALS = (0, 3, 14)
TRANSACTIONS = (0, 3, 13)


@st.composite
def malformed_wire_blocks(draw: st.DrawFn, *, ways: tuple[str, ...] = WIRE_WAYS) -> tuple[bytes, str]:
    """A valid block's wire form broken in one structural way: (bytes, the way)."""
    from alys_pbt.strategies.blocks import signed_blocks

    signed = draw(signed_blocks(length=st.integers(1, 4), forks=st.just(0)), label="block")
    raw = block_to_bytes(signed)
    tree = msgpack.unpackb(raw, raw=False)
    nodes = _paths(tree)
    way = draw(st.sampled_from(ways), label="way")

    def pick(cond: Any, label: str) -> tuple[tuple[int, ...], Any]:
        picked: tuple[tuple[int, ...], Any] = draw(
            st.sampled_from([(p, x) for p, x in nodes if cond(p, x)]), label=label
        )
        return picked

    if way == "hex-upper-case":
        path, value = pick(lambda p, x: _is_hex(x) and any(c in "abcdef" for c in x[2:]), "hex field")
        upper = "0x" + "".join(c.upper() if draw(st.booleans()) else c for c in value[2:])
        if upper == value:
            upper = "0x" + value[2:].upper()
        return msgpack.packb(_put(tree, path, upper), use_bin_type=True), way
    if way == "hex-whitespace":
        path, value = pick(lambda p, x: _is_hex(x), "hex field")
        at = draw(st.integers(2, len(value)))
        space = draw(st.sampled_from([" ", "\t", "\n", "\r", "  "]))
        return msgpack.packb(_put(tree, path, value[:at] + space + value[at:]), use_bin_type=True), way
    if way == "hex-without-prefix":
        path, value = pick(lambda p, x: _is_hex(x), "hex field")
        return msgpack.packb(
            _put(tree, path, draw(st.sampled_from(["", "0X", "x"])) + value[2:]), use_bin_type=True
        ), way
    if way == "decimal-leading-zeros":
        path, value = pick(lambda p, x: _is_decimal(x), "decimal field")
        return msgpack.packb(_put(tree, path, "0" * draw(st.integers(1, 30)) + value), use_bin_type=True), way
    if way == "decimal-sign":
        path, value = pick(lambda p, x: _is_decimal(x), "decimal field")
        return msgpack.packb(
            _put(tree, path, draw(st.sampled_from(["+", "-", " "])) + value), use_bin_type=True
        ), way
    if way == "long-digits":
        path, _ = pick(lambda p, x: _is_decimal(x), "decimal field")
        # Past the widest integer field (a u256 has at most 78 digits), so every field refuses it;
        # each field just past its own width is tests/test_block_decoding_vectors.py's
        # test_every_integer_field_holds_at_and_past_its_width.
        digits = draw(st.sampled_from([79, 4300, 4301, 5000]) | st.integers(79, 6000), label="digits")
        return msgpack.packb(_put(tree, path, "9" + "0" * (digits - 1)), use_bin_type=True), way
    if way == "type-confusion":
        path, value = pick(lambda p, x: len(p) >= 1, "field")
        kinds: dict[type, list[Any]] = {
            list: [[], [value]],
            str: ["", "0x"],
            int: [0, 2**64 - 1, -1],
            bytes: [b"", b"\x00" * 32],
            float: [1.5],
            dict: [{}],
            bool: [True],
        }
        others = [
            v
            for t, vs in kinds.items()
            if not isinstance(value, t) and not (t is int and isinstance(value, bool))
            for v in vs
        ]
        return msgpack.packb(_put(tree, path, draw(st.sampled_from(others))), use_bin_type=True), way
    if way == "map-for-struct":
        path, value = pick(
            lambda p, x: isinstance(x, list) and len(x) >= 2 and p in ((), (0,), PAYLOAD, (1,)), "struct"
        )
        return msgpack.packb(
            _put(tree, path, {str(i): v for i, v in enumerate(value)}), use_bin_type=True
        ), way
    if way == "deep-nesting":
        path, _ = pick(lambda p, x: len(p) >= 1, "field")
        depth = draw(st.sampled_from([999, 1000, 1001, 3000]) | st.integers(2, 5000), label="depth")
        marker = "\x00nest\x00"
        body = msgpack.packb(_put(tree, path, marker), use_bin_type=True)
        return body.replace(msgpack.packb(marker), b"\x91" * depth + b"\x90", 1), way
    if way == "huge-count":
        target = draw(st.sampled_from(["transactions", "withdrawals", "pegins", "array"]), label="list")
        if target == "transactions":
            count = draw(st.sampled_from([16_385, 100_000, 350_000]), label="count")
            return msgpack.packb(_put(tree, TRANSACTIONS, ["0x"] * count), use_bin_type=True), way
        if target == "withdrawals":
            count = draw(st.integers(17, 1000), label="count")
            return msgpack.packb(
                _put(tree, WITHDRAWALS, [["0", "0", "0x" + "00" * 20, "1"]] * count), use_bin_type=True
            ), way
        if target == "pegins":
            count = draw(st.integers(16_000, 30_000), label="count")  # over 1 MiB of valid pairs
            return msgpack.packb(
                _put(tree, (0, 4), [[b"\x00" * 32, b"\x00" * 32]] * count), use_bin_type=True
            ), way
        count = draw(st.sampled_from([65_537, 200_000]), label="count")
        return msgpack.packb(_put(tree, (0, 6), [[]] * count), use_bin_type=True), way
    if way in ("non-minimal-integer", "non-minimal-string", "non-minimal-array"):
        want: Callable[[Any], bool] = {
            "non-minimal-integer": lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= 0,
            "non-minimal-string": lambda x: isinstance(x, (str, bytes)),
            "non-minimal-array": lambda x: isinstance(x, list),
        }[way]
        candidates = [i for i, (_, x) in enumerate(nodes) if want(x)]
        return pack(tree, frozenset([draw(st.sampled_from(candidates), label="node")])), way
    return raw + draw(st.binary(min_size=1, max_size=4)), way  # trailing-bytes


# --- a valid block's wire bytes mangled as bytes (flip, cut, append, or arbitrary) ------------------


MANGLINGS = ("arbitrary", "truncate", "append", "flip")


@frozen
class MangledBlock:
    """A valid block's wire bytes (`raw`) and, mangled `how`, the bytes a decoder is given (`bad`)."""

    raw: bytes = field(repr=short_bytes)
    how: str
    bad: bytes = field(repr=short_bytes)

    _repr_pretty_ = pretty_as_repr


@st.composite
def mangled_wire_blocks(draw: st.DrawFn, *, hows: tuple[str, ...] = MANGLINGS) -> MangledBlock:
    """A generated block's wire bytes, and the same bytes truncated, extended, with one byte
    flipped, or arbitrary bytes instead (the byte-level classes; `malformed_wire_blocks` breaks the
    tree)."""
    from alys_pbt.strategies.blocks import signed_blocks

    raw = block_to_bytes(draw(signed_blocks(), label="block"))
    how = draw(st.sampled_from(hows), label="mangling")
    if how == "arbitrary":
        bad = draw(st.binary(max_size=300))
    elif how == "truncate":
        bad = raw[: draw(st.integers(0, len(raw) - 1), label="cut at")]
    elif how == "append":
        bad = raw + draw(st.binary(min_size=1, max_size=4), label="appended")
    else:
        at = draw(st.integers(0, len(raw) - 1), label="flip at")
        bad = raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255), label="xor")]) + raw[at + 1 :]
    return MangledBlock(raw, how, bad)


# --- a valid block's tree edited at one place (limits probed at, below and past them) --------------


def with_value(raw: bytes, path: tuple[int, ...], value: Any) -> bytes:
    """The block whose MessagePack tree holds `value` at `path` (indexes from the root array)."""
    tree = msgpack.unpackb(raw, raw=False)
    node = tree
    for i in path[:-1]:
        node = node[i]
    node[path[-1]] = value
    return _msgpack(tree, use_bin_type=True)


def exactly_sized(raw: bytes, size: int) -> bytes:
    """The block grown to exactly `size` bytes by two more transactions: an empty one ("0x", three
    bytes, to set the parity) and one of zeros (two hex digits per byte)."""
    tree = msgpack.unpackb(raw, raw=False)
    txs = tree[0][3][13]
    for empties in (0, 1):
        grown = [*txs, *(["0x"] * empties), "0x"]
        tree[0][3][13] = grown
        fixed = len(msgpack.packb(tree, use_bin_type=True))
        for header in (0, 1, 2, 4):  # the bytes a longer string header takes
            digits = size - fixed - header
            if digits >= 0 and digits % 2 == 0:
                grown[-1] = "0x" + "00" * (digits // 2)
                packed = _msgpack(tree, use_bin_type=True)
                if len(packed) == size:
                    return packed
        tree[0][3][13] = txs
    raise AssertionError(f"cannot grow a {len(raw)}-byte block to {size} bytes")


def sized_transaction(size: int, tx: Any, secret: int) -> bytes:
    """`tx` signed by `secret`, its calldata sized so that the encoding is exactly `size` bytes (r and
    s are one byte shorter for some messages, so other calldata bytes are tried where one misses)."""

    def signed(data_len: int, fill: int) -> bytes:
        return evm.sign(attrs.evolve(tx, data=bytes([fill]) * data_len), secret).to_bytes()

    estimate = size - 200
    estimate += size - len(signed(estimate, 0x5A))
    for fill in range(0x41, 0x61):
        for data_len in (estimate, estimate - 1, estimate + 1, estimate - 2, estimate + 2):
            raw = signed(data_len, fill)
            if len(raw) == size:
                return raw
    raise AssertionError(f"no calldata gives a {size}-byte transaction")
