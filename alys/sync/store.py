"""Blocks and checkpoints in SQLite (v2 actors/sync/checkpoint.rs, alys-rules.md §6.4).

A checkpoint every `interval` blocks, the last `retention` kept, each with an integrity hash
SHA-256(height BE || block hash || created_at BE || state JSON), verified on load. Disk faults are
injectable: an I/O error on a chosen write, or a torn write that stores only part of a row.
Recovery loads the newest checkpoint that verifies.

Seeded mutants: `store-checkpoint-before-blocks` (a checkpoint is written before its block is
committed), `store-recover-unverified` (recovery trusts the newest checkpoint without verifying), `store-retention-off-by-one` (one
checkpoint too many is kept).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from attrs import define, field, frozen, validators

from alys.variant import Variant


class DiskError(OSError):
    """An injected I/O error: the write did not happen."""


@frozen
class Checkpoint:
    height: int
    block_hash: bytes
    state_json: str  # exactly as stored: the integrity hash covers these bytes
    created_at: int
    integrity: bytes

    def verifies(self) -> bool:
        return self.integrity == integrity_hash(self.height, self.block_hash, self.created_at, self.state_json)

    @property
    def state(self) -> dict[str, Any]:
        try:
            value = json.loads(self.state_json)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}


def state_text(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True)


def integrity_hash(height: int, block_hash: bytes, created_at: int, state_json: str) -> bytes:
    body = height.to_bytes(8, "big") + block_hash + created_at.to_bytes(8, "big") + state_json.encode()
    return hashlib.sha256(body).digest()


@define
class DiskFaults:
    """Which write (counting from 1) fails, and how: "io-error" or "torn"."""

    at_write: int | None = None
    kind: str = field(default="io-error", validator=validators.in_(("io-error", "torn")))  # checked on every set
    writes: int = 0

    def next_write(self) -> str | None:
        self.writes += 1
        if self.at_write is not None and self.writes == self.at_write:
            return self.kind
        return None


@define
class Store:
    path: str = ":memory:"
    interval: int = 100
    retention: int = 10
    variant: Variant = field(factory=Variant)
    faults: DiskFaults = field(factory=DiskFaults)
    db: sqlite3.Connection = field(init=False)

    def __attrs_post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError(f"checkpoint interval must be at least 1 block, got {self.interval}")
        if self.retention < 1:
            raise ValueError(f"checkpoint retention must keep at least 1 checkpoint, got {self.retention}")
        self.db = sqlite3.connect(self.path)
        if self.path != ":memory:":
            # Write-ahead log, synced at checkpoints of the log: a commit survives a crash of the
            # process (the fault model here), at a fraction of a full fsync per block.
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, hash BLOB NOT NULL, state TEXT NOT NULL,"
            " created_at INTEGER NOT NULL, integrity BLOB NOT NULL);"
        )

    def _write(self, sql: str, row: tuple[Any, ...], torn_index: int) -> None:
        fault = self.faults.next_write()
        if fault == "io-error":
            raise DiskError(f"injected I/O error on write {self.faults.writes}")
        if fault == "torn":  # the process dies mid-write: half of one field reaches the disk
            row = tuple(v[: len(v) // 2] if i == torn_index and isinstance(v, (bytes, str)) else v for i, v in enumerate(row))
        with self.db:
            self.db.execute(sql, row)
        if fault == "torn":
            raise DiskError(f"crashed during write {self.faults.writes} (torn)")

    # --- blocks ------------------------------------------------------------------------------------------
    def put_block(self, height: int, block_hash: bytes, data: bytes, state: dict[str, Any], now: int) -> None:
        """Commit a block, then (every `interval` heights) a checkpoint of the state after it."""
        due = height > 0 and height % self.interval == 0
        if due and self.variant.on("store-checkpoint-before-blocks"):
            self._checkpoint(height, block_hash, state, now)
        self._write("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", (height, block_hash, data), 2)
        if due and not self.variant.on("store-checkpoint-before-blocks"):
            self._checkpoint(height, block_hash, state, now)

    def truncate_above(self, height: int) -> None:
        """Forget blocks above `height` (a rollback), and checkpoints with them."""
        with self.db:
            self.db.execute("DELETE FROM blocks WHERE height > ?", (height,))
            self.db.execute("DELETE FROM checkpoints WHERE height > ?", (height,))

    def blocks_from(self, height: int) -> list[tuple[int, bytes, bytes]]:
        return list(self.db.execute("SELECT height, hash, data FROM blocks WHERE height >= ? ORDER BY height", (height,)))

    def stored_heights(self) -> list[int]:
        return [h for (h,) in self.db.execute("SELECT height FROM blocks ORDER BY height")]

    # --- checkpoints -------------------------------------------------------------------------------------
    def _checkpoint(self, height: int, block_hash: bytes, state: dict[str, Any], now: int) -> None:
        text = state_text(state)
        self._write(
            "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
            (height, block_hash, text, now, integrity_hash(height, block_hash, now, text)),
            2,
        )
        self.prune()

    def prune(self) -> None:
        """Keep the newest `retention` checkpoints."""
        with self.db:
            self.db.execute(
                "DELETE FROM checkpoints WHERE height NOT IN (SELECT height FROM checkpoints ORDER BY height DESC LIMIT ?)",
                (self.retention + (1 if self.variant.on("store-retention-off-by-one") else 0),),
            )

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.db.execute("SELECT height, hash, state, created_at, integrity FROM checkpoints ORDER BY height")
        return [Checkpoint(h, bytes(bh), text, at, bytes(d)) for h, bh, text, at, d in rows]

    def corrupt_checkpoint(self, height: int) -> None:
        """Change a stored checkpoint's state behind the integrity hash's back (bit rot): the
        recorded latest-PoW block becomes genesis's parent, a block no store holds."""
        (text,) = self.db.execute("SELECT state FROM checkpoints WHERE height = ?", (height,)).fetchone()
        try:
            state = json.loads(text)
            state["latest_pow"] = "00" * 32
            text = json.dumps(state, sort_keys=True)
        except (json.JSONDecodeError, TypeError):
            text += "x"
        with self.db:
            self.db.execute("UPDATE checkpoints SET state = ? WHERE height = ?", (text, height))

    def newest_valid_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint whose integrity hash verifies (and whose block is stored)."""
        heights = set(self.stored_heights())
        for cp in reversed(self.checkpoints()):
            if self.variant.on("store-recover-unverified") or (cp.verifies() and cp.height in heights):
                return cp
        return None
