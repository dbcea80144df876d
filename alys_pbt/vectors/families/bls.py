"""BLS vectors: every operation of the IETF proof-of-possession suite, with its edge encodings.

Ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (draft-irtf-cfrg-bls-signature-05), the one
Alys signs with (Lighthouse's `bls` crate on blst). Expected verdicts are the draft's, as the suite's
reference computes them (models/bls.py on blst, draft-exact; tests/test_bls_target.py holds it to the
draft and to py_ecc). Edge inputs follow Ethereum's BLS conformance families (bls-edge-cases.md):
identity points, points off the curve or outside the subgroup, x = p and above, bad compression,
infinity and sign flags, wrong lengths, keys that sum to the identity.

Only Verify and FastAggregateVerify are methods of a target (`approvals.verify`,
`approvals.fast_aggregate_verify`): those rules replay; the others are written for other clients.
A function other than a verification refuses an input it cannot use with `BlsError` (the draft:
"invalid"; a secret key outside [1, r), an undecodable signature, an empty list).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import bls
from alys_pbt.models.bls import INFINITY_PK, INFINITY_SIG, R
from alys_pbt.strategies.approvals import P, keyrings, rogue_key, secret_keys, signing_roots
from alys_pbt.vectors.rule import (
    Case,
    Expected,
    Json,
    Outputs,
    Rule,
    from_hex,
    hex_bytes,
    sample,
    to_json_int,
)

DRAFT = "draft-irtf-cfrg-bls-signature-05"
B = bls.backend("blst")  # the draft-exact reference (models/bls.py): fast enough for every case

# --- JSON Schema fragments ----------------------------------------------------------------------
HEX: dict[str, Json] = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}
HEX_LIST: dict[str, Json] = {"type": "array", "items": HEX}
JSON_INT: dict[str, Json] = {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^-?[0-9]+$"}]}
VALID_OUT: dict[str, Json] = {
    "type": "object",
    "properties": {"valid": {"type": "boolean"}},
    "required": ["valid"],
    "additionalProperties": False,
}


def obj(**properties: Json) -> dict[str, Json]:
    """An exact object schema: these properties, all required, nothing else."""
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


# --- edge encodings -------------------------------------------------------------------------------
G1_FAMILIES = (
    "not-in-subgroup",
    "not-on-curve",
    "x-equals-p",
    "x-above-p",
    "too-short",
    "empty",
    "too-long",
    "uncompressed-form",
    "infinity-without-b-flag",
    "infinity-with-sign-flag",
    "wrong-c-flag",
    "b-flag-with-nonzero-x",
    "b-flag-with-a-flag",
    "mask-111",
    "mask-011",
    "mask-001",
    "sign-flag-flipped",
)
G2_FAMILIES = (
    "not-in-subgroup",
    "not-on-curve",
    "x-equals-p",
    "x-above-p",
    "too-short",
    "empty",
    "too-long",
    "infinity-without-b-flag",
    "infinity-with-sign-flag",
    "wrong-c-flag",
    "b-flag-with-nonzero-x",
    "b-flag-with-a-flag",
    "mask-111",
    "mask-011",
    "mask-001",
)


def _sqrt_fp(a: int) -> int | None:
    """A square root mod p (p = 3 mod 4), or None when `a` is not a square."""
    y = pow(a, (P + 1) // 4, P)
    return y if y * y % P == a % P else None


@functools.cache
def _g1_off_subgroup() -> bytes:
    """A compressed on-curve G1 point outside the subgroup (its order is not r: checked with py_ecc,
    not with the reference that judges it)."""
    from py_ecc.fields import optimized_bls12_381_FQ as FQ
    from py_ecc.optimized_bls12_381.optimized_curve import curve_order, is_inf, multiply

    for x in range(1, 1000):
        y = _sqrt_fp(x**3 + 4)
        if y is None:
            continue
        if not is_inf(multiply((FQ(x), FQ(y), FQ(1)), curve_order)):
            return (x | 0x80 << 376 | (0x20 << 376 if y > P - y else 0)).to_bytes(48, "big")
    raise AssertionError("no on-curve G1 point outside the subgroup below x = 1000")


@functools.cache
def _g1_off_curve() -> bytes:
    x = next(x for x in range(1, 1000) if _sqrt_fp(x**3 + 4) is None)
    return (x | 0x80 << 376).to_bytes(48, "big")


@functools.cache
def _g2_off_subgroup() -> bytes:
    from alys_pbt.strategies.approvals import _non_subgroup_g2

    return _non_subgroup_g2()[0]


def g1_edge(family: str, pk: bytes) -> bytes:
    """A 48-byte compressed public key broken the way `family` says (from the valid `pk`)."""
    body = pk[1:]
    if family == "not-in-subgroup":
        return _g1_off_subgroup()
    if family == "not-on-curve":
        return _g1_off_curve()
    if family in ("x-equals-p", "x-above-p"):
        return (P + (0 if family == "x-equals-p" else 1) | 0x80 << 376).to_bytes(48, "big")
    if family == "too-short":
        return pk[:47]
    if family == "empty":
        return b""
    if family == "too-long":
        return pk + b"\x00"
    if family == "uncompressed-form":
        return _uncompressed_g1(pk)
    if family == "infinity-without-b-flag":
        return bytes([0x80]) + bytes(47)
    if family == "infinity-with-sign-flag":
        return bytes([0xE0]) + bytes(47)
    if family == "wrong-c-flag":
        return bytes([pk[0] & 0x7F]) + body
    if family == "b-flag-with-nonzero-x":
        return bytes([0xC0 | (pk[0] & 0x1F)]) + body
    if family == "b-flag-with-a-flag":
        return bytes([0xE0]) + bytes(47)
    if family == "sign-flag-flipped":  # the other point with this x: valid encoding, another key
        return bytes([pk[0] ^ 0x20]) + body
    top = {"mask-111": 0xE0, "mask-011": 0x60, "mask-001": 0x20}[family]
    return bytes([top | (pk[0] & 0x1F)]) + body


def _uncompressed_g1(pk: bytes) -> bytes:
    """The 96-byte uncompressed serialization (x || y, no flags) of a valid compressed key."""
    x = int.from_bytes(pk, "big") & ((1 << 381) - 1)
    y = _sqrt_fp(x**3 + 4)
    assert y is not None
    if (y > P - y) != bool(pk[0] & 0x20):
        y = P - y
    return x.to_bytes(48, "big") + y.to_bytes(48, "big")


def g2_edge(family: str, sig: bytes) -> bytes:
    """A 96-byte compressed signature broken the way `family` says (strategies/approvals.py's
    malformed_signatures, one per family, deterministic)."""
    body = sig[1:]
    if family == "not-in-subgroup":
        return _g2_off_subgroup()
    if family == "not-on-curve":
        x = hashlib.sha256(sig).digest()
        candidate = bytes([0x80]) + bytes(15) + x + bytes(16) + x
        return candidate
    if family in ("x-equals-p", "x-above-p"):
        c1 = P + (0 if family == "x-equals-p" else 1)
        return (c1 | 0x80 << 376).to_bytes(48, "big") + sig[48:]
    if family == "too-short":
        return sig[:95]
    if family == "empty":
        return b""
    if family == "too-long":
        return sig + b"\x00"
    if family == "infinity-without-b-flag":
        return bytes([0x80]) + bytes(95)
    if family == "infinity-with-sign-flag":
        return bytes([0xE0]) + bytes(95)
    if family == "wrong-c-flag":
        return bytes([sig[0] & 0x7F]) + body
    if family == "b-flag-with-nonzero-x":
        return bytes([0xC0 | (sig[0] & 0x1F)]) + body
    if family == "b-flag-with-a-flag":
        return bytes([0xE0]) + bytes(95)
    top = {"mask-111": 0xE0, "mask-011": 0x60, "mask-001": 0x20}[family]
    return bytes([top | (sig[0] & 0x1F)]) + body


# --- the reference's verdicts -----------------------------------------------------------------------
def outcome(action: Callable[[], Outputs]) -> Expected:
    """The reference's answer as a vector's expected verdict (a refusal by its error's name)."""
    try:
        return Expected.ok(**action())
    except bls.BlsError:
        return Expected.raises("BlsError")


def _valid(op: str, *args: Any) -> Expected:
    return Expected.ok(valid=bool(getattr(B, op)(*args)))


def _draws(seed: int, n: int, tag: str) -> list[tuple[int, int, bytes, bytes]]:
    """n (sk, other sk, message, other message) from the strategies, per rule (tag salts the seed)."""
    salt = int.from_bytes(hashlib.sha256(tag.encode()).digest()[:4], "big")
    strategy = st.tuples(secret_keys, secret_keys, signing_roots, signing_roots).filter(
        lambda t: t[0] != t[1] and t[2] != t[3]
    )
    return sample(strategy, seed_value=seed ^ salt, n=max(n, 1))


# The fixed keys and message of the boundary cases (the draws vary only the valid cases).
SK, OTHER = 0x2A, 0x1234_5678_9ABC_DEF0
MESSAGE = hashlib.sha256(b"alys-pbt/vectors/bls").digest()
OTHER_MESSAGE = hashlib.sha256(b"alys-pbt/vectors/bls/other").digest()


def ietf(section: str) -> str:
    return f"{DRAFT} {section} (POP ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_)"


# --- SkToPk, Sign, PopProve -------------------------------------------------------------------------
SK_BOUNDARIES = {
    "zero-secret-key": 0,
    "one": 1,
    "r-minus-one": R - 1,
    "r": R,
    "r-plus-one": R + 1,
    "two-to-256": 2**256,
}


def gen_sk_to_pk(seed: int, n: int) -> list[Case]:
    cases = [
        Case(f"valid-{i:04d}", {"sk": to_json_int(sk)}, outcome(lambda: {"pk": hex_bytes(B.SkToPk(sk))}))
        for i, (sk, *_) in enumerate(_draws(seed, n, "sk-to-pk")[:n])
    ]
    for what, sk in SK_BOUNDARIES.items():
        cases.append(
            Case(
                f"boundary-{what}",
                {"sk": to_json_int(sk)},
                outcome(lambda: {"pk": hex_bytes(B.SkToPk(sk))}),
            )
        )
    cases.append(Case("boundary-negative", {"sk": -1}, outcome(lambda: {"pk": hex_bytes(B.SkToPk(-1))})))
    return cases


def gen_sign(seed: int, n: int) -> list[Case]:
    cases = [
        Case(
            f"valid-{i:04d}",
            {"sk": to_json_int(sk), "message": hex_bytes(m)},
            outcome(lambda: {"signature": hex_bytes(B.Sign(sk, m))}),
        )
        for i, (sk, _, m, _) in enumerate(_draws(seed, n, "sign")[:n])
    ]
    for what, sk in SK_BOUNDARIES.items():
        cases.append(
            Case(
                f"boundary-{what}",
                {"sk": to_json_int(sk), "message": hex_bytes(MESSAGE)},
                outcome(lambda: {"signature": hex_bytes(B.Sign(sk, MESSAGE))}),
            )
        )
    for what, m in {
        "empty-message": b"",
        "one-byte-message": b"\x00",
        "long-message": bytes(range(256)) * 4,
    }.items():
        cases.append(
            Case(
                f"boundary-{what}",
                {"sk": to_json_int(SK), "message": hex_bytes(m)},
                outcome(lambda: {"signature": hex_bytes(B.Sign(SK, m))}),
            )
        )
    return cases


def gen_pop_prove(seed: int, n: int) -> list[Case]:
    cases = [
        Case(
            f"valid-{i:04d}",
            {"sk": to_json_int(sk)},
            outcome(lambda: {"proof": hex_bytes(B.PopProve(sk))}),
        )
        for i, (sk, *_) in enumerate(_draws(seed, n, "pop-prove")[:n])
    ]
    for what, sk in SK_BOUNDARIES.items():
        cases.append(
            Case(
                f"boundary-{what}",
                {"sk": to_json_int(sk)},
                outcome(lambda: {"proof": hex_bytes(B.PopProve(sk))}),
            )
        )
    return cases


# --- KeyValidate ----------------------------------------------------------------------------------
def gen_key_validate(seed: int, n: int) -> list[Case]:
    cases = [
        Case(f"valid-{i:04d}", {"pk": hex_bytes(B.SkToPk(sk))}, _valid("KeyValidate", B.SkToPk(sk)))
        for i, (sk, *_) in enumerate(_draws(seed, n, "key-validate")[:n])
    ]
    pk = B.SkToPk(SK)
    cases.append(
        Case("boundary-infinity-key", {"pk": hex_bytes(INFINITY_PK)}, _valid("KeyValidate", INFINITY_PK))
    )
    cases.append(
        Case(
            "boundary-generator", {"pk": hex_bytes(bls.G1_GENERATOR)}, _valid("KeyValidate", bls.G1_GENERATOR)
        )
    )
    for family in G1_FAMILIES:
        bad = g1_edge(family, pk)
        cases.append(Case(f"corruption-{family}", {"pk": hex_bytes(bad)}, _valid("KeyValidate", bad)))
    return cases


# --- Verify ---------------------------------------------------------------------------------------
def verify_case(name: str, pk: bytes, message: bytes, signature: bytes, **kw: Any) -> Case:
    return Case(
        name,
        {"pk": hex_bytes(pk), "message": hex_bytes(message), "signature": hex_bytes(signature)},
        _valid("Verify", pk, message, signature),
        **kw,
    )


def gen_verify(seed: int, n: int) -> list[Case]:
    cases = []
    for i, (sk, other, m, m2) in enumerate(_draws(seed, n, "verify")[:n]):
        pk, sig = B.SkToPk(sk), B.Sign(sk, m)
        cases.append(verify_case(f"valid-{i:04d}", pk, m, sig))
        cases.append(verify_case(f"valid-{i:04d}-tampered", pk, m, B.Sign(sk, m2)))
        cases.append(verify_case(f"valid-{i:04d}-wrong-key", B.SkToPk(other), m, sig))
    pk, sig = B.SkToPk(SK), B.Sign(SK, MESSAGE)
    cases += [
        verify_case("boundary-verify-valid", pk, MESSAGE, sig),
        verify_case("boundary-verify-tampered", pk, MESSAGE, B.Sign(SK, OTHER_MESSAGE)),
        verify_case("boundary-verify-wrong-key", B.SkToPk(OTHER), MESSAGE, sig),
        verify_case("boundary-verify-infinity-key-and-signature", INFINITY_PK, MESSAGE, INFINITY_SIG),
        verify_case("boundary-infinity-signature", pk, MESSAGE, INFINITY_SIG),
        verify_case("boundary-infinity-key", INFINITY_PK, MESSAGE, sig),
        verify_case("boundary-empty-message", pk, b"", B.Sign(SK, b"")),
        verify_case("boundary-long-message", pk, bytes(1024), B.Sign(SK, bytes(1024))),
        verify_case("boundary-message-one-byte-longer", pk, MESSAGE + b"\x00", sig),
        # The proof of possession is a signature over the key under another DST: never a message signature.
        verify_case("boundary-pop-as-signature-over-the-key", pk, pk, B.PopProve(SK)),
        # Signed under the basic scheme's DST (..._NUL_): another suite's signature.
        verify_case(
            "boundary-signature-under-the-basic-dst",
            pk,
            MESSAGE,
            _sign_with_dst(SK, MESSAGE, b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"),
        ),
    ]
    for family in G2_FAMILIES:
        cases.append(verify_case(f"corruption-signature-{family}", pk, MESSAGE, g2_edge(family, sig)))
    for family in G1_FAMILIES:
        cases.append(verify_case(f"corruption-key-{family}", g1_edge(family, pk), MESSAGE, sig))
    return cases


def _sign_with_dst(sk: int, message: bytes, dst: bytes) -> bytes:
    import pyblst

    return bytes(pyblst.BlstP2Element.hash_to_group(message, dst).scalar_mul(sk).compress())


def replay_verify(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {
        "valid": bool(
            target.approvals.verify(
                from_hex(inputs["pk"]), from_hex(inputs["message"]), from_hex(inputs["signature"])
            )
        )
    }


# --- Aggregate ------------------------------------------------------------------------------------
def aggregate_case(name: str, signatures: Sequence[bytes]) -> Case:
    return Case(
        name,
        {"signatures": [hex_bytes(s) for s in signatures]},
        outcome(lambda: {"signature": hex_bytes(B.Aggregate(list(signatures)))}),
    )


def gen_aggregate(seed: int, n: int) -> list[Case]:
    cases = []
    for i, (sk, other, m, m2) in enumerate(_draws(seed, n, "aggregate")[:n]):
        cases.append(aggregate_case(f"valid-{i:04d}", [B.Sign(sk, m), B.Sign(other, m), B.Sign(sk, m2)]))
    sig = B.Sign(SK, MESSAGE)
    cases += [
        aggregate_case("boundary-aggregate-single", [sig]),
        aggregate_case("boundary-aggregate-empty", []),
        aggregate_case("boundary-infinity-signature", [INFINITY_SIG]),
        aggregate_case("boundary-with-infinity-signature", [sig, INFINITY_SIG]),
        aggregate_case("boundary-same-signature-twice", [sig, sig]),
        aggregate_case("boundary-signatures-that-cancel", [B.Sign(SK, MESSAGE), B.Sign(R - SK, MESSAGE)]),
        aggregate_case("boundary-fifteen-signatures", [B.Sign(k, MESSAGE) for k in range(1, 16)]),
        aggregate_case("boundary-aggregate-outside-subgroup", [g2_edge("not-in-subgroup", sig)]),
    ]
    for family in G2_FAMILIES:
        cases.append(aggregate_case(f"corruption-{family}", [sig, g2_edge(family, sig)]))
    return cases


# --- FastAggregateVerify --------------------------------------------------------------------------
def fav_case(name: str, pks: Sequence[bytes], message: bytes, signature: bytes, **kw: Any) -> Case:
    return Case(
        name,
        {
            "pks": [hex_bytes(p) for p in pks],
            "message": hex_bytes(message),
            "signature": hex_bytes(signature),
        },
        _valid("FastAggregateVerify", list(pks), message, signature),
        **kw,
    )


def _agg(sks: Sequence[int], message: bytes) -> bytes:
    return B.Aggregate([B.Sign(k, message) for k in sks])


def gen_fast_aggregate_verify(seed: int, n: int) -> list[Case]:
    cases = []
    rings = sample(keyrings(B, n=st.integers(1, 7), cancelling="allowed"), seed_value=seed, n=max(n, 1))[:n]
    for i, (ring, (_, _, m, m2)) in enumerate(
        zip(rings, _draws(seed, n, "fast-aggregate-verify"), strict=False)
    ):
        sks = [k for k in ring.secret_keys if k is not None]
        cases.append(fav_case(f"valid-{i:04d}", ring.public_keys, m, _agg(sks, m)))
        cases.append(fav_case(f"valid-{i:04d}-other-message", ring.public_keys, m2, _agg(sks, m)))
        if len(sks) > 1:
            cases.append(fav_case(f"valid-{i:04d}-missing-signer", ring.public_keys, m, _agg(sks[1:], m)))
    pk, other = B.SkToPk(SK), B.SkToPk(OTHER)
    sig = B.Sign(SK, MESSAGE)
    both = _agg([SK, OTHER], MESSAGE)
    cases += [
        fav_case("boundary-fast-aggregate-valid", [pk, other], MESSAGE, both),
        fav_case("boundary-single-key", [pk], MESSAGE, sig),
        fav_case("boundary-fast-aggregate-extra-key", [pk, other], MESSAGE, sig),
        fav_case("boundary-keys-in-other-order", [other, pk], MESSAGE, both),
        fav_case("boundary-key-repeated", [pk, pk], MESSAGE, _agg([SK, SK], MESSAGE)),
        fav_case("boundary-key-repeated-signed-once", [pk, pk], MESSAGE, sig),
        fav_case("boundary-fast-aggregate-no-keys", [], MESSAGE, INFINITY_SIG),
        fav_case("boundary-no-keys-valid-signature", [], MESSAGE, sig),
        fav_case("boundary-fast-aggregate-with-infinity-key", [pk, INFINITY_PK], MESSAGE, sig),
        fav_case("boundary-only-the-infinity-key", [INFINITY_PK], MESSAGE, INFINITY_SIG),
        fav_case("boundary-infinity-signature", [pk, other], MESSAGE, INFINITY_SIG),
        # sk and r - sk: each key valid, their sum the identity, their aggregate signature the identity.
        fav_case(
            "boundary-fast-aggregate-keys-sum-to-identity",
            [pk, B.SkToPk(R - SK)],
            MESSAGE,
            _agg([SK, R - SK], MESSAGE),
        ),
        fav_case(
            "boundary-fast-aggregate-cancelling-pair-and-a-signer",
            [pk, B.SkToPk(R - SK), other],
            MESSAGE,
            _agg([SK, R - SK, OTHER], MESSAGE),
        ),
        fav_case("boundary-rogue-key-aggregate", [other, rogue_key([other], SK, B)], MESSAGE, sig),
        fav_case(
            "boundary-fifteen-keys", [B.SkToPk(k) for k in range(1, 16)], MESSAGE, _agg(range(1, 16), MESSAGE)
        ),
    ]
    for family in G2_FAMILIES:
        cases.append(fav_case(f"corruption-signature-{family}", [pk, other], MESSAGE, g2_edge(family, both)))
    for family in G1_FAMILIES:
        cases.append(fav_case(f"corruption-key-{family}", [g1_edge(family, pk), other], MESSAGE, both))
    return cases


def replay_fast_aggregate_verify(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    pks = [from_hex(p) for p in inputs["pks"]]
    return {
        "valid": bool(
            target.approvals.fast_aggregate_verify(
                pks, from_hex(inputs["message"]), from_hex(inputs["signature"])
            )
        )
    }


# --- FastAggregateVerify asked again: a memo must answer as the computation would ------------------
REUSES = ("again", "other-message", "other-keys", "other-signature")


def gen_fast_aggregate_verify_again(seed: int, n: int) -> list[Case]:
    """Sequences of questions to one verifier: each a valid triple, then the same one again, and with
    its message, keys or signature taken from another triple (a memo keyed without one of them answers
    the first triple's True). Messages are fresh per case, so no earlier case can have answered one."""
    cases = []
    for c in range(max(n, 1)):
        messages = [
            hashlib.sha256(b"alys-pbt/vectors/bls/again/%d/%d/%d" % (seed, c, i)).digest() for i in range(2)
        ]
        signer_sets = [[SK], [OTHER], [SK, OTHER]]
        valid = [([B.SkToPk(k) for k in s], m, _agg(s, m)) for s in signer_sets for m in messages]
        questions = []
        for start in range(len(valid)):
            other = (start + 1 + c) % len(valid)
            for reuse in REUSES:
                pks, message, signature = valid[start]
                if reuse == "other-message":
                    message = (
                        valid[other][1] if valid[other][1] != message else valid[(other + 1) % len(valid)][1]
                    )
                elif reuse == "other-keys":
                    pks = valid[other][0] if valid[other][0] != pks else valid[(other + 2) % len(valid)][0]
                elif reuse == "other-signature":
                    signature = valid[other][2]
                questions.append((pks, message, signature))
        steps = [
            {"pks": [hex_bytes(p) for p in q[0]], "message": hex_bytes(q[1]), "signature": hex_bytes(q[2])}
            for q in questions
        ]
        answers = [bool(B.FastAggregateVerify(*q)) for q in questions]
        cases.append(Case(f"valid-{c:04d}", {"steps": steps}, Expected.ok(valid=answers)))
    return cases


def replay_fast_aggregate_verify_again(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"valid": [replay_fast_aggregate_verify(target, step)["valid"] for step in inputs["steps"]]}


# --- AggregateVerify ------------------------------------------------------------------------------
def av_case(name: str, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> Case:
    return Case(
        name,
        {
            "pks": [hex_bytes(p) for p in pks],
            "messages": [hex_bytes(m) for m in messages],
            "signature": hex_bytes(signature),
        },
        _valid("AggregateVerify", list(pks), list(messages), signature),
    )


def gen_aggregate_verify(seed: int, n: int) -> list[Case]:
    cases = []
    for i, (sk, other_sk, m, m2) in enumerate(_draws(seed, n, "aggregate-verify")[:n]):
        pks, sig = [B.SkToPk(sk), B.SkToPk(other_sk)], B.Aggregate([B.Sign(sk, m), B.Sign(other_sk, m2)])
        cases.append(av_case(f"valid-{i:04d}", pks, [m, m2], sig))
        cases.append(av_case(f"valid-{i:04d}-messages-swapped", pks, [m2, m], sig))
    pk, other = B.SkToPk(SK), B.SkToPk(OTHER)
    sig = B.Aggregate([B.Sign(SK, MESSAGE), B.Sign(OTHER, OTHER_MESSAGE)])
    cases += [
        av_case("boundary-aggregate-verify-valid", [pk, other], [MESSAGE, OTHER_MESSAGE], sig),
        av_case(
            "boundary-aggregate-verify-duplicate-messages",
            [pk, other],
            [MESSAGE, MESSAGE],
            _agg([SK, OTHER], MESSAGE),
        ),
        av_case("boundary-aggregate-verify-empty", [], [], INFINITY_SIG),
        av_case("boundary-single-pair", [pk], [MESSAGE], B.Sign(SK, MESSAGE)),
        av_case("boundary-fewer-messages-than-keys", [pk, other], [MESSAGE], sig),
        av_case("boundary-more-messages-than-keys", [pk], [MESSAGE, OTHER_MESSAGE], sig),
        av_case(
            "boundary-with-infinity-key", [pk, INFINITY_PK], [MESSAGE, OTHER_MESSAGE], B.Sign(SK, MESSAGE)
        ),
        av_case("boundary-infinity-signature", [pk, other], [MESSAGE, OTHER_MESSAGE], INFINITY_SIG),
        av_case(
            "boundary-keys-sum-to-identity-same-message",
            [pk, B.SkToPk(R - SK)],
            [MESSAGE, MESSAGE],
            INFINITY_SIG,
        ),
    ]
    for family in G2_FAMILIES:
        cases.append(
            av_case(
                f"corruption-signature-{family}", [pk, other], [MESSAGE, OTHER_MESSAGE], g2_edge(family, sig)
            )
        )
    for family in G1_FAMILIES:
        cases.append(
            av_case(f"corruption-key-{family}", [g1_edge(family, pk), other], [MESSAGE, OTHER_MESSAGE], sig)
        )
    return cases


# --- PopVerify ------------------------------------------------------------------------------------
def pop_case(name: str, pk: bytes, proof: bytes) -> Case:
    return Case(name, {"pk": hex_bytes(pk), "proof": hex_bytes(proof)}, _valid("PopVerify", pk, proof))


def gen_pop_verify(seed: int, n: int) -> list[Case]:
    cases = []
    for i, (sk, other_sk, _, _) in enumerate(_draws(seed, n, "pop-verify")[:n]):
        cases.append(pop_case(f"valid-{i:04d}", B.SkToPk(sk), B.PopProve(sk)))
        cases.append(pop_case(f"valid-{i:04d}-other-key", B.SkToPk(other_sk), B.PopProve(sk)))
    pk, other = B.SkToPk(SK), B.SkToPk(OTHER)
    proof = B.PopProve(SK)
    cases += [
        pop_case("boundary-valid", pk, proof),
        pop_case("boundary-pop-of-rogue-key", rogue_key([other], SK, B), proof),
        pop_case("boundary-infinity-key-and-proof", INFINITY_PK, INFINITY_SIG),
        pop_case("boundary-infinity-proof", pk, INFINITY_SIG),
        # A message signature over the key bytes (the signing DST): not a proof of possession.
        pop_case("boundary-signature-over-the-key-not-a-proof", pk, B.Sign(SK, pk)),
    ]
    for family in G2_FAMILIES:
        cases.append(pop_case(f"corruption-proof-{family}", pk, g2_edge(family, proof)))
    for family in G1_FAMILIES:
        cases.append(pop_case(f"corruption-key-{family}", g1_edge(family, pk), proof))
    return cases


SK_SCHEMA = obj(sk=JSON_INT)
RULES: tuple[Rule, ...] = (
    Rule(
        "bls/sk-to-pk",
        "SkToPk: the compressed G1 public key of a secret key in [1, r); any other key is refused",
        "ietf",
        ietf("§2.4 SkToPk"),
        gen_sk_to_pk,
        inputs_schema=SK_SCHEMA,
        outputs_schema=obj(pk=HEX),
    ),
    Rule(
        "bls/key-validate",
        "KeyValidate: a 48-byte compressed encoding of a G1 subgroup point other than the identity",
        "ietf",
        ietf("§2.5 KeyValidate; point encoding per draft-irtf-cfrg-pairing-friendly-curves-09 Appendix C"),
        gen_key_validate,
        inputs_schema=obj(pk=HEX),
        outputs_schema=VALID_OUT,
    ),
    Rule(
        "bls/sign",
        "Sign: the compressed G2 signature of a message under the POP suite's DST",
        "ietf",
        ietf("§2.6 Sign, §4.2.3 ciphersuite"),
        gen_sign,
        inputs_schema=obj(sk=JSON_INT, message=HEX),
        outputs_schema=obj(signature=HEX),
    ),
    Rule(
        "bls/verify",
        "Verify: VALID only for a valid key, a canonical G2 subgroup signature and the signed message",
        "ietf",
        ietf("§2.7 Verify / CoreVerify") + "; node: app/src/signatures.rs via Lighthouse crypto/bls (blst)",
        gen_verify,
        replay=replay_verify,
        component="approvals",
        inputs_schema=obj(pk=HEX, message=HEX, signature=HEX),
        outputs_schema=VALID_OUT,
    ),
    Rule(
        "bls/aggregate",
        "Aggregate: the sum of one or more valid G2 signatures; an empty list or a bad encoding is refused",
        "ietf",
        ietf("§2.8 Aggregate"),
        gen_aggregate,
        inputs_schema=obj(signatures=HEX_LIST),
        outputs_schema=obj(signature=HEX),
    ),
    Rule(
        "bls/fast-aggregate-verify",
        "FastAggregateVerify: one message, n >= 1 valid keys whose sum is not the identity, one aggregate",
        "ietf",
        ietf("§3.3.4 FastAggregateVerify (CoreVerify's KeyValidate of the aggregate key)")
        + "; node: app/src/signatures.rs AggregateApproval::verify (blst fast_aggregate_verify)",
        gen_fast_aggregate_verify,
        replay=replay_fast_aggregate_verify,
        component="approvals",
        inputs_schema=obj(pks=HEX_LIST, message=HEX, signature=HEX),
        outputs_schema=VALID_OUT,
    ),
    Rule(
        "bls/fast-aggregate-verify-again",
        "FastAggregateVerify asked again and again: each "
        "answer is the computation's, whatever was asked before",
        "suite-hardening",
        "suite hardening: a verification memo is a pure function's cache (alys/bls.py LighthouseBls memo; "
        + ietf("§3.3.4")
        + ")",
        gen_fast_aggregate_verify_again,
        replay=replay_fast_aggregate_verify_again,
        component="approvals",
        inputs_schema=obj(steps={"type": "array", "items": obj(pks=HEX_LIST, message=HEX, signature=HEX)}),
        outputs_schema=obj(valid={"type": "array", "items": {"type": "boolean"}}),
        stateful=True,
    ),
    Rule(
        "bls/aggregate-verify",
        "AggregateVerify: one key per message (repeats allowed in the POP suite), one aggregate signature",
        "ietf",
        ietf("§2.9 AggregateVerify, §3.3 (POP: messages need not be distinct)"),
        gen_aggregate_verify,
        inputs_schema=obj(pks=HEX_LIST, messages=HEX_LIST, signature=HEX),
        outputs_schema=VALID_OUT,
    ),
    Rule(
        "bls/pop-prove",
        "PopProve: the key's signature over its own encoding under the POP DST",
        "ietf",
        ietf("§3.3.2 PopProve"),
        gen_pop_prove,
        inputs_schema=SK_SCHEMA,
        outputs_schema=obj(proof=HEX),
    ),
    Rule(
        "bls/pop-verify",
        "PopVerify: a valid key and a proof under the POP DST over that key's encoding",
        "ietf",
        ietf("§3.3.3 PopVerify"),
        gen_pop_verify,
        inputs_schema=obj(pk=HEX, proof=HEX),
        outputs_schema=VALID_OUT,
    ),
)

# Seeded mutants of this family's area that no BLS vector can reach (none: each is caught here or by
# the approvals family; see tests/test_vectors_approvals.py).
UNREACHABLE: dict[str, str] = {}
UNREACHABLE_QUIRKS: dict[str, str] = {}
