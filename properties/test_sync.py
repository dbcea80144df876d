"""Properties of sync and checkpoints: the two machines (models/sync_machines.py), the range
server, parallel download, and a full sync of 10,000 blocks (slow)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt.killing import kills
from models.sync_machines import Canonical, CheckpointMachine, SyncMachine, _new_chain

pytestmark = pytest.mark.sync

TestSync = kills("sync-batch-start-off-by-one", "sync-trusts-claimed-height")(SyncMachine).TestCase
TestCheckpoints = kills("store-checkpoint-before-blocks", "store-recover-unverified")(CheckpointMachine).TestCase


@kills("sync-batch-start-off-by-one")
@given(head=st.integers(0, 40), start=st.integers(0, 50), count=st.integers(0, 2000))
def test_range_requests_get_exactly_the_canonical_blocks(target: Any, head: int, start: int, count: int) -> None:
    """BlocksByRange(start, count) answers blocks start..min(start + count - 1, head), in order."""
    blocks = [f"block {h}".encode() for h in range(head + 1)]
    got = target.sync.serve(blocks, start, count)
    expected = blocks[start : min(start + min(count, 1024) - 1, head) + 1]
    assert got == expected


@kills("sync-batch-start-off-by-one")
@given(data=st.data(), peers=st.integers(1, 4))
def test_parallel_download_from_several_peers_imports_the_canonical_chain(target: Any, data: st.DataObject, peers: int) -> None:
    """Disjoint ranges fetched from several peers at once are imported in order, to the tip."""
    from alys.sync.engine import SimPeer

    canonical = _new_chain(data)
    canonical.extend(data.draw(st.integers(1, 8)))
    b = canonical.builder
    network = target.sync.network()
    for i in range(peers):
        network.peers[f"p{i}"] = SimPeer(f"p{i}", canonical.wire)
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, network, target.sync.store(interval=5, retention=2))
    engine.sync_parallel(sorted(network.peers), canonical.tip)
    if node.head_height < canonical.tip:
        engine.sync()
    note(f"tip {canonical.tip}, node {node.head_height}")
    assert node.head_height == canonical.tip


@pytest.mark.slow
@settings(max_examples=1, deadline=None)
@kills("sync-batch-start-off-by-one")
@given(data=st.data())
def test_full_sync_of_ten_thousand_blocks_from_several_peers_with_faults(target: Any, data: st.DataObject) -> None:
    """10,000 blocks from three peers, one lagging and one dropping responses: the canonical chain."""
    from alys.sync.engine import SimPeer

    canonical = _new_chain(data)
    canonical.extend(10_000 - canonical.tip)
    b = canonical.builder
    network = target.sync.network()
    network.peers["honest"] = SimPeer("honest", canonical.wire)
    network.peers["lagging"] = SimPeer("lagging", canonical.wire, "lagging", lag=500)
    network.peers["flaky"] = SimPeer("flaky", canonical.wire)
    network.faults["flaky"] = ["drop", "corrupt", "drop", "reorder"] * 3
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, network, target.sync.store(interval=100, retention=10))
    assert engine.sync() == "synced"
    assert node.head_height == 10_000 and node.head.hex() == canonical.states[-1]["head"]

