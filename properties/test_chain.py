"""Properties of Alys blocks and chains: the chain state machine (models/machines/chain.py), each
block corruption, peg-in address forms, the fee split, and full nodes against validators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models.evm import EvmTransaction
from alys_pbt.models.machines.chain import ChainMachine
from alys_pbt.strategies.blocks import BY_NAME, CATALOGUE, GrowthPlan, growth_plans
from alys_pbt.strategies.evm import evm_transactions
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.chain

TestChain = machine_test(kills("chain-accepts-unknown-parent", "chain-fee-split-rounds-up")(ChainMachine))


@kills("chain-accepts-unknown-parent", "chain-finalized-range-off-by-one")
@pytest.mark.parametrize("corruption", [c.name for c in CATALOGUE])
@given(plan=growth_plans(), data=st.data())
def test_corrupted_blocks_are_rejected(
    target: Target, corruption: str, plan: GrowthPlan, data: st.DataObject
) -> None:
    """A block broken in one rule is refused with that rule's error, by reference and node. (What
    the corruption draws to break the block depends on the chain grown: drawn from `data`.)"""
    builder, node = plan.grow(target)
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
@given(
    plan=growth_plans(),
    transactions=st.lists(evm_transactions(), min_size=1, max_size=3),
    member=st.integers(0, 2),
)
def test_fee_split_pays_a_repeated_address_the_sum(
    target: Target, plan: GrowthPlan, transactions: list[EvmTransaction], member: int
) -> None:
    """When the miner's fee recipient is also a federation address (the `member`-th, cyclically),
    it is owed both shares."""
    builder, node = plan.grow(target)
    if builder.chain.head_height - builder.chain.finalized_height >= builder.spec.max_blocks_without_pow:
        room = builder.next_block(pow=True)  # finalize first: the fee block needs room
        builder.accept(room)
        node.process_block(room)
    signed = builder.next_block(transactions=[t.to_bytes() for t in transactions])
    builder.accept(signed)
    node.process_block(signed)
    recipient = builder.spec.federation[member % len(builder.spec.federation)]
    final = builder.next_block(pow=True, fee_recipient=recipient)
    assert verdict(lambda: builder.chain.process_block(final)) == "ok"
    assert verdict(lambda: node.process_block(final)) == "ok"


RECIPIENTS = st.binary(min_size=20, max_size=20) | st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=20, max_size=20
).map(str.encode)  # 20 raw bytes, or 20 printable characters (raw bytes that look like text)


@given(
    plan=growth_plans(),
    form=st.sampled_from(["raw", "hex", "0xhex"]),
    recipient=RECIPIENTS,
    sats=st.integers(1, 10**8),
)
def test_pegins_mint_for_every_address_form(
    target: Target, plan: GrowthPlan, form: str, recipient: bytes, sats: int
) -> None:
    """A peg-in names its recipient as 20 raw bytes (whatever they look like) or as hex text."""
    builder, node = plan.grow(target)
    builder.add_pegin(sats, recipient, how=form)
    signed = builder.next_block(pow=builder.chain.head_height - builder.chain.finalized_height >= 5)
    assert verdict(lambda: builder.chain.process_block(signed)) == "ok"
    assert verdict(lambda: node.process_block(signed)) == "ok"


@given(plan=growth_plans(), data=st.data())
def test_full_nodes_and_validators_agree(target: Target, plan: GrowthPlan, data: st.DataObject) -> None:
    """A validator and a full node fed the same blocks give the same verdicts. (Which corruptions
    apply, and what each draws, depend on the chain grown: drawn from `data`.)"""
    builder, validator = plan.grow(target)
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
