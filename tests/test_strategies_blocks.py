"""The chain strategies build what they claim: chains the reference and the fixed node accept,
forks they refuse as old, finalization every pow_every blocks, and real peg-ins."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.models import evm, pegin
from alys_pbt.models.blocks import block_from_bytes
from alys_pbt.models.chain import InvalidBlock
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.strategies.blocks import chains, pegin_transactions
from alys_pbt.strategies.malformed_blocks import (
    RLP_WAYS,
    WIRE_WAYS,
    malformed_transactions,
    malformed_wire_blocks,
    nested_rlp,
    pack,
    rlp_encode,
)
from alys_pbt.verdict import verdict

quick = settings(max_examples=10, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(case=chains(length=st.integers(1, 10)))
def test_chains_are_accepted_by_the_fixed_node_and_forks_refused(case) -> None:  # type: ignore[no-untyped-def]
    b = case.builder
    node = targets.load("alys-fixed").chain.node(b.spec, b.genesis, b.bitcoin)
    for block in case.blocks:
        node.process_block(block)
    assert node.head == b.chain.head and node.finalized_height == b.chain.finalized_height
    for fork in case.forks:
        try:
            b.chain.process_block(fork)
            raise AssertionError("a fork block below the head was accepted")
        except InvalidBlock:
            pass


@quick
@given(case=chains(length=st.just(9), pow_every=3, forks=st.just(0)))
def test_pow_every_finalizes_contiguous_ranges(case) -> None:  # type: ignore[no-untyped-def]
    headers = [blk.message.auxpow_header for blk in case.blocks if blk.message.auxpow_header is not None]
    assert len(headers) == 3
    chain = case.builder.chain
    for previous, header in zip([None, *headers], headers, strict=False):
        start = chain.block(header.range_start)
        expected_parent = chain.genesis_hash if previous is None else previous.range_end
        assert start.parent_hash == expected_parent


@quick
@given(case=pegin_transactions(FEDERATION_SPK))
def test_pegin_transactions_name_their_recipient(case) -> None:  # type: ignore[no-untyped-def]
    tx, address = case
    assert pegin.pegin_info(tx, FEDERATION_SPK).evm_address == address


# --- structure-aware bad input (issue 14, item 5) -----------------------------------------------------


def test_the_encoders_write_the_forms_no_library_writes() -> None:
    assert rlp_encode([b"\x05", b"ab"]) == bytes.fromhex("c405826162")
    assert rlp_encode([b"\x05", b"ab"], {0: "long"}) == bytes.fromhex("f80405826162")
    assert rlp_encode([b"\x05"], {1: "wrapped"}) == bytes.fromhex("c28105")
    assert rlp_encode([b"ab"], {1: "zero"}) == bytes.fromhex("c5b900026162")
    assert nested_rlp(2) == bytes.fromhex("c2c1c0")
    assert pack([5, "a"]) == bytes.fromhex("9205a161")
    assert pack([5, "a"], frozenset({1})) == bytes.fromhex("92cf0000000000000005a161")
    assert pack([5, "a"], frozenset({2})) == bytes.fromhex("9205db0000000161")


@pytest.mark.parametrize("way", RLP_WAYS)
@quick
@given(data=st.data())
def test_every_rlp_way_makes_what_the_reference_refuses(way: str, data: st.DataObject) -> None:
    raw, made = data.draw(malformed_transactions(ways=(way,)))
    assert made == way
    assert verdict(lambda: evm.decode(raw)) in ("MalformedRlp", "BadSignature")


@pytest.mark.parametrize("way", WIRE_WAYS)
@quick
@given(data=st.data())
def test_every_wire_way_makes_what_the_reference_refuses(way: str, data: st.DataObject) -> None:
    raw, made = data.draw(malformed_wire_blocks(ways=(way,)))
    assert made == way
    assert verdict(lambda: block_from_bytes(raw)) == "DecodeError"
