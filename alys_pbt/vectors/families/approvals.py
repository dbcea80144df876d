"""Federation approval vectors: the threshold, individual approvals, block aggregates, and the
candidate cache fed blocks and approvals in any order.

Expected verdicts come from models/approvals.py (the secure reference: ceil(2n/3) distinct known
authorities whose aggregate verifies, at most 15 authorities) on the IETF BLS reference
(models/bls.py, blst). The node's quirks (alys_pbt/deviations.py) are tagged on the cases they
answer wrongly, and each has a `quirk-<id>` regression case expecting the secure verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import approvals as ref
from alys_pbt.models import bls
from alys_pbt.models.approvals import MAX_VALIDATORS, AggregateApproval, IndividualApproval
from alys_pbt.models.bls import INFINITY_PK, INFINITY_SIG, R
from alys_pbt.strategies.approvals import (
    Keyring,
    aggregate_approvals,
    byzantine_approvals,
    keyrings,
    signing_roots,
)
from alys_pbt.vectors.families.bls import HEX, HEX_LIST, g2_edge, obj
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, from_hex, hex_bytes, sample
from alys_pbt.verdict import verdict

B = bls.backend("blst")
SIGNATURES_RS = "app/src/signatures.rs"
CACHE_RS = "app/src/block_candidate/block_candidate_cache.rs"
PADDED = "approvals-padded-bits-count"
BEYOND = "approvals-authorities-beyond-bitlist"
EARLY = "federation-early-approvals-lost"
REPLACE = "federation-replace-drops-approvals"

APPROVAL = obj(signature=HEX, authority_index={"type": "integer", "minimum": 0})
BITS: dict[str, Json] = {
    "type": "array",
    "items": {"type": "boolean"},
    "minItems": MAX_VALIDATORS,
    "maxItems": MAX_VALIDATORS,
}
NULLABLE_HEX: dict[str, Json] = {"oneOf": [HEX, {"type": "null"}]}


def ring(n: int, first: int = 1) -> Keyring:
    """Authorities with secret keys first..first + n - 1: no subset of them sums to the identity."""
    sks = tuple(range(first, first + n))
    return Keyring(sks, tuple(B.SkToPk(k) for k in sks))


def message_for(*what: object) -> bytes:
    return hashlib.sha256(b"alys-pbt/vectors/approvals/" + "/".join(map(str, what)).encode()).digest()


def sign(keyring: Keyring, index: int, message: bytes) -> IndividualApproval:
    sk = keyring.secret_keys[index]
    assert sk is not None
    return IndividualApproval(B.Sign(sk, message), index)


# --- the threshold ----------------------------------------------------------------------------------
def gen_required_approvals(seed: int, n: int) -> list[Case]:
    drawn = sample(st.integers(1, MAX_VALIDATORS) | st.integers(1, 2**20), seed_value=seed, n=max(n, 1))[:n]
    cases = [
        Case(f"valid-{i:04d}", {"n": k}, Expected.ok(required=ref.required_approvals(k)))
        for i, k in enumerate(drawn)
    ]
    # Every size the bitlist holds, and the formula past it (such a federation is refused elsewhere).
    sizes = [*range(1, MAX_VALIDATORS + 1), 16, 17, 21, 100, 1000]
    return cases + [
        Case(
            f"boundary-n-{k}",
            {"n": k},
            Expected.ok(required=ref.required_approvals(k)),
            note="past 15 the formula is defined; a federation that large is refused elsewhere"
            if k > MAX_VALIDATORS
            else "",
        )
        for k in sizes
    ]


def replay_required_approvals(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"required": int(target.approvals.required_approvals(inputs["n"]))}


# --- individual approvals ---------------------------------------------------------------------------
def individual_case(
    name: str, keyring: Keyring | Sequence[bytes], message: bytes, approval: IndividualApproval, **kw: Any
) -> Case:
    pks = list(keyring.public_keys if isinstance(keyring, Keyring) else keyring)
    got = verdict(lambda: ref.check_individual(approval, pks, message, B))
    return Case(
        name,
        {
            "authorities": [hex_bytes(p) for p in pks],
            "message": hex_bytes(message),
            "approval": {
                "signature": hex_bytes(approval.signature),
                "authority_index": approval.authority_index,
            },
        },
        Expected.ok() if got == "ok" else Expected.raises(got),
        **kw,
    )


def gen_check_individual(seed: int, n: int) -> list[Case]:
    cases = []
    rings = sample(keyrings(B, n=st.integers(1, 7)), seed_value=seed, n=max(n, 1))[:n]
    roots = sample(signing_roots, seed_value=seed + 1, n=max(n, 1))
    for i, (keyring, message) in enumerate(zip(rings, roots, strict=False)):
        cases.append(
            individual_case(f"valid-{i:04d}", keyring, message, sign(keyring, keyring.n - 1, message))
        )
        for kind in ("forged", "other-message", "unknown-index", "index-over-15", "infinity-signature"):
            (drawn,) = sample(byzantine_approvals(keyring, message, B, kind=kind), seed_value=seed + i, n=1)
            cases.append(individual_case(f"valid-{i:04d}-{kind}", keyring, message, drawn[1]))
    keyring, message = ring(4), message_for("individual")
    good = sign(keyring, 3, message)
    cases.append(individual_case("boundary-first-authority", keyring, message, sign(keyring, 0, message)))
    for index in (3, 4, MAX_VALIDATORS - 1, MAX_VALIDATORS, 255, 2**16):
        cases.append(
            individual_case(
                f"boundary-index-{index}-of-4", keyring, message, IndividualApproval(good.signature, index)
            )
        )
    full = ring(MAX_VALIDATORS)
    cases.append(individual_case("boundary-index-14-of-15", full, message, sign(full, 14, message)))
    cases.append(
        individual_case(
            "boundary-index-15-of-15",
            full,
            message,
            IndividualApproval(sign(full, 14, message).signature, 15),
        )
    )
    cases.append(individual_case("boundary-one-authority", ring(1), message, sign(ring(1), 0, message)))
    cases.append(
        individual_case(
            "boundary-index-1-of-1",
            ring(1),
            message,
            IndividualApproval(sign(ring(1), 0, message).signature, 1),
        )
    )
    cases.append(
        individual_case(
            "corruption-another-authoritys-signature", keyring, message, IndividualApproval(good.signature, 0)
        )
    )
    cases.append(
        individual_case("corruption-other-message", keyring, message, sign(keyring, 3, message_for("other")))
    )
    cases.append(
        individual_case(
            "corruption-infinity-signature", keyring, message, IndividualApproval(INFINITY_SIG, 0)
        )
    )
    # An authority configured with the identity key, and the identity signature: the pairing equation
    # holds (both sides are 1); only key validation refuses it.
    with_identity = [INFINITY_PK, *keyring.public_keys[1:]]
    cases.append(
        individual_case(
            "corruption-identity-key-and-signature",
            with_identity,
            message,
            IndividualApproval(INFINITY_SIG, 0),
        )
    )
    for family in (
        "not-in-subgroup",
        "not-on-curve",
        "x-equals-p",
        "too-short",
        "too-long",
        "wrong-c-flag",
        "b-flag-with-nonzero-x",
        "mask-001",
    ):
        cases.append(
            individual_case(
                f"corruption-signature-{family}",
                keyring,
                message,
                IndividualApproval(g2_edge(family, good.signature), 3),
            )
        )
    return cases


def _approval(inputs: Mapping[str, Json]) -> IndividualApproval:
    return IndividualApproval(from_hex(inputs["signature"]), inputs["authority_index"])


def replay_check_individual(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    pks = [from_hex(p) for p in inputs["authorities"]]
    target.approvals.check_individual(_approval(inputs["approval"]), pks, from_hex(inputs["message"]))
    return {}


# --- majority_approved ------------------------------------------------------------------------------
def majority_case(
    name: str,
    authorities: Sequence[bytes],
    message: bytes,
    approval: AggregateApproval,
    quirks: tuple[str, ...] = (),
    **kw: Any,
) -> Case:
    got = verdict(lambda: ref.check_aggregate(approval, list(authorities), message, B))
    if got == "ok":
        expected = Expected.ok(approved=True)
    elif got == "NotEnoughApprovals":  # "not yet": the node's majority_approved answers False
        expected = Expected.ok(approved=False)
    else:
        expected = Expected.raises(got)
    n = len(authorities)
    tags = set(quirks)
    if n > MAX_VALIDATORS:
        tags.add(BEYOND)  # the node takes the federation as configured
        kw.setdefault("origin", "suite-hardening")
        kw.setdefault(
            "source", "models/approvals.py check_federation_size (BitList<U15> cannot count authority 15)"
        )
    elif any(approval.bits[n:]):
        tags.add(PADDED)  # the node counts bits past n and zips them away from the keys
        kw.setdefault("origin", "suite-hardening")
        kw.setdefault("source", "models/approvals.py check_aggregate: a set bit must name an authority")
    return Case(
        name,
        {
            "authorities": [hex_bytes(p) for p in authorities],
            "message": hex_bytes(message),
            "bits": list(approval.bits),
            "signature": None if approval.signature is None else hex_bytes(approval.signature),
        },
        expected,
        quirks=tuple(sorted(tags)),
        **kw,
    )


def aggregate_of(keyring: Keyring, signers: Sequence[int], message: bytes) -> AggregateApproval:
    return AggregateApproval.of([sign(keyring, i, message) for i in signers], B)


def with_bits(approval: AggregateApproval, *indexes: int) -> AggregateApproval:
    bits = list(approval.bits)
    for i in indexes:
        bits[i] = True
    return AggregateApproval(tuple(bits), approval.signature)


def gen_majority_approved(seed: int, n: int) -> list[Case]:
    cases = []
    rings = sample(keyrings(B, n=st.integers(1, 7), cancelling="allowed"), seed_value=seed, n=max(n, 1))[:n]
    roots = sample(signing_roots, seed_value=seed + 1, n=max(n, 1))
    for i, (keyring, message) in enumerate(zip(rings, roots, strict=False)):
        (drawn,) = sample(aggregate_approvals(keyring, message, B), seed_value=seed + i, n=1)
        kind, approval = drawn
        cases.append(majority_case(f"valid-{i:04d}-{kind}", keyring.public_keys, message, approval))
    # At, just below and just above the threshold, at every size up to the bitlist's.
    for size in range(1, MAX_VALIDATORS + 1):
        keyring, message = ring(size), message_for("majority", size)
        need = ref.required_approvals(size)
        for count in (need - 1, need, need + 1):
            if 0 <= count <= size:
                cases.append(
                    majority_case(
                        f"boundary-n-{size}-signers-{count}",
                        keyring.public_keys,
                        message,
                        aggregate_of(keyring, range(count), message),
                    )
                )
        if size < MAX_VALIDATORS:  # a set bit at n, and at n + 1, beside a majority of real signers
            majority = aggregate_of(keyring, range(need), message)
            cases.append(
                majority_case(
                    f"boundary-n-{size}-bit-at-n", keyring.public_keys, message, with_bits(majority, size)
                )
            )
            if size + 1 < MAX_VALIDATORS:
                cases.append(
                    majority_case(
                        f"boundary-n-{size}-bit-at-n-plus-1",
                        keyring.public_keys,
                        message,
                        with_bits(majority, size + 1),
                    )
                )
    # Past the bitlist: 16 authorities are refused (the node takes them: quirk
    # approvals-authorities-beyond-bitlist).
    for size in (16, 17):
        keyring, message = ring(size), message_for("majority", size)
        cases.append(
            majority_case(
                f"boundary-n-{size}",
                keyring.public_keys,
                message,
                aggregate_of(keyring, range(min(ref.required_approvals(size), 15)), message),
            )
        )
    keyring, message = ring(4), message_for("majority-corruptions")
    three = aggregate_of(keyring, [0, 1, 2], message)
    cases += [
        majority_case(
            "corruption-no-signature", keyring.public_keys, message, AggregateApproval(three.bits, None)
        ),
        majority_case(
            "corruption-no-bits-no-signature",
            keyring.public_keys,
            message,
            AggregateApproval((False,) * 15, None),
        ),
        majority_case(
            "corruption-missing-signer",
            keyring.public_keys,
            message,
            with_bits(aggregate_of(keyring, [0, 1], message), 3),
        ),
        majority_case(
            "corruption-wrong-message",
            keyring.public_keys,
            message,
            aggregate_of(keyring, [0, 1, 2], message_for("other")),
        ),
        majority_case("corruption-bit-14", keyring.public_keys, message, with_bits(three, 14)),
        majority_case(
            "corruption-infinity-signature",
            keyring.public_keys,
            message,
            AggregateApproval(three.bits, INFINITY_SIG),
        ),
        majority_case(
            "corruption-signature-not-in-subgroup",
            keyring.public_keys,
            message,
            AggregateApproval(three.bits, g2_edge("not-in-subgroup", three.signature or b"")),
        ),
        majority_case(
            "corruption-signature-too-short",
            keyring.public_keys,
            message,
            AggregateApproval(three.bits, (three.signature or b"")[:95]),
        ),
        # Every authority's key in the aggregate but only the signers' signatures (a verifier that
        # checks against all authorities, or against the signers, must tell them apart).
        majority_case("boundary-all-but-one-signed", keyring.public_keys, message, three),
    ]
    # Keys that sum to the identity: two authorities sk and r - sk approve; their aggregate signature
    # is the identity, which the draft's FastAggregateVerify refuses (KeyValidate of the aggregate key).
    cancelling = Keyring((5, R - 5, 7), tuple(B.SkToPk(k) for k in (5, R - 5, 7)))
    m = message_for("cancelling")
    cases.append(
        majority_case(
            "corruption-signers-keys-sum-to-identity",
            cancelling.public_keys,
            m,
            aggregate_of(cancelling, [0, 1], m),
        )
    )
    cases.append(
        majority_case(
            "boundary-cancelling-pair-and-a-signer",
            cancelling.public_keys,
            m,
            aggregate_of(cancelling, [0, 1, 2], m),
        )
    )
    # Quirk regressions: the shrunk counterexamples.
    three_ring, m = ring(3), message_for("quirk", PADDED)
    cases.append(
        majority_case(
            f"quirk-{PADDED}",
            three_ring.public_keys,
            m,
            with_bits(aggregate_of(three_ring, [0], m), 3),
            note="n = 3: one real signature and one padded bit reach the threshold of 2 on the node",
        )
    )
    sixteen, m = ring(16), message_for("quirk", BEYOND)
    cases.append(
        majority_case(
            f"quirk-{BEYOND}",
            sixteen.public_keys,
            m,
            aggregate_of(sixteen, range(11), m),
            note="16 authorities: the node counts 11 of its first 15 "
            "and approves; the secure rule refuses the federation",
        )
    )
    return cases


def replay_majority_approved(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    signature = inputs["signature"]
    approval = AggregateApproval(tuple(inputs["bits"]), None if signature is None else from_hex(signature))
    pks = [from_hex(p) for p in inputs["authorities"]]
    return {"approved": bool(target.approvals.majority_approved(approval, pks, from_hex(inputs["message"])))}


# --- the candidate cache: blocks and approvals in any order -----------------------------------------
Step = dict[str, Json]


def insert(block_hash: bytes, height: int, slot: int) -> Step:
    return {"insert_block": {"block_hash": hex_bytes(block_hash), "height": height, "slot": slot}}


def approve(block_hash: bytes, approval: IndividualApproval) -> Step:
    return {
        "add_approval": {
            "block_hash": hex_bytes(block_hash),
            "approval": {
                "signature": hex_bytes(approval.signature),
                "authority_index": approval.authority_index,
            },
        }
    }


def expected_run(authorities: Sequence[bytes], steps: Sequence[Step]) -> Expected:
    """The secure reference (models/approvals.py Federation) fed the steps: each step's verdict and
    the blocks accepted after it."""
    try:
        model = ref.Federation(list(authorities), B)
    except ref.TooManyAuthorities:
        return Expected.raises("TooManyAuthorities")
    out = []
    for step in steps:
        if "insert_block" in step:
            s = step["insert_block"]
            got = verdict(lambda: model.propose(from_hex(s["block_hash"]), s["height"]))
        else:
            s = step["add_approval"]
            got = verdict(lambda: model.approve(from_hex(s["block_hash"]), _approval(s["approval"])))
        out.append({"result": got, "accepted": [hex_bytes(h) for h in model.accepted]})
    return Expected.ok(steps=out)


def cache_case(
    name: str, keyring: Keyring, steps: list[Step], quirks: tuple[str, ...] = (), note: str = ""
) -> Case:
    return Case(
        name,
        {"authorities": [hex_bytes(p) for p in keyring.public_keys], "steps": steps},
        expected_run(keyring.public_keys, steps),
        quirks=quirks,
        note=note,
    )


def block(height: int, slot: int, tag: object = "") -> bytes:
    return message_for("block", height, slot, tag)


@st.composite
def cache_runs(draw: st.DrawFn) -> tuple[int, int, list[int], list[int], list[int]]:
    """A federation size, a key offset, the approvers of two competing blocks, and the order in which
    the two blocks and those approvals arrive (as a permutation of the events)."""
    size = draw(st.integers(1, 7), label="authorities")
    nonce = draw(st.integers(0, 2**16), label="key offset")
    signers_a = draw(st.permutations(range(size)), label="approvers of a")[: draw(st.integers(0, size))]
    signers_b = draw(st.permutations(range(size)), label="approvers of b")[: draw(st.integers(0, size))]
    order = draw(st.permutations(range(2 + len(signers_a) + len(signers_b))), label="arrival order")
    return size, nonce, list(signers_a), list(signers_b), list(order)


def gen_candidate_cache(seed: int, n: int) -> list[Case]:
    cases = []
    # Drawn: a federation, two competing blocks at height 1 (the second a higher slot), the honest
    # approvals of both, and the order all of it arrives in. Tags are found by the rule they break:
    # an approval that arrives before its block (early approvals lost), a replacement after which the
    # replaced block's approvals still matter (replace drops approvals).
    for i, (size, nonce, signers_a, signers_b, order) in enumerate(
        sample(cache_runs(), seed_value=seed, n=max(n, 1))[:n]
    ):
        keyring = ring(size, first=1 + nonce)
        a, b = block(1, 1, (seed, i, nonce)), block(1, 2, (seed, i, nonce))
        pool: list[Step] = [insert(a, 1, 1), insert(b, 1, 2)]
        pool += [approve(a, sign(keyring, j, a)) for j in signers_a] + [
            approve(b, sign(keyring, j, b)) for j in signers_b
        ]
        events = [pool[k] for k in order]
        cases.append(cache_case(f"valid-{i:04d}", keyring, events, quirks=_cache_quirks(keyring, events)))
    k4 = ring(4)
    a, b, c = block(1, 1), block(1, 2), block(2, 3)
    equal_slot = block(1, 1, "equivocation")
    cases += [
        cache_case(
            "boundary-block-then-threshold",
            k4,
            [insert(a, 1, 1), *[approve(a, sign(k4, j, a)) for j in range(3)]],
        ),
        cache_case(
            "boundary-one-below-threshold",
            k4,
            [insert(a, 1, 1), *[approve(a, sign(k4, j, a)) for j in range(2)]],
        ),
        cache_case(
            "boundary-every-authority", k4, [insert(a, 1, 1), *[approve(a, sign(k4, j, a)) for j in range(4)]]
        ),
        cache_case(
            "boundary-duplicate-approval",
            k4,
            [
                insert(a, 1, 1),
                approve(a, sign(k4, 0, a)),
                approve(a, sign(k4, 0, a)),
                approve(a, sign(k4, 1, a)),
                approve(a, sign(k4, 1, a)),
            ],
        ),
        cache_case("boundary-one-authority", ring(1), [insert(a, 1, 1), approve(a, sign(ring(1), 0, a))]),
        cache_case(
            "boundary-two-heights",
            k4,
            [
                insert(a, 1, 1),
                *[approve(a, sign(k4, j, a)) for j in range(3)],
                insert(c, 2, 3),
                *[approve(c, sign(k4, j, c)) for j in (3, 2, 1)],
            ],
        ),
        cache_case(
            "boundary-next-height-approved-first",
            k4,
            [
                insert(a, 1, 1),
                insert(c, 2, 3),
                *[approve(c, sign(k4, j, c)) for j in range(3)],
                *[approve(a, sign(k4, j, a)) for j in range(3)],
            ],
        ),
        cache_case(
            "boundary-old-block",
            k4,
            [
                insert(a, 1, 1),
                *[approve(a, sign(k4, j, a)) for j in range(3)],
                insert(b, 1, 2),
                approve(b, sign(k4, 3, b)),
            ],
        ),
        cache_case(
            "boundary-fifteen-authorities",
            ring(15),
            [insert(a, 1, 1), *[approve(a, sign(ring(15), j, a)) for j in range(14, -1, -1)]],
        ),
        cache_case(
            "corruption-byzantine-approvals",
            k4,
            [
                insert(a, 1, 1),
                approve(a, IndividualApproval(B.Sign(99, a), 0)),  # forged
                approve(a, sign(k4, 1, b)),  # another block's signature
                approve(a, IndividualApproval(sign(k4, 2, a).signature, 4)),  # unknown index
                approve(a, IndividualApproval(sign(k4, 2, a).signature, 15)),
                approve(a, IndividualApproval(INFINITY_SIG, 2)),
                approve(a, IndividualApproval(g2_edge("not-in-subgroup", sign(k4, 2, a).signature), 2)),
                approve(a, sign(k4, 0, a)),
                approve(a, sign(k4, 1, a)),
                approve(a, sign(k4, 2, a)),
            ],
        ),
    ]
    # The network's gossip, seen by one cache (issue 16): an approval delivered twice by two paths, an
    # authority approving both blocks at a height, and a second candidate winning its height.
    network_runs = {
        "boundary-duplicate-gossip-then-threshold": [
            insert(a, 1, 1),
            approve(a, sign(k4, 0, a)),
            approve(a, sign(k4, 0, a)),
            approve(a, sign(k4, 1, a)),
            approve(a, sign(k4, 2, a)),
        ],
        "boundary-equivocating-authority": [
            insert(a, 1, 1),
            insert(b, 1, 2),
            approve(a, sign(k4, 0, a)),
            approve(a, sign(k4, 1, a)),
            approve(b, sign(k4, 0, b)),
            approve(a, sign(k4, 2, a)),
        ],
        "boundary-second-candidate-reaches-threshold": [
            insert(a, 1, 1),
            insert(b, 1, 2),
            approve(a, sign(k4, 0, a)),
            *[approve(b, sign(k4, j, b)) for j in (1, 2, 3)],
        ],
        # A competitor at the same height and the same slot (an equivocating slot author): only a
        # higher slot replaces a candidate on the node, so an equal one is refused at the boundary.
        "boundary-equal-slot-competitor-reaches-threshold": [
            insert(a, 1, 1),
            insert(equal_slot, 1, 1),
            *[approve(equal_slot, sign(k4, j, equal_slot)) for j in (0, 1, 2)],
        ],
    }
    for name, events in network_runs.items():
        cases.append(cache_case(name, k4, events, quirks=_cache_quirks(k4, events)))
    # Beyond the bitlist: the cache for 16 authorities is refused.
    sixteen = ring(16)
    cases.append(
        cache_case(
            f"quirk-{BEYOND}",
            sixteen,
            [insert(a, 1, 1), *[approve(a, sign(sixteen, j, a)) for j in range(16)]],
            quirks=(BEYOND,),
        )
    )
    # Early approvals: all three arrive before their block.
    early = [*[approve(a, sign(k4, j, a)) for j in range(3)], insert(a, 1, 1)]
    cases.append(
        cache_case(
            f"quirk-{EARLY}",
            k4,
            early,
            quirks=(EARLY,),
            note="the node parks them under height 0 and loses them",
        )
    )
    # A higher-slot block at the same height arrives between the approvals of the first.
    replaced = [
        insert(a, 1, 1),
        approve(a, sign(k4, 0, a)),
        approve(a, sign(k4, 1, a)),
        insert(b, 1, 2),
        approve(a, sign(k4, 2, a)),
    ]
    cases.append(
        cache_case(
            f"quirk-{REPLACE}",
            k4,
            replaced,
            quirks=(REPLACE,),
            note="the node drops the first block's approvals",
        )
    )
    return cases


def _cache_quirks(keyring: Keyring, steps: Sequence[Step]) -> tuple[str, ...]:
    """The quirks that change what this drawn run accepts: re-run the reference with each quirk's
    rule as alys-rules.md §3.4 states it, and tag the ones whose run differs from the secure one."""
    secure = expected_run(keyring.public_keys, steps)
    tags = []
    for quirk in (EARLY, REPLACE):
        if _quirky_run(keyring.public_keys, steps, {quirk}) != secure.outputs:
            tags.append(quirk)
    if tags and _quirky_run(keyring.public_keys, steps, {EARLY, REPLACE}) == secure.outputs:
        return ()
    if not tags and _quirky_run(keyring.public_keys, steps, {EARLY, REPLACE}) != secure.outputs:
        return (EARLY, REPLACE)
    return tuple(tags)


def _quirky_run(authorities: Sequence[bytes], steps: Sequence[Step], quirks: set[str]) -> dict[str, Json]:
    """The cache as alys-rules.md §3.4 describes the node's (block_candidate_cache.rs): one candidate
    per height, replaced by a higher slot with its approvals (REPLACE), early approvals parked and
    never merged (EARLY). Used only to tag drawn cases; the expected verdicts are the reference's."""
    need = ref.required_approvals(len(authorities))
    final = 0
    heights: dict[bytes, int] = {}
    slots: dict[bytes, int] = {}
    signers: dict[bytes, set[int]] = {}
    queued: dict[bytes, set[int]] = {}
    by_height: dict[int, list[bytes]] = {}
    accepted: list[bytes] = []
    out = []

    def maybe(h: bytes) -> None:
        nonlocal final
        if heights.get(h) == final + 1 and len(signers[h]) >= need:
            accepted.append(h)
            final = heights[h]
            by_height.clear()

    for step in steps:
        result = "ok"
        if "insert_block" in step:
            s = step["insert_block"]
            h, height, slot = from_hex(s["block_hash"]), s["height"], s["slot"]
            at = by_height.setdefault(height, [])
            if height > final and h not in at:
                skip = False
                if REPLACE in quirks and at:
                    if slot <= slots[at[0]]:
                        skip = True
                    else:
                        at.clear()
                if not skip:
                    at.append(h)
                    heights[h], slots[h] = height, slot
                    signers[h] = set() if EARLY in quirks else queued.pop(h, set())
                    maybe(h)
        else:
            s = step["add_approval"]
            h, approval = from_hex(s["block_hash"]), _approval(s["approval"])
            result = verdict(lambda: ref.check_individual(approval, authorities, h, B))
            if result == "ok":
                live = any(h in at for at in by_height.values())
                if live:
                    signers[h].add(approval.authority_index)
                    maybe(h)
                elif EARLY not in quirks:
                    queued.setdefault(h, set()).add(approval.authority_index)
        out.append({"result": result, "accepted": [hex_bytes(h) for h in accepted]})
    return {"steps": out}


