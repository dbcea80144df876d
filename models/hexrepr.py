"""Short hex forms for the bytes that records carry (hashes, addresses, scripts, transactions), so a
failing example prints readably (issue 18, item 3). Only `repr` changes: equality, hashing,
`to_bytes`/`from_bytes` and every encoding keep the full bytes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HEAD, TAIL = 4, 2  # bytes shown from each end of a long value


def short_hex(value: bytes | None) -> str:
    """`0x0102…0a0b (32 B)` for long bytes, the whole `0x…` for up to 8 bytes, `None` as is."""
    if value is None:
        return "None"
    raw = bytes(value)
    if len(raw) <= HEAD + TAIL + 2:
        return "0x" + raw.hex()
    return f"0x{raw[:HEAD].hex()}…{raw[-TAIL:].hex()} ({len(raw)} B)"


def short_hex_items(values: Iterable[Any]) -> str:
    """A tuple of bytes (or of tuples of bytes, as peg-ins and access lists are) in short hex."""

    def one(value: Any) -> str:
        if isinstance(value, (bytes, bytearray)):
            return short_hex(value)
        if isinstance(value, tuple):
            return short_hex_items(value)
        return repr(value)

    items = [one(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
