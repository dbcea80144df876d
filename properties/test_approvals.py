"""Properties of federation approvals: the threshold, block aggregates, individual approvals, and
the candidate cache driven as a state machine (models/machines/approvals.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models import approvals as ref
from alys_pbt.models import bls
from alys_pbt.models.approvals import MAX_VALIDATORS
from alys_pbt.models.bls import INFINITY_SIG
from alys_pbt.models.machines.approvals import FederationMachine
from alys_pbt.strategies.approval_cases import (
    AggregateCase,
    IndividualCase,
    SignersCase,
    aggregate_cases,
    individual_cases,
    signers_cases,
)
from alys_pbt.strategies.approvals import Keyring, honest_approval, signing_roots
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.approvals

# The node's table (alys-rules.md §3.4): n -> ceil(2n/3).
THRESHOLDS = {
    1: 1,
    2: 2,
    3: 2,
    4: 3,
    5: 4,
    6: 4,
    7: 5,
    8: 6,
    9: 6,
    10: 7,
    11: 8,
    12: 8,
    13: 9,
    14: 10,
    15: 10,
}


@kills("approvals-floor-threshold")
@given(n=st.integers(1, 15))
def test_threshold_is_ceil_two_thirds(target: Target, n: int) -> None:
    """A block needs ceil(2n/3) approvals: the node's table for 1..15 authorities."""
    assert ref.required_approvals(n) == THRESHOLDS[n]
    assert target.approvals.required_approvals(n) == THRESHOLDS[n]


def node_verdict(target: Target, approval: ref.AggregateApproval, keyring: Any, message: bytes) -> str:
    def judge() -> None:
        if not target.approvals.majority_approved(approval, list(keyring.public_keys), message):
            raise ref.NotEnoughApprovals("not yet")

    return verdict(judge)


@kills(
    "approvals-strict-threshold",
    "approvals-verify-all-authorities",
    "approvals-floor-threshold",
    "bls-accepts-identity-aggregate-key",
)
@given(case=aggregate_cases())
def test_block_approvals_are_judged_like_the_reference(target: Target, case: AggregateCase) -> None:
    """A block's aggregate approval is accepted iff ceil(2n/3) known authorities signed it.

    Keyrings may hold keys that sum to the identity (sk and r - sk): their joint aggregate is the
    identity signature, which the draft's FastAggregateVerify refuses, so such signers alone are
    a BadSignature for the reference, and must be for the node (whose blst refuses the infinite
    aggregate key)."""
    b = bls.backend()
    keyring, message, kind, approval = case.keyring, case.message, case.kind, case.approval
    note(f"{kind}: signers {approval.signers} of {keyring.n}")
    expected = verdict(lambda: ref.check_aggregate(approval, keyring.public_keys, message, b))
    assert node_verdict(target, approval, keyring, message) == expected


@kills("bls-accepts-infinity-key")
@given(case=individual_cases())
def test_individual_approvals_are_judged_like_the_reference(target: Target, case: IndividualCase) -> None:
    """Honest approvals pass; each Byzantine kind gets the reference's verdict (and its own)."""
    b = bls.backend()
    keyring, message = case.keyring, case.message
    if case.honest is not None:
        ok = honest_approval(keyring, case.honest, message, b)
        assert (
            verdict(lambda: target.approvals.check_individual(ok, list(keyring.public_keys), message)) == "ok"
        )
    asked = [(case.kind, case.approval)]
    if keyring.secret_keys[0] is None:
        # The identity signature for the identity-key authority: the pairing equation holds (both
        # sides are 1), so only key validation refuses it.
        asked.append(("identity signature of the identity key", ref.IndividualApproval(INFINITY_SIG, 0)))
    for what, approval in asked:
        expected = verdict(lambda: ref.check_individual(approval, keyring.public_keys, message, b))
        got = verdict(lambda: target.approvals.check_individual(approval, list(keyring.public_keys), message))
        note(f"{what}: reference {expected}, target {got}")
        assert got == expected, f"{what}: the target answered {got}, the reference {expected}"


@kills("approvals-strict-threshold", "approvals-floor-threshold")
@given(case=signers_cases(offsets=st.sampled_from((-1, 0, 1))))
def test_block_approvals_just_below_at_and_just_above_the_threshold(
    target: Target, case: SignersCase
) -> None:
    """ceil(2n/3) - 1 honest signers are not yet a majority; ceil(2n/3) and one more are, at every n."""
    b = bls.backend()
    keyring, message, signers, n = case.keyring, case.message, case.signers, case.n
    count = len(signers)
    offset = count - ref.required_approvals(n)
    approval = ref.AggregateApproval.of([honest_approval(keyring, i, message, b) for i in signers], b)
    expected = verdict(lambda: ref.check_aggregate(approval, keyring.public_keys, message, b))
    assert expected == ("ok" if offset >= 0 else "NotEnoughApprovals"), f"reference said {expected}"
    got = node_verdict(target, approval, keyring, message)
    note(f"n={n}, {count} signers (threshold {offset:+d}): reference {expected}, target {got}")
    assert got == expected, f"{count} of {n} signers: the target answered {got}, the reference {expected}"


