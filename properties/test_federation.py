"""Properties of federation approvals: the threshold, block aggregates, individual approvals, and
the candidate cache driven as a state machine (models/federation_machine.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.killing import kills
from alys_pbt.verdict import verdict
from models import approvals as ref
from models import bls
from models.federation_machine import FederationMachine
from strategies.federation import aggregate_approvals, byzantine_approvals, honest_approval, keyrings, signing_roots

pytestmark = pytest.mark.federation

# The node's table (alys-rules.md §3.4): n -> ceil(2n/3).
THRESHOLDS = {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 6, 9: 6, 10: 7, 11: 8, 12: 8, 13: 9, 14: 10, 15: 10}


@kills("approvals-floor-threshold")
@given(n=st.integers(1, 15))
def test_threshold_is_ceil_two_thirds(target: Any, n: int) -> None:
    """A block needs ceil(2n/3) approvals: the node's table for 1..15 authorities."""
    assert ref.required_approvals(n) == THRESHOLDS[n]
    assert target.approvals.required_approvals(n) == THRESHOLDS[n]


def node_verdict(target: Any, approval: ref.AggregateApproval, keyring: Any, message: bytes) -> str:
    def judge() -> None:
        if not target.approvals.majority_approved(approval, list(keyring.public_keys), message):
            raise ref.NotEnoughApprovals("not yet")

    return verdict(judge)


@kills("approvals-strict-threshold", "approvals-verify-all-authorities", "approvals-floor-threshold")
@given(data=st.data())
def test_block_approvals_are_judged_like_the_reference(target: Any, data: st.DataObject) -> None:
    """A block's aggregate approval is accepted iff ceil(2n/3) known authorities signed it."""
    b = bls.backend()
    keyring = data.draw(keyrings(b, n=st.integers(1, 7)), label="keyring")
    message = data.draw(signing_roots, label="signing root")
    kind, approval = data.draw(aggregate_approvals(keyring, message, b), label="approval")
    note(f"{kind}: signers {approval.signers} of {keyring.n}")
    expected = verdict(lambda: ref.check_aggregate(approval, keyring.public_keys, message, b))
    assert node_verdict(target, approval, keyring, message) == expected


@kills("bls-accepts-infinity-key")
@given(data=st.data())
def test_individual_approvals_are_judged_like_the_reference(target: Any, data: st.DataObject) -> None:
    """Honest approvals pass; each Byzantine kind gets the reference's verdict (and its own)."""
    b = bls.backend()
    keyring = data.draw(keyrings(b, n=st.integers(1, 7)), label="keyring")
    if data.draw(st.booleans(), label="identity key in the keyring"):
        from strategies.federation import with_infinity_key

        keyring = with_infinity_key(keyring, 0)
    message = data.draw(signing_roots, label="signing root")
    honest = [i for i, sk in enumerate(keyring.secret_keys) if sk is not None]
    if honest:
        ok = honest_approval(keyring, data.draw(st.sampled_from(honest)), message, b)
        assert verdict(lambda: target.approvals.check_individual(ok, list(keyring.public_keys), message)) == "ok"
    kind, approval = data.draw(
        byzantine_approvals(keyring, message, b, kind=data.draw(st.sampled_from(
            ["forged", "other-message", "unknown-index", "index-over-15", "malformed", "infinity-signature"]
        ))),
        label="byzantine",
    )
    expected = verdict(lambda: ref.check_individual(approval, keyring.public_keys, message, b))
    got = verdict(lambda: target.approvals.check_individual(approval, list(keyring.public_keys), message))
    note(f"{kind}: reference {expected}, target {got}")
    assert got == expected


TestFederation = kills("approvals-duplicate-counted", "approvals-strict-threshold")(
    FederationMachine
).TestCase
