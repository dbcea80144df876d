"""The height index follows the head's ancestry, in the reference and in the port, also when a block
is imported on a parent that a rollback took off the chain (chain.rs checks only that the parent is
stored). Found by the retry-policy property on `alys-fixed+sync-error-rolls-back`: the port indexed
only the new block, left a hole where the rolled-back parent was, and crashed (KeyError) on the next
rollback."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.blocks import block_from_bytes
from alys_pbt.models.chain import Chain
from alys_pbt.strategies.sync import canonical_chains


@given(data=st.data())
def test_the_port_indexes_a_child_of_a_rolled_back_block_on_its_ancestry(data: st.DataObject) -> None:
    canonical = data.draw(canonical_chains(length=st.integers(2, 8)), label="canonical chain")
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:]:
        node.process_block(chain.decode_block(raw))
    heads = [state["head"] for state in canonical.states]
    lowest = heads.index(
        canonical.states[-1]["latest_pow"]
    )  # below it, the next block would miss its required PoW
    assume(lowest <= canonical.tip - 2)
    back_to = data.draw(st.integers(lowest, canonical.tip - 2), label="roll back to")
    node.rollback_head(back_to)  # as coded (§5.1): no finality guard
    node.process_block(chain.decode_block(canonical.wire[back_to + 2]))  # its parent was rolled back
    assert {h: root.hex() for h, root in node.by_height.items()} == dict(enumerate(heads[: back_to + 3]))
    node.rollback_head(back_to + 1)
    assert node.head.hex() == canonical.states[back_to + 1]["head"]


@given(data=st.data())
def test_the_reference_indexes_a_child_of_a_rolled_back_block_on_its_ancestry(data: st.DataObject) -> None:
    canonical = data.draw(canonical_chains(length=st.integers(2, 8)), label="canonical chain")
    b = canonical.builder
    reference = Chain(b.spec, b.genesis, bls.backend(), b.bitcoin)
    for raw in canonical.wire[1:]:
        reference.process_block(block_from_bytes(raw))
    lowest = reference.block(reference.latest_pow).height  # the reference never undoes finalization
    assume(lowest <= canonical.tip - 2)
    back_to = data.draw(st.integers(lowest, canonical.tip - 2), label="roll back to")
    reference.rollback(back_to)
    reference.process_block(block_from_bytes(canonical.wire[back_to + 2]))
    assert {h: root.hex() for h, root in reference.canonical.items()} == {
        h: canonical.states[h]["head"] for h in range(back_to + 3)
    }
    reference.rollback(back_to + 1)
    assert reference.head.hex() == canonical.states[back_to + 1]["head"]
