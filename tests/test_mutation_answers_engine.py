"""Answers to mutation survivors of the sync engine (alys/sync/engine.py, docs/mutation.md): what
recovery says about an acknowledged row that passes the store's own checks and is still wrong.

The store's check() at open vouches for every acknowledged row's digest (and, for the newest, the
acknowledgement record); these rows pass it: the damage is one the digest cannot see (a row written
with a consistent digest over the wrong hash) or a change of the rules the node validates with.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alys.sync.store import row_digest  # the port's own row digest: the damage must pass check()
from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder
from alys_pbt.strategies.sync import FEDERATION_SPK

NO_CHECKPOINT = 100  # every stored row is validated again at recovery, none trusted


def spec_of(secret_keys: tuple[int, ...]) -> ChainSpec:
    b = bls.backend("blst")
    keys = tuple(b.SkToPk(sk) for sk in secret_keys)
    return ChainSpec(keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4)


def three_authorities() -> Canonical:
    """An empty chain (genesis) approved by the authorities with secret keys 11, 12, 13."""
    b = bls.backend("blst")
    keyring = Keyring((11, 12, 13), tuple(b.SkToPk(sk) for sk in (11, 12, 13)))
    return Canonical(ChainBuilder(spec_of((11, 12, 13)), keyring, b))


@pytest.fixture(scope="module")
def canonical() -> Canonical:
    """Five blocks after genesis, approved by the authorities with secret keys 11, 12, 13."""
    chain = three_authorities()
    chain.extend(5)
    return chain


class StoreFiles:
    """Store files holding the canonical blocks 1..height, written through alys-fixed's engine (no
    checkpoint) and closed; the stores opened on them again are closed at the end."""

    def __init__(self, canonical: Canonical, directory: Path) -> None:
        self.canonical, self.directory, self.target = canonical, directory, targets.load("alys-fixed")
        self.opened: list[Any] = []

    def holding(self, height: int) -> str:
        """The path of a closed store file with blocks 1..height, all acknowledged."""
        b, path = self.canonical.builder, str(self.directory / f"to-{height}.sqlite")
        store = self.target.sync.store(interval=NO_CHECKPOINT, retention=2, path=path)
        node = self.target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
        engine = self.target.sync.engine(node, self.target.sync.network(), store)
        for h in range(1, height + 1):
            engine.import_block(self.canonical.wire[h])
        store.close()
        return path

    def open(self, path: str) -> Any:
        self.opened.append(self.target.sync.store(interval=NO_CHECKPOINT, retention=2, path=path))
        return self.opened[-1]


@pytest.fixture
def stored(canonical: Canonical, tmp_path: Path) -> Iterator[StoreFiles]:
    files = StoreFiles(canonical, tmp_path)
    yield files
    for store in files.opened:
        store.close()


def test_an_acknowledged_row_naming_another_hash_is_a_corrupt_block_at_its_height(
    canonical: Canonical, stored: StoreFiles
) -> None:
    """Row 3 of 5 names a hash its block does not have, under a digest made for that hash (so the
    store's check passes): recovery replays the block, finds the head is not the hash the row names,
    and refuses with CorruptBlock at 3, saying so; nothing is deleted. (Survivors: recover's
    `verify_hash` and its "does not decode to the block its hash names" error, height and text.)"""
    path = stored.holding(5)
    with sqlite3.connect(path) as db:
        (data,) = db.execute("SELECT data FROM blocks WHERE height = 3").fetchone()
        wrong = b"\x01" * 32
        db.execute(
            "UPDATE blocks SET hash = ?, digest = ? WHERE height = 3", (wrong, row_digest(3, wrong, data))
        )
    db.close()  # (the context manager commits, it does not close)
    store, b = stored.open(path), canonical.builder
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        targets.load("alys-fixed").sync.recover(store, b.spec, b.genesis, b.bitcoin)
    assert type(refused.value).__name__ == "CorruptBlock"
    assert refused.value.height == 3
    assert str(refused.value) == "acknowledged block 3: does not decode to the block its hash names"
    assert list(store.stored_heights()) == [1, 2, 3, 4, 5], "an acknowledged row was deleted"


def test_the_newest_acknowledged_block_that_no_longer_validates_is_refused_not_cut_off(
    canonical: Canonical, stored: StoreFiles
) -> None:
    """The store holds block 1, acknowledged; recovery runs under another federation (keys 21, 22,
    23), so block 1's approval no longer verifies. An acknowledged block is never cut off: recovery
    refuses with CorruptBlock at 1, naming the node's error by type. (Survivors: `height <=
    store.acknowledged` as `<`, which drops the newest acknowledged block as if it were a torn
    write, and the "no longer validates" error's height and text.)"""
    path = stored.holding(1)
    store, b = stored.open(path), canonical.builder
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        targets.load("alys-fixed").sync.recover(store, spec_of((21, 22, 23)), b.genesis, b.bitcoin)
    assert type(refused.value).__name__ == "CorruptBlock"
    assert refused.value.height == 1
    assert str(refused.value).startswith("acknowledged block 1: no longer validates (BadSignature: ")
    assert list(store.stored_heights()) == [1] and store.acknowledged == 1


# --- the simulated network's own interface (docs/protocol.md `network.*`) -----------------------------------


def test_an_unknown_fault_is_refused_naming_it_and_the_faults_there_are_and_nothing_is_queued() -> None:
    """A fault the network does not know is a ValueError that names it and lists the known ones, and
    the call queues none of its faults, not even the valid ones before it (no half-applied change).
    (Survivors: queue_faults' error message.)"""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", [b"genesis"])
    with pytest.raises(
        ValueError, match=r"^unknown network fault 'flood': one of drop, duplicate, reorder, corrupt, delay$"
    ):
        network.queue_faults("p", ["drop", "flood"])
    network.queue_faults("p", [None, "delay"])
    assert network.faults == {"p": [None, "delay"]}, "the refused call queued some of its faults"


def test_a_partitioned_peer_is_unreachable_until_the_partition_heals() -> None:
    """A peer partitioned away is not reachable (its status raises PeerUnreachable, naming it); the
    others stay; heal() brings it back. (Survivor: partition() recording no peer.)"""
    network = targets.load("alys-fixed").sync.network()
    for name in ("a", "b"):
        network.add_peer(name, [b"genesis", b"one"])
    network.partition("a")
    assert network.reachable() == ["b"]
    with pytest.raises(ConnectionError, match=r"^a$"):
        network.status("a")
    assert network.status("b") == 1
    network.heal()
    assert network.reachable() == ["a", "b"]


# --- a write the store refuses ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain_with_a_pegin() -> Canonical:
    """Three blocks after genesis; block 2 mints a peg-in (its deposit in the Bitcoin view)."""
    chain = three_authorities()
    chain.extend(1)
    chain.builder.add_pegin(50_000, b"\x21" * 20)
    chain.extend(2)
    c = chain.builder.chain
    assert [h for h in range(1, chain.tip + 1) if c.block(c.canonical[h]).pegins] == [2]
    return chain


def test_a_pegin_block_the_store_refuses_is_unminted_and_imports_again(
    chain_with_a_pegin: Canonical, tmp_path: Path
) -> None:
    """The store fails the write of block 2, which mints a peg-in: the head goes back to 1 and the
    peg-in is unminted with it, so once the store works again the same block imports (were its txid
    left in the wallet, the node would refuse it as a double mint) and the chain reaches its tip.
    (Survivors: _undo's wallet lookup and its `is not None` test.)"""
    chain, b, target = chain_with_a_pegin, chain_with_a_pegin.builder, targets.load("alys-fixed")
    store = target.sync.store(interval=NO_CHECKPOINT, retention=2, path=str(tmp_path / "s.sqlite"))
    try:
        node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
        engine = target.sync.engine(node, target.sync.network(), store)
        engine.import_block(chain.wire[1])
        minted_before = set(node.wallet)
        store.set_fault(store.writes + 1, "io-error")
        with pytest.raises(OSError):  # noqa: PT011 - the store's typed refusal; its class is the store's
            engine.import_block(chain.wire[2])
        assert node.head_height == 1 and set(node.wallet) == minted_before, (
            "the refused block's peg-in stayed"
        )
        store.set_fault(None)
        for h in range(2, chain.tip + 1):
            engine.import_block(chain.wire[h])
        assert node.head_height == chain.tip == store.acknowledged
    finally:
        store.close()


# --- the retry policy through sync() ------------------------------------------------------------------------


def rig(
    canonical: Canonical, network: Any, *, name: str = "alys-fixed", batch: int = 1024
) -> tuple[Any, Any, Any]:
    """Target `name`'s node at genesis over an in-memory store, the store, and an engine on `network`."""
    b, target = canonical.builder, targets.load(name)
    store = target.sync.store(interval=NO_CHECKPOINT, retention=2)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    return node, store, target.sync.engine(node, network, store, batch=batch)


def syncing_node(canonical: Canonical, network: Any) -> tuple[Any, Any]:
    """alys-fixed's node at genesis over an in-memory store, and its engine on `network`."""
    node, _, engine = rig(canonical, network)
    return node, engine


def test_a_sync_waits_out_the_backoff_in_simulated_time_and_reaches_the_tip(canonical: Canonical) -> None:
    """The only peer drops its first answer: the round fails, the peer backs off 1 s, the next round
    finds nobody available ("idle") and sync() moves simulated time to the end of the backoff, then
    syncs to the tip. (Survivors: sync()'s idle handling, the wait it computes, round's "idle".)"""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.queue_faults("p", ["drop"])
    node, engine = syncing_node(canonical, network)
    assert engine.sync() == "synced"
    assert node.head_height == canonical.tip
    outcomes = [outcome for outcome, _, _ in engine.sync_rounds()]
    # one idle round: sync() jumps to the end of the backoff, it does not creep up on it
    assert outcomes == ["failed", "idle", "synced"], outcomes  # one batch holds the whole chain
    answered = [r for r in network.requests() if r.outcome == "answered"]
    # sent after the drop's 15 s timeout plus the 1 s backoff, and not later than a millisecond past it
    assert 16.0 <= answered[0].sent <= 16.0 + 0.002, answered[0]


def test_a_sync_with_no_reachable_peer_stalls_at_once(canonical: Canonical) -> None:
    """Every peer disconnected: nothing to wait for, sync() says "stalled" after one round."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.disconnect("p")
    node, engine = syncing_node(canonical, network)
    assert engine.sync() == "stalled"
    assert node.head_height == 0 and [o for o, _, _ in engine.sync_rounds()] == ["idle"]


def test_a_good_answer_ends_the_peers_run_of_failures(canonical: Canonical) -> None:
    """A drop counts one failure; the peer's next answer, once its backoff is over, resets the count
    to 0 (§5.1: consecutive failures). (Survivors: _succeed's guard and the peer it resets.)"""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.queue_faults("p", ["drop"])
    _, engine = syncing_node(canonical, network)
    assert engine.round() == "failed"
    assert engine.standing("p").failures == 1
    network.advance(1.0)  # the 1 s backoff after one failure
    assert engine.round() in ("progress", "synced")
    assert engine.standing("p").failures == 0


def test_a_sync_that_runs_out_of_rounds_before_the_tip_says_it_stalled(canonical: Canonical) -> None:
    """One block per request and one round allowed: sync() stops after it, short of the tip, and
    says "stalled", not "synced". (Survivor: the outcome after the last round.)"""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    node, _store, engine = rig(canonical, network, batch=1)
    assert engine.sync(max_rounds=1) == "stalled"
    assert node.head_height == 1 < canonical.tip


# --- the network's answers, request by request ------------------------------------------------------------

CHAIN = [bytes([h]) * (4 + h) for h in range(6)]  # heights 0..5: the network never decodes a block


def network_with(*peers: tuple[str, str], chain: list[bytes] = CHAIN, lag: int = 0) -> Any:
    network = targets.load("alys-fixed").sync.network()
    for name, behaviour in peers:
        network.add_peer(name, chain, behaviour, lag=lag)
    return network


def test_a_peer_is_linked_as_it_joins_even_after_a_topology_was_wired() -> None:
    """A peer added after wire() is linked to the node at once; without a wiring every peer is."""
    network = network_with(("a", "honest"))
    network.wire("ring")
    network.add_peer("z", CHAIN)
    assert "z" in network.reachable()


@pytest.mark.parametrize(
    ("topology", "reachable"),
    [
        # node first, then the peers in name order: me, a, b, c, d
        ("mesh", ["a", "b", "c", "d"]),
        ("star", ["a", "b", "c", "d"]),
        ("ring", ["a", "d"]),  # me-a and d-me close the ring
    ],
)
def test_each_topology_links_the_node_to_exactly_its_neighbours(topology: str, reachable: list[str]) -> None:
    """BlocksByRange is a direct request: only the peers the topology links to the node are reachable."""
    network = network_with(("a", "honest"), ("b", "honest"), ("c", "honest"), ("d", "honest"))
    network.wire(topology)
    assert network.reachable() == reachable


def test_a_random_topology_is_the_ring_plus_the_extra_links_and_no_self_loop() -> None:
    """ "random" is the ring plus the extra index pairs (mod the count): (0, 2) links the node to b;
    (0, 5) is (0, 0), the node to itself, which links nothing."""
    network = network_with(("a", "honest"), ("b", "honest"), ("c", "honest"), ("d", "honest"))
    network.wire("random", [(0, 2), (0, 5)])
    assert network.reachable() == ["a", "b", "d"]
    with pytest.raises(ValueError, match=r"^unknown topology 'torus': mesh, ring, star or random$"):
        network.wire("torus")


def test_a_peer_lagging_past_its_whole_chain_still_serves_genesis() -> None:
    """A lagging peer serves `lag` blocks behind, but never less than genesis: status 0, nothing
    above it; one block less behind, it serves block 1."""
    far = network_with(("p", "lagging"), lag=len(CHAIN) + 3)
    assert far.status("p") == 0 and far.blocks_by_range("p", 1, 10) == []
    near = network_with(("p", "lagging"), lag=len(CHAIN) - 2)
    assert near.status("p") == 1 and near.blocks_by_range("p", 1, 10) == [CHAIN[1]]


def test_add_peer_defaults_to_an_honest_peer_with_no_lag_and_no_claim() -> None:
    """add_peer(name, chain): honest, serving the whole chain, claiming its true height."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", CHAIN)
    assert network.status("p") == len(CHAIN) - 1
    assert network.blocks_by_range("p", 1, 10) == CHAIN[1:]
    network.add_peer("liar", CHAIN, "lying", 0, 99)
    assert network.status("liar") == 99


def test_an_unknown_peer_is_a_value_error_naming_it() -> None:
    """grow and remove_peer of a peer the network does not have name it."""
    network = network_with(("a", "honest"))
    with pytest.raises(ValueError, match=r"^no peer named 'ghost'$"):
        network.remove_peer("ghost")
    with pytest.raises(ValueError, match=r"^no peer named 'ghost'$"):
        network.grow("ghost", [b"x"])


def test_each_request_is_logged_with_its_peer_range_times_and_outcome() -> None:
    """The log: an answered request with its blocks; a dropped one "timed out" 15 s after it was sent;
    one to a disconnected peer "unreachable" at once; each with the start and count asked."""
    network = network_with(("a", "honest"), ("b", "honest"))
    network.advance(10.0)
    network.queue_faults("a", ["drop"])
    network.disconnect("b")
    with pytest.raises(ConnectionError, match=r"^request to a timed out$"):
        network.blocks_by_range("a", 2, 3)
    with pytest.raises(ConnectionError, match=r"^b is not reachable$"):
        network.blocks_by_range("b", 4, 1)
    assert network.blocks_by_range("a", 1, 2) == CHAIN[1:3]
    sent = [(r.sent, r.peer, r.start, r.count, r.ended, r.outcome, r.blocks) for r in network.requests()]
    assert sent == [
        (10.0, "a", 2, 3, 25.0, "timed out", ()),
        (25.0, "b", 4, 1, 25.0, "unreachable", ()),
        (25.0, "a", 1, 2, 25.05, "answered", tuple(CHAIN[1:3])),
    ]
    assert [r.peer for r in network.requests(2)] == ["a"]


@pytest.mark.parametrize(
    ("latency", "fault", "late"),
    [(15.0, None, False), (15.01, None, True), (10.0, "delay", False), (10.01, "delay", True)],
)
def test_a_response_at_exactly_the_timeout_is_in_time(latency: float, fault: str | None, late: bool) -> None:
    """The 15 s request timeout (§5.1): an answer after exactly 15 s (a latency, plus 5 s for a
    delay) arrives; a hundredth of a second more and the request times out."""
    network = network_with(("p", "honest"))
    network.set_latency(latency)
    network.queue_faults("p", [fault])
    if late:
        with pytest.raises(ConnectionError, match=r"timed out"):
            network.blocks_by_range("p", 1, 1)
        assert network.time == 15.0
    else:
        assert network.blocks_by_range("p", 1, 1) == [CHAIN[1]]
        assert network.time == 15.0


@pytest.mark.parametrize(
    ("fault", "count", "answer"),
    [
        ("duplicate", 3, [CHAIN[1], CHAIN[1], CHAIN[2], CHAIN[3]]),
        ("duplicate", 1, [CHAIN[1], CHAIN[1]]),
        ("reorder", 2, [CHAIN[2], CHAIN[1]]),
        ("reorder", 3, [CHAIN[2], CHAIN[1], CHAIN[3]]),
        ("reorder", 1, [CHAIN[1]]),
        (None, 3, CHAIN[1:4]),
    ],
)
def test_a_fault_changes_exactly_one_answer_as_named(
    fault: str | None, count: int, answer: list[bytes]
) -> None:
    """ "duplicate" repeats the first block once, "reorder" swaps the first two (a lone block stays);
    the next answer, with no fault queued, is the plain range again."""
    network = network_with(("p", "honest"))
    network.queue_faults("p", [fault])
    assert network.blocks_by_range("p", 1, count) == answer
    assert network.blocks_by_range("p", 1, count) == CHAIN[1 : 1 + count]


def test_corrupt_flips_every_bit_of_the_middle_byte_of_the_first_block() -> None:
    """ "corrupt": the first block's middle byte XOR 0xFF, the rest of the answer untouched."""
    chain = [b"genesis", bytes(range(10, 19)), b"second"]
    network = network_with(("p", "honest"), chain=chain)
    network.queue_faults("p", ["corrupt"])
    first, second = network.blocks_by_range("p", 1, 2)
    expected = bytearray(chain[1])
    expected[len(expected) // 2] ^= 0xFF
    assert (first, second) == (bytes(expected), chain[2])


def test_a_withholding_peer_answers_nothing_and_claims_its_height() -> None:
    """A withholding peer claims its full height but answers every range with no block."""
    network = network_with(("w", "withholding"))
    assert network.status("w") == len(CHAIN) - 1
    assert network.blocks_by_range("w", 1, 5) == []


# --- a round's outcome, and what it imports ---------------------------------------------------------


def test_a_round_that_imports_reports_progress_and_an_empty_full_answer_failed(canonical: Canonical) -> None:
    """A full batch imported is "progress"; a withholding peer's empty answer, while another peer has
    not answered short, is "failed" (nothing imported), the other peer next in turn."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("a-withholds", list(canonical.wire), "withholding")
    network.add_peer("b-honest", list(canonical.wire))
    node, _store, engine = rig(canonical, network, batch=2)
    assert engine.round() == "failed" and node.head_height == 0
    assert engine.round() == "progress" and node.head_height == 2
    assert [r.peer for r in network.requests()] == ["a-withholds", "b-honest"]


def test_a_duplicated_block_is_skipped_and_the_rest_of_the_answer_imported(canonical: Canonical) -> None:
    """A "duplicate" answer repeats the first block: the copy is a block the node holds, harmless,
    and the blocks after it still import."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.queue_faults("p", ["duplicate"])
    node, _store, engine = rig(canonical, network, batch=2)
    assert engine.round() == "progress"
    assert node.head_height == 2 and engine.acknowledged == 2
    assert engine.standing("p").failures == 0


def test_a_store_failure_in_a_round_is_not_held_against_the_peer(canonical: Canonical) -> None:
    """The peer answered well; the store refused the write: the round raises the store's error and
    the peer's earlier failure is forgiven, as for any good answer."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.queue_faults("p", ["drop"])
    node, store, engine = rig(canonical, network)
    assert engine.round() == "failed" and engine.standing("p").failures == 1
    network.advance(1.0)
    store.set_fault(store.writes + 1, "io-error")
    with pytest.raises(OSError):  # noqa: PT011 - the store's typed refusal
        engine.round()
    assert engine.standing("p").failures == 0 and node.head_height == 0


def test_a_fresh_engine_has_acknowledged_nothing_and_run_no_round(canonical: Canonical) -> None:
    """Before any import: acknowledged 0, no round in its trace, and its first round asks the first
    peer in name order."""
    network = targets.load("alys-fixed").sync.network()
    for name in ("b", "a"):
        network.add_peer(name, list(canonical.wire))
    _, engine = syncing_node(canonical, network)
    assert engine.acknowledged == 0 and engine.sync_rounds() == []
    engine.round()
    assert network.requests()[0].peer == "a"


def test_sync_gives_up_after_exactly_ten_thousand_rounds_by_default(canonical: Canonical) -> None:
    """sync() with no max_rounds: a peer that fails every answer keeps it busy until 10,000 rounds
    (failed and idle ones alike) have run, then it says "stalled"."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", list(canonical.wire))
    network.queue_faults("p", ["drop"] * 10_001)
    node, engine = syncing_node(canonical, network)
    assert engine.sync() == "stalled"
    assert len(engine.sync_rounds()) == 10_000 and node.head_height == 0


# --- parallel download --------------------------------------------------------------------------------------


def parallel(canonical: Canonical, chains: dict[str, list[bytes]]) -> tuple[Any, Any, Any]:
    network = targets.load("alys-fixed").sync.network()
    for name, chain in chains.items():
        network.add_peer(name, chain)
    node, engine = syncing_node(canonical, network)
    return network, node, engine


@pytest.mark.parametrize(
    ("target", "ranges"),
    [
        (4, [("a", 1, 2), ("b", 3, 2)]),  # ceil(4 / 2) = 2 each
        (5, [("a", 1, 3), ("b", 4, 2)]),  # ceil(5 / 2) = 3, the last range cut at the target
    ],
)
def test_a_parallel_download_deals_equal_ranges_up_to_the_target(
    canonical: Canonical, target: int, ranges: list[tuple[str, int, int]]
) -> None:
    """Heights head+1..target in ranges of ceil(n / peers) (at most a batch), dealt round-robin,
    the last one ending at the target; every block imported in order."""
    wire = list(canonical.wire)
    network, node, engine = parallel(canonical, {"a": wire, "b": wire})
    assert engine.sync_parallel(["a", "b"], target) == target
    assert [(r.peer, r.start, r.count) for r in network.requests()] == ranges
    assert node.head_height == target


def test_a_parallel_download_with_no_peer_or_nothing_to_fetch_imports_nothing(canonical: Canonical) -> None:
    """No peer given, or a target at or below the head: no request, 0 imported."""
    wire = list(canonical.wire)
    network, node, engine = parallel(canonical, {"a": wire})
    assert engine.sync_parallel([], 5) == 0
    assert engine.sync_parallel(["a"], 0) == 0
    assert network.requests() == [] and node.head_height == 0


def test_a_bad_block_in_a_parallel_download_charges_the_peer_that_served_it(canonical: Canonical) -> None:
    """Peer a serves heights 1..3 with an undecodable block at 3, peer b 4..5: blocks 1 and 2 import,
    the download stops at 3 and returns 2, and a, not b, is charged the failure."""
    wire = list(canonical.wire)
    bad = [*wire[:3], b"\x00not a block", *wire[4:]]
    _, node, engine = parallel(canonical, {"a": bad, "b": wire})
    assert engine.sync_parallel(["a", "b"], 5) == 2
    assert node.head_height == 2
    assert engine.standing("a").failures == 1 and engine.standing("b").failures == 0


def test_a_parallel_download_stops_at_a_missing_range_and_charges_the_silent_peer(
    canonical: Canonical,
) -> None:
    """Peer b's answer is dropped: a's range 1..3 imports, the download stops at the gap, returns 3,
    and b is charged the timeout."""
    wire = list(canonical.wire)
    network, node, engine = parallel(canonical, {"a": wire, "b": wire})
    network.queue_faults("b", ["drop"])
    assert engine.sync_parallel(["a", "b"], 5) == 3
    assert node.head_height == 3
    assert engine.standing("b").failures == 1 and engine.standing("a").failures == 0


# --- recovery ---------------------------------------------------------------------------------------------


def test_a_torn_row_above_the_acknowledged_height_is_cut_off_at_recovery(
    canonical: Canonical, tmp_path: Path
) -> None:
    """A write torn by a crash leaves an unacknowledged row 4: recovery cuts it off (and only it),
    the node comes back at 3, and the store then holds exactly 1..3."""
    b, target = canonical.builder, targets.load("alys-fixed")
    path = str(tmp_path / "s.sqlite")
    store = target.sync.store(interval=NO_CHECKPOINT, retention=2, path=path)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, target.sync.network(), store)
    for h in range(1, 4):
        engine.import_block(canonical.wire[h])
    store.set_fault(store.writes + 1, "torn")
    with pytest.raises(OSError):  # noqa: PT011 - the torn write's typed error
        engine.import_block(canonical.wire[4])
    assert list(store.stored_heights()) == [1, 2, 3, 4]  # the torn row, unacknowledged
    store.close()
    again = target.sync.store(interval=NO_CHECKPOINT, retention=2, path=path)
    try:
        recovered = target.sync.recover(again, b.spec, b.genesis, b.bitcoin)
        assert recovered.head_height == 3 and list(again.stored_heights()) == [1, 2, 3]
    finally:
        again.close()


def test_recovery_at_exactly_a_checkpoint_restores_its_pointers(canonical: Canonical, tmp_path: Path) -> None:
    """The chain ends at the newest checkpoint's height (4, an AuxPoW block): recovery trusts every
    block and restores the checkpoint's latest-PoW pointer, the live node's."""
    b, target = canonical.builder, targets.load("alys-fixed")
    path = str(tmp_path / "s.sqlite")
    store = target.sync.store(interval=4, retention=2, path=path)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, target.sync.network(), store)
    for h in range(1, 5):
        engine.import_block(canonical.wire[h])
    assert [cp.height for cp in store.checkpoints()] == [4]
    live = node.latest_pow
    store.close()
    again = target.sync.store(interval=4, retention=2, path=path)
    try:
        recovered = target.sync.recover(again, b.spec, b.genesis, b.bitcoin)
        assert recovered.head_height == 4 and recovered.latest_pow == live
    finally:
        again.close()


def test_a_recovered_node_is_a_validator(canonical: Canonical) -> None:
    """recover(store, spec, genesis, bitcoin) rebuilds a validator, as chain.node does by default
    (on `alys` a full node skips the withdrawal checks)."""
    b = canonical.builder
    for name in ("alys-fixed", "alys"):
        target = targets.load(name)
        node = target.sync.recover(target.sync.store(interval=3, retention=2), b.spec, b.genesis, b.bitcoin)
        assert node.validator is True, name


def fresh_file_store(canonical: Canonical, path: str, interval: int) -> tuple[Any, Any]:
    """alys-fixed's store on a new file and an engine over it (no network needed)."""
    b, target = canonical.builder, targets.load("alys-fixed")
    store = target.sync.store(interval=interval, retention=2, path=path)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    return store, target.sync.engine(node, target.sync.network(), store)


def test_a_torn_row_past_a_gap_is_cut_off_at_recovery(canonical: Canonical, tmp_path: Path) -> None:
    """A torn write of block 5 over a store acknowledged to 3 leaves a gap at 4: recovery stops at
    the gap, cuts the unacknowledged row 5, and comes back at 3."""
    path = str(tmp_path / "s.sqlite")
    store, engine = fresh_file_store(canonical, path, NO_CHECKPOINT)
    for h in range(1, 4):
        engine.import_block(canonical.wire[h])
    store.set_fault(store.writes + 1, "torn")
    with pytest.raises(OSError):  # noqa: PT011 - the torn write's typed error
        store.put_block(
            5, bytes.fromhex(canonical.states[5]["head"]), canonical.wire[5], canonical.states[5], 0
        )
    assert list(store.stored_heights()) == [1, 2, 3, 5]
    store.close()
    again = targets.load("alys-fixed").sync.store(interval=NO_CHECKPOINT, retention=2, path=path)
    try:
        b = canonical.builder
        recovered = targets.load("alys-fixed").sync.recover(again, b.spec, b.genesis, b.bitcoin)
        assert recovered.head_height == 3 and list(again.stored_heights()) == [1, 2, 3]
    finally:
        again.close()


@pytest.mark.parametrize("latest_pow", ["ff" * 32, None])
def test_a_verified_checkpoint_naming_an_unknown_pow_block_is_store_corrupt(
    canonical: Canonical, tmp_path: Path, latest_pow: str | None
) -> None:
    """A checkpoint that verifies but names a latest-PoW block the store does not hold (or none at
    all) cannot be restored: recovery says so as StoreCorrupt, naming the checkpoint's height."""
    path = str(tmp_path / "s.sqlite")
    store, engine = fresh_file_store(canonical, path, 3)
    for h in (1, 2):
        engine.import_block(canonical.wire[h])
    state = {k: v for k, v in canonical.states[3].items() if k != "latest_pow"}
    if latest_pow is not None:
        state["latest_pow"] = latest_pow
    store.put_block(3, bytes.fromhex(canonical.states[3]["head"]), canonical.wire[3], state, 0)
    assert [(cp.height, cp.verified) for cp in store.checkpoints()] == [(3, True)]
    store.close()
    target, b = targets.load("alys-fixed"), canonical.builder
    again = target.sync.store(interval=3, retention=2, path=path)
    try:
        with pytest.raises(
            OSError,
            match=r"^checkpoint 3 cannot be restored: checkpoint names a latest PoW block the store does not "
            r"hold$",
        ):
            target.sync.recover(again, b.spec, b.genesis, b.bitcoin)
    finally:
        again.close()


def test_a_lagging_peer_added_without_a_lag_serves_its_whole_chain() -> None:
    """add_peer's lag defaults to 0: a "lagging" peer given no lag is not behind at all."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("p", CHAIN, "lagging")
    assert network.status("p") == len(CHAIN) - 1
    assert network.blocks_by_range("p", 1, 10) == CHAIN[1:]


def test_rounds_ask_the_available_peers_in_name_order_in_turn(canonical: Canonical) -> None:
    """One block per request: the rounds ask a, b, c, then a again (§5.1: rotate peers)."""
    network = targets.load("alys-fixed").sync.network()
    for name in ("c", "a", "b"):
        network.add_peer(name, list(canonical.wire))
    _node, _store, engine = rig(canonical, network, batch=1)
    for _ in range(4):
        assert engine.round() == "progress"
    assert [r.peer for r in network.requests()] == ["a", "b", "c", "a"]


def test_a_peer_that_failed_in_this_sync_does_not_hold_back_synced(canonical: Canonical) -> None:
    """Peer a drops its answer and backs off; b answers short: every reachable peer that has not
    failed answered short, so the sync is done ("synced"), a's failure notwithstanding."""
    network = targets.load("alys-fixed").sync.network()
    network.add_peer("a", list(canonical.wire))
    network.add_peer("b", list(canonical.wire))
    network.queue_faults("a", ["drop"])
    node, engine = syncing_node(canonical, network)
    assert engine.sync() == "synced"
    assert [o for o, _, _ in engine.sync_rounds()] == ["failed", "synced"]
    assert node.head_height == canonical.tip


# --- a bad block from a peer, as alys-fixed and as the node (quirk sync-error-rolls-back) ----------------


def bad_block_round(canonical: Canonical, name: str, start: int) -> tuple[Any, Any, Any, str]:
    """A node on target `name` holding blocks 1..start, asking a peer whose block start + 1 does not
    decode: (node, store, engine, the round's outcome)."""
    target = targets.load(name)
    wire = list(canonical.wire)
    network = target.sync.network()
    network.add_peer("p", [*wire[: start + 1], b"\x00not a block", *wire[start + 2 :]])
    node, store, engine = rig(canonical, network, name=name)
    for h in range(1, start + 1):
        engine.import_block(wire[h])
    return node, store, engine, engine.round()


@pytest.mark.parametrize("start", [0, 1, 2])
def test_a_bad_block_fails_the_round_and_costs_the_node_nothing(canonical: Canonical, start: int) -> None:
    """alys-fixed: the round is "failed", the peer charged once, the head and the acknowledged
    height where they were."""
    node, _, engine, outcome = bad_block_round(canonical, "alys-fixed", start)
    assert outcome == "failed" and engine.standing("p").failures == 1
    assert node.head_height == start == engine.acknowledged


@pytest.mark.parametrize(("start", "after"), [(0, 0), (1, 0), (2, 1)])
def test_on_alys_a_bad_block_rolls_the_head_back_by_one(canonical: Canonical, start: int, after: int) -> None:
    """As the node codes it (chain.rs, quirk sync-error-rolls-back): the round is "failed" and the
    head goes back one block from where the batch started (not below genesis), the store and the
    acknowledged height with it."""
    node, store, engine, outcome = bad_block_round(canonical, "alys", start)
    assert outcome == "failed" and engine.standing("p").failures == 1
    assert node.head_height == after == engine.acknowledged
    assert list(store.stored_heights()) == list(range(1, after + 1))


def test_a_peer_grows_by_the_blocks_after_its_last() -> None:
    """grow(peer, blocks): the peer's chain gains them at the heights after its tip, and serves them."""
    network = network_with(("p", "honest"), chain=CHAIN[:3])
    network.grow("p", CHAIN[3:])
    assert network.status("p") == len(CHAIN) - 1
    assert network.blocks_by_range("p", 3, 10) == CHAIN[3:]
