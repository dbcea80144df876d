"""Decoders on structure-aware bad input, imports that are all or nothing, memos against their
unmemoized path, and every limit on what a node accepts probed at, below and past it (issue 14)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import blocks, evm
from alys_pbt.models.approvals import AggregateApproval
from alys_pbt.strategies.blocks import CATALOGUE, GrowthPlan, growth_plans, signed_blocks
from alys_pbt.strategies.evm import evm_transactions, secp256k1_secrets
from alys_pbt.strategies.malformed_blocks import (
    RLP_WAYS,
    WIRE_WAYS,
    exactly_sized,
    malformed_transactions,
    malformed_wire_blocks,
    sized_transaction,
    with_value,
)
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.chain


@contextmanager
def recursion_limit(limit: int = 1000) -> Iterator[None]:
    """The interpreter's default limit (py_ecc raises it at import): a decoder must not need more."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def judged(action: Callable[[], object]) -> str:
    with recursion_limit():
        return verdict(action)


def reference_bytes(signed: Any) -> bytes:
    """The reference's encoding of any decoded block (the target's objects read by attribute)."""
    approval = AggregateApproval(tuple(signed.signature.bits), signed.signature.signature)
    return blocks.block_to_bytes(SimpleNamespace(message=signed.message, signature=approval))  # type: ignore[arg-type]


# --- decoders -------------------------------------------------------------------------------------


@kills("chain-block-decode-ignores-trailing")
@pytest.mark.parametrize("way", WIRE_WAYS)
@given(data=st.data())
def test_block_decoders_give_their_typed_error_on_structure_aware_bad_input(
    target: Target, way: str, data: st.DataObject
) -> None:
    """A valid block's tree broken in one way: DecodeError from the reference and the target, in
    bounded depth (recursion limit 1000), or the same block from both."""
    raw, way = data.draw(malformed_wire_blocks(ways=(way,)), label="bad block")
    note(f"{way}: {len(raw)} bytes")
    expected = judged(lambda: blocks.block_from_bytes(raw))
    assert expected in ("ok", "DecodeError"), f"the reference raised {expected}"
    got = judged(lambda: target.chain.decode_block(raw))
    assert got == expected, f"{way}: target {got}, reference {expected}"
    if got == "ok":
        assert reference_bytes(target.chain.decode_block(raw)) == raw


@kills("evm-rlp-accepts-leading-zeros")
@pytest.mark.parametrize("way", RLP_WAYS)
@given(data=st.data())
def test_transaction_decoders_give_their_typed_error_on_structure_aware_bad_input(
    target: Target, way: str, data: st.DataObject
) -> None:
    """A signed transaction's tree broken in one way: MalformedRlp (or BadSignature) from both
    stacks, never a crash, whatever the nesting, and no fee for a malformed one."""
    raw, way = data.draw(malformed_transactions(ways=(way,)), label="bad transaction")
    note(f"{way}: {len(raw)} bytes")
    expected = judged(lambda: evm.sender(evm.decode(raw)))
    assert expected in ("ok", "MalformedRlp", "BadSignature"), f"the reference raised {expected}"
    assert judged(lambda: target.chain.transaction_sender(raw)) == expected
    with recursion_limit():
        fee = evm.block_fees([raw], 7)
    # The simulated EL earns fees from what it can decode (it checks no signature): a transaction
    # refused as malformed earns nothing; one whose signature recovers no one still decodes.
    assert fee == 0 or expected != "MalformedRlp"


# --- imports are all or nothing -------------------------------------------------------------------


def node_state(node: Any) -> dict[str, Any]:
    """Everything the node exposes of what it persists."""
    return {
        "head": node.head,
        "head_height": node.head_height,
        "finalized_height": node.finalized_height,
        "latest_pow": node.latest_pow,
        "stored": frozenset(node.stored),
        "by_height": dict(node.by_height),
    }


