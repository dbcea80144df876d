"""Block decoding: the wire form of a SignedConsensusBlock and its signing root.

The wire form is rmp_serde of the block (models/blocks.py, alys/wire.py's docs): each struct a
MessagePack array of its fields in declaration order, hashes as "0x" + lowercase hex, the
payload's quantities as canonical decimal strings, Bitcoin hashes and scripts as raw bin. A
decoder reads only the one form the node's serializer writes (suite hardening: one wire form per
block) within bounds: 1 MiB, at most 16 withdrawals, 32 bytes of extra_data, exactly 256 of
logs_bloom, 16,384 transactions, arrays of at most 65,536 items.

An ok verdict gives the block's signing root (tree_hash::merkle_root(rmp_serde::to_vec(block), 0)),
its height and its approval (SSZ aggregation bits, aggregate signature). The expected outputs come
from the reference decoder (models/blocks.py block_from_bytes). Replay decodes with the target's
`chain.decode_block` and computes these outputs of what it decoded with the reference encoder
(the target's objects read by attribute), as properties/test_block_decoders.py does: a decoder that
reads a field wrongly gives another root.

Cases: blocks of drawn chains; one or more per structure-aware way of breaking the wire form
(strategies/malformed_blocks.py WIRE_WAYS); every limit at, just below and just past it; the
regression vector of quirk chain-wire-form-lenient. The node as coded (that quirk) also takes
upper-case hex, whitespace in hex, decimals with leading zeros or '+' and wider MessagePack forms:
the cases it answers wrongly are found by reading them the lenient way with the reference
(`lenient_accepts`) and tagged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import msgpack
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import blocks
from alys_pbt.models.approvals import AggregateApproval
from alys_pbt.strategies.blocks import signed_blocks
from alys_pbt.strategies.malformed_blocks import WIRE_WAYS, exactly_sized, malformed_wire_blocks, with_value
from alys_pbt.vectors.families.chain import HEX, U64, _object, hex_of
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, from_hex, hex_bytes, sample

LENIENT = "chain-wire-form-lenient"
NODE_SOURCE = "app/src/block.rs SignedConsensusBlock (serde derive), rmp_serde::from_slice"

# Where each way's rule comes from (the case's origin and source).
WAY_ORIGINS: dict[str, tuple[str, str]] = {
    "hex-upper-case": (
        "suite-hardening",
        "one wire form: impl-serde writes lowercase (its from_hex_raw reads both)",
    ),
    "hex-whitespace": ("suite-hardening", "one wire form: impl-serde's from_hex_raw skips whitespace"),
    "hex-without-prefix": ("node", "impl-serde serialize.rs from_hex: FromHexError::MissingPrefix"),
    "decimal-leading-zeros": (
        "suite-hardening",
        "one wire form: quoted_u64 writes no leading zeros (u64::from_str takes them)",
    ),
    "decimal-sign": ("suite-hardening", "one wire form: u64::from_str takes '+', quoted_u64 never writes it"),
    "long-digits": ("node", "serde_utils quoted_u64 / quoted_u256: the number overflows"),
    "type-confusion": ("node", "serde: a value of the wrong type for the field"),
    "map-for-struct": (
        "suite-hardening",
        "one wire form: rmp_serde writes structs as arrays (it reads maps too)",
    ),
    "deep-nesting": ("suite-hardening", "bounded decoding: nesting beyond the block's structure"),
    "huge-count": (
        "suite-hardening",
        "bounded decoding: MAX_TRANSACTIONS, MAX_WITHDRAWALS, MAX_ARRAY_LEN, 1 MiB",
    ),
    "non-minimal-integer": ("suite-hardening", "one wire form: rmp writes the smallest integer form"),
    "non-minimal-string": ("suite-hardening", "one wire form: rmp writes the smallest string/bin form"),
    "non-minimal-array": ("suite-hardening", "one wire form: rmp writes the smallest array form"),
    "trailing-bytes": ("node", "rmp_serde::from_slice refuses bytes after the value"),
}

OUTPUTS_SCHEMA = _object(
    {
        "signing_root": hex_of(32),
        "height": U64,
        "aggregation_bits": hex_of(2),
        "aggregate_signature": hex_of(96),
    }
)
INPUTS_SCHEMA = _object({"block": HEX})
__all__ = ["RULES", "lenient_accepts"]


def outputs_of(signed: Any) -> Outputs:
    """What an ok verdict states about a decoded block, computed with the reference's encoder."""
    approval = AggregateApproval(tuple(signed.signature.bits), signed.signature.signature)
    return {
        "signing_root": hex_bytes(blocks.signing_root(signed.message)),
        "height": signed.message.execution_payload.block_number,
        "aggregation_bits": hex_bytes(approval.ssz_bits()),
        "aggregate_signature": hex_bytes(approval.signature if approval.signature is not None else bytes(96)),
    }


