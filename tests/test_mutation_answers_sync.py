"""Answers to mutation survivors of the sync port's factories (alys/sync/__init__.py,
docs/mutation.md): what a recovered node must still be able to check."""

from __future__ import annotations

import pytest

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder
from alys_pbt.strategies.sync import FEDERATION_SPK


@pytest.fixture(scope="module")
def chain_with_pegins() -> Canonical:
    """Six blocks after genesis; blocks 2 and 5 mint peg-ins (their deposits in the Bitcoin view)."""
    b = bls.backend("blst")
    keyring = Keyring((11, 12, 13), tuple(b.SkToPk(sk) for sk in (11, 12, 13)))
    spec = ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4)
    chain = Canonical(ChainBuilder(spec, keyring, b))
    chain.extend(1)
    chain.builder.add_pegin(50_000, b"\x21" * 20)
    chain.extend(3)
    chain.builder.add_pegin(70_000, b"\x22" * 20)
    chain.extend(2)
    c = chain.builder.chain
    minting = [h for h in range(1, chain.tip + 1) if c.block(c.canonical[h]).pegins]
    assert minting == [2, 5]
    return chain


@pytest.mark.parametrize("interval", [4, 100], ids=["checkpoint-below-a-pegin", "no-checkpoint"])
def test_recovery_replays_pegin_blocks_against_the_bitcoin_view(
    chain_with_pegins: Canonical, interval: int
) -> None:
    """Blocks above the newest checkpoint are validated again at recovery, peg-ins included: against
    the node's Bitcoin view (confirmations, the deposit), which recovery must hand to the node it
    builds. (Survivor `SyncPort.recover` passing None for the view: the sync chains had no peg-ins.)"""
    chain, b = chain_with_pegins, chain_with_pegins.builder
    target = targets.load("alys-fixed")
    store = target.sync.store(interval=interval, retention=2)
    try:
        node = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
        engine = target.sync.engine(node, target.sync.network(), store)
        for h in range(1, chain.tip + 1):
            engine.import_block(chain.wire[h])
        assert node.head_height == chain.tip
        restarted = target.sync.recover(store, b.spec, b.genesis, b.bitcoin)
        assert restarted.head_height == chain.tip
        assert restarted.head == b.chain.head
    finally:
        store.close()
