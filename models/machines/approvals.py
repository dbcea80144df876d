"""The federation state machine: the target's block candidate cache against the reference.

Hypothesis chooses which blocks are proposed at the next height (later ones carry higher slots,
so proposing one replaces the candidate), which approvals arrive and in what order (before or
after their block), and which Byzantine approvals the f < n/3 Byzantine authorities and outsiders
send. Faults are rules; the guarantees are invariants. The machine is given its target.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal, get_args

from attrs import frozen
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from alys_pbt.models import bls
from alys_pbt.models.approvals import (
    MAX_VALIDATORS,
    Federation,
    IndividualApproval,
    required_approvals,
)
from alys_pbt.models.bls import INFINITY_SIG, R
from alys_pbt.strategies.approvals import (
    EXPECTED,
    ByzantineKind,
    Keyring,
    cancelling_subset,
    honest_approval,
    secret_keys,
)
from alys_pbt.verdict import verdict

if TYPE_CHECKING:
    from alys_pbt.interface import Target

MAX_AUTHORITIES = 7  # enough for two Byzantine authorities (f < n/3), small enough to shrink well


@frozen
class Block:
    block_hash: bytes  # the signing root the federation signs
    height: int
    slot: int


@frozen
class FederationSetup:
    """The authorities' secret keys; the first `byzantine` are Byzantine (f < n/3), and with
    `identity_key` the first of those is configured with the identity public key."""

    secret_keys: tuple[int, ...]
    byzantine: int
    identity_key: bool


@frozen
class Delivery:
    """An approval the node was handed (a Byzantine node may hand it over again)."""

    block: Block
    approval: IndividualApproval


@st.composite
def federation_setups(draw: st.DrawFn) -> FederationSetup:
    """1-7 distinct keys, no subset of them summing to the identity (keyrings' default: every honest
    majority can approve, as the liveness invariant needs); f in 0..(n-1)//3."""
    sks = draw(
        st.lists(secret_keys, min_size=1, max_size=MAX_AUTHORITIES, unique=True).filter(
            lambda ks: not cancelling_subset(ks)
        ),
        label="secret keys",
    )
    f = draw(st.integers(0, (len(sks) - 1) // 3), label="byzantine authorities")
    return FederationSetup(tuple(sks), f, f > 0 and draw(st.booleans(), label="identity key"))


# What a Byzantine authority or an outsider sends instead of its approval: one variant of a kind of
# the Byzantine catalogue (strategies/approvals.py BYZANTINE, whose record holds the rule and the
# error a correct node answers), made without further draws so the step prints whole, and probing
# each limit at its edge (the catalogue draws the variety for the properties).
Forgery = Literal[
    "forged",  # a valid G2 signature by another key, claimed for this index
    "other-message",  # this authority's signature over another message
    "first-unknown-index",  # index n, just past the federation
    "last-unknown-index",  # index 14, the last of the 15-bit list
    "index-15",  # the first index past the 15-bit list
    "index-255",  # the largest index an approval carries
    "infinity-signature",  # the identity signature
    "too-short",  # 95 bytes of the valid signature
    "wrong-c-flag",  # the compression flag cleared
    "b-flag-with-nonzero-x",  # the infinity flag on a point
]
FORGERIES: tuple[Forgery, ...] = get_args(Forgery)
KIND: dict[Forgery, ByzantineKind] = {
    "forged": "forged",
    "other-message": "other-message",
    "first-unknown-index": "unknown-index",
    "last-unknown-index": "unknown-index",
    "index-15": "index-over-15",
    "index-255": "index-over-15",
    "infinity-signature": "infinity-signature",
    "too-short": "malformed",
    "wrong-c-flag": "malformed",
    "b-flag-with-nonzero-x": "malformed",
}


def forge(
    kind: Forgery, keyring: Keyring, index: int, message: bytes, backend: bls.Backend
) -> IndividualApproval:
    """Authority `index`'s approval of `message`, broken as `kind` says."""
    sk = keyring.secret_keys[index]
    assert sk is not None, "forgeries start from a key the authority holds"
    valid = backend.Sign(sk, message)
    if kind == "forged":
        return IndividualApproval(backend.Sign(2 * sk % R, message), index)  # 2sk != sk mod r
    if kind == "other-message":
        return IndividualApproval(backend.Sign(sk, hashlib.sha256(message).digest()), index)
    unknown = {
        "first-unknown-index": keyring.n,
        "last-unknown-index": MAX_VALIDATORS - 1,
        "index-15": MAX_VALIDATORS,
        "index-255": 255,
    }
    if kind in unknown:  # a valid signature under an index no authority has
        return IndividualApproval(valid, unknown[kind])
    if kind == "infinity-signature":
        return IndividualApproval(INFINITY_SIG, index)
    if kind == "too-short":
        return IndividualApproval(valid[:95], index)
    if kind == "wrong-c-flag":
        return IndividualApproval(bytes([valid[0] & 0x7F]) + valid[1:], index)
    return IndividualApproval(bytes([0xC0]) + valid[1:], index)  # b-flag-with-nonzero-x


class FederationMachine(RuleBasedStateMachine):
    blocks = Bundle("blocks")
    authorities = Bundle("authority")  # indices of the authorities that hold their secret key
    deliveries = Bundle("delivery")

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.bls = bls.backend()
        self.slot = 0
        self.proposed: set[bytes] = set()
        self.delivered: dict[bytes, set[int]] = {}  # honest approvals handed to the node, per block

    @initialize(target=authorities, setup=federation_setups())
    def form_federation(self, setup: FederationSetup) -> MultipleResults[int]:
        sks: list[int | None] = list(setup.secret_keys)
        pks = [self.bls.SkToPk(sk) for sk in setup.secret_keys]
        if setup.identity_key:  # a Byzantine authority registered the identity key
            sks[0], pks[0] = None, bls.INFINITY_PK
        self.keyring = Keyring(tuple(sks), tuple(pks))
        self.byzantine = set(range(setup.byzantine))
        self.honest = set(range(setup.byzantine, self.keyring.n))
        self.model = Federation(self.keyring.public_keys, self.bls)
        self.cache = self.target.approvals.candidate_cache(list(self.keyring.public_keys))
        note(
            f"n={self.keyring.n}, Byzantine {sorted(self.byzantine)}"
            + (" (0 has the identity key)" if setup.identity_key else "")
            + f", threshold {required_approvals(self.keyring.n)}"
        )
        return multiple(*(i for i, sk in enumerate(sks) if sk is not None))

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

    @rule(target=deliveries, block=blocks, authority=authorities)
    def deliver_approval(self, block: Block, authority: int) -> Delivery:
        """The authority approves the block (possibly before the node has seen it); a Byzantine
        authority's valid approval counts as one."""
        approval = honest_approval(self.keyring, authority, block.block_hash, self.bls)
        who = "Byzantine" if authority in self.byzantine else "honest"
        note(f"{who} authority {authority} approves {block.block_hash.hex()[:8]}")
        self._deliver(block, approval, "ok")
        if authority in self.honest:
            self.delivered.setdefault(block.block_hash, set()).add(authority)
        return Delivery(block, approval)

    @rule(delivery=deliveries)
    def deliver_again(self, delivery: Delivery) -> None:
        """A Byzantine peer hands the node an approval it already has: no effect."""
        note(
            f"approval of {delivery.approval.authority_index} for {delivery.block.block_hash.hex()[:8]} again"
        )
        self._deliver(delivery.block, delivery.approval, "ok")

    @rule(block=blocks, authority=authorities, kind=st.sampled_from(FORGERIES))
    def deliver_forged_approval(self, block: Block, authority: int, kind: Forgery) -> None:
        """A Byzantine authority or an outsider sends a bad approval under the authority's name."""
        approval = forge(kind, self.keyring, authority, block.block_hash, self.bls)
        note(f"{kind} approval (index {approval.authority_index}) for {block.block_hash.hex()[:8]}")
        self._deliver(block, approval, EXPECTED[KIND[kind]])

    def _deliver(self, block: Block, approval: IndividualApproval, expected: str) -> None:
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
        assert len(self.cache.accepted) == len(self.cache.accepted_approvals), (
            "an accepted block without its approval"
        )
        for block_hash, (bits, signature) in zip(
            self.cache.accepted, self.cache.accepted_approvals, strict=True
        ):
            signers = [i for i, bit in enumerate(bits) if bit]
            assert signature is not None and all(i < self.keyring.n for i in signers)
            pks = [self.keyring.public_keys[i] for i in signers]
            assert self.bls.FastAggregateVerify(pks, block_hash, signature), f"{block_hash.hex()[:8]}"

    @invariant()
    def byzantine_minority_cannot_block(self) -> None:
        # Once every honest authority's approval of a proposed next-height block has been
        # delivered, some block at that height has been accepted.
        height = len(self.cache.accepted) + 1
        for block_hash in self.proposed:
            if self.model.blocks.get(block_hash) == height and self.honest <= self.delivered.get(
                block_hash, set()
            ):
                raise AssertionError(
                    f"{block_hash.hex()[:8]} has every honest approval but no block at {height}"
                )

    @precondition(lambda self: bool(self.cache.accepted))
    @invariant()
    def byzantine_minority_cannot_forge(self) -> None:
        for block_hash in self.cache.accepted:
            assert self.delivered.get(block_hash, set()) & self.honest, "accepted without an honest approval"
