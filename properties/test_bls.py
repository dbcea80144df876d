"""BLS: the target judged against the IETF verdict, and the libraries judged against each other.

Two kinds of property, kept apart so that a library's known deviation never excuses the target:

* target properties: the node's Verify and FastAggregateVerify give, family by family, the verdict
  of the IETF draft (draft-irtf-cfrg-bls-signature-05, POP suite) as the reference computes it
  (`IETF`: models/bls.py composed on blst, draft-exact; tests/test_bls_target.py holds it to the
  draft's verdict on every family, and to py_ecc on pinned examples); also its memoized path
  against the unmemoized reference on inputs that reuse keys, messages and signatures;
* differential properties: blst, milagro, blspy (and py_ecc, kept small) answer alike. Where
  libraries are known to disagree (bls-edge-cases.md), the family runs as a strict expected failure
  recorded in alys_pbt/deviations.py as a `library` deviation: found, not hidden.

A verdict is the returned value, or "raises": a target that raises where the draft says INVALID
fails by assertion like any other wrong answer.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import bls
from alys_pbt.models.bls import INFINITY_PK, INFINITY_SIG
from alys_pbt.strategies.approvals import (
    keyrings,
    malformed_signatures,
    rogue_key,
    secret_keys,
    signing_roots,
)

pytestmark = pytest.mark.approvals
FAST = ("blst", "milagro", "blspy")  # py_ecc needs ~0.5 s per verification: see the bls_reference test
IETF = "blst"  # the draft-exact reference the target is judged by (fast enough for every example)
NODE_OPERATIONS = {"Verify": "verify", "FastAggregateVerify": "fast_aggregate_verify"}


def outcome(action: Callable[[], Any]) -> object:
    try:
        result = action()
    except Exception:  # noqa: BLE001 - raising is a verdict here
        return "raises"
    return result


def votes(op: str, *args: Any) -> dict[str, object]:
    """Each fast library's verdict on `op(*args)`."""
    return {
        name: outcome(lambda n=name: getattr(bls.backend(n), op)(*args))
        for name in FAST
        if op in bls.backend(name).offers
    }


def ietf_verdict(op: str, *args: Any) -> object:
    """What the draft answers, as the reference computes it."""
    return outcome(lambda: getattr(bls.backend(IETF), op)(*args))


def target_verdict(target: Target, op: str, *args: Any) -> object:
    return outcome(lambda: getattr(target.approvals, NODE_OPERATIONS[op])(*args))


@st.composite
def edge_inputs(draw: st.DrawFn, family: str) -> tuple[str, tuple[Any, ...]]:
    """(operation, arguments) for one family of the conformance suite's edge cases."""
    b = bls.backend("blst")
    sk, other = draw(st.lists(secret_keys, min_size=2, max_size=2, unique=True))
    message = draw(signing_roots)
    pk, sig = b.SkToPk(sk), b.Sign(sk, message)
    if family == "verify-valid":
        return "Verify", (pk, message, sig)
    if family == "verify-tampered":
        return "Verify", (pk, message, b.Sign(sk, draw(signing_roots.filter(lambda m: m != message))))
    if family == "verify-wrong-key":
        return "Verify", (b.SkToPk(other), message, sig)
    if family == "verify-infinity-key-and-signature":
        return "Verify", (INFINITY_PK, message, INFINITY_SIG)
    if family == "verify-malformed-signature":
        return "Verify", (pk, message, draw(malformed_signatures(sig)))
    if family == "fast-aggregate-valid":
        return "FastAggregateVerify", (
            [pk, b.SkToPk(other)],
            message,
            b.Aggregate([sig, b.Sign(other, message)]),
        )
    if family == "fast-aggregate-extra-key":
        return "FastAggregateVerify", ([pk, b.SkToPk(other)], message, sig)
    if family == "fast-aggregate-no-keys":
        return "FastAggregateVerify", ([], message, INFINITY_SIG)
    if family == "fast-aggregate-with-infinity-key":
        return "FastAggregateVerify", ([pk, INFINITY_PK], message, sig)
    if family == "fast-aggregate-keys-sum-to-identity":
        # Two valid keys sk and r - sk: their aggregate key, and their aggregate signature, are the
        # identity; CoreVerify's KeyValidate of the aggregate key makes it INVALID.
        ring = draw(keyrings(b, n=2, cancelling="always"), label="cancelling pair")
        signatures = [b.Sign(k, message) for k in ring.secret_keys if k is not None]
        return "FastAggregateVerify", (list(ring.public_keys), message, b.Aggregate(signatures))
    if family == "fast-aggregate-cancelling-pair-and-a-signer":
        # The pair cancels but the third key does not: the aggregate key is the third key, VALID.
        ring = draw(keyrings(b, n=3, cancelling="always"), label="cancelling pair and one more")
        signatures = [b.Sign(k, message) for k in ring.secret_keys if k is not None]
        return "FastAggregateVerify", (list(ring.public_keys), message, b.Aggregate(signatures))
    if family == "rogue-key-aggregate":
        # Without proofs of possession, the attacker alone signs for {victim, rogue}.
        return "FastAggregateVerify", ([b.SkToPk(other), rogue_key([b.SkToPk(other)], sk, b)], message, sig)
    if family == "aggregate-verify-duplicate-messages":
        return "AggregateVerify", (
            [pk, b.SkToPk(other)],
            [message, message],
            b.Aggregate([sig, b.Sign(other, message)]),
        )
    if family == "aggregate-verify-empty":
        return "AggregateVerify", ([], [], INFINITY_SIG)
    if family == "aggregate-single":
        return "Aggregate", ([sig],)
    if family == "aggregate-empty":
        return "Aggregate", ([],)
    if family == "aggregate-outside-subgroup":
        return "Aggregate", (
            [draw(malformed_signatures(sig).filter(lambda s: len(s) == 96 and s[0] >> 5 == 4))],
        )
    if family == "zero-secret-key":
        return "SkToPk", (0,)
    if family == "pop-of-rogue-key":
        return "PopVerify", (rogue_key([b.SkToPk(other)], sk, b), b.PopProve(sk))
    raise ValueError(family)


