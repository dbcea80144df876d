"""The block codec of the node: `rmp_serde` of SignedConsensusBlock (app/src/block.rs), and the
signing root `tree_hash::merkle_root(rmp_serde::to_vec(block), 0)` (alys-rules.md §2.2).

Written from the node's types the way serde's derive reads them: each struct is a MessagePack array
of its fields in declaration order, and each field type has one codec (a `Schema`) that both writes
the field and reads it back, so the signing root and the decoder cannot drift apart. The field
representations are the node's: impl-serde "0x" + lowercase hex for Hash256/H160, lighthouse's
`serde_utils` hex for logs_bloom, extra_data and transactions, quoted decimal strings for the
payload's u64 quantities (`quoted_u64`) and base_fee_per_gas (`quoted_u256`), raw bin for Bitcoin
hashes and scripts, and witness elements as arrays of u8 (rust-bitcoin serializes them as seqs).

Reading is bounded before anything is built (bounded time and memory on any input):
* at most MAX_BLOCK_BYTES (1 MiB): alys-rules.md §5.1, the RPC's largest chunk; a block larger than
  that cannot be served by BlocksByRange, so no chain a node can sync holds one (the gossip cap of
  10 MiB is looser: suite hardening takes the smaller);
* no maps, no extension types, at most MAX_ARRAYS arrays of at most MAX_ARRAY_LEN items each, and
  msgpack's own nesting limit: suite hardening (a block has no maps; these bound what the
  unpacker builds before the schema sees it);
* at most 16 withdrawals (lighthouse MainnetEthSpec MaxWithdrawalsPerPayload), 32 bytes of
  extra_data (MaxExtraDataBytes) and 256 of logs_bloom (BytesPerLogsBloom): node code (ssz_types'
  VariableList/FixedVector refuse longer lists while deserializing);
* at most MAX_TRANSACTIONS transactions: suite hardening. The node's own bound is 2^20
  (MaxTransactionsPerPayload), which a 1 MiB block of empty strings nearly reaches and which takes
  seconds to decode here; at Alys' 30M gas limit a payload holds at most 1,428 transactions of
  21,000 gas (the Yellow Paper's intrinsic gas), so 16,384 leaves room for a limit eleven times higher.

One wire form per block (suite hardening, adopted as the fix of issue 14): as coded, impl-serde's
hex reader skips whitespace and takes upper case (parity-common impl-serde serialize.rs
`from_hex_raw`), Rust's `u64::from_str` takes leading zeros and "+", and rmp-serde takes any
integer width. That is the quirk `chain-wire-form-lenient` (target `alys` carries it): one block,
several wire forms. The secure rule (`alys-fixed`) reads only what rmp_serde::to_vec writes:
lowercase hex, canonical decimals, and bytes equal to the re-encoding of what they decode to.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import msgpack
from attrs import frozen

from alys import codec
from alys.variant import Variant

MAX_BLOCK_BYTES = 1024 * 1024
MAX_ARRAYS = 65_536
MAX_ARRAY_LEN = 65_536
MAX_TRANSACTIONS = 16_384
MAX_WITHDRAWALS = 16
MAX_EXTRA_DATA = 32
LOGS_BLOOM_BYTES = 256
ZERO = bytes(32)


class DecodeError(ValueError):
    """rmp_serde::decode::Error: the bytes are not a SignedConsensusBlock (says where and why)."""


def _fail(path: str, why: str) -> DecodeError:
    return DecodeError(f"{path}: {why}")


# --- the node's types (attribute names as in models/, so model objects encode the same way) ---------


@frozen
class Withdrawal:
    index: int
    validator_index: int
    address: bytes
    amount: int  # Gwei


@frozen
class ExecutionPayload:
    parent_hash: bytes
    fee_recipient: bytes
    state_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    prev_randao: bytes
    block_number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    base_fee_per_gas: int
    block_hash: bytes
    transactions: tuple[bytes, ...]
    withdrawals: tuple[Withdrawal, ...]


@frozen
class OutPoint:
    txid: bytes
    vout: int


@frozen
class TxIn:
    prevout: OutPoint
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...]


@frozen
class TxOut:
    value: int
    script_pubkey: bytes


@frozen
class Transaction:
    version: int
    lock_time: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]


@frozen
class MerkleBranch:
    hashes: tuple[bytes, ...]
    side_mask: int


@frozen
class BlockHeader:
    version: int
    prev_block: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int


@frozen
class AuxPow:
    coinbase_txn: Transaction
    block_hash: bytes
    coinbase_branch: MerkleBranch
    blockchain_branch: MerkleBranch
    parent_block: BlockHeader

    def to_bytes(self) -> bytes:
        """Bitcoin's consensus serialization, what check_pow hands to AuxPow::check."""
        tx = self.coinbase_txn
        coinbase = codec.Tx(
            tx.version,
            tuple(
                codec.TxInput(i.prevout.txid, i.prevout.vout, i.script_sig, i.sequence, tuple(i.witness))
                for i in tx.inputs
            ),
            tuple(codec.TxOutput(o.value, o.script_pubkey) for o in tx.outputs),
            tx.lock_time,
        )
        h = self.parent_block
        header = (
            struct.pack("<i", h.version)
            + h.prev_block
            + h.merkle_root
            + struct.pack("<III", h.time, h.bits, h.nonce)
        )
        data = codec.AuxPowData(
            coinbase,
            self.block_hash,
            codec.Branch(tuple(self.coinbase_branch.hashes), self.coinbase_branch.side_mask),
            codec.Branch(tuple(self.blockchain_branch.hashes), self.blockchain_branch.side_mask),
            codec.Header(header),
        )
        return codec.encode_auxpow(data, Variant())  # the serialization itself, no seeded codec bug


