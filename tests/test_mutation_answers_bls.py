"""What mutation testing of alys/bls.py found unanswered (issue 14, docs/mutation.md), answered.

* the unmemoized path (`cache_size=0`) is compared with the memoized one and the draft's verdict on
  questions that reuse a memo key's parts adversarially (issue 14, item 7: every memoized path
  against its unmemoized one);
* the memo's bound is probed at, below and past it: it never holds more than `cache_size` answers
  and, full, drops the least recently used one;
* a refused key or signature is a BlsDecodeError that names what is wrong (blst's error code);
* the benchmarks' switch (`check_signatures = False`) skips decoding and pairings, as its comment says.
"""

from __future__ import annotations

import itertools

import pytest

from alys.bls import BlsDecodeError, LighthouseBls
from alys.variant import Variant
from alys_pbt.models import bls

B = bls.backend("blst")
MESSAGES = (bytes(range(32)), bytes(range(1, 33)))
SECRET_KEYS = (1, 2, 3)


def _questions() -> list[tuple[list[bytes], bytes, bytes]]:
    """Every signer set, message and aggregate signature, crossed: each key set asked with each
    message and each signature (the valid triple and every near miss that shares two of its parts)."""
    signer_sets = [c for k in (1, 2) for c in itertools.combinations(SECRET_KEYS, k)]
    keys = [[B.SkToPk(sk) for sk in s] for s in signer_sets]
    sigs = [B.Aggregate([B.Sign(sk, m) for sk in s]) for s in signer_sets for m in MESSAGES]
    return [(pks, m, sig) for pks in keys for m in MESSAGES for sig in sigs]


QUESTIONS = _questions()


def _verdict(port: LighthouseBls, pks: list[bytes], message: bytes, sig: bytes) -> bool:
    return port.fast_aggregate_verify(pks, message, port.signature(sig))


def test_the_unmemoized_path_answers_like_the_draft_and_the_memo() -> None:
    unmemoized, memoized = LighthouseBls(Variant(), cache_size=0), LighthouseBls(Variant())
    # Asked twice over: the second round answers from the memo, the unmemoized port recomputes.
    for pks, message, sig in QUESTIONS + QUESTIONS:
        expected = B.FastAggregateVerify(pks, message, sig)
        assert _verdict(unmemoized, pks, message, sig) is expected, "unmemoized path disagrees with the draft"
        assert _verdict(memoized, pks, message, sig) is expected, "memoized path disagrees with the draft"
    assert unmemoized._verified == {}  # cache_size=0: nothing memoized
    assert any(B.FastAggregateVerify(*q) for q in QUESTIONS) and not all(
        B.FastAggregateVerify(*q) for q in QUESTIONS
    )


@pytest.mark.parametrize("cache_size", [1, 2, 3])
def test_the_memo_holds_at_most_its_bound_and_drops_the_least_recently_used(cache_size: int) -> None:
    port = LighthouseBls(Variant(), cache_size=cache_size)
    asked = QUESTIONS[: cache_size + 2]
    keys = [port._memo_key(pks, m, port.signature(s)) for pks, m, s in asked]
    for i, (pks, message, sig) in enumerate(asked[:cache_size], start=1):
        _verdict(port, pks, message, sig)
        assert list(port._verified) == keys[:i]  # below and at the bound: every answer kept
    _verdict(port, *asked[0])  # asked again: now the most recently used
    order = [*keys[1:cache_size], keys[0]]
    assert list(port._verified) == order
    _verdict(port, *asked[cache_size])  # past the bound: the least recently used goes
    assert list(port._verified) == [*order[1:], keys[cache_size]]
    assert len(port._verified) == cache_size


def test_a_refused_key_or_signature_names_what_is_wrong() -> None:
    port = LighthouseBls(Variant())
    identity = bytes([0xC0]) + bytes(47)
    with pytest.raises(BlsDecodeError) as err:
        port.public_key(identity)
    assert str(err.value) == "BLST_PK_IS_INFINITY"
    for bad in (bytes(48), b"\xff" * 48, b"\x01" * 3):
        with pytest.raises(BlsDecodeError, match=r"BLST_BAD_ENCODING"):
            port.public_key(bad)
    for bad in (bytes(96), b"\xff" * 96, b"\x01" * 3):
        with pytest.raises(BlsDecodeError, match=r"BLST_BAD_ENCODING"):
            port.signature(bad)


def test_without_signature_checks_nothing_is_decoded_or_paired() -> None:
    # benchmarks/ measure the rest of the node with this switch: every signature verifies unread.
    port = LighthouseBls(Variant())
    port.check_signatures = False
    garbage = b"\x01" * 96
    assert port.signature(garbage) == garbage
    pk = B.SkToPk(1)
    assert port.verify(pk, MESSAGES[0], garbage) is True
    assert port.fast_aggregate_verify([pk], MESSAGES[0], garbage) is True
    assert port.fast_aggregate_verify([], MESSAGES[0], garbage) is False  # no keys still never verifies
    assert port._verified == {}
