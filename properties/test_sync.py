"""Properties of sync and checkpoints: the two machines (models/machines/sync.py), the range
server, bad blocks from peers, what peers claim, the checkpoint set, parallel download, and a full
sync of 10,000 blocks (slow)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models.blocks import block_from_bytes, block_to_bytes
from alys_pbt.models.machines.sync import CheckpointMachine, SyncMachine
from alys_pbt.models.sync import Canonical, RetryReference, expected_checkpoints, fair_rounds, is_a
from alys_pbt.strategies.blocks import relink
from alys_pbt.strategies.sync import (
    ForkView,
    MemoCase,
    RetryCase,
    canonical_chains,
    memo_cases,
    peer_behaviours,
    retry_cases,
    unapproved,
)

pytestmark = pytest.mark.sync

TestSync = machine_test(
    kills(
        "sync-batch-start-off-by-one",
        "sync-trusts-claimed-height",
        "sync-retry-without-backoff",
        "sync-head-moves-before-store",
    )(SyncMachine)
)
TestCheckpoints = machine_test(
    kills(
        "store-checkpoint-before-blocks",
        "store-recover-unverified",
        "store-errors-untyped",
        "sync-head-moves-before-store",
        "store-recovery-deletes-acknowledged",
        "store-rows-unverified",
        "store-tail-loss-unchecked",
        "store-shared-writer",
        "sync-parallel-swallows-store-errors",
    )(CheckpointMachine)
)


MAX_REQUEST_BLOCKS = 1024  # the node's BlocksByRange limit (app/src/chain.rs, alys-rules.md §5.1)
AT_THE_LIMIT = st.sampled_from([MAX_REQUEST_BLOCKS - 1, MAX_REQUEST_BLOCKS, MAX_REQUEST_BLOCKS + 1])


@kills("sync-serve-count-off-by-one")
@given(
    head=st.integers(0, 40) | st.integers(MAX_REQUEST_BLOCKS - 2, MAX_REQUEST_BLOCKS + 40),
    start=st.integers(0, 50) | st.just(0),
    count=st.integers(0, 2000) | AT_THE_LIMIT,
)
def test_range_requests_get_exactly_the_canonical_blocks(
    target: Target, head: int, start: int, count: int
) -> None:
    """BlocksByRange(start, count) answers blocks start..min(start + min(count, 1024) - 1, head), in
    order: the count limit probed at, just below and just past 1,024, on chains longer than it."""
    blocks = [f"block {h}".encode() for h in range(head + 1)]
    got = target.sync.serve(blocks, start, count)
    expected = blocks[start : min(start + min(count, MAX_REQUEST_BLOCKS) - 1, head) + 1]
    assert got == expected, f"{len(got)} blocks from {start}, expected {len(expected)}"


@kills("sync-timeout-inclusive")
@given(
    latency=st.sampled_from([14.999, 15.0, 15.001, 9.999, 10.0, 10.001]) | st.floats(0.0, 30.0),
    delayed=st.booleans(),
)
def test_a_response_times_out_only_past_the_request_timeout(
    target: Target, latency: float, delayed: bool
) -> None:
    """A response that takes longer than the 15 s request timeout is lost; one that takes exactly
    15 s arrives (probed at, just below and just past the limit, with and without a 5 s delay)."""
    network = target.sync.network()
    network.add_peer("p", [b"genesis", b"block 1"])
    network.set_latency(latency)
    if delayed:
        network.queue_faults("p", ["delay"])
    elapsed = latency + (5.0 if delayed else 0.0)
    try:
        got = network.blocks_by_range("p", 1, 1)
    except Exception as err:  # a lost response is a PeerUnreachable (a ConnectionError), by name
        if not is_a(err, "ConnectionError"):
            raise
        got = None
    (request,) = network.requests()
    note(f"took {elapsed} s: {request.outcome}")
    assert (got is None) == (elapsed > 15.0), f"a response after {elapsed} s: {request.outcome}"
    assert request.outcome == ("timed out" if elapsed > 15.0 else "answered")


@given(canonical=canonical_chains(length=st.integers(1, 12)), behaviour=st.sampled_from(["fork", "corrupt"]))
def test_a_bad_block_from_a_peer_costs_the_node_nothing(
    target: Target, canonical: Canonical, behaviour: str
) -> None:
    """A synced node offered an invalid next block keeps its head and its finalization."""
    held = canonical.tip
    canonical.extend(1)
    b = canonical.builder
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1 : held + 1]:
        node.process_block(target.chain.decode_block(raw))
    before = (node.head_height, node.finalized_height)
    network = target.sync.network()
    bad = [*canonical.wire[: held + 1], unapproved(canonical.wire[-1])]
    network.add_peer("byzantine", bad if behaviour == "fork" else list(canonical.wire))
    if behaviour == "corrupt":
        network.queue_faults("byzantine", ["corrupt"])
    engine = target.sync.engine(node, network, target.sync.store(interval=2, retention=2))
    note(f"held {held}, outcome {engine.round()}")
    assert (node.head_height, node.finalized_height) == before


@kills("bls-memo-ignores-message", "bls-memo-ignores-keys")
@given(case=memo_cases())
def test_the_verification_memo_answers_as_a_fresh_verifier_when_inputs_are_reused(
    target: Target, case: MemoCase
) -> None:
    """Sync checks each block's aggregate signature twice and memoizes the answer. A block that
    reuses a verified block's signature over another message, or its message and signature under
    another federation's keys, gets the verdict of the same target with an empty memo."""
    canonical, h, reuse = case.canonical, case.height, case.reuse
    b = canonical.builder
    seen = target.chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:]:
        seen.process_block(target.chain.decode_block(raw))  # the memo learns every canonical block
    spec, candidate = b.spec, canonical.wire[h]
    if reuse == "another message":
        signed = block_from_bytes(candidate)
        payload = attrs.evolve(signed.message.execution_payload, extra_data=b"reused signature")
        candidate = block_to_bytes(
            attrs.evolve(signed, message=relink(attrs.evolve(signed.message, execution_payload=payload)))
        )
    elif reuse == "other keys":
        spec = attrs.evolve(spec, authorities=case.other)

    def verdict(t: Any) -> str:
        node = t.chain.node(spec, b.genesis, b.bitcoin)
        for raw in canonical.wire[1:h]:
            node.import_trusted(t.chain.decode_block(raw))  # the parent chain, without verification
        try:
            node.process_block(t.chain.decode_block(candidate))
        except Exception as err:  # noqa: BLE001 - the verdict is the error's name
            return type(err).__name__
        return "imported"

    # A new target: an empty memo (a target over the protocol: a new server, from the same spec).
    again = targets.load(getattr(target, "spec", None) or target.name)
    try:
        memoized, fresh = verdict(target), verdict(again)
    finally:
        if callable(close := getattr(again, "close", None)):
            close()
    note(f"block {h}, {reuse}: memoized {memoized}, fresh {fresh}")
    assert memoized == fresh, (
        f"block {h} with {reuse}: {memoized} after the memo saw the chain, {fresh} without"
    )


