"""Answers to mutation survivors of the block store (alys/sync/store.py, docs/mutation.md): what the
store's own fast tests (tests/test_store_faults.py) left unpinned.

* A checkpoint's state is bounded in nesting depth before json parses it (json's recursive parser
  would exhaust the stack: issue 14, item 5, `Checkpoint.state` of 1,001 `[`). The bound is counted
  by a scan that must skip what is inside strings, escapes included: a bracket inside a string is
  no nesting, and nesting after a string (whatever the string holds) is still counted.
* An unknown fault name is refused with a message naming the known ones; an injected I/O error
  fails the write it names (by default), and nothing of it is stored.
* The acknowledgement record: kept in memory too (check() compares the newest row with it, in a
  store never reopened); an in-memory store writes no record to disk; a record missing beside a
  store that holds blocks is named at open; a record grown past its size is read no further than
  one byte past it (bounded memory on a damaged file).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tracemalloc
from pathlib import Path

import pytest

from alys.sync.store import (
    ACK_MAGIC,
    ACK_SIZE,
    MAX_STATE_DEPTH,
    CorruptBlock,
    DiskError,
    LostAcknowledged,
    MalformedCheckpointState,
    StoreCorrupt,
    StoreError,
    StoreIOError,
    parse_state,
    row_digest,
)
from alys_pbt import targets


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# Strings as JSON writes them: a quote and a backslash come escaped, so the scan meets `\"` and `\\`.
STRINGS = {
    "plain": "plain",
    "escaped-quote": 'say "hi"',
    "escaped-backslash-last": "ends with a backslash \\",
    "brackets": "[[{{",
}


@pytest.mark.parametrize("held", STRINGS.values(), ids=STRINGS.keys())
def test_nesting_after_a_string_is_counted_at_and_past_the_bound(held: str) -> None:
    """The object is one level, its list MAX_STATE_DEPTH - 1 more: at the bound it parses; one more
    level is refused by the depth check (json itself would parse it), whatever string comes first."""
    at_bound = f'{{"s": {json.dumps(held)}, "d": {nested(MAX_STATE_DEPTH - 1)}}}'
    assert parse_state(at_bound) == json.loads(at_bound)
    past = f'{{"s": {json.dumps(held)}, "d": {nested(MAX_STATE_DEPTH)}}}'
    json.loads(past)  # valid JSON: only the bound refuses it
    with pytest.raises(MalformedCheckpointState, match=f"nested deeper than {MAX_STATE_DEPTH}"):
        parse_state(past)


@pytest.mark.parametrize(
    "held",
    [
        "[" * (MAX_STATE_DEPTH + 2),
        '"' + "[" * (MAX_STATE_DEPTH + 2),  # after an escaped quote, still inside the string
        "\\" + "{" * (MAX_STATE_DEPTH + 2),  # after an escaped backslash
        '\\"' + "[" * (MAX_STATE_DEPTH + 2),  # a backslash, then a quote: both escaped
    ],
    ids=["brackets", "after-escaped-quote", "after-escaped-backslash", "after-backslash-and-quote"],
)
def test_brackets_inside_a_string_are_not_nesting(held: str) -> None:
    text = json.dumps({"s": held, "n": 1})
    assert parse_state(text) == {"s": held, "n": 1}


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = targets.load("alys-fixed").sync.store(interval=3, retention=2)
    yield s
    s.close()


@pytest.mark.parametrize("action", ["inject_fault", "clear_fault"])
def test_an_unknown_fault_is_refused_naming_the_known_ones(store, action: str) -> None:  # type: ignore[no-untyped-def]
    known = ", ".join(store.FAULTS)
    with pytest.raises(ValueError, match=re.escape(f"unknown fault 'flood' (known: {known})")):
        getattr(store, action)("flood")


def block(height: int) -> tuple[bytes, bytes]:
    """A stand-in block: its hash and bytes (the store keeps what it is given)."""
    data = b"block %d" % height
    return hashlib.sha256(data).digest(), data


def put(store, heights: range) -> None:  # type: ignore[no-untyped-def]
    for h in heights:
        store.put_block(h, *block(h), {"height": h}, now=h)


@pytest.mark.parametrize("at_write", [1, 3])
def test_an_injected_io_error_fails_exactly_the_write_it_names(store, at_write: int) -> None:  # type: ignore[no-untyped-def]
    """`set_fault(n)`: write n fails as an I/O error (the default kind) and stores nothing; the
    writes before it were acknowledged and stay."""
    store.set_fault(at_write)
    put(store, range(1, at_write))
    with pytest.raises(DiskError, match=f"injected I/O error on write {at_write}"):
        put(store, range(at_write, at_write + 1))
    assert list(store.stored_heights()) == list(range(1, at_write))
    assert store.acknowledged == at_write - 1


def test_the_newest_row_is_checked_against_the_acknowledgement_record_in_a_live_store(store) -> None:  # type: ignore[no-untyped-def]
    """A tip row replaced by another, self-consistent row (its own digest matches: a second writer,
    not rot) is named by check() without a reopen: the record of what was acknowledged is kept in
    memory, not only read from disk at open."""
    put(store, range(1, 4))
    other_hash, other_data = hashlib.sha256(b"another block 3").digest(), b"another block 3"
    store.db.execute(
        "UPDATE blocks SET hash = ?, data = ?, digest = ? WHERE height = 3",
        (other_hash, other_data, row_digest(3, other_hash, other_data)),
    )
    with pytest.raises(CorruptBlock, match="acknowledged block 3: differs from the acknowledgement record"):
        store.check()


def test_an_in_memory_store_writes_nothing_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = targets.load("alys-fixed").sync.store(interval=2, retention=2)
    try:
        put(s, range(1, 4))
        s.truncate_above(1)
        assert s.acknowledged == 1
    finally:
        s.close()
    assert list(tmp_path.iterdir()) == []


def file_store(path: Path):  # type: ignore[no-untyped-def]
    return targets.load("alys-fixed").sync.store(interval=100, retention=2, path=str(path), busy_timeout=0.0)


def closed_store_holding(path: Path, height: int) -> None:
    """A file store at `path` with blocks 1..height acknowledged, closed."""
    s = file_store(path)
    put(s, range(1, height + 1))
    s.close()


def test_a_missing_acknowledgement_record_beside_blocks_is_named_at_open(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    closed_store_holding(path, 2)
    os.remove(f"{path}-ack")
    with pytest.raises(StoreCorrupt, match=r"holds blocks but its acknowledgement record .* is missing"):
        file_store(path)


def test_a_grown_acknowledgement_record_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """A record file grown to 64 MiB (a damaged file; sparse, so the test writes nothing) is
    refused as damaged, reading at most one byte past the record's size: bounded memory."""
    path = tmp_path / "store.sqlite"
    closed_store_holding(path, 2)
    os.truncate(f"{path}-ack", 64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(StoreCorrupt, match=r"acknowledgement record .* is damaged"):
            file_store(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"opening read {peak} bytes"


def test_height_zero_never_gets_a_checkpoint(store) -> None:  # type: ignore[no-untyped-def]
    """Checkpoints fall every `interval` heights from the first block: 0 is a multiple of every
    interval, yet the genesis state is no checkpoint (a store given height 0, e.g. over the target
    protocol, keeps the row and nothing else)."""
    put(store, range(0, 3))
    assert list(store.stored_heights()) == [0, 1, 2]
    assert store.newest_valid_checkpoint() is None
    put(store, range(3, 4))
    assert store.newest_valid_checkpoint().height == 3


# --- the depth scan's arithmetic, and what each refusal says --------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        # a list closed at depth 8, then two opened: 9 at the second (the count goes down by one per close)
        '{"a": ' + "[" * 7 + "1], [[1]]" + "]" * 6 + "}",
        # a list closed, then the deepest: a close takes one level off, not two
        '{"a": [1], "b": [[[[[[[[1]]]]]]]]}',
        # the empty string first: the scan starts outside any escape
        '{"": [[[[[[[[1]]]]]]]]}',
    ],
    ids=["reopened-after-a-close", "after-a-sibling", "after-an-empty-key"],
)
def test_nesting_past_the_bound_is_refused_wherever_it_follows(text: str) -> None:
    json.loads(text)
    with pytest.raises(MalformedCheckpointState, match=f"nested deeper than {MAX_STATE_DEPTH}"):
        parse_state(text)


