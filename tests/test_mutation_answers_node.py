"""What mutation testing of alys/node.py found unanswered (issue 14, docs/mutation.md), answered.

Recovery's entry points into the node (alys/sync/store.py replays a verified checkpoint through
them): `import_trusted`, `restore_pointer` and `holds`. A node rebuilt through them from a chain
another node validated block by block holds exactly that node's state; `holds` tells the blocks on
its chain from those that are not, above the tip too; a pointer to a block the store does not hold
is refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.blocks import block_from_bytes, block_to_bytes
from alys_pbt.models.chain import Chain
from alys_pbt.strategies.sync import Canonical, canonical_chains
from alys_pbt.verdict import verdict


def state(node: Any) -> dict[str, Any]:
    """What the node persists and derives (alys/node.py Node)."""
    return {
        "head": node.head,
        "head_height": node.head_height,
        "latest_pow": node.latest_pow,
        "finalized": node.finalized,
        "by_height": dict(node.by_height),
        "fees": dict(node.fees),
        "stored": node.stored,
        "wallet": set(node.wallet),
    }


@given(canonical=canonical_chains(length=st.integers(1, 6)))
def test_a_node_rebuilt_from_trusted_blocks_holds_what_validation_built(canonical: Canonical) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    blocks = [chain.decode_block(raw) for raw in canonical.wire[1:]]
    validated = chain.node(b.spec, b.genesis, b.bitcoin)
    for signed in blocks:
        validated.process_block(signed)
    rebuilt = chain.node(b.spec, b.genesis, b.bitcoin)
    for signed in blocks:
        rebuilt.import_trusted(signed)
    rebuilt.restore_pointer(validated.latest_pow)
    assert state(rebuilt) == state(validated)
    assert all(rebuilt.holds(signed) for signed in blocks)


@given(canonical=canonical_chains(length=st.integers(2, 6)), data=st.data())
def test_holds_only_the_blocks_on_the_chain(canonical: Canonical, data: st.DataObject) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    blocks = [chain.decode_block(raw) for raw in canonical.wire[1:]]
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    cut = data.draw(st.integers(1, len(blocks) - 1), label="blocks imported")
    for signed in blocks[:cut]:
        node.process_block(signed)
    assert all(node.holds(signed) for signed in blocks[:cut])
    assert not any(node.holds(signed) for signed in blocks[cut:])  # above the tip: not held, no error
    node.rollback_head(cut - 1)
    assert not node.holds(blocks[cut - 1])  # rolled back: stored, but off the chain
    assert all(node.holds(signed) for signed in blocks[: cut - 1])


@given(canonical=canonical_chains(length=st.integers(1, 4)))
def test_a_pointer_to_a_block_not_stored_is_refused_by_name(canonical: Canonical) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    before = state(node)
    unknown = bytes(31) + b"\x01"
    with pytest.raises(ValueError, match=r"^checkpoint names a latest PoW block the store does not hold$"):
        node.restore_pointer(unknown)
    assert state(node) == before


@given(canonical=canonical_chains(length=st.integers(4, 6)))
def test_rolling_back_to_the_heads_own_height_changes_nothing(canonical: Canonical) -> None:
    # rollback_head returns at once for a height at or above the head's (chain.rs): even where the
    # latest-PoW pointer is not the highest PoW block on the chain (recovery restores it as the
    # checkpoint recorded it), nothing is recomputed.
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:]:
        node.process_block(chain.decode_block(raw))
    assert node.latest_pow != node.by_height[0]  # a PoW block at least every 4 blocks
    node.restore_pointer(node.by_height[0])
    before = state(node)
    node.rollback_head(node.head_height)
    node.rollback_head(node.head_height + 1)
    assert state(node) == before


@given(canonical=canonical_chains(length=st.just(4)))
def test_a_range_that_leaves_the_store_is_refused_whole(canonical: Canonical) -> None:
    # chain.rs check_pow walks from range_end to range_start's parent: a hash it does not hold on
    # the way (here an unknown range end) is InvalidBlockRange, before anything is written.
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:4]:
        node.process_block(chain.decode_block(raw))
    pow_block = block_from_bytes(canonical.wire[4])  # PoW at least every 4 blocks: block 4 has it
    header = pow_block.message.auxpow_header
    assert header is not None
    end = bytes(31) + b"\x11"
    bad = b.sign(attrs.evolve(pow_block.message, auxpow_header=attrs.evolve(header, range_end=end)))
    reference = Chain(b.spec, b.genesis, bls.backend(), b.bitcoin)
    for raw in canonical.wire[1:4]:
        reference.process_block(block_from_bytes(raw))
    assert verdict(lambda: reference.process_block(bad)) == "InvalidBlockRange"
    before = state(node)
    assert verdict(lambda: node.process_block(chain.decode_block(block_to_bytes(bad)))) == "InvalidBlockRange"
    assert state(node) == before
