"""Alys consensus blocks (app/src/block.rs, alys-rules.md §2): types, signing root, Aura slots.

The signing root is `tree_hash::merkle_root(rmp_serde::to_vec(block), 0)`: the block as a
MessagePack array in declaration order, with the field representations of §2.2 (hashes and
addresses as "0x" hex strings, u64 payload quantities as decimal strings, Bitcoin hashes as raw
32-byte bin), cut into 32-byte chunks and merkleized with single SHA-256. No repository vector
fixes the exact bytes, so the suite tests the structure (field order, chunking, the empty and
one-chunk cases) and treats absolute roots as best effort.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, cast

import msgpack
from attrs import field, frozen

from alys_pbt.models.approvals import AggregateApproval
from alys_pbt.models.auxpow import AuxPow, AuxPowHeader
from alys_pbt.models.bitcoin import BlockHeader, MerkleBranch, Transaction
from alys_pbt.models.hexrepr import pretty_as_repr, short_hex, short_hex_items

ZERO_HASH = bytes(32)


# attrs converters, one per field type (mypy reads a converter's argument type as the field's input).
def _byte_strings(items: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(items)


def _withdrawals(items: Iterable[Withdrawal]) -> tuple[Withdrawal, ...]:
    return tuple(items)


def _pairs(items: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(items)


def _transactions(items: Iterable[Transaction]) -> tuple[Transaction, ...]:
    return tuple(items)


@frozen
class Withdrawal:
    """A Capella withdrawal: how Alys mints (peg-ins, fees). Amount in Gwei."""

    index: int
    validator_index: int
    address: bytes = field(repr=short_hex)
    amount: int
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr


@frozen
class ExecutionPayload:
    """ExecutionPayloadCapella, the 15 fields in order."""

    parent_hash: bytes = field(repr=short_hex)
    fee_recipient: bytes = field(repr=short_hex)
    state_root: bytes = field(repr=short_hex)
    receipts_root: bytes = field(repr=short_hex)
    logs_bloom: bytes = field(repr=short_hex)
    prev_randao: bytes = field(repr=short_hex)
    block_number: int
    gas_limit: int
    gas_used: int
    timestamp: int  # seconds
    extra_data: bytes = field(repr=short_hex)
    base_fee_per_gas: int
    block_hash: bytes = field(repr=short_hex)
    transactions: tuple[bytes, ...] = field(default=(), converter=_byte_strings, repr=short_hex_items)
    withdrawals: tuple[Withdrawal, ...] = field(default=(), converter=_withdrawals)
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr


@frozen
class ConsensusBlock:
    parent_hash: bytes = field(repr=short_hex)  # the parent's signing root; zeros only for genesis
    slot: int
    auxpow_header: AuxPowHeader | None
    execution_payload: ExecutionPayload
    pegins: tuple[tuple[bytes, bytes], ...] = field(
        default=(), converter=_pairs, repr=short_hex_items
    )  # (txid, bitcoin block hash)
    pegout_payment_proposal: Transaction | None = None
    finalized_pegouts: tuple[Transaction, ...] = field(default=(), converter=_transactions)
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr

    @property
    def height(self) -> int:
        return self.execution_payload.block_number

    def signing_root(self) -> bytes:
        return signing_root(self)


@frozen
class SignedConsensusBlock:
    message: ConsensusBlock
    signature: AggregateApproval
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr

    @property
    def block_hash(self) -> bytes:
        return self.message.signing_root()

    @property
    def height(self) -> int:
        return self.message.height


# --- serde representations (§2.2) -------------------------------------------------------------------


def hex0x(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def _tx(tx: Transaction) -> list[Any]:
    return [
        tx.version,
        tx.lock_time,
        [
            [[i.prevout.txid, i.prevout.vout], i.script_sig, i.sequence, [list(w) for w in i.witness]]
            for i in tx.inputs
        ],
        [[o.value, o.script_pubkey] for o in tx.outputs],
    ]


def _branch(b: MerkleBranch) -> list[Any]:
    return [list(b.hashes), b.side_mask]


def _header(h: BlockHeader) -> list[Any]:
    return [h.version, h.prev_block, h.merkle_root, h.time, h.bits, h.nonce]


def _auxpow(a: AuxPow) -> list[Any]:
    return [
        _tx(a.coinbase_txn),
        a.block_hash,
        _branch(a.coinbase_branch),
        _branch(a.blockchain_branch),
        _header(a.parent_block),
    ]


def _auxpow_header(h: AuxPowHeader) -> list[Any]:
    return [
        hex0x(h.range_start),
        hex0x(h.range_end),
        h.bits,
        h.chain_id,
        h.height,
        None if h.auxpow is None else _auxpow(h.auxpow),
        hex0x(h.fee_recipient),
    ]


def _payload(p: ExecutionPayload) -> list[Any]:
    return [
        hex0x(p.parent_hash),
        hex0x(p.fee_recipient),
        hex0x(p.state_root),
        hex0x(p.receipts_root),
        hex0x(p.logs_bloom),
        hex0x(p.prev_randao),
        str(p.block_number),
        str(p.gas_limit),
        str(p.gas_used),
        str(p.timestamp),
        hex0x(p.extra_data),
        str(p.base_fee_per_gas),
        hex0x(p.block_hash),
        [hex0x(t) for t in p.transactions],
        [[str(w.index), str(w.validator_index), hex0x(w.address), str(w.amount)] for w in p.withdrawals],
    ]


def serde_value(block: ConsensusBlock) -> list[Any]:
    """The block as rmp_serde sees it: a 7-array in declaration order."""
    return [
        hex0x(block.parent_hash),
        block.slot,
        None if block.auxpow_header is None else _auxpow_header(block.auxpow_header),
        _payload(block.execution_payload),
        [[txid, bh] for txid, bh in block.pegins],
        None if block.pegout_payment_proposal is None else _tx(block.pegout_payment_proposal),
        [_tx(t) for t in block.finalized_pegouts],
    ]


def to_msgpack(block: ConsensusBlock) -> bytes:
    packed: bytes = msgpack.packb(serde_value(block), use_bin_type=True)
    return packed


def merkle_root(data: bytes) -> bytes:
    """tree_hash 0.5.2 merkle_root(bytes, 0): 32-byte chunks, zero-padded, SHA-256 pairs."""
    chunks = [data[i : i + 32].ljust(32, b"\x00") for i in range(0, len(data), 32)]
    if not chunks:
        return ZERO_HASH
    if len(chunks) == 1:
        return chunks[0]  # one leaf is the root, unhashed
    width = 1 << (len(chunks) - 1).bit_length()
    level = chunks + [ZERO_HASH] * (width - len(chunks))
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def signing_root(block: ConsensusBlock) -> bytes:
    """What the federation signs and the block's hash everywhere (storage key, parent link)."""
    return merkle_root(to_msgpack(block))