def expected_for(raw: bytes) -> Expected:
    try:
        signed = blocks.block_from_bytes(raw)
    except blocks.DecodeError:
        return Expected.raises("DecodeError")
    return Expected.ok(**outputs_of(signed))


# --- the quirk, read with the reference: which bad forms the node as coded takes ----------------------

_ANY_HEX = re.compile(r"[0-9a-fA-F \t\r\n]*")


def _normalized_string(value: str) -> str:
    """A string as the lenient readers see it: hex lowercased without whitespace (impl-serde's
    from_hex_raw), decimals without '+' and leading zeros (u64::from_str)."""
    if value.startswith("0x"):
        digits = value[2:]
        return "0x" + re.sub(r"[ \t\r\n]", "", digits).lower() if _ANY_HEX.fullmatch(digits) else value
    if value[1 if value[:1] == "+" else 0 :]:
        return value.removeprefix("+").lstrip("0") or "0"
    return value


def _normalized(tree: Any) -> Any:
    """Every string of the tree normalized in place (iteratively: the tree may nest thousands deep)."""
    if not isinstance(tree, list):
        return _normalized_string(tree) if isinstance(tree, str) else tree
    stack = [tree]
    while stack:
        node = stack.pop()
        for i, x in enumerate(node):
            if isinstance(x, list):
                stack.append(x)
            elif isinstance(x, str):
                node[i] = _normalized_string(x)
    return tree


def lenient_accepts(raw: bytes) -> bool:
    """Whether the node's lenient readers take `raw` (any MessagePack width, the forms above)."""
    if len(raw) > blocks.MAX_BLOCK_BYTES:
        return False
    try:
        tree = blocks._unpack(raw)
        blocks.block_from_bytes(msgpack.packb(_normalized(tree), use_bin_type=True))
    except (blocks.DecodeError, ValueError, TypeError, RecursionError):
        return False
    return True


def _case(
    name: str, raw: bytes, *, note: str = "", origin: str | None = None, source: str | None = None
) -> Case:
    expected = expected_for(raw)
    quirks = (LENIENT,) if expected.verdict == "error" and lenient_accepts(raw) else ()
    return Case(
        name, {"block": hex_bytes(raw)}, expected, origin=origin, source=source, quirks=quirks, note=note
    )


# --- boundaries ---------------------------------------------------------------------------------------


def _witness_of(raw: bytes, items: int) -> bytes:
    """A finalized peg-out whose one witness element is an array of `items` u8 (rust-bitcoin's form)."""
    tx = [2, 0, [[[b"\x00" * 32, 0], b"", 0xFFFFFFFF, [[1] * items]]], [[0, b"\x51"]]]
    return with_value(raw, (0, 6), [tx])


