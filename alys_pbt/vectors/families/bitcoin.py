"""Conformance vectors for Bitcoin consensus decoding: headers, transactions, AuxPoW bytes, merkle roots.

Expected verdicts come from the reference (`models/bitcoin.py`, `models/auxpow.py`), which is at least
as strict as Bitcoin Core and rust-bitcoin 0.30 (the node's decoder). Bad input comes from the
structure-aware mutations of `strategies/malformed_bitcoin.py` and from the boundaries of the
encoding: every CompactSize form at its edges, MAX_SIZE and MAX_VEC_SIZE either side, a cut at every
field boundary, a byte past the end.

A rule only Bitcoin Core has (`CORE_ONLY_RULES`: the segwit flag on a transaction without inputs)
is left out of these vectors: rust-bitcoin, and so the node, reads such bytes, and the vector format
holds one verdict per case.

The helpers at the top (schemas, seeds, the reference's verdict) are shared by the `auxpow` and
`retarget` families.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models.auxpow import AuxPow
from alys_pbt.models.bitcoin import (
    CORE_ONLY_RULES,
    MAX_SIZE,
    MAX_VEC_SIZE,
    NULL_OUTPOINT,
    BlockHeader,
    DecodeError,
    MerkleBranch,
    Transaction,
    TxIn,
    TxOut,
    merkle_root,
)
from alys_pbt.strategies.bitcoin import block_headers, coinbase_transactions, merkle_trees, transactions
from alys_pbt.strategies.malformed_bitcoin import (
    HOWS,
    Kind,
    compact_size,
    encode,
    malformed_bitcoin,
    tx_fields,
)
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, T, from_hex, hex_bytes, sample

# --- Shared by the Bitcoin, AuxPoW and retarget families ------------------------------------------

HEX: dict[str, Json] = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}
HASH32: dict[str, Json] = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
U32: dict[str, Json] = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
NAT: dict[str, Json] = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
# An unsigned integer as `to_json_int` writes it: a number below 2^53, decimal digits above.
BIG_NAT: dict[str, Json] = {
    "oneOf": [
        {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
        {"type": "string", "pattern": "^[1-9][0-9]{15,}$"},
    ]
}
BOOL: dict[str, Json] = {"type": "boolean"}

# Where the decoding rules come from (models/bitcoin.py DECODE_RULES names each error's origins).
RUST_BITCOIN = "rust-bitcoin 0.30 consensus/encode.rs (the node's decoder, app/src/auxpow.rs)"
CORE_SERIALIZE = "Bitcoin Core src/serialize.h, src/primitives/transaction.h"


def obj(properties: Mapping[str, Json], *, optional: tuple[str, ...] = ()) -> dict[str, Json]:
    """An exact JSON Schema object: these properties, all required but `optional`, nothing else."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": [k for k in properties if k not in optional],
        "additionalProperties": False,
    }


def array_of(item: Json, *, min_items: int = 0) -> dict[str, Json]:
    return {"type": "array", "items": item, "minItems": min_items}


def seed_for(seed: int, *parts: object) -> int:
    """A per-draw seed from the run's seed and a label: the same label gives the same values."""
    text = "/".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def draw(strategy: st.SearchStrategy[T], seed: int, *label: object, n: int = 1) -> list[T]:
    """`n` values of `strategy`, deterministic for (seed, label)."""
    return sample(strategy, seed_value=seed_for(seed, *label), n=n) if n > 0 else []


def reference_verdict(compute: Callable[[], Outputs]) -> Expected:
    """The reference's verdict: ok with its outputs, or the class name of the error it raised."""
    try:
        outputs = compute()
    except Exception as err:  # noqa: BLE001 - the class name is the verdict (alys_pbt/verdict.py)
        return Expected.raises(type(err).__name__)
    return Expected.ok(**outputs)


def unique_names(cases: list[Case]) -> list[Case]:
    """Fail loudly if two cases of a rule share a name (the runner names files after them)."""
    seen: set[str] = set()
    for c in cases:
        if c.name in seen:
            raise ValueError(f"duplicate case name {c.name!r}")
        seen.add(c.name)
    return cases


def slug(text: str) -> str:
    """A case-name fragment: lowercase letters, digits and single dashes."""
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


# --- Headers ----------------------------------------------------------------------------------------