# --- Aura (app/src/aura.rs) -------------------------------------------------------------------------


def slot_from_timestamp(timestamp_ms: int, slot_duration_ms: int) -> int:
    return timestamp_ms // slot_duration_ms


def slot_author(slot: int, authorities: Sequence[Any]) -> Any:
    """The authority whose turn `slot` is: authorities[slot mod n]."""
    return authorities[slot % len(authorities)]


def slot_is_in_future(slot: int, payload_timestamp_s: int, slot_duration_ms: int) -> bool:
    """Aura's drift rule, on the block's own payload timestamp: beyond both +1 allowances."""
    slot_now = payload_timestamp_s * 1000 // slot_duration_ms
    slot_3000 = payload_timestamp_s * 1000 // 3000
    return slot > slot_now + 1 and slot > slot_3000 + 1


# --- the wire form (BlocksByRange, gossip, storage): rmp_serde of SignedConsensusBlock ---------------
#
# The rules of reading it, each with its origin. The reference reads only the one form the node's
# serializer writes (suite hardening: one wire form per block), which is at least as strict as the
# node, whose deserializers are more lenient (impl-serde's hex reader skips whitespace and takes
# upper case; Rust's u64::from_str takes leading zeros and "+"; rmp-serde takes any integer width).

MAX_BLOCK_BYTES = (
    1024 * 1024
)  # alys-rules §5.1: the RPC's max chunk (gossip allows 10 MiB; hardening: the smaller)
MAX_WITHDRAWALS = 16  # node: lighthouse MainnetEthSpec MaxWithdrawalsPerPayload (ssz_types VariableList)
MAX_EXTRA_DATA = 32  # node: MaxExtraDataBytes
LOGS_BLOOM_BYTES = 256  # node: BytesPerLogsBloom (FixedVector)
# Suite hardening: the node's bound is 2^20 (MaxTransactionsPerPayload); at a 30M gas limit a payload
# holds at most 1,428 transactions of 21,000 gas (Yellow Paper intrinsic gas).
MAX_TRANSACTIONS = 16_384
# Suite hardening, what the unpacker may build before the fields are checked: no maps, no
# extension types, at most 65,536 arrays of at most 65,536 items, msgpack's own nesting limit.
MAX_ARRAYS = 65_536
MAX_ARRAY_LEN = 65_536
_U64_DIGITS, _U256_DIGITS = len(str(2**64 - 1)), len(str(2**256 - 1))


