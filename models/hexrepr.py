"""Short printed forms for the block, EVM, chain and peg-in records (issue 18, item 3): the byte
strings of models/reprs.py, and tuples of them nested as peg-ins and access lists are. Only the
printed form changes: equality, hashing, `to_bytes`/`from_bytes` and every encoding keep the bytes.
Hypothesis prints attrs records field by field, so each record also takes
`_repr_pretty_ = pretty_as_repr` to print through these forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alys_pbt.models.reprs import pretty_as_repr, short_bytes

short_hex = short_bytes


def short_hex_items(values: Iterable[Any]) -> str:
    """A tuple of byte strings, or of tuples of them (peg-ins, access lists), each short."""

    def one(value: Any) -> str:
        if isinstance(value, (bytes, bytearray)):
            return short_bytes(bytes(value))
        if isinstance(value, tuple):
            return short_hex_items(value)
        return repr(value)

    items = [one(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


__all__ = ["pretty_as_repr", "short_hex", "short_hex_items"]