@frozen
class AuxPowHeader:
    range_start: bytes
    range_end: bytes
    bits: int
    chain_id: int
    height: int
    auxpow: AuxPow | None
    fee_recipient: bytes


@frozen
class ConsensusBlock:
    parent_hash: bytes
    slot: int
    auxpow_header: AuxPowHeader | None
    execution_payload: ExecutionPayload
    pegins: tuple[tuple[bytes, bytes], ...]
    pegout_payment_proposal: Transaction | None
    finalized_pegouts: tuple[Transaction, ...]


@frozen
class AggregateApproval:
    bits: tuple[bool, ...]  # 15 authorities
    signature: bytes | None  # None: the empty aggregate (96 zero bytes on the wire)


@frozen
class SignedConsensusBlock:
    message: ConsensusBlock
    signature: AggregateApproval


# --- one codec per field type ---------------------------------------------------------------------

_LOWER_HEX = re.compile(r"[0-9a-f]*")
_ANY_HEX = re.compile(r"[0-9a-fA-F \t\r\n]*")


@frozen
class Schema:
    """How one Rust type is written (`encode`, from any object with the right attributes) and read."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any, str, Variant], Any]


# Each codec's reading and writing are top-level functions, given their parameters through
# functools.partial: the schema below is built once at import, and a function made inside a factory
# would be fixed then (mutation testing switches behaviour per call of a top-level function).
# The factories' own bodies (`return Schema(...)`, marked `# pragma: no mutate`) run only at import,
# before mutmut switches any mutant on, so a mutant there never runs: not equivalent (each breaks a
# whole field type, which the decoding vectors fail on at once), but out of reach of any test. The
# reading and writing functions they bind, where the behaviour is, are mutated.


def _hex_encode(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def _hex_decode(size: int | None, limit: int | None, value: Any, path: str, v: Variant) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise _fail(path, "expected a 0x-prefixed hex string")
    digits = value[2:]
    if v.on("chain-wire-form-lenient") and _ANY_HEX.fullmatch(digits):
        digits = re.sub(r"[ \t\r\n]", "", digits).lower()  # impl-serde from_hex_raw, as coded
    if size is not None and len(digits) != 2 * size:
        raise _fail(path, f"{len(digits)} hex digits, expected {2 * size}")
    if limit is not None and len(digits) > 2 * limit:
        raise _fail(path, f"{len(digits)} hex digits, at most {2 * limit}")
    if len(digits) % 2 or not _LOWER_HEX.fullmatch(digits):
        raise _fail(path, "not an even number of lowercase hex digits (the node writes 0x + lowercase)")
    return bytes.fromhex(digits)


def _hex(size: int | None = None, limit: int | None = None) -> Schema:
    return Schema(_hex_encode, partial(_hex_decode, size, limit))  # pragma: no mutate


def _quoted_decode(bits: int, value: Any, path: str, v: Variant) -> int:
    digits = len(str((1 << bits) - 1))
    if not isinstance(value, str):
        raise _fail(path, "expected a quoted decimal")
    if v.on("chain-wire-form-lenient") and value[1 if value[:1] == "+" else 0 :]:
        value = value.removeprefix("+").lstrip("0") or "0"  # u64::from_str, as coded: "+", zeros
    if len(value) > digits:  # checked before int(): no 4,301-digit conversions
        raise _fail(path, f"{len(value)} digits, a u{bits} has at most {digits}")
    if not (value == "0" or (value[:1] in "123456789" and value.isascii() and value.isdigit())):
        raise _fail(path, f"{value[:24]!r} is not a canonical decimal")
    number = int(value)
    if number >> bits:
        raise _fail(path, f"does not fit a u{bits}")
    return number


def _quoted(bits: int) -> Schema:
    """serde_utils quoted_u64 / quoted_u256: a decimal string, read only in its canonical form."""
    return Schema(str, partial(_quoted_decode, bits))  # pragma: no mutate


def _uint_decode(bits: int, signed: bool, value: Any, path: str, v: Variant) -> int:
    low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    if type(value) is not int or not low <= value < high:
        raise _fail(path, f"expected an {'i' if signed else 'u'}{bits}")
    return value


def _uint(bits: int, signed: bool = False) -> Schema:  # pragma: no mutate
    return Schema(int, partial(_uint_decode, bits, signed))  # pragma: no mutate


def _bin_decode(size: int | None, value: Any, path: str, v: Variant) -> bytes:
    if type(value) is not bytes or (size is not None and len(value) != size):
        raise _fail(path, f"expected {size or 'some'} raw bytes (bin)")
    return value


def _bin(size: int | None = None) -> Schema:
    return Schema(bytes, partial(_bin_decode, size))  # pragma: no mutate


def _u8_seq_decode(value: Any, path: str, v: Variant) -> bytes:
    if type(value) is not list or any(type(b) is not int for b in value):
        raise _fail(path, "expected an array of u8")
    try:
        return bytes(value)
    except ValueError:
        raise _fail(path, "an item is not a u8") from None


def _u8_seq() -> Schema:
    """A witness element: rust-bitcoin writes `&[u8]` as a seq of u8 integers, not bin."""
    return Schema(list, _u8_seq_decode)  # pragma: no mutate


def _seq_encode(item: Schema, xs: Sequence[Any]) -> list[Any]:
    return [item.encode(x) for x in xs]


def _seq_decode(
    item: Schema, limit: int, off_by_one: str, value: Any, path: str, v: Variant
) -> tuple[Any, ...]:
    if type(value) is not list:
        raise _fail(path, "expected an array")
    loose = bool(off_by_one) and v.on(off_by_one)  # pragma: no mutate (a seeded mutant's guard)
    if len(value) > limit + int(loose):
        raise _fail(path, f"{len(value)} items, at most {limit}")
    return tuple(item.decode(x, f"{path}[{i}]", v) for i, x in enumerate(value))


# (No mutants of the defaults either: bound at import, like the factories' bodies.)
def _seq(item: Schema, limit: int = MAX_ARRAY_LEN, off_by_one: str = "") -> Schema:  # pragma: no mutate
    decode = partial(_seq_decode, item, limit, off_by_one)  # pragma: no mutate
    return Schema(partial(_seq_encode, item), decode)  # pragma: no mutate


def _option_encode(inner: Schema, x: Any) -> Any:
    return None if x is None else inner.encode(x)


def _option_decode(inner: Schema, value: Any, path: str, v: Variant) -> Any:
    return None if value is None else inner.decode(value, path, v)


def _option(inner: Schema) -> Schema:
    return Schema(partial(_option_encode, inner), partial(_option_decode, inner))  # pragma: no mutate


Fields = Sequence[tuple[str, Schema]]


def _struct_encode(fields: Fields, obj: Any) -> list[Any]:
    return [schema.encode(getattr(obj, name)) for name, schema in fields]


def _struct_decode(cls: Callable[..., Any], fields: Fields, value: Any, path: str, v: Variant) -> Any:
    if type(value) is not list or len(value) != len(fields):
        raise _fail(path, f"expected an array of {len(fields)} fields")
    return cls(
        *(schema.decode(x, f"{path}.{name}", v) for (name, schema), x in zip(fields, value, strict=True))
    )


def _struct(cls: Callable[..., Any], fields: Fields) -> Schema:
    """serde's derived struct: an array of the fields in declaration order."""
    return Schema(partial(_struct_encode, fields), partial(_struct_decode, cls, fields))  # pragma: no mutate


