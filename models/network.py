"""What honest Alys nodes must agree on, as a reference: the fault thresholds of the approval rule,
the reference judgement of a block a node imports, and equivocation evidence from messages seen.

The node's consensus (alys-rules.md §3.3-3.4, §2.3): in each Aura slot its author proposes a block;
every validator that finds it valid approves it (chain.rs process_block: "a validator adds its own
approval"); a block is imported once ceil(2n/3) distinct authorities approve it
(chain.rs majority_approved); a merged miner's AuxPoW finalizes the range since the last
finalization (chain.rs check_pow, finalize). Nothing else orders blocks: no lock per height, no
round change, no reorg beyond rollback_head. The thresholds below follow from that rule alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import frozen

from alys_pbt.models import approvals
from alys_pbt.models.approvals import IndividualApproval, required_approvals
from alys_pbt.models.blocks import ConsensusBlock, SignedConsensusBlock, slot_author, slot_is_in_future
from alys_pbt.models.bls import Backend
from alys_pbt.models.reprs import pretty_as_repr, short_bytes


def agreement_threshold(n: int) -> int:
    """The smallest number of authorities that must approve two blocks at one height for both to be
    approved: two sets of ceil(2n/3) among n share at least 2*ceil(2n/3) - n (quorum intersection)."""
    return 2 * required_approvals(n) - n


def liveness_threshold(n: int) -> int:
    """The smallest coalition that stops every approval by withholding: n - ceil(2n/3) + 1."""
    return n - required_approvals(n) + 1


def validity_threshold(n: int) -> int:
    """The smallest coalition that approves a block on its own: ceil(2n/3). A node that checks every
    rule again on import still refuses what that coalition approves (Validity is kept at any size)."""
    return required_approvals(n)


def import_verdict(
    signed: SignedConsensusBlock,
    parent: ConsensusBlock,
    authorities: Sequence[bytes],
    slot_duration_ms: int,
    bls: Backend,
) -> str:
    """The reference's verdict on an imported block, from the rules that need only its parent:
    the payload extends the parent's, the slot is not in the future, the slot author signed, and at
    least ceil(2n/3) distinct known authorities approve it with a verifying aggregate (aura.rs
    check_signed_by_author with the author check in force, chain.rs majority_approved)."""
    block = signed.message
    if block.height != parent.height + 1 or block.parent_hash != parent.signing_root():
        return "NotAChild"
    if block.execution_payload.parent_hash != parent.execution_payload.block_hash:
        return "ExecutionHashChainIncontiguous"
    if slot_is_in_future(block.slot, block.execution_payload.timestamp, slot_duration_ms):
        return "SlotIsInFuture"
    author = slot_author(block.slot, range(len(authorities)))
    if not signed.signature.bits[author]:
        return "WrongSlotAuthor"
    try:
        approvals.check_aggregate(signed.signature, authorities, signed.block_hash, bls)
    except approvals.ApprovalError as err:
        return type(err).__name__
    return "ok"


def proposal_verdict(
    signed: SignedConsensusBlock,
    parent: ConsensusBlock,
    authorities: Sequence[bytes],
    slot_duration_ms: int,
    bls: Backend,
) -> str:
    """The reference's verdict on a proposal (a block with its producer's approval alone): every rule
    of import_verdict but the majority, which only the approvals still to come can meet."""
    block = signed.message
    if block.height != parent.height + 1 or block.parent_hash != parent.signing_root():
        return "NotAChild"
    if slot_is_in_future(block.slot, block.execution_payload.timestamp, slot_duration_ms):
        return "SlotIsInFuture"
    signers = signed.signature.signers
    if signers != [slot_author(block.slot, range(len(authorities)))]:
        return "WrongSlotAuthor"
    sig = signed.signature.signature
    if sig is None or not approvals.verifies(bls.Verify, authorities[signers[0]], signed.block_hash, sig):
        return "InvalidSignature"
    return "ok"


@frozen
class SignedMessage:
    """A message one authority signed: a block it proposed (kind "block", at its slot) or an approval
    (kind "approval", of a block at a height). `signature` is the authority's BLS signature over
    `block_hash`, the block's signing root."""

    kind: str
    authority: int
    slot: int
    height: int
    block_hash: bytes
    signature: bytes

    def __repr__(self) -> str:
        return (
            f"{self.kind}(authority {self.authority}, slot {self.slot}, height {self.height}, "
            f"{short_bytes(self.block_hash)})"
        )

    _repr_pretty_ = pretty_as_repr


@frozen
class Evidence:
    """Two messages one authority signed that no honest author signs both of: two blocks for one
    slot, or approvals of two blocks at one height."""

    authority: int
    kind: str  # "block" or "approval"
    first: SignedMessage
    second: SignedMessage

    def verifies(self, authorities: Sequence[bytes], bls: Backend) -> bool:
        """Both signatures verify under the named authority's key, over two different blocks."""
        pk = authorities[self.authority]
        return self.first.block_hash != self.second.block_hash and all(
            approvals.verifies(bls.Verify, pk, m.block_hash, m.signature) for m in (self.first, self.second)
        )


def equivocations(messages: Iterable[SignedMessage]) -> list[Evidence]:
    """Every equivocation the messages show, one evidence per (authority, kind, slot or height) and
    pair of blocks: blocks are keyed by slot, approvals by height."""
    seen: dict[tuple[int, str, int], dict[bytes, SignedMessage]] = {}
    out = []
    for m in messages:
        key = (m.authority, m.kind, m.slot if m.kind == "block" else m.height)
        earlier = seen.setdefault(key, {})
        if m.block_hash in earlier:
            continue
        out += [Evidence(m.authority, m.kind, first, m) for first in earlier.values()]
        earlier[m.block_hash] = m
    return out


def approval_message(approval: IndividualApproval, block: ConsensusBlock, block_hash: bytes) -> SignedMessage:
    return SignedMessage(
        "approval", approval.authority_index, block.slot, block.height, block_hash, approval.signature
    )


def equivocators(evidence: Iterable[Evidence], kind: str, height: int, pair: frozenset[bytes]) -> set[int]:
    """The authorities the evidence shows approving both blocks of `pair` at `height`."""
    return {
        e.authority
        for e in evidence
        if e.kind == kind and e.first.height == height and {e.first.block_hash, e.second.block_hash} == pair
    }
