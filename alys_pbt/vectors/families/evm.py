"""EVM transactions in an Alys payload: decoding and sender recovery.

`evm/sender`: one transaction (legacy, EIP-155 or EIP-1559, RLP) in, the 20-byte address that
signed it out, or the error: MalformedRlp (not a canonical encoding of a transaction, or over
geth's 128 KiB txMaxSize) or BadSignature (r or s out of range, s in the upper half (EIP-2), a
recovery id other than 0/1, or no key recovers). Expected verdicts come from the reference
(models/evm.py: pyrlp, eth-keys), at least as strict as geth's rlp package and reth's alloy-rlp.
Replay: `target.chain.transaction_sender(raw)`.

`evm/sender-memo` (a sequence): one payload signed by several keys, a high-s copy, repeats, in a
drawn order, put to the same target one after the other: each answer must be what recovery gives
afresh, whatever the target memoizes (app's sender memo must key on the whole transaction).

Cases: transactions drawn by strategies/evm.py (EIP-155 legacy and EIP-1559, signed for real),
pre-EIP-155 legacy ones, one or more per structure-aware way of breaking the RLP
(strategies/malformed_blocks.py RLP_WAYS), and the boundaries: s at, just past the half order and
its high-s twin, r and s zero or the group order, a recovery id of 2, another chain id than the one
signed for, and the size limit one byte below, at and past 128 KiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import rlp
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import evm
from alys_pbt.strategies.evm import GWEI, evm_transactions, secp256k1_secrets
from alys_pbt.strategies.malformed_blocks import RLP_WAYS, malformed_transactions, sized_transaction
from alys_pbt.vectors.families.chain import ERROR_NAME, HEX, _object, hex_of
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, from_hex, hex_bytes, sample
from alys_pbt.verdict import verdict

N = evm.SECP256K1_N
ERRORS = ("MalformedRlp", "BadSignature")
RULE_SOURCE = (
    "EIP-155, EIP-1559, EIP-2 (low s); geth core/types transaction_signing.go Sender, rlp (canonical "
    "forms), core/txpool txMaxSize = 128 KiB; reth alloy-rlp"
)
WAY_SOURCES: dict[str, str] = {
    "long-length-form": "geth rlp ErrCanonSize; alloy-rlp NonCanonicalSize",
    "length-with-leading-zero": "geth rlp ErrCanonSize; alloy-rlp LeadingZero",
    "wrapped-single-byte": "geth rlp ErrCanonSize; alloy-rlp NonCanonicalSingleByte",
    "integer-with-leading-zero": "geth rlp ErrCanonInt; alloy-rlp LeadingZero",
    "list-as-integer": "geth rlp: expected input string or byte; alloy-rlp UnexpectedList",
    "string-as-list": "geth rlp: expected input list; alloy-rlp UnexpectedString",
    "deep-nesting": "geth rlp: expected input string or byte (typed decoding: no recursion)",
    "huge-count": "geth rlp: expected input string or byte; bounded by txMaxSize",
    "over-wide-integer": "geth: input string too long for uint64; alloy-rlp Overflow",
    "extra-field": "geth rlp: input list has too many elements",
    "missing-field": "geth rlp: too few elements",
    "trailing-bytes": "geth rlp: input contains more than one value",
}
__all__ = ["RULES"]


def reference_sender(raw: bytes) -> bytes:
    return evm.sender(evm.decode(raw))


def expected_for(raw: bytes) -> Expected:
    result = verdict(lambda: reference_sender(raw))
    if result == "ok":
        return Expected.ok(sender=hex_bytes(reference_sender(raw)))
    if result not in ERRORS:
        raise AssertionError(f"the reference raised {result}: a generator bug")
    return Expected.raises(result)


def _case(
    name: str, raw: bytes, *, note: str = "", origin: str | None = None, source: str | None = None
) -> Case:
    return Case(
        name, {"transaction": hex_bytes(raw)}, expected_for(raw), origin=origin, source=source, note=note
    )


@st.composite
def pre_eip155_transactions(draw: st.DrawFn) -> evm.LegacyTransaction:
    """Legacy transactions signed without a chain id (v = 27 or 28)."""
    tx = evm.LegacyTransaction(
        draw(st.integers(0, 999)),
        draw(st.integers(1, 100)) * GWEI,
        draw(st.integers(21_000, 10_000_000)),
        draw(st.binary(min_size=20, max_size=20) | st.just(b"")),
        draw(st.integers(0, 10**20)),
        draw(st.binary(max_size=64)),
        0,
        0,
        0,
    )
    signed = evm.sign(tx, draw(secp256k1_secrets))
    assert isinstance(signed, evm.LegacyTransaction) and signed.v in (27, 28)
    return signed


def _with_signature(tx: Any, *, r: int | None = None, s: int | None = None, flip: bool = False) -> bytes:
    changes: dict[str, int] = {}
    if r is not None:
        changes["r"] = r
    if s is not None:
        changes["s"] = s
    if flip:
        if isinstance(tx, evm.DynamicFeeTransaction):
            changes["y_parity"] = 1 - tx.y_parity
        else:
            changes["v"] = tx.v + (1 if (tx.v - 35) % 2 == 0 else -1) if tx.v >= 35 else 55 - tx.v
    flipped: bytes = attrs.evolve(tx, **changes).to_bytes()
    return flipped


def _gas_with_leading_zero(raw: bytes) -> bytes:
    """The signed transaction with a zero byte before its gas (fits u64 still): non-canonical."""
    prefix, body = (raw[:1], raw[1:]) if raw[0] == 2 else (b"", raw)
    fields = rlp.decode(body)
    at = 4 if prefix else 2
    fields[at] = b"\x00" + fields[at]
    encoded: bytes = rlp.encode(fields)
    return prefix + encoded


def _boundaries(seed: int) -> list[Case]:
    eip2 = ("ethereum", "EIP-2: s <= secp256k1n/2; geth crypto.ValidateSignatureValues")
    cases: list[Case] = []
    txs = sample(evm_transactions(), seed_value=seed, n=12)
    legacy = next(t for t in txs if isinstance(t, evm.LegacyTransaction))
    dynamic = next(t for t in txs if isinstance(t, evm.DynamicFeeTransaction))
    for kind, tx in (("legacy", legacy), ("eip1559", dynamic)):
        cases.append(_case(f"boundary-{kind}-signed", tx.to_bytes(), note="the signer recovers"))
        cases.append(
            _case(
                f"boundary-{kind}-high-s",
                _with_signature(tx, s=N - tx.s, flip=True),
                note="the same signature with s in the upper half (the same signer without EIP-2): refused",
                origin=eip2[0],
                source=eip2[1],
            )
        )
        cases.append(
            _case(
                f"boundary-{kind}-s-at-half-order",
                _with_signature(tx, s=N // 2),
                origin=eip2[0],
                source=eip2[1],
                note="s = n/2 is allowed: some key recovers",
            )
        )
        cases.append(
            _case(
                f"boundary-{kind}-s-past-half-order",
                _with_signature(tx, s=N // 2 + 1),
                origin=eip2[0],
                source=eip2[1],
                note="s = n/2 + 1: refused",
            )
        )
        cases.append(
            _case(
                f"boundary-{kind}-gas-leading-zero",
                _gas_with_leading_zero(tx.to_bytes()),
                note="gas with a leading zero byte, still within u64: refused",
                source=WAY_SOURCES["integer-with-leading-zero"],
            )
        )
        cases.append(_case(f"boundary-{kind}-r-zero", _with_signature(tx, r=0), note="r = 0: refused"))
        cases.append(_case(f"boundary-{kind}-s-zero", _with_signature(tx, s=0), note="s = 0: refused"))
        cases.append(_case(f"boundary-{kind}-r-order", _with_signature(tx, r=N), note="r = n: refused"))
    cases.append(
        _case(
            "boundary-eip1559-y-parity-2",
            attrs.evolve(dynamic, y_parity=2).to_bytes(),
            note="a recovery id of 2: refused",
        )
    )
    # Another chain id than the one signed for: another digest, so another (or no) signer.
    cases.append(
        _case(
            "boundary-legacy-other-chain-id",
            attrs.evolve(legacy, v=legacy.v - 2 * (legacy.chain_id or 0) + 2).to_bytes(),
            note="signed for 121212, claims chain 1: recovers another address (EIP-155 hashes the chain id)",
            source="EIP-155: the signing hash covers chain_id, 0, 0",
        )
    )
    cases.append(
        _case(
            "boundary-eip1559-other-chain-id",
            attrs.evolve(dynamic, chain_id=1).to_bytes(),
            note="signed for 121212, claims chain 1: recovers another address (EIP-1559 hashes the chain id)",
            source="EIP-1559: the signing hash covers chain_id",
        )
    )
    for v in (26, 29, 34):
        cases.append(
            _case(
                f"boundary-legacy-v-{v}",
                attrs.evolve(legacy, v=v).to_bytes(),
                note=f"v = {v} is no recovery id: refused",
            )
        )
    unsigned = sample(evm_transactions(signed=False), seed_value=seed + 1, n=1)[0]
    secret = sample(secp256k1_secrets, seed_value=seed + 2, n=1)[0]
    for delta, where in ((-1, "below"), (0, "at"), (1, "past")):
        size = evm.MAX_TX_BYTES + delta
        cases.append(
            _case(
                f"boundary-size-{where}-{size}",
                sized_transaction(size, unsigned, secret),
                note=f"{where} the 128 KiB limit",
                source="geth core/txpool txMaxSize = 4 * 32 KiB",
            )
        )
    return cases


def _smallest(way: str, seed: int) -> tuple[bytes, str]:
    return min(
        sample(malformed_transactions(ways=(way,)), seed_value=seed, n=3), key=lambda x: (len(x[0]), x[0])
    )


def _generate(seed: int, cases_per_rule: int) -> list[Case]:
    cases = [
        _case(f"valid-{i:04d}", tx.to_bytes())
        for i, tx in enumerate(sample(evm_transactions(), seed_value=seed, n=cases_per_rule))
    ]
    pre = sample(pre_eip155_transactions(), seed_value=seed + 100, n=max(1, cases_per_rule // 2))
    cases += [
        _case(f"valid-pre-eip155-{i:04d}", tx.to_bytes(), source="Yellow Paper: v = 27 + y parity")
        for i, tx in enumerate(pre)
    ]
    for k, way in enumerate(RLP_WAYS):
        raw, _ = _smallest(way, seed + 1 + k)
        cases.append(
            _case(f"corruption-{way}", raw, source=WAY_SOURCES[way], note=f"the RLP broken one way: {way}")
        )
    return cases + _boundaries(seed)


def replay(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"sender": hex_bytes(target.chain.transaction_sender(from_hex(inputs["transaction"])))}


# --- the sender memo: a sequence put to one target ------------------------------------------------


def _answer(raw: bytes, sender: Any) -> dict[str, Json]:
    result = verdict(lambda: sender(raw))
    return {"result": "ok", "sender": hex_bytes(sender(raw))} if result == "ok" else {"result": result}


@st.composite
def memo_sequences(draw: st.DrawFn) -> list[bytes]:
    """One payload signed by 2-3 keys, its high-s twin, repeated in a drawn order."""
    tx = draw(evm_transactions(signed=False), label="payload")
    signers = draw(st.lists(secp256k1_secrets, min_size=2, max_size=3, unique=True), label="signers")
    signed = [evm.sign(tx, sk) for sk in signers]
    raws = [s.to_bytes() for s in signed]
    raws.append(_with_signature(signed[0], s=N - signed[0].s, flip=True))
    order = draw(st.permutations(raws), label="first round")
    return [*order, *draw(st.lists(st.sampled_from(raws), min_size=2, max_size=6), label="repeats")]


def _generate_memo(seed: int, cases_per_rule: int) -> list[Case]:
    cases = []
    drawn = [
        (f"valid-{i:04d}", raws)
        for i, raws in enumerate(sample(memo_sequences(), seed_value=seed, n=max(1, cases_per_rule)))
    ]
    tx = sample(evm_transactions(), seed_value=seed + 1, n=1)[0]
    twin = _with_signature(tx, s=N - tx.s, flip=True)
    # The refused twin before and after the signed one: an error is never memoized, and a memo
    # of the signed one never answers for its twin.
    drawn.append(("boundary-high-s-twin-around-the-signed", [twin, tx.to_bytes(), twin, tx.to_bytes()]))
    for name, raws in drawn:
        answers = [_answer(raw, reference_sender) for raw in raws]
        if any(a["result"] not in ("ok", *ERRORS) for a in answers):
            raise AssertionError("the reference raised an unexpected error: a generator bug")
        cases.append(
            Case(
                name,
                {"transactions": [hex_bytes(r) for r in raws]},
                Expected.ok(answers=answers),
                note="several signatures over one payload: each names its own signer, every time",
            )
        )
    return cases


def replay_memo(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {
        "answers": [_answer(from_hex(raw), target.chain.transaction_sender) for raw in inputs["transactions"]]
    }


ANSWER_SCHEMA = {
    "oneOf": [
        _object({"result": {"const": "ok"}, "sender": hex_of(20)}),
        _object({"result": {"allOf": [ERROR_NAME, {"not": {"const": "ok"}}]}}),
    ]
}

RULES: tuple[Rule, ...] = (
    Rule(
        id="evm/sender",
        summary="decode an EVM transaction (legacy, EIP-155, EIP-1559) and recover the address that "
        "signed it",
        origin="ethereum",
        source=RULE_SOURCE,
        generate=_generate,
        replay=replay,
        component="chain",
        inputs_schema=_object({"transaction": HEX}),
        outputs_schema=_object({"sender": hex_of(20)}),
    ),
    Rule(
        id="evm/sender-memo",
        summary="transactions put one after the other to one target: each sender is what recovery "
        "gives afresh",
        origin="suite-hardening",
        source="a memo keyed on the whole transaction (alys/evm.py SenderCache; geth caches the sender per "
        "signed transaction, core/types transaction_signing.go sigCache)",
        generate=_generate_memo,
        replay=replay_memo,
        component="chain",
        inputs_schema=_object({"transactions": {"type": "array", "items": HEX, "minItems": 1}}),
        outputs_schema=_object({"answers": {"type": "array", "items": ANSWER_SCHEMA}}),
        stateful=True,
    ),
)
