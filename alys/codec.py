"""Bitcoin consensus decoding as the node gets it from rust-bitcoin 0.30.2.

A second, independent implementation (the suite's reference is models/bitcoin.py; the third is
python-bitcoinlib): plain tuples, rust-bitcoin's rules: minimal var-ints, a zero-input transaction
is the segwit marker, "witness flag set but no witnesses" is an error, allocation capped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from alys.variant import Variant

_MAX_VEC = 4_000_000


class DecodeError(ValueError):
    """rust-bitcoin's consensus::encode::Error, with the offset where decoding stopped."""


def dsha(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


class TxInput(NamedTuple):
    txid: bytes
    vout: int
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...]


class TxOutput(NamedTuple):
    value: int
    script_pubkey: bytes


class Tx(NamedTuple):
    version: int
    inputs: tuple[TxInput, ...]
    outputs: tuple[TxOutput, ...]
    lock_time: int


class Header(NamedTuple):
    raw: bytes  # the 80 bytes; fields are read from it on demand

    @property
    def version(self) -> int:
        return int.from_bytes(self.raw[0:4], "little", signed=True)

    @property
    def merkle_root(self) -> bytes:
        return self.raw[36:68]


class Branch(NamedTuple):
    hashes: tuple[bytes, ...]
    mask: int


class AuxPowData(NamedTuple):
    coinbase: Tx
    block_hash: bytes
    coinbase_branch: Branch
    chain_branch: Branch
    parent: Header


class Cursor:
    def __init__(self, data: bytes, variant: Variant) -> None:
        self.buf, self.at, self.v = bytes(data), 0, variant

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.buf):
            # Seeded mutants sit in `if` blocks of their own, kept out of mutation: no shipped target
            # runs what a mutation changes inside them (docs/mutation.md).
            if self.v.on("codec-panics-on-truncation"):  # pragma: no mutate block
                self.buf[self.at + n - 1]  # a slice index panic, as unchecked Rust indexing would
            raise DecodeError(f"unexpected end of data at byte {self.at} (wanted {n})")
        self.at += n
        return self.buf[self.at - n : self.at]

    def uint(self, width: int) -> int:
        return int.from_bytes(self.take(width), "little")

    def varint(self) -> int:
        first = self.uint(1)
        if first < 0xFD:
            return first
        width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
        value = self.uint(width)
        minimal = value >= {2: 0xFD, 4: 0x10000, 8: 0x1_0000_0000}[width]
        if self.v.on("codec-accepts-non-minimal-varint"):  # pragma: no mutate block
            minimal = True
        if not minimal:
            raise DecodeError(f"non-minimal varint at byte {self.at}")
        return value

    def count(self, min_item: int) -> int:
        n = self.varint()
        cap = _MAX_VEC
        if self.v.on("codec-max-vec-off-by-one"):  # pragma: no mutate block
            cap = _MAX_VEC - 1
        if n * min_item > min(len(self.buf) - self.at, cap):
            raise DecodeError(f"vector of {n} items cannot fit the {len(self.buf) - self.at} bytes left")
        return n

    def var_bytes(self) -> bytes:
        buf, at = self.buf, self.at
        if at < len(buf) and buf[at] < 0xFD and at + 1 + buf[at] <= len(buf):  # fast path, same answer
            self.at = at + 1 + buf[at]
            return buf[at + 1 : self.at]
        return self.take(self.count(1))

    def finish(self) -> None:
        if self.at != len(self.buf):
            if self.v.on("codec-accepts-trailing-bytes"):  # pragma: no mutate block
                return
            raise DecodeError(f"data not consumed entirely: {len(self.buf) - self.at} bytes left")


def _inputs(c: Cursor) -> list[TxInput]:
    return [TxInput(c.take(32), c.uint(4), c.var_bytes(), c.uint(4), ()) for _ in range(c.count(41))]


