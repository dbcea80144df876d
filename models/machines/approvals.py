"""The federation state machine: the target's block candidate cache against the reference.

Hypothesis chooses which blocks are proposed at the next height (later ones carry higher slots,
so proposing one replaces the candidate), which approvals arrive and in what order (before or
after their block), and which Byzantine approvals the f < n/3 Byzantine authorities and outsiders
send. Faults are rules; the guarantees are invariants.
"""

from __future__ import annotations

import hashlib
from typing import Any

from attrs import frozen
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt import targets
from alys_pbt.verdict import verdict
from alys_pbt.models import bls
from alys_pbt.models.approvals import Federation, required_approvals
from alys_pbt.strategies.approvals import (
    EXPECTED,
    Keyring,
    byzantine_approvals,
    honest_approval,
    keyrings,
    with_infinity_key,
)


@frozen
class Block:
    block_hash: bytes  # the signing root the federation signs
    height: int
    slot: int


class FederationMachine(RuleBasedStateMachine):
    blocks = Bundle("blocks")

    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.bls = bls.backend()
        self.slot = 0
        self.proposed: set[bytes] = set()
        self.delivered: dict[bytes, set[int]] = {}  # honest approvals handed to the node, per block

    @initialize(data=st.data())
    def form_federation(self, data: st.DataObject) -> None:
        # No keys that sum to the identity (keyrings' default): honest majorities must be able to
        # approve for the liveness invariant; the approvals properties draw such keys instead.
        keyring: Keyring = data.draw(keyrings(self.bls, n=st.integers(1, 7)), label="keyring")
        f = data.draw(st.integers(0, (keyring.n - 1) // 3), label="byzantine authorities")
        if f and data.draw(st.booleans(), label="a Byzantine authority has the identity key"):
            keyring = with_infinity_key(keyring, 0)
        self.keyring, self.byzantine = keyring, list(range(f))
        self.honest = list(range(f, keyring.n))
        self.model = Federation(keyring.public_keys, self.bls)
        self.cache = self.target.approvals.candidate_cache(list(keyring.public_keys))
        note(f"n={keyring.n}, Byzantine {self.byzantine}, threshold {required_approvals(keyring.n)}")

    @rule(target=blocks, nonce=st.integers(0, 2**16))
    def produce_block(self, nonce: int) -> Block:
        """A block for the next height exists somewhere (not yet proposed to this node)."""
        self.slot += 1
        height = self.model.final_height + 1
        root = hashlib.sha256(b"%d/%d/%d" % (height, self.slot, nonce)).digest()
        note(f"block {root.hex()[:8]} at height {height}, slot {self.slot}")
        return Block(root, height, self.slot)

    @rule(block=blocks)
    def propose_block(self, block: Block) -> None:
        """The block arrives: a candidate, or a higher-slot replacement, at its height."""
        note(f"propose {block.block_hash.hex()[:8]} (height {block.height}, slot {block.slot})")
        self.proposed.add(block.block_hash)
        self.model.propose(block.block_hash, block.height)
        # A block's arrival can complete a majority; a correct node then imports it, it never raises.
        got = verdict(lambda: self.cache.insert_block(block.block_hash, block.height, block.slot))
        assert got == "ok", f"proposing {block.block_hash.hex()[:8]}: the node raised {got}"

    @rule(block=blocks, data=st.data())
    def deliver_honest_approval(self, block: Block, data: st.DataObject) -> None:
        """An honest authority approves the block (possibly before the node has seen it)."""
        index = data.draw(st.sampled_from(self.honest), label="honest authority")
        approval = honest_approval(self.keyring, index, block.block_hash, self.bls)
        note(f"authority {index} approves {block.block_hash.hex()[:8]}")
        self._deliver(block, approval, "ok")
        self.delivered.setdefault(block.block_hash, set()).add(index)

    @rule(block=blocks, data=st.data())
    def deliver_byzantine_approval(self, block: Block, data: st.DataObject) -> None:
        """A Byzantine authority or an outsider sends a bad (or merely unwanted) approval."""
        earlier = sorted(self.delivered.get(block.block_hash, ()))
        duplicate_of = (
            honest_approval(self.keyring, earlier[0], block.block_hash, self.bls) if earlier else None
        )
        kind, approval = data.draw(
            byzantine_approvals(
                self.keyring,
                block.block_hash,
                self.bls,
                byzantine=[i for i in self.byzantine if self.keyring.secret_keys[i] is not None],
                honest_of=duplicate_of,
            ),
            label="byzantine approval",
        )
        note(f"{kind} approval (index {approval.authority_index}) for {block.block_hash.hex()[:8]}")
        self._deliver(block, approval, EXPECTED[kind])

    def _deliver(self, block: Block, approval: Any, expected: str) -> None:
        want = verdict(lambda: self.model.approve(block.block_hash, approval))
        assert want == expected, f"reference said {want} for an approval that should be {expected}"
        got = verdict(lambda: self.cache.add_approval(block.block_hash, approval))
        assert got == want, f"node answered {got}, a correct node {want}"

    @invariant()
    def accepts_exactly_what_the_reference_accepts(self) -> None:
        assert list(self.cache.accepted) == self.model.accepted, (
            f"node accepted {[h.hex()[:8] for h in self.cache.accepted]}, "
            f"reference {[h.hex()[:8] for h in self.model.accepted]}"
        )

    @invariant()
    def accepted_blocks_have_two_thirds_of_distinct_valid_signers(self) -> None:
        for block_hash in self.cache.accepted:
            assert len(self.model.approvals_for(block_hash)) >= self.model.required

    @invariant()
    def every_accepted_aggregate_verifies(self) -> None:
        # Checked with the suite's backend (--bls-backend; py_ecc is the readable reference).
        for block_hash, (bits, signature) in zip(self.cache.accepted, self.cache.accepted_approvals):
            signers = [i for i, bit in enumerate(bits) if bit]
            assert signature is not None and all(i < self.keyring.n for i in signers)
            pks = [self.keyring.public_keys[i] for i in signers]
            assert self.bls.FastAggregateVerify(pks, block_hash, signature), f"{block_hash.hex()[:8]}"

    @invariant()
    def byzantine_minority_cannot_block(self) -> None:
        # Once every honest authority's approval of a proposed next-height block has been
        # delivered, some block at that height has been accepted.
        height = len(self.cache.accepted) + 1
        honest = set(self.honest)
        for block_hash in self.proposed:
            if self.model.blocks.get(block_hash) == height and honest <= self.delivered.get(
                block_hash, set()
            ):
                raise AssertionError(
                    f"{block_hash.hex()[:8]} has every honest approval but no block at {height}"
                )

    @precondition(lambda self: bool(self.cache.accepted))
    @invariant()
    def byzantine_minority_cannot_forge(self) -> None:
        for block_hash in self.cache.accepted:
            assert self.delivered.get(block_hash, set()) & set(self.honest), (
                "accepted without an honest approval"
            )
