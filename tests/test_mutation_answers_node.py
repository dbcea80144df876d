"""What mutation testing of alys/node.py found unanswered (issue 14, docs/mutation.md), answered.

Recovery's entry points into the node (alys/sync/store.py replays a verified checkpoint through
them): `import_trusted`, `restore_pointer` and `holds`. A node rebuilt through them from a chain
another node validated block by block holds exactly that node's state; `holds` tells the blocks on
its chain from those that are not, above the tip too; a pointer to a block the store does not hold
is refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from attrs import frozen
from hypothesis import given
from hypothesis import strategies as st

from alys.approvals import UnknownAuthority
from alys.node import NodeError
from alys_pbt import targets
from alys_pbt.models import bls, pegin
from alys_pbt.models.blocks import Withdrawal, block_from_bytes, block_to_bytes
from alys_pbt.models.chain import BitcoinView, Chain
from alys_pbt.strategies.blocks import pegin_transaction
from alys_pbt.strategies.sync import Canonical, canonical_chains
from alys_pbt.verdict import verdict


def state(node: Any) -> dict[str, Any]:
    """What the node persists and derives (alys/node.py Node)."""
    return {
        "head": node.head,
        "head_height": node.head_height,
        "latest_pow": node.latest_pow,
        "finalized": node.finalized,
        "by_height": dict(node.by_height),
        "fees": dict(node.fees),
        "stored": node.stored,
        "wallet": set(node.wallet),
    }


@given(canonical=canonical_chains(length=st.integers(1, 6)))
def test_a_node_rebuilt_from_trusted_blocks_holds_what_validation_built(canonical: Canonical) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    blocks = [chain.decode_block(raw) for raw in canonical.wire[1:]]
    validated = chain.node(b.spec, b.genesis, b.bitcoin)
    for signed in blocks:
        validated.process_block(signed)
    rebuilt = chain.node(b.spec, b.genesis, b.bitcoin)
    for signed in blocks:
        rebuilt.import_trusted(signed)
    rebuilt.restore_pointer(validated.latest_pow)
    assert state(rebuilt) == state(validated)
    assert all(rebuilt.holds(signed) for signed in blocks)


@given(canonical=canonical_chains(length=st.integers(2, 6)), data=st.data())
def test_holds_only_the_blocks_on_the_chain(canonical: Canonical, data: st.DataObject) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    blocks = [chain.decode_block(raw) for raw in canonical.wire[1:]]
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    cut = data.draw(st.integers(1, len(blocks) - 1), label="blocks imported")
    for signed in blocks[:cut]:
        node.process_block(signed)
    assert all(node.holds(signed) for signed in blocks[:cut])
    assert not any(node.holds(signed) for signed in blocks[cut:])  # above the tip: not held, no error
    node.rollback_head(cut - 1)
    assert not node.holds(blocks[cut - 1])  # rolled back: stored, but off the chain
    assert all(node.holds(signed) for signed in blocks[: cut - 1])


@given(canonical=canonical_chains(length=st.integers(1, 4)))
def test_a_pointer_to_a_block_not_stored_is_refused_by_name(canonical: Canonical) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    before = state(node)
    unknown = bytes(31) + b"\x01"
    with pytest.raises(ValueError, match=r"^checkpoint names a latest PoW block the store does not hold$"):
        node.restore_pointer(unknown)
    assert state(node) == before


@given(canonical=canonical_chains(length=st.integers(4, 6)))
def test_rolling_back_to_the_heads_own_height_changes_nothing(canonical: Canonical) -> None:
    # rollback_head returns at once for a height at or above the head's (chain.rs): even where the
    # latest-PoW pointer is not the highest PoW block on the chain (recovery restores it as the
    # checkpoint recorded it), nothing is recomputed.
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:]:
        node.process_block(chain.decode_block(raw))
    assert node.latest_pow != node.by_height[0]  # a PoW block at least every 4 blocks
    node.restore_pointer(node.by_height[0])
    before = state(node)
    node.rollback_head(node.head_height)
    node.rollback_head(node.head_height + 1)
    assert state(node) == before


@given(canonical=canonical_chains(length=st.just(4)))
def test_a_range_that_leaves_the_store_is_refused_whole(canonical: Canonical) -> None:
    # chain.rs check_pow walks from range_end to range_start's parent: a hash it does not hold on
    # the way (here an unknown range end) is InvalidBlockRange, before anything is written.
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for raw in canonical.wire[1:4]:
        node.process_block(chain.decode_block(raw))
    pow_block = block_from_bytes(canonical.wire[4])  # PoW at least every 4 blocks: block 4 has it
    header = pow_block.message.auxpow_header
    assert header is not None
    end = bytes(31) + b"\x11"
    bad = b.sign(attrs.evolve(pow_block.message, auxpow_header=attrs.evolve(header, range_end=end)))
    reference = Chain(b.spec, b.genesis, bls.backend(), b.bitcoin)
    for raw in canonical.wire[1:4]:
        reference.process_block(block_from_bytes(raw))
    assert verdict(lambda: reference.process_block(bad)) == "InvalidBlockRange"
    before = state(node)
    assert verdict(lambda: node.process_block(chain.decode_block(block_to_bytes(bad)))) == "InvalidBlockRange"
    assert state(node) == before


@given(canonical=canonical_chains(length=st.integers(2, 5)), data=st.data())
def test_a_restarted_node_goes_on_from_the_same_store(canonical: Canonical, data: st.DataObject) -> None:
    # Node.restart: a new process over the same persisted state (the sync machines restart nodes).
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    blocks = [chain.decode_block(raw) for raw in canonical.wire[1:]]
    cut = data.draw(st.integers(1, len(blocks) - 1), label="blocks before the restart")
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    for signed in blocks[:cut]:
        node.process_block(signed)
    restarted = node.restart()
    assert restarted is not node and type(restarted) is type(node)
    assert state(restarted) == state(node)
    for signed in blocks[cut:]:
        restarted.process_block(signed)
    assert restarted.head_height == len(blocks)


@frozen
class _Block:
    """The attributes of a block _check_withdrawals reads (a SignedConsensusBlock's message)."""

    parent_hash: bytes
    auxpow_header: Any
    pegins: tuple[tuple[bytes, bytes], ...]
    execution_payload: Any


@frozen
class _Payload:
    withdrawals: tuple[Withdrawal, ...]


@frozen
class _Header:
    fee_recipient: bytes


MINER, FED = b"\x0b" * 20, (b"\x0a" * 20, b"\x0c" * 20, b"\x0d" * 20)


def _node_over(canonical: Canonical) -> Any:
    b = canonical.builder
    spec = attrs.evolve(b.spec, federation=FED)
    return targets.load("alys-fixed").chain.node(spec, b.genesis, BitcoinView())


def _owed_block(
    node: Any, owed: dict[bytes, int], pegins: tuple[tuple[bytes, bytes], ...], pow: bool
) -> _Block:
    withdrawals = tuple(Withdrawal(i, 0, a, v) for i, (a, v) in enumerate(owed.items()) if v)
    return _Block(node.head, _Header(MINER) if pow else None, pegins, _Payload(withdrawals))


@given(canonical=canonical_chains(length=0, authorities=1), fees=st.integers(2**53, 2**200))
def test_fee_shares_are_owed_in_exact_integers(canonical: Canonical, fees: int) -> None:
    # Fees past 2^53 wei (0.009 ETH): 80% to the miner, the rest over the federation, each floored
    # to Gwei in integers (models/pegin.py fee_split), never through floats.
    node = _node_over(canonical)
    node.fees[node.head] = fees
    owed = pegin.expected_withdrawals(pegin.fee_split(fees, MINER, FED), {})
    node._check_withdrawals(_owed_block(node, owed, (), pow=True))  # exactly what is owed: taken
    for address in owed:
        off = {**owed, address: owed[address] + 1}
        with pytest.raises(NodeError) as err:
            node._check_withdrawals(_owed_block(node, off, (), pow=True))
        assert type(err.value).__name__ == "UnknownWithdrawal"


@given(
    canonical=canonical_chains(length=0, authorities=1),
    sats=st.lists(st.integers(1, 10**8), min_size=2, max_size=4),
)
def test_pegins_to_one_address_in_one_block_mint_their_sum(canonical: Canonical, sats: list[int]) -> None:
    # Several peg-ins naming one address, and that address also a fee recipient: one withdrawal of
    # the sum (chain.rs sums per address: fees, then peg-ins).
    node = _node_over(canonical)
    node.fees[node.head] = 10**18
    btc = bytes(31) + b"\x01"
    node.bitcoin.confirmations[btc] = node.spec.required_confirmations
    pegins = []
    for i, s in enumerate(sats):
        tx = pegin_transaction(node.spec.federation_spk, s, FED[0], how="raw", nonce=i)
        node.bitcoin.transactions[tx.txid] = tx
        pegins.append((tx.txid, btc))
    fee_owed = pegin.expected_withdrawals(pegin.fee_split(10**18, MINER, FED), {})
    owed = {**fee_owed, FED[0]: fee_owed[FED[0]] + sum(sats) * 10}
    node._check_withdrawals(_owed_block(node, owed, tuple(pegins), pow=True))
    without_fees = {FED[0]: sum(sats) * 10}
    node._check_withdrawals(_owed_block(node, without_fees, tuple(pegins), pow=False))
    with pytest.raises(NodeError) as err:
        node._check_withdrawals(_owed_block(node, {FED[0]: sats[-1] * 10}, tuple(pegins), pow=False))
    assert type(err.value).__name__ == "UnknownWithdrawal"


@given(canonical=canonical_chains(length=1), empty=st.booleans())
def test_an_approved_block_without_a_decodable_aggregate_is_refused_whole(
    canonical: Canonical, empty: bool
) -> None:
    # The slot author's bit and enough others set, and the aggregate signature empty (None) or not
    # a G2 point: a BadSignature like the reference's, with nothing written; never a crash.
    b = canonical.builder
    signed = block_from_bytes(canonical.wire[1])
    aggregate = None if empty else b"\xff" * 96
    bad = attrs.evolve(signed, signature=attrs.evolve(signed.signature, signature=aggregate))
    reference = Chain(b.spec, b.genesis, bls.backend(), b.bitcoin)
    expected = verdict(lambda: reference.process_block(bad))
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    before = state(node)
    assert verdict(lambda: node.process_block(bad)) == expected == "BadSignature"
    assert state(node) == before


@given(canonical=canonical_chains(length=0))
def test_a_fresh_node_holds_genesis_at_height_0(canonical: Canonical) -> None:
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    genesis = chain.decode_block(canonical.wire[0])
    assert node.holds(genesis) and node.head_height == 0 and node.finalized_height == 0
    assert node.by_height == {0: node.head}
    node.rollback_head(0)  # to the head's own height: nothing changes
    assert node.by_height == {0: node.head}


@given(canonical=canonical_chains(length=1, authorities=st.integers(1, 4)))
def test_a_bit_past_the_federation_is_refused_naming_the_federations_size(canonical: Canonical) -> None:
    """The author check refuses an aggregate with a bit set past the n authorities as UnknownAuthority,
    its message naming n (alys-fixed; on `alys` the bit is counted, quirk approvals-padded-bits-count)."""
    b = canonical.builder
    chain = targets.load("alys-fixed").chain
    signed = chain.decode_block(canonical.wire[1])
    n = len(b.spec.authorities)
    bits = tuple(True if i == n else bit for i, bit in enumerate(signed.signature.bits))
    padded = attrs.evolve(signed, signature=attrs.evolve(signed.signature, bits=bits))
    node = chain.node(b.spec, b.genesis, b.bitcoin)
    with pytest.raises(UnknownAuthority, match=rf"^bits set beyond the {n} authorities$"):
        node.process_block(padded)
    assert node.head_height == 0
