"""Short printed forms for records that carry hashes, scripts and signatures (issue 18, item 3).

A counterexample prints its records; a raw 32-byte hash prints as 130 characters and one AuxPoW
as about 1.5 KB. Records here print each byte string as `bytes(n)` when it is all zero (what a
shrunk hash usually is), whole when it is short, and otherwise as its first and last four bytes
and its length. Hypothesis prints attrs records field by field and ignores `field(repr=...)`, so a
record also takes `_repr_pretty_ = pretty_as_repr`. Encodings (`to_bytes`/`from_bytes`) are
untouched: the short form is for reading, the recipe in `strategies/` is for replaying.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

WHOLE_UP_TO = 12  # bytes printed in full: magic, short scripts, a nonce


def short_bytes(value: bytes | None) -> str:
    """`bytes(32)`, `bytes.fromhex('fabe6d6d')`, or `<32 bytes 0a1b2c3d..9f8e7d6c>`."""
    if value is None:
        return "None"
    value = bytes(value)
    if not value:
        return "b''"
    if not any(value):
        return f"bytes({len(value)})"
    if len(value) <= WHOLE_UP_TO:
        return f"bytes.fromhex({value.hex()!r})"
    return f"<{len(value)} bytes {value[:4].hex()}..{value[-4:].hex()}>"


def short_bytes_seq(values: Sequence[bytes]) -> str:
    """A tuple of byte strings, each short."""
    inner = ", ".join(short_bytes(v) for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


class _PrettyAsRepr:
    """Hypothesis's pretty printer hook: a record prints as its (short) repr. Looked up on the class
    itself (a test parametrized by a record type prints the type) it is absent, so the class prints
    as a class: the printer calls any callable `_repr_pretty_` it finds on the object, bound or not."""

    def __get__(self, record: object, owner: type | None = None) -> Callable[[Any, bool], None] | None:
        if record is None:
            return None

        def pretty(printer: Any, cycle: bool) -> None:
            printer.text(repr(record))

        return pretty


pretty_as_repr = _PrettyAsRepr()


__all__ = ["pretty_as_repr", "short_bytes", "short_bytes_seq"]