@kills("sync-trusts-claimed-height", "sync-batch-start-off-by-one")
@given(
    canonical=canonical_chains(length=st.integers(1, 12)),
    behaviours=st.lists(peer_behaviours(), min_size=1, max_size=4),
    batch=st.integers(1, 4),
)
def test_sync_reaches_the_tip_whatever_peers_claim(
    target: Target, canonical: Canonical, behaviours: list[str], batch: int
) -> None:
    """With one honest peer among liars, laggards, withholders and forks, sync ends at the tip."""
    b = canonical.builder
    network = target.sync.network()
    names = [f"p{i}-{kind}" for i, kind in enumerate(behaviours)] + ["z-honest"]
    for name, kind in zip(names, [*behaviours, "honest"], strict=True):
        chain = ForkView(canonical.wire, 1) if kind == "fork" else canonical.wire
        network.add_peer(name, list(chain), kind, lag=1, claimed=0 if kind == "lying" else None)
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(
        node,
        network,
        target.sync.store(interval=3, retention=2),
        batch=batch,
    )
    outcome = engine.sync(max_rounds=fair_rounds(len(names), canonical.tip, engine.batch))
    note(f"{outcome} at {node.head_height}, tip {canonical.tip}")
    assert outcome == "synced" and node.head_height == canonical.tip