class DecodeError(ValueError):
    """Bytes that are not a SignedConsensusBlock; says which field and why."""


def approval_serde(a: AggregateApproval) -> list[Any]:
    return [hex0x(a.ssz_bits()), hex0x(a.signature if a.signature is not None else bytes(96))]


def block_to_bytes(signed: SignedConsensusBlock) -> bytes:
    packed: bytes = msgpack.packb(
        [serde_value(signed.message), approval_serde(signed.signature)], use_bin_type=True
    )
    return packed


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise DecodeError(what)


def _hex(value: Any, what: str, size: int | None = None) -> bytes:
    """impl-serde / serde_utils hex: "0x" then an even number of lowercase digits, nothing else."""
    _need(isinstance(value, str) and value.startswith("0x"), f"{what}: expected a 0x-hex string")
    digits = value[2:]
    _need(
        size is None or len(digits) == 2 * size,
        f"{what}: {len(digits)} hex digits, expected {2 * (size or 0)}",
    )
    _need(len(digits) % 2 == 0, f"{what}: an odd number of hex digits")
    _need(
        digits.isascii() and not digits.strip("0123456789abcdef"),
        f"{what}: not lowercase hex (no upper case, no whitespace)",
    )
    return bytes.fromhex(digits)


def _dec(value: Any, what: str, bits: int = 64) -> int:
    """quoted_u64 / quoted_u256: a decimal string in its canonical form (no sign, no leading zeros)."""
    digits = _U64_DIGITS if bits == 64 else _U256_DIGITS
    _need(isinstance(value, str), f"{what}: expected a decimal string")
    _need(
        len(value) <= digits, f"{what}: {len(value)} digits, a u{bits} has at most {digits}"
    )  # before int()
    _need(
        value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"),
        f"{what}: not a canonical decimal",
    )
    number = int(value)
    _need(number < 1 << bits, f"{what}: does not fit u{bits}")
    return number


def _uint(value: Any, what: str, bits: int = 64) -> int:
    _need(
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << bits,
        f"{what}: expected a u{bits}",
    )
    return cast(int, value)


def _i32(value: Any, what: str) -> int:
    # rmp-serde reads an i32 from a MessagePack integer only: a bool (Python's int subclass) is a type error
    _need(
        isinstance(value, int) and not isinstance(value, bool) and -(1 << 31) <= value < 1 << 31,
        f"{what}: expected an i32",
    )
    return cast(int, value)


def _arr(value: Any, what: str, size: int | None = None) -> list[Any]:
    _need(isinstance(value, list), f"{what}: expected an array")
    _need(size is None or len(value) == size, f"{what}: {len(value)} items, expected {size}")
    return cast(list[Any], value)


