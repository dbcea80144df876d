"""The chain state machine: a node (the target) against the reference chain, block by block.

The builder knows the canonical chain. Rules import the next valid block (with EVM transactions,
peg-ins, or an AuxPoW header finalizing the range since the last finalization), a fork block, or
a block with one corruption from the catalogue; trigger a rollback; restart the node from its
store. Invariants hold the node to the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs
from attrs import frozen
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt.models import bls
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.evm import EvmTransaction

# Defined in models/pegin.py; re-exported for the modules that still import them from here (the
# properties, tests, benchmarks and vectors of chain and peg-ins): they should import models.pegin.
from alys_pbt.models.pegin import FEDERATION_SPK as FEDERATION_SPK
from alys_pbt.models.pegin import FEDERATION_XONLY as FEDERATION_XONLY
from alys_pbt.strategies.approvals import Keyring, cancelling_subset, secret_keys
from alys_pbt.strategies.blocks import BY_NAME, CATALOGUE, ChainBuilder, relink
from alys_pbt.strategies.evm import evm_transactions
from alys_pbt.verdict import verdict

if TYPE_CHECKING:
    from alys_pbt.interface import Target

OUTSIDER = b"\x11" * 20  # a miner's fee address outside the federation


@frozen
class ChainSetup:
    """The authorities, the federation's fee addresses and the finalization limit of a chain."""

    secret_keys: tuple[int, ...]  # the authorities' (distinct; no subset sums to the identity)
    federation: tuple[bytes, ...]
    max_blocks_without_pow: int


chain_setups = st.builds(
    ChainSetup,
    secret_keys=st.lists(secret_keys, min_size=1, max_size=5, unique=True)
    .filter(lambda ks: not cancelling_subset(ks))
    .map(tuple),
    federation=st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=3).map(tuple),
    max_blocks_without_pow=st.integers(3, 8),
)


@frozen
class PegIn:
    """A peg-in paid to the federation before the next block: its amount, the EVM recipient, and
    how the OP_RETURN names it (20 raw bytes, or 40 hex digits with or without 0x)."""

    sats: int
    recipient: bytes
    form: Literal["raw", "hex", "0xhex"]


pegins = st.builds(
    PegIn,
    sats=st.integers(1, 10**8),
    recipient=st.binary(min_size=20, max_size=20),
    form=st.sampled_from(["raw", "hex", "0xhex"]),
)


