"""Network throughput: `python benchmarks/bench_network.py [--slots-per-authority K] [--target T]`.

For 4, 7 and 15 authorities (and one full node) on target alys-fixed, runs K*n slots of honest
production with a merged miner at every node each slot, and reports network steps (messages
delivered) per second and simulated slots per second. BLS verification dominates: every block is
approved by every authority and every approval is checked by every node (n^2 per block).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys_pbt import targets
from alys_pbt.interface import view
from alys_pbt.models.machines.network import Network
from alys_pbt.strategies.network import NetworkSetup


def measure(spec: str, n: int, slots: int) -> tuple[float, float, int, int]:
    """(steps/s, slots/s, steps, finalized height) for `slots` slots of n authorities."""
    net = Network(view(targets.load(spec), spec), NetworkSetup(n, 1, (), (0,) * (n + 1)))
    start = time.perf_counter()
    for _ in range(slots):
        for p in net.honest:
            net.mine(p)
        net.flush()
        net.tick()
        net.flush()
    elapsed = time.perf_counter() - start
    return net.steps / elapsed, slots / elapsed, net.steps, min(p.finalized_height for p in net.peers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slots-per-authority", type=int, default=2)
    parser.add_argument("--target", default="alys-fixed")
    args = parser.parse_args()
    print(f"{'authorities':>11} {'slots':>6} {'steps':>7} {'steps/s':>9} {'slots/s':>8} {'finalized':>9}")
    for n in (4, 7, 15):
        slots = args.slots_per_authority * n
        steps_s, slots_s, steps, fin = measure(args.target, n, slots)
        print(f"{n:>11} {slots:>6} {steps:>7} {steps_s:>9.0f} {slots_s:>8.2f} {fin:>9}")


if __name__ == "__main__":
    main()