GENESIS_HEADER = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
)
GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
)
# Real pool coinbases the node's own tests decode (alys-rules.md §7): Marathon (segwit), Coordinate.
MARATHON = bytes.fromhex(
    "010000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff2f03bd7e0c04721566652f7a7a616d78632f76649b3c094f135bf4b83108c14ea85f12edd2045a0075000000ffffffffffffffff039df4662700000000160014b6f3cfc20084e3b9f0d12b0e6f9da8fcbcf5a2d90000000000000000266a24aa21a9edb211480d24c30a0d4df77d79618af9f03c2bb0dced634e7b152af2247a9ca99c00000000000000002cfabe6d6da62edaca27060f885a1935a8f9f4401e65a6c9d936a5a9fb384a0b9fae07a983010000000000000001200000000000000000000000000000000000000000000000000000000000000000173d850d"
)
COORDINATE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff3c0349a00c04a29fb3652f4d41524120506f6f6c202876313232373233292f76649b3c094f135bf4b83108c14ea85f12e9a6e4aa00dd000000ffffffffffffffff037e27f826000000001976a9142fc701e2049ee4957b07134b6c1d771dd5a96b2188ac0000000000000000266a24aa21a9edd13261ee69d05e4d79610862cd3a6feb09b43a39c5d26cae63ca0a6501d87d4900000000000000002cfabe6d6daf39e487e7b11bf65932284dcb85290d874a76f00b3619cab549c551fed68f7a01000000000000006dc56f97"
)
# A malformed input of more than this many bytes is left out (a long script may reach MAX_VEC_SIZE);
# the CompactSize boundaries up to 0x10000 have cases of their own.
MAX_MALFORMED_BYTES = 20_000


