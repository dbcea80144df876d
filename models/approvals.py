"""Federation approvals (app/src/signatures.rs, block_candidate/*): the secure reference.

A block is approved when at least ceil(2n/3) *distinct, known* authorities (index < n) have signed
its signing root, the raw 32-byte message, and the aggregate signature verifies for exactly that
set. Where the node deviates (alys-rules.md §3.2, §3.4), this module states the secure rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import field, frozen

from alys_pbt.models.bls import Backend
from alys_pbt.models.reprs import pretty_as_repr, short_bytes

MAX_VALIDATORS = 15  # BitList<U15>


class ApprovalError(Exception):
    """An approval a correct node must refuse."""


class UnknownAuthority(ApprovalError):
    """An approval (or a set bit) for an authority index the federation does not have."""


class InvalidSignature(ApprovalError):
    """An individual approval whose signature does not verify for its authority over the block."""


class NotEnoughApprovals(ApprovalError):
    """Fewer than ceil(2n/3) distinct authorities approve (not yet approved, not an attack)."""


class BadSignature(ApprovalError):
    """The aggregate does not verify for exactly the authorities its bits name."""


class TooManyAuthorities(ApprovalError):
    """A federation larger than the 15-bit aggregation bitlist can count (suite hardening: the node's
    BitList<U15> refuses an approval from authority 15 or above, so such a federation is refused)."""


def check_federation_size(n: int) -> None:
    """A federation's authorities must all fit the aggregation bitlist."""
    if n > MAX_VALIDATORS:
        raise TooManyAuthorities(f"{n} authorities; the aggregation bitlist holds {MAX_VALIDATORS}")


def required_approvals(n: int) -> int:
    """ceil(2n/3): the node's (2n + 2) / 3 in integer arithmetic."""
    if n < 1:
        raise ValueError("a federation has at least one authority")
    return (2 * n + 2) // 3


@frozen
class IndividualApproval:
    """One authority's signature over a block's signing root (gossip ApproveBlock)."""

    signature: bytes = field(converter=bytes, repr=short_bytes)
    authority_index: int

    _repr_pretty_ = pretty_as_repr


def _bits(value: Sequence[bool]) -> tuple[bool, ...]:
    bits = tuple(bool(b) for b in value)
    if len(bits) != MAX_VALIDATORS:
        raise ValueError(f"aggregation bits are a bitlist of {MAX_VALIDATORS}, got {len(bits)}")
    return bits


@frozen
class AggregateApproval:
    """A 15-bit aggregation bitlist and one aggregate signature (None: the empty aggregate)."""

    bits: tuple[bool, ...] = field(converter=_bits)
    signature: bytes | None = field(repr=short_bytes)

    _repr_pretty_ = pretty_as_repr

    @classmethod
    def of(cls, approvals: Sequence[IndividualApproval], bls: Backend) -> AggregateApproval:
        """The aggregate of distinct approvals (indexes below 15), as a block producer builds it."""
        bits = [False] * MAX_VALIDATORS
        signatures = []
        for approval in approvals:
            if not bits[approval.authority_index]:
                bits[approval.authority_index] = True
                signatures.append(approval.signature)
        return cls(tuple(bits), bls.Aggregate(signatures) if signatures else None)

    @property
    def signers(self) -> list[int]:
        return [i for i, bit in enumerate(self.bits) if bit]

    def ssz_bits(self) -> bytes:
        """SSZ of the bitlist: 15 bits little-endian and the length delimiter at bit 15."""
        value = sum(1 << i for i, bit in enumerate(self.bits) if bit) | 1 << MAX_VALIDATORS
        return value.to_bytes(2, "little")


def verifies(check: Callable[..., bool], *args: object) -> bool:
    """The verdict of a BLS verification; a library that raises on undecodable input (blspy)
    is answering INVALID, as the IETF suite's Verify must."""
    try:
        return bool(check(*args))
    except (ValueError, RuntimeError, TypeError):
        return False


def check_individual(
    approval: IndividualApproval, authorities: Sequence[bytes], message: bytes, bls: Backend
) -> None:
    """Accept one authority's approval of `message`, or raise why not."""
    if not 0 <= approval.authority_index < len(authorities):
        raise UnknownAuthority(f"authority {approval.authority_index} of {len(authorities)}")
    if not verifies(bls.Verify, authorities[approval.authority_index], message, approval.signature):
        raise InvalidSignature(f"authority {approval.authority_index}'s signature does not verify")


def check_aggregate(
    approval: AggregateApproval, authorities: Sequence[bytes], message: bytes, bls: Backend
) -> None:
    """Accept `approval` as a majority approval of `message`, or raise why not."""
    n = len(authorities)
    check_federation_size(n)
    signers = approval.signers
    unknown = [i for i in signers if i >= n]
    if unknown:
        raise UnknownAuthority(f"bits {unknown} set for a federation of {n}")
    if len(signers) < required_approvals(n):
        raise NotEnoughApprovals(f"{len(signers)} of {n} approve; {required_approvals(n)} required")
    if approval.signature is None or not verifies(
        bls.FastAggregateVerify, [authorities[i] for i in signers], message, approval.signature
    ):
        raise BadSignature(f"aggregate does not verify for authorities {signers}")


class Federation:
    """The secure acceptance process: approvals are kept per block hash, whenever they arrive.

    A block at the next height is accepted as soon as it is known and ceil(2n/3) distinct
    authorities have approved it with valid signatures: whatever order blocks and approvals
    arrive in, and whether or not a higher-slot block has been seen at that height since.
    """

    def __init__(self, authorities: Sequence[bytes], bls: Backend, final_height: int = 0) -> None:
        check_federation_size(len(authorities))
        self.authorities = list(authorities)
        self.bls = bls
        self.final_height = final_height
        self.blocks: dict[bytes, int] = {}  # hash -> height
        self.signers: dict[bytes, set[int]] = {}
        self.accepted: list[bytes] = []

    @property
    def required(self) -> int:
        return required_approvals(len(self.authorities))

    def propose(self, block_hash: bytes, height: int) -> None:
        """A block arrives (its slot does not matter to acceptance)."""
        if height > self.final_height:
            self.blocks[block_hash] = height
            self._maybe_accept(block_hash)

    def approve(self, block_hash: bytes, approval: IndividualApproval) -> None:
        """An approval arrives; raises UnknownAuthority or InvalidSignature for a bad one."""
        check_individual(approval, self.authorities, block_hash, self.bls)
        self.signers.setdefault(block_hash, set()).add(approval.authority_index)
        self._maybe_accept(block_hash)

    def _maybe_accept(self, block_hash: bytes) -> None:
        height = self.blocks.get(block_hash)
        if height == self.final_height + 1 and len(self.signers.get(block_hash, ())) >= self.required:
            self.accepted.append(block_hash)
            self.final_height = height

    def approvals_for(self, block_hash: bytes) -> set[int]:
        return set(self.signers.get(block_hash, ()))
