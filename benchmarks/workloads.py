"""The benchmarks' workloads, built once, deterministic (derandomized Hypothesis draws, fixed keys).

Each builder returns (fn, ops): `fn()` does `ops` operations (messages, blocks, checks, examples,
steps) and returns a count the benchmark asserts, so a workload that silently did nothing fails.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, run_state_machine_as_test

from alys_pbt import targets
from alys_pbt.machines import wired
from alys_pbt.models import bls
from alys_pbt.models.blocks import block_to_bytes
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.auxpow import AuxPowCase, auxpow_cases
from alys_pbt.strategies.blocks import ChainBuilder

FIXED = settings(
    database=None,
    derandomize=True,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def actor_messages(messages: int, actors: int) -> tuple[Callable[[], int], int]:
    """`messages` tells through the V2 actor runtime on asyncio, round-robin over `actors` actors."""
    from alys.actors import ActorSystem, AsyncioScheduler, Behaviour

    def run() -> int:
        async def main() -> int:
            done = asyncio.get_running_loop().create_future()
            count = [0]

            class Counter(Behaviour):
                def handle(self, message: Any, ctx: Any) -> None:
                    count[0] += 1
                    if count[0] == messages:
                        done.set_result(None)

            system = ActorSystem(AsyncioScheduler(asyncio.get_running_loop()))
            names = [system.spawn(f"a{i}", Counter, capacity=messages) for i in range(actors)]
            for i in range(messages):
                system.tell(names[i % actors], i, sender="bench")
            await done
            return count[0]

        return asyncio.run(main())

    return run, messages


@functools.cache
def chain(blocks: int) -> tuple[ChainBuilder, tuple[bytes, ...]]:
    """A signed chain (3 authorities, a peg-in every 7 blocks, AuxPoW every 5) and its wire form."""
    b = bls.backend("blst")
    sks = (101, 102, 103)
    keyring = Keyring(sks, tuple(b.SkToPk(sk) for sk in sks))
    spec = ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=10)
    builder = ChainBuilder(spec, keyring, b)
    wire = [block_to_bytes(builder.genesis)]
    for i in range(blocks):
        if i % 7 == 0:
            builder.add_pegin(10_000 + i, bytes([i % 256]) * 20, how="hex")
        signed = builder.next_block(pow=(i % 5 == 4))
        builder.accept(signed)
        wire.append(block_to_bytes(signed))
    return builder, tuple(wire)


def blocks_validated(blocks: int) -> tuple[Callable[[], int], int]:
    """A fresh alys-fixed node imports the chain's blocks (real BLS approvals)."""
    builder, _ = chain(blocks)
    stored = [
        builder.chain.storage[builder.chain.canonical[h]] for h in range(1, builder.chain.head_height + 1)
    ]
    target = targets.load("alys-fixed")
    target.approvals.bls.cache_size = 0  # every round verifies its approvals afresh
    port = target.chain

    def run() -> int:
        node = port.node(builder.spec, builder.genesis, builder.bitcoin)
        for block in stored:
            node.process_block(block)
        assert node.head_height == blocks
        return len(stored)

    return run, blocks


def sync_blocks(blocks: int, *, signatures: bool) -> tuple[Callable[[], int], int]:
    """A fresh alys-fixed node syncs the chain from two honest peers (SQLite store), with real BLS
    checks or with the signature checks switched off."""
    builder, wire = chain(blocks)
    directory = Path(tempfile.mkdtemp(prefix="alys-bench-sync-"))
    counter = itertools.count()

    def run() -> int:
        target = targets.load("alys-fixed")
        target.approvals.bls.cache_size = 0  # every round verifies afresh
        if not signatures:
            target.approvals.bls.check_signatures = False
        network = target.sync.network()
        for i in range(2):
            network.add_peer(f"p{i}", list(wire))
        store = target.sync.store(interval=100, retention=10, path=str(directory / f"{next(counter)}.sqlite"))
        node = target.chain.node(builder.spec, builder.genesis, builder.bitcoin)
        outcome = target.sync.engine(node, network, store).sync()
        assert outcome == "synced" and node.head_height == blocks, (outcome, node.head_height)
        return int(node.head_height)

    return run, blocks


@functools.cache
def auxpow_cases_fixed(n: int) -> tuple[AuxPowCase, ...]:
    """`n` valid AuxPoW cases, the same on every run (derandomized)."""
    cases: list[AuxPowCase] = []

    @settings(FIXED, max_examples=n)
    @given(auxpow_cases(max_height=8))
    def collect(case: AuxPowCase) -> None:
        cases.append(case)

    collect()
    return tuple(cases[:n])


def auxpow_checker(n: int) -> tuple[Callable[[], int], int]:
    """The port's full AuxPoW check (decode from bytes, then check) of `n` fixed valid proofs."""
    port = targets.load("alys-fixed").auxpow
    encoded = [(c.auxpow.to_bytes(), c) for c in auxpow_cases_fixed(n)]

    def run() -> int:
        for raw, case in encoded:
            port.check(raw, case.aux_hash, case.chain_id, **case.check_args())
        return len(encoded)

    return run, len(encoded)


def property_examples(test: Any, examples: int, target: str = "alys-fixed") -> tuple[Callable[[], int], int]:
    """A property of properties/ run for `examples` generated examples (derandomized) on `target`."""
    fixed = settings(FIXED, max_examples=examples)(test)
    chosen = targets.load(target)

    def run() -> int:
        targets.select(chosen)
        fixed(chosen)
        return examples

    return run, examples


def machine_steps(
    machine: type[RuleBasedStateMachine], *, examples: int = 4, steps: int = 15
) -> tuple[Callable[[], int], int]:
    """`machine` on alys-fixed for `examples` programs of up to `steps` steps; ops: the steps run
    (counted by an invariant, which runs after every step, in one untimed call)."""
    chosen = targets.load("alys-fixed")
    count = [0]

    class Counting(wired(machine, chosen)):  # type: ignore[misc, valid-type]
        @invariant()
        def _count_step(self) -> None:
            count[0] += 1

    fixed = settings(FIXED, max_examples=examples, stateful_step_count=steps)

    def run() -> int:
        targets.select(chosen)
        count[0] = 0
        run_state_machine_as_test(Counting, settings=fixed)
        return count[0]

    done = run()
    return run, done