def _pair_encode(a: Schema, b: Schema, p: tuple[Any, Any]) -> list[Any]:
    return [a.encode(p[0]), b.encode(p[1])]


def _pair_decode(a: Schema, b: Schema, value: Any, path: str, v: Variant) -> tuple[Any, Any]:
    if type(value) is not list or len(value) != 2:
        raise _fail(path, "expected a pair")
    return a.decode(value[0], f"{path}.0", v), b.decode(value[1], f"{path}.1", v)


def _pair(a: Schema, b: Schema) -> Schema:
    return Schema(partial(_pair_encode, a, b), partial(_pair_decode, a, b))  # pragma: no mutate


def _bits_encode(bits: Sequence[bool]) -> str:
    return _hex_encode((sum(1 << i for i, bit in enumerate(bits) if bit) | 1 << 15).to_bytes(2, "little"))


def _bits_decode(value: Any, path: str, v: Variant) -> tuple[bool, ...]:
    mask = int.from_bytes(_hex_decode(2, None, value, path, v), "little")
    if mask >> 15 != 1:
        raise _fail(path, "the length delimiter must be bit 15")
    return tuple(bool(mask >> i & 1) for i in range(15))


def _bits() -> Schema:
    """SSZ BitList<15>: 15 bits little-endian, then the length delimiter at bit 15 (0x prefixed hex)."""
    return Schema(_bits_encode, _bits_decode)  # pragma: no mutate