def test_sibling_lists_are_not_nesting() -> None:
    """Closes take the depth back down: a flat object of many lists is one level deep."""
    text = json.dumps({k: [1] for k in "abcdefghijkl"})
    assert parse_state(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("XXXXXXXXXXXX", "checkpoint state is not JSON: "),  # letters are not nesting
        ("XXX" + "[" * (MAX_STATE_DEPTH + 1), f"nested deeper than {MAX_STATE_DEPTH}"),  # nor closes
        ('{"a": ', "checkpoint state is not JSON: Expecting value"),
        ("[1, 2]", "checkpoint state is a JSON list, not an object"),
        ('"text"', "checkpoint state is a JSON str, not an object"),
    ],
)
def test_each_refusal_of_a_state_says_why(text: str, message: str) -> None:
    with pytest.raises(MalformedCheckpointState) as err:
        parse_state(text)
    assert message in str(err.value)


# --- the store's errors and its acknowledgement -----------------------------------------------------------
def test_a_store_that_cannot_be_opened_is_a_typed_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "no such directory" / "store.sqlite"
    with pytest.raises(StoreError, match=re.escape(f"opening {path}")) as err:
        file_store(path)
    assert "unable to open database file" in str(err.value)  # SQLite's own reason, kept


def test_a_file_that_is_no_database_is_refused_at_open_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"not a database, " * 512)
    with pytest.raises(StoreError, match=re.escape(f"opening {path}")) as err:
        file_store(path)
    assert "file is not a database" in str(err.value)