def replay_candidate_cache(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    cache = target.approvals.candidate_cache([from_hex(p) for p in inputs["authorities"]])
    out = []
    for step in inputs["steps"]:
        if "insert_block" in step:
            s = step["insert_block"]
            got = verdict(lambda: cache.insert_block(from_hex(s["block_hash"]), s["height"], s["slot"]))
        else:
            s = step["add_approval"]
            got = verdict(lambda: cache.add_approval(from_hex(s["block_hash"]), _approval(s["approval"])))
        out.append({"result": got, "accepted": [hex_bytes(h) for h in cache.accepted]})
    return {"steps": out}


STEP_SCHEMA: dict[str, Json] = {
    "oneOf": [
        obj(
            insert_block=obj(
                block_hash=HEX,
                height={"type": "integer", "minimum": 0},
                slot={"type": "integer", "minimum": 0},
            )
        ),
        obj(add_approval=obj(block_hash=HEX, approval=APPROVAL)),
    ]
}
RULES: tuple[Rule, ...] = (
    Rule(
        "approvals/required-approvals",
        "the approval threshold: ceil(2n/3) of n authorities, (2n + 2) / 3 in integers",
        "node",
        "app/src/chain.rs majority_approved / signatures.rs (alys-rules.md §3.4: (2n + 2) / 3)",
        gen_required_approvals,
        replay=replay_required_approvals,
        component="approvals",
        inputs_schema=obj(n={"type": "integer", "minimum": 1}),
        outputs_schema=obj(required={"type": "integer", "minimum": 1}),
    ),
    Rule(
        "approvals/check-individual",
        "one authority's approval: a known index below n, and a signature that verifies for its key",
        "node",
        f"{SIGNATURES_RS} IndividualApproval::check (index lookup, then BLS Verify)",
        gen_check_individual,
        replay=replay_check_individual,
        component="approvals",
        inputs_schema=obj(authorities=HEX_LIST, message=HEX, approval=APPROVAL),
        outputs_schema=obj(),
    ),
    Rule(
        "approvals/majority-approved",
        "a block's aggregate: no bit past the federation, "
        "ceil(2n/3) signers, FastAggregateVerify of exactly them",
        "node",
        f"app/src/chain.rs majority_approved, {SIGNATURES_RS} AggregateApproval::{{num_approvals, verify}}; "
        "bits past n and federations over 15 refused: suite hardening",
        gen_majority_approved,
        replay=replay_majority_approved,
        component="approvals",
        inputs_schema=obj(authorities=HEX_LIST, message=HEX, bits=BITS, signature=NULLABLE_HEX),
        outputs_schema=obj(approved={"type": "boolean"}),
    ),
    Rule(
        "approvals/candidate-cache",
        "blocks and approvals in any order: the next block is "
        "accepted once ceil(2n/3) distinct authorities approve it",
        "suite-hardening",
        f"{CACHE_RS} (the node loses early approvals and drops approvals on replacement; the secure "
        "acceptance keeps approvals per block hash: models/approvals.py Federation)",
        gen_candidate_cache,
        replay=replay_candidate_cache,
        component="approvals",
        inputs_schema=obj(authorities=HEX_LIST, steps={"type": "array", "items": STEP_SCHEMA}),
        outputs_schema=obj(
            steps={
                "type": "array",
                "items": obj(result={"type": "string"}, accepted=HEX_LIST),
            }
        ),
        stateful=True,
    ),
)

UNREACHABLE: dict[str, str] = {}
UNREACHABLE_QUIRKS: dict[str, str] = {}