def _bin(value: Any, what: str, size: int | None = None) -> bytes:
    _need(
        isinstance(value, bytes) and (size is None or len(value) == size),
        f"{what}: expected {size or 'some'} raw bytes",
    )
    return cast(bytes, value)


def _witness_item(value: Any) -> bytes:
    """rust-bitcoin writes a witness element as a seq of u8, not bin."""
    items = _arr(value, "witness item")
    _need(all(type(b) is int and 0 <= b < 256 for b in items), "witness item: expected u8 integers")
    return bytes(items)


def _tx_from(v: Any, what: str) -> Transaction:
    from alys_pbt.models.bitcoin import OutPoint, TxIn, TxOut

    version, lock, ins, outs = _arr(v, what, 4)
    version = _i32(version, f"{what}.version")
    inputs = []
    for i, raw in enumerate(_arr(ins, f"{what}.input")):
        (prev, script, seq, witness) = _arr(raw, f"{what}.input[{i}]", 4)
        txid, vout = _arr(prev, f"{what}.input[{i}].prevout", 2)
        items = [_witness_item(w) for w in _arr(witness, "witness")]
        inputs.append(
            TxIn(
                OutPoint(_bin(txid, "txid", 32), _uint(vout, "vout", 32)),
                _bin(script, "script_sig"),
                _uint(seq, "sequence", 32),
                items,
            )
        )
    outputs = [
        TxOut(_uint(o[0], "value"), _bin(o[1], "script_pubkey"))
        for o in (_arr(x, f"{what}.output", 2) for x in _arr(outs, f"{what}.outputs"))
    ]
    return Transaction(version, inputs, outputs, _uint(lock, f"{what}.lock_time", 32))


def _auxpow_from(v: Any) -> AuxPow:
    cb, block_hash, cb_branch, chain_branch, header = _arr(v, "auxpow", 5)

    def branch(b: Any, what: str) -> MerkleBranch:
        hashes, mask = _arr(b, what, 2)
        return MerkleBranch(
            [_bin(h, f"{what} hash", 32) for h in _arr(hashes, what)], _uint(mask, f"{what} mask", 32)
        )

    version, prev, root, time, bits, nonce = _arr(header, "parent_block", 6)
    version = _i32(version, "parent_block.version")
    parent = BlockHeader(
        version,
        _bin(prev, "prev", 32),
        _bin(root, "merkle_root", 32),
        _uint(time, "time", 32),
        _uint(bits, "bits", 32),
        _uint(nonce, "nonce", 32),
    )
    return AuxPow(
        _tx_from(cb, "coinbase_txn"),
        _bin(block_hash, "block_hash", 32),
        branch(cb_branch, "coinbase_branch"),
        branch(chain_branch, "blockchain_branch"),
        parent,
    )