def test_a_row_digest_is_the_documented_sha256_of_height_hash_and_data() -> None:
    """The digest is stored in the file: its formula is the store's on-disk format
    (SHA-256 of the height as 8 big-endian bytes, the block hash, the data)."""
    h, data = block(300)
    assert row_digest(300, h, data) == hashlib.sha256((300).to_bytes(8, "big") + h + data).digest()


def test_a_failed_write_of_the_acknowledgement_record_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    s = file_store(path)
    try:
        put(s, range(1, 2))
        os.remove(f"{path}-ack")
        os.mkdir(f"{path}-ack")  # the record cannot be written: its name is a directory now
        with pytest.raises(StoreIOError, match=re.escape(f"writing the acknowledgement record {path}-ack: ")):
            put(s, range(2, 3))
    finally:
        s.close()


def test_a_file_store_writes_with_full_sync(tmp_path: Path) -> None:
    """synchronous=FULL: a commit is on disk before put_block returns (NORMAL may lose the last ones)."""
    s = file_store(tmp_path / "store.sqlite")
    try:
        assert s.db.execute("PRAGMA synchronous").fetchone() == (2,)
    finally:
        s.close()


def test_a_rotted_row_is_named_by_check(store) -> None:  # type: ignore[no-untyped-def]
    put(store, range(1, 4))
    store.db.execute("UPDATE blocks SET data = ? WHERE height = 2", (b"block 2, rotted",))
    with pytest.raises(
        CorruptBlock, match=re.escape("acknowledged block 2: does not match its digest (bit rot)")
    ):
        store.check()