# Chains of 2-4 authorities, one fee address, and PoW forced one block early (at 4 unfinalized
# blocks of the 5 allowed), so that the next valid block always imports.
SMALL_CHAINS = growth_plans(
    authorities=st.integers(2, 4),
    federation=st.just([b"\x0f" * 20]),
    blocks=st.lists(st.booleans(), min_size=1, max_size=4),
    force_pow_at=4,
)


@kills("chain-import-moves-head-early")
@pytest.mark.parametrize("corruption", [c.name for c in CATALOGUE if c.name != "missing-required-pow"])
@given(plan=SMALL_CHAINS, data=st.data())
def test_a_refused_block_changes_nothing(
    target: Target, corruption: str, plan: GrowthPlan, data: st.DataObject
) -> None:
    """Whatever process_block raises on, head, finalization, the store, the height index and the
    latest PoW block are as before, and the next valid block imports as on a node that never saw it.
    (What the corruption draws depends on the chain grown: drawn from `data`.)"""
    builder, node = plan.grow(target)
    c = next(x for x in CATALOGUE if x.name == corruption)
    if not c.applicable(builder):
        return  # this chain cannot show the corruption alone
    before = node_state(node)
    bad = c.apply(builder, data.draw)
    got = verdict(lambda: node.process_block(bad))
    note(f"{corruption}: {got}")
    if got != "ok":
        assert node_state(node) == before, f"{corruption} raised {got} and changed the node"
        good = builder.next_block()
        builder.accept(good)
        assert verdict(lambda: node.process_block(good)) == "ok"
        assert node.head == builder.chain.head


EL_REFUSED = ("list-as-integer", "deep-nesting", "integer-with-leading-zero", "huge-count")


@kills("chain-import-moves-head-early")
@given(
    plan=SMALL_CHAINS,
    transactions=st.lists(malformed_transactions(ways=EL_REFUSED), min_size=2, max_size=2),
    too_few=st.booleans(),
)
def test_a_block_whose_transactions_the_el_refuses_imports_whole(
    target: Target, plan: GrowthPlan, transactions: list[tuple[bytes, str]], too_few: bool
) -> None:
    """Structure-aware bad transactions in a valid block: imported (they are opaque to consensus)
    and earning nothing, or the block refused with nothing changed; never half of it. `too_few`:
    the block carries the author's approval alone (n >= 2 needs more)."""
    builder, node = plan.grow(target)
    before = node_state(node)
    signed = builder.next_block(transactions=[raw for raw, _ in transactions])
    if too_few:
        signed = builder.sign(signed.message, [signed.message.slot % builder.keyring.n])
    expected = verdict(lambda: builder.accept(signed))
    with recursion_limit():
        got = verdict(lambda: node.process_block(signed))
    assert got == expected
    if got != "ok":
        assert node_state(node) == before
    else:
        assert node.head == builder.chain.head


# --- memos against their unmemoized path ----------------------------------------------------------


@kills("evm-sender-cache-key-omits-signature")
@given(
    tx=evm_transactions(signed=False),
    signers=st.lists(secp256k1_secrets, min_size=2, max_size=3),
    queries=st.lists(st.integers(0, 3), min_size=4, max_size=10),
)
def test_the_sender_memo_answers_as_recovery_does_when_keys_repeat(
    target: Target, tx: Any, signers: list[int], queries: list[int]
) -> None:
    """One payload signed by several keys, a bad (high-s) signature over it, and repeats, in any
    order (`queries` index the signed copies, the high-s one last, cyclically): the target (which
    may memoize) names the sender the reference recovers every time afresh."""
    signed = [evm.sign(tx, secret) for secret in signers]
    raws = [s.to_bytes() for s in signed]
    first = signed[0]
    high_s = attrs.evolve(first, s=evm.SECP256K1_N - first.s)
    raws.append(high_s.to_bytes())  # the same digest, a signature EIP-2 forbids
    order = [raws[i % len(raws)] for i in queries]
    for raw in order:
        expected = verdict(lambda: evm.sender(evm.decode(raw)))
        got = verdict(lambda: target.chain.transaction_sender(raw))
        assert got == expected
        if expected == "ok":
            assert target.chain.transaction_sender(raw) == evm.sender(evm.decode(raw))


