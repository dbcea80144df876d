"""What the target protocol costs: examples per second of the same properties in-process and over
`exec:python -m alys.serve`, side by side in one run.

    .venv/bin/python benchmarks/bench_protocol.py [--examples 200] [--target-variant alys-fixed]

Each property runs as written (its strategies, its reference, its target calls), with Hypothesis
generating only (no shrinking), derandomized, so both columns see the same examples. The ratio
column is protocol time over in-process time (the issue's aim: at most 3x on AuxPoW). The actor
rows run the runtime served on the suite's scheduler through the relay (every task the runtime
schedules is a round trip: `system.scheduled`, then `system.run_task`), so they pay the most. The
machine is shared and noisy: read the ratios within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import py_ecc.bls  # noqa: F401 - it raises the recursion limit: import it first, as the plugin does
from hypothesis import HealthCheck, Phase, settings

from alys_pbt import targets
from alys_pbt.machines import run_machine

ROWS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("auxpow", "properties.test_auxpow", "test_valid_proofs_are_accepted", {}),
    ("auxpow", "properties.test_auxpow", "test_check_rejects_corruption", {"corruption": "wrong-index"}),
    ("auxpow", "properties.test_auxpow", "test_encodings_round_trip", {}),
    ("auxpow", "properties.test_auxpow", "test_hashes_match_python_bitcoinlib", {}),
    ("auxpow", "properties.test_auxpow", "test_pow_verdict_at_the_boundary_matches_reference", {}),
    ("approvals", "properties.test_approvals", "test_individual_approvals_are_judged_like_the_reference", {}),
    ("approvals", "properties.test_approvals", "test_block_approvals_are_judged_like_the_reference", {}),
    ("approvals", "properties.test_approvals", "TestFederation", {}),
    ("actors", "properties.test_actors", "test_restart_delays_match_the_reference", {}),
    ("actors", "properties.test_actors", "TestMailbox", {}),
    ("actors", "properties.test_actors", "TestSupervision", {}),
    ("actors", "properties.test_actors", "TestMessageFlows", {}),
]


def timed(run: Callable[[], None], repeat: int = 2) -> float:
    """The best of `repeat` runs (the first also warms caches: keyrings, imports, the server)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def runner(module_name: str, name: str, kwargs: dict[str, Any], target: Any) -> Callable[[], None]:
    """A call running the property (or the machine's TestCase) once, with the profile's budget."""
    obj = getattr(__import__(module_name, fromlist=[name]), name)
    machine = getattr(getattr(obj, "runTest", None), "_hypothesis_state_machine_class", None)
    if machine is not None:
        return lambda: run_machine(machine, target, settings=settings.default)
    return lambda: obj(target=target, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--target-variant", default="alys-fixed", help="the port's variant on both sides")
    args = parser.parse_args()
    settings.register_profile(
        "bench-protocol",
        max_examples=args.examples,
        stateful_step_count=10,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("bench-protocol")
    local = targets.load(args.target_variant)
    remote = targets.load(f"exec:{sys.executable} -m alys.serve {args.target_variant}")
    print(f"{args.examples} examples per property (machines: 10 steps), variant {args.target_variant}")
    print(f"{'component':10} {'property':62} {'in-process':>12} {'protocol':>12} {'ratio':>7}")
    for component, module, name, kwargs in ROWS:
        label = name + (f"[{next(iter(kwargs.values()))}]" if kwargs else "")
        with targets.using(targets.prepare(local)):
            t_local = timed(runner(module, name, kwargs, targets.current()))
        local_rate = args.examples / t_local
        if component in remote.components:
            with targets.using(targets.prepare(remote)):
                t_remote = timed(runner(module, name, kwargs, targets.current()))
            remote_rate, ratio = args.examples / t_remote, t_remote / t_local
            print(f"{component:10} {label:62} {local_rate:10.1f}/s {remote_rate:10.1f}/s {ratio:6.2f}x")
        else:
            print(f"{component:10} {label:62} {local_rate:10.1f}/s {'not carried':>12} {'-':>7}")
    remote.close()


if __name__ == "__main__":
    main()
