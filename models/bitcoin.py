"""Bitcoin consensus encoding: headers, transactions, merkle branches and roots (reference).

Spec-literal and slow on purpose. Byte order: every 32-byte hash here is in *internal* order
(the order sha256d produces), never the reversed display hex. The node decodes with
rust-bitcoin 0.30.2; the decoder here is at least as strict as the strictest real client, so
where Bitcoin Core refuses what rust-bitcoin reads (a segwit flag on a transaction with no inputs
and so no witness: "Superfluous witness record"), it refuses too and says so (`CORE_ONLY_RULES`).
Every rule a decode can fail records its origin (`DECODE_RULES`).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from attrs import Attribute, field, frozen

from alys_pbt.models.reprs import pretty_as_repr, short_bytes, short_bytes_seq

NULL_HASH = bytes(32)
COINBASE_PREVOUT_INDEX = 0xFFFF_FFFF
HEADER_SIZE = 80
# rust-bitcoin refuses to allocate more than this for one vector while decoding (MAX_VEC_SIZE).
MAX_VEC_SIZE = 4_000_000
# Bitcoin Core serialize.h MAX_SIZE: ReadCompactSize(range_check) refuses any size or count above it.
MAX_SIZE = 0x0200_0000

OriginKind = Literal[
    "node", "namecoin", "bitcoin-consensus", "bitcoin-core", "rust-bitcoin", "ietf", "suite-hardening"
]


@frozen
class Origin:
    """Where a rule comes from: the node's code (file), Namecoin, Bitcoin, IETF, or the suite."""

    kind: OriginKind
    where: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.where})"


def origins_text(origins: Sequence[Origin]) -> str:
    """One line naming every origin of a rule, for messages and findings."""
    return "; ".join(str(o) for o in origins)


def _core(where: str) -> Origin:
    return Origin("bitcoin-core", where)


def _rust(where: str) -> Origin:
    return Origin("rust-bitcoin", f"bitcoin 0.30 {where}")


_SER = "src/serialize.h"
_TX = "src/primitives/transaction.h UnserializeTransaction"
_ENC = "consensus/encode.rs"
_DECODE = "blockdata/transaction.rs Transaction::consensus_decode"
# Every rule a consensus decode can fail, with where it comes from. A rule that only Bitcoin Core has
# is one the node's rust-bitcoin lets through (CORE_ONLY_RULES).
DECODE_RULES: dict[str, tuple[Origin, ...]] = {
    "truncated": (_core(f"{_SER}: end of data"), _rust(f"{_ENC}: Io(UnexpectedEof)")),
    "trailing-bytes": (
        _rust(f"{_ENC} deserialize: data not consumed entirely"),
        _core("src/core_read.cpp DecodeTx: the stream must be empty"),
    ),
    "non-canonical-compact-size": (
        _core(f"{_SER} ReadCompactSize: non-canonical ReadCompactSize()"),
        _rust(f"{_ENC} VarInt: NonMinimalVarInt"),
    ),
    "size-too-large": (_core(f"{_SER} ReadCompactSize: size too large (MAX_SIZE 0x02000000)"),),
    "oversized-vector": (
        _rust(f"{_ENC} read_bytes_from_finite_reader: OversizedVectorAllocation (MAX_VEC_SIZE 4,000,000)"),
    ),
    "count-exceeds-data": (
        _core(f"{_SER}: end of data before the last element"),
        _rust(f"{_ENC} Vec<T>: Io(UnexpectedEof)"),
    ),
    "unknown-segwit-flag": (
        _core(f"{_TX}: Unknown transaction optional data"),
        _rust(f"{_DECODE}: UnsupportedSegwitFlag"),
    ),
    "superfluous-witness": (
        _core(f"{_TX}: Superfluous witness record"),
        _rust(f"{_DECODE}: witness flag set but no witnesses present"),
    ),
    # rust-bitcoin checks `!input.is_empty() && all empty`: with no inputs the flag passes.
    "superfluous-witness-no-inputs": (_core(f"{_TX}: Superfluous witness record"),),
}
# Rules the node's decoder (rust-bitcoin) does not have: there the port may accept (a correct value).
CORE_ONLY_RULES: frozenset[str] = frozenset({"superfluous-witness-no-inputs"})