def test_rows_that_validated_at_recovery_are_acknowledged(store) -> None:  # type: ignore[no-untyped-def]
    """A row committed but never acknowledged (the process died between the two) that validates
    again at recovery is acknowledged up to its height, with its own hash in the record."""
    put(store, range(1, 3))
    for height in (3, 4):  # two rows past the acknowledged height; the first validated again
        h, data = block(height)
        store.db.execute(
            "INSERT INTO blocks VALUES (?, ?, ?, ?)", (height, h, data, row_digest(height, h, data))
        )
    assert store.acknowledged == 2
    store.acknowledge_up_to(3)
    assert store.acknowledged == 3
    store.check()


@pytest.mark.parametrize("to", [1, 2])
def test_after_a_rollback_the_store_checks_clean(store, to: int) -> None:  # type: ignore[no-untyped-def]
    """truncate_above(h): the new tip is acknowledged with its own hash, so check() (which compares
    the newest row with the record) passes, and rows above h are gone."""
    put(store, range(1, 5))
    store.truncate_above(to)
    assert store.acknowledged == to and list(store.stored_heights()) == list(range(1, to + 1))
    store.check()


def test_a_torn_checkpoint_write_leaves_no_valid_checkpoint(store) -> None:  # type: ignore[no-untyped-def]
    """Writes are counted from 1: block 1, block 2, then checkpoint 2 (interval 2). Torn there,
    what reached the disk is committed, cut short: the checkpoint never verifies."""
    s = targets.load("alys-fixed").sync.store(interval=2, retention=2)
    try:
        s.set_fault(3, "torn")
        put(s, range(1, 2))
        with pytest.raises(DiskError, match="torn"):
            put(s, range(2, 3))
        assert [c.height for c in s.checkpoints()] == [2]
        assert s.newest_valid_checkpoint() is None
    finally:
        s.close()


def test_the_acknowledgement_record_is_a_plain_file(tmp_path: Path) -> None:
    """Mode 0o644 (less the umask): readable, never executable."""
    path = tmp_path / "store.sqlite"
    file_store(path).close()
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(f"{path}-ack").st_mode & 0o777 == 0o644 & ~umask


def test_an_unreadable_acknowledgement_record_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    closed_store_holding(path, 1)
    os.remove(f"{path}-ack")
    os.mkdir(f"{path}-ack")
    with pytest.raises(StoreIOError, match=re.escape(f"reading the acknowledgement record {path}-ack: ")):
        file_store(path)


@pytest.mark.parametrize("damage", ["checksum", "magic-with-a-valid-checksum"])
def test_a_damaged_acknowledgement_record_is_refused(tmp_path: Path, damage: str) -> None:
    """Each of the record's guards alone refuses it: its checksum, and its magic (a record of the
    right size whose checksum is right for a body without the magic is still no record)."""
    path = tmp_path / "store.sqlite"
    closed_store_holding(path, 2)
    raw = Path(f"{path}-ack").read_bytes()
    assert len(raw) == ACK_SIZE and raw.startswith(ACK_MAGIC)
    if damage == "checksum":
        raw = raw[:-1] + bytes([raw[-1] ^ 1])
    else:
        body = bytes([raw[0] ^ 1]) + raw[1 : ACK_SIZE - 32]
        raw = body + hashlib.sha256(body).digest()
    Path(f"{path}-ack").write_bytes(raw)
    with pytest.raises(StoreCorrupt, match=r"acknowledgement record .* is damaged"):
        file_store(path)


def test_every_height_is_read_back_however_tall_the_store(store) -> None:  # type: ignore[no-untyped-def]
    put(store, range(1, 131))
    assert [h for h, _, _ in store.blocks_from(1)] == list(range(1, 131))
    assert [h for h, _, _ in store.blocks_from(125)] == list(range(125, 131))


def test_a_lost_first_block_is_named(store) -> None:  # type: ignore[no-untyped-def]
    put(store, range(1, 4))
    store.db.execute("DELETE FROM blocks WHERE height = 1")
    with pytest.raises(LostAcknowledged, match=r"acknowledged up to 3, but the store lost heights 1$"):
        store.check()
