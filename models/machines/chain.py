"""The chain state machine: a node (the target) against the reference chain, block by block.

The builder knows the canonical chain. Rules import the next valid block (with EVM transactions,
peg-ins, or an AuxPoW header finalizing the range since the last finalization), a fork block, or
a block with one corruption from the catalogue; trigger a rollback; restart the node from its
store. Invariants hold the node to the reference.
"""

from __future__ import annotations

from typing import Any

import coincurve
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt import targets
from alys_pbt.verdict import verdict
from alys_pbt.models import bls, pegin
from alys_pbt.models.chain import ChainSpec
from alys_pbt.strategies.blocks import CATALOGUE, ChainBuilder
from alys_pbt.strategies.evm import evm_transactions
from alys_pbt.strategies.approvals import keyrings

FEDERATION_XONLY = tuple(
    coincurve.PublicKey.from_valid_secret((i + 1).to_bytes(32, "big")).format()[1:] for i in range(3)
)
FEDERATION_SPK = pegin.federation_script_pubkey(FEDERATION_XONLY)


class ChainMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.bls = bls.backend()
        self.finalized_seen: list[int] = [0]
        self.head_seen: list[int] = [0]

    @initialize(data=st.data())
    def start_node(self, data: st.DataObject) -> None:
        keyring = data.draw(keyrings(self.bls, n=st.integers(1, 5)), label="authorities")
        federation = data.draw(
            st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=3),
            label="federation fee addresses",
        )
        spec = ChainSpec(
            keyring.public_keys,
            tuple(federation),
            FEDERATION_SPK,
            max_blocks_without_pow=data.draw(st.integers(3, 8), label="max blocks without pow"),
        )
        self.builder = ChainBuilder(spec, keyring, self.bls)
        self.model = self.builder.chain
        self.node = self.target.chain.node(spec, self.builder.genesis, self.builder.bitcoin, validator=True)
        note(
            f"{keyring.n} authorities, federation of {len(federation)}, max {spec.max_blocks_without_pow} blocks without PoW"
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
            hasattr(self, "builder")
            and self.model.head_height - self.model.finalized_height
            < self.builder.spec.max_blocks_without_pow
        )
    )
    @rule(data=st.data())
    def import_next_block(self, data: st.DataObject) -> None:
        txs = data.draw(st.lists(evm_transactions(), max_size=2), label="transactions")
        if data.draw(st.booleans(), label="a peg-in arrives"):
            how = data.draw(st.sampled_from(["raw", "hex", "0xhex"]), label="address form")
            address = data.draw(st.binary(min_size=20, max_size=20), label="recipient")
            self.builder.add_pegin(data.draw(st.integers(1, 10**8), label="sats"), address, how=how)
        signed = self.builder.next_block(
            transactions=[t.to_bytes() for t in txs], slot_gap=data.draw(st.integers(1, 3))
        )
        note(f"import block {signed.height} ({len(txs)} txs, {len(signed.message.pegins)} peg-ins)")
        self._import(signed, "ok")

    @precondition(
        lambda self: hasattr(self, "builder") and self.model.head_height > self.model.finalized_height
    )
    @rule(data=st.data())
    def deliver_finalizing_auxpow(self, data: st.DataObject) -> None:
        recipient = data.draw(
            st.sampled_from([b"\x11" * 20, *self.builder.spec.federation]), label="miner fee recipient"
        )
        signed = self.builder.next_block(pow=True, fee_recipient=recipient)
        note(f"import block {signed.height} finalizing up to {signed.height - 1}")
        self._import(signed, "ok")

    @precondition(lambda self: hasattr(self, "builder") and self.model.head_height >= 1)
    @rule(data=st.data())
    def import_fork_block(self, data: st.DataObject) -> None:
        import attrs

        from alys_pbt.strategies.blocks import relink

        c = self.model
        depth = data.draw(st.integers(1, c.head_height), label="fork depth")
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

    @precondition(lambda self: hasattr(self, "builder"))
    @rule(data=st.data())
    def import_corrupted_block(self, data: st.DataObject) -> None:
        """A block broken in exactly one rule: refused with that rule's error."""
        at_limit = (
            self.model.head_height + 1 - self.model.finalized_height
            > self.builder.spec.max_blocks_without_pow
        )
        # One fault at a time: at the limit, any block without PoW also misses its required PoW.
        usable = [
            c
            for c in CATALOGUE
            if c.applicable(self.builder) and (c.name == "missing-required-pow") == at_limit
        ]
        corruption = data.draw(st.sampled_from(usable), label="corruption")
        signed = corruption.apply(self.builder, data.draw)
        note(f"corrupted block {signed.height}: {corruption.name}")
        self._import(signed, corruption.expected)

    @precondition(lambda self: hasattr(self, "builder") and self.model.head_height >= 1)
    @rule(data=st.data())
    def roll_back(self, data: st.DataObject) -> None:
        height = data.draw(st.integers(0, self.model.head_height - 1), label="rollback to")
        want = verdict(lambda: self.model.rollback(height))
        got = verdict(lambda: self.node.rollback(height))
        note(f"rollback to {height}: reference {want}, node {got}")
        assert got == want, f"node answered {got} to a rollback, a correct node {want}"
        self.head_seen.append(-1)  # heights may drop here

    @precondition(lambda self: hasattr(self, "builder"))
    @rule()
    def restart_node(self) -> None:
        note("restart the node from its store")
        self.node = self.node.restart()

    @invariant()
    def node_agrees_with_the_reference(self) -> None:
        if hasattr(self, "builder"):
            assert self.node.head == self.model.head, "heads differ"
            assert self.node.finalized_height == self.model.finalized_height, (
                f"node finalized at {self.node.finalized_height}, reference at {self.model.finalized_height}"
            )

    @invariant()
    def every_stored_block_is_one_the_reference_accepts(self) -> None:
        if hasattr(self, "builder"):
            extra = self.node.stored - set(self.model.storage)
            assert not extra, f"node stores {len(extra)} blocks the reference refused"

    @invariant()
    def a_finalized_block_is_never_undone(self) -> None:
        if hasattr(self, "builder"):
            assert self.node.finalized_height >= self.finalized_seen[-1], "finalization went backwards"
            self.finalized_seen.append(self.node.finalized_height)

    @invariant()
    def no_more_blocks_without_pow_than_allowed(self) -> None:
        if hasattr(self, "builder"):
            assert (
                self.node.head_height - self.node.finalized_height <= self.builder.spec.max_blocks_without_pow
            )

    @invariant()
    def head_height_increases_between_rollbacks(self) -> None:
        if hasattr(self, "builder"):
            if self.head_seen[-1] != -1:
                assert self.node.head_height >= self.head_seen[-1]
            self.head_seen.append(self.node.head_height)
