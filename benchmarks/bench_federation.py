"""Federation throughput per BLS backend, side by side: `python benchmarks/bench_federation.py`.

Reports, for each backend, individual approvals verified per second, 7-signer aggregate approvals
verified per second, and steps per second of the federation state machine on target alys-fixed
(signing memoized, as in the suite); then the port's FastAggregateVerify asked the same question
again, with its memo and without (the memo's keys are checked by test_bls.py's memo property). The
py_ecc machine only runs with `--py-ecc-examples N`. Read ratios
between columns of one run: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import py_ecc.bls  # noqa: F401 - raises the recursion limit on import; before Hypothesis runs
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from alys_pbt import targets
from alys_pbt.models import bls
from alys_pbt.models.machines.approvals import FederationMachine

STEPS = [0]


class CountingMachine(FederationMachine):
    @invariant()
    def count_steps(self) -> None:
        STEPS[0] += 1


def verify_rate(backend: bls.Backend, seconds: float) -> tuple[float, float]:
    message = bytes(range(32))
    sks = list(range(11, 18))
    pks = [backend.SkToPk(sk) for sk in sks]
    sigs = [backend.Sign(sk, message) for sk in sks]
    aggregate = backend.Aggregate(sigs)
    rates = []
    for check in (
        lambda: backend.Verify(pks[0], message, sigs[0]),
        lambda: backend.FastAggregateVerify(pks, message, aggregate),
    ):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            assert check()
            done += 1
        rates.append(done / (time.perf_counter() - start))
    return rates[0], rates[1]


def port_memo_rates(seconds: float) -> tuple[float, float]:
    """The port's FastAggregateVerify of one 7-signer aggregate asked again: memo on, memo off."""
    from alys.bls import LighthouseBls

    backend = bls.backend("blst")
    message = bytes(range(32))
    sks = list(range(11, 18))
    pks = [backend.SkToPk(sk) for sk in sks]
    aggregate = backend.Aggregate([backend.Sign(sk, message) for sk in sks])
    variant = targets.load("alys-fixed").variant
    rates = []
    for port in (LighthouseBls(variant), LighthouseBls(variant, cache_size=0)):
        point = port.signature(aggregate)
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            assert port.fast_aggregate_verify(pks, message, point)
            done += 1
        rates.append(done / (time.perf_counter() - start))
    return rates[0], rates[1]


def machine_rate(name: str, examples: int) -> float:
    bls.choose(name)
    STEPS[0] = 0
    budget = settings(
        max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    start = time.perf_counter()
    run_state_machine_as_test(CountingMachine, settings=budget)
    return STEPS[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--py-ecc-examples", type=int, default=0, help="machine examples on py_ecc (slow)")
    args = parser.parse_args()
    targets.select(targets.load("alys-fixed"))  # the quirks of `alys` would fail the machine
    print(f"{'backend':<9} {'Verify/s':>10} {'FastAggVerify(7)/s':>20} {'machine steps/s':>16}")
    for name in ("blst", "blspy", "milagro", "py_ecc"):
        backend = bls.backend(name)
        seconds = args.seconds if name != "py_ecc" else min(args.seconds, 3.0)
        single, aggregate = verify_rate(backend, seconds)
        if name == "py_ecc" and not args.py_ecc_examples:
            steps_text = "n/a"  # a budget small enough for py_ecc draws near-empty machines
        else:
            examples = args.examples if name != "py_ecc" else args.py_ecc_examples
            steps_text = f"{machine_rate(name, examples):.1f}"
        print(f"{name:<9} {single:>10.1f} {aggregate:>20.1f} {steps_text:>16}", flush=True)
    memo, plain = port_memo_rates(args.seconds)
    print(f"port FastAggVerify(7) asked again: {memo:.1f}/s with the memo, {plain:.1f}/s without")
    bls.choose(bls.DEFAULT)


if __name__ == "__main__":
    main()
