"""Strategies for the BLS federation: keyrings, signed proposals, honest and Byzantine approvals.

Signatures are real (the chosen backend signs; signing is memoized per key and message). Byzantine
kinds, each with what a correct node does with it:

* `forged`: a valid G2 signature by another key, claimed for this index: InvalidSignature;
* `other-message`: this authority's signature over another block: InvalidSignature;
* `duplicate`: an honest approval delivered again: no effect;
* `unknown-index`: an index in n..14 (inside the 15-bit list): UnknownAuthority;
* `index-over-15`: an index in 15..255: UnknownAuthority;
* `malformed`: a signature from the deserialization families of Ethereum's BLS conformance suite
  (bls-edge-cases.md): InvalidSignature;
* `infinity-signature`: the identity signature: InvalidSignature;
* `byzantine-signer`: a Byzantine authority's valid signature over any block: counted (it is one);
* plus two keyring-level kinds: an `infinity-key` authority, and a `rogue-key` registered without
  proof of possession (pk_rogue = pk_attacker - sum of the others).

`keyrings(cancelling=...)` also decides whether some authorities' keys may sum to the identity
(each key valid, their joint aggregate the identity, which the draft's FastAggregateVerify refuses):
never by default, when allowed, or always (a planted pair sk, r - sk).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Literal, get_args

from attrs import frozen
from hypothesis import strategies as st

from alys_pbt.models.approvals import MAX_VALIDATORS, AggregateApproval, IndividualApproval
from alys_pbt.models.bls import INFINITY_PK, INFINITY_SIG, R, Backend

P = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
ByzantineKind = Literal[
    "forged",
    "other-message",
    "duplicate",
    "unknown-index",
    "index-over-15",
    "malformed",
    "infinity-signature",
    "byzantine-signer",
]
BYZANTINE_KINDS: tuple[ByzantineKind, ...] = get_args(ByzantineKind)
EXPECTED: dict[ByzantineKind, str] = {
    "forged": "InvalidSignature",
    "other-message": "InvalidSignature",
    "duplicate": "ok",
    "unknown-index": "UnknownAuthority",
    "index-over-15": "UnknownAuthority",
    "malformed": "InvalidSignature",
    "infinity-signature": "InvalidSignature",
    "byzantine-signer": "ok",
}

secret_keys = st.integers(1, R - 1)
signing_roots = st.binary(min_size=32, max_size=32)


@frozen
class Keyring:
    """A federation: secret keys (None where the key is not ours to sign with) and public keys."""

    secret_keys: tuple[int | None, ...]
    public_keys: tuple[bytes, ...]

    @property
    def n(self) -> int:
        return len(self.public_keys)


Cancelling = Literal["never", "allowed", "always"]


def cancelling_subset(sks: Sequence[int | None]) -> bool:
    """Whether some non-empty subset of the secret keys sums to 0 mod r: its public keys then sum to
    the identity, so its aggregate signature is the identity, which FastAggregateVerify refuses
    (KeyValidate of the aggregate key in CoreVerify, draft-irtf-cfrg-bls-signature-05 §2.7)."""
    sums: set[int] = set()
    for sk in (k for k in sks if k is not None):
        reached = {(s + sk) % R for s in sums} | {sk % R}
        if 0 in reached:
            return True
        sums |= reached
    return False


@st.composite
def keyrings(
    draw: st.DrawFn,
    bls: Backend,
    *,
    n: int | st.SearchStrategy[int] | None = None,
    cancelling: Cancelling = "never",
) -> Keyring:
    """1-15 authorities with distinct secret keys drawn as integers in [1, r).

    `cancelling`: whether some authorities' keys may sum to the identity (e.g. 1 and r - 1, which
    integers(1, r - 1) likes to draw). "never" (default): a federation whose every honest majority
    can approve a block, as the chain and sync builders need; "allowed": whatever is drawn;
    "always": a pair (sk, r - sk) is planted (n >= 2), for the BLS and approvals properties.
    """
    size = draw(
        st.integers(1, MAX_VALIDATORS) if n is None else n if isinstance(n, st.SearchStrategy) else st.just(n)
    )
    if cancelling == "always":
        if size < 2:
            raise ValueError(f"a cancelling pair needs two authorities, not {size}")
        sk = draw(secret_keys, label="cancelling key")
        others = draw(
            st.lists(
                secret_keys.filter(lambda k: k not in (sk, R - sk)),
                min_size=size - 2,
                max_size=size - 2,
                unique=True,
            )
        )
        for key in (sk, R - sk):
            others.insert(draw(st.integers(0, len(others)), label="position"), key)
        sks = others
    else:
        keys = st.lists(secret_keys, min_size=size, max_size=size, unique=True)
        sks = draw(keys if cancelling == "allowed" else keys.filter(lambda ks: not cancelling_subset(ks)))
    return Keyring(tuple(sks), tuple(bls.SkToPk(sk) for sk in sks))


def with_infinity_key(keyring: Keyring, index: int) -> Keyring:
    """The keyring with authority `index` configured with the identity public key."""
    pks = list(keyring.public_keys)
    pks[index] = INFINITY_PK
    sks = list(keyring.secret_keys)
    sks[index] = None
    return Keyring(tuple(sks), tuple(pks))


def rogue_key(others: Sequence[bytes], attacker_sk: int, bls: Backend) -> bytes:
    """pk_attacker - sum(others): a key whose owner can sign for the whole set alone (no PoP)."""
    import pyblst

    total = pyblst.BlstP1Element.uncompress(bls.SkToPk(attacker_sk))
    for pk in others:
        total = total + -pyblst.BlstP1Element.uncompress(pk)
    return total.compress()


@functools.cache
def _non_subgroup_g2() -> tuple[bytes, ...]:
    # On-curve G2 points outside the subgroup: x = (1, x0) for small x0 (found with py_ecc).
    from py_ecc.bls.point_compression import decompress_G2
    from py_ecc.optimized_bls12_381 import curve_order, is_inf, multiply

    found = []
    z1 = (0x80 << 376) | 1
    for x0 in range(1, 64):
        try:
            point = decompress_G2((z1, x0))
        except (ValueError, AssertionError):
            continue
        if not is_inf(multiply(point, curve_order)):
            found.append(z1.to_bytes(48, "big") + x0.to_bytes(48, "big"))
        if len(found) == 3:
            break
    return tuple(found)


@st.composite
def malformed_signatures(draw: st.DrawFn, valid: bytes) -> bytes:
    """G2 encodings from the conformance suite's deserialization families, derived from `valid`."""
    family = draw(
        st.sampled_from(
            [
                "not-in-subgroup",
                "not-on-curve",
                "x-equals-p",
                "x-above-p",
                "too-short",
                "too-long",
                "infinity-without-b-flag",
                "wrong-c-flag",
                "b-flag-with-nonzero-x",
                "b-flag-with-a-flag",
                "mask-111",
                "mask-011",
                "mask-001",
            ]
        ),
        label="family",
    )
    body = valid[1:]
    if family == "not-in-subgroup":
        return draw(st.sampled_from(_non_subgroup_g2()))
    if family == "not-on-curve":
        x = hashlib.sha256(valid).digest()
        return bytes([0x80]) + bytes(15) + x + bytes(16) + x  # x = (c1, c0) rarely on the curve
    if family in ("x-equals-p", "x-above-p"):
        c1 = P + (0 if family == "x-equals-p" else draw(st.integers(1, 2**381 - 1 - P)))
        return (c1 | 0x80 << 376).to_bytes(48, "big") + valid[48:]
    if family == "too-short":
        return valid[: draw(st.integers(0, 95))]
    if family == "too-long":
        return valid + draw(st.binary(min_size=1, max_size=4))
    if family == "infinity-without-b-flag":
        return bytes([0x80]) + bytes(95)
    if family == "wrong-c-flag":
        return bytes([valid[0] & 0x7F]) + body
    if family == "b-flag-with-nonzero-x":
        return bytes([0xC0]) + body
    if family == "b-flag-with-a-flag":
        return bytes([0xE0]) + bytes(95)
    top = {"mask-111": 0xE0, "mask-011": 0x60, "mask-001": 0x20}[family]
    return bytes([top | (valid[0] & 0x1F)]) + body