@kills("approvals-unknown-index-off-by-one")
@given(case=signers_cases())
def test_individual_approvals_at_and_past_the_last_authority(target: Target, case: SignersCase) -> None:
    """Index n - 1 is the last authority; n, the last bit (14), 15 and 255 are unknown, at every n."""
    b = bls.backend()
    keyring, message, n = case.keyring, case.message, case.n
    signature = honest_approval(keyring, n - 1, message, b).signature  # a valid signature, whoever claims it
    for index in sorted({n - 1, n, MAX_VALIDATORS - 1, MAX_VALIDATORS, 255}):
        approval = ref.IndividualApproval(signature, index)
        expected = verdict(lambda: ref.check_individual(approval, keyring.public_keys, message, b))
        assert expected == ("ok" if index == n - 1 else "UnknownAuthority"), f"reference said {expected}"
        got = verdict(lambda: target.approvals.check_individual(approval, list(keyring.public_keys), message))
        note(f"n={n}, index {index}: reference {expected}, target {got}")
        assert got == expected, f"index {index} of {n}: the target answered {got}, the reference {expected}"


@kills("approvals-bits-beyond-n-off-by-one")
@given(case=signers_cases(n=st.integers(1, MAX_VALIDATORS - 1)), extra=st.sampled_from((0, 1)))
def test_aggregate_bits_at_and_past_the_last_authority(target: Target, case: SignersCase, extra: int) -> None:
    """With a majority of honest signers, one more bit set at index n (the first past the
    federation) or n + 1 makes the aggregate UnknownAuthority, at every n below the 15-bit limit."""
    b = bls.backend()
    keyring, message, signers, n = case.keyring, case.message, case.signers, case.n
    count = len(signers)
    honest = ref.AggregateApproval.of([honest_approval(keyring, i, message, b) for i in signers], b)
    beyond = min(n + extra, MAX_VALIDATORS - 1)
    bits = list(honest.bits)
    bits[beyond] = True
    approval = ref.AggregateApproval(tuple(bits), honest.signature)
    expected = verdict(lambda: ref.check_aggregate(approval, keyring.public_keys, message, b))
    assert expected == "UnknownAuthority", f"reference said {expected}"
    got = node_verdict(target, approval, keyring, message)
    note(f"n={n}, {count} signers and bit {beyond}: target {got}")
    assert got == expected, f"bit {beyond} of {n}: the target answered {got}, the reference {expected}"


@kills("approvals-max-authorities-off-by-one")
@given(
    n=st.sampled_from((MAX_VALIDATORS - 1, MAX_VALIDATORS, MAX_VALIDATORS + 1))
    | st.integers(1, MAX_VALIDATORS + 2),
    message=signing_roots,
    order=st.permutations(range(MAX_VALIDATORS + 2)),
)
def test_federation_size_just_below_at_and_past_the_bitlist(
    target: Target, n: int, message: bytes, order: list[int]
) -> None:
    """Up to 15 authorities (BitList<U15>), every authority's approval counts and a block is accepted;
    a larger federation is refused when configured, as the reference refuses it, not half-served."""
    b = bls.backend()
    # The size is what is probed: keys 1..n (no subset cancels) keep each example, and shrinking, cheap.
    keyring = Keyring(tuple(range(1, n + 1)), tuple(b.SkToPk(sk) for sk in range(1, n + 1)))
    pks = list(keyring.public_keys)
    expected = verdict(lambda: ref.Federation(keyring.public_keys, b))
    got = verdict(lambda: target.approvals.candidate_cache(pks))
    note(f"{n} authorities: reference {expected}, target {got}")
    assert got == expected, f"a federation of {n}: the target answered {got}, the reference {expected}"
    signers = list(range(min(n, MAX_VALIDATORS)))[: ref.required_approvals(n)]
    aggregate = ref.AggregateApproval.of([honest_approval(keyring, i, message, b) for i in signers], b)
    want = verdict(lambda: ref.check_aggregate(aggregate, keyring.public_keys, message, b))
    assert node_verdict(target, aggregate, keyring, message) == want, f"majority of {n}: reference {want}"
    if expected != "ok":
        return
    model, cache = ref.Federation(keyring.public_keys, b), target.approvals.candidate_cache(pks)
    model.propose(message, 1)
    cache.insert_block(message, 1, 1)
    for i in (i for i in order if i < n):  # the approval order, as the authorities of n take it
        approval = honest_approval(keyring, i, message, b)
        want = verdict(lambda: model.approve(message, approval))
        got = verdict(lambda: cache.add_approval(message, approval))
        assert got == want, f"authority {i} of {n}: the target answered {got}, the reference {want}"
    assert list(cache.accepted) == model.accepted == [message]


TestFederation = machine_test(
    kills("approvals-duplicate-counted", "approvals-strict-threshold")(FederationMachine)
)
