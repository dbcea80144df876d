"""Cases for the approvals properties: each draws its dependent structure (a keyring, then what its
authorities sign) in one composite strategy and returns a small record, so a failing property
prints its arguments as `case=...` with keys and hashes short (issue 18, item 3).

Built on strategies/approvals.py (keyrings, honest and Byzantine approvals, block aggregates).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen
from hypothesis import assume
from hypothesis import strategies as st

from alys_pbt.models import bls as bls_backends
from alys_pbt.models.approvals import (
    MAX_VALIDATORS,
    AggregateApproval,
    IndividualApproval,
    required_approvals,
)
from alys_pbt.models.bls import Backend
from alys_pbt.models.reprs import short_bytes, short_bytes_seq
from alys_pbt.strategies.approvals import (
    Cancelling,
    Keyring,
    aggregate_approvals,
    byzantine_approvals,
    keyrings,
    signing_roots,
    with_infinity_key,
)

# The Byzantine kinds an individual approval is drawn from (strategies/approvals.py).
INDIVIDUAL_KINDS = (
    "forged",
    "other-message",
    "unknown-index",
    "index-over-15",
    "malformed",
    "infinity-signature",
)


def keyring_repr(keyring: Keyring) -> str:
    """A keyring in a few lines: its secret keys (None: the identity key) and short public keys."""
    return f"Keyring(secret_keys={keyring.secret_keys!r}, public_keys={short_bytes_seq(keyring.public_keys)})"


class _Printed:
    """Records print through their repr (short keys and hashes), in Hypothesis's output too."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@frozen(repr=False)
class AggregateCase(_Printed):
    """A federation, the signing root it approves, and one block aggregate of the named kind."""

    keyring: Keyring
    message: bytes
    kind: str
    approval: AggregateApproval

    def __repr__(self) -> str:
        return (
            f"AggregateCase(keyring={keyring_repr(self.keyring)}, message={short_bytes(self.message)}, "
            f"kind={self.kind!r}, approval={self.approval!r})"
        )


@st.composite
def aggregate_cases(draw: st.DrawFn, bls: Backend | None = None) -> AggregateCase:
    """Keyrings whose keys may sum to the identity (never, allowed, always), and an aggregate."""
    bls = bls or bls_backends.backend()  # the run's chosen backend, resolved when drawn
    cancelling: Cancelling = draw(st.sampled_from(["never", "allowed", "always"]))
    size = st.integers(2, 7) if cancelling == "always" else st.integers(1, 7)
    keyring = draw(keyrings(bls, n=size, cancelling=cancelling))
    message = draw(signing_roots)
    kind, approval = draw(aggregate_approvals(keyring, message, bls))
    return AggregateCase(keyring, message, kind, approval)


@frozen(repr=False)
class IndividualCase(_Printed):
    """A federation (authority 0 may hold the identity key), a signing root, the honest authority
    whose approval must pass (None: there is none), and one Byzantine approval of the named kind."""

    keyring: Keyring
    message: bytes
    honest: int | None
    kind: str
    approval: IndividualApproval

    def __repr__(self) -> str:
        return (
            f"IndividualCase(keyring={keyring_repr(self.keyring)}, message={short_bytes(self.message)}, "
            f"honest={self.honest!r}, kind={self.kind!r}, approval={self.approval!r})"
        )


@st.composite
def individual_cases(draw: st.DrawFn, bls: Backend | None = None) -> IndividualCase:
    """Keyrings of 1..7, with the identity key at index 0 half the time, and a Byzantine approval."""
    bls = bls or bls_backends.backend()
    keyring = draw(keyrings(bls, n=st.integers(1, 7)))
    if draw(st.booleans()):
        keyring = with_infinity_key(keyring, 0)
    message = draw(signing_roots)
    ours = [i for i, sk in enumerate(keyring.secret_keys) if sk is not None]
    honest = draw(st.sampled_from(ours)) if ours else None
    kind, approval = draw(
        byzantine_approvals(keyring, message, bls, kind=draw(st.sampled_from(INDIVIDUAL_KINDS)))
    )
    return IndividualCase(keyring, message, honest, kind, approval)


@frozen(repr=False)
class SignersCase(_Printed):
    """A federation of n, a signing root, and the authorities (in order) that sign it honestly."""

    keyring: Keyring
    message: bytes
    signers: tuple[int, ...]

    @property
    def n(self) -> int:
        return self.keyring.n

    def __repr__(self) -> str:
        return (
            f"SignersCase(keyring={keyring_repr(self.keyring)}, message={short_bytes(self.message)}, "
            f"signers={self.signers!r})"
        )


@st.composite
def signers_cases(
    draw: st.DrawFn,
    bls: Backend | None = None,
    *,
    n: int | st.SearchStrategy[int] = st.integers(1, MAX_VALIDATORS),
    offsets: st.SearchStrategy[int] | None = None,
) -> SignersCase:
    """A keyring of `n`, a signing root and distinct signers in any order: required_approvals(n) +
    an offset drawn from `offsets` of them (a draw where that is not 0..n is rejected), or by default
    from one below the threshold to all n."""
    bls = bls or bls_backends.backend()
    size = n if isinstance(n, int) else draw(n)
    if offsets is not None:
        count = required_approvals(size) + draw(offsets)
        assume(0 <= count <= size)
    else:
        count = draw(st.integers(max(required_approvals(size) - 1, 0), size))
    keyring = draw(keyrings(bls, n=size))
    message = draw(signing_roots)
    signers = tuple(draw(st.permutations(range(size)))[:count])
    return SignersCase(keyring, message, signers)


__all__ = [
    "INDIVIDUAL_KINDS",
    "AggregateCase",
    "IndividualCase",
    "SignersCase",
    "aggregate_cases",
    "individual_cases",
    "keyring_repr",
    "signers_cases",
]
