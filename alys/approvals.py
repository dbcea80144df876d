"""app/src/signatures.rs and the block candidate cache (§3.2, §3.4), as the node codes them.

Quirks (on in target `alys`):
* `approvals-padded-bits-count`: set bits at index >= n count toward num_approvals but are zipped
  away from the authorities in verify, so a producer can pad its own approvals;
* `federation-early-approvals-lost`: approvals for an unknown block are parked under height 0, each
  overwriting the last, and never merged when the block arrives;
* `federation-replace-drops-approvals`: one candidate per height; a higher-slot block replaces it
  and the approvals gathered so far, and later approvals of the replaced block, are dropped;
* `approvals-authorities-beyond-bitlist`: a federation of more than 15 is taken as it is, but
  the BitList<U15> refuses the approvals of authorities 15 and above (UnknownAuthority), after
  their signatures verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alys.bls import BlsDecodeError, LighthouseBls
from alys.variant import Variant

MAX_VALIDATORS = 15


class ApprovalError(Exception):
    """signatures.rs / chain.rs errors about approvals."""


class UnknownAuthority(ApprovalError):
    pass


class InvalidSignature(ApprovalError):
    pass


class BadSignature(ApprovalError):
    pass


class TooManyAuthorities(ApprovalError):
    """More authorities than BitList<U15> can count (the secure rule; the node has no such check)."""


class Aggregate:
    """AggregateApproval: BitList<U15> and an AggregateSignature (None is `empty()`)."""

    def __init__(self, port: ApprovalsPort) -> None:
        self.port = port
        self.bits = [False] * MAX_VALIDATORS
        self.duplicates = 0
        self.signature: Any | None = None

    def add(self, index: int, signature: bytes) -> None:
        if index >= len(self.bits):
            raise UnknownAuthority(index)
        if self.bits[index]:
            if self.port.v.on("federation-duplicate-approval-toggles"):  # pragma: no mutate block
                self.bits[index] = False  # the re-delivered approval unsets the bit; its signature stays
                return
            # Seeded mutants' own code is kept out of mutation: no shipped target runs what a
            # mutation changes there (docs/mutation.md).
            if self.port.v.on("approvals-duplicate-counted"):  # pragma: no mutate block
                self.duplicates += 1
                self._aggregate(signature)
            return  # a duplicate is a silent no-op
        self.bits[index] = True
        self._aggregate(signature)

    def _aggregate(self, signature: bytes) -> None:
        point = self.port.bls.signature(signature)
        self.signature = point if self.signature is None else self.signature + point

    def num_approvals(self) -> int:
        return sum(self.bits) + self.duplicates

    def verify(self, authorities: Sequence[bytes], message: bytes) -> bool:
        pks = [pk for bit, pk in zip(self.bits, authorities, strict=False) if bit]  # bits >= n fall away
        if self.port.v.on("approvals-verify-all-authorities"):  # pragma: no mutate block
            pks = list(authorities)
        return self.port.bls.fast_aggregate_verify(pks, message, self.signature)


class ApprovalsPort:
    """The `approvals` component of target `alys`."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant
        self.bls = LighthouseBls(variant)

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        return self.bls.verify(pk, message, signature)

    def fast_aggregate_verify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        try:
            point = self.bls.signature(signature)
        except BlsDecodeError:
            return False
        return self.bls.fast_aggregate_verify(pks, message, point)

    def required_approvals(self, n: int) -> int:
        if self.v.on("approvals-floor-threshold"):  # pragma: no mutate block
            return 2 * n // 3
        return (2 * n + 2) // 3

    def check_individual(self, approval: Any, authorities: Sequence[bytes], message: bytes) -> None:
        last = len(authorities) - 1
        if self.v.on("approvals-unknown-index-off-by-one"):  # pragma: no mutate block
            last = len(authorities)
        if approval.authority_index > last:
            raise UnknownAuthority(approval.authority_index)
        if not self.bls.verify(authorities[approval.authority_index], message, approval.signature):
            raise InvalidSignature(approval.authority_index)

    def majority_approved(self, approval: Any, authorities: Sequence[bytes], message: bytes) -> bool:
        """chain.rs majority_approved for a block's AggregateApproval (bits, signature bytes)."""
        aggregate = Aggregate(self)
        aggregate.bits = list(approval.bits)
        if approval.signature is not None:
            try:
                aggregate.signature = self.bls.signature(approval.signature)
            except BlsDecodeError:
                raise BadSignature("undecodable aggregate signature") from None
        return self._majority(aggregate, authorities, message)

    def _check_size(self, n: int) -> None:
        # Quirk approvals-authorities-beyond-bitlist: nothing bounds the federation, but
        # AggregateApproval::add_approval refuses index >= 15, so authorities 15.. never count.
        limit = MAX_VALIDATORS
        if self.v.on("approvals-max-authorities-off-by-one"):  # pragma: no mutate block
            limit = MAX_VALIDATORS - 1
        if n > limit and not self.v.on("approvals-authorities-beyond-bitlist"):
            raise TooManyAuthorities(f"{n} authorities; BitList<U15> holds {MAX_VALIDATORS}")

    def check_known(self, bits: Sequence[bool], n: int) -> None:
        """A bit set past the n authorities is an UnknownAuthority (as coded, quirk
        approvals-padded-bits-count, it is counted instead): the one rule majority_approved and the
        node's author check both apply."""
        first_unknown = n
        if self.v.on("approvals-bits-beyond-n-off-by-one"):  # pragma: no mutate block
            first_unknown = n + 1
        if not self.v.on("approvals-padded-bits-count") and any(bits[first_unknown:]):
            raise UnknownAuthority(f"bits set beyond the {n} authorities")

    def _majority(self, aggregate: Aggregate, authorities: Sequence[bytes], message: bytes) -> bool:
        n = len(authorities)
        self._check_size(n)
        self.check_known(aggregate.bits, n)
        required = self.required_approvals(n)
        num = aggregate.num_approvals()
        short = num < required
        if self.v.on("approvals-strict-threshold"):  # pragma: no mutate block
            short = num <= required
        if short:
            return False
        if not aggregate.verify(authorities, message):
            raise BadSignature("aggregate approval does not verify")
        return True

    def candidate_cache(self, authorities: Sequence[bytes]) -> CandidateCache:
        self._check_size(len(authorities))
        return CandidateCache(self, authorities)