FAMILIES = (
    "verify-valid",
    "verify-tampered",
    "verify-wrong-key",
    "verify-infinity-key-and-signature",
    "verify-malformed-signature",
    "fast-aggregate-valid",
    "fast-aggregate-extra-key",
    "fast-aggregate-no-keys",
    "fast-aggregate-with-infinity-key",
    "fast-aggregate-keys-sum-to-identity",
    "fast-aggregate-cancelling-pair-and-a-signer",
    "rogue-key-aggregate",
    "aggregate-verify-duplicate-messages",
    "aggregate-verify-empty",
    "aggregate-single",
    "aggregate-empty",
    "aggregate-outside-subgroup",
    "zero-secret-key",
    "pop-of-rogue-key",
)


# The draft's verdict on each family (VALID True, INVALID False, "raises" where a function other
# than a verification has no output); tests/test_bls_target.py holds the reference to it.
DRAFT_VERDICTS: dict[str, object] = {
    "verify-valid": True,
    "verify-tampered": False,
    "verify-wrong-key": False,
    "verify-infinity-key-and-signature": False,  # KeyValidate refuses the identity key
    "verify-malformed-signature": False,  # signature_to_point or the subgroup check is INVALID
    "fast-aggregate-valid": True,
    "fast-aggregate-extra-key": False,
    "fast-aggregate-no-keys": False,  # precondition n >= 1
    "fast-aggregate-with-infinity-key": False,  # keys are validated (§5.1, PopVerify's KeyValidate)
    "fast-aggregate-keys-sum-to-identity": False,  # CoreVerify: KeyValidate(aggregate key)
    "fast-aggregate-cancelling-pair-and-a-signer": True,
    "rogue-key-aggregate": True,  # FastAggregateVerify trusts its keys: PoP at registration stops this
    "aggregate-verify-duplicate-messages": True,  # the POP suite allows repeated messages
    "aggregate-verify-empty": False,
    "aggregate-single": "the signature",  # Aggregate([s]) == s: the test compares with its input
    "aggregate-empty": "raises",  # precondition n >= 1
    "aggregate-outside-subgroup": "raises",  # signature_to_point with its subgroup check
    "zero-secret-key": "raises",  # SK in [1, r)
    "pop-of-rogue-key": False,
}
TARGET_FAMILIES = tuple(f for f in FAMILIES if f.startswith(("verify-", "fast-aggregate-", "rogue-key-")))


@kills(
    "bls-wrong-dst",
    "bls-accepts-infinity-key",
    "bls-fast-aggregate-accepts-infinity-key",
    "bls-accepts-identity-aggregate-key",
    "bls-verify-raises-on-malformed",
)
# The edge-input properties draw their inputs with st.data(): they depend on the family, a pytest
# parameter (the node ids the kill matrix and the known failures key on), which a @given argument
# cannot see; the draw prints labelled (`Draw 1 (inputs): ...`).
@pytest.mark.parametrize("family", TARGET_FAMILIES)
@given(data=st.data())
def test_target_gives_the_ietf_verdict_on_edge_inputs(
    target: Target, family: str, data: st.DataObject
) -> None:
    """The node's Verify and FastAggregateVerify answer what the draft answers, whatever the libraries do."""
    op, args = data.draw(edge_inputs(family), label="inputs")
    expected, got = ietf_verdict(op, *args), target_verdict(target, op, *args)
    note(f"{op}: draft {expected!r}, target {got!r}")
    assert got == expected, f"{op} on {family}: the target answered {got!r}, the draft {expected!r}"


