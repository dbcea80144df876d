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
from collections.abc import Sequence
from typing import Any

import msgpack
from attrs import field, frozen

from models.approvals import AggregateApproval
from models.auxpow import AuxPow, AuxPowHeader
from models.bitcoin import BlockHeader, MerkleBranch, Transaction

ZERO_HASH = bytes(32)


@frozen
class Withdrawal:
    """A Capella withdrawal: how Alys mints (peg-ins, fees). Amount in Gwei."""

    index: int
    validator_index: int
    address: bytes
    amount: int


@frozen
class ExecutionPayload:
    """ExecutionPayloadCapella, the 15 fields in order."""

    parent_hash: bytes
    fee_recipient: bytes
    state_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    prev_randao: bytes
    block_number: int
    gas_limit: int
    gas_used: int
    timestamp: int  # seconds
    extra_data: bytes
    base_fee_per_gas: int
    block_hash: bytes
    transactions: tuple[bytes, ...] = field(default=(), converter=tuple)
    withdrawals: tuple[Withdrawal, ...] = field(default=(), converter=tuple)


@frozen
class ConsensusBlock:
    parent_hash: bytes  # the parent's signing root; zeros only for genesis
    slot: int
    auxpow_header: AuxPowHeader | None
    execution_payload: ExecutionPayload
    pegins: tuple[tuple[bytes, bytes], ...] = field(default=(), converter=tuple)  # (txid, bitcoin block hash)
    pegout_payment_proposal: Transaction | None = None
    finalized_pegouts: tuple[Transaction, ...] = field(default=(), converter=tuple)

    @property
    def height(self) -> int:
        return self.execution_payload.block_number

    def signing_root(self) -> bytes:
        return signing_root(self)


@frozen
class SignedConsensusBlock:
    message: ConsensusBlock
    signature: AggregateApproval

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
        [[[i.prevout.txid, i.prevout.vout], i.script_sig, i.sequence, [list(w) for w in i.witness]] for i in tx.inputs],
        [[o.value, o.script_pubkey] for o in tx.outputs],
    ]


def _branch(b: MerkleBranch) -> list[Any]:
    return [list(b.hashes), b.side_mask]


def _header(h: BlockHeader) -> list[Any]:
    return [h.version, h.prev_block, h.merkle_root, h.time, h.bits, h.nonce]


def _auxpow(a: AuxPow) -> list[Any]:
    return [_tx(a.coinbase_txn), a.block_hash, _branch(a.coinbase_branch), _branch(a.blockchain_branch), _header(a.parent_block)]


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
    return msgpack.packb(serde_value(block), use_bin_type=True)


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