class ChainMachine(RuleBasedStateMachine):
    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.bls = bls.backend()
        self.finalized_seen: list[int] = [0]
        self.head_seen: list[int] = [0]

    @initialize(setup=chain_setups)
    def start_node(self, setup: ChainSetup) -> None:
        keyring = Keyring(setup.secret_keys, tuple(self.bls.SkToPk(sk) for sk in setup.secret_keys))
        spec = ChainSpec(
            keyring.public_keys,
            setup.federation,
            FEDERATION_SPK,
            max_blocks_without_pow=setup.max_blocks_without_pow,
        )
        self.builder = ChainBuilder(spec, keyring, self.bls)
        self.model = self.builder.chain
        self.node = self.target.chain.node(spec, self.builder.genesis, self.builder.bitcoin, validator=True)
        note(
            f"{keyring.n} authorities, federation of {len(setup.federation)}, "
            f"max {spec.max_blocks_without_pow} blocks without PoW"
        )

    def _import(self, signed: Any, expected: str) -> None:
        want = verdict(lambda: self.model.process_block(signed))
        assert want == expected, f"reference said {want}, expected {expected}"
        if want == "ok":
            self.builder.pending_pegins = [
                p for p in self.builder.pending_pegins if p[0] not in {t for t, _ in signed.message.pegins}
            ]
        before = self._persisted()
        got = verdict(lambda: self.node.process_block(signed))
        assert got == want, f"node answered {got}, a correct node {want}"
        if got != "ok":  # all or nothing: a refused block leaves no trace
            assert self._persisted() == before, f"the node refused the block ({got}) but changed its state"

    def _persisted(self) -> tuple[Any, ...]:
        n = self.node
        return (
            n.head,
            n.head_height,
            n.finalized_height,
            n.latest_pow,
            frozenset(n.stored),
            dict(n.by_height),
        )

    @precondition(
        lambda self: (
            self.model.head_height - self.model.finalized_height < self.builder.spec.max_blocks_without_pow
        )
    )
    @rule(
        transactions=st.lists(evm_transactions(), max_size=2),
        pegin=st.none() | pegins,
        slot_gap=st.integers(1, 3),
    )
    def import_next_block(
        self, transactions: list[EvmTransaction], pegin: PegIn | None, slot_gap: int
    ) -> None:
        if pegin is not None:
            self.builder.add_pegin(pegin.sats, pegin.recipient, how=pegin.form)
        signed = self.builder.next_block(transactions=[t.to_bytes() for t in transactions], slot_gap=slot_gap)
        note(f"import block {signed.height} ({len(transactions)} txs, {len(signed.message.pegins)} peg-ins)")
        self._import(signed, "ok")

    @precondition(lambda self: self.model.head_height > self.model.finalized_height)
    @rule(paid_to_the_federation=st.booleans())
    def deliver_finalizing_auxpow(self, paid_to_the_federation: bool) -> None:
        recipient = self.builder.spec.federation[0] if paid_to_the_federation else OUTSIDER
        signed = self.builder.next_block(pow=True, fee_recipient=recipient)
        note(f"import block {signed.height} finalizing up to {signed.height - 1}")
        self._import(signed, "ok")

    @precondition(lambda self: self.model.head_height >= 1)
    @rule(blocks_back=st.integers(1, 8))
    def import_fork_block(self, blocks_back: int) -> None:
        """A block on a parent below the head (at most the head's height back): old, refused."""
        c = self.model
        depth = min(blocks_back, c.head_height)
        fork_parent = c.canonical[c.head_height - depth]
        block = self.builder.unsigned_next()
        parent = c.block(fork_parent)
        block = relink(
            attrs.evolve(
                block,
                parent_hash=fork_parent,
                slot=parent.slot + 1,
                execution_payload=attrs.evolve(
                    block.execution_payload,
                    parent_hash=parent.execution_payload.block_hash,
                    block_number=parent.height + 1,
                    timestamp=(parent.slot + 1) * 5,
                ),
            )
        )
        note(f"fork block at height {parent.height + 1}")
        self._import(self.builder.sign(block), "InvalidBlock")

    @rule(data=st.data())
    def import_corrupted_block(self, data: st.DataObject) -> None:
        """A block broken in exactly one rule: refused with that rule's error. Which corruptions
        apply, and what each draws to break its block, depend on the chain so far: drawn here."""
        at_limit = (
            self.model.head_height + 1 - self.model.finalized_height
            > self.builder.spec.max_blocks_without_pow
        )
        # One fault at a time: at the limit, any block without PoW also misses its required PoW.
        usable = [
            c.name
            for c in CATALOGUE
            if c.applicable(self.builder) and (c.name == "missing-required-pow") == at_limit
        ]
        corruption = BY_NAME[data.draw(st.sampled_from(usable), label="corruption")]  # prints its name
        signed = corruption.apply(self.builder, data.draw)
        note(f"corrupted block {signed.height}: {corruption.name}")
        self._import(signed, corruption.expected)

    @precondition(lambda self: self.model.head_height >= 1)
    @rule(blocks_back=st.integers(1, 8))
    def roll_back(self, blocks_back: int) -> None:
        """Roll the head back (to genesis at most)."""
        height = max(0, self.model.head_height - blocks_back)
        want = verdict(lambda: self.model.rollback(height))
        got = verdict(lambda: self.node.rollback(height))
        note(f"rollback to {height}: reference {want}, node {got}")
        assert got == want, f"node answered {got} to a rollback, a correct node {want}"
        self.head_seen.append(-1)  # heights may drop here

    @rule()
    def restart_node(self) -> None:
        note("restart the node from its store")
        self.node = self.node.restart()

    @invariant()
    def node_agrees_with_the_reference(self) -> None:
        assert self.node.head == self.model.head, "heads differ"
        assert self.node.finalized_height == self.model.finalized_height, (
            f"node finalized at {self.node.finalized_height}, reference at {self.model.finalized_height}"
        )

    @invariant()
    def every_stored_block_is_one_the_reference_accepts(self) -> None:
        extra = self.node.stored - set(self.model.storage)
        assert not extra, f"node stores {len(extra)} blocks the reference refused"

    @invariant()
    def a_finalized_block_is_never_undone(self) -> None:
        assert self.node.finalized_height >= self.finalized_seen[-1], "finalization went backwards"
        self.finalized_seen.append(self.node.finalized_height)

    @invariant()
    def no_more_blocks_without_pow_than_allowed(self) -> None:
        assert self.node.head_height - self.node.finalized_height <= self.builder.spec.max_blocks_without_pow

    @invariant()
    def head_height_increases_between_rollbacks(self) -> None:
        if self.head_seen[-1] != -1:  # a rollback just ran: the head may have dropped
            assert self.node.head_height >= self.head_seen[-1]
        self.head_seen.append(self.node.head_height)
