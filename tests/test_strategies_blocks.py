"""The chain strategies build what they claim: chains the reference and the fixed node accept,
forks they refuse as old, finalization every pow_every blocks, and real peg-ins."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alys_pbt import targets
from models import pegin
from models.chain import InvalidBlock
from models.chain_machine import FEDERATION_SPK
from strategies.blocks import chains, pegin_transactions

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
    for previous, header in zip([None, *headers], headers):
        start = chain.block(header.range_start)
        expected_parent = chain.genesis_hash if previous is None else previous.range_end
        assert start.parent_hash == expected_parent


@quick
@given(case=pegin_transactions(FEDERATION_SPK))
def test_pegin_transactions_name_their_recipient(case) -> None:  # type: ignore[no-untyped-def]
    tx, address = case
    assert pegin.pegin_info(tx, FEDERATION_SPK).evm_address == address