@kills("sync-retry-without-backoff", "sync-breaker-never-opens", "sync-failures-never-reset")
@given(case=retry_cases(), latency=st.sampled_from([0.05, 1.0, 12.0]))
def test_a_failing_peer_is_asked_again_only_when_the_retry_policy_allows(
    target: Target, case: RetryCase, latency: float
) -> None:
    """A peer that failed waits out its backoff (1 s, 2 s, ... 30 s for failures in a row) and,
    after three in a row, its 60 s circuit breaker; a lone peer is asked again as soon as allowed."""
    canonical = case.canonical
    b = canonical.builder
    network = target.sync.network()
    network.set_latency(latency)  # 12 s: a response delayed by 5 s more misses the 15 s timeout
    for peer in case.peers:
        chain = ForkView(canonical.wire, peer.fork_at) if peer.behaviour == "fork" else canonical.wire
        network.add_peer(
            peer.name, list(chain), peer.behaviour, lag=2, claimed=0 if peer.behaviour == "lying" else None
        )
        network.queue_faults(
            peer.name, list(peer.faults)
        )  # each next response: None (it gets through) or a fault
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(
        node,
        network,
        target.sync.store(interval=5, retention=2),
        batch=case.batch,
    )
    engine.sync(max_rounds=fair_rounds(len(case.peers), canonical.tip, engine.batch))
    reference = RetryReference(canonical.wire)
    for n, request in enumerate(network.requests(), start=1):
        earliest = reference.admit(request)
        note(
            f"request {n} to {request.peer}: {request.sent:g}-{request.ended:g} "
            f"s, {request.outcome}; allowed from {earliest:g} s"
        )
        assert request.sent >= earliest, (
            f"{request.peer} asked at {request.sent:g} s (request {n}), before {earliest:g} s"
        )
        if len(case.peers) == 1:
            assert request.sent <= earliest + 0.01, (
                f"{request.peer} left alone until {request.sent:g} "
                f"s (request {n}), allowed from {earliest:g} s"
            )


@kills("store-retention-off-by-one")
@given(
    canonical=canonical_chains(length=st.integers(1, 18)),
    interval=st.integers(1, 5),
    retention=st.integers(1, 4),
)
def test_checkpoints_follow_the_interval_and_hold_the_reference_state(
    target: Target, canonical: Canonical, interval: int, retention: int
) -> None:
    """After importing n blocks: the last `retention` multiples of `interval`, each verifying
    and holding the reference state at its height."""
    b = canonical.builder
    store = target.sync.store(interval=interval, retention=retention)
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, target.sync.network(), store)
    for raw in canonical.wire[1:]:
        engine.import_block(raw)
    kept = store.checkpoints()
    assert [cp.height for cp in kept] == expected_checkpoints(canonical.tip, interval, retention)
    for cp in kept:
        assert cp.verified and cp.state == canonical.states[cp.height], f"checkpoint {cp.height}"


@kills("store-checkpoint-before-blocks")
@given(
    canonical=canonical_chains(length=st.integers(1, 14)),
    interval=st.integers(1, 3),
    kind=st.sampled_from(["io-error", "torn"]),
    at_write=st.integers(1, 16),
)
def test_a_crash_at_any_write_loses_nothing_acknowledged(
    target: Target, canonical: Canonical, interval: int, kind: str, at_write: int
) -> None:
    """A disk fault at any write: no checkpoint without its block, none that verifies but is
    wrong, and recovery holds every block the store acknowledged."""
    b = canonical.builder
    store = target.sync.store(interval=interval, retention=2)
    store.set_fault(at_write, kind)
    engine = target.sync.engine(target.chain.node(b.spec, b.genesis, b.bitcoin), target.sync.network(), store)
    acknowledged = 0
    for height, raw in enumerate(canonical.wire[1:], start=1):
        try:
            engine.import_block(raw)
        except Exception as crash:
            if not is_a(crash, "OSError"):
                raise
            note(f"crashed storing block {height}: {crash}")
            break
        acknowledged = height
    stored = set(store.stored_heights())
    for cp in store.checkpoints():
        assert cp.height in stored, f"checkpoint {cp.height} for a block that was never committed"
        assert not cp.verified or cp.state == canonical.states[cp.height], (
            f"checkpoint {cp.height} verifies but is wrong"
        )
    store.set_fault(None)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    assert node.head_height >= acknowledged, f"recovered {node.head_height}, acknowledged {acknowledged}"
    assert all(node.by_height[h].hex() == canonical.states[h]["head"] for h in range(node.head_height + 1))