@st.composite
def byzantine_approvals(
    draw: st.DrawFn,
    keyring: Keyring,
    message: bytes,
    bls: Backend,
    *,
    kind: ByzantineKind | None = None,
    byzantine: Sequence[int] = (),
    honest_of: IndividualApproval | None = None,
) -> tuple[ByzantineKind, IndividualApproval]:
    """One Byzantine approval of `message` and its kind (EXPECTED says what a node must do)."""
    kinds = [
        k
        for k in BYZANTINE_KINDS
        if (k != "byzantine-signer" or byzantine) and (k != "duplicate" or honest_of)
    ]
    k: ByzantineKind = kind or draw(st.sampled_from(kinds), label="kind")
    signers = [i for i, sk in enumerate(keyring.secret_keys) if sk is not None]
    index = draw(st.sampled_from(signers), label="index") if signers else 0
    sk = keyring.secret_keys[index] or 1
    if k == "forged":
        other = draw(secret_keys.filter(lambda s: s != sk))
        return k, IndividualApproval(bls.Sign(other, message), index)
    if k == "other-message":
        other_message = draw(signing_roots.filter(lambda m: m != message))
        return k, IndividualApproval(bls.Sign(sk, other_message), index)
    if k == "duplicate":
        assert honest_of is not None
        return k, honest_of
    if k == "unknown-index":
        fake = draw(st.integers(keyring.n, MAX_VALIDATORS - 1)) if keyring.n < MAX_VALIDATORS else 15
        return k, IndividualApproval(bls.Sign(sk, message), fake)
    if k == "index-over-15":
        return k, IndividualApproval(bls.Sign(sk, message), draw(st.integers(MAX_VALIDATORS, 255)))
    if k == "malformed":
        return k, IndividualApproval(draw(malformed_signatures(bls.Sign(sk, message))), index)
    if k == "infinity-signature":  # any authority, including one configured with the identity key
        return k, IndividualApproval(INFINITY_SIG, draw(st.integers(0, keyring.n - 1), label="index"))
    b = draw(st.sampled_from(list(byzantine)), label="byzantine authority")
    return k, IndividualApproval(bls.Sign(keyring.secret_keys[b] or 1, message), b)


