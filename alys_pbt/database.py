"""The example database: `.hypothesis/examples` at the project root, Redis, and foreign replay.

`--replay-db PATH` (or ALYS_PBT_REPLAY_DB) puts a read-only copy of another machine's database in
front of the local one: its shrunk failures are replayed, nothing is written back to it.
ALYS_PBT_DATABASE_URL=redis://... shares one database through Hypothesis's RedisExampleDatabase.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".hypothesis" / "examples"


class DatabaseError(ValueError):
    """A replay path or database URL that cannot be used."""


def replay_directory(path: str | Path) -> Path:
    """The examples directory a replay path names: the directory itself, or its `examples/`."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DatabaseError(f"replay database {str(path)!r} does not exist")
    if not p.is_dir():
        raise DatabaseError(f"replay database {str(path)!r} is not a directory")
    return p / "examples" if (p / "examples").is_dir() else p


def shared(url: str) -> ExampleDatabase:
    """Hypothesis's Redis database for a redis:// or rediss:// URL."""
    if not url.startswith(("redis://", "rediss://")):
        raise DatabaseError(f"ALYS_PBT_DATABASE_URL must be redis://... or rediss://..., got {url!r}")
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    return RedisExampleDatabase(redis.Redis.from_url(url))


def build(*, replay: str | None = None, url: str | None = None) -> ExampleDatabase:
    """The database every profile uses: local (or shared) behind an optional read-only replay."""
    own: ExampleDatabase = shared(url) if url else DirectoryBasedExampleDatabase(LOCAL)
    if not replay:
        return own
    foreign = ReadOnlyDatabase(DirectoryBasedExampleDatabase(replay_directory(replay)))
    return MultiplexedDatabase(foreign, own)
