"""Sync and checkpoint-consistency machines: a node syncing through flaky and dishonest peers,
crashing mid-write and recovering, against the canonical chain the generator knows.

The references (the canonical chain and its state at each height, the checkpoint set) are in
models/sync.py; the strategies (canonical chains, behaviours, faults, topologies) in
strategies/sync.py.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from alys_pbt.models import bls
from alys_pbt.models.blocks import DecodeError, block_from_bytes, signing_root
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.pegin import FEDERATION_SPK
from alys_pbt.models.sync import Canonical, RetryReference, fair_rounds, is_a
from alys_pbt.strategies.approvals import Keyring, cancelling_subset, secret_keys
from alys_pbt.strategies.blocks import ChainBuilder
from alys_pbt.strategies.sync import (
    BitFlip,
    ForkView,
    bit_flips,
    disk_faults,
    network_faults,
    network_topologies,
    peer_behaviours,
    unapproved,
)

if TYPE_CHECKING:
    from alys_pbt.interface import Target


@frozen
class ChainSetup:
    """A canonical chain: its authorities' secret keys and its length after genesis."""

    secret_keys: tuple[int, ...]
    length: int


chain_setups = st.builds(
    ChainSetup,
    secret_keys=st.lists(secret_keys, min_size=1, max_size=4, unique=True)
    .filter(lambda ks: not cancelling_subset(ks))
    .map(tuple),
    length=st.integers(0, 6),
)


def canonical_chain(setup: ChainSetup) -> Canonical:
    """The canonical chain `setup` describes (as strategies/sync.py canonical_chains builds one)."""
    b = bls.backend()
    keyring = Keyring(setup.secret_keys, tuple(b.SkToPk(sk) for sk in setup.secret_keys))
    spec = ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4)
    canonical = Canonical(ChainBuilder(spec, keyring, b))
    canonical.extend(setup.length)
    return canonical


class PeerChains:
    """The peers of one network as the suite set them up: each one's behaviour, and the chain it
    serves as a view of the canonical chain (which grows). The network holds data, not the views:
    what a view gained since it was last sent is sent (`network.grow`) whenever the chain grows."""

    def __init__(self, network: Any) -> None:
        self.network = network
        self.behaviours: dict[str, str] = {}
        self.views: dict[str, tuple[Sequence[bytes], int]] = {}  # name -> (view, blocks sent)

    def add(
        self,
        name: str,
        chain: Sequence[bytes],
        behaviour: str = "honest",
        *,
        lag: int = 0,
        claimed: int | None = None,
    ) -> None:
        """A peer (a new one, or one of that name replaced) serving `chain` as it grows."""
        blocks = list(chain)
        self.network.add_peer(name, blocks, behaviour, lag=lag, claimed=claimed)
        self.behaviours[name] = behaviour
        self.views[name] = (chain, len(blocks))

    def remove(self, name: str) -> None:
        self.network.remove_peer(name)
        del self.behaviours[name], self.views[name]

    def publish(self) -> None:
        """Each peer's chain grows as its view of the canonical chain did."""
        for name, (view, sent) in self.views.items():
            if len(view) > sent:
                self.network.grow(name, view[sent:])
                self.views[name] = (view, len(view))

    def an_honest_one_is_reachable(self) -> bool:
        return any(self.behaviours.get(p) in ("honest", "lying") for p in self.network.reachable())


def inject(network: Any, peer: str, fault: str) -> None:
    """A network fault: the peer's link goes, or its next response meets `fault`."""
    if fault == "disconnect":
        network.disconnect(peer)
    elif fault == "partition":
        network.partition(peer)
    else:
        network.queue_faults(peer, [fault])


def blamed_row(err: BaseException) -> int | None:
    """The block row a CorruptBlock names: its `height` in-process, or over the protocol the one
    its message names ("acknowledged block <height>: ...", docs/target-interface.md)."""
    if type(err).__name__ != "CorruptBlock":
        return None
    height = getattr(err, "height", None)
    if isinstance(height, int):
        return height
    found = re.match(r"acknowledged block (\d+):", str(err))
    return int(found.group(1)) if found else None


class NodeOnItsStore:
    """The guarantee every machine of a node importing into a store checks: no hole below the head."""

    alive = True  # CheckpointMachine's node is down between a crash and its restart
    node: Any
    store: Any

    @invariant()
    def the_head_never_runs_ahead_of_the_store(self) -> None:
        """The head moves only once the store acknowledged the block: every height up to it is stored."""
        if self.alive:
            missing = set(range(1, self.node.head_height + 1)) - set(self.store.stored_heights())
            assert not missing, f"head {self.node.head_height}, but the store lacks {sorted(missing)}"