def honest_approval(keyring: Keyring, index: int, message: bytes, bls: Backend) -> IndividualApproval:
    sk = keyring.secret_keys[index]
    assert sk is not None, "no secret key for this authority"
    return IndividualApproval(bls.Sign(sk, message), index)


@st.composite
def signed_proposals(
    draw: st.DrawFn, keyring: Keyring, bls: Backend, *, signers: Sequence[int] | None = None
) -> tuple[bytes, list[IndividualApproval]]:
    """A block signing root and approvals of it by `signers` (default: a drawn subset)."""
    message = draw(signing_roots, label="signing root")
    ours = [i for i, sk in enumerate(keyring.secret_keys) if sk is not None]
    chosen = (
        list(signers)
        if signers is not None
        else draw(st.lists(st.sampled_from(ours), unique=True), label="signers")
    )
    return message, [honest_approval(keyring, i, message, bls) for i in chosen]


@st.composite
def approvals(
    draw: st.DrawFn,
    keyring: Keyring,
    message: bytes,
    bls: Backend,
    *,
    honest: int | None = None,
    byzantine: int | None = None,
    byzantine_authorities: Sequence[int] = (),
) -> list[tuple[str, IndividualApproval]]:
    """A shuffled mix of `honest` honest approvals and `byzantine` Byzantine ones, with kinds."""
    ours = [
        i for i, sk in enumerate(keyring.secret_keys) if sk is not None and i not in byzantine_authorities
    ]
    n_honest = draw(st.integers(0, len(ours))) if honest is None else honest
    mix: list[tuple[str, IndividualApproval]] = [
        ("honest", honest_approval(keyring, i, message, bls)) for i in draw(st.permutations(ours))[:n_honest]
    ]
    for _ in range(draw(st.integers(0, 4)) if byzantine is None else byzantine):
        mix.append(
            draw(
                byzantine_approvals(
                    keyring,
                    message,
                    bls,
                    byzantine=byzantine_authorities,
                    honest_of=mix[0][1] if mix else None,
                )
            )
        )
    return draw(st.permutations(mix))


AggregateKind = Literal[
    "honest", "padded", "short", "wrong-message", "unknown-bit", "missing-signer", "empty"
]


@st.composite
def aggregate_approvals(
    draw: st.DrawFn, keyring: Keyring, message: bytes, bls: Backend
) -> tuple[AggregateKind, AggregateApproval]:
    """A block's AggregateApproval as a producer might send it, honest or not.

    `padded` sets bits at index >= n (the producer's padding), `short` has fewer signers than the
    threshold, `missing-signer` sets a bit whose authority did not sign, `unknown-bit` sets a bit
    >= n with a valid aggregate of the others, `empty` has no signature.
    """
    n = keyring.n
    kinds = ["honest", "padded", "short", "wrong-message", "unknown-bit", "missing-signer", "empty"]
    if n == MAX_VALIDATORS:
        kinds = [k for k in kinds if k not in ("padded", "unknown-bit")]  # no bit above 14 to set
    kind: AggregateKind = draw(st.sampled_from(kinds), label="aggregate kind")
    need = (2 * n + 2) // 3
    # Honest producers gather between the threshold and everyone; short ones stop below it.
    count = draw(st.integers(0, need - 1) if kind == "short" else st.integers(need, n), label="signer count")
    if kind == "missing-signer" and count == n:
        count -= 1  # leave one authority out, then claim it
    signers = draw(st.permutations(range(n)), label="signers")[:count]
    msg = draw(signing_roots.filter(lambda m: m != message)) if kind == "wrong-message" else message
    approvals = [honest_approval(keyring, i, msg, bls) for i in signers]
    agg = AggregateApproval.of(approvals, bls)
    bits = list(agg.bits)
    if kind in ("padded", "unknown-bit"):
        for i in draw(st.lists(st.integers(n, MAX_VALIDATORS - 1), min_size=1, unique=True), label="padding"):
            bits[i] = True
    if kind == "missing-signer":
        bits[next(i for i in range(n) if i not in signers)] = True
    return kind, AggregateApproval(tuple(bits), None if kind == "empty" else agg.signature)