def _per_class(n: int) -> int:
    """Malformed cases per class of `malformed_bitcoin`: a quarter of the valid ones, at least two."""
    return max(n // 4, 2)


def _header_outputs(data: bytes) -> Outputs:
    header = BlockHeader.from_bytes(data)
    return {"hash": hex_bytes(header.hash), "encoding": hex_bytes(header.to_bytes())}


def _header_case(name: str, data: bytes, **extra: Any) -> Case:
    return Case(name, {"header": hex_bytes(data)}, reference_verdict(lambda: _header_outputs(data)), **extra)


def _malformed(seed: int, kind: Kind, how: str, n: int) -> list[bytes]:
    """Malformed bytes of one class, bounded in size, without a rule only Bitcoin Core has."""
    strategy = malformed_bitcoin(kinds=(kind,), hows=(how,)).filter(
        lambda m: len(m.data) <= MAX_MALFORMED_BYTES
    )
    out = []
    for m in draw(strategy, seed, "malformed", kind, how, n=n):
        try:
            {
                "header": BlockHeader.from_bytes,
                "transaction": Transaction.from_bytes,
                "auxpow": AuxPow.from_bytes,
            }[kind](m.data)
        except DecodeError as err:
            if err.rule in CORE_ONLY_RULES:
                continue
        out.append(m.data)
    return out


def _generate_headers(seed: int, n: int) -> list[Case]:
    cases = [
        _header_case(f"valid-{i:04d}", h.to_bytes())
        for i, h in enumerate(draw(block_headers(), seed, "headers", n=n))
    ]
    for how in ("truncate", "trailing"):
        for i, data in enumerate(_malformed(seed, "header", how, _per_class(n))):
            cases.append(_header_case(f"malformed-{how}-{i:02d}", data))
    cases += [
        _header_case(
            "boundary-bitcoin-genesis", GENESIS_HEADER, origin="bitcoin-consensus", source="Bitcoin block 0"
        ),
        _header_case("boundary-empty", b""),
        _header_case("boundary-79-bytes", GENESIS_HEADER[:79]),
        _header_case("boundary-81-bytes", GENESIS_HEADER + b"\x00"),
        _header_case("boundary-all-ones", b"\xff" * 80),
    ]
    return unique_names(cases)


def _replay_header(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    port = target.auxpow
    header = port.decode_header(from_hex(inputs["header"]))
    return {"hash": hex_bytes(port.header_hash(header)), "encoding": hex_bytes(port.encode_header(header))}


# --- Transactions ------------------------------------------------------------------------------------


def _tx_outputs(data: bytes) -> Outputs:
    tx = Transaction.from_bytes(data)
    return {"txid": hex_bytes(tx.txid), "encoding": hex_bytes(tx.to_bytes())}


def _tx_case(name: str, data: bytes, **extra: Any) -> Case:
    return Case(name, {"transaction": hex_bytes(data)}, reference_verdict(lambda: _tx_outputs(data)), **extra)


V1 = (1).to_bytes(4, "little")
LEGACY = Transaction(1, (TxIn(NULL_OUTPOINT, b"\x51", 0xFFFF_FFFF),), (TxOut(0, b""),), 0)
SEGWIT = Transaction(
    2, (TxIn(NULL_OUTPOINT, b"\x51", 0xFFFF_FFFF, (bytes(32),)),), (TxOut(5000, b"\x51"),), 7
)
_IN = bytes(32) + b"\xff" * 4 + b"\x01\x51" + b"\xff" * 4  # LEGACY's input
_OUT = bytes(8) + b"\x00"  # LEGACY's output


def _with_script(length: int, prefix: int | None = None, *, present: int | None = None) -> bytes:
    """LEGACY with an output script of `length` bytes (its size in the form `prefix` forces), of which
    `present` bytes are actually there (all of them by default)."""
    script = b"\x51" * (length if present is None else present)
    body = bytes(8) + compact_size(length, prefix) + script
    return V1 + b"\x01" + _IN + b"\x01" + body + bytes(4)


def _tx_boundaries() -> list[tuple[str, bytes]]:
    legacy = LEGACY.to_bytes()
    out = [
        ("legacy-minimal", legacy),
        ("segwit-minimal", SEGWIT.to_bytes()),
        ("bitcoin-genesis-coinbase", GENESIS_COINBASE),
        ("marathon-coinbase-segwit", MARATHON),
        ("coordinate-coinbase-legacy", COORDINATE),
        # CompactSize: the largest one-byte length, the smallest and largest three-byte, the smallest
        # five-byte.
        ("script-length-0xfc", _with_script(0xFC)),
        ("script-length-0xfd", _with_script(0xFD)),
        ("script-length-0xffff", _with_script(0xFFFF)),
        ("script-length-0x10000", _with_script(0x1_0000)),
        # ... and each wider form of a value the narrower one holds.
        ("non-minimal-fd-for-0xfc", _with_script(0xFC, 0xFD)),
        ("non-minimal-fd-for-1", _with_script(1, 0xFD)),
        ("non-minimal-fe-for-0xffff", _with_script(0xFFFF, 0xFE)),
        ("non-minimal-fe-for-1", _with_script(1, 0xFE)),
        ("non-minimal-ff-for-0xffffffff", _with_script(0xFFFF_FFFF, 0xFF, present=8)),
        ("non-minimal-ff-for-1", _with_script(1, 0xFF)),
        ("non-minimal-input-count", V1 + b"\xfd\x01\x00" + _IN + b"\x01" + _OUT + bytes(4)),
        # Counts at and past Bitcoin Core's MAX_SIZE, rust-bitcoin's MAX_VEC_SIZE, and u32/u64.
        ("input-count-max-size", V1 + compact_size(MAX_SIZE) + _IN),
        ("input-count-max-size-plus-1", V1 + compact_size(MAX_SIZE + 1) + _IN),
        ("input-count-2^32", V1 + compact_size(2**32) + _IN),
        ("input-count-2^64-1", V1 + compact_size(2**64 - 1) + _IN),
        ("input-count-one-past-data", V1 + b"\x02" + _IN + b"\x01" + _OUT + bytes(4)),
        ("script-length-max-vec-absent", _with_script(MAX_VEC_SIZE, present=16)),
        ("script-length-max-vec-plus-1-absent", _with_script(MAX_VEC_SIZE + 1, present=16)),
        ("script-length-one-past-data", _with_script(2, present=1)),
        # The segwit marker and flag (BIP144): flags 0, 2 and 0xff; the flag with every witness empty.
        ("segwit-flag-0", V1 + b"\x00\x00\x01" + _IN + b"\x01" + _OUT + b"\x00" + bytes(4)),
        ("segwit-flag-2", V1 + b"\x00\x02\x01" + _IN + b"\x01" + _OUT + b"\x01\x00" + bytes(4)),
        ("segwit-flag-0xff", V1 + b"\x00\xff\x01" + _IN + b"\x01" + _OUT + b"\x01\x00" + bytes(4)),
        ("segwit-superfluous-witness", V1 + b"\x00\x01\x01" + _IN + b"\x01" + _OUT + b"\x00" + bytes(4)),
        ("segwit-witness-missing", V1 + b"\x00\x01\x01" + _IN + b"\x01" + _OUT + bytes(4)),
        ("trailing-byte", legacy + b"\x00"),
        ("empty", b""),
    ]
    # A cut at every field boundary of a legacy and a segwit transaction, and one byte into each field.
    for label, tx in (("legacy", LEGACY), ("segwit", SEGWIT)):
        fields = tx_fields(tx)
        for at in range(1, len(fields)):
            cut = encode(fields[:at])
            out.append((f"{label}-cut-before-{slug(fields[at].label)}-{at}", cut))
            out.append((f"{label}-cut-into-{slug(fields[at].label)}-{at}", cut + fields[at].to_bytes()[:1]))
        out.append((f"{label}-cut-last-byte", tx.to_bytes()[:-1]))
    return out


def _generate_transactions(seed: int, n: int) -> list[Case]:
    cases = [
        _tx_case(f"valid-{i:04d}", tx.to_bytes())
        for i, tx in enumerate(draw(transactions(), seed, "txs", n=n))
    ]
    cases += [
        _tx_case(f"valid-coinbase-{i:04d}", tx.to_bytes())
        for i, tx in enumerate(draw(coinbase_transactions(), seed, "coinbases", n=max(n // 2, 1)))
    ]
    for how in HOWS:
        for i, data in enumerate(_malformed(seed, "transaction", how, _per_class(n))):
            cases.append(_tx_case(f"malformed-{how}-{i:02d}", data))
    seen: set[bytes] = set()
    for name, data in _tx_boundaries():
        if data not in seen:  # two cuts can meet at the same byte
            seen.add(data)
            cases.append(_tx_case(f"boundary-{slug(name)}", data))
    return unique_names(cases)


def _replay_transaction(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    port = target.auxpow
    tx = port.decode_transaction(from_hex(inputs["transaction"]))
    return {"txid": hex_bytes(port.txid(tx)), "encoding": hex_bytes(port.encode_transaction(tx))}


# --- AuxPoW bytes ------------------------------------------------------------------------------------


def _auxpow_case(name: str, data: bytes) -> Case:
    return Case(
        name,
        {"auxpow": hex_bytes(data)},
        reference_verdict(lambda: {"encoding": hex_bytes(AuxPow.from_bytes(data).to_bytes())}),
    )


def _generate_auxpow_bytes(seed: int, n: int) -> list[Case]:
    from alys_pbt.strategies.auxpow import (
        auxpows,
    )  # a valid proof is ground to a target: imported when needed

    cases = [
        _auxpow_case(f"valid-{i:04d}", a.to_bytes())
        for i, a in enumerate(draw(auxpows(max_height=4), seed, "auxpows", n=n))
    ]
    for how in HOWS:
        for i, data in enumerate(_malformed(seed, "auxpow", how, _per_class(n))):
            cases.append(_auxpow_case(f"malformed-{how}-{i:02d}", data))
    # A proof over a real pool coinbase, then its chain branch length at the CompactSize edges: a
    # non-minimal zero, MAX_SIZE + 1 and 2^32 hashes (Core's range check), one hash more than present.
    coinbase = Transaction.from_bytes(COORDINATE)
    parent = BlockHeader(0x20000000, bytes(32), coinbase.txid, 0, 0x207FFFFF, 0)
    valid = AuxPow(coinbase, bytes(32), MerkleBranch((), 0), MerkleBranch((), 0), parent).to_bytes()
    at = len(COORDINATE) + 32 + 5  # the chain branch's length, after the coinbase branch (0 hashes, mask)
    head, tail = valid[:at], valid[at + 1 :]
    for label, data in (
        ("coordinate-coinbase", valid),
        ("chain-branch-length-fd-for-0", head + b"\xfd\x00\x00" + tail),
        ("chain-branch-length-max-size-plus-1", head + compact_size(MAX_SIZE + 1) + tail),
        ("chain-branch-length-2^32", head + compact_size(2**32) + tail),
        ("chain-branch-length-one-past-data", head + b"\x01" + tail),
        ("parent-cut", valid[:-1]),
        ("trailing-byte", valid + b"\x00"),
    ):
        cases.append(_auxpow_case(f"boundary-{slug(label)}", data))
    return unique_names(cases)


def _replay_auxpow_bytes(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    port = target.auxpow
    return {"encoding": hex_bytes(port.encode_auxpow(port.decode_auxpow(from_hex(inputs["auxpow"]))))}


# --- Merkle roots ------------------------------------------------------------------------------------


def _merkle_case(name: str, txids: list[bytes]) -> Case:
    return Case(
        name,
        {"txids": [hex_bytes(t) for t in txids]},
        reference_verdict(lambda: {"root": hex_bytes(merkle_root(txids))}),
    )


def _generate_merkle(seed: int, n: int) -> list[Case]:
    cases = [
        _merkle_case(f"valid-{i:04d}", t)
        for i, t in enumerate(draw(merkle_trees(max_leaves=40), seed, "trees", n=n))
    ]
    leaves = [hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(17)]
    # One leaf (the root is the leaf), every size up to 9 (odd levels duplicate their last hash), and
    # 16/17 (a full tree, and one past it: odd at every level above the leaves).
    for size in (1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17):
        cases.append(_merkle_case(f"boundary-{size}-leaves", leaves[:size]))
    cases.append(
        _merkle_case("boundary-bitcoin-genesis", [BlockHeader.from_bytes(GENESIS_HEADER).merkle_root])
    )
    return unique_names(cases)


def _replay_merkle(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"root": hex_bytes(target.auxpow.merkle_root([from_hex(t) for t in inputs["txids"]]))}


RULES: tuple[Rule, ...] = (
    Rule(
        id="bitcoin/header-decode",
        summary="an 80-byte Bitcoin block header decodes, re-encodes to itself and hashes with sha256d",
        origin="bitcoin-consensus",
        source=f"Bitcoin Core src/primitives/block.h CBlockHeader; {RUST_BITCOIN} Header",
        generate=_generate_headers,
        replay=_replay_header,
        component="auxpow",
        inputs_schema=obj({"header": HEX}),
        outputs_schema=obj({"hash": HASH32, "encoding": HEX}),
    ),
    Rule(
        id="bitcoin/transaction-decode",
        summary="a Bitcoin transaction decodes (legacy or BIP144), re-encodes "
        "to itself, and its txid is the legacy form's sha256d",
        origin="bitcoin-consensus",
        source=f"{CORE_SERIALIZE} UnserializeTransaction, ReadCompactSize; "
        f"{RUST_BITCOIN} Transaction::consensus_decode",
        generate=_generate_transactions,
        replay=_replay_transaction,
        component="auxpow",
        inputs_schema=obj({"transaction": HEX}),
        outputs_schema=obj({"txid": HASH32, "encoding": HEX}),
    ),
    Rule(
        id="bitcoin/auxpow-decode",
        summary="the AuxPoW wire layout (coinbase, block hash, two "
        "branches, parent header) decodes and re-encodes to itself",
        origin="namecoin",
        source="namecoin-core src/auxpow.h CAuxPow serialization; "
        "app/src/auxpow.rs AuxPow (rust-bitcoin Decodable)",
        generate=_generate_auxpow_bytes,
        replay=_replay_auxpow_bytes,
        component="auxpow",
        inputs_schema=obj({"auxpow": HEX}),
        outputs_schema=obj({"encoding": HEX}),
    ),
    Rule(
        id="bitcoin/merkle-root",
        summary="Bitcoin's merkle root of a list of txids (an odd level pairs its last hash with itself)",
        origin="bitcoin-consensus",
        source="Bitcoin Core src/consensus/merkle.cpp ComputeMerkleRoot; "
        f"{RUST_BITCOIN} merkle_tree::calculate_root",
        generate=_generate_merkle,
        replay=_replay_merkle,
        component="auxpow",
        inputs_schema=obj({"txids": array_of(HASH32, min_items=1)}),
        outputs_schema=obj({"root": HASH32}),
    ),
)

# Seeded mutants of this area that no vector here can reach within the size bound.
UNREACHABLE: dict[str, str] = {
    "codec-max-vec-off-by-one": "only a byte vector of exactly MAX_VEC_SIZE "
    "(4,000,000) bytes, present in full, "
    "tells the mutant apart (a shorter one is refused either way as count-exceeds-data): one such vector is "
    "8 MB of hex, 40% of the default set's 20 MB bound. properties/test_bitcoin_decoders.py, "
    "which declares it, catches it in-process.",
}