def _aggregate_signature_encode(s: bytes | None) -> str:
    return _hex_encode(s if s is not None else bytes(96))


def _aggregate_signature_decode(value: Any, path: str, v: Variant) -> bytes | None:
    raw = _hex_decode(96, None, value, path, v)
    return raw if any(raw) else None


def _aggregate_signature() -> Schema:
    return Schema(_aggregate_signature_encode, _aggregate_signature_decode)  # pragma: no mutate


H256, H160, U32, U64 = _hex(32), _hex(20), _uint(32), _uint(64)
TRANSACTION = _struct(
    Transaction,
    [
        ("version", _uint(32, signed=True)),
        ("lock_time", U32),
        (
            "inputs",
            _seq(
                _struct(
                    TxIn,
                    [
                        ("prevout", _struct(OutPoint, [("txid", _bin(32)), ("vout", U32)])),
                        ("script_sig", _bin()),
                        ("sequence", U32),
                        ("witness", _seq(_u8_seq())),
                    ],
                )
            ),
        ),
        ("outputs", _seq(_struct(TxOut, [("value", U64), ("script_pubkey", _bin())]))),
    ],
)
BRANCH = _struct(MerkleBranch, [("hashes", _seq(_bin(32))), ("side_mask", U32)])
AUXPOW = _struct(
    AuxPow,
    [
        ("coinbase_txn", TRANSACTION),
        ("block_hash", _bin(32)),
        ("coinbase_branch", BRANCH),
        ("blockchain_branch", BRANCH),
        (
            "parent_block",
            _struct(
                BlockHeader,
                [
                    ("version", _uint(32, signed=True)),
                    ("prev_block", _bin(32)),
                    ("merkle_root", _bin(32)),
                    ("time", U32),
                    ("bits", U32),
                    ("nonce", U32),
                ],
            ),
        ),
    ],
)
AUXPOW_HEADER = _struct(
    AuxPowHeader,
    [
        ("range_start", H256),
        ("range_end", H256),
        ("bits", U32),
        ("chain_id", U32),
        ("height", U64),
        ("auxpow", _option(AUXPOW)),
        ("fee_recipient", H160),
    ],
)
PAYLOAD = _struct(
    ExecutionPayload,
    [
        ("parent_hash", H256),
        ("fee_recipient", H160),
        ("state_root", H256),
        ("receipts_root", H256),
        ("logs_bloom", _hex(LOGS_BLOOM_BYTES)),
        ("prev_randao", H256),
        ("block_number", _quoted(64)),
        ("gas_limit", _quoted(64)),
        ("gas_used", _quoted(64)),
        ("timestamp", _quoted(64)),
        ("extra_data", _hex(limit=MAX_EXTRA_DATA)),
        ("base_fee_per_gas", _quoted(256)),
        ("block_hash", H256),
        ("transactions", _seq(_hex(), MAX_TRANSACTIONS)),
        (
            "withdrawals",
            _seq(
                _struct(
                    Withdrawal,
                    [
                        ("index", _quoted(64)),
                        ("validator_index", _quoted(64)),
                        ("address", H160),
                        ("amount", _quoted(64)),
                    ],
                ),
                MAX_WITHDRAWALS,
                "chain-withdrawals-limit-off-by-one",
            ),
        ),
    ],
)
BLOCK = _struct(
    ConsensusBlock,
    [
        ("parent_hash", H256),
        ("slot", U64),
        ("auxpow_header", _option(AUXPOW_HEADER)),
        ("execution_payload", PAYLOAD),
        ("pegins", _seq(_pair(_bin(32), _bin(32)))),
        ("pegout_payment_proposal", _option(TRANSACTION)),
        ("finalized_pegouts", _seq(TRANSACTION)),
    ],
)
SIGNED_BLOCK = _struct(
    SignedConsensusBlock,
    [
        ("message", BLOCK),
        ("signature", _struct(AggregateApproval, [("bits", _bits()), ("signature", _aggregate_signature())])),
    ],
)


