"""The store and the sync engine under real faults (issue 14, item 6): each data loss of the store
and engine before issue 14, reproduced on the seeded mutant that carries that part of the old code,
and absent on alys-fixed. Real files in a temporary directory, real SQLite errors (a lock held by
another connection past the busy timeout, SQLITE_FULL from the page limit), bits flipped in the
file, a lost log frame, a second store (and a second process) on one file.

That the state machines find each loss on their own is the kill matrix's job: TestCheckpoints and
TestSync declare these mutants (`@kills`), and tests/test_kill_matrix.py runs every pair.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys.sync.store import integrity_hash, state_text  # the port's own hash, checked on its rows
from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.machines.sync import Disk, fill_the_disk, free_the_disk
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder
from alys_pbt.strategies.sync import FEDERATION_SPK, BitFlip, unapproved
from tests.support import ROOT

FIXED = "alys-fixed"


@pytest.fixture(scope="module")
def canonical() -> Canonical:
    """Nine blocks after genesis, three authorities, PoW at least every four blocks."""
    b = bls.backend("blst")
    keyring = Keyring((11, 12, 13), tuple(b.SkToPk(sk) for sk in (11, 12, 13)))
    chain = Canonical(
        ChainBuilder(
            ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4),
            keyring,
            b,
        )
    )
    chain.extend(9)
    return chain


class Node:
    """A node of one target over a store on a real file."""

    def __init__(self, spec: str, canonical: Canonical, path: Path, *, interval: int = 3) -> None:
        self.target, self.canonical, self.path, self.interval = targets.load(spec), canonical, path, interval
        self.disk = Disk(str(path))
        self.start()

    def open(self) -> Any:
        return self.target.sync.store(
            interval=self.interval, retention=2, path=str(self.path), busy_timeout=0.0
        )

    def start(self) -> None:
        b = self.canonical.builder
        self.store = self.open()
        self.node = self.target.sync.recover(self.store, b.spec, b.genesis, b.bitcoin)
        self.network = self.target.sync.network()
        self.engine = self.target.sync.engine(self.node, self.network, self.store)

    def import_to(self, height: int) -> None:
        for h in range(self.node.head_height + 1, height + 1):
            self.engine.import_block(self.canonical.wire[h])

    def crash(self) -> None:
        self.disk.crash(self.store)

    def stored(self) -> list[int]:
        return list(self.store.stored_heights())

    def rows_are_canonical(self) -> bool:
        return all(data == self.canonical.wire[h] for h, _, data in self.store.blocks_from(1))


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[Node]]:
    """Every Node a test starts; their stores are closed at the end."""
    started: list[Node] = []
    yield started
    for n in started:
        n.store.close()


def start(nodes: list[Node], spec: str, canonical: Canonical, path: Path, **kw: Any) -> Node:
    n = Node(spec, canonical, path, **kw)
    nodes.append(n)
    return n


def fill_until_refused(n: Node) -> BaseException:
    """Import canonical blocks onto a full disk until the store refuses one; that error."""
    fill_the_disk(n.store)
    for h in range(n.node.head_height + 1, n.canonical.tip + 1):
        try:
            n.engine.import_block(n.canonical.wire[h])
        except Exception as err:  # noqa: BLE001 - what the store raises is the point
            return err
    raise AssertionError("the disk never filled")


# --- a write the store refuses ---------------------------------------------------------------------------


def test_a_full_disk_is_a_typed_refusal_and_the_head_stays_with_the_store(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    n.import_to(2)
    err = fill_until_refused(n)
    assert type(err).__name__ == "StoreFull" and isinstance(err, OSError), repr(err)
    assert n.node.head_height == n.engine.acknowledged == n.stored()[-1], (
        "the head moved past what the store acknowledged"
    )
    free_the_disk(n.store)
    n.import_to(canonical.tip)  # the refused block imports again once there is room
    n.store.close()
    n.start()
    assert n.node.head_height == canonical.tip and n.stored() == list(range(1, canonical.tip + 1))


def test_a_refused_block_is_not_brought_back_by_its_child(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """The node keeps a refused block among its stored blocks (rollback_head forgets none), and
    accepts any block whose parent it has: a child arriving first (a reordered answer) would put
    the refused block back on the chain, never acknowledged. Sync imports only the next block."""
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    n.import_to(1)
    fill_until_refused(n)
    refused = n.node.head_height + 1
    free_the_disk(n.store)
    with pytest.raises(ValueError, match="does not extend the head"):
        n.engine.import_block(canonical.wire[refused + 1])
    assert n.node.head_height == refused - 1 and n.stored() == list(range(1, refused))
    n.import_to(canonical.tip)
    assert n.stored() == list(range(1, canonical.tip + 1))


def test_today_a_refused_write_leaves_a_hole_and_the_restart_fails(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """sync-head-moves-before-store: the head moved, the block was never stored; the next block
    is stored above the hole, and recovery cannot replay past it."""
    n = start(nodes, f"{FIXED}+sync-head-moves-before-store", canonical, tmp_path / "s.sqlite")
    n.import_to(2)
    fill_until_refused(n)
    hole = n.node.head_height
    assert hole not in n.stored(), "the head is at a block the store never took"
    free_the_disk(n.store)
    n.import_to(canonical.tip)
    assert hole not in n.stored() and n.engine.acknowledged == canonical.tip
    n.store.close()
    with pytest.raises(
        OSError, match="lost heights"
    ):  # fixed recovery refuses; before issue 14 it deleted the blocks above
        n.start()


def test_today_recovery_deletes_the_acknowledged_blocks_above_a_hole(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(
        nodes,
        f"{FIXED}+sync-head-moves-before-store+store-recovery-deletes-acknowledged",
        canonical,
        tmp_path / "s.sqlite",
    )
    n.import_to(2)
    fill_until_refused(n)
    hole = n.node.head_height
    free_the_disk(n.store)
    n.import_to(canonical.tip)
    n.store.close()
    n.start()
    assert n.node.head_height == hole - 1 < canonical.tip and n.stored() == list(range(1, hole)), (
        "acknowledged blocks deleted"
    )


def test_today_a_store_error_escapes_untyped(canonical: Canonical, nodes: list[Node], tmp_path: Path) -> None:
    n = start(nodes, f"{FIXED}+store-errors-untyped", canonical, tmp_path / "s.sqlite")
    err = fill_until_refused(n)
    assert isinstance(err, sqlite3.OperationalError) and not isinstance(err, OSError)


def test_a_lock_held_past_the_busy_timeout_cannot_happen_and_would_be_typed(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """The store holds its file exclusively, so no other connection can lock (or write) it. With
    the lock shared (store-shared-writer), a lock held past the busy timeout is StoreLocked and
    the head stays where the store is."""
    fixed = start(nodes, FIXED, canonical, tmp_path / "a.sqlite")
    fixed.import_to(1)
    assert not fixed.disk.lock(), "another connection took the write lock of a store in use"
    shared = start(nodes, f"{FIXED}+store-shared-writer", canonical, tmp_path / "b.sqlite")
    shared.import_to(1)
    assert shared.disk.lock()
    try:
        with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
            shared.import_to(2)
        assert type(refused.value).__name__ == "StoreLocked"
        assert shared.node.head_height == 1 == shared.stored()[-1]
    finally:
        shared.disk.unlock()
    shared.import_to(3)
    assert shared.stored() == [1, 2, 3]


# --- parallel download -------------------------------------------------------------------------------


def parallel(n: Node, peers: int = 3) -> None:
    for i in range(peers):
        n.network.add(n.target.sync.peer(f"p{i}", n.canonical.wire))


def test_parallel_download_lets_a_store_error_end_the_round(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    parallel(n)
    n.import_to(1)
    fill_the_disk(n.store)
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        n.engine.sync_parallel(sorted(n.network.peers), canonical.tip)
    assert type(refused.value).__name__ == "StoreFull"
    assert n.node.head_height == n.stored()[-1] < canonical.tip


def test_today_parallel_download_swallows_a_store_error_as_a_bad_block(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, f"{FIXED}+sync-parallel-swallows-store-errors", canonical, tmp_path / "s.sqlite")
    parallel(n)
    n.import_to(1)
    fill_the_disk(n.store)
    imported = n.engine.sync_parallel(
        sorted(n.network.peers), canonical.tip
    )  # returns as if a peer sent a bad block
    assert n.node.head_height == 1 + imported < canonical.tip


def test_today_the_head_runs_ahead_of_the_store(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """Both parts of the old engine: each parallel download moves the head one block past the
    full store, and says nothing (in the issue: head 45, store 5)."""
    n = start(
        nodes,
        f"{FIXED}+sync-head-moves-before-store+sync-parallel-swallows-store-errors",
        canonical,
        tmp_path / "s.sqlite",
    )
    parallel(n)
    n.import_to(1)
    fill_the_disk(n.store)
    for _ in range(canonical.tip):
        n.engine.sync_parallel(sorted(n.network.peers), canonical.tip)
    assert n.node.head_height == canonical.tip and n.stored()[-1] < canonical.tip - 2


# --- bit rot ---------------------------------------------------------------------------------------------


def decodable_rot(n: Node, height: int) -> BitFlip:
    """A flipped bit in block `height`'s row that still decodes (a silent change), found by trying."""
    raw = n.canonical.wire[height]
    for at in range(len(raw) // 2, len(raw)):
        rotted = bytearray(raw)
        rotted[at] ^= 1
        try:
            n.target.chain.decode_block(bytes(rotted))
        except Exception:  # noqa: BLE001 - not this one: keep looking
            continue
        return BitFlip("data", at / len(raw), 0)
    raise AssertionError("no decodable single-bit rot")


def rot_block(n: Node, height: int, flip: BitFlip | None = None) -> None:
    n.import_to(6)  # checkpoints at 3 and 6: rows 1..6 are trusted on restart
    flip = flip or decodable_rot(n, height)
    n.crash()
    assert n.disk.rot(n.canonical.wire[height], flip)


def test_a_rotted_block_row_is_named_at_restart(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    rot_block(n, 6)
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        n.start()
    assert type(refused.value).__name__ == "CorruptBlock" and refused.value.height == 6


def test_today_a_rotted_block_row_is_accepted_on_restart(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, f"{FIXED}+store-rows-unverified", canonical, tmp_path / "s.sqlite")
    rot_block(n, 6)  # the tip, under the newest checkpoint: trusted, and nothing after it to object
    n.start()
    assert n.node.head_height == 6 and not n.rows_are_canonical(), "the rotted row was taken as the block"


def test_today_rot_below_the_tip_deletes_good_acknowledged_blocks(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, f"{FIXED}+store-recovery-deletes-acknowledged", canonical, tmp_path / "s.sqlite")
    rot_block(n, 5, BitFlip("data", 0.0, 7))  # the first byte: the row no longer decodes
    n.start()
    assert n.node.head_height == 4 and n.stored() == [1, 2, 3, 4], "blocks 5 and 6 were acknowledged"


def test_a_rotted_checkpoint_costs_a_replay_not_a_block(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """Its state no longer valid UTF-8: before issue 14, reading it raised sqlite3's own error."""
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    n.import_to(6)
    state = next(cp.state_json for cp in n.store.checkpoints() if cp.height == 6).encode()
    n.crash()
    assert n.disk.rot(state, BitFlip("state", 0.5, 7))  # a high bit in ASCII: invalid UTF-8
    n.start()
    assert n.node.head_height == 6 and n.rows_are_canonical()
    assert [cp.height for cp in n.store.checkpoints() if cp.verifies()] == [3]


# --- a lost tail -----------------------------------------------------------------------------------------


def lose_tail(n: Node) -> None:
    n.import_to(6)
    n.crash()  # the last commits are still in the log, as after a crash
    assert n.disk.lose_the_last_page() == "the log's last frame"


def test_a_lost_tail_is_named_at_open(canonical: Canonical, nodes: list[Node], tmp_path: Path) -> None:
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    lose_tail(n)
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        n.start()
    assert type(refused.value).__name__ == "LostAcknowledged" and refused.value.acknowledged == 6


def test_today_a_lost_tail_silently_loses_the_acknowledged_tip(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, f"{FIXED}+store-tail-loss-unchecked", canonical, tmp_path / "s.sqlite")
    lose_tail(n)
    n.start()
    assert n.node.head_height == 5, "started lower than acknowledged, and nothing said so"


# --- a second writer -------------------------------------------------------------------------------------


def test_a_second_store_on_one_file_is_refused(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    n.import_to(4)
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        n.open()
    assert type(refused.value).__name__ == "StoreInUse"


def test_today_a_second_store_overwrites_what_the_first_acknowledged(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    n = start(nodes, f"{FIXED}+store-shared-writer", canonical, tmp_path / "s.sqlite")
    n.import_to(4)
    intruder = n.open()
    intruder.put_block(
        3, bytes.fromhex(canonical.states[3]["head"]), unapproved(canonical.wire[3]), canonical.states[3], 0
    )
    intruder.close()
    assert not n.rows_are_canonical(), "the second writer's row replaced an acknowledged one"


def test_a_second_process_cannot_open_a_store_in_use(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """Across processes too: the lock is SQLite's file lock, held while the store is open."""
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    n.import_to(2)
    program = (
        "import sys\nfrom alys.sync.store import Store\n"
        "try:\n    Store(sys.argv[1], 3, 2, busy_timeout=0.0)\n"
        "except OSError as err:\n    print(type(err).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, str(n.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "StoreInUse", result.stdout + result.stderr


# --- the store on its own, against a reference of what it acknowledged ----------------------------------
#
# The tests above drive the store through a node; this one drives its whole API directly with
# synthetic rows (no chain to build, so hundreds of programs a second), and compares it after
# every step with a plain reference: every row and its digest, every checkpoint kept (the last
# `retention` multiples of `interval`, each verifying or not), the acknowledged height, the newest
# valid checkpoint, and the same after the store reopens. Injected faults at either write of a
# put (the block's row, or the checkpoint in the same transaction), both kinds.


@frozen
class StoreStep:
    """One step of a store program: the action, and the values it needs."""

    action: str  # put, reopen, truncate, discard, acknowledge, rot-checkpoint, prune
    at: float = 0.0  # where in the stored heights the action applies, in [0, 1)
    fault: str | None = None  # put only: "io-error" or "torn"
    fault_write: int = 1  # put only: the block's write (1) or the checkpoint's (2)
    data: bytes = b""
    now: int = 0

    def __repr__(self) -> str:
        extra = f", {self.fault} at write {self.fault_write}" if self.fault else ""
        return f"{self.action}(at={self.at:.2f}, data={self.data[:4].hex()}..{len(self.data)}B{extra})"


store_steps = st.builds(
    StoreStep,
    action=st.sampled_from(
        ["put"] * 4 + ["reopen", "truncate", "discard", "acknowledge", "rot-checkpoint", "prune"]
    ),
    at=st.floats(0, 1, exclude_max=True) | st.sampled_from([0.0, 0.999]),
    fault=st.none() | st.none() | st.sampled_from(["io-error", "torn"]),
    fault_write=st.sampled_from([1, 2]),
    data=st.binary(min_size=1, max_size=40),
    now=st.integers(0, 2**40) | st.sampled_from([0, 2**63 - 1]),
)


class StoreReference:
    """What the store must hold: rows (hash, data, whole), checkpoints (hash, text, now, verifies)."""

    def __init__(self, interval: int, retention: int) -> None:
        self.interval, self.retention = interval, retention
        self.rows: dict[int, tuple[bytes, bytes, bool]] = {}
        self.checkpoints: dict[int, tuple[bytes, str, int, bool]] = {}
        self.acknowledged = 0

    def top(self) -> int:
        return max(self.rows, default=0)

    def keep_newest(self) -> None:
        for h in sorted(self.checkpoints)[: -self.retention]:
            del self.checkpoints[h]

    def drop_above(self, height: int) -> None:
        self.rows = {h: r for h, r in self.rows.items() if h <= height}
        self.checkpoints = {h: c for h, c in self.checkpoints.items() if h <= height}

    def newest_valid(self) -> int | None:
        return max((h for h, c in self.checkpoints.items() if c[3] and h in self.rows), default=None)


def block_hash_of(height: int, data: bytes) -> bytes:
    return hashlib.sha256(height.to_bytes(8, "big") + data).digest()


def state_of(height: int, data: bytes) -> dict[str, Any]:
    return {"height": height, "head": block_hash_of(height, data).hex(), "n": len(data)}


def assert_store_matches(store: Any, ref: StoreReference) -> None:
    assert store.acknowledged == ref.acknowledged, (
        f"acknowledged {store.acknowledged}, not {ref.acknowledged}"
    )
    assert store.stored_heights() == sorted(ref.rows)
    rows = [(h, bh, data) for h, (bh, data, _) in sorted(ref.rows.items())]
    assert store.blocks_from(1) == rows
    for h, bh, data in rows:
        assert store.blocks_from(h, up_to=h) == [(h, bh, data)]
        assert store.row_verifies(h, bh, data) == ref.rows[h][2], f"row {h} against its digest"
        assert not store.row_verifies(h, bh, data + b"!"), f"row {h} with other data verifies"
    if rows:
        low, high = rows[0][0], rows[-1][0]
        assert store.blocks_from(low + 1, up_to=high - 1) == rows[1:-1]
        assert store.blocks_from(high + 1) == []
    kept = store.checkpoints()
    assert [cp.height for cp in kept] == sorted(ref.checkpoints), "checkpoints kept"
    for cp in kept:
        bh, text, now, verifies = ref.checkpoints[cp.height]
        assert (cp.block_hash, cp.state_json, cp.created_at) == (bh, text, now), f"checkpoint {cp.height}"
        assert cp.verifies() == verifies, f"checkpoint {cp.height} verifies: {cp.verifies()}"
        if verifies:
            assert cp.state == json.loads(text) and cp.integrity == integrity_hash(cp.height, bh, now, text)
    newest = store.newest_valid_checkpoint()
    assert (newest.height if newest else None) == ref.newest_valid(), "newest valid checkpoint"
    store.check()


def apply_step(store: Any, ref: StoreReference, step: StoreStep, reopen: Any) -> Any:
    """Run one step on the store and the reference; the store to go on with."""
    heights = [0, *sorted(ref.rows)]  # 0: below every row (truncate or discard everything)
    chosen = heights[int(step.at * len(heights))]
    if step.action == "put":
        height = ref.acknowledged + 1  # the engine stores only the block after the acknowledged one
        bh, state = block_hash_of(height, step.data), state_of(height, step.data)
        due = height % ref.interval == 0
        if step.fault and (step.fault_write == 1 or due):
            store.faults.at_write, store.faults.kind = store.faults.writes + step.fault_write, step.fault
        with contextlib.ExitStack() as failing:
            if step.fault and (step.fault_write == 1 or due):
                raised = failing.enter_context(pytest.raises(OSError))  # noqa: PT011 - the class is checked by name
            store.put_block(height, bh, step.data, state, step.now)
        store.faults.at_write = None
        if step.fault is None or (step.fault_write == 2 and not due):
            ref.drop_above(height)  # INSERT OR REPLACE: a torn row above is overwritten
            ref.rows[height] = (bh, step.data, True)
            if due:
                ref.checkpoints[height] = (bh, state_text(state), step.now, True)
                ref.keep_newest()
            ref.acknowledged = height
            return store
        assert "DiskError" in {c.__name__ for c in type(raised.value).__mro__}, repr(raised.value)
        if step.fault == "torn":  # what reached the disk is committed, then the process dies
            if step.fault_write == 1:
                ref.rows[height] = (bh, step.data[: len(step.data) // 2], False)
            else:
                text = state_text(state)
                ref.rows[height] = (bh, step.data, True)
                ref.checkpoints[height] = (bh, text[: len(text) // 2], step.now, False)
            return reopen(store)
        return store
    if step.action == "reopen":
        return reopen(store)
    if step.action == "truncate":
        store.truncate_above(chosen)
        ref.drop_above(chosen)
        ref.acknowledged = min(ref.acknowledged, chosen)
    elif step.action == "discard":
        if chosen < ref.acknowledged:
            with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
                store.discard_unacknowledged_above(chosen)
            assert type(refused.value).__name__ == "CorruptBlock" and refused.value.height == chosen + 1
            assert f"acknowledged up to {ref.acknowledged}" in str(refused.value)
        else:
            store.discard_unacknowledged_above(chosen)
            ref.drop_above(chosen)
    elif step.action == "acknowledge":
        whole = [h for h in heights[1:] if ref.rows[h][2] and h <= ref.acknowledged + 1]
        if whole:
            height = whole[int(step.at * len(whole))]
            store.acknowledge_up_to(height)
            ref.acknowledged = max(ref.acknowledged, height)
    elif step.action == "rot-checkpoint" and ref.checkpoints:
        height = sorted(ref.checkpoints)[int(step.at * len(ref.checkpoints))]
        store.corrupt_checkpoint(height)
        bh, text, now, _ = ref.checkpoints[height]
        try:
            rotted = json.loads(text)
            rotted["latest_pow"] = "00" * 32
            changed = json.dumps(rotted, sort_keys=True)
        except ValueError:
            changed = text + "x"
        ref.checkpoints[height] = (bh, changed, now, False)
    elif step.action == "prune":
        store.prune()
    return store


@settings(max_examples=60, deadline=None)
@given(
    interval=st.integers(1, 4),
    retention=st.integers(1, 3),
    on_file=st.booleans(),
    steps=st.lists(store_steps, min_size=1, max_size=25),
)
def test_the_store_holds_exactly_what_it_acknowledged_step_by_step(
    interval: int, retention: int, on_file: bool, steps: list[StoreStep]
) -> None:
    """Whatever the program of puts (with an I/O error or a torn write at the block's row or its
    checkpoint), truncations, discards, acknowledgements, rotted checkpoints, prunes and reopens:
    the store holds exactly the reference's rows and checkpoints, acknowledges what it must, finds
    the newest valid checkpoint, and refuses to discard an acknowledged row, naming it."""
    target = targets.load(FIXED)
    ref = StoreReference(interval, retention)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "s.sqlite") if on_file else ":memory:"

        def open_store() -> Any:
            return target.sync.store(interval=interval, retention=retention, path=path, busy_timeout=0.0)

        def reopen(old: Any) -> Any:
            if not on_file:  # a memory store cannot restart: recovery cuts off the torn tail instead
                old.discard_unacknowledged_above(ref.acknowledged)
                ref.drop_above(ref.acknowledged)
                return old
            with pytest.raises(OSError) as second:  # noqa: PT011 - the class is checked by name
                open_store()
            assert type(second.value).__name__ == "StoreInUse", repr(second.value)
            old.close()
            new = open_store()
            assert new.acknowledged == ref.acknowledged, "the acknowledgement record after a restart"
            new.discard_unacknowledged_above(ref.acknowledged)  # recovery: the torn tail goes
            ref.drop_above(ref.acknowledged)
            return new

        store = open_store()
        try:
            for step in steps:
                note(repr(step))
                store = apply_step(store, ref, step, reopen)
                assert_store_matches(store, ref)
        finally:
            store.close()


def test_a_closed_store_refuses_every_operation_with_a_typed_error_naming_it() -> None:
    """After close (the process let go of its file), every operation is a StoreIOError that says
    what the store was doing; before, a closed connection's own ProgrammingError escaped untyped
    (the rollback check itself raised)."""
    store = targets.load(FIXED).sync.store(interval=1, retention=1)
    store.put_block(1, b"\x01" * 32, b"block", {"height": 1}, 0)
    store.close()
    operations = {
        "storing block 2": lambda: store.put_block(2, b"\x02" * 32, b"next", {}, 0),
        "truncating above 0": lambda: store.truncate_above(0),
        "discarding unacknowledged rows above 1": lambda: store.discard_unacknowledged_above(1),
        "pruning checkpoints": store.prune,
        "reading blocks": lambda: store.blocks_from(1),
        "reading heights": store.stored_heights,
        "reading checkpoints": store.checkpoints,
        "checking the acknowledged blocks": store.check,
        "reading": lambda: store.row_verifies(1, b"\x01" * 32, b"block"),
    }
    for doing, operation in operations.items():
        with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
            operation()
        assert type(refused.value).__name__ == "StoreIOError", f"{doing}: {refused.value!r}"
        # What was done, SQLite's message, and the error's name (SQLite's, or the class when it has none).
        assert str(refused.value) == f"{doing}: Cannot operate on a closed database. (ProgrammingError)"


@pytest.mark.parametrize("lost", [4, 5, 6])  # the error shows the first five missing heights, then "..."
def test_lost_acknowledged_heights_are_named_five_at_most(tmp_path: Path, lost: int) -> None:
    """Acknowledged rows gone from the file (a lost tail, a hole): LostAcknowledged at open names
    the acknowledged height and the missing heights, the first five of them and "..." past five."""
    path = str(tmp_path / "s.sqlite")
    target = targets.load(FIXED)
    store = target.sync.store(interval=100, retention=1, path=path)
    for h in range(1, 9):
        store.put_block(h, block_hash_of(h, b"x"), b"x", {}, 0)
    store.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM blocks WHERE height > ?", (8 - lost,))
    db.commit()
    db.close()
    with pytest.raises(OSError) as refused:  # noqa: PT011 - the class is checked by name
        target.sync.store(interval=100, retention=1, path=path)
    missing = list(range(9 - lost, 9))
    shown = ", ".join(map(str, missing[:5])) + (" ..." if lost > 5 else "")
    assert type(refused.value).__name__ == "LostAcknowledged", repr(refused.value)
    assert (refused.value.acknowledged, refused.value.missing) == (8, missing)
    assert str(refused.value) == f"acknowledged up to 8, but the store lost heights {shown}"


def test_a_real_sqlite_error_is_named_by_its_sqlite_code(
    canonical: Canonical, nodes: list[Node], tmp_path: Path
) -> None:
    """A full disk is StoreFull whose message ends with SQLite's own code (SQLITE_FULL)."""
    n = start(nodes, FIXED, canonical, tmp_path / "s.sqlite")
    err = fill_until_refused(n)
    assert type(err).__name__ == "StoreFull" and str(err).endswith("(SQLITE_FULL)"), str(err)


@pytest.mark.parametrize(
    "state", ['{"height": 1}', '{"height": ', b'{"h\xff'.decode("utf-8", "surrogateescape")]
)
def test_a_rotted_checkpoint_no_longer_verifies_whatever_its_state(state: str) -> None:
    """The fault injector: a checkpoint whose state is an object gets a latest-PoW block no store
    holds; one whose state is already not JSON (even invalid UTF-8) gets one more byte. Either way
    the bytes change behind the integrity hash, so it no longer verifies."""
    store = targets.load(FIXED).sync.store(interval=1, retention=1)
    store.put_block(1, b"\x01" * 32, b"block", {"height": 1}, 0)
    store.db.execute(
        "UPDATE checkpoints SET state = CAST(? AS TEXT) WHERE height = 1",
        (state.encode("utf-8", "surrogateescape"),),
    )
    store.corrupt_checkpoint(1)
    (cp,) = store.checkpoints()
    expected = '{"height": 1, "latest_pow": "' + "00" * 32 + '"}' if state == '{"height": 1}' else state + "x"
    assert (cp.state_json, cp.verifies()) == (expected, False)
    store.close()


def test_the_sync_port_builds_peers_and_stores_as_told(canonical: Canonical) -> None:
    """The sync component's factories pass every setting through and keep the designed defaults:
    a peer is honest and serves its whole chain unless told to lag or lie (then it claims what it
    is told); a store waits `busy_timeout` seconds for another connection's lock (5 s by default)."""
    sync = targets.load(FIXED).sync
    tip = len(canonical.wire) - 1
    assert sync.peer("p", canonical.wire).status() == tip
    assert sync.peer("p", canonical.wire, "lagging").status() == tip  # lag 0 by default: not behind
    assert sync.peer("p", canonical.wire, "lagging", lag=2).status() == tip - 2
    assert sync.peer("p", canonical.wire, "lying", claimed=0).status() == 0
    for told, waits_ms in ((None, 5000), (0.0, 0), (0.25, 250)):
        store = (
            sync.store(interval=1, retention=1)
            if told is None
            else sync.store(interval=1, retention=1, busy_timeout=told)
        )
        assert store.db.execute("PRAGMA busy_timeout").fetchone() == (waits_ms,)
        store.close()
