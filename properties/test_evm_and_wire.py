"""EVM transactions and the block wire form: round trips, sender recovery, typed errors on bad
bytes, reference and node agreeing. The port carries its own codecs (alys/evm.py, alys/wire.py),
so each comparison is between two independent implementations: the reference encodes what the
target decoded, and the target's signing root must be the reference's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import blocks, evm
from alys_pbt.models.approvals import AggregateApproval
from alys_pbt.strategies.evm import chain_ids, evm_transactions, secp256k1_secrets
from alys_pbt.strategies.malformed_blocks import MangledBlock, mangled_wire_blocks
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.chain


@kills("evm-legacy-ignores-chain-id")
@given(tx=evm_transactions(signed=False, chain_id=chain_ids), secret=secp256k1_secrets)
def test_signed_transactions_round_trip_and_recover_their_signer(
    target: Target, tx: Any, secret: int
) -> None:
    """Sign, encode, decode: the same transaction, and both stacks recover the signer, whatever the
    chain id's width (EIP-155 re-encodes it into the signed digest)."""
    signed = evm.sign(tx, secret)
    raw = signed.to_bytes()
    assert evm.decode(raw) == signed
    assert evm.sender(signed) == evm.address_of(secret) == target.chain.transaction_sender(raw)


@st.composite
def mangled_transactions(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, or a signed transaction truncated, extended, flipped, or with s malleated."""
    raw = draw(evm_transactions()).to_bytes()
    how = draw(st.sampled_from(["arbitrary", "truncate", "append", "flip", "malleate-s"]))
    if how == "arbitrary":
        return draw(st.binary(max_size=200))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if how == "append":
        return raw + draw(st.binary(min_size=1, max_size=4))
    if how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
    tx = evm.decode(raw)  # the same signature with s -> n - s and the other parity: EIP-2 forbids it
    s = evm.SECP256K1_N - tx.s
    if isinstance(tx, evm.DynamicFeeTransaction):
        return attrs.evolve(tx, s=s, y_parity=1 - tx.y_parity).to_bytes()
    return attrs.evolve(tx, s=s, v=tx.v ^ 1).to_bytes()


@kills("evm-accepts-high-s")
@given(raw=mangled_transactions())
def test_bad_transactions_get_typed_errors_from_both_stacks(target: Target, raw: bytes) -> None:
    """Bad bytes or signatures: MalformedRlp or BadSignature, the same from reference and node."""
    expected = verdict(lambda: evm.sender(evm.decode(raw)))
    assert expected in ("ok", "MalformedRlp", "BadSignature")
    got = verdict(lambda: target.chain.transaction_sender(raw))
    note(f"reference {expected}, node {got}")
    assert got == expected


def reference_bytes(signed: Any) -> bytes:
    """The reference's encoding of a block the target decoded (its objects read by attribute)."""
    approval = AggregateApproval(tuple(signed.signature.bits), signed.signature.signature)
    return blocks.block_to_bytes(SimpleNamespace(message=signed.message, signature=approval))  # type: ignore[arg-type]


@kills("chain-block-decode-ignores-trailing")
@given(case=mangled_wire_blocks())
def test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors(
    target: Target, case: MangledBlock
) -> None:
    """The target decodes a block's wire bytes to what the reference encodes back to the same bytes;
    mangled bytes give DecodeError from both, never a crash, or the same block from both."""
    assert reference_bytes(target.chain.decode_block(case.raw)) == case.raw
    expected = verdict(lambda: blocks.block_from_bytes(case.bad))
    assert expected in ("ok", "DecodeError")
    assert verdict(lambda: target.chain.decode_block(case.bad)) == expected
    if expected == "ok":
        assert reference_bytes(target.chain.decode_block(case.bad)) == case.bad