# (name, build from a valid block's bytes, origin, source)
LIMITS: tuple[tuple[str, Callable[[bytes, int], bytes], str, str], ...] = (
    (
        "withdrawals",
        lambda raw, n: with_value(raw, (0, 3, 14), [["0", "0", "0x" + "0a" * 20, "1"]] * n),
        "node",
        "lighthouse MainnetEthSpec MaxWithdrawalsPerPayload = 16 (ssz_types VariableList)",
    ),
    (
        "extra-data",
        lambda raw, n: with_value(raw, (0, 3, 10), "0x" + "ee" * n),
        "node",
        "MaxExtraDataBytes = 32",
    ),
    (
        "logs-bloom",
        lambda raw, n: with_value(raw, (0, 3, 4), "0x" + "00" * n),
        "node",
        "BytesPerLogsBloom = 256 (FixedVector)",
    ),
    (
        "transactions",
        lambda raw, n: with_value(raw, (0, 3, 13), ["0x"] * n),
        "suite-hardening",
        "MAX_TRANSACTIONS = 16,384 (the node's MaxTransactionsPerPayload is 2^20; 1,428 fit 30M gas)",
    ),
    (
        "array-length",
        _witness_of,
        "suite-hardening",
        "MAX_ARRAY_LEN = 65,536 items per array (bounded unpacking)",
    ),
    (
        "size",
        exactly_sized,
        "suite-hardening",
        "MAX_BLOCK_BYTES = 1 MiB: alys-rules.md §5.1, the RPC's largest chunk",
    ),
)
LIMIT_VALUES = {
    "withdrawals": blocks.MAX_WITHDRAWALS,
    "extra-data": blocks.MAX_EXTRA_DATA,
    "logs-bloom": blocks.LOGS_BLOOM_BYTES,
    "transactions": blocks.MAX_TRANSACTIONS,
    "array-length": blocks.MAX_ARRAY_LEN,
    "size": blocks.MAX_BLOCK_BYTES,
}


def _boundaries(base: bytes) -> list[Case]:
    cases = []
    for name, build, origin, source in LIMITS:
        limit = LIMIT_VALUES[name]
        # The size limit is probed at and past it only: a block just below 1 MiB is 2 MiB of hex more
        # in the vector set, and every other valid case is below it.
        deltas = ((0, "at"), (1, "past")) if name == "size" else ((-1, "below"), (0, "at"), (1, "past"))
        for delta, where in deltas:
            raw = build(base, limit + delta)
            cases.append(
                _case(
                    f"boundary-{name}-{where}-{limit + delta}",
                    raw,
                    origin=origin,
                    source=source,
                    note=f"{name} {where} the limit of {limit}",
                )
            )
    return cases


def _smallest(way: str, seed: int) -> tuple[bytes, str]:
    """Of a few blocks broken in `way`, the shortest (keeps the vector set small)."""
    return min(
        sample(malformed_wire_blocks(ways=(way,)), seed_value=seed, n=3), key=lambda x: (len(x[0]), x[0])
    )


def _generate(seed: int, cases_per_rule: int) -> list[Case]:
    valid = sample(
        signed_blocks(length=st.integers(1, 4), forks=st.just(0)), seed_value=seed, n=cases_per_rule
    )
    cases = [_case(f"valid-{i:04d}", blocks.block_to_bytes(s)) for i, s in enumerate(valid)]
    for k, way in enumerate(WIRE_WAYS):
        raw, _ = _smallest(way, seed + 1 + k)
        origin, source = WAY_ORIGINS[way]
        cases.append(
            _case(
                f"corruption-{way}",
                raw,
                origin=origin,
                source=source,
                note=f"the wire form broken one way: {way}",
            )
        )
    base = (
        blocks.block_to_bytes(valid[0])
        if valid
        else blocks.block_to_bytes(
            sample(signed_blocks(length=st.integers(1, 2), forks=st.just(0)), seed_value=seed, n=1)[0]
        )
    )
    cases += _boundaries(base)
    state_root = "0x" + msgpack.unpackb(base, raw=False)[0][3][2][2:].upper()
    quirk = _case(
        f"quirk-{LENIENT}",
        with_value(
            base, (0, 3, 2), state_root if state_root != "0x" + state_root[2:].lower() else "0x" + "AB" * 32
        ),
        origin="suite-hardening",
        source="one wire form per block (impl-serde from_hex_raw takes upper case as coded)",
        note="a valid block with its state root in upper-case hex: refused",
    )
    assert quirk.quirks == (LENIENT,), "the quirk's vector must be one the lenient node takes"
    return [*cases, quirk]


def replay(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return outputs_of(target.chain.decode_block(from_hex(inputs["block"])))


RULES: tuple[Rule, ...] = (
    Rule(
        id="blocks/decode",
        summary="decode a SignedConsensusBlock from its wire form (rmp_serde) and give its signing root",
        origin="node",
        source=f"{NODE_SOURCE}; signing root tree_hash::merkle_root(rmp_serde::to_vec(block), 0) "
        "(alys-rules.md §2.2)",
        generate=_generate,
        replay=replay,
        component="chain",
        inputs_schema=INPUTS_SCHEMA,
        outputs_schema=OUTPUTS_SCHEMA,
    ),
)
