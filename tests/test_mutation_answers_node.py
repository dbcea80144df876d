"""What mutation testing of alys/node.py found unanswered (issue 14, docs/mutation.md), answered.

Recovery's entry points into the node (alys/sync/store.py replays a verified checkpoint through
them): `import_trusted`, `restore_pointer` and `holds`. A node rebuilt through them from a chain
another node validated block by block holds exactly that node's state; `holds` tells the blocks on
its chain from those that are not, above the tip too; a pointer to a block the store does not hold
is refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.strategies.sync import Canonical, canonical_chains


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
