"""Properties of Alys blocks and chains: the chain state machine (models/machines/chain.py), each
block corruption, peg-in address forms, the fee split, and full nodes against validators."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models import bls
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.machines.chain import FEDERATION_SPK, ChainMachine
from alys_pbt.strategies.approvals import keyrings
from alys_pbt.strategies.blocks import BY_NAME, CATALOGUE, ChainBuilder
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.chain

TestChain = machine_test(kills("chain-accepts-unknown-parent", "chain-fee-split-rounds-up")(ChainMachine))


@st.composite
def grown_chains(draw: st.DrawFn, *, validator: bool = True, target: Any = None) -> tuple[ChainBuilder, Any]:
    """A builder and a node that both imported the same few valid blocks (some with PoW)."""
    b = bls.backend()
    keyring = draw(keyrings(b, n=st.integers(1, 5)), label="authorities")
    federation = tuple(
        draw(st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=3), label="federation")
    )
    builder = ChainBuilder(
        ChainSpec(keyring.public_keys, federation, FEDERATION_SPK, max_blocks_without_pow=5), keyring, b
    )
    node = target.chain.node(builder.spec, builder.genesis, builder.bitcoin, validator=validator)
    for pow in draw(st.lists(st.booleans(), min_size=1, max_size=6), label="blocks (True: with PoW)"):
        if builder.chain.head_height - builder.chain.finalized_height >= 5:
            pow = True
        signed = builder.next_block(pow=pow and builder.chain.head_height > builder.chain.finalized_height)
        builder.accept(signed)
        node.process_block(signed)
    return builder, node


@kills("chain-accepts-unknown-parent", "chain-finalized-range-off-by-one")
@pytest.mark.parametrize("corruption", [c.name for c in CATALOGUE])
@given(data=st.data())
def test_corrupted_blocks_are_rejected(target: Any, corruption: str, data: st.DataObject) -> None:
    """A block broken in one rule is refused with that rule's error, by reference and node."""
    builder, node = data.draw(grown_chains(target=target), label="chain")
    c = BY_NAME[corruption]
    if not c.applicable(builder):
        # Grow the chain until the corruption applies (e.g. a second unfinalized block).
        for _ in range(8):
            if c.applicable(builder):
                break
            need_pow = (
                builder.chain.head_height - builder.chain.finalized_height >= 5
                and corruption != "missing-required-pow"
            )
            signed = (
                builder.next_block(pow=need_pow)
                if corruption != "missing-required-pow"
                else builder.next_block()
            )
            builder.accept(signed)
            node.process_block(signed)
    at_limit = (
        builder.chain.head_height + 1 - builder.chain.finalized_height > builder.spec.max_blocks_without_pow
    )
    if not c.applicable(builder) or (corruption != "missing-required-pow" and at_limit):
        return  # this chain cannot show the corruption alone
    bad = c.apply(builder, data.draw)
    assert verdict(lambda: builder.chain.process_block(bad)) == c.expected
    got = verdict(lambda: node.process_block(bad))
    assert got == c.expected, f"node gave {got}; a correct node raises {c.expected} ({c.why})"


@kills("chain-fee-split-rounds-up")
@given(data=st.data())
def test_fee_split_pays_a_repeated_address_the_sum(target: Any, data: st.DataObject) -> None:
    """When the miner's fee recipient is also a federation address, it is owed both shares."""
    from alys_pbt.strategies.evm import evm_transactions

    builder, node = data.draw(grown_chains(target=target), label="chain")
    if builder.chain.head_height - builder.chain.finalized_height >= builder.spec.max_blocks_without_pow:
        room = builder.next_block(pow=True)  # finalize first: the fee block needs room
        builder.accept(room)
        node.process_block(room)
    txs = data.draw(st.lists(evm_transactions(), min_size=1, max_size=3), label="transactions")
    signed = builder.next_block(transactions=[t.to_bytes() for t in txs])
    builder.accept(signed)
    node.process_block(signed)
    recipient = data.draw(st.sampled_from(builder.spec.federation), label="miner is a federation member")
    final = builder.next_block(pow=True, fee_recipient=recipient)
    assert verdict(lambda: builder.chain.process_block(final)) == "ok"
    assert verdict(lambda: node.process_block(final)) == "ok"


@given(data=st.data())
def test_pegins_mint_for_every_address_form(target: Any, data: st.DataObject) -> None:
    """A peg-in names its recipient as 20 raw bytes (whatever they look like) or as hex text."""
    builder, node = data.draw(grown_chains(target=target), label="chain")
    how = data.draw(st.sampled_from(["raw", "hex", "0xhex"]), label="form")
    address = data.draw(
        st.binary(min_size=20, max_size=20)
        | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=20, max_size=20).map(
            str.encode
        ),
        label="recipient",
    )
    builder.add_pegin(data.draw(st.integers(1, 10**8)), address, how=how)
    signed = builder.next_block(pow=builder.chain.head_height - builder.chain.finalized_height >= 5)
    note(f"{how} address {address!r}")
    assert verdict(lambda: builder.chain.process_block(signed)) == "ok"
    assert verdict(lambda: node.process_block(signed)) == "ok"


@given(data=st.data())
def test_full_nodes_and_validators_agree(target: Any, data: st.DataObject) -> None:
    """A validator and a full node fed the same blocks give the same verdicts."""
    builder, validator = data.draw(grown_chains(target=target), label="chain")
    full = target.chain.node(builder.spec, builder.genesis, builder.bitcoin, validator=False)
    for h in range(1, builder.chain.head_height + 1):
        full.process_block(builder.chain.storage[builder.chain.canonical[h]])
    corruption = data.draw(
        st.sampled_from(
            [
                c
                for c in CATALOGUE
                if c.expected in ("UnknownWithdrawal", "NotAPegin", "InsufficientConfirmations")
                and c.applicable(builder)
            ]
        ),
        label="block",
    )
    bad = corruption.apply(builder, data.draw)
    assert verdict(lambda: validator.process_block(bad)) == verdict(lambda: full.process_block(bad))
