"""What mutation testing of alys/approvals.py found unanswered (issue 14, docs/mutation.md), answered.

* an approval the BitList<U15> cannot hold is refused with an error naming its index;
* every refusal names what is wrong (the index, the undecodable or unverified aggregate, the size);
* the candidate cache keeps candidates by height and none at or below the final height (an old
  block is ignored, block_candidate_cache.rs), so its memory is bounded by the heights in play.
"""

from __future__ import annotations

import hashlib

import pytest

import alys
from alys.approvals import (
    MAX_VALIDATORS,
    Aggregate,
    BadSignature,
    InvalidSignature,
    TooManyAuthorities,
    UnknownAuthority,
)
from alys_pbt.models import bls
from alys_pbt.models.approvals import AggregateApproval, IndividualApproval

B = bls.backend("blst")
SKS = (1, 2, 3, 4)
PKS = [B.SkToPk(sk) for sk in SKS]


def block(height: int, slot: int) -> bytes:
    return hashlib.sha256(b"alys-pbt/mutation-answers/approvals/%d/%d" % (height, slot)).digest()


def approval(index: int, block_hash: bytes) -> IndividualApproval:
    return IndividualApproval(B.Sign(SKS[index], block_hash), index)


@pytest.mark.parametrize("index", [MAX_VALIDATORS, MAX_VALIDATORS + 1, 1000])
def test_an_index_past_the_bitlist_is_refused_by_name(index: int) -> None:
    port = alys.build("alys-fixed").approvals
    aggregate = Aggregate(port)
    with pytest.raises(UnknownAuthority) as err:
        aggregate.add(index, B.Sign(1, block(1, 1)))
    assert err.value.args == (index,)
    assert aggregate.bits == [False] * MAX_VALIDATORS and aggregate.signature is None


@pytest.mark.parametrize("target", ["alys-fixed", "alys"])
def test_candidates_are_kept_by_height_and_none_at_or_below_the_final_height(target: str) -> None:
    cache = alys.build(target, alys.QUIRKS if target == "alys" else ()).approvals.candidate_cache(PKS)
    a, c = block(1, 1), block(2, 2)
    cache.insert_block(block(0, 0), 0, 0)  # at the final height (0): ignored
    assert cache.by_height == {}
    cache.insert_block(a, 1, 1)
    cache.insert_block(c, 2, 2)
    assert {h: list(at) for h, at in cache.by_height.items()} == {1: [a], 2: [c]}
    for j in range(3):
        cache.add_approval(a, approval(j, a))
    assert cache.accepted == [a] and cache.final_height == 1
    assert cache.by_height == {}  # the node clears the whole cache on import
    # A competitor at the now final height, and its approval: neither becomes a candidate.
    old = block(1, 5)
    cache.insert_block(old, 1, 5)
    cache.add_approval(old, approval(3, old))
    assert cache.by_height == {} and cache.accepted == [a]


def test_every_refusal_names_what_is_wrong() -> None:
    port = alys.build("alys-fixed").approvals
    message = block(1, 1)
    with pytest.raises(InvalidSignature) as bad_individual:
        port.check_individual(IndividualApproval(B.Sign(SKS[1], message), 0), PKS, message)
    assert bad_individual.value.args == (0,)  # the index whose signature failed
    undecodable = AggregateApproval((True,) * 3 + (False,) * 12, b"\xff" * 96)
    with pytest.raises(BadSignature) as bad_encoding:
        port.majority_approved(undecodable, PKS, message)
    assert str(bad_encoding.value) == "undecodable aggregate signature"
    wrong = AggregateApproval(
        (True,) * 3 + (False,) * 12, B.Aggregate([B.Sign(sk, message) for sk in (1, 2, 4)])
    )
    with pytest.raises(BadSignature) as bad_aggregate:
        port.majority_approved(wrong, PKS, message)
    assert str(bad_aggregate.value) == "aggregate approval does not verify"
    sixteen = [B.SkToPk(sk) for sk in range(1, 17)]
    with pytest.raises(TooManyAuthorities) as too_many:
        port.candidate_cache(sixteen)
    assert str(too_many.value) == "16 authorities; BitList<U15> holds 15"