@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_backends_agree_on_edge_inputs(target: Target, family: str, data: st.DataObject) -> None:
    """Same inputs, same verdict from every library (the target is judged on its own, above)."""
    del target  # the libraries alone are judged here
    op, args = data.draw(edge_inputs(family), label="inputs")
    verdicts = votes(op, *args)
    note(f"{op}: {verdicts}")
    assert len(set(map(repr, verdicts.values()))) == 1, f"{op} disagrees: {verdicts}"


# Every example signs fresh messages: the target's memo outlives an example (the target is one
# object per run), and a key reused from an earlier example must not decide this one's answer,
# or a failure would not replay. A counter, not randomness: the run stays deterministic.
_EXAMPLE = itertools.count()
REUSES = ("again", "other-message", "other-keys", "other-signature")


# A question: a valid (signers, message, signature) triple to start from, what to reuse of it, and
# the triple the rest comes from; triples are numbered modulo how many the keys make (2 to 14).
questions = st.tuples(st.integers(0, 13), st.sampled_from(REUSES), st.integers(0, 13))


@kills("bls-memo-ignores-message", "bls-memo-ignores-keys", "bls-memo-ignores-signature")
@given(
    sks=st.lists(secret_keys, min_size=2, max_size=3, unique=True),
    asked=st.lists(questions, min_size=2, max_size=12),
)
def test_memoized_verification_answers_like_the_unmemoized_reference(
    target: Target, sks: list[int], asked: list[tuple[int, str, int]]
) -> None:
    """FastAggregateVerify, asked again with the same signature bytes under another message or key
    set, or the same keys and message with another signature, answers as the reference does each time."""
    b = bls.backend(IETF)
    example = next(_EXAMPLE)
    messages = [hashlib.sha256(b"memo/%d/%d" % (example, i)).digest() for i in range(2)]
    signer_sets = [c for k in range(1, len(sks) + 1) for c in itertools.combinations(sks, k)]
    # Valid triples to start from: a signer set, a message, and their aggregate signature.
    valid = [
        ([b.SkToPk(k) for k in signers], m, b.Aggregate([b.Sign(k, m) for k in signers]))
        for signers in signer_sets
        for m in messages
    ]
    for start, reuse, other in ((s % len(valid), r, o % len(valid)) for s, r, o in asked):
        pks, message, signature = valid[start]
        if reuse == "other-message":
            message = valid[other][1]
        elif reuse == "other-keys":
            pks = valid[other][0]
        elif reuse == "other-signature":
            signature = valid[other][2]
        expected = ietf_verdict("FastAggregateVerify", pks, message, signature)
        got = target_verdict(target, "FastAggregateVerify", pks, message, signature)
        note(f"{reuse} of #{start} (#{other}): reference {expected!r}, target {got!r}")
        assert got == expected, f"{reuse}: the target answered {got!r}, the reference {expected!r}"


@kills("bls-wrong-dst")
@given(sks=st.lists(secret_keys, min_size=1, max_size=7, unique=True), message=signing_roots)
def test_every_library_signs_the_same_bytes_and_the_node_accepts_them(
    target: Target, sks: list[int], message: bytes
) -> None:
    """Keys, signatures, proofs and aggregates are byte-identical; the node verifies each library's."""
    for sk in sks:
        keys = {bls.backend(n).SkToPk(sk) for n in FAST}
        sigs = {bls.backend(n).Sign(sk, message) for n in FAST}
        assert len(keys) == 1 and len(sigs) == 1
        assert target.approvals.verify(keys.pop(), message, sigs.pop())
    assert bls.backend("blst").PopProve(sks[0]) == bls.backend("blspy").PopProve(sks[0])
    signatures = [bls.backend("blst").Sign(sk, message) for sk in sks]
    aggregates = {bls.backend(n).Aggregate(signatures) for n in FAST}
    assert len(aggregates) == 1
    pks = [bls.backend("blst").SkToPk(sk) for sk in sks]
    assert target.approvals.fast_aggregate_verify(pks, message, aggregates.pop())


@pytest.mark.bls_reference
@kills("bls-wrong-dst")
@settings(max_examples=3)
@given(sk=secret_keys, message=signing_roots)
def test_py_ecc_reference_agrees_with_blst_and_the_node(target: Target, sk: int, message: bytes) -> None:
    """The readable reference signs the same bytes; its signature verifies everywhere."""
    reference, fast = bls.backend("py_ecc"), bls.backend("blst")
    signature = reference.Sign(sk, message)
    assert reference.SkToPk(sk) == fast.SkToPk(sk) and signature == fast.Sign(sk, message)
    assert fast.Verify(fast.SkToPk(sk), message, signature)
    assert target.approvals.verify(reference.SkToPk(sk), message, signature)