class SyncingNode(NodeOnItsStore):
    """What a syncing node guarantees whatever its peers do: a canonical prefix, and nothing given up."""

    canonical: Canonical

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[int] = [0]
        self.finalized: list[int] = [0]

    @invariant()
    def holds_a_prefix_of_the_canonical_chain(self) -> None:
        """So it never holds an invalid block: every canonical block is valid."""
        for h in range(self.node.head_height + 1):
            assert self.node.by_height[h].hex() == self.canonical.states[h]["head"], (
                f"height {h} is not canonical"
            )

    @invariant()
    def nothing_imported_is_given_up(self) -> None:
        """A bad block from a peer costs the node nothing it held: head and finalization only rise."""
        self._rises(self.node.head_height, self.node.finalized_height)

    def _rises(self, head: int, fin: int) -> None:
        assert head >= self.heads[-1], f"head went from {self.heads[-1]} to {head}"
        assert fin >= self.finalized[-1], f"finalized height went from {self.finalized[-1]} to {fin}"
        self.heads.append(head)
        self.finalized.append(fin)


class SyncMachine(SyncingNode, RuleBasedStateMachine):
    """A node syncing from peers with faults; the chain it holds must be canonical."""

    peers = Bundle("peer")  # the names of the peers that can leave or fail

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    @initialize(target=peers, chain=chain_setups, more_peers=st.lists(peer_behaviours(), max_size=2))
    def start(self, chain: ChainSetup, more_peers: list[str]) -> MultipleResults[str]:
        self.canonical = canonical_chain(chain)
        b = self.canonical.builder
        self.network = self.target.sync.network()
        self.store = self.target.sync.store(interval=3, retention=3)
        self.node = self.target.chain.node(b.spec, b.genesis, b.bitcoin)
        self.engine = self.target.sync.engine(self.node, self.network, self.store)
        self.peers_on = PeerChains(self.network)
        self.retry = RetryReference(self.canonical.wire)  # fed the wire's log as it grows
        self.requests_checked = 0
        self.peer_count = 0
        note(f"canonical chain of {chain.length} blocks, {len(chain.secret_keys)} authorities")
        return multiple(*(self._add(behaviour, 1) for behaviour in ["honest", *more_peers]))

    def _add(self, behaviour: str, lag: int) -> str:
        self.peer_count += 1
        name = f"p{self.peer_count}"
        chain: Sequence[bytes] = self.canonical.wire  # honest peers see the chain grow
        if behaviour == "fork":
            chain = ForkView(self.canonical.wire, max(1, self.canonical.tip - lag))
        self.peers_on.add(name, chain, behaviour, lag=lag, claimed=0 if behaviour == "lying" else None)
        note(f"peer {name}: {behaviour}")
        return name

    @rule(k=st.integers(1, 4))
    def extend_canonical_chain(self, k: int) -> None:
        self.canonical.extend(k)
        self.peers_on.publish()
        note(f"canonical tip {self.canonical.tip}")

    @rule(target=peers, behaviour=peer_behaviours(), lag=st.integers(1, 3))
    def add_peer(self, behaviour: str, lag: int) -> str:
        return self._add(behaviour, lag)

    @precondition(lambda self: len(self.peers_on.behaviours) > 1)
    @rule(peer=consumes(peers))
    def remove_peer(self, peer: str) -> None:
        self.peers_on.remove(peer)
        note(f"peer {peer} leaves")

    @rule(peer=peers, fault=network_faults())
    def inject_network_fault(self, peer: str, fault: str) -> None:
        note(f"{fault} {peer}")
        inject(self.network, peer, fault)

    @rule(
        topology=network_topologies(),
        extra=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=4),
    )
    def rewire_the_network(self, topology: str, extra: list[tuple[int, int]]) -> None:
        note(f"topology {topology} {extra if topology == 'random' else ''}")
        self.network.wire(topology, extra)

    @rule(latency=st.sampled_from([0.05, 1.0, 10.0, 20.0]))
    def change_latency(self, latency: float) -> None:
        """Above the 15 s request timeout, every request times out."""
        self.network.set_latency(latency)
        note(f"latency {latency} s")

    @rule()
    def reconnect_and_heal(self) -> None:
        self.network.heal()
        self.network.set_latency(0.05)
        note("network healed")

    @rule(dt=st.sampled_from([0.5, 2.0, 30.0, 61.0]))
    def advance_time(self, dt: float) -> None:
        self.network.advance(dt)
        note(f"time {self.network.time:.2f} s")

    def _round(self) -> str:
        """One round; a store failure (typed) ends it, and the node carries on where the store is."""
        try:
            outcome: str = (
                self.engine.round()
            )  # the engine answers every peer's fault; only the store may fail it
            return outcome
        except Exception as err:  # noqa: BLE001
            assert_typed(err, "a sync round")
            # Every block before the refused one was good: the answer does not count against the
            # peer, and the node holds nothing past what the store took.
            pending = self.network.requests(self.requests_checked)
            assert pending, f"the store refused a block no request brought: {err}"
            *earlier, refused = pending
            self._admit(earlier)
            earliest = self.retry.admit(refused, store_refused_at=self.node.head_height)
            assert refused.sent >= earliest, (
                f"{refused.peer} asked at {refused.sent:g} s, before {earliest:g} s"
            )
            self.requests_checked += len(pending)
            return f"store refused: {type(err).__name__}"

    @rule()
    def sync_one_round(self) -> None:
        note(f"sync round: {self._round()}")

    @rule()
    def sync_three_rounds_back_to_back(self) -> None:
        """Requests in quick succession: a peer that just failed must not be asked again yet."""
        outcomes = []
        for _ in range(3):
            outcomes.append(self._round())
            self.nothing_imported_is_given_up()
        note(f"sync rounds: {', '.join(outcomes)}")

    @rule()
    def the_disk_fills_up(self) -> None:
        fill_the_disk(self.store)
        note("disk full")

    @rule()
    def space_is_freed(self) -> None:
        free_the_disk(self.store)
        note("disk space freed")

    @rule()
    def heal_and_sync_fully(self) -> None:
        """After the network heals, faults stop and the disk has room, enough fair rounds reach the tip."""
        self.reconnect_and_heal()
        free_the_disk(self.store)
        self.network.clear_faults()
        if not self.peers_on.an_honest_one_is_reachable():
            self._add("honest", 0)  # the guarantee needs one honest neighbour
        self.network.advance(120.0)  # breakers close, backoffs end
        self.engine.sync(max_rounds=fair_rounds(len(self.peers_on.behaviours), self.canonical.tip))
        for _, head, fin in self.engine.sync_rounds():  # also between the rounds of the full sync
            self._rises(head, fin)
        assert self.node.head_height == self.canonical.tip, (
            f"synced to {self.node.head_height}, tip {self.canonical.tip}"
        )

    @invariant()
    def every_peer_waits_out_its_backoff_and_breaker(self) -> None:
        """No request goes to a peer before the retry policy allows (§5.1), whatever the faults."""
        pending = self.network.requests(self.requests_checked)
        self._admit(pending)
        self.requests_checked += len(pending)

    def _admit(self, requests: Sequence[Any]) -> None:
        for r in requests:
            earliest = self.retry.admit(r)
            assert r.sent >= earliest, f"{r.peer} asked at {r.sent:g} s, before {earliest:g} s"


