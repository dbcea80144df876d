"""Actor runtime throughput: `python benchmarks/bench_actors.py [--messages 200000]`.

Messages per second through the runtime on asyncio (no Hypothesis): one actor, and eight actors
fed round-robin; and, for comparison in the same run, steps per second of the mailbox ordering
state machine (which does use Hypothesis). Read ratios within one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys.actors import ActorSystem, AsyncioScheduler, Behaviour


def through_asyncio(messages: int, actors: int) -> float:
    async def run() -> float:
        done = asyncio.get_running_loop().create_future()
        count = [0]

        class Counter(Behaviour):
            def handle(self, message: Any, ctx: Any) -> None:
                count[0] += 1
                if count[0] == messages:
                    done.set_result(None)

        system = ActorSystem(AsyncioScheduler(asyncio.get_running_loop()))
        names = [system.spawn(f"a{i}", Counter, capacity=messages) for i in range(actors)]
        start = time.perf_counter()
        for i in range(messages):
            system.tell(names[i % actors], i, sender="bench")
        await done
        return messages / (time.perf_counter() - start)

    return asyncio.run(run())


def machine_steps(examples: int) -> float:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import invariant, run_state_machine_as_test

    from alys_pbt import targets
    from alys_pbt.models.machines.actors import MailboxMachine

    targets.select(targets.load("alys-fixed"))
    steps = [0]

    class Counting(MailboxMachine):
        @invariant()
        def count(self) -> None:
            steps[0] += 1

    start = time.perf_counter()
    run_state_machine_as_test(
        Counting,
        settings=settings(
            max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    return steps[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    print(f"asyncio, 1 actor:   {through_asyncio(args.messages, 1):>12,.0f} messages/s")
    print(f"asyncio, 8 actors:  {through_asyncio(args.messages, 8):>12,.0f} messages/s")
    print(f"ordering machine:   {machine_steps(args.examples):>12,.0f} steps/s")


if __name__ == "__main__":
    main()