@kills("sync-batch-start-off-by-one")
@given(canonical=canonical_chains(length=st.integers(1, 14)), peers=st.integers(1, 4))
def test_parallel_download_from_several_peers_imports_the_canonical_chain(
    target: Target, canonical: Canonical, peers: int
) -> None:
    """Disjoint ranges fetched from several peers at once are imported in order, to the tip."""
    b = canonical.builder
    network = target.sync.network()
    for i in range(peers):
        network.add_peer(f"p{i}", canonical.wire)
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, network, target.sync.store(interval=5, retention=2))
    engine.sync_parallel(network.peer_names(), canonical.tip)
    if node.head_height < canonical.tip:
        engine.sync(max_rounds=fair_rounds(peers, canonical.tip))
    note(f"tip {canonical.tip}, node {node.head_height}")
    assert node.head_height == canonical.tip


@pytest.mark.slow
@settings(max_examples=1, deadline=None)
@kills("sync-batch-start-off-by-one")
# Built once and kept on disk (strategies/sync.py `cached`): building 10,000 signed blocks takes ~18 s.
@given(canonical=canonical_chains(length=10_000, cached=True))
def test_full_sync_of_ten_thousand_blocks_from_several_peers_with_faults(
    target: Target, canonical: Canonical
) -> None:
    """10,000 blocks from three peers, one lagging and one dropping responses: the canonical chain."""
    b = canonical.builder
    network = target.sync.network()
    network.add_peer("honest", canonical.wire)
    network.add_peer("lagging", canonical.wire, "lagging", lag=500)
    network.add_peer("flaky", canonical.wire)
    network.queue_faults("flaky", ["drop", "corrupt", "drop", "reorder"] * 3)
    node = target.chain.node(b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, network, target.sync.store(interval=100, retention=10))
    assert engine.sync(max_rounds=fair_rounds(3, canonical.tip, engine.batch)) == "synced"
    assert node.head_height == 10_000 and node.head.hex() == canonical.states[-1]["head"]


@kills("store-recover-unverified")
@given(
    canonical=canonical_chains(length=st.integers(1, 12)),
    interval=st.integers(1, 3),
    retention=st.integers(1, 3),
    older=st.lists(st.integers(1, 2), max_size=2, unique=True),
)
def test_recovery_never_trusts_a_rotted_checkpoint(
    target: Target, canonical: Canonical, interval: int, retention: int, older: list[int]
) -> None:
    """The newest checkpoint rots (and maybe older ones: 1 = the one before it): recovery ignores
    every checkpoint that no longer verifies, replays from the newest that does (or genesis), and
    the node is back at the acknowledged tip on the canonical chain."""
    b = canonical.builder
    store = target.sync.store(interval=interval, retention=retention)
    engine = target.sync.engine(target.chain.node(b.spec, b.genesis, b.bitcoin), target.sync.network(), store)
    for raw in canonical.wire[1:]:
        engine.import_block(raw)
    kept = [cp.height for cp in store.checkpoints()]
    rotted = [kept[-1 - i] for i in [0, *older] if i < len(kept)]
    for height in rotted:
        store.corrupt_checkpoint(height)
    note(f"checkpoints {kept}, rotted {rotted}")
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    assert node.head_height == canonical.tip and node.head.hex() == canonical.states[-1]["head"]
    assert all(node.by_height[h].hex() == canonical.states[h]["head"] for h in range(canonical.tip + 1))
