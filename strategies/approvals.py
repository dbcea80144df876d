"""Strategies for the approvals area: keyrings, signed proposals, honest and Byzantine approvals.

Signatures are real (the chosen backend signs; signing is memoized per key and message). Byzantine
kinds (the `BYZANTINE` catalogue of invalid cases, strategies/invalid.py), each with what a correct
node does with it:

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
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

import attrs
from attrs import frozen
from hypothesis import strategies as st

from alys_pbt.models.approvals import MAX_VALIDATORS, AggregateApproval, IndividualApproval
from alys_pbt.models.bitcoin import Origin
from alys_pbt.models.bls import INFINITY_PK, INFINITY_SIG, Backend, R
from alys_pbt.strategies.invalid import InvalidCase, by_name

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
    return bytes(total.compress())


@functools.cache
def _non_subgroup_g2() -> tuple[bytes, ...]:
    # On-curve G2 points outside the subgroup: x = (1, x0) for small x0 (found with py_ecc).
    from py_ecc.bls.point_compression import decompress_G2
    from py_ecc.bls.typing import G2Compressed
    from py_ecc.optimized_bls12_381.optimized_curve import curve_order, is_inf, multiply

    found = []
    z1 = (0x80 << 376) | 1
    for x0 in range(1, 64):
        try:
            point = decompress_G2(G2Compressed((z1, x0)))
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


@frozen
class Delivery:
    """What a Byzantine approval is made from: the federation, the block, the authority it claims
    (`index`, and its secret key), the Byzantine authorities, and an honest approval to repeat."""

    keyring: Keyring
    message: bytes
    bls: Backend
    index: int
    sk: int
    byzantine: tuple[int, ...]
    honest_of: IndividualApproval | None


ApplyApproval = Callable[[st.DrawFn, Delivery], IndividualApproval]
_SIGNATURES = "app/src/signatures.rs"
_IETF = "draft-irtf-cfrg-bls-signature-05"


def _forged(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    other = draw(secret_keys.filter(lambda s: s != d.sk))
    return IndividualApproval(d.bls.Sign(other, d.message), d.index)


def _other_message(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    other_message = draw(signing_roots.filter(lambda m: m != d.message))
    return IndividualApproval(d.bls.Sign(d.sk, other_message), d.index)


def _duplicate(_draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    assert d.honest_of is not None
    return d.honest_of


def _unknown_index(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    n = d.keyring.n
    fake = draw(st.integers(n, MAX_VALIDATORS - 1)) if n < MAX_VALIDATORS else 15
    return IndividualApproval(d.bls.Sign(d.sk, d.message), fake)


def _index_over_15(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    return IndividualApproval(d.bls.Sign(d.sk, d.message), draw(st.integers(MAX_VALIDATORS, 255)))


def _malformed(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    return IndividualApproval(draw(malformed_signatures(d.bls.Sign(d.sk, d.message))), d.index)


def _infinity_signature(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    # Any authority, including one configured with the identity key.
    return IndividualApproval(INFINITY_SIG, draw(st.integers(0, d.keyring.n - 1), label="index"))


def _byzantine_signer(draw: st.DrawFn, d: Delivery) -> IndividualApproval:
    b = draw(st.sampled_from(list(d.byzantine)), label="byzantine authority")
    return IndividualApproval(d.bls.Sign(d.keyring.secret_keys[b] or 1, d.message), b)


def _approval(
    name: ByzantineKind,
    expected: str,
    rule: str,
    origins: tuple[Origin, ...],
    apply: ApplyApproval,
    when: Callable[[Delivery], bool] = lambda d: True,
) -> InvalidCase:
    return InvalidCase(name, expected, rule, origins, apply, "approvals", when=when)


_VERIFIES = Origin(
    "node", f"{_SIGNATURES} IndividualApproval::check: the signature verifies for its authority"
)
BYZANTINE: tuple[InvalidCase, ...] = (
    _approval(
        "forged",
        "InvalidSignature",
        "the signature is the claimed authority's",
        (_VERIFIES,),
        _forged,
    ),
    _approval(
        "other-message",
        "InvalidSignature",
        "the signature is over this block's signing root",
        (_VERIFIES,),
        _other_message,
    ),
    _approval(
        "duplicate",
        "ok",
        "an approval counts once",
        (Origin("node", "app/src/block_candidate: approvals are kept per authority"),),
        _duplicate,
        lambda d: d.honest_of is not None,
    ),
    _approval(
        "unknown-index",
        "UnknownAuthority",
        "the authority index is below n",
        (Origin("node", f"{_SIGNATURES} IndividualApproval::check: authorities.get(index)"),),
        _unknown_index,
    ),
    _approval(
        "index-over-15",
        "UnknownAuthority",
        "the authority index fits the 15-bit aggregation bitlist",
        (Origin("node", f"{_SIGNATURES} AggregateApproval (BitList<U15>, add_approval)"),),
        _index_over_15,
    ),
    _approval(
        "malformed",
        "InvalidSignature",
        "the signature decodes to a G2 point in the subgroup",
        (_VERIFIES, Origin("ietf", f"{_IETF} §2.8 signature_to_point and subgroup check")),
        _malformed,
    ),
    _approval(
        "infinity-signature",
        "InvalidSignature",
        "the identity signature verifies for no valid key",
        (_VERIFIES, Origin("ietf", f"{_IETF} §2.5 KeyValidate, §2.7 CoreVerify")),
        _infinity_signature,
    ),
    _approval(
        "byzantine-signer",
        "ok",
        "a Byzantine authority's own signature counts: it is one of the n",
        (_VERIFIES,),
        _byzantine_signer,
        lambda d: bool(d.byzantine),
    ),
)
BYZANTINE_BY_KIND: dict[str, InvalidCase] = by_name(BYZANTINE)
EXPECTED: dict[ByzantineKind, str] = {c.name: c.expected for c in BYZANTINE}  # type: ignore[misc]


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
    unsigned = Delivery(keyring, message, bls, 0, 1, tuple(byzantine), honest_of)
    kinds = [c.name for c in BYZANTINE if c.applicable(unsigned)]
    k: ByzantineKind = kind or draw(st.sampled_from(kinds), label="kind")  # type: ignore[assignment]
    signers = [i for i, sk in enumerate(keyring.secret_keys) if sk is not None]
    index = draw(st.sampled_from(signers), label="index") if signers else 0
    delivery = attrs.evolve(unsigned, index=index, sk=keyring.secret_keys[index] or 1)
    return k, BYZANTINE_BY_KIND[k].apply(draw, delivery)


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


def _aggregate_of_kind(
    draw: st.DrawFn, keyring: Keyring, message: bytes, bls: Backend, *, kind: AggregateKind
) -> AggregateApproval:
    """The aggregate a producer sends, honest or broken in the one way `kind` names."""
    n = keyring.n
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
    return AggregateApproval(tuple(bits), None if kind == "empty" else agg.signature)


def _aggregate(
    name: AggregateKind, expected: str, rule: str, origins: tuple[Origin, ...], **more: Any
) -> InvalidCase:
    apply = functools.partial(_aggregate_of_kind, kind=name)
    return InvalidCase(name, expected, rule, origins, apply, "approvals", **more)


# A bit at or past n is set: there is none when all 15 bits are authorities.
def _room_past_n(keyring: Keyring) -> bool:
    return keyring.n < MAX_VALIDATORS


_PADDED = Origin(
    "suite-hardening", f"no bit past the last authority ({_SIGNATURES} num_approvals counts every bit)"
)
_AGGREGATE_VERIFIES = Origin("node", f"{_SIGNATURES} AggregateApproval::verify (FastAggregateVerify)")
_THRESHOLD = Origin("node", "app/src/block_candidate maybe_accept_block: num_approvals >= (2n + 2) / 3")
AGGREGATES: tuple[InvalidCase, ...] = (
    _aggregate("honest", "ok", "ceil(2n/3) authorities sign the block", (_THRESHOLD, _AGGREGATE_VERIFIES)),
    _aggregate(
        "padded",
        "UnknownAuthority",
        "no bit is set past the last authority",
        (_PADDED,),
        when=_room_past_n,
        exposes=("approvals-padded-bits-count",),
    ),
    _aggregate("short", "NotEnoughApprovals", "ceil(2n/3) authorities sign the block", (_THRESHOLD,)),
    _aggregate(
        "wrong-message", "BadSignature", "the aggregate signs this block's root", (_AGGREGATE_VERIFIES,)
    ),
    _aggregate(
        "unknown-bit",
        "UnknownAuthority",
        "every set bit names an authority",
        (_PADDED,),
        when=_room_past_n,
        exposes=("approvals-padded-bits-count",),
    ),
    _aggregate(
        "missing-signer",
        "BadSignature",
        "the aggregate verifies for exactly the authorities its bits name",
        (_AGGREGATE_VERIFIES,),
    ),
    _aggregate(
        "empty",
        "BadSignature",
        "an aggregate carries a signature",
        (_AGGREGATE_VERIFIES, Origin("node", "lighthouse bls: an empty signature verifies nothing")),
    ),
)
AGGREGATES_BY_KIND: dict[str, InvalidCase] = by_name(AGGREGATES)


@st.composite
def aggregate_approvals(
    draw: st.DrawFn, keyring: Keyring, message: bytes, bls: Backend
) -> tuple[AggregateKind, AggregateApproval]:
    """A block's AggregateApproval as a producer might send it, honest or not (the `AGGREGATES`
    catalogue: `padded` sets bits at index >= n (the producer's padding), `short` has fewer signers
    than the threshold, `missing-signer` sets a bit whose authority did not sign, `unknown-bit` sets
    a bit >= n with a valid aggregate of the others, `empty` has no signature)."""
    kinds = [c.name for c in AGGREGATES if c.applicable(keyring)]
    kind: AggregateKind = draw(st.sampled_from(kinds), label="aggregate kind")
    return kind, AGGREGATES_BY_KIND[kind].apply(draw, keyring, message, bls)