# --- every limit at, below and past it --------------------------------------------------------------


LIMITS: dict[str, Callable[[bytes, int], bytes]] = {
    # name: build a block with `delta` items / bytes around the limit (0: exactly at it)
    "withdrawals": lambda raw, d: with_value(
        raw, (0, 3, 14), [["0", "0", "0x" + "0a" * 20, "1"]] * (blocks.MAX_WITHDRAWALS + d)
    ),
    "extra-data": lambda raw, d: with_value(raw, (0, 3, 10), "0x" + "ee" * (blocks.MAX_EXTRA_DATA + d)),  # type: ignore[arg-type]
    "transactions": lambda raw, d: with_value(raw, (0, 3, 13), ["0x"] * (blocks.MAX_TRANSACTIONS + d)),
    "logs-bloom": lambda raw, d: with_value(raw, (0, 3, 4), "0x" + "00" * (blocks.LOGS_BLOOM_BYTES + d)),  # type: ignore[arg-type]
}


@kills("chain-withdrawals-limit-off-by-one")
@pytest.mark.parametrize("limit", list(LIMITS))
@given(block=signed_blocks(length=st.integers(1, 2), forks=st.just(0)), delta=st.sampled_from([-1, 0, 1]))
def test_every_count_limit_holds_at_below_and_past_it(
    target: Target, limit: str, block: Any, delta: int
) -> None:
    """One below, at and one past each limit on what the wire form holds: the reference and the
    target agree, and the limit itself decides (at it: accepted unless exact; past it: refused)."""
    raw = LIMITS[limit](blocks.block_to_bytes(block), delta)
    expected = verdict(lambda: blocks.block_from_bytes(raw))
    exact = limit == "logs-bloom"
    assert expected == ("ok" if delta == 0 or (delta < 0 and not exact) else "DecodeError")
    assert verdict(lambda: target.chain.decode_block(raw)) == expected, f"{limit} {delta:+d}"


@kills("chain-block-size-limit-off-by-one")
@given(block=signed_blocks(length=st.integers(1, 2), forks=st.just(0)), delta=st.sampled_from([-1, 0, 1]))
def test_the_block_size_limit_holds_at_below_and_past_it(target: Target, block: Any, delta: int) -> None:
    """Valid blocks of exactly MAX_BLOCK_BYTES - 1, MAX_BLOCK_BYTES and MAX_BLOCK_BYTES + 1 bytes:
    the reference and the target accept the first two and refuse the third."""
    raw = exactly_sized(blocks.block_to_bytes(block), blocks.MAX_BLOCK_BYTES + delta)
    expected = verdict(lambda: blocks.block_from_bytes(raw))
    assert expected == ("ok" if delta <= 0 else "DecodeError")
    got = verdict(lambda: target.chain.decode_block(raw))
    assert got == expected, f"{len(raw)} bytes: target {got}, reference {expected}"


@kills("evm-tx-size-limit-off-by-one")
@given(tx=evm_transactions(signed=False), secret=secp256k1_secrets, delta=st.sampled_from([-1, 0, 1]))
def test_the_transaction_size_limit_holds_at_below_and_past_it(
    target: Target, tx: Any, secret: int, delta: int
) -> None:
    """Signed transactions of 128 KiB - 1, exactly and + 1 bytes: both stacks recover the signer of
    the first two and refuse the third as MalformedRlp (geth's txMaxSize)."""
    raw = sized_transaction(evm.MAX_TX_BYTES + delta, tx, secret)
    expected = verdict(lambda: evm.sender(evm.decode(raw)))
    assert expected == ("ok" if delta <= 0 else "MalformedRlp")
    assert verdict(lambda: target.chain.transaction_sender(raw)) == expected
