"""Properties of the Bitcoin wire decoders (transaction, header, AuxPoW) and AuxPow::check on bad bytes.

Every decoder, the reference's and the target's, answers bad bytes with its typed error
(DecodeError) or a correct value: never an untyped exception. The reference is at least as strict
as Bitcoin Core; the target decodes as the node's rust-bitcoin does, so where only Bitcoin Core
refuses (models/bitcoin.py CORE_ONLY_RULES) the target may accept, with a value that encodes back
to the same bytes. Bounded time and memory are measured in benchmarks/bench_decoders_bitcoin.py.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import auxpow as ref
from alys_pbt.models.bitcoin import CORE_ONLY_RULES, BlockHeader, DecodeError, Transaction, origins_text
from alys_pbt.strategies.auxpow import auxpows
from alys_pbt.strategies.bitcoin import block_headers, transactions
from alys_pbt.strategies.malformed_bitcoin import HOWS, Malformed, malformed_bitcoin
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.auxpow

REFERENCE = {
    "header": BlockHeader.from_bytes,
    "transaction": Transaction.from_bytes,
    "auxpow": ref.AuxPow.from_bytes,
}
TYPED = ("ok", "DecodeError")


def round_trip(target: Target, kind: str, data: bytes) -> bytes:
    """What the target decodes `data` to, encoded again."""
    a = target.auxpow
    if kind == "header":
        return a.encode_header(a.decode_header(data))
    if kind == "transaction":
        return a.encode_transaction(a.decode_transaction(data))
    return a.encode_auxpow(a.decode_auxpow(data))


def reference_verdict(kind: str, data: bytes) -> DecodeError | None:
    """None if the reference accepts `data` (and then it encodes back to it), else its DecodeError."""
    try:
        value = REFERENCE[kind](data)
    except DecodeError as err:
        return err
    except Exception as err:  # any other exception is the reference's own crash
        raise AssertionError(f"the reference crashed with {type(err).__name__}: {err}") from err
    assert value.to_bytes() == data, "the reference accepted a second wire form of one value"
    return None


def judge(target: Target, kind: str, data: bytes) -> None:
    """The target gives its typed error or a correct value, and rejects what the node's library rejects."""
    expected = reference_verdict(kind, data)
    note(f"reference: {'ok' if expected is None else f'{expected} [{expected.rule}]'}")
    got = verdict(lambda: round_trip(target, kind, data))
    assert got in TYPED, f"the target crashed with {got} instead of a DecodeError or a value"
    if got == "ok":
        assert round_trip(target, kind, data) == data, "the target's value does not encode back to the bytes"
    if expected is None:
        assert got == "ok", "the target rejected bytes the reference (and Bitcoin Core) accept"
    elif expected.rule not in CORE_ONLY_RULES:
        assert got == "DecodeError", (
            f"the target accepted bytes the node's decoder refuses too: {expected.why} "
            f"(rule {expected.rule}: {origins_text(expected.origins)})"
        )


@kills(
    "codec-accepts-non-minimal-varint",
    "codec-any-segwit-flag",
    "codec-accepts-superfluous-witness",
    "codec-accepts-trailing-bytes",
    "codec-panics-on-truncation",
    "codec-max-vec-off-by-one",
)
# Drawn with st.data(): the bad bytes depend on `how`, a pytest parameter (the node ids the kill
# matrix and the known failures key on), which a @given argument cannot see; `Draw 1 (bad): ...`.
@pytest.mark.parametrize("how", HOWS)
@given(data=st.data())
def test_decoders_answer_structured_corruption_with_typed_errors(
    target: Target, how: str, data: st.DataObject
) -> None:
    """Non-minimal sizes, huge counts, segwit flag variants, long scripts, cuts at every field:
    DecodeError or a correct value, from the reference and the target alike."""
    bad = data.draw(malformed_bitcoin(hows=(how,)), label="bad")
    event(f"{bad.kind}: {bad.detail.split(' ')[0]}")
    judge(target, bad.kind, bad.data)


@kills("codec-accepts-non-minimal-varint")
@given(
    bad=malformed_bitcoin(
        kinds=("auxpow",), hows=("non-minimal-size", "huge-count", "segwit-flag", "truncate")
    ),
    aux_hash=st.binary(min_size=32, max_size=32),
)
def test_check_answers_structured_corruption_with_typed_errors(
    target: Target, bad: Malformed, aux_hash: bytes
) -> None:
    """AuxPow::check on broken bytes rejects with a DecodeError or an AuxPowError, never a crash."""
    event(bad.how)
    note(repr(bad))
    expected = reference_verdict("auxpow", bad.data)
    got = verdict(lambda: target.auxpow.check(bad.data, aux_hash, 727272))
    if expected is not None and expected.rule not in CORE_ONLY_RULES:
        assert got == "DecodeError", f"check gave {got} on bytes the node cannot decode ({expected})"
    # Bytes that decode are checked: an arbitrary aux hash fails some rule, with its typed error.
    assert got in {"ok", "DecodeError", *ref_errors()}, f"check crashed with {got}"


def ref_errors() -> set[str]:
    return {cls.__name__ for cls in ref.AuxPowError.__subclasses__()}


# --- Bytes flipped, cut and spliced at random (the pre-issue-14 strategy, kept) --------------------

encodable = st.one_of(
    block_headers().map(lambda h: ("header", h.to_bytes())),
    transactions().map(lambda t: ("transaction", t.to_bytes())),
    auxpows(max_height=3).map(lambda a: ("auxpow", a.to_bytes())),
)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, bytes]:
    """Arbitrary bytes, or a valid encoding truncated, extended, or with bytes flipped or spliced."""
    kind, data = draw(encodable)
    how = draw(st.sampled_from(["arbitrary", "truncate", "append", "flip", "splice"]))
    if how == "arbitrary":
        return kind, draw(st.binary(max_size=300))
    if how == "truncate":
        return kind, data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if how == "append":
        return kind, data + draw(st.binary(min_size=1, max_size=8))
    at = draw(st.integers(0, len(data) - 1))
    if how == "flip":
        return kind, data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return kind, data[:at] + draw(st.binary(min_size=1, max_size=9)) + data[at:]


@kills("codec-accepts-trailing-bytes", "codec-panics-on-truncation")
@given(item=malformed())
def test_decoders_reject_malformed_bytes_with_typed_errors(target: Target, item: tuple[str, bytes]) -> None:
    """Bad bytes give a DecodeError in reference and target alike; no crash, no silent accept."""
    kind, data = item
    judge(target, kind, data)
