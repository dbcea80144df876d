"""Expensive fixtures (a 10,000-block chain, ...) built once and kept on disk between runs.

`cached(name, params, builder, code=(modules...))` returns what `builder()` returns, built at most once
per key: the key is a sha256 of the name, the params' repr, the bytes of the modules that build the
value, and the Python and Hypothesis versions, so a change to any of them builds afresh. Values are
stored pickled (in memory and under `.hypothesis/fixture-cache/`, which is gitignored) and every call
unpickles a fresh copy: no mutable state is shared between examples. Writes go to a temporary file
then `os.replace`, so xdist workers racing on one key both end with a whole entry; an entry that does
not unpickle is rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

import hypothesis

T = TypeVar("T")

# Overridable so tests (and users who want it elsewhere) can point the cache at another directory.
CACHE_DIR = Path(
    os.environ.get("ALYS_PBT_FIXTURE_CACHE", Path(__file__).parents[1] / ".hypothesis" / "fixture-cache")
)
# Entries kept per fixture name (the newest by mtime): a 10,000-block chain is ~23 MB, and shrinking
# a failure draws a new keyring (so a new key) per step.
KEEP = 8
_memo: dict[str, bytes] = {}


def fingerprint(modules: Sequence[ModuleType]) -> str:
    """A sha256 of the source files of `modules`: the code that builds a fixture."""
    h = hashlib.sha256()
    for m in sorted(modules, key=lambda m: m.__name__):
        h.update(m.__name__.encode() + b"\0" + Path(m.__file__ or "").read_bytes() + b"\0")
    return h.hexdigest()


def key(name: str, params: Any, code: str) -> str:
    """The cache key: name, params, code fingerprint and the Python and Hypothesis versions."""
    parts = (name, repr(params), code, sys.version, hypothesis.__version__)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _Pickler(pickle.Pickler):
    # Process-wide singletons (a BLS backend with its memo) are stored by reference, not by value.
    def __init__(self, file: io.BytesIO, shared: Sequence[object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = {id(o): i for i, o in enumerate(shared)}

    def persistent_id(self, obj: object) -> int | None:
        return self.shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: Sequence[object]) -> None:
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid: Any) -> object:
        return self.shared[pid]


def _dumps(value: object, shared: Sequence[object]) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, shared).dump(value)
    return buf.getvalue()


def _loads(data: bytes, shared: Sequence[object]) -> Any:
    return _Unpickler(io.BytesIO(data), shared).load()


def _prune(name: str) -> None:
    """Remove all but the KEEP newest entries of `name` (another worker may remove them first)."""
    entries = []
    for p in CACHE_DIR.glob(f"{name}-*.pickle"):
        with contextlib.suppress(FileNotFoundError):
            entries.append((p.stat().st_mtime, p))
    for _, p in sorted(entries, reverse=True)[KEEP:]:
        p.unlink(missing_ok=True)


def cached(
    name: str,
    params: Any,
    builder: Callable[[], T],
    *,
    code: Sequence[ModuleType] = (),
    shared: Sequence[object] = (),
) -> T:
    """`builder()`, built once per (name, params, code) and handed out as a fresh copy each call.

    `params` must have a stable repr; `shared` lists singletons kept by reference (they must be the
    same objects, in the same order, at every call)."""
    k = key(name, params, fingerprint(code))
    path = CACHE_DIR / f"{name}-{k[:32]}.pickle"
    data = _memo.get(k)
    if data is not None:
        return cast(T, _loads(data, shared))
    if path.exists():
        try:
            data = path.read_bytes()
            value = _loads(data, shared)
        except Exception:  # noqa: BLE001 - a corrupt or unreadable entry is rebuilt, never trusted
            pass
        else:
            _memo[k] = data
            return cast(T, value)
    data = _dumps(builder(), shared)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)  # atomic: a racing worker sees the old entry or this one, never half of it
    _prune(name)
    _memo[k] = data
    return cast(T, _loads(data, shared))