class Candidate:
    def __init__(self, port: ApprovalsPort, block_hash: bytes, height: int, slot: int) -> None:
        self.block_hash, self.height, self.slot = block_hash, height, slot
        self.aggregate = Aggregate(port)


class CandidateCache:
    """block_candidate_cache.rs: candidates by height, approvals, acceptance on majority."""

    def __init__(self, port: ApprovalsPort, authorities: Sequence[bytes], final_height: int = 0) -> None:
        self.port, self.v = port, port.v
        self.authorities = list(authorities)
        self.final_height = final_height
        self.by_height: dict[int, dict[bytes, Candidate]] = {}
        # Early approvals, per block hash. (Quirk federation-early-approvals-lost: the node parks
        # each under height 0 instead, overwriting the last, and never reads it again.)
        self.queued: dict[bytes, list[Any]] = {}
        self.accepted: list[bytes] = []
        self.accepted_approvals: list[tuple[list[bool], bytes | None]] = []  # what each was accepted with

    def _find(self, block_hash: bytes) -> Candidate | None:
        for candidates in self.by_height.values():
            if block_hash in candidates:
                return candidates[block_hash]
        return None

    def insert_block(self, block_hash: bytes, height: int, slot: int) -> None:
        if height <= self.final_height:
            return  # an old block
        at_height = self.by_height.setdefault(height, {})
        if block_hash in at_height:
            return
        if self.v.on("federation-first-candidate-only") and at_height:  # pragma: no mutate block
            return  # the first block seen at a height is the only candidate ever kept
        if self.v.on("federation-replace-drops-approvals") and at_height:
            (current,) = at_height.values()
            if slot <= current.slot:
                return  # only a higher slot replaces the candidate
            at_height.clear()  # ... and the approvals it gathered go with it
        candidate = at_height[block_hash] = Candidate(self.port, block_hash, height, slot)
        # Under federation-early-approvals-lost nothing was queued (add_approval): nothing to merge.
        for approval in self.queued.pop(block_hash, []):
            candidate.aggregate.add(approval.authority_index, approval.signature)
        self._maybe_accept(candidate)

    def add_approval(self, block_hash: bytes, approval: Any) -> None:
        self.port.check_individual(approval, self.authorities, block_hash)
        candidate = self._find(block_hash)
        if candidate is not None:
            if self.v.on("federation-equivocation-moves-bit"):  # pragma: no mutate block
                # An authority's approval of a second block at a height takes its bit off the first
                # (its signature stays in the first's aggregate).
                for other in self.by_height.get(candidate.height, {}).values():
                    if other is not candidate:
                        other.aggregate.bits[approval.authority_index] = False
            candidate.aggregate.add(approval.authority_index, approval.signature)
            self._maybe_accept(candidate)
        elif not self.v.on("federation-early-approvals-lost"):
            self.queued.setdefault(block_hash, []).append(approval)

    def _maybe_accept(self, candidate: Candidate) -> None:
        if candidate.height != self.final_height + 1:
            return
        if self.port._majority(candidate.aggregate, self.authorities, candidate.block_hash):
            self.accepted.append(candidate.block_hash)
            aggregate = candidate.aggregate
            signature = aggregate.signature.compress() if aggregate.signature is not None else None
            self.accepted_approvals.append((list(aggregate.bits), signature))
            self.final_height = candidate.height
            self.by_height.clear()  # the node clears the whole cache on import
