"""The chain's block validation, finalization and rollback (app/src/chain.rs, §2.3–2.4, §5.1):
the secure reference.

`process_block` runs the node's checks in the node's order, each raising the named error; where
the node's code deviates, this states the secure rule: the slot author must have signed, every
node (not only validators) checks withdrawals, a withdrawal must be exactly what is owed, fee
shares to one address add up, and a rollback never undoes finalization. Historical exemptions
(heights 53143, 533683, 70132) are chain-spec constants; the suite's chains start at genesis and
use none.
"""

from __future__ import annotations

from attrs import field, frozen

from alys_pbt.models import approvals, auxpow, evm, pegin, retarget
from alys_pbt.models.bitcoin import Transaction
from alys_pbt.models.blocks import (
    ZERO_HASH,
    ConsensusBlock,
    ExecutionPayload,
    SignedConsensusBlock,
    slot_author,
    slot_is_in_future,
)
from alys_pbt.models.bls import Backend
from alys_pbt.models.hexrepr import pretty_as_repr, short_hex, short_hex_items


class ChainError(Exception):
    """A block (or rollback) the chain refuses."""


class ProcessGenesis(ChainError):
    """The block claims to be a genesis (parent hash zero)."""


class InvalidBlock(ChainError):
    """An old block: the head is already at or above its height."""


class MissingParent(ChainError):
    """The parent is not in storage."""


class ExecutionHashChainIncontiguous(ChainError):
    """The payload does not extend the parent's payload."""


class SlotIsInFuture(ChainError):
    """The slot is beyond Aura's drift allowance."""


class SlotAuthorNotFound(ChainError):
    """The chain has no authorities."""


class WrongSlotAuthor(ChainError):
    """The slot's author did not sign the block (secure rule)."""


class UnknownWithdrawal(ChainError):
    """The withdrawals are not exactly what is owed."""


class PegInAlreadyIncluded(ChainError):
    """The peg-in was minted before."""


class InsufficientConfirmations(ChainError):
    """The peg-in's Bitcoin block is too shallow."""


class BitcoinBlockNotFound(ChainError):
    """The peg-in's Bitcoin block is unknown."""


class NotAPegin(ChainError):
    """The transaction is not a peg-in."""


class InvalidPowRange(ChainError):
    """The finalized range does not start right after the last finalized block."""


class InvalidBlockRange(ChainError):
    """The range reaches a block that is not stored."""


class MissingRequiredPow(ChainError):
    """Too many blocks without proof of work."""


class IllegalFinalization(ChainError):
    """Finalized peg-outs do not match the proposals in range."""


class IllegalRollback(ChainError):
    """A rollback below the finalized height (secure rule)."""


@frozen
class BitcoinView:
    """What the node's Bitcoin RPC answers: confirmations per block, transactions by txid."""

    confirmations: dict[bytes, int] = field(factory=dict)
    transactions: dict[bytes, Transaction] = field(factory=dict)


@frozen
class ChainSpec:
    authorities: tuple[bytes, ...] = field(repr=short_hex_items)  # BLS public keys
    federation: tuple[bytes, ...] = field(repr=short_hex_items)  # EVM fee addresses
    federation_spk: bytes = field(repr=short_hex)  # the peg-in Taproot scriptPubKey
    chain_id: int = 121212
    bits: int = 0x207FFFFF
    slot_duration_ms: int = 5000
    max_blocks_without_pow: int = 20
    retarget: retarget.RetargetParams = field(factory=lambda: retarget.RetargetParams(12000, 1000, 20, True))
    required_confirmations: int = pegin.REQUIRED_CONFIRMATIONS
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr


class Chain:
    """A node's chain state: storage, head, latest PoW block, last finalized block, fees, wallet."""

    def __init__(
        self, spec: ChainSpec, genesis: SignedConsensusBlock, bls: Backend, bitcoin: BitcoinView
    ) -> None:
        self.spec, self.bls, self.bitcoin = spec, bls, bitcoin
        g = self.genesis_hash = genesis.block_hash
        self.storage: dict[bytes, SignedConsensusBlock] = {g: genesis}
        self.canonical: dict[int, bytes] = {0: g}
        self.head = self.latest_pow = self.finalized = g
        self.fees: dict[bytes, int] = {g: 0}
        self.wallet: set[bytes] = set()

    def block(self, block_hash: bytes) -> ConsensusBlock:
        return self.storage[block_hash].message

    @property
    def head_height(self) -> int:
        return self.block(self.head).height

    @property
    def finalized_height(self) -> int:
        return self.block(self.finalized).height

    # --- process_block, in the node's order -------------------------------------------------------
    def process_block(self, signed: SignedConsensusBlock) -> None:
        """Import `signed` as the new head, or raise the first rule it breaks."""
        block = signed.message
        if block.parent_hash == ZERO_HASH:
            raise ProcessGenesis("parent hash is zero")
        if self.head_height >= block.height:
            raise InvalidBlock(f"head at {self.head_height}, block at {block.height}")
        if block.parent_hash not in self.storage:
            raise MissingParent(block.parent_hash.hex())
        parent = self.block(block.parent_hash)
        if block.execution_payload.parent_hash != parent.execution_payload.block_hash:
            raise ExecutionHashChainIncontiguous("payload does not extend the parent's")
        self.check_signed_by_author(signed)
        self.check_withdrawals(block)
        if block.auxpow_header is not None:
            self.check_pow(block)
            if block.finalized_pegouts:  # no peg-out proposals are ever in range here
                raise IllegalFinalization("finalized peg-outs without proposals in range")
        else:
            if block.height - self.finalized_height > self.spec.max_blocks_without_pow:
                raise MissingRequiredPow(f"{block.height - self.finalized_height} blocks since finalization")
            if block.finalized_pegouts:
                raise IllegalFinalization("finalized peg-outs without an AuxPoW header")
        self._import(signed)

    def check_signed_by_author(self, signed: SignedConsensusBlock) -> None:
        block = signed.message
        if slot_is_in_future(block.slot, block.execution_payload.timestamp, self.spec.slot_duration_ms):
            raise SlotIsInFuture(f"slot {block.slot} at timestamp {block.execution_payload.timestamp}")
        if not self.spec.authorities:
            raise SlotAuthorNotFound("no authorities")
        author = slot_author(block.slot, range(len(self.spec.authorities)))
        if author < len(signed.signature.bits) and not signed.signature.bits[author]:
            raise WrongSlotAuthor(f"slot {block.slot}'s author {author} did not sign")
        approvals.check_aggregate(signed.signature, self.spec.authorities, signed.block_hash, self.bls)

    def owed_withdrawals(self, block: ConsensusBlock) -> dict[bytes, int]:
        """Gwei owed per address: the parent's fees (with an AuxPoW header) plus the peg-ins."""
        fees = []
        if block.auxpow_header is not None:
            fees = pegin.fee_split(
                self.fees[block.parent_hash], block.auxpow_header.fee_recipient, self.spec.federation
            )
        pegins = []
        for txid, btc_block in block.pegins:
            if txid in self.wallet:
                raise PegInAlreadyIncluded(txid.hex())
            if btc_block not in self.bitcoin.confirmations:
                raise BitcoinBlockNotFound(btc_block.hex())
            if self.bitcoin.confirmations[btc_block] < self.spec.required_confirmations:
                raise InsufficientConfirmations(f"{self.bitcoin.confirmations[btc_block]} confirmations")
            tx = self.bitcoin.transactions.get(txid)
            if tx is None:
                raise NotAPegin(f"{txid.hex()} not found")
            try:
                pegins.append((txid, pegin.pegin_info(tx, self.spec.federation_spk)))
            except pegin.NotAPegin as err:
                raise NotAPegin(str(err)) from None
        _, per_address = pegin.merge_pegins(pegins)
        return pegin.expected_withdrawals(fees, per_address)

    def check_withdrawals(self, block: ConsensusBlock) -> None:
        owed = self.owed_withdrawals(block)
        paid: dict[bytes, int] = {}
        for w in block.execution_payload.withdrawals:
            paid[w.address] = paid.get(w.address, 0) + w.amount
        if paid != {a: v for a, v in owed.items() if v}:
            raise UnknownWithdrawal(
                f"paid {sorted((a.hex()[:8], v) for a, v in paid.items())}, "
                f"owed {sorted((a.hex()[:8], v) for a, v in owed.items())}"
            )

    def check_pow(self, block: ConsensusBlock) -> None:
        header = block.auxpow_header
        assert header is not None
        if header.range_start not in self.storage:
            raise InvalidBlockRange(f"range start {header.range_start.hex()[:8]} not stored")
        if self.block(header.range_start).parent_hash != self.finalized:
            raise InvalidPowRange("range does not start right after the last finalized block")
        hashes = self.range_hashes(header.range_start, header.range_end)
        if not hashes:  # suite hardening: the node hashes the empty list; a miner could finalize nothing
            raise InvalidBlockRange("empty range: its end is its start's parent")
        last_pow = self.block(self.latest_pow)
        assert last_pow.auxpow_header is not None
        bits = retarget.get_next_work_required(
            last_pow.height, last_pow.auxpow_header.bits, self.spec.retarget, self.head_height
        )
        ctx = auxpow.PowContext(
            auxpow.aggregate_hash(hashes), bits, self.spec.chain_id, last_pow.auxpow_header.height + 1
        )
        auxpow.check_pow(header, ctx)

    def range_hashes(self, start: bytes, end: bytes) -> list[bytes]:
        """Block hashes from `start` to `end` inclusive, oldest first, by parent links."""
        hashes, cursor = [], end
        stop = self.block(start).parent_hash
        while cursor != stop:
            if cursor not in self.storage:
                raise InvalidBlockRange(f"{cursor.hex()[:8]} not stored")
            hashes.append(cursor)
            cursor = self.block(cursor).parent_hash
            if len(hashes) > len(self.storage):
                raise InvalidBlockRange("range start is not an ancestor of range end")
        return hashes[::-1]

    def _import(self, signed: SignedConsensusBlock) -> None:
        block, h = signed.message, signed.block_hash
        self.storage[h] = signed
        self.head = h
        # The canonical index is the new head's ancestry. A stored parent need not be the old head:
        # after a rollback, a child of a rolled-back block is imported like any other.
        self.canonical = {k: v for k, v in self.canonical.items() if k < block.height}
        cursor: bytes | None = h
        while cursor is not None and self.canonical.get(self.block(cursor).height) != cursor:
            self.canonical[self.block(cursor).height] = cursor
            parent = self.block(cursor).parent_hash
            cursor = parent if parent in self.storage else None
        own = evm.block_fees(block.execution_payload.transactions, block.execution_payload.base_fee_per_gas)
        self.fees[h] = own if block.auxpow_header is not None else self.fees[block.parent_hash] + own
        self.wallet.update(txid for txid, _ in block.pegins)
        if block.auxpow_header is not None:
            self.latest_pow = h
            if block.auxpow_header.range_end != ZERO_HASH:
                self.finalized = block.auxpow_header.range_end

    def rollback(self, height: int) -> None:
        """Set the head back to the canonical block at `height`; never below the block that
        carries the latest finalization, so nothing finalized is undone."""
        pow_height = self.block(self.latest_pow).height
        if height < pow_height:
            raise IllegalRollback(f"the latest finalization is carried at {pow_height}, rollback to {height}")
        if height >= self.head_height:
            return
        self.head = self.canonical[height]
        self.canonical = {k: v for k, v in self.canonical.items() if k <= height}


def genesis_block(spec: ChainSpec, payload: ExecutionPayload) -> SignedConsensusBlock:
    """SignedConsensusBlock::genesis: parent 0, slot 0, a height-0 AuxPowHeader without proof."""
    header = auxpow.AuxPowHeader(ZERO_HASH, ZERO_HASH, spec.bits, spec.chain_id, 0, None, bytes(20))
    block = ConsensusBlock(ZERO_HASH, 0, header, payload)
    return SignedConsensusBlock(block, approvals.AggregateApproval((False,) * 15, None))