def read_tx(c: Cursor) -> Tx:
    version = int.from_bytes(c.take(4), "little", signed=True)
    inputs = _inputs(c)
    segwit = not inputs
    if segwit:
        flag = c.uint(1)
        accepted = flag == 1
        if c.v.on("codec-any-segwit-flag"):  # pragma: no mutate block
            accepted = flag != 0
        if not accepted:
            raise DecodeError(f"unsupported segwit flag {flag}")
        inputs = _inputs(c)
    outputs = tuple(TxOutput(c.uint(8), c.var_bytes()) for _ in range(c.count(9)))
    if segwit:
        inputs = [i._replace(witness=tuple(c.var_bytes() for _ in range(c.count(1)))) for i in inputs]
        # rust-bitcoin: `!input.is_empty() && all empty`; with no inputs the flag passes (Bitcoin
        # Core refuses that too, "Superfluous witness record": the reference's CORE_ONLY_RULES).
        superfluous = bool(inputs) and all(not i.witness for i in inputs)
        if c.v.on("codec-accepts-superfluous-witness"):  # pragma: no mutate block
            superfluous = False
        if superfluous:
            raise DecodeError("witness flag set but no witnesses present")
    return Tx(version, tuple(inputs), outputs, c.uint(4))


def _vi(n: int) -> bytes:
    if n < 0xFD:
        return n.to_bytes(1, "little")
    for prefix, width in ((0xFD, 2), (0xFE, 4), (0xFF, 8)):
        if n < 1 << (8 * width):
            return prefix.to_bytes(1, "little") + n.to_bytes(width, "little")
    raise OverflowError(n)


def encode_tx(tx: Tx, variant: Variant, *, witness: bool = True) -> bytes:
    extended = witness and (not tx.inputs or any(i.witness for i in tx.inputs))
    if variant.on("codec-drops-witness"):  # pragma: no mutate block
        extended = extended and not tx.inputs
    parts = [tx.version.to_bytes(4, "little", signed=True), b"\x00\x01" if extended else b""]
    parts.append(_vi(len(tx.inputs)))
    for i in tx.inputs:
        parts += [i.txid, i.vout.to_bytes(4, "little"), _vi(len(i.script_sig)), i.script_sig]
        parts.append(i.sequence.to_bytes(4, "little"))
    parts.append(_vi(len(tx.outputs)))
    for o in tx.outputs:
        parts += [o.value.to_bytes(8, "little"), _vi(len(o.script_pubkey)), o.script_pubkey]
    if extended:
        for i in tx.inputs:
            parts.append(_vi(len(i.witness)) + b"".join(_vi(len(w)) + w for w in i.witness))
    parts.append(tx.lock_time.to_bytes(4, "little"))
    return b"".join(parts)


def txid(tx: Tx, variant: Variant) -> bytes:
    return dsha(encode_tx(tx, variant, witness=False))


def read_branch(c: Cursor) -> Branch:
    hashes = tuple(c.take(32) for _ in range(c.count(32)))
    return Branch(hashes, c.uint(4))


def encode_branch(b: Branch) -> bytes:
    return _vi(len(b.hashes)) + b"".join(b.hashes) + b.mask.to_bytes(4, "little")


T = TypeVar("T")


def decode(data: bytes, variant: Variant, reader: Callable[[Cursor], T]) -> T:
    c = Cursor(data, variant)
    value = reader(c)
    c.finish()
    return value


def read_auxpow(c: Cursor) -> AuxPowData:
    return AuxPowData(read_tx(c), c.take(32), read_branch(c), read_branch(c), Header(c.take(80)))


def encode_auxpow(a: AuxPowData, variant: Variant) -> bytes:
    return (
        encode_tx(a.coinbase, variant)
        + a.block_hash
        + encode_branch(a.coinbase_branch)
        + encode_branch(a.chain_branch)
        + a.parent.raw
    )


def merkle_root(txids: list[bytes], variant: Variant) -> bytes:
    """rust-bitcoin's bitcoin_merkle_root: pair up, the odd one out paired with itself."""
    if not txids:
        raise ValueError("no transactions")
    level = list(txids)
    while len(level) > 1:
        carry: list[bytes] = []
        if variant.on("bitcoin-merkle-odd-promotes"):  # noqa: SIM102  # pragma: no mutate block
            if len(level) % 2:
                carry = [level.pop()]
        if len(level) % 2:
            level.append(level[-1])
        level = [dsha(level[i] + level[i + 1]) for i in range(0, len(level), 2)] + carry
    return level[0]