RAM_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class Disk:
    """The fault model of a store's files (issue 14): what a crash leaves, bit rot, a lost tail, a
    second connection holding a lock. Real files and real SQLite, no hooks in the store."""

    PAGE = 4096  # SQLite's default page size; a write-ahead log frame is a 24-byte header and a page
    FRAME = 24 + PAGE

    def __init__(self, path: str) -> None:
        self.path = path
        self.locker: sqlite3.Connection | None = None

    def files(self) -> list[str]:
        return [f for f in (self.path, self.path + "-wal") if os.path.exists(f)]

    def crash(self, store: Any) -> None:
        """The process dies: the disk keeps what was written (the log is not folded into the
        file, as a clean close would), and the process's locks are released."""
        saved = {f: Path(f).read_bytes() for f in self.files()}
        store.close()
        for f in (self.path + "-wal", self.path + "-shm"):
            Path(f).unlink(missing_ok=True)
        for f, content in saved.items():
            Path(f).write_bytes(content)

    def lose_the_last_page(self) -> str:
        """The tail of the file that was written last is lost: the log's last frame, or the
        database file's last page."""
        wal = self.path + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) >= 32 + self.FRAME:
            os.truncate(wal, os.path.getsize(wal) - self.FRAME)
            return "the log's last frame"
        if os.path.exists(self.path) and os.path.getsize(self.path) >= 2 * self.PAGE:
            os.truncate(self.path, os.path.getsize(self.path) - self.PAGE)
            return "the file's last page"
        return ""

    def _settled(self) -> sqlite3.Connection:
        """SQLite's own crash recovery, as the next open would do it: the log folded into the file."""
        db = sqlite3.connect(self.path, timeout=0)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return db

    def rows(self, table: str) -> list[tuple[int, dict[str, bytes]]]:
        """The stored rows of `blocks` or `checkpoints`, read directly (the store is down); none if
        the file is already beyond reading (a lost tail may have taken the tables)."""
        columns = {"blocks": ("data", "digest"), "checkpoints": ("integrity", "state")}[table]
        sql = (
            f"SELECT height, {', '.join(f'CAST({c} AS BLOB)' for c in columns)} FROM {table} ORDER BY height"
        )
        try:
            db = self._settled()
            try:
                return [
                    (row[0], {c: bytes(v) for c, v in zip(columns, row[1:], strict=True)})
                    for row in db.execute(sql)
                ]
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return []

    def rot(self, value: bytes, flip: BitFlip) -> bool:
        """Flip one bit of `value` where it lies in the database file, as a failing disk would;
        False if no stretch of it around the bit is found exactly once (the rot then misses)."""
        self._settled().close()
        at = min(int(flip.position * len(value)), len(value) - 1)
        content = bytearray(Path(self.path).read_bytes())
        for size in (
            len(value),
            24,
            96,
            384,
        ):  # the whole value (one page holds a row), else a stretch around the bit
            lo = max(0, min(at - size // 2, len(value) - size))
            window = value[lo : lo + size]
            where = content.find(window)
            if where >= 0 and content.find(window, where + 1) < 0:
                content[where + at - lo] ^= 1 << flip.bit
                Path(self.path).write_bytes(bytes(content))
                return True
        return False

    def lock(self) -> bool:
        """Another connection takes the write lock (and holds it); False if it cannot."""
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            other.close()
            return False
        self.locker = other
        return True

    def unlock(self) -> None:
        if self.locker is not None:
            self.locker.close()
            self.locker = None


def fill_the_disk(store: Any) -> None:
    """The disk is full: the next write that needs a new page fails with a real SQLITE_FULL (the
    store's fault hook, an interface method: a store behind the target protocol is driven alike)."""
    store.inject_fault("disk-full")


def free_the_disk(store: Any) -> None:
    store.clear_fault("disk-full")


def assert_typed(err: BaseException, doing: str) -> None:
    """A store failure must be a typed OSError naming what is wrong (interface: StoreError), not
    SQLite's own exception or any other crash."""
    assert is_a(err, "OSError") and type(err).__name__ != "OSError", (
        f"{doing}: untyped {type(err).__module__}.{type(err).__name__}: {err}"
    )


class CheckpointMachine(NodeOnItsStore, RuleBasedStateMachine):
    """A node importing into a store on a real file while the disk, SQLite and other processes
    fail it: a lock held past the busy timeout, a full disk, injected I/O errors and torn writes,
    crashes, bit rot in block and checkpoint rows, a lost file tail, a second writer. Nothing the
    store acknowledged is lost, whatever the fault, or the store says so with a typed error."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.acknowledged = 0
        # A memory-backed directory where there is one: the faults are simulated on the files
        # (copies, truncation, flipped bits), so a real disk's fsyncs would only add time.
        self.directory = tempfile.mkdtemp(prefix="alys-store-", dir=RAM_DIR)
        self.disk = Disk(os.path.join(self.directory, "chain.sqlite"))
        self.store: Any = None
        self.alive = False
        self.may_refuse = False  # a fault destroyed acknowledged bytes: the store may refuse to open
        self.rotted: set[int] = set()  # acknowledged block rows rotted since the last good start
        self.tail_lost = False

    def teardown(self) -> None:
        self.disk.unlock()
        if self.store is not None:
            self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    @initialize(chain=chain_setups, interval=st.integers(1, 4), retention=st.integers(1, 3))
    def start(self, chain: ChainSetup, interval: int, retention: int) -> None:
        self.canonical = canonical_chain(chain)
        self.interval, self.retention = interval, retention
        self._boot()
        note(f"checkpoint every {interval}, keep {retention}")

    def _open(self) -> Any:
        return self.target.sync.store(
            interval=self.interval, retention=self.retention, path=self.disk.path, busy_timeout=0.0
        )

    def _boot(self) -> None:
        b = self.canonical.builder
        self.store = None
        self.store = self._open()
        self.node = self.target.sync.recover(self.store, b.spec, b.genesis, b.bitcoin)
        self.network = self.target.sync.network()
        self.engine = self.target.sync.engine(self.node, self.network, self.store)
        self.peers_on = PeerChains(self.network)
        self.fault_at: int | None = None  # the write of this store an injected fault strikes
        self.alive = True

    def _refused(self, err: BaseException, doing: str) -> None:
        """The store refused a write: an injected fault kills the process; a real one (locked,
        full) is the round's end, and the node goes on with its head where the store left it."""
        assert_typed(err, doing)
        injected = self.fault_at is not None and self.store.writes >= self.fault_at
        note(f"{doing}: {type(err).__name__}: {err}" + (" (the process dies)" if injected else ""))
        if injected:
            self._crash()

    @precondition(lambda self: self.alive)
    @rule(k=st.integers(1, 3))
    def import_blocks(self, k: int) -> None:
        note(f"import blocks {self.node.head_height + 1} to {self.node.head_height + k}")
        if self.node.head_height + k > self.canonical.tip:
            self.canonical.extend(self.node.head_height + k - self.canonical.tip)
        for h in range(self.node.head_height + 1, self.node.head_height + k + 1):
            try:
                self.engine.import_block(self.canonical.wire[h])
            except Exception as err:  # noqa: BLE001 - a valid block: only the store may refuse it
                self._refused(err, f"storing block {h}")
                return
            self.acknowledged = max(self.acknowledged, h)

    @precondition(lambda self: self.alive)
    @rule(more=st.integers(0, 3))
    def resume_sync_from_an_honest_peer(self, more: int) -> None:
        """Recovery ends in sync: the rest of the chain comes from the network."""
        self.canonical.extend(more)
        self.peers_on.publish()
        if not self.peers_on.behaviours:
            self.peers_on.add("honest", self.canonical.wire)
        try:
            outcome = self.engine.sync(max_rounds=fair_rounds(1, self.canonical.tip))
        except Exception as err:  # noqa: BLE001 - an honest peer: only the store may fail the sync
            self._refused(err, "syncing")
            return
        finally:
            self.acknowledged = max(self.acknowledged, self.engine.acknowledged)
        note(f"sync: {outcome} at {self.node.head_height}")
        assert outcome == "synced" and self.node.head_height == self.canonical.tip

    @precondition(lambda self: self.alive)
    @rule(peers=st.integers(1, 3), more=st.integers(0, 4))
    def download_in_parallel(self, peers: int, more: int) -> None:
        """Disjoint ranges from several honest peers at once, imported in order: every block is
        imported, or the store's failure (typed) ends the round; never taken for a bad block."""
        self.canonical.extend(more)
        self.peers_on.publish()
        names = [f"parallel-{i}" for i in range(peers)]
        for name in names:
            self.peers_on.add(name, self.canonical.wire)
        before = self.node.head_height
        try:
            imported = self.engine.sync_parallel(names, self.canonical.tip)
        except Exception as err:  # noqa: BLE001 - honest peers: only the store may fail the download
            self._refused(err, f"parallel download from {peers} peers")
            return
        finally:
            self.acknowledged = max(self.acknowledged, self.engine.acknowledged)
        note(
            f"parallel download from {peers} peers: {imported} imported, {before} -> {self.node.head_height}"
        )
        assert self.node.head_height == before + imported == self.canonical.tip, (
            f"parallel download stopped at {self.node.head_height} of {self.canonical.tip} with no error"
        )

    @precondition(lambda self: self.alive)
    @rule(kind=disk_faults(), after=st.integers(1, 4))
    def inject_disk_fault(self, kind: str, after: int) -> None:
        self.fault_at = self.store.writes + after
        self.store.set_fault(self.fault_at, kind)
        note(f"{kind} on disk write {self.fault_at}")

    @precondition(lambda self: self.alive)
    @rule(kind=disk_faults(), write=st.integers(1, 2))
    def crash_while_storing_the_next_block(self, kind: str, write: int) -> None:
        """The process dies on the first or second write of the next block (its row, or its checkpoint)."""
        self.inject_disk_fault(kind, write)
        self.import_blocks(1)

    @precondition(lambda self: self.alive)
    @rule(
        obstacle=st.sampled_from(["disk-full", "locked"]),
        peers=st.integers(1, 3),
        more=st.integers(1, 4),
    )
    def a_parallel_download_meets_a_store_that_refuses(self, obstacle: str, peers: int, more: int) -> None:
        """The disk is full, or another connection holds the write lock, as a parallel download
        begins: it ends in the store's typed error, never in a silent stop."""
        if obstacle == "disk-full":
            self.the_disk_fills_up()
        elif self.disk.locker is None:
            self.another_connection_takes_the_write_lock()
        self.download_in_parallel(peers, more)

    @precondition(lambda self: self.alive)
    @rule()
    def the_disk_fills_up(self) -> None:
        fill_the_disk(self.store)
        note("disk full")

    @precondition(lambda self: self.alive)
    @rule()
    def space_is_freed(self) -> None:
        free_the_disk(self.store)
        note("disk space freed")

    @precondition(lambda self: self.alive and self.disk.locker is None)
    @rule()
    def another_connection_takes_the_write_lock(self) -> None:
        """Held past the store's busy timeout, until released; a store that holds its file
        exclusively cannot be locked by anyone else."""
        note(
            "another connection holds the write lock"
            if self.disk.lock()
            else "another connection cannot lock the store"
        )

    @precondition(lambda self: self.disk.locker is not None)
    @rule()
    def the_other_connection_lets_go(self) -> None:
        self.disk.unlock()
        note("lock released")

    @precondition(lambda self: self.alive and self.acknowledged > 0)
    @rule(below=st.integers(0, 8))
    def a_second_process_opens_the_store_and_writes(self, below: int) -> None:
        """Another node process on the same store writes its own copy of an acknowledged height
        (`below` the highest, down to 1; the unapproved block a fork serves): one writer per
        store, or that write silently wins."""
        height = max(1, self.acknowledged - below)
        try:
            intruder = self._open()
        except Exception as err:  # noqa: BLE001 - the store is in use: the second process is refused
            assert_typed(err, "a second process opening the store")
            note(f"a second process is refused: {type(err).__name__}")
            return
        try:
            forged = unapproved(self.canonical.wire[height])
            state = self.canonical.states[height]
            intruder.put_block(height, bytes.fromhex(state["head"]), forged, state, 0)
            note(f"a second process wrote its own block {height}")
        except Exception as err:  # noqa: BLE001
            assert_typed(err, "a second process writing")
        finally:
            intruder.close()

    def _crash(self) -> None:
        self.disk.unlock()
        self.disk.crash(self.store)
        self.alive = False

    @precondition(lambda self: self.alive)
    @rule()
    def crash(self) -> None:
        self._crash()
        note("crash")

    @precondition(lambda self: not self.alive)
    @rule()
    def restart(self) -> None:
        try:
            self._boot()
        except Exception as err:  # noqa: BLE001 - only a typed report of real damage may stop a restart
            assert_typed(err, "restarting")
            assert self.may_refuse, (
                f"restart refused though no fault destroyed an acknowledged byte: {type(err).__name__}: {err}"
            )
            blamed = blamed_row(err)
            if not self.tail_lost and blamed is not None:  # CorruptBlock names the row
                assert blamed in self.rotted, (
                    f"the store blames block {blamed}; the rot hit {sorted(self.rotted)}: {err}"
                )
                # Each row carries its digest, so the store knows at open; found only by replaying
                # the row, the rot had been accepted (and a row under a checkpoint is not replayed).
                assert self.store is None, (
                    f"the store opened with rotted row {blamed}; only the replay noticed: {err}"
                )
            note(
                f"the store reports the damage: {type(err).__name__}: {err}; the operator starts a new store"
            )
            self._start_over()
            return
        self.may_refuse, self.rotted, self.tail_lost = False, set(), False
        note(f"recovered at {self.node.head_height} (acknowledged {self.acknowledged})")
        self.acknowledged = max(
            self.acknowledged, self.node.head_height
        )  # recovery acknowledges what it kept

    def _start_over(self) -> None:
        if self.store is not None:
            self.store.close()
        for f in (self.disk.path, self.disk.path + "-wal", self.disk.path + "-shm", self.disk.path + "-ack"):
            Path(f).unlink(missing_ok=True)
        self.acknowledged, self.may_refuse, self.rotted, self.tail_lost = 0, False, set(), False
        self._boot()

    def _stop(self) -> None:
        """Rot and loss happen on the disk; a running node meets them at its next start."""
        if self.alive:
            self._crash()
            note("the node stops")

    def _rot_a_block_row(self, below: int, flip: BitFlip, *, in_history: bool) -> None:
        self._stop()
        rows = self.disk.rows("blocks")
        newest = max((h for h, _ in self.disk.rows("checkpoints")), default=0)
        rows = [r for r in rows if (r[0] <= newest) == in_history]
        if not rows:  # what rows the disk holds is known only once the node has stopped
            note("no such row to rot")
            return
        height, fields = rows[max(0, len(rows) - 1 - below)]
        if self.disk.rot(fields[flip.field], flip):
            if height <= self.acknowledged:
                self.may_refuse = True
                self.rotted.add(height)
            note(f"block row {height} rotted ({flip.field}, bit {flip.bit})")
        else:
            note(f"the rot missed block row {height}: its bytes are not found once in the file")

    @rule(below=st.integers(0, 8), flip=bit_flips())
    def a_block_row_rots_in_history(self, below: int, flip: BitFlip) -> None:
        """A row a checkpoint vouches for (recovery trusts it without validating it again): the
        newest such row, or one `below` it (down to the oldest)."""
        self._rot_a_block_row(below, flip, in_history=True)

    @rule(below=st.integers(0, 8), flip=bit_flips())
    def a_block_row_rots_near_the_tip(self, below: int, flip: BitFlip) -> None:
        """A row above the newest checkpoint (recovery validates it again)."""
        self._rot_a_block_row(below, flip, in_history=False)

    @rule(below=st.integers(0, 3), flip=bit_flips(fields=("integrity", "state")))
    def a_checkpoint_row_rots(self, below: int, flip: BitFlip) -> None:
        """The blocks are all there: a rotted checkpoint costs a longer replay, never a block."""
        self._stop()
        rows = self.disk.rows("checkpoints")
        if not rows:  # what rows the disk holds is known only once the node has stopped
            note("no checkpoint to rot")
            return
        height, fields = rows[max(0, len(rows) - 1 - below)]
        if self.disk.rot(fields[flip.field], flip):
            note(f"checkpoint {height} rotted ({flip.field}, bit {flip.bit})")
        else:
            note(f"the rot missed checkpoint {height}: its bytes are not found once in the file")

    @rule()
    def the_file_loses_its_last_page(self) -> None:
        self._stop()
        lost = self.disk.lose_the_last_page()
        note(f"lost {lost}" if lost else "the files are too short to lose a page")
        if lost:
            self.may_refuse = self.tail_lost = True

    @precondition(lambda self: self.alive and bool(self.store.checkpoints()))
    @rule(below=st.integers(0, 3))
    def corrupt_a_checkpoint(self, below: int) -> None:
        """The newest checkpoint, or one `below` it (down to the oldest kept), no longer verifies."""
        cps = self.store.checkpoints()
        cp = cps[max(0, len(cps) - 1 - below)]
        try:
            self.store.corrupt_checkpoint(cp.height)
        except Exception as err:  # noqa: BLE001 - a write: another connection may hold the lock
            assert_typed(err, f"rotting checkpoint {cp.height}")
            note(f"checkpoint {cp.height} not rotted: {type(err).__name__}")
            return
        note(f"checkpoint {cp.height} rotted")

    @invariant()
    def kept_checkpoints_that_verify_equal_the_reference_state(self) -> None:
        if self.alive:
            for cp in self.store.checkpoints():
                if cp.verified:
                    assert cp.state == self.canonical.states[cp.height], (
                        f"checkpoint {cp.height} verifies but is wrong"
                    )

    @invariant()
    def checkpoint_heights_follow_the_interval_rule(self) -> None:
        if self.alive:
            cps = self.store.checkpoints()
            assert len(cps) <= self.retention, f"{len(cps)} checkpoints kept, retention {self.retention}"
            assert all(cp.height % self.interval == 0 and cp.height > 0 for cp in cps)

    @invariant()
    def every_checkpoint_has_its_block_stored(self) -> None:
        if self.alive:
            stored = set(self.store.stored_heights())
            for cp in self.store.checkpoints():
                assert cp.height in stored, f"checkpoint {cp.height} for a block that was never committed"

    @invariant()
    def nothing_acknowledged_is_lost_across_a_crash(self) -> None:
        if self.alive:
            assert self.node.head_height >= self.acknowledged, (
                f"recovered {self.node.head_height}, acknowledged {self.acknowledged}"
            )
            for h in range(self.node.head_height + 1):
                assert self.node.by_height[h].hex() == self.canonical.states[h]["head"], (
                    f"height {h} is not canonical"
                )

    @invariant()
    def acknowledged_blocks_are_stored_intact(self) -> None:
        """Byte for byte what was acknowledged: no rotted row accepted, none overwritten."""
        if self.alive:
            for height, _, data in self.store.blocks_from(1, up_to=self.acknowledged):
                assert data == self.canonical.wire[height], (
                    f"acknowledged block {height} differs from what was stored"
                )


def _root(raw: bytes) -> bytes | None:
    """The block root of a wire block, by the reference; None if it does not decode."""
    try:
        return signing_root(block_from_bytes(raw).message)
    except DecodeError:
        return None


class SyncUnderFaultsMachine(SyncingNode, RuleBasedStateMachine):
    """Two syncs running at once on one node and one store (the start-up sync and the one a gossiped
    block's missing parent triggers), their rounds interleaved as Hypothesis chooses, with parallel
    downloads from peers that fail, lie and fork, over a disk that runs full and stays full until
    space is freed (a running condition, not one failed write). The node holds only the canonical
    chain, gives up nothing it imported, never runs ahead of its store; peers are judged once, by
    one standing, whichever sync met them; and once the faults stop, both syncs reach the tip."""

    peers = Bundle("peer")

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.peer_count = 0
        self.full = False
        self.sent: list[Any] = []  # every request either sync sent, in order

    @initialize(target=peers, chain=chain_setups, more=st.lists(peer_behaviours(), max_size=2))
    def start(self, chain: ChainSetup, more: list[str]) -> MultipleResults[str]:
        self.canonical = canonical_chain(chain)
        b = self.canonical.builder
        self.network = self.target.sync.network()
        self.store = self.target.sync.store(interval=3, retention=2)
        self.node = self.target.chain.node(b.spec, b.genesis, b.bitcoin)
        # Two syncs of one node: each its own rounds and rotation, one node, store and network.
        self.engines = [self.target.sync.engine(self.node, self.network, self.store) for _ in range(2)]
        self.peers_on = PeerChains(self.network)
        self.requests_seen = 0
        note(f"canonical chain of {chain.length} blocks; two syncs")
        return multiple(*(self._add(behaviour) for behaviour in ["honest", *more]))

    def _add(self, behaviour: str) -> str:
        self.peer_count += 1
        name = f"p{self.peer_count}"
        chain: Sequence[bytes] = self.canonical.wire
        if behaviour == "fork":
            chain = ForkView(self.canonical.wire, max(1, self.canonical.tip - 1))
        self.peers_on.add(name, chain, behaviour, lag=1, claimed=0 if behaviour == "lying" else None)
        note(f"peer {name}: {behaviour}")
        return name

    @rule(target=peers, behaviour=peer_behaviours())
    def add_peer(self, behaviour: str) -> str:
        return self._add(behaviour)

    @rule(k=st.integers(1, 4))
    def extend_canonical_chain(self, k: int) -> None:
        self.canonical.extend(k)
        self.peers_on.publish()
        note(f"canonical tip {self.canonical.tip}")

    @rule(peer=peers, fault=network_faults())
    def inject_network_fault(self, peer: str, fault: str) -> None:
        note(f"{fault} {peer}")
        inject(self.network, peer, fault)

    @rule(dt=st.sampled_from([0.5, 2.0, 30.0, 61.0]))
    def advance_time(self, dt: float) -> None:
        self.network.advance(dt)
        note(f"time {self.network.time:.2f} s")

    @rule()
    def the_disk_fills_up(self) -> None:
        """Full from now on: every write needing a page fails, round after round, until freed."""
        fill_the_disk(self.store)
        self.full = True
        note("disk full")

    @rule()
    def space_is_freed(self) -> None:
        free_the_disk(self.store)
        self.full = False
        note("disk space freed")

    def _judged(self, doing: str, act: Any, *, one_step: bool = True) -> Any:
        """Run one step of a sync (or a whole sync: not `one_step`, so a peer's standing may have
        recovered since a failure); only the store may fail it, with its typed error."""
        try:
            return act()
        except Exception as err:  # noqa: BLE001
            assert_typed(err, doing)
            assert self.full, (
                f"{doing}: the store refused ({type(err).__name__}: {err}) with room on the disk"
            )
            return f"store refused: {type(err).__name__}"
        finally:
            sent = self.network.requests(self.requests_seen)
            self.requests_seen += len(sent)
            self._charged(sent, one_step)

    @rule(which=st.integers(0, 1))
    def a_sync_takes_a_round(self, which: int) -> None:
        """Either sync takes its next round: the two interleave as Hypothesis chooses."""
        note(f"sync {which} round: {self._judged(f'sync {which} round', self.engines[which].round)}")

    @rule(
        which=st.integers(0, 1),
        peers=st.lists(peers, min_size=1, max_size=3, unique=True),
        more=st.integers(0, 3),
    )
    def a_sync_downloads_in_parallel(self, which: int, peers: list[str], more: int) -> None:
        """Disjoint ranges from several peers at once (whatever their faults), imported in order."""
        self.canonical.extend(more)
        self.peers_on.publish()
        reachable = [p for p in peers if p in self.network.reachable()]
        got = self._judged(
            f"sync {which} parallel download",
            lambda: self.engines[which].sync_parallel(reachable, self.canonical.tip),
        )
        note(f"sync {which} parallel download from {reachable}: {got}, head {self.node.head_height}")

    @rule(
        peer=peers, fault=st.sampled_from(["drop", "corrupt", "disconnect", "delay"]), first=st.integers(0, 1)
    )
    def both_syncs_meet_a_failing_peer(self, peer: str, fault: str, first: int) -> None:
        """One sync's parallel download meets a peer failing; the other sync, running at the same
        time, downloads from the same peer right after."""
        self.inject_network_fault(peer, fault)
        for which in (first, 1 - first):
            got = self._judged(
                f"sync {which} parallel download",
                lambda which=which: self.engines[which].sync_parallel([peer], self.canonical.tip),
            )
            note(f"sync {which} parallel download from {peer}: {got}, head {self.node.head_height}")

    def _charged(self, requests: Sequence[Any], one_step: bool = True) -> None:
        """Whichever sync sent it, a failed request (no answer in time) charges its peer at once: the
        peer is not asked again, by either sync, within the first backoff (1 s); and a peer whose
        answer held the block the node stopped at, not the canonical one, is charged too."""
        for r in requests:
            self.sent.append(r)
        for i, r in enumerate(self.sent):
            if r.outcome == "answered":
                continue
            later = [q for q in self.sent[i + 1 :] if q.peer == r.peer]
            assert all(q.sent >= r.ended + 1.0 for q in later), (
                f"{r.peer} failed at {r.ended:g} s and was asked again at {min(q.sent for q in later):g} s"
            )
        if not one_step:
            return
        head = self.node.head_height
        height_of = {_root(raw): h for h, raw in enumerate(self.canonical.wire)}
        for r in requests:
            if r.outcome != "answered" or r.start > head + 1:
                continue  # a range above where the node stopped: it never reached it
            for raw in r.blocks:  # the node imports in order: what it reached, it judged
                root = _root(raw)
                if height_of.get(root, head + 1) <= head:
                    continue  # a block the node holds (the same block root): a harmless repeat
                if root not in height_of:  # a forked or undecodable block the node reached
                    standing = [e.standing(r.peer) for e in self.engines]
                    assert any(
                        s is not None and (s.failures or s.breaker_until > r.ended) for s in standing
                    ), f"{r.peer} served a block that is not canonical and was not charged"
                break

    def _canonical(self, height: int) -> bytes | None:
        return self.canonical.wire[height] if height <= self.canonical.tip else None

    @rule()
    def heal_and_sync_fully(self) -> None:
        """After the faults stop and the disk has room, either sync reaches the tip."""
        self.network.heal()
        self.network.clear_faults()
        self.space_is_freed()
        if not self.peers_on.an_honest_one_is_reachable():
            self._add("honest")
        self.network.advance(120.0)
        self._judged(
            "a full sync",
            lambda: self.engines[1].sync(
                max_rounds=fair_rounds(len(self.peers_on.behaviours), self.canonical.tip)
            ),
            one_step=False,
        )
        assert self.node.head_height == self.canonical.tip, (
            f"synced to {self.node.head_height}, tip {self.canonical.tip}"
        )
