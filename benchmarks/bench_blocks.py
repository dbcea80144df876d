"""Blocks and chains, side by side: `python benchmarks/bench_blocks.py [--blocks 200]`.

Blocks validated per second by the port (target alys-fixed: process_block with real BLS
approvals, AuxPoW finalization every 5 blocks, peg-ins), the same blocks through the reference,
and chains generated per second by the `chains()` strategy. Read ratios within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.chain import Chain, ChainSpec
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder, chains


def build(n: int) -> ChainBuilder:
    b = bls.backend("blst")
    sks = tuple(range(101, 105))
    keyring = Keyring(sks, tuple(b.SkToPk(sk) for sk in sks))
    builder = ChainBuilder(
        ChainSpec(
            keyring.public_keys, (b"\xaa" * 20, b"\xbb" * 20), FEDERATION_SPK, max_blocks_without_pow=10
        ),
        keyring,
        b,
    )
    for i in range(n):
        if i % 7 == 0:
            builder.add_pegin(10_000 + i, bytes([i % 256]) * 20, how="hex")
        signed = builder.next_block(pow=(i % 5 == 4))
        builder.accept(signed)
    return builder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--chains", type=int, default=20)
    args = parser.parse_args()
    builder = build(args.blocks)
    blocks = [
        builder.chain.storage[builder.chain.canonical[h]] for h in range(1, builder.chain.head_height + 1)
    ]
    node = targets.load("alys-fixed").chain.node(builder.spec, builder.genesis, builder.bitcoin)
    start = time.perf_counter()
    for block in blocks:
        node.process_block(block)
    port = len(blocks) / (time.perf_counter() - start)
    reference = Chain(builder.spec, builder.genesis, bls.backend("blst"), builder.bitcoin)
    start = time.perf_counter()
    for block in blocks:
        reference.process_block(block)
    ref_rate = len(blocks) / (time.perf_counter() - start)
    made = [0]

    @settings(
        max_examples=args.chains,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(chains())
    def generate(case: object) -> None:
        made[0] += 1

    start = time.perf_counter()
    generate()
    chain_rate = made[0] / (time.perf_counter() - start)
    print(f"port validates:       {port:8.1f} blocks/s  (real BLS approvals, PoW every 5, peg-ins)")
    print(f"reference validates:  {ref_rate:8.1f} blocks/s")
    print(f"chains() generates:   {chain_rate:8.1f} chains/s  (1-12 blocks each, signed and mined)")


if __name__ == "__main__":
    main()
