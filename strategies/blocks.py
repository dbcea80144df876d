"""Alys chains, valid by construction, and the block corruption catalogue.

`ChainBuilder` knows the canonical chain: it builds the next block on the head (payload linked to
the parent's, a slot whose author signs, ceil(2n/3) real BLS approvals, the withdrawals owed for
fees and peg-ins), optionally with an AuxPoW header that finalizes the contiguous range since the
last finalization with a ground proof; and it keeps a reference `Chain` in step to know what is
owed. A corruption builds the next valid block and breaks exactly one rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import rlp
from attrs import frozen
from eth_hash.auto import keccak
from hypothesis import strategies as st

from alys_pbt.models import auxpow
from alys_pbt.models.approvals import AggregateApproval, IndividualApproval, required_approvals
from alys_pbt.models.bitcoin import NULL_OUTPOINT, Origin, OutPoint, Transaction, TxIn, TxOut
from alys_pbt.models.blocks import ConsensusBlock, ExecutionPayload, SignedConsensusBlock, Withdrawal
from alys_pbt.models.bls import Backend
from alys_pbt.models.chain import BitcoinView, Chain, ChainSpec, genesis_block
from alys_pbt.models.reprs import pretty_as_repr, short_bytes_seq
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.auxpow import EASY_BITS, AuxPowRecipe, build
from alys_pbt.strategies.invalid import InvalidCase, by_name

if TYPE_CHECKING:  # an annotation only: importing a strategy costs no harness
    from alys_pbt.interface import Target

DEAD = bytes.fromhex("000000000000000000000000000000000000dead")


def payload_hash(p: ExecutionPayload) -> bytes:
    """The simulated execution layer's block hash: keccak of the payload's RLP (minus the hash)."""
    fields = [
        p.parent_hash,
        p.fee_recipient,
        p.state_root,
        p.block_number,
        p.gas_limit,
        p.timestamp,
        p.extra_data,
        p.base_fee_per_gas,
        list(p.transactions),
        [[w.index, w.validator_index, w.address, w.amount] for w in p.withdrawals],
    ]
    return keccak(rlp.encode(fields))


def minimal_recipe(commit: bytes, chain_id: int, bits: int = EASY_BITS) -> AuxPowRecipe:
    """The smallest valid proof a pool could submit for `commit` (output-script layout, chain branch of 0)."""
    return AuxPowRecipe(
        aux_hash=commit,
        chain_id=chain_id,
        layout="output-script",
        chain_siblings=(),
        merkle_nonce=0,
        bits=bits,
        parent_version=0x20000000,
        parent_prev=bytes(32),
        parent_time=0,
        coinbase_version=1,
        coinbase_sequence=0xFFFFFFFF,
        coinbase_lock_time=0,
        script_sig_prefix=b"\x03\x01\x00\x00",
        script_sig_suffix=b"",
        payouts=(TxOut(0, b"\x51"), TxOut(0, b"\x51")),
        extra_outputs=(),
        filler_script=b"",
        other_txids=(),
    )


def pegin_transaction(
    federation_spk: bytes, sats: int, address: bytes, *, how: str = "raw", nonce: int = 0
) -> Transaction:
    """A Bitcoin peg-in: pays the federation, names `address` in an OP_RETURN (raw, hex, 0xhex);
    `nonce` picks the coin it spends, so equal peg-ins are still distinct transactions."""
    payload = {"raw": address, "hex": address.hex().encode(), "0xhex": b"0x" + address.hex().encode()}[how]
    prevout = OutPoint(
        hashlib.sha256(address + sats.to_bytes(8, "little") + nonce.to_bytes(8, "little")).digest(), 0
    )
    return Transaction(
        2,
        (TxIn(prevout, b"", 0xFFFFFFFD),),
        (TxOut(sats, federation_spk), TxOut(0, bytes([0x6A, len(payload)]) + payload)),
        0,
    )


class ChainBuilder:
    def __init__(self, spec: ChainSpec, keyring: Keyring, bls: Backend) -> None:
        self.spec, self.keyring, self.bls = spec, keyring, bls
        self.bitcoin = BitcoinView()
        genesis_payload = ExecutionPayload(
            bytes(32), DEAD, bytes(32), bytes(32), bytes(256), bytes(32), 0, 30_000_000, 0, 0, b"", 7, b""
        )
        genesis_payload = attrs.evolve(genesis_payload, block_hash=payload_hash(genesis_payload))
        self.genesis = genesis_block(spec, genesis_payload)
        self.chain = Chain(spec, self.genesis, bls, self.bitcoin)  # the reference, kept in step
        self.pending_pegins: list[tuple[bytes, bytes]] = []  # (txid, bitcoin block) not yet minted
        self.coins = 0

    def add_pegin(self, sats: int, address: bytes, *, how: str = "raw", confirmations: int = 144) -> bytes:
        self.coins += 1
        tx = pegin_transaction(self.spec.federation_spk, sats, address, how=how, nonce=self.coins)
        btc_block = hashlib.sha256(b"btc" + tx.txid).digest()
        self.bitcoin.confirmations[btc_block] = confirmations
        self.bitcoin.transactions[tx.txid] = tx
        self.pending_pegins.append((tx.txid, btc_block))
        return tx.txid

    def sign(self, block: ConsensusBlock, signers: Sequence[int] | None = None) -> SignedConsensusBlock:
        """`block` approved by `signers` (default: the slot author, then others, to the threshold)."""
        n = self.keyring.n
        if signers is None:
            author = block.slot % n
            signers = [author, *[i for i in range(n) if i != author][: required_approvals(n) - 1]]
        root = block.signing_root()
        approvals = [IndividualApproval(self.bls.Sign(self.keyring.secret_keys[i], root), i) for i in signers]
        return SignedConsensusBlock(block, AggregateApproval.of(approvals, self.bls))

    def unsigned_next(
        self,
        *,
        pow: bool = False,
        transactions: Sequence[bytes] = (),
        slot_gap: int = 1,
        fee_recipient: bytes = b"\x11" * 20,
    ) -> ConsensusBlock:
        """The next valid block on the reference head, not yet signed."""
        c = self.chain
        parent = c.block(c.head)
        height, slot = parent.height + 1, parent.slot + slot_gap
        pegins = tuple(self.pending_pegins)
        header = None
        if pow:
            hashes = (
                c.range_hashes(c.canonical[c.finalized_height + 1], c.head)
                if c.head_height > c.finalized_height
                else []
            )
            last = c.block(c.latest_pow).auxpow_header
            assert last is not None
            from alys_pbt.models.retarget import get_next_work_required

            bits = get_next_work_required(
                c.block(c.latest_pow).height, last.bits, self.spec.retarget, c.head_height
            )
            if hashes:
                proof = build(minimal_recipe(auxpow.aggregate_hash(hashes), self.spec.chain_id, bits))
                header = auxpow.AuxPowHeader(
                    hashes[0], hashes[-1], bits, self.spec.chain_id, last.height + 1, proof, fee_recipient
                )
        payload = ExecutionPayload(
            parent.execution_payload.block_hash,
            DEAD,
            hashlib.sha256(b"state%d" % height).digest(),
            bytes(32),
            bytes(256),
            hashlib.sha256(b"randao%d" % height).digest(),
            height,
            30_000_000,
            21_000 * len(transactions),
            slot * self.spec.slot_duration_ms // 1000,
            b"",
            7,
            b"",
            tuple(transactions),
        )
        draft = ConsensusBlock(c.head, slot, header, payload, pegins)
        owed = c.owed_withdrawals(draft)
        withdrawals = tuple(Withdrawal(0, 0, a, v) for a, v in sorted(owed.items()) if v)
        payload = attrs.evolve(payload, withdrawals=withdrawals)
        payload = attrs.evolve(payload, block_hash=payload_hash(payload))
        return attrs.evolve(draft, execution_payload=payload)

    def next_block(self, **kwargs: Any) -> SignedConsensusBlock:
        return self.sign(self.unsigned_next(**kwargs))

    def accept(self, signed: SignedConsensusBlock) -> None:
        """Feed a block to the reference (raises if the reference refuses it)."""
        self.chain.process_block(signed)
        minted = {txid for txid, _ in signed.message.pegins}
        self.pending_pegins = [p for p in self.pending_pegins if p[0] not in minted]


# --- the corruption catalogue --------------------------------------------------------------------


def relink(block: ConsensusBlock) -> ConsensusBlock:
    """Recompute the payload's simulated EL hash after an edit."""
    p = block.execution_payload
    return attrs.evolve(block, execution_payload=attrs.evolve(p, block_hash=payload_hash(p)))


