"""Blocks and checkpoints in SQLite (v2 actors/sync/checkpoint.rs, alys-rules.md §6.4).

A checkpoint every `interval` blocks, the last `retention` kept, each with an integrity hash
SHA-256(height BE || block hash || created_at BE || state JSON), verified on load. Every block row
carries its own digest, SHA-256(height BE || block hash || data), verified whenever the store opens.

What "acknowledged" means: `put_block` returned. A block, its checkpoint and the pruning commit in
one SQLite transaction (write-ahead log, synchronous=FULL), and only then is the acknowledgement
record written: a small file next to the database (`<path>-ack`: height, block hash, row digest,
and a SHA-256 over them). Nothing acknowledged is lost whatever the fault, or the store says so
with a typed error (a StoreError, an OSError) when it opens. Per fault:

* a write that fails (database locked past the busy timeout, disk full, an I/O error): the block is
  not acknowledged and nothing of it is stored; StoreLocked / StoreFull / StoreIOError / DiskError;
* the process dies mid-write (a torn row): that row was never acknowledged; recovery cuts it off;
* bit rot in a block row at or below the acknowledged height: CorruptBlock at open (the row no
  longer matches its digest); above it: an unacknowledged row, cut off by recovery;
* bit rot in a checkpoint row: the checkpoint no longer verifies and is ignored; recovery validates
  the blocks after the newest one that does (nothing is lost: the blocks are all there);
* the file loses its tail (its last pages, or the last frames of the log): LostAcknowledged at open
  (the acknowledgement record names a height the database no longer holds), or StoreCorrupt if
  SQLite finds the file malformed;
* a second process or connection: the store holds its file exclusively (SQLite locking_mode
  EXCLUSIVE, taken when it opens), so a second Store gets StoreInUse and nobody else can write.

Disk faults are also injectable (`faults`): an I/O error on a chosen write, or a torn write that
stores only part of a row.

Seeded mutants, each today's (pre-issue-14) behaviour of one part: `store-checkpoint-before-blocks`
(a checkpoint is committed before its block), `store-recover-unverified` (recovery trusts the newest
checkpoint without verifying), `store-retention-off-by-one` (one checkpoint too many is kept),
`store-errors-untyped` (SQLite's own exceptions escape), `store-rows-unverified` (nothing compares
a row with its digest or its hash), `store-tail-loss-unchecked` (no acknowledgement record is
compared at open: a lost tail goes unnoticed), `store-shared-writer` (no exclusive lock: a second
store opens the same file and writes).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from attrs import define, field, frozen, validators

from alys.variant import Variant

MAX_STATE_BYTES = 64 * 1024  # a checkpoint's state is a flat object of three fields, ~150 bytes
MAX_STATE_DEPTH = 8
ACK_MAGIC = b"alys-ack-v1\x00"
ACK_SIZE = len(ACK_MAGIC) + 8 + 32 + 32 + 32


class StoreError(OSError):
    """A store failure: a write that was not acknowledged, or a store that cannot open as it is."""


class DiskError(StoreError):
    """An injected I/O error: the write did not happen (or, torn, happened in part and the process died)."""


class StoreLocked(StoreError):
    """SQLITE_BUSY / SQLITE_LOCKED: another connection held a lock past the busy timeout."""


class StoreFull(StoreError):
    """SQLITE_FULL: the disk (or the database's page limit) is full; the write did not happen."""


class StoreIOError(StoreError):
    """Any other failure SQLite reports (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY, ...)."""


class StoreInUse(StoreError):
    """Another process or connection holds this store: one writer per store."""


class StoreCorrupt(StoreError):
    """The store no longer holds what it acknowledged: SQLite finds the file malformed, or the
    acknowledgement record is damaged or missing."""


class CorruptBlock(StoreCorrupt):
    """An acknowledged block row does not match its digest or its hash (bit rot), or no longer validates."""

    def __init__(self, height: int, why: str) -> None:
        super().__init__(f"acknowledged block {height}: {why}")
        self.height = height


class LostAcknowledged(StoreCorrupt):
    """Acknowledged blocks are gone from the database (the file lost its tail, or a hole)."""

    def __init__(self, acknowledged: int, missing: list[int]) -> None:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        super().__init__(f"acknowledged up to {acknowledged}, but the store lost heights {shown}")
        self.acknowledged, self.missing = acknowledged, missing


class MalformedCheckpointState(StoreCorrupt, ValueError):
    """A checkpoint's state is not a JSON object within the size and nesting bounds."""


_ERRORS: tuple[tuple[tuple[str, ...], type[StoreError]], ...] = (
    (("SQLITE_BUSY", "SQLITE_LOCKED"), StoreLocked),
    (("SQLITE_FULL",), StoreFull),
    (("SQLITE_CORRUPT", "SQLITE_NOTADB"), StoreCorrupt),
)


def typed(err: sqlite3.Error, doing: str) -> StoreError:
    """The StoreError for an sqlite3 exception: its class names what is wrong."""
    name = getattr(err, "sqlite_errorname", "") or ""
    kind = next((cls for prefixes, cls in _ERRORS if name.startswith(prefixes)), StoreIOError)
    return kind(f"{doing}: {err} ({name or type(err).__name__})")


def parse_state(text: str) -> dict[str, Any]:
    """A checkpoint's state JSON: an object, at most MAX_STATE_BYTES and MAX_STATE_DEPTH deep
    (checked before parsing: json's recursive parser would exhaust the stack on deep nesting)."""
    if len(text) > MAX_STATE_BYTES:
        raise MalformedCheckpointState(
            f"checkpoint state of {len(text)} characters (at most {MAX_STATE_BYTES})"
        )
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_STATE_DEPTH:
                raise MalformedCheckpointState(f"checkpoint state nested deeper than {MAX_STATE_DEPTH}")
        elif ch in "]}":
            depth -= 1
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as err:  # JSONDecodeError, or an integer past int_max_str_digits
        raise MalformedCheckpointState(f"checkpoint state is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise MalformedCheckpointState(f"checkpoint state is a JSON {type(value).__name__}, not an object")
    return value


@frozen
class Checkpoint:
    height: int
    block_hash: bytes
    state_json: str  # exactly as stored: the integrity hash covers these bytes
    created_at: int
    integrity: bytes

    @property
    def verified(self) -> bool:
        return self.verifies()

    def verifies(self) -> bool:
        return self.integrity == integrity_hash(
            self.height, self.block_hash, self.created_at, self.state_json
        )

    @property
    def state(self) -> dict[str, Any]:
        """The state object (MalformedCheckpointState if it is not one, within bounds)."""
        return parse_state(self.state_json)


def state_text(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True)


def integrity_hash(height: int, block_hash: bytes, created_at: int, state_json: str) -> bytes:
    body = (
        height.to_bytes(8, "big")
        + block_hash
        + created_at.to_bytes(8, "big")
        + state_json.encode("utf-8", "surrogateescape")
    )
    return hashlib.sha256(body).digest()


def _hash32(block_hash: bytes) -> bytes:
    return bytes(block_hash).ljust(32, b"\0")[:32]


def row_digest(height: int, block_hash: bytes, data: bytes) -> bytes:
    """A block row's own digest: SHA-256(height BE || block hash || data)."""
    return hashlib.sha256(height.to_bytes(8, "big") + bytes(block_hash) + bytes(data)).digest()


@define
class DiskFaults:
    """Which write (counting from 1) fails, and how: "io-error" or "torn"."""

    at_write: int | None = None
    kind: str = field(
        default="io-error", validator=validators.in_(("io-error", "torn"))
    )  # checked on every set
    writes: int = 0

    def next_write(self) -> str | None:
        self.writes += 1
        if self.at_write is not None and self.writes == self.at_write:
            return self.kind
        return None


class _Torn(DiskError):
    """A torn write: what reached the disk is committed, then the process dies."""


@define
class Store:
    path: str = ":memory:"
    interval: int = 100
    retention: int = 10
    variant: Variant = field(factory=Variant)
    faults: DiskFaults = field(factory=DiskFaults)
    busy_timeout: float = 5.0  # seconds SQLite waits for another connection's lock
    db: sqlite3.Connection = field(init=False)
    acknowledged: int = field(init=False, default=0)  # the height of the last acknowledged block
    _ack_record: tuple[int, bytes, bytes] | None = field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError(f"checkpoint interval must be at least 1 block, got {self.interval}")
        if self.retention < 1:
            raise ValueError(f"checkpoint retention must keep at least 1 checkpoint, got {self.retention}")
        v = self.variant
        try:
            self.db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as err:
            raise (err if v.on("store-errors-untyped") else typed(err, f"opening {self.path}")) from None
        try:
            self._open()
        except BaseException:
            self.db.close()
            raise

    def _open(self) -> None:
        v = self.variant
        file_backed = self.path != ":memory:"
        with self._sqlite(f"opening {self.path}", in_use=True):
            if file_backed:
                if not v.on("store-shared-writer"):
                    # One writer per store: the lock is taken by the first write below and held
                    # until close (before WAL mode, so the log's index lives in this process's heap).
                    self.db.execute("PRAGMA locking_mode=EXCLUSIVE")
                self.db.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit is on disk before put_block returns (NORMAL may lose the last commits).
                self.db.execute(
                    f"PRAGMA synchronous={'NORMAL' if v.on('store-tail-loss-unchecked') else 'FULL'}"
                )
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS blocks (height INTEGER "
                "PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL,"
                " digest BLOB NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
                " state TEXT NOT NULL,"
                " created_at INTEGER NOT NULL, integrity BLOB NOT NULL)"
            )
            self.db.execute("COMMIT")
        if file_backed:
            if not os.path.exists(self.ack_path) and not self._one("SELECT EXISTS (SELECT 1 FROM blocks)"):
                self._acknowledge(
                    0, b"", b""
                )  # a new store: nothing acknowledged yet, and a record that says so
            self.acknowledged = self._read_ack()
        self.check()

    # --- SQLite errors, transactions ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _sqlite(self, doing: str, *, in_use: bool = False) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            # A closed connection raises even on `in_transaction`: the error stays this one, typed.
            with contextlib.suppress(sqlite3.Error):
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
            if self.variant.on("store-errors-untyped"):  # pragma: no mutate block
                raise
            error = typed(err, doing)
            if in_use and isinstance(error, StoreLocked):
                error = StoreInUse(f"{self.path} is held by another process or connection ({err})")
            raise error from None

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        """One atomic write; a torn write commits what reached the disk, then the process dies."""
        with self._sqlite(doing):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except _Torn:
                self.db.execute("COMMIT")
                raise
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _write(self, sql: str, row: tuple[Any, ...], torn_index: int) -> None:
        fault = self.faults.next_write()
        if fault == "io-error":
            raise DiskError(f"injected I/O error on write {self.faults.writes}")
        if fault == "torn":  # the process dies mid-write: half of one field reaches the disk
            row = tuple(
                v[: len(v) // 2] if i == torn_index and isinstance(v, (bytes, str)) else v
                for i, v in enumerate(row)
            )
        self.db.execute(sql, row)
        if fault == "torn":
            raise _Torn(f"crashed during write {self.faults.writes} (torn)")

    def close(self) -> None:
        """Release the file (and its lock), as a process that exits or dies does."""
        self.db.close()

    # --- the fault model's hooks (the suite's disk, simulated; the store's own code is unchanged) ------
    FAULTS = ("disk-full",)

    def inject_fault(self, name: str) -> None:
        """Fault "disk-full": SQLite's page limit set to the pages in use, so the next write needing a
        new page fails with a real SQLITE_FULL (what the suite reached `db` for; now a call, so a store
        behind the target protocol can be driven the same way)."""
        if name not in self.FAULTS:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(self.FAULTS)})")
        (pages,) = self.db.execute("PRAGMA page_count").fetchone()
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    def clear_fault(self, name: str) -> None:
        """The disk has room again (SQLite's default page limit)."""
        if name not in self.FAULTS:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(self.FAULTS)})")
        self.db.execute("PRAGMA max_page_count = 1073741823")

    def set_fault(self, at_write: int | None, kind: str = "io-error") -> None:
        """Write number `at_write` (counting this store's writes from 1; None: none) fails as `kind`:
        "io-error" (nothing reaches the disk) or "torn" (what reached it is committed, then the
        process dies)."""
        self.faults.kind = kind
        self.faults.at_write = at_write

    @property
    def writes(self) -> int:
        """How many writes this store has made."""
        return self.faults.writes

    # --- the acknowledgement record ---------------------------------------------------------------------
    @property
    def ack_path(self) -> str:
        return self.path + "-ack"

    def _acknowledge(self, height: int, block_hash: bytes, digest: bytes) -> None:
        self.acknowledged = height
        self._ack_record = (height, _hash32(block_hash), _hash32(digest))
        if self.path == ":memory:":
            return
        body = ACK_MAGIC + height.to_bytes(8, "big") + _hash32(block_hash) + _hash32(digest)
        try:
            fd = os.open(self.ack_path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, body + hashlib.sha256(body).digest(), 0)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            raise StoreIOError(f"writing the acknowledgement record {self.ack_path}: {err}") from None

    def _read_ack(self) -> int:
        """The acknowledged height the record names (0 for a new store); StoreCorrupt if damaged."""
        has_blocks = self._one("SELECT EXISTS (SELECT 1 FROM blocks)")
        try:
            with open(self.ack_path, "rb") as f:
                raw = f.read(ACK_SIZE + 1)
        except FileNotFoundError:
            if has_blocks and not self.variant.on("store-tail-loss-unchecked"):
                raise StoreCorrupt(
                    f"{self.path} holds blocks but its acknowledgement record {self.ack_path} is missing"
                ) from None
            return 0
        except OSError as err:
            raise StoreIOError(f"reading the acknowledgement record {self.ack_path}: {err}") from None
        body, check = raw[: ACK_SIZE - 32], raw[ACK_SIZE - 32 :]
        if len(raw) != ACK_SIZE or not body.startswith(ACK_MAGIC) or hashlib.sha256(body).digest() != check:
            if self.variant.on("store-tail-loss-unchecked"):  # pragma: no mutate block
                return 0
            raise StoreCorrupt(f"the acknowledgement record {self.ack_path} is damaged ({len(raw)} bytes)")
        n = len(ACK_MAGIC)
        self._ack_record = (
            int.from_bytes(body[n : n + 8], "big"),
            body[n + 8 : n + 40],
            body[n + 40 : n + 72],
        )
        return self._ack_record[0]

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._sqlite("reading"):
            row = self.db.execute(sql, args).fetchone()
        return row[0] if row is not None else None

    def check(self) -> None:
        """Every acknowledged block row is there and matches its digest (and the acknowledgement
        record, for the newest): else LostAcknowledged or CorruptBlock, never a quiet start lower."""
        if self.variant.on("store-recovery-deletes-acknowledged"):  # pragma: no mutate block
            return  # before issue 14 nothing was checked: recovery met the damage, and cut it off
        with self._sqlite("checking the acknowledged blocks"):
            rows = list(
                self.db.execute(
                    "SELECT height, hash, data, digest FROM blocks WHERE height <= ? ORDER BY height",
                    (self.acknowledged,),
                )
            )
        if not self.variant.on("store-tail-loss-unchecked"):
            missing = sorted(set(range(1, self.acknowledged + 1)) - {h for h, _, _, _ in rows})
            if missing:
                raise LostAcknowledged(self.acknowledged, missing)
            if rows and self._ack_record is not None and self._ack_record[0] == rows[-1][0]:
                height, block_hash, digest = self._ack_record
                if (_hash32(rows[-1][1]), _hash32(rows[-1][3])) != (block_hash, digest):
                    raise CorruptBlock(height, "differs from the acknowledgement record")
        if not self.variant.on("store-rows-unverified"):
            for height, block_hash, data, digest in rows:
                if bytes(digest) != row_digest(height, bytes(block_hash), bytes(data)):
                    raise CorruptBlock(height, "does not match its digest (bit rot)")

    def _digest_of(self, height: int) -> bytes:
        return bytes(self._one("SELECT digest FROM blocks WHERE height = ?", (height,)) or b"")

    # --- blocks ------------------------------------------------------------------------------------------
    def put_block(self, height: int, block_hash: bytes, data: bytes, state: dict[str, Any], now: int) -> None:
        """Commit a block, with (every `interval` heights) a checkpoint of the state after it, in
        one transaction; then acknowledge it. Raises a StoreError if it is not acknowledged."""
        due = height > 0 and height % self.interval == 0
        digest = row_digest(height, block_hash, data)
        if due and self.variant.on("store-checkpoint-before-blocks"):
            with self._transaction(f"storing the checkpoint at {height}"):
                self._checkpoint(height, block_hash, state, now)
        with self._transaction(f"storing block {height}"):
            self._write(
                "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)", (height, block_hash, data, digest), 2
            )
            if due and not self.variant.on("store-checkpoint-before-blocks"):
                self._checkpoint(height, block_hash, state, now)
        self._acknowledge(height, block_hash, digest)

    def truncate_above(self, height: int) -> None:
        """Forget blocks above `height` (a rollback: no longer acknowledged), and checkpoints with them."""
        with self._transaction(f"truncating above {height}"):
            self.db.execute("DELETE FROM blocks WHERE height > ?", (height,))
            self.db.execute("DELETE FROM checkpoints WHERE height > ?", (height,))
        if height < self.acknowledged:
            top = self.blocks_from(height, up_to=height)
            self._acknowledge(height, top[0][1] if top else b"", self._digest_of(height))

    def discard_unacknowledged_above(self, height: int) -> None:
        """Recovery: drop rows above `height` that were never acknowledged (a torn tail). Refuses
        to drop an acknowledged row."""
        if height < self.acknowledged:
            raise CorruptBlock(
                height + 1, f"does not validate, yet the store acknowledged up to {self.acknowledged}"
            )
        with self._transaction(f"discarding unacknowledged rows above {height}"):
            self.db.execute("DELETE FROM blocks WHERE height > ?", (height,))
            self.db.execute("DELETE FROM checkpoints WHERE height > ?", (height,))

    def acknowledge_up_to(self, height: int) -> None:
        """Recovery: the rows up to `height` validated; they are acknowledged from now on."""
        if height > self.acknowledged:
            ((_, block_hash, _),) = self.blocks_from(height, up_to=height)
            self._acknowledge(height, bytes(block_hash), self._digest_of(height))

    def blocks_from(self, height: int, up_to: int | None = None) -> list[tuple[int, bytes, bytes]]:
        """(height, hash, data) of the rows from `height` (to `up_to`), in order."""
        top = up_to if up_to is not None else 2**62
        with self._sqlite("reading blocks"):
            rows = self.db.execute(
                "SELECT height, hash, data FROM blocks WHERE height >= ? AND height <= ? ORDER BY height",
                (height, top),
            )
            return [(h, bytes(bh), bytes(d)) for h, bh, d in rows]

    def row_verifies(self, height: int, block_hash: bytes, data: bytes) -> bool:
        """Whether a row matches its stored digest."""
        return self.variant.on("store-rows-unverified") or self._digest_of(height) == row_digest(
            height, block_hash, data
        )

    def stored_heights(self) -> list[int]:
        with self._sqlite("reading heights"):
            return [h for (h,) in self.db.execute("SELECT height FROM blocks ORDER BY height")]

    # --- checkpoints -------------------------------------------------------------------------------------
    def _checkpoint(self, height: int, block_hash: bytes, state: dict[str, Any], now: int) -> None:
        text = state_text(state)
        self._write(
            "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
            (height, block_hash, text, now, integrity_hash(height, block_hash, now, text)),
            2,
        )
        self._prune()

    def _prune(self) -> None:
        self.db.execute(
            "DELETE FROM checkpoints WHERE height NOT IN"
            " (SELECT height FROM checkpoints ORDER BY height DESC LIMIT ?)",
            (self.retention + (1 if self.variant.on("store-retention-off-by-one") else 0),),
        )

    def prune(self) -> None:
        """Keep the newest `retention` checkpoints."""
        with self._transaction("pruning checkpoints"):
            self._prune()

    def checkpoints(self) -> list[Checkpoint]:
        # Read as bytes: a rotted byte may leave the text invalid UTF-8, which must fail
        # verification, not the read.
        with self._sqlite("reading checkpoints"):
            rows = list(
                self.db.execute(
                    "SELECT height, hash, CAST(state AS BLOB), created_at, integrity"
                    " FROM checkpoints ORDER BY height"
                )
            )
        return [
            Checkpoint(h, bytes(bh), bytes(text).decode("utf-8", "surrogateescape"), at, bytes(d))
            for h, bh, text, at, d in rows
        ]

    def corrupt_checkpoint(self, height: int) -> None:
        """Change a stored checkpoint's state behind the integrity hash's back (bit rot): the
        recorded latest-PoW block becomes genesis's parent, a block no store holds."""
        (cp,) = (c for c in self.checkpoints() if c.height == height)
        try:
            state = cp.state
            state["latest_pow"] = "00" * 32
            text = json.dumps(state, sort_keys=True)
        except (MalformedCheckpointState, TypeError):
            text = cp.state_json + "x"
        with self._transaction(f"rotting checkpoint {height}"):
            self.db.execute(
                "UPDATE checkpoints SET state = CAST(? AS TEXT) WHERE height = ?",
                (text.encode("utf-8", "surrogateescape"), height),
            )

    def newest_valid_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint whose integrity hash verifies (and whose block is stored)."""
        heights = set(self.stored_heights())
        for cp in reversed(self.checkpoints()):
            if self.variant.on("store-recover-unverified") or (cp.verifies() and cp.height in heights):
                return cp
        return None
