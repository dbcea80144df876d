"""The example database: `.hypothesis/examples` at the project root, Redis, and foreign replay.

`--replay-db PATH` (or ALYS_PBT_REPLAY_DB) puts a read-only copy of another machine's database in
front of the local one: its shrunk failures are replayed, nothing is written back to it.
ALYS_PBT_DATABASE_URL=redis://... shares one database through Hypothesis's RedisExampleDatabase;
the server is pinged at start-up, so a malformed or unreachable URL is one clear error before any
test runs, not a failure inside the first property.

`known-failures/` at the project root (kept in the repository, read-only) holds the shrunk
counterexample of every known quirk and library deviation, in front of everything else: a property
a quirk breaks fails on its first example, and Hypothesis does not shrink an example that replays
exactly. `python -m alys_pbt.known refresh` rewrites it (alys_pbt/known.py). ALYS_PBT_KNOWN_FAILURES
names another store, or `off` for none (the refresh itself runs without one, into a fresh local
database that ALYS_PBT_LOCAL_DB names).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".hypothesis" / "examples"
KNOWN = ROOT / "known-failures"
REDIS_TIMEOUT = 5.0  # seconds to connect, and for any one command: a dead server fails fast


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


def shared(url: str, *, timeout: float = REDIS_TIMEOUT) -> ExampleDatabase:
    """Hypothesis's Redis database for a redis:// or rediss:// URL, once the server answers a ping."""
    if not url.startswith(("redis://", "rediss://")):
        raise DatabaseError(f"ALYS_PBT_DATABASE_URL must be redis://... or rediss://..., got {redact(url)!r}")
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as err:
        raise DatabaseError(f"ALYS_PBT_DATABASE_URL {redact(url)!r} is malformed: {err}") from None
    try:
        client.ping()
    except redis.RedisError as err:
        reason = " ".join(str(err).split())
        raise DatabaseError(
            f"ALYS_PBT_DATABASE_URL {redact(url)!r} is unreachable: {type(err).__name__}: {reason}"
        ) from None
    return RedisExampleDatabase(client)


def redact(url: str) -> str:
    """The URL without its password, fit for a log."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:  # too malformed to parse: hide everything before the host
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"


def known_directory(setting: str | None) -> Path | None:
    """The known-failures store a setting names: None or "" the project's, "off" none, else a path."""
    if not setting:
        return KNOWN if KNOWN.is_dir() else None
    if setting.lower() in ("off", "none", "0"):
        return None
    p = Path(setting).expanduser()
    if not p.is_dir():
        raise DatabaseError(f"known-failures store {setting!r} is not a directory")
    return p


def build(
    *,
    replay: str | None = None,
    url: str | None = None,
    known: Path | None = None,
    local: Path | None = None,
) -> ExampleDatabase:
    """The database every profile uses: the known failures and an optional foreign replay, both
    read-only and tried first, in front of the local (or shared) database that gets new failures."""
    own: ExampleDatabase = shared(url) if url else DirectoryBasedExampleDatabase(local or LOCAL)
    front: list[ExampleDatabase] = []
    if known is not None:
        front.append(ReadOnlyDatabase(DirectoryBasedExampleDatabase(known)))
    if replay:
        front.append(ReadOnlyDatabase(DirectoryBasedExampleDatabase(replay_directory(replay))))
    return MultiplexedDatabase(*front, own) if front else own
