"""A network of Alys nodes: its setup (authorities, full nodes, a Byzantine coalition, clocks), the
fault kinds the network machine injects, and the blocks, approvals and AuxPoW its producers make.

Blocks are valid by construction on the parent they are given: the payload extends the parent's,
the slot is the producer's own reading of its clock, the producer's own BLS approval is the block's
aggregate (what the node gossips as `consensus_block`), and an AuxPoW header, when asked for,
finalizes exactly the range since the producer's last finalized block with a ground proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import attrs
from attrs import frozen
from hypothesis import strategies as st

from alys_pbt.models import auxpow
from alys_pbt.models.approvals import AggregateApproval, IndividualApproval, required_approvals
from alys_pbt.models.blocks import ConsensusBlock, ExecutionPayload, SignedConsensusBlock
from alys_pbt.models.bls import Backend
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.network import agreement_threshold, liveness_threshold
from alys_pbt.models.pegin import FEDERATION_SPK
from alys_pbt.models.reprs import pretty_as_repr
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.auxpow import build
from alys_pbt.strategies.blocks import DEAD, ChainBuilder, minimal_recipe, payload_hash

SLOT_MS = 5000  # chain.json slotDuration
FEDERATION = (b"\x22" * 20,)

# Every fault the network machine can inject (the chaos section of the findings lists each one,
# with the examples that reached it and the invariants that ran after it).
FAULT_KINDS: tuple[str, ...] = (
    "partition",
    "drop",
    "duplicate",
    "delay",
    "reorder",
    "clock-skew",
    "equivocate-block",
    "equivocate-approval",
    "withhold",
    "approve-invalid",
    "sign-other-slot",
    "replay-approval",
    "sybil",
    "eclipse",
    "long-range-fork",
    "coalition-at-threshold",
)


def secret_key(index: int) -> int:
    """Authority `index`'s BLS secret key: small distinct positive keys, no subset of which sums to
    zero (so no aggregate key is the identity); fixed, so verifications repeat across examples."""
    return 1000 + 7 * index


@frozen
class NetworkSetup:
    """n authorities (some of them a Byzantine coalition), full nodes, and each node's clock skew in
    milliseconds (authorities first, then full nodes)."""

    authorities: int
    full_nodes: int
    coalition: tuple[int, ...]
    skews: tuple[int, ...]

    _repr_pretty_ = pretty_as_repr

    @property
    def honest(self) -> tuple[int, ...]:
        return tuple(i for i in range(self.authorities) if i not in self.coalition)


@st.composite
def network_setups(
    draw: st.DrawFn,
    *,
    authorities: st.SearchStrategy[int] = st.integers(3, 5),
    full_nodes: st.SearchStrategy[int] = st.integers(0, 1),
    coalition: str = "below-agreement",
    max_skew_ms: int = SLOT_MS // 2,
) -> NetworkSetup:
    """A network whose coalition is below both thresholds ("below-agreement": fewer than
    agreement_threshold(n) and liveness_threshold(n) Byzantine authorities), exactly at the
    agreement threshold ("at-agreement"), or none ("none")."""
    n = draw(authorities)
    limit = min(agreement_threshold(n), liveness_threshold(n)) - 1
    size = {
        "none": 0,
        "below-agreement": draw(st.integers(0, max(limit, 0))),
        "at-agreement": agreement_threshold(n),
    }[coalition]
    members = tuple(sorted(draw(st.permutations(range(n)))[:size]))
    full = draw(full_nodes)
    skews = tuple(
        draw(st.lists(st.integers(-max_skew_ms, max_skew_ms), min_size=n + full, max_size=n + full))
    )
    return NetworkSetup(n, full, members, skews)


class BlockFactory:
    """The blocks, approvals and AuxPoW of one federation, built on any parent it is given."""

    def __init__(self, n: int, bls: Backend) -> None:
        self.bls = bls
        keys = tuple(secret_key(i) for i in range(n))
        self.keyring = Keyring(keys, tuple(bls.SkToPk(sk) for sk in keys))
        self.spec = ChainSpec(
            self.keyring.public_keys,
            FEDERATION,
            FEDERATION_SPK,
            slot_duration_ms=SLOT_MS,
            max_blocks_without_pow=10_000,
        )
        self.genesis = ChainBuilder(self.spec, self.keyring, bls).genesis
        self.hashes: dict[int, bytes] = {}  # id(block) -> signing root, for blocks this factory made

    @property
    def n(self) -> int:
        return self.keyring.n

    @property
    def required(self) -> int:
        return required_approvals(self.n)

    def root(self, block: ConsensusBlock) -> bytes:
        return block.signing_root()

    def approve(self, block_hash: bytes, authority: int) -> IndividualApproval:
        """Authority `authority`'s approval of a block (gossip ApproveBlock)."""
        return IndividualApproval(self.bls.Sign(self.keyring.secret_keys[authority], block_hash), authority)

    def aggregate(self, approvals: Sequence[IndividualApproval]) -> AggregateApproval:
        return AggregateApproval.of(approvals, self.bls)

    def block(
        self,
        parent: ConsensusBlock,
        slot: int,
        *,
        header: auxpow.AuxPowHeader | None = None,
        variant: int = 0,
    ) -> ConsensusBlock:
        """The next block on `parent` at `slot` (its payload timestamp the slot's start); `variant`
        makes a different block with everything else equal (an equivocating producer's second)."""
        height = parent.height + 1
        payload = ExecutionPayload(
            parent.execution_payload.block_hash,
            DEAD,
            hashlib.sha256(b"state%d/%d" % (height, variant)).digest(),
            bytes(32),
            bytes(256),
            hashlib.sha256(b"randao%d" % height).digest(),
            height,
            30_000_000,
            0,
            slot * SLOT_MS // 1000,
            b"",
            7,
            b"",
        )
        payload = attrs.evolve(payload, block_hash=payload_hash(payload))
        return ConsensusBlock(parent.signing_root(), slot, header, payload)

    def proposal(self, block: ConsensusBlock, proposer: int) -> SignedConsensusBlock:
        """The block as its producer gossips it: approved by the producer alone."""
        return SignedConsensusBlock(block, self.aggregate([self.approve(block.signing_root(), proposer)]))

    def auxpow_header(
        self, hashes: Sequence[bytes], last_pow_height: int, fee_recipient: bytes = b"\x11" * 20
    ) -> auxpow.AuxPowHeader:
        """What a merged miner returns for a node's unfinalized range `hashes` (oldest first): the
        chain's bits (the spec does not retarget), the next AuxPoW height, a ground proof."""
        bits = self.spec.bits
        proof = build(minimal_recipe(auxpow.aggregate_hash(list(hashes)), self.spec.chain_id, bits))
        return auxpow.AuxPowHeader(
            hashes[0], hashes[-1], bits, self.spec.chain_id, last_pow_height + 1, proof, fee_recipient
        )


__all__ = ["FAULT_KINDS", "SLOT_MS", "BlockFactory", "NetworkSetup", "network_setups", "secret_key"]