def sha256d(data: bytes) -> bytes:
    """Bitcoin's double SHA-256, in internal byte order."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


class DecodeError(ValueError):
    """Malformed consensus bytes; says what was being read, at which offset, and why."""

    def __init__(self, what: str, offset: int, why: str, rule: str = "truncated") -> None:
        origins = origins_text(DECODE_RULES[rule])
        super().__init__(f"cannot decode {what} at byte {offset}: {why} [{rule}: {origins}]")
        self.what = what
        self.offset = offset
        self.why = why
        self.rule = rule
        self.origins = DECODE_RULES[rule]


class Reader:
    """A bounds-checked cursor over consensus bytes: every read either succeeds or raises DecodeError."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def fail(self, why: str, rule: str = "truncated") -> DecodeError:
        return DecodeError(self.what, self.pos, why, rule)

    def take(self, n: int, label: str) -> bytes:
        if n > self.remaining():
            raise self.fail(f"{label} needs {n} bytes, only {self.remaining()} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self, label: str) -> int:
        return self.take(1, label)[0]

    def u32(self, label: str) -> int:
        return int.from_bytes(self.take(4, label), "little")

    def i32(self, label: str) -> int:
        return int.from_bytes(self.take(4, label), "little", signed=True)

    def u64(self, label: str) -> int:
        return int.from_bytes(self.take(8, label), "little")

    def varint(self, label: str) -> int:
        """CompactSize; non-minimal encodings are rejected as Bitcoin Core and rust-bitcoin do."""
        start = self.pos
        prefix = self.u8(label)
        if prefix < 0xFD:
            return prefix
        width, minimum = {0xFD: (2, 0xFD), 0xFE: (4, 0x1_0000), 0xFF: (8, 0x1_0000_0000)}[prefix]
        value = int.from_bytes(self.take(width, label), "little")
        if value < minimum:
            why = f"{label}: non-minimal var-int {value}"
            raise DecodeError(self.what, start, why, "non-canonical-compact-size")
        return value

    def count(self, label: str, min_item_size: int) -> int:
        """A var-int element count: at most MAX_SIZE (Core), and no more than the remaining bytes hold."""
        start = self.pos
        n = self.varint(label)
        if n > MAX_SIZE:
            raise DecodeError(self.what, start, f"{label} claims {n} items, above MAX_SIZE", "size-too-large")
        if min_item_size == 1 and n > MAX_VEC_SIZE:
            why = f"{label} claims {n} bytes, above MAX_VEC_SIZE"
            raise DecodeError(self.what, start, why, "oversized-vector")
        if n * max(min_item_size, 1) > self.remaining():
            raise DecodeError(
                self.what,
                start,
                f"{label} claims {n} items but only {self.remaining()} bytes remain",
                "count-exceeds-data",
            )
        return n

    def var_bytes(self, label: str) -> bytes:
        """A CompactSize length, then that many bytes."""
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0xFD and pos + 1 + data[pos] <= len(data):
            # A one-byte length that the data holds: the same answer as below, without the calls
            # that make 100,000 witness items take a quarter of a second.
            self.pos = pos + 1 + data[pos]
            return data[pos + 1 : self.pos]
        return self.take(self.count(label, 1), label)

    def finish(self) -> None:
        if self.remaining():
            raise self.fail(f"{self.remaining()} trailing bytes", "trailing-bytes")


def varint(n: int) -> bytes:
    """CompactSize encoding of n (minimal)."""
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFF_FFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def var_bytes(b: bytes) -> bytes:
    return varint(len(b)) + b


def _hash32(value: bytes) -> bytes:
    if len(value) != 32:
        raise ValueError(f"a hash is 32 bytes, got {len(value)}")
    return bytes(value)


def _uint(bits: int) -> Callable[[object, Attribute[Any], int], None]:
    """An attrs validator for unsigned fixed-width integers."""

    def check(_instance: object, attribute: Attribute[Any], value: int) -> None:
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{attribute.name} must fit in u{bits}, got {value}")

    return check


def _int32(_instance: object, attribute: Attribute[Any], value: int) -> None:
    if not -(1 << 31) <= value < 1 << 31:
        raise ValueError(f"{attribute.name} must fit in i32, got {value}")


# attrs converters, one per field type (mypy reads a converter's argument type as the field's input).
def _byte_strings(items: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(map(bytes, items))


def _hashes32(items: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(_hash32(h) for h in items)


def _inputs(items: Iterable[TxIn]) -> tuple[TxIn, ...]:
    return tuple(items)


def _outputs(items: Iterable[TxOut]) -> tuple[TxOut, ...]:
    return tuple(items)


@frozen
class BlockHeader:
    """The 80-byte Bitcoin block header."""

    version: int = field(validator=_int32)
    prev_block: bytes = field(converter=_hash32, repr=short_bytes)
    merkle_root: bytes = field(converter=_hash32, repr=short_bytes)
    time: int = field(validator=_uint(32))
    bits: int = field(validator=_uint(32))
    nonce: int = field(validator=_uint(32))

    _repr_pretty_ = pretty_as_repr

    def to_bytes(self) -> bytes:
        return (
            struct.pack("<i", self.version)
            + self.prev_block
            + self.merkle_root
            + struct.pack("<III", self.time, self.bits, self.nonce)
        )

    @classmethod
    def read(cls, r: Reader) -> BlockHeader:
        return cls(
            version=r.i32("header version"),
            prev_block=r.take(32, "header prev_block"),
            merkle_root=r.take(32, "header merkle_root"),
            time=r.u32("header time"),
            bits=r.u32("header bits"),
            nonce=r.u32("header nonce"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockHeader:
        r = Reader(data, "block header")
        header = cls.read(r)
        r.finish()
        return header

    @property
    def hash(self) -> bytes:
        return sha256d(self.to_bytes())


@frozen
class OutPoint:
    txid: bytes = field(converter=_hash32, repr=short_bytes)
    vout: int = field(validator=_uint(32))

    _repr_pretty_ = pretty_as_repr

    @property
    def is_null(self) -> bool:
        return self.txid == NULL_HASH and self.vout == COINBASE_PREVOUT_INDEX


NULL_OUTPOINT = OutPoint(NULL_HASH, COINBASE_PREVOUT_INDEX)


@frozen
class TxIn:
    prevout: OutPoint
    script_sig: bytes = field(converter=bytes, repr=short_bytes)
    sequence: int = field(validator=_uint(32))
    witness: tuple[bytes, ...] = field(default=(), converter=_byte_strings, repr=short_bytes_seq)

    _repr_pretty_ = pretty_as_repr

    def to_bytes(self) -> bytes:
        return (
            self.prevout.txid
            + struct.pack("<I", self.prevout.vout)
            + var_bytes(self.script_sig)
            + struct.pack("<I", self.sequence)
        )


@frozen
class TxOut:
    value: int = field(validator=_uint(64))
    script_pubkey: bytes = field(converter=bytes, repr=short_bytes)

    _repr_pretty_ = pretty_as_repr

    def to_bytes(self) -> bytes:
        return struct.pack("<Q", self.value) + var_bytes(self.script_pubkey)


@frozen
class Transaction:
    """A Bitcoin transaction; `txid` hashes the non-witness serialization."""

    version: int = field(validator=_int32)
    inputs: tuple[TxIn, ...] = field(converter=_inputs)
    outputs: tuple[TxOut, ...] = field(converter=_outputs)
    lock_time: int = field(validator=_uint(32))

    _repr_pretty_ = pretty_as_repr

    @property
    def has_witness(self) -> bool:
        return any(i.witness for i in self.inputs)

    @property
    def uses_segwit_encoding(self) -> bool:
        # rust-bitcoin writes the extended form for zero inputs too, because the legacy form of such
        # a transaction is ambiguous with the segwit marker (bitcoin 0.30 Transaction::consensus_encode).
        # Bitcoin Core cannot read that form back ("Superfluous witness record"), and neither can
        # `from_bytes` here: a transaction without inputs has no wire form Core accepts.
        return self.has_witness or not self.inputs

    def to_bytes(self, *, witness: bool = True) -> bytes:
        segwit = witness and self.uses_segwit_encoding
        out = struct.pack("<i", self.version)
        if segwit:
            out += b"\x00\x01"
        out += varint(len(self.inputs)) + b"".join(i.to_bytes() for i in self.inputs)
        out += varint(len(self.outputs)) + b"".join(o.to_bytes() for o in self.outputs)
        if segwit:
            for i in self.inputs:
                out += varint(len(i.witness)) + b"".join(var_bytes(w) for w in i.witness)
        return out + struct.pack("<I", self.lock_time)

    @classmethod
    def read(cls, r: Reader) -> Transaction:
        version = r.i32("tx version")
        inputs = cls._read_inputs(r)
        segwit = False
        if not inputs:
            # An empty input vector is the segwit marker; the next byte is the flag (rust-bitcoin).
            flag_at = r.pos
            flag = r.u8("segwit flag")
            if flag != 1:
                raise DecodeError(r.what, flag_at, f"unsupported segwit flag {flag}", "unknown-segwit-flag")
            segwit = True
            inputs = cls._read_inputs(r)
        outputs = tuple(
            TxOut(value=r.u64("output value"), script_pubkey=r.var_bytes("output script"))
            for _ in range(r.count("output count", 9))
        )
        if segwit:
            witnesses = [
                tuple([r.var_bytes("witness item") for _ in range(r.count("witness items", 1))])
                for _ in inputs
            ]
            # Core refuses the flag whenever every witness is empty; rust-bitcoin only with inputs.
            if not any(witnesses):
                rule = "superfluous-witness" if inputs else "superfluous-witness-no-inputs"
                raise r.fail("segwit flag set but no witnesses present", rule)
            inputs = tuple(
                TxIn(i.prevout, i.script_sig, i.sequence, w) for i, w in zip(inputs, witnesses, strict=True)
            )
        return cls(version, inputs, outputs, r.u32("tx lock_time"))

    @staticmethod
    def _read_inputs(r: Reader) -> tuple[TxIn, ...]:
        return tuple(
            TxIn(
                prevout=OutPoint(r.take(32, "input prevout txid"), r.u32("input prevout index")),
                script_sig=r.var_bytes("input script_sig"),
                sequence=r.u32("input sequence"),
            )
            for _ in range(r.count("input count", 41))
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Transaction:
        r = Reader(data, "transaction")
        tx = cls.read(r)
        r.finish()
        return tx

    @property
    def txid(self) -> bytes:
        return sha256d(self.to_bytes(witness=False))

    @property
    def is_coinbase(self) -> bool:
        return len(self.inputs) == 1 and self.inputs[0].prevout.is_null


def hash_pair(left: bytes, right: bytes) -> bytes:
    """One merkle step: sha256d of the two 32-byte nodes, left first."""
    return sha256d(left + right)


@frozen
class MerkleBranch:
    """A merkle path: sibling hashes leaf-upwards; bit n of side_mask set = sibling n is on the LEFT."""

    hashes: tuple[bytes, ...] = field(converter=_hashes32, repr=short_bytes_seq)
    side_mask: int = field(validator=_uint(32))

    _repr_pretty_ = pretty_as_repr

    def evaluate(self, leaf: bytes) -> bytes:
        """The root this branch yields from `leaf` (an empty branch yields the leaf)."""
        acc = leaf
        for n, sibling in enumerate(self.hashes):
            acc = hash_pair(sibling, acc) if self.side_mask >> n & 1 else hash_pair(acc, sibling)
        return acc

    def to_bytes(self) -> bytes:
        return varint(len(self.hashes)) + b"".join(self.hashes) + struct.pack("<I", self.side_mask)

    @classmethod
    def read(cls, r: Reader) -> MerkleBranch:
        hashes = tuple(r.take(32, "branch hash") for _ in range(r.count("branch length", 32)))
        return cls(hashes, r.u32("branch side mask"))

    @classmethod
    def from_bytes(cls, data: bytes) -> MerkleBranch:
        r = Reader(data, "merkle branch")
        branch = cls.read(r)
        r.finish()
        return branch


def merkle_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of Bitcoin's merkle tree, leaves first; an odd level duplicates its last hash."""
    if not leaves:
        raise ValueError("a merkle tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        if len(level) % 2:
            level = [*level, level[-1]]
        levels.append([hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2)])
    return levels


def merkle_root(txids: Sequence[bytes]) -> bytes:
    """Bitcoin's merkle root of a block's txids (internal byte order)."""
    return merkle_levels(txids)[-1][0]


def merkle_branch(leaves: Sequence[bytes], index: int) -> MerkleBranch:
    """The branch that proves leaves[index] against merkle_root(leaves)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of {len(leaves)}")
    hashes = []
    position = index
    for level in merkle_levels(leaves)[:-1]:
        sibling = position ^ 1
        hashes.append(level[sibling] if sibling < len(level) else level[position])
        position >>= 1
    return MerkleBranch(hashes, index)
