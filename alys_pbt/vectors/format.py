"""The vector format's constants, its one JSON encoding, and the errors of the vector tools.

Every file is written by `dumps`: sorted keys, one space of indent, `", "`/`": "` separators, ASCII
only, a trailing newline. The same seed and version thus give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from typing import Any

FORMAT_VERSION = 1  # bump on any change a runner must know about (docs/vectors.md "Versioning")
MANIFEST = "manifest.json"
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")
CASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._^+=,-]{0,127}$")  # also a file name (stateful rules)
ERROR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SAFE_INT = (1 << 53) - 1
DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_MAX_FILES = 5_000


class VectorError(Exception):
    """A vector set that cannot be made or used; the message is one line naming what is wrong."""


class FamilyError(VectorError):
    """A family module that does not import, or whose RULES break the contract (rule.py)."""


class RuleError(VectorError):
    """A rule whose generated cases are not valid vectors (bad name, value, schema, quirk id)."""


class BoundsError(VectorError):
    """The set would exceed the byte or file bound (raise them with --max-bytes / --max-files)."""


class IntegrityError(VectorError):
    """The directory does not match its manifest: a file changed, is missing or was added."""


class SchemaError(VectorError):
    """A file that does not validate against its JSON Schema."""


def dumps(value: Any) -> bytes:
    """The one encoding of a vector file: canonical, deterministic, newline-terminated."""
    text = json.dumps(
        value, sort_keys=True, indent=1, separators=(",", ": "), ensure_ascii=True, allow_nan=False
    )
    return (text + "\n").encode("ascii")


def canonical(value: Any) -> str:
    """A compact canonical form, to compare two JSON values exactly (True is not 1, 1 is not "1")."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(entries: Iterable[tuple[str, str]]) -> str:
    """sha256 over `<sha256>  <path>\\n` per file, sorted by path: what `sha256sum` prints."""
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(entries))
    return sha256(lines.encode("utf-8"))


def check_json(value: Any, where: str) -> None:
    """Raise RuleError unless `value` is plain JSON of the format (no NaN, no integer past 53 bits)."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise RuleError(f"{where}: integer {value} does not fit 53 bits: encode it with to_json_int")
        return
    if isinstance(value, float):  # a duration in seconds, say: a double, written in its shortest form
        if not math.isfinite(value):
            raise RuleError(f"{where}: {value} is not a finite number")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise RuleError(f"{where}: key {key!r} is not a string")
            check_json(item, f"{where}.{key}")
        return
    hint = ": encode bytes with hex_bytes" if isinstance(value, (bytes, bytearray)) else ""
    raise RuleError(f"{where}: {type(value).__name__} is not a JSON value of the format{hint}")