def _block_from(v: Any) -> ConsensusBlock:
    parent, slot, header, payload, pegins, proposal, finalized = _arr(v, "block", 7)
    aux = None
    if header is not None:
        rs, re_, bits, cid, height, proof, fee = _arr(header, "auxpow_header", 7)
        aux = AuxPowHeader(
            _hex(rs, "range_start", 32),
            _hex(re_, "range_end", 32),
            _uint(bits, "bits", 32),
            _uint(cid, "chain_id", 32),
            _uint(height, "height"),
            None if proof is None else _auxpow_from(proof),
            _hex(fee, "fee_recipient", 20),
        )
    p = _arr(payload, "execution_payload", 15)
    _need(len(_arr(p[13], "transactions")) <= MAX_TRANSACTIONS, f"transactions: more than {MAX_TRANSACTIONS}")
    _need(len(_arr(p[14], "withdrawals")) <= MAX_WITHDRAWALS, f"withdrawals: more than {MAX_WITHDRAWALS}")
    withdrawals = []
    for w in _arr(p[14], "withdrawals"):
        i, vi, a, amt = _arr(w, "withdrawal", 4)
        withdrawals.append(
            Withdrawal(
                _dec(i, "index"), _dec(vi, "validator_index"), _hex(a, "address", 20), _dec(amt, "amount")
            )
        )
    body = ExecutionPayload(
        _hex(p[0], "parent_hash", 32),
        _hex(p[1], "fee_recipient", 20),
        _hex(p[2], "state_root", 32),
        _hex(p[3], "receipts_root", 32),
        _hex(p[4], "logs_bloom", LOGS_BLOOM_BYTES),
        _hex(p[5], "prev_randao", 32),
        _dec(p[6], "block_number"),
        _dec(p[7], "gas_limit"),
        _dec(p[8], "gas_used"),
        _dec(p[9], "timestamp"),
        _hex(p[10], "extra_data"),
        _dec(p[11], "base_fee_per_gas", 256),
        _hex(p[12], "block_hash", 32),
        [_hex(t, "transaction") for t in _arr(p[13], "transactions")],
        withdrawals,
    )
    _need(len(body.extra_data) <= MAX_EXTRA_DATA, f"extra_data: more than {MAX_EXTRA_DATA} bytes")
    ins = [
        (_bin(txid, "pegin", 32), _bin(block, "pegin", 32))
        for txid, block in (_arr(pair, "pegin", 2) for pair in _arr(pegins, "pegins"))
    ]
    return ConsensusBlock(
        _hex(parent, "parent_hash", 32),
        _uint(slot, "slot"),
        aux,
        body,
        ins,
        None if proposal is None else _tx_from(proposal, "pegout_payment_proposal"),
        [_tx_from(t, "finalized_pegout") for t in _arr(finalized, "finalized_pegouts")],
    )


def _no_map(pairs: Any) -> Any:
    raise DecodeError("a map: every struct of a block is an array")


def _no_ext(code: int, data: bytes) -> Any:
    raise DecodeError(f"extension type {code}: a block has none")


def _unpack(data: bytes) -> Any:
    """The one MessagePack value in `data`, built within the bounds above."""
    arrays = [0]

    def counted(items: list[Any]) -> list[Any]:
        arrays[0] += 1
        _need(arrays[0] <= MAX_ARRAYS, f"more than {MAX_ARRAYS} arrays")
        return items

    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_array_len=MAX_ARRAY_LEN,
            max_map_len=MAX_ARRAY_LEN,
            object_pairs_hook=_no_map,
            ext_hook=_no_ext,
            list_hook=counted,
        )
    except DecodeError:
        raise
    except (ValueError, TypeError, msgpack.OutOfData) as err:  # ExtraData, FormatError, StackError, bad UTF-8
        raise DecodeError(f"not MessagePack: {type(err).__name__}") from None


def block_from_bytes(data: bytes) -> SignedConsensusBlock:
    """Decode the wire form, or raise DecodeError naming the field; bounded in size and depth."""
    data = bytes(data)
    _need(len(data) <= MAX_BLOCK_BYTES, f"{len(data)} bytes is over the {MAX_BLOCK_BYTES}-byte limit")
    message, approval = _arr(_unpack(data), "signed block", 2)
    bits_hex, sig_hex = _arr(approval, "signature", 2)
    raw_bits = _hex(bits_hex, "aggregation_bits", 2)
    mask = int.from_bytes(raw_bits, "little")
    _need(mask >> 15 == 1, "aggregation_bits: the length delimiter must be bit 15")
    signature = _hex(sig_hex, "aggregate_signature", 96)
    approval_value = AggregateApproval(
        tuple(bool(mask >> i & 1) for i in range(15)), None if not any(signature) else signature
    )
    signed = SignedConsensusBlock(_block_from(message), approval_value)
    # One wire form per block (suite hardening): the bytes are exactly what rmp_serde writes for
    # the value they decode to (minimal integer, string and array forms).
    _need(block_to_bytes(signed) == data, "not the canonical encoding of the block it decodes to")
    return signed
