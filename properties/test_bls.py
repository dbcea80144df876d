"""Differential properties: blst, milagro, blspy (and py_ecc, kept small) and the target's BLS.

Every backend and the target answer the same question; a verdict is the returned value, or
"raises". Where libraries are known to disagree (bls-edge-cases.md), the family runs as a strict
expected failure recorded in alys_pbt/deviations.py as a `library` deviation: found, not hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt.killing import kills
from models import bls
from models.bls import INFINITY_PK, INFINITY_SIG
from strategies.federation import malformed_signatures, rogue_key, secret_keys, signing_roots

pytestmark = pytest.mark.federation
FAST = ("blst", "milagro", "blspy")  # py_ecc needs ~0.5 s per verification: see the bls_reference test


def outcome(action: Callable[[], Any]) -> object:
    try:
        result = action()
    except Exception:  # noqa: BLE001 - raising is a verdict here
        return "raises"
    return result


def votes(target: Any, op: str, *args: Any) -> dict[str, object]:
    """Each fast backend's verdict on `op(*args)`, plus the target's for the verify operations."""
    result = {name: outcome(lambda n=name: getattr(bls.backend(n), op)(*args)) for name in FAST if op in bls.backend(name).offers}
    node_op = {"Verify": "verify", "FastAggregateVerify": "fast_aggregate_verify"}.get(op)
    if node_op:
        result["target"] = outcome(lambda: getattr(target.approvals, node_op)(*args))
    return result


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
        return "FastAggregateVerify", ([pk, b.SkToPk(other)], message, b.Aggregate([sig, b.Sign(other, message)]))
    if family == "fast-aggregate-extra-key":
        return "FastAggregateVerify", ([pk, b.SkToPk(other)], message, sig)
    if family == "fast-aggregate-no-keys":
        return "FastAggregateVerify", ([], message, INFINITY_SIG)
    if family == "fast-aggregate-with-infinity-key":
        return "FastAggregateVerify", ([pk, INFINITY_PK], message, sig)
    if family == "rogue-key-aggregate":
        # Without proofs of possession, the attacker alone signs for {victim, rogue}.
        return "FastAggregateVerify", ([b.SkToPk(other), rogue_key([b.SkToPk(other)], sk, b)], message, sig)
    if family == "aggregate-verify-duplicate-messages":
        return "AggregateVerify", ([pk, b.SkToPk(other)], [message, message], b.Aggregate([sig, b.Sign(other, message)]))
    if family == "aggregate-verify-empty":
        return "AggregateVerify", ([], [], INFINITY_SIG)
    if family == "aggregate-single":
        return "Aggregate", ([sig],)
    if family == "aggregate-empty":
        return "Aggregate", ([],)
    if family == "aggregate-outside-subgroup":
        return "Aggregate", ([draw(malformed_signatures(sig).filter(lambda s: len(s) == 96 and s[0] >> 5 == 4))],)
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
    "rogue-key-aggregate",
    "aggregate-verify-duplicate-messages",
    "aggregate-verify-empty",
    "aggregate-single",
    "aggregate-empty",
    "aggregate-outside-subgroup",
    "zero-secret-key",
    "pop-of-rogue-key",
)


@kills("bls-wrong-dst", "bls-accepts-infinity-key")
@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_backends_agree_on_edge_inputs(target: Any, family: str, data: st.DataObject) -> None:
    """Same inputs, same verdict: every library, and the node's own BLS where it answers."""
    op, args = data.draw(edge_inputs(family), label="inputs")
    verdicts = votes(target, op, *args)
    note(f"{op}: {verdicts}")
    assert len(set(map(repr, verdicts.values()))) == 1, f"{op} disagrees: {verdicts}"


@kills("bls-wrong-dst")
@given(sks=st.lists(secret_keys, min_size=1, max_size=7, unique=True), message=signing_roots)
def test_every_library_signs_the_same_bytes_and_the_node_accepts_them(target: Any, sks: list[int], message: bytes) -> None:
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
def test_py_ecc_reference_agrees_with_blst_and_the_node(target: Any, sk: int, message: bytes) -> None:
    """The readable reference signs the same bytes; its signature verifies everywhere."""
    reference, fast = bls.backend("py_ecc"), bls.backend("blst")
    signature = reference.Sign(sk, message)
    assert reference.SkToPk(sk) == fast.SkToPk(sk) and signature == fast.Sign(sk, message)
    assert fast.Verify(fast.SkToPk(sk), message, signature)
    assert target.approvals.verify(reference.SkToPk(sk), message, signature)
