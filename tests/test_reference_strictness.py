"""The references are typed and as strict as the strictest client where the node is lenient.

The block reference reads integer fields as rmp-serde does: a MessagePack bool where an integer
belongs is a type error, never the integer 0 or 1 (Python's bool is an int). Found by
properties/test_block_decoders.py (type-confusion): the reference accepted `true` as the AuxPoW
coinbase's version, which the node's decoder (and the port's) refuse."""

from __future__ import annotations

from typing import Any

import attrs
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys_pbt.models import blocks, bls
from alys_pbt.models.blocks import AuxPowHeader, DecodeError, block_to_bytes
from alys_pbt.models.chain import Chain, InvalidBlockRange
from alys_pbt.strategies.blocks import signed_blocks
from alys_pbt.strategies.sync import canonical_chains


def _int_leaves(tree: Any, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    if isinstance(tree, list):
        return [p for i, x in enumerate(tree) for p in _int_leaves(x, (*path, i))]
    return [path] if type(tree) is int else []


def _with(tree: Any, path: tuple[int, ...], value: Any) -> bytes:
    copy = msgpack.unpackb(msgpack.packb(tree, use_bin_type=True), raw=False)
    node = copy
    for i in path[:-1]:
        node = node[i]
    node[path[-1]] = value
    return bytes(msgpack.packb(copy, use_bin_type=True))


def _refused(raw: bytes) -> str:
    try:
        blocks.block_from_bytes(raw)
    except DecodeError as err:
        return str(err)
    return ""


@settings(max_examples=10, deadline=None)
@given(signed=signed_blocks(length=st.integers(1, 4), pow_every=1, forks=st.just(0)))
def test_a_bool_in_any_integer_field_is_a_decode_error(signed: Any) -> None:
    tree = msgpack.unpackb(block_to_bytes(signed), raw=False)
    leaves = _int_leaves(tree)
    assert leaves, "a block has integer fields"
    accepted = [(path, b) for path in leaves for b in (True, False) if not _refused(_with(tree, path, b))]
    assert accepted == [], f"a bool accepted as an integer at {accepted[:5]}"


@settings(max_examples=5, deadline=None)
@given(canonical=canonical_chains(length=st.integers(1, 3)))
def test_a_pow_range_that_ends_before_it_starts_is_a_typed_error(canonical: Any) -> None:
    """A range whose end is its start's parent holds no block: InvalidBlockRange, named, where the
    reference once raised an untyped ValueError from the aggregate of nothing (the node hashes the
    empty list; refusing it is the suite's hardening)."""
    b = canonical.builder
    reference = Chain(b.spec, b.genesis, bls.backend(), b.bitcoin)
    for raw in canonical.wire[1:]:
        reference.process_block(blocks.block_from_bytes(raw))
    start = reference.canonical[reference.block(reference.finalized).height + 1]
    tip = blocks.block_from_bytes(canonical.wire[-1]).message
    header = AuxPowHeader(
        range_start=start,
        range_end=reference.block(start).parent_hash,
        bits=b.spec.bits,
        chain_id=b.spec.chain_id,
        height=1,
        auxpow=None,
        fee_recipient=bytes(20),
    )
    with pytest.raises(InvalidBlockRange, match="empty range"):
        reference.check_pow(attrs.evolve(tip, auxpow_header=header))
