"""The block wire-form catalogue: a valid block's MessagePack broken in one structural way.

Each way of `strategies/malformed_blocks.py` (`WIRE_WAYS`, its generator `malformed_wire_blocks`)
as an `InvalidCase` (strategies/invalid.py): the reference's DecodeError, the rule, whose rule it
is, and the deviations that let it through. The node writes one form per block (rmp-serde's
minimal encoding, impl-serde's "0x" + lower-case hex, serde_utils' decimal strings: alys-rules.md
§2.2); the reference reads only that form (models/blocks.py), the node's decoders more.
"""

from __future__ import annotations

from hypothesis import strategies as st

from alys_pbt.models.bitcoin import Origin
from alys_pbt.strategies.invalid import InvalidCase, by_name
from alys_pbt.strategies.malformed_blocks import malformed_wire_blocks

# The node's decoders take these forms too (impl-serde from_hex_raw, core u64::from_str under
# serde_utils quoted_u64, rmp-serde's decoder): refusing them is the suite's rule, one form per block.
_LENIENT = "chain-wire-form-lenient"
_ONE_FORM = "one wire form per block: the form the node writes (alys-rules.md §2.2)"
_SERDE = "serde: the node's block types (alys-rules.md §2.2)"


def _form(name: str, rule: str, origin: Origin, *, exposes: tuple[str, ...] = ()) -> InvalidCase:
    """A wire-form corruption (its `apply()` is the strategy of such blocks): DecodeError."""

    def apply() -> st.SearchStrategy[tuple[bytes, str]]:
        strategy: st.SearchStrategy[tuple[bytes, str]] = malformed_wire_blocks(ways=(name,))
        return strategy

    return InvalidCase(name, "DecodeError", rule, (origin,), apply, "chain", exposes=exposes)


def _hardening(why: str) -> Origin:
    return Origin("suite-hardening", why)


WIRE_FORMS: tuple[InvalidCase, ...] = (
    _form("hex-upper-case", "hex digits are lower case", _hardening(_ONE_FORM), exposes=(_LENIENT,)),
    _form("hex-whitespace", "hex has no whitespace", _hardening(_ONE_FORM), exposes=(_LENIENT,)),
    _form("hex-without-prefix", "hex starts with 0x", Origin("node", "impl-serde serialize.rs from_hex_raw")),
    _form(
        "decimal-leading-zeros", "decimals have no leading zeros", _hardening(_ONE_FORM), exposes=(_LENIENT,)
    ),
    _form("decimal-sign", "decimals have no sign", _hardening(_ONE_FORM), exposes=(_LENIENT,)),
    _form(
        "long-digits",
        "a decimal fits its u64 or u256",
        Origin("node", "core u64::from_str (serde_utils quoted_u64 / quoted_u256)"),
    ),
    _form("type-confusion", "each field has its type", Origin("node", _SERDE)),
    _form("map-for-struct", "a struct is an array, without field names", Origin("node", _SERDE)),
    _form("deep-nesting", "nesting is bounded", _hardening("bounded depth: msgpack's own nesting limit")),
    _form(
        "huge-count",
        "lists are bounded",
        _hardening("16 withdrawals (the node's MaxWithdrawalsPerPayload), 16,384 transactions, 1 MiB"),
    ),
    _form(
        "non-minimal-integer", "integers take their minimal width", _hardening(_ONE_FORM), exposes=(_LENIENT,)
    ),
    _form(
        "non-minimal-string", "strings take their minimal width", _hardening(_ONE_FORM), exposes=(_LENIENT,)
    ),
    _form("non-minimal-array", "arrays take their minimal width", _hardening(_ONE_FORM), exposes=(_LENIENT,)),
    _form("trailing-bytes", "nothing follows the block", _hardening(_ONE_FORM)),
)
BY_NAME: dict[str, InvalidCase] = by_name(WIRE_FORMS)

__all__ = ["BY_NAME", "WIRE_FORMS"]