# --- the signing root -----------------------------------------------------------------------------


def tree_hash_root(data: bytes) -> bytes:
    """tree_hash::merkle_root(bytes, 0): 32-byte leaves, one leaf unhashed, SHA-256 pairs, no mix-in."""
    leaves = [data[i : i + 32].ljust(32, b"\0") for i in range(0, len(data), 32)] or [ZERO]
    if len(leaves) == 1:
        return leaves[0]
    while len(leaves) & (len(leaves) - 1):
        leaves.append(ZERO)
    while len(leaves) > 1:
        leaves = [hashlib.sha256(leaves[i] + leaves[i + 1]).digest() for i in range(0, len(leaves), 2)]
    return leaves[0]


def to_msgpack(value: Any) -> bytes:
    """rmp_serde::to_vec: minimal integer and length forms, str for strings, bin for bytes."""
    packed: bytes = msgpack.packb(value, use_bin_type=True)  # msgpack ships no types
    return packed


def block_root(block: Any) -> bytes:
    """The block's signing root (its hash everywhere: storage key, parent link, BLS message)."""
    return tree_hash_root(to_msgpack(BLOCK.encode(block)))


def encode_block(signed: Any) -> bytes:
    """The wire form: rmp_serde::to_vec(SignedConsensusBlock)."""
    return to_msgpack(SIGNED_BLOCK.encode(signed))


# --- reading the wire form ------------------------------------------------------------------------


def _refuse_map(pairs: Any) -> Any:
    raise DecodeError("a map: the block's structs are arrays")


def _refuse_ext(code: int, data: bytes) -> Any:
    raise DecodeError(f"an extension type {code}: the block has none")


def _unpack(data: bytes, variant: Variant) -> tuple[Any, int]:
    """The one MessagePack value `data` holds and the bytes it takes, unpacked within bounds."""
    arrays = 0

    def count(items: list[Any]) -> list[Any]:
        nonlocal arrays
        arrays += 1
        if arrays > MAX_ARRAYS:
            raise DecodeError(f"more than {MAX_ARRAYS} arrays")
        return items

    bounds = dict(
        raw=False,
        strict_map_key=True,
        max_array_len=MAX_ARRAY_LEN,
        max_map_len=MAX_ARRAY_LEN,
        object_pairs_hook=_refuse_map,
        ext_hook=_refuse_ext,
        list_hook=count,
    )
    try:
        if variant.on("chain-block-decode-ignores-trailing"):  # pragma: no mutate block (a seeded mutant)
            unpacker = msgpack.Unpacker(max_buffer_size=MAX_BLOCK_BYTES, **bounds)
            unpacker.feed(data)
            value = unpacker.unpack()
            return value, unpacker.tell()
        return msgpack.unpackb(data, **bounds), len(data)
    except DecodeError:
        raise
    except (ValueError, TypeError, msgpack.OutOfData) as err:  # ExtraData, StackError, FormatError, bad UTF-8
        raise DecodeError(f"not one MessagePack value: {type(err).__name__}") from None


def decode_block(data: bytes, variant: Variant) -> SignedConsensusBlock:
    """A SignedConsensusBlock from the wire (BlocksByRange chunk, gossip, storage), or DecodeError."""
    data = bytes(data)
    loose = variant.on("chain-block-size-limit-off-by-one")  # pragma: no mutate (a seeded mutant's guard)
    if len(data) > MAX_BLOCK_BYTES + int(loose):
        raise DecodeError(f"{len(data)} bytes is over the {MAX_BLOCK_BYTES}-byte limit")
    value, used = _unpack(data, variant)
    signed: SignedConsensusBlock = SIGNED_BLOCK.decode(value, "signed block", variant)
    if encode_block(signed) != data[:used] and not variant.on("chain-wire-form-lenient"):
        raise DecodeError("not the canonical encoding: rmp_serde writes every block one way")
    return signed