def _payload(block: ConsensusBlock, **changes: Any) -> ConsensusBlock:
    return relink(attrs.evolve(block, execution_payload=attrs.evolve(block.execution_payload, **changes)))


BlockCorruption = InvalidCase  # the records of this catalogue (strategies/invalid.py)
ApplyBlock = Callable[[ChainBuilder, st.DrawFn], SignedConsensusBlock]
_CHAIN, _AURA = "app/src/chain.rs", "app/src/aura.rs check_signed_by_author"


def _node(where: str) -> tuple[Origin, ...]:
    return (Origin("node", where),)


def _hardening(why: str) -> tuple[Origin, ...]:
    return (Origin("suite-hardening", why),)


def _case(
    name: str,
    expected: str,
    rule: str,
    origins: tuple[Origin, ...],
    apply: ApplyBlock,
    when: Callable[[ChainBuilder], bool] = lambda b: True,
    *,
    exposes: tuple[str, ...] = (),
) -> InvalidCase:
    """A block corruption: the next valid block on the builder's head with one rule broken."""
    return InvalidCase(name, expected, rule, origins, apply, "chain", when=when, exposes=exposes)


def _unknown_parent(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    return b.sign(
        attrs.evolve(
            b.unsigned_next(),
            parent_hash=draw(
                st.binary(min_size=32, max_size=32).filter(lambda h: h not in b.chain.storage and any(h))
            ),
        )
    )


def _old_height(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    return b.sign(_payload(b.unsigned_next(), block_number=draw(st.integers(0, b.chain.head_height))))


def _broken_link(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    return b.sign(_payload(b.unsigned_next(), parent_hash=draw(st.binary(min_size=32, max_size=32))))


def _future_slot(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    ts = block.execution_payload.timestamp
    limit = max(ts * 1000 // b.spec.slot_duration_ms, ts * 1000 // 3000) + 1
    return b.sign(attrs.evolve(block, slot=draw(st.integers(limit + 1, limit + 10**6))))


def _wrong_author(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    n = b.keyring.n
    author = block.slot % n
    others = [i for i in range(n) if i != author]
    return b.sign(block, others[: max(required_approvals(n), 1)])


def _too_few(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    n = b.keyring.n
    author = block.slot % n
    return b.sign(block, [author, *[i for i in range(n) if i != author][: required_approvals(n) - 2]])


def _bad_signature(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    honest = b.sign(block)
    other = b.sign(attrs.evolve(block, slot=block.slot + b.keyring.n))  # same signers, another root
    return SignedConsensusBlock(block, AggregateApproval(honest.signature.bits, other.signature.signature))


def _extra_withdrawal(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    extra = Withdrawal(0, 0, draw(st.binary(min_size=20, max_size=20)), draw(st.integers(1, 10**12)))
    return b.sign(_payload(block, withdrawals=(*block.execution_payload.withdrawals, extra)))


def _missing_withdrawal(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    b.add_pegin(draw(st.integers(1, 10**8)), draw(st.binary(min_size=20, max_size=20)), how="hex")
    block = b.unsigned_next()
    return b.sign(_payload(block, withdrawals=block.execution_payload.withdrawals[1:]))


def _noncontiguous(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next(pow=True)
    h = block.auxpow_header
    assert h is not None
    c = b.chain
    start = c.canonical[c.finalized_height + 2]
    hashes = c.range_hashes(start, c.head)
    proof = build(minimal_recipe(auxpow.aggregate_hash(hashes), b.spec.chain_id, h.bits))
    return b.sign(attrs.evolve(block, auxpow_header=attrs.evolve(h, range_start=start, auxpow=proof)))


def _overlapping(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next(pow=True)
    h = block.auxpow_header
    assert h is not None
    c = b.chain
    hashes = c.range_hashes(c.finalized, c.head)  # starts at the finalized block itself
    proof = build(minimal_recipe(auxpow.aggregate_hash(hashes), b.spec.chain_id, h.bits))
    return b.sign(attrs.evolve(block, auxpow_header=attrs.evolve(h, range_start=c.finalized, auxpow=proof)))


def _illegal_finalization(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    block = b.unsigned_next()
    spend = Transaction(2, (TxIn(NULL_OUTPOINT, b"", 0),), (TxOut(1_000_000, b"\x51"),), 0)
    return b.sign(attrs.evolve(block, finalized_pegouts=(spend,)))


def _with_extra_pegins(b: ChainBuilder, extra: Sequence[tuple[bytes, bytes]]) -> ConsensusBlock:
    """The next valid block, listing `extra` peg-ins too (with no withdrawals for them)."""
    block = b.unsigned_next()
    return relink(attrs.evolve(block, pegins=block.pegins + tuple(extra)))


def _bad_pegin(
    *, confirmations: int = 144, op_return: bool = True
) -> Callable[[ChainBuilder, st.DrawFn], SignedConsensusBlock]:
    def apply(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
        b.coins += 1
        tx = pegin_transaction(
            b.spec.federation_spk,
            draw(st.integers(1, 10**8)),
            draw(st.binary(min_size=20, max_size=20)),
            how="hex",
            nonce=b.coins,
        )
        if not op_return:
            tx = attrs.evolve(tx, outputs=tx.outputs[:1])
        btc_block = hashlib.sha256(b"btc" + tx.txid).digest()
        b.bitcoin.confirmations[btc_block] = confirmations
        b.bitcoin.transactions[tx.txid] = tx
        return b.sign(_with_extra_pegins(b, [(tx.txid, btc_block)]))

    return apply


def _already_minted(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    txid = draw(st.sampled_from(sorted(b.chain.wallet)))
    btc_block = hashlib.sha256(b"btc" + txid).digest()
    return b.sign(_with_extra_pegins(b, [(txid, btc_block)]))


def _missing_pow(b: ChainBuilder, draw: st.DrawFn) -> SignedConsensusBlock:
    return b.next_block()


CATALOGUE: tuple[InvalidCase, ...] = (
    _case(
        "unknown-parent",
        "MissingParent",
        "the parent must be stored",
        _node(f"{_CHAIN} process_block: the parent is in storage"),
        _unknown_parent,
    ),
    _case(
        "old-height",
        "InvalidBlock",
        "heights strictly increase",
        _node(f"{_CHAIN} process_block: head.height < block_number"),
        _old_height,
    ),
    _case(
        "broken-payload-link",
        "ExecutionHashChainIncontiguous",
        "the payload extends the parent's",
        _node(f"{_CHAIN} process_block: payload.parent_hash is the parent payload's block_hash"),
        _broken_link,
    ),
    _case(
        "future-slot",
        "SlotIsInFuture",
        "Aura's drift allowance",
        _node(f"{_AURA}: slot <= slot_now + 1 or slot <= slot_3000 + 1"),
        _future_slot,
    ),
    _case(
        "wrong-slot-author",
        "WrongSlotAuthor",
        "the slot's author signs its block",
        _hardening(f"Aura's rule; the check is commented out in {_AURA}"),
        _wrong_author,
        lambda b: b.keyring.n >= 3,
        exposes=("chain-slot-author-unchecked",),
    ),
    _case(
        "too-few-approvals",
        "NotEnoughApprovals",
        "ceil(2n/3) authorities approve",
        _node("app/src/block_candidate maybe_accept_block; app/src/signatures.rs num_approvals"),
        _too_few,
        lambda b: required_approvals(b.keyring.n) >= 2,
    ),
    _case(
        "approval-over-another-block",
        "BadSignature",
        "the aggregate signs this block",
        _node(f"{_AURA}: the aggregate approval verifies"),
        _bad_signature,
    ),
    _case(
        "unexpected-withdrawal",
        "UnknownWithdrawal",
        "withdrawals are exactly what is owed",
        _hardening(
            f"no withdrawal beyond what is owed ({_CHAIN} check_withdrawals refuses only missing ones)"
        ),
        _extra_withdrawal,
        exposes=("chain-withdrawals-extra-accepted",),
    ),
    _case(
        "missing-withdrawal",
        "UnknownWithdrawal",
        "a peg-in's mint is paid",
        _node(f"{_CHAIN} check_withdrawals: every expected withdrawal is in the payload"),
        _missing_withdrawal,
    ),
    _case(
        "non-contiguous-range",
        "InvalidPowRange",
        "finalized ranges are contiguous",
        _node(f"{_CHAIN} check_pow: range_start's parent is the last finalized block"),
        _noncontiguous,
        lambda b: b.chain.head_height - b.chain.finalized_height >= 2,
    ),
    _case(
        "overlapping-range",
        "InvalidPowRange",
        "a range starts after the finalized block",
        _node(f"{_CHAIN} check_pow: range_start's parent is the last finalized block"),
        _overlapping,
        lambda b: b.chain.head_height > b.chain.finalized_height and b.chain.finalized_height > 0,
    ),
    _case(
        "illegal-finalization",
        "IllegalFinalization",
        "finalized peg-outs need proposals and PoW",
        _node(f"{_CHAIN} process_block: finalized_pegouts match the proposals in range"),
        _illegal_finalization,
    ),
    _case(
        "shallow-pegin",
        "InsufficientConfirmations",
        "144 confirmations",
        _node(f"{_CHAIN} check_withdrawals: confirmations >= required_btc_txn_confirmations"),
        _bad_pegin(confirmations=143),
    ),
    _case(
        "pegin-already-minted",
        "PegInAlreadyIncluded",
        "a peg-in mints once",
        _node(f"{_CHAIN} check_withdrawals: the txid is not in the wallet"),
        _already_minted,
        lambda b: bool(b.chain.wallet),
    ),
    _case(
        "not-a-pegin",
        "NotAPegin",
        "a peg-in names its recipient",
        _node("crates/federation/src/lib.rs pegin_info"),
        _bad_pegin(op_return=False),
    ),
    _case(
        "missing-required-pow",
        "MissingRequiredPow",
        "at most max_blocks_without_pow unfinalized blocks",
        _node(f"{_CHAIN} process_block: block_number - finalized height <= max_blocks_without_pow"),
        _missing_pow,
        lambda b: b.chain.head_height + 1 - b.chain.finalized_height > b.spec.max_blocks_without_pow,
    ),
)
BY_NAME = by_name(CATALOGUE)


# --- named strategies -------------------------------------------------------------------------------


@frozen
class ChainCase:
    """A generated chain: its builder (spec, keys, Bitcoin view, reference), canonical blocks, forks."""

    builder: ChainBuilder
    blocks: tuple[SignedConsensusBlock, ...]
    forks: tuple[SignedConsensusBlock, ...]


@st.composite
def chains(
    draw: st.DrawFn,
    *,
    length: int | st.SearchStrategy[int] = st.integers(1, 12),
    pow_every: int | None = None,
    forks: int | st.SearchStrategy[int] = st.integers(0, 2),
    authorities: st.SearchStrategy[int] = st.integers(1, 5),
    bls: Backend | None = None,
) -> ChainCase:
    """Linked, signed blocks from genesis: real approvals, EVM transactions, peg-ins, and AuxPoW
    headers finalizing contiguous ranges (every `pow_every` blocks, or when drawn); plus fork
    blocks (valid at heights the chain already passed, so a node must refuse them as old)."""
    from alys_pbt.models import bls as bls_models
    from alys_pbt.models.pegin import FEDERATION_SPK
    from alys_pbt.strategies.approvals import keyrings
    from alys_pbt.strategies.evm import evm_transactions

    b = bls or bls_models.backend()
    keyring = draw(keyrings(b, n=authorities), label="authorities")
    federation = tuple(
        draw(st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=3), label="federation")
    )
    builder = ChainBuilder(
        ChainSpec(keyring.public_keys, federation, FEDERATION_SPK, max_blocks_without_pow=6), keyring, b
    )
    n = draw(length) if isinstance(length, st.SearchStrategy) else length
    made = []
    for i in range(n):
        c = builder.chain
        unfinalized = c.head_height - c.finalized_height
        want_pow = (pow_every and (i + 1) % pow_every == 0) or (pow_every is None and draw(st.booleans()))
        pow = bool(unfinalized and (want_pow or unfinalized >= 6))
        if draw(st.integers(0, 3)) == 0:
            builder.add_pegin(
                draw(st.integers(1, 10**8)),
                draw(st.binary(min_size=20, max_size=20)),
                how=draw(st.sampled_from(["raw", "hex", "0xhex"])),
            )
        txs = [t.to_bytes() for t in draw(st.lists(evm_transactions(), max_size=2), label="transactions")]
        signed = builder.next_block(pow=pow, transactions=txs)
        builder.accept(signed)
        made.append(signed)
    fork_blocks = []
    for _ in range(draw(forks) if isinstance(forks, st.SearchStrategy) else forks):
        if builder.chain.head_height < 1:
            break
        parent = builder.chain.block(
            builder.chain.canonical[draw(st.integers(0, builder.chain.head_height - 1))]
        )
        block = builder.unsigned_next()
        block = relink(
            attrs.evolve(
                block,
                parent_hash=parent.signing_root(),
                slot=parent.slot + 2,
                execution_payload=attrs.evolve(
                    block.execution_payload,
                    parent_hash=parent.execution_payload.block_hash,
                    block_number=parent.height + 1,
                    timestamp=(parent.slot + 2) * 5,
                ),
            )
        )
        fork_blocks.append(builder.sign(block))
    return ChainCase(builder, tuple(made), tuple(fork_blocks))


@frozen
class GrowthPlan:
    """How a property's chain grows before it is probed: its authorities, its federation (fee
    addresses), and per block whether it should carry PoW (the chain forces PoW once the
    unfinalized run reaches `force_pow_at`, and none can finalize an empty run)."""

    keyring: Keyring = attrs.field(repr=lambda k: f"<keyring of secret keys {k.secret_keys}>")
    federation: tuple[bytes, ...] = attrs.field(repr=short_bytes_seq)
    pows: tuple[bool, ...]
    max_blocks_without_pow: int = 5
    force_pow_at: int = 5

    _repr_pretty_ = pretty_as_repr

    def grow(self, target: Target, *, validator: bool = True) -> tuple[ChainBuilder, Any]:
        """A builder and a node of `target` that both imported the plan's blocks."""
        from alys_pbt.models import bls as bls_models
        from alys_pbt.models.pegin import FEDERATION_SPK

        b = bls_models.backend()
        spec = ChainSpec(
            self.keyring.public_keys,
            self.federation,
            FEDERATION_SPK,
            max_blocks_without_pow=self.max_blocks_without_pow,
        )
        builder = ChainBuilder(spec, self.keyring, b)
        node = target.chain.node(spec, builder.genesis, builder.bitcoin, validator=validator)
        for want in self.pows:
            c = builder.chain
            unfinalized = c.head_height - c.finalized_height
            signed = builder.next_block(pow=unfinalized > 0 and (want or unfinalized >= self.force_pow_at))
            builder.accept(signed)
            node.process_block(signed)
        return builder, node


FEE_ADDRESS_LISTS = st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=3)
POW_PLANS = st.lists(st.booleans(), min_size=1, max_size=6)  # per block: with PoW?


@st.composite
def growth_plans(
    draw: st.DrawFn,
    *,
    authorities: st.SearchStrategy[int] = st.integers(1, 5),
    federation: st.SearchStrategy[list[bytes]] = FEE_ADDRESS_LISTS,
    blocks: st.SearchStrategy[list[bool]] = POW_PLANS,
    force_pow_at: int = 5,
) -> GrowthPlan:
    """Plans for a few valid blocks (some with PoW) over 1-5 authorities and 1-3 fee addresses."""
    from alys_pbt.models import bls as bls_models
    from alys_pbt.strategies.approvals import keyrings

    keyring = draw(keyrings(bls_models.backend(), n=authorities), label="authorities")
    return GrowthPlan(
        keyring,
        tuple(draw(federation, label="federation")),
        tuple(draw(blocks, label="blocks (True: with PoW)")),
        force_pow_at=force_pow_at,
    )


def signed_blocks(**knobs: Any) -> st.SearchStrategy[SignedConsensusBlock]:
    """The head block of a generated chain (takes the knobs of `chains`)."""
    return chains(**knobs).map(lambda case: case.blocks[-1])


@st.composite
def pegin_transactions(draw: st.DrawFn, federation_spk: bytes) -> tuple[Transaction, bytes]:
    """Peg-ins paying `federation_spk`, with the recipient as raw bytes or hex text: (tx, recipient)."""
    address = draw(st.binary(min_size=20, max_size=20))
    tx = pegin_transaction(
        federation_spk,
        draw(st.integers(1, 21 * 10**14)),
        address,
        how=draw(st.sampled_from(["raw", "hex", "0xhex"])),
        nonce=draw(st.integers(0, 2**32)),
    )
    return tx, address
