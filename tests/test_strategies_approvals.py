"""The federation strategies generate what they claim."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from alys_pbt.models import approvals as ref
from alys_pbt.models import bls
from alys_pbt.models.bls import R
from alys_pbt.strategies.approvals import (
    BYZANTINE_KINDS,
    EXPECTED,
    aggregate_approvals,
    byzantine_approvals,
    cancelling_subset,
    keyrings,
    malformed_signatures,
    rogue_key,
    signing_roots,
)

quick = settings(max_examples=20, database=None, suppress_health_check=[HealthCheck.too_slow])
B = bls.backend("blst")


@quick
@given(keyring=keyrings(B))
def test_keyrings_have_1_to_15_distinct_valid_keys(keyring) -> None:  # type: ignore[no-untyped-def]
    assert 1 <= keyring.n <= 15
    assert len(set(keyring.public_keys)) == keyring.n
    assert all(B.KeyValidate(pk) for pk in keyring.public_keys)
    assert not cancelling_subset(keyring.secret_keys)


@quick
@given(keyring=keyrings(B, n=st.integers(2, 6), cancelling="always"))
def test_keyrings_plant_a_cancelling_pair_when_asked(keyring) -> None:  # type: ignore[no-untyped-def]
    sks = [k for k in keyring.secret_keys if k is not None]
    assert len(set(sks)) == keyring.n and all(1 <= k < R for k in sks)
    assert any((R - k) in sks for k in sks)
    assert cancelling_subset(keyring.secret_keys)


def test_keyrings_drop_or_keep_a_cancelling_draw_as_the_knob_says(monkeypatch: pytest.MonkeyPatch) -> None:
    # Secret keys restricted to {1, r - 1}: every federation of two is the cancelling pair.
    import alys_pbt.strategies.approvals as federation

    monkeypatch.setattr(federation, "secret_keys", st.sampled_from([1, R - 1]))
    budget = settings(database=None, max_examples=50)
    assert sorted(
        find(keyrings(B, n=2, cancelling="allowed"), lambda k: True, settings=budget).secret_keys
    ) == [1, R - 1]
    with pytest.raises((NoSuchExample, Unsatisfiable)):
        find(keyrings(B, n=2), lambda k: True, settings=budget)


def test_cancelling_subset_finds_subsets_beyond_pairs() -> None:
    assert cancelling_subset([1, 2, R - 3])
    assert cancelling_subset([5, None, R - 5])
    assert not cancelling_subset([1, 2, 4, R - 8])
    assert not cancelling_subset([None, 1])


def test_keyrings_refuse_a_cancelling_pair_in_a_federation_of_one() -> None:
    with pytest.raises(ValueError, match="two authorities"):
        find(keyrings(B, n=1, cancelling="always"), lambda k: True, settings=settings(database=None))


@pytest.mark.parametrize("kind", [k for k in BYZANTINE_KINDS if k not in ("duplicate", "byzantine-signer")])
@quick
@given(data=st.data())
def test_each_byzantine_kind_gets_its_documented_verdict(kind: str, data: st.DataObject) -> None:
    keyring = data.draw(keyrings(B, n=st.integers(1, 7)))
    message = data.draw(signing_roots)
    got, approval = data.draw(byzantine_approvals(keyring, message, B, kind=kind))  # type: ignore[arg-type]
    assert got == kind
    with pytest.raises(getattr(ref, EXPECTED[kind])):
        ref.check_individual(approval, keyring.public_keys, message, B)


@quick
@given(data=st.data())
def test_malformed_signatures_never_decode(data: st.DataObject) -> None:
    sig = B.Sign(data.draw(st.integers(1, 2**64)), data.draw(signing_roots))
    bad = data.draw(malformed_signatures(sig))
    with pytest.raises(bls.BlsError):
        B.Aggregate([bad])


@quick
@given(data=st.data())
def test_honest_aggregates_meet_the_threshold_and_verify(data: st.DataObject) -> None:
    keyring = data.draw(keyrings(B, n=st.integers(1, 7)))
    message = data.draw(signing_roots)
    kind, approval = data.draw(aggregate_approvals(keyring, message, B))
    if kind == "honest":
        ref.check_aggregate(approval, keyring.public_keys, message, B)
    else:
        with pytest.raises(ref.ApprovalError):
            ref.check_aggregate(approval, keyring.public_keys, message, B)


def test_rogue_key_forges_for_the_set_and_has_no_proof_of_possession() -> None:
    victim, attacker = 7, 9
    message = bytes(32)
    rogue = rogue_key([B.SkToPk(victim)], attacker, B)
    assert B.FastAggregateVerify([B.SkToPk(victim), rogue], message, B.Sign(attacker, message))
    assert not B.PopVerify(rogue, B.PopProve(attacker))
    assert B.PopVerify(B.SkToPk(attacker), B.PopProve(attacker))


@quick
@given(data=st.data())
def test_signed_proposals_and_mixed_approvals(data: st.DataObject) -> None:
    from alys_pbt.strategies.approvals import approvals, signed_proposals

    keyring = data.draw(keyrings(B, n=st.integers(1, 7)))
    message, signed = data.draw(signed_proposals(keyring, B))
    for approval in signed:
        ref.check_individual(approval, keyring.public_keys, message, B)
    mix = data.draw(approvals(keyring, message, B, honest=1, byzantine=2))
    assert [kind for kind, _ in mix].count("honest") == 1 and len(mix) == 3
    for kind, approval in mix:
        expected = "ok" if kind == "honest" else EXPECTED[kind]  # type: ignore[index]
        outcome = "ok"
        try:
            ref.check_individual(approval, keyring.public_keys, message, B)
        except ref.ApprovalError as err:
            outcome = type(err).__name__
        assert outcome == expected
