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


@pytest.fixture(scope="module")
def canonical() -> Canonical:
    """Five blocks after genesis, approved by the authorities with secret keys 11, 12, 13."""
    b = bls.backend("blst")
    keyring = Keyring((11, 12, 13), tuple(b.SkToPk(sk) for sk in (11, 12, 13)))
    chain = Canonical(ChainBuilder(spec_of((11, 12, 13)), keyring, b))
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
    b = bls.backend("blst")
    keyring = Keyring((11, 12, 13), tuple(b.SkToPk(sk) for sk in (11, 12, 13)))
    chain = Canonical(ChainBuilder(spec_of((11, 12, 13)), keyring, b))
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


def syncing_node(canonical: Canonical, network: Any) -> tuple[Any, Any]:
    """alys-fixed's node at genesis over an in-memory store, and its engine on `network`."""
    b, target = canonical.builder, targets.load("alys-fixed")
    store = target.sync.store(interval=NO_CHECKPOINT, retention=2)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    return node, target.sync.engine(node, network, store)


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
    b, target = canonical.builder, targets.load("alys-fixed")
    store = target.sync.store(interval=NO_CHECKPOINT, retention=2)
    node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
    engine = target.sync.engine(node, network, store, batch=1)
    assert engine.sync(max_rounds=1) == "stalled"
    assert node.head_height == 1 < canonical.tip
