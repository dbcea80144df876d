"""AuxPoW throughput, side by side: `python benchmarks/bench_auxpow.py [--seconds 3]`.

Reports valid proofs generated per second (Hypothesis drawing a recipe, building the coinbase,
parent block and chain branch, and grinding the parent header), and checks per second for the
reference and for both builds of the port on the same proofs. The machine is shared and noisy:
read the ratios between columns of one run, not the absolute figures across runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from alys_pbt import targets
from alys_pbt.models import auxpow as ref
from alys_pbt.strategies.auxpow import AuxPowCase, auxpow_cases
from alys_pbt.strategies.corruptions import CATALOGUE, corrupted_cases


def generate(n: int, strategy) -> tuple[list[AuxPowCase], float]:  # type: ignore[no-untyped-def]
    cases: list[AuxPowCase] = []

    @settings(
        max_examples=n,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(case: AuxPowCase) -> None:
        cases.append(case)

    start = time.perf_counter()
    collect()
    return cases, time.perf_counter() - start


def rate(fn, items, seconds: float) -> float:  # type: ignore[no-untyped-def]
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            fn(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    cases, elapsed = generate(args.examples, auxpow_cases())
    print(
        f"valid proofs generated:        {len(cases) / elapsed:10.0f} /s   ({len(cases)} in {elapsed:.2f} s)"
    )
    broken, elapsed = generate(args.examples // 2, corrupted_cases(CATALOGUE[0]))
    print(f"corrupted proofs generated:    {len(broken) / elapsed:10.0f} /s")
    flat = st.tuples(*[st.binary(min_size=32, max_size=32)] * 8, *[st.integers(0, 2**32)] * 20)
    plain, elapsed = generate(args.examples, flat)
    print(f"baseline, 28 plain choices:    {len(plain) / elapsed:10.0f} /s   (Hypothesis's own floor here)")

    def reference(case: AuxPowCase) -> None:
        ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())

    encoded = [(c.auxpow.to_bytes(), c) for c in cases]
    print(f"reference checks:              {rate(reference, cases, args.seconds):10.0f} /s   (model objects)")
    for name in ("alys-fixed", "alys"):
        port = targets.load(name).auxpow
        r = rate(
            lambda item: port.check(item[0], item[1].aux_hash, item[1].chain_id, **item[1].check_args()),
            encoded,
            args.seconds,
        )
        print(f"port checks, target {name:<10} {r:10.0f} /s   (decode from bytes + check)")


if __name__ == "__main__":
    main()
