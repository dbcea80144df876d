"""Full sync, side by side: `python benchmarks/bench_sync.py [--blocks 10000] [--peers 3]`.

A node of target alys-fixed syncs the whole chain from several honest peers over the simulated
network (batches of 1,024, SQLite store with a checkpoint every 100 blocks), three ways:
with real BLS approvals, with real approvals and the verification cache off, and with the BLS
signature checks switched off (no decoding, no pairings). The chain is built once beforehand: 3
authorities, every block signed by all, an EVM-empty payload, a peg-in every 50 blocks, and an
AuxPoW every 120 blocks (one Bitcoin block per ten minutes over 5-second slots). Blocks per
second are reported for each; read them as ratios within one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.blocks import block_to_bytes
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder

POW_EVERY, PEGIN_EVERY = 120, 50


def build(n: int) -> tuple[ChainBuilder, list[bytes]]:
    b = bls.backend("blst")
    sks = (101, 102, 103)
    keyring = Keyring(sks, tuple(b.SkToPk(sk) for sk in sks))
    spec = ChainSpec(
        keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=POW_EVERY + 10
    )
    builder = ChainBuilder(spec, keyring, b)
    wire = [block_to_bytes(builder.genesis)]
    for i in range(n):
        if i % PEGIN_EVERY == 0:
            builder.add_pegin(10_000 + i, bytes([i % 256]) * 20, how="hex")
        signed = builder.next_block(pow=(i % POW_EVERY == POW_EVERY - 1))
        builder.accept(signed)
        wire.append(block_to_bytes(signed))
    return builder, wire


def sync(
    builder: ChainBuilder, wire: list[bytes], peers: int, directory: str, *, cache: bool, signatures: bool
) -> float:
    target = targets.load("alys-fixed")
    target.approvals.bls.cache_size = 4096 if cache else 0
    if not signatures:
        target.approvals.bls.check_signatures = False
    network = target.sync.network()
    for i in range(peers):
        network.add_peer(f"p{i}", wire)
    store = target.sync.store(
        interval=100, retention=10, path=str(Path(directory) / f"sync-{cache}-{signatures}.sqlite")
    )
    node = target.chain.node(builder.spec, builder.genesis, builder.bitcoin)
    engine = target.sync.engine(node, network, store)
    start = time.perf_counter()
    outcome = engine.sync()
    seconds = time.perf_counter() - start
    assert outcome == "synced" and node.head_height == len(wire) - 1, (outcome, node.head_height)
    assert node.head.hex() == builder.chain.head.hex()
    return (len(wire) - 1) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--peers", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    builder, wire = build(args.blocks)
    print(f"built {args.blocks} blocks in {time.perf_counter() - start:.1f} s")
    runs: list[tuple[str, dict[str, Any]]] = [
        ("real approvals, verification cache on", {"cache": True, "signatures": True}),
        ("real approvals, verification cache off", {"cache": False, "signatures": True}),
        ("no signature checks", {"cache": True, "signatures": False}),
    ]
    with tempfile.TemporaryDirectory() as directory:
        for label, kwargs in runs:
            rate = sync(builder, wire, args.peers, directory, **kwargs)
            print(f"{label:42} {rate:9,.0f} blocks/s")


if __name__ == "__main__":
    main()
