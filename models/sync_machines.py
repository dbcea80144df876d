"""Sync and checkpoint-consistency machines: a node syncing through flaky and dishonest peers,
crashing mid-write and recovering, against the canonical chain the generator knows.

Reference models here: the canonical chain (wire bytes by height), the expected checkpoint
heights for an interval (multiples of it, the last `retention` kept), and the expected state at
each height ({height, head, latest_pow} after importing that block).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import attrs
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt import targets
from alys_pbt.verdict import verdict
from models import bls
from models.blocks import block_to_bytes
from models.chain import ChainSpec
from models.chain_machine import FEDERATION_SPK
from strategies.blocks import ChainBuilder
from strategies.federation import keyrings

BEHAVIOURS = ("honest", "lagging", "fork", "withholding", "lying")


class Canonical:
    """The canonical chain, grown by the generator; wire bytes and reference state per height."""

    def __init__(self, builder: ChainBuilder) -> None:
        self.builder = builder
        self.wire: list[bytes] = [block_to_bytes(builder.genesis)]
        self.states: list[dict[str, Any]] = [self._state()]

    def _state(self) -> dict[str, Any]:
        c = self.builder.chain
        return {"height": c.head_height, "head": c.head.hex(), "latest_pow": c.latest_pow.hex()}

    def extend(self, k: int) -> None:
        for _ in range(k):
            c = self.builder.chain
            pow = c.head_height > c.finalized_height and c.head_height - c.finalized_height >= self.builder.spec.max_blocks_without_pow - 1
            signed = self.builder.next_block(pow=pow)
            self.builder.accept(signed)
            self.wire.append(block_to_bytes(signed))
            self.states.append(self._state())

    @property
    def tip(self) -> int:
        return len(self.wire) - 1


def expected_checkpoints(height: int, interval: int, retention: int) -> list[int]:
    """Checkpoint heights after importing blocks 1..height: the last `retention` positive multiples of `interval`."""
    multiples = list(range(interval, height + 1, interval))
    return multiples[-retention:] if retention else []


def fair_rounds(peers: int, blocks: int, batch: int = 1) -> int:
    """Enough rounds to reach the tip once faults stop: every peer may fail a breaker's worth of
    times, and every other round may be an honest peer's full batch."""
    return 8 * (peers + 1) + 2 * -(-blocks // batch)


def _new_chain(data: st.DataObject) -> Canonical:
    b = bls.backend()
    keyring = data.draw(keyrings(b, n=st.integers(1, 4)), label="authorities")
    spec = ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4)
    canonical = Canonical(ChainBuilder(spec, keyring, b))
    canonical.extend(data.draw(st.integers(0, 6), label="initial length"))
    return canonical


def _forged(raw: bytes) -> bytes:
    """The same block with its aggregate signature replaced: a fork peer's unapprovable block."""
    from models.blocks import block_from_bytes

    signed = block_from_bytes(raw)
    signature = attrs.evolve(signed.signature, signature=None)
    return block_to_bytes(attrs.evolve(signed, signature=signature))


class ForkView(Sequence[bytes]):
    """A fork peer's chain: the canonical blocks below `cut`, then forged copies of every
    canonical block above it, growing as the canonical chain grows."""

    def __init__(self, canonical: list[bytes], cut: int) -> None:
        self.canonical, self.cut = canonical, cut
        self.forged: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self.canonical)

    def _at(self, height: int) -> bytes:
        if height < self.cut:
            return self.canonical[height]
        if height not in self.forged:
            self.forged[height] = _forged(self.canonical[height])
        return self.forged[height]

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self._at(h) for h in range(*index.indices(len(self)))]
        return self._at(range(len(self))[index])


class SyncMachine(RuleBasedStateMachine):
    """A node syncing from peers with faults; the chain it holds must be canonical."""

    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.heads: list[int] = [0]
        self.finalized: list[int] = [0]

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.canonical = _new_chain(data)
        b = self.canonical.builder
        self.network = self.target.sync.network()
        self.store = self.target.sync.store(interval=3, retention=3)
        self.node = self.target.chain.node(b.spec, b.genesis, b.bitcoin)
        self.engine = self.target.sync.engine(self.node, self.network, self.store)
        self.engine.observers.append(self.nothing_imported_is_given_up)  # also between the rounds of a full sync
        self.peers = 0
        for behaviour in ["honest"] + data.draw(st.lists(st.sampled_from(BEHAVIOURS), max_size=2), label="more peers"):
            self._add(behaviour, 1)

    def _add(self, behaviour: str, lag: int) -> None:
        self.peers += 1
        name = f"p{self.peers}"
        chain: Sequence[bytes] = self.canonical.wire  # shared: honest peers see the chain grow
        if behaviour == "fork":
            chain = ForkView(self.canonical.wire, max(1, self.canonical.tip - lag))
        peer = self.target.sync.peer(name, chain, behaviour, lag=lag, claimed=0 if behaviour == "lying" else None)
        self.network.add(peer)
        note(f"peer {name}: {behaviour}")

    @rule(k=st.integers(1, 4))
    def extend_canonical_chain(self, k: int) -> None:
        self.canonical.extend(k)

    @rule(behaviour=st.sampled_from(BEHAVIOURS), lag=st.integers(1, 3))
    def add_peer(self, behaviour: str, lag: int) -> None:
        self._add(behaviour, lag)

    @precondition(lambda self: len(self.network.peers) > 1)
    @rule(data=st.data())
    def remove_peer(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.network.peers)))
        del self.network.peers[name]

    @rule(data=st.data(), fault=st.sampled_from(["disconnect", "partition", "drop", "duplicate", "reorder", "corrupt", "delay"]))
    def inject_network_fault(self, data: st.DataObject, fault: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.network.peers)))
        note(f"{fault} {name}")
        if fault == "disconnect":
            self.network.disconnected.add(name)
        elif fault == "partition":
            self.network.partitioned.add(name)
        else:
            self.network.faults.setdefault(name, []).append(fault)

    @rule(topology=st.sampled_from(["mesh", "ring", "star", "random"]), extra=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=4))
    def rewire_the_network(self, topology: str, extra: list[tuple[int, int]]) -> None:
        note(f"topology {topology} {extra if topology == 'random' else ''}")
        self.network.wire(topology, extra)

    @rule(latency=st.sampled_from([0.05, 1.0, 10.0, 20.0]))
    def change_latency(self, latency: float) -> None:
        """Above the 15 s request timeout, every request times out."""
        self.network.latency = latency

    @rule()
    def reconnect_and_heal(self) -> None:
        self.network.disconnected.clear()
        self.network.partitioned.clear()
        self.network.latency = 0.05

    @rule(dt=st.sampled_from([0.5, 2.0, 30.0, 61.0]))
    def advance_time(self, dt: float) -> None:
        self.network.time += dt

    @rule()
    def sync_one_round(self) -> None:
        outcome = verdict(self.engine.round)
        note(f"sync round: {outcome}")

    @rule()
    def heal_and_sync_fully(self) -> None:
        """After the network heals and faults stop, enough fair rounds reach the tip."""
        self.reconnect_and_heal()
        for name in self.network.faults:
            self.network.faults[name].clear()
        if not any(self.network.peers[p].behaviour in ("honest", "lying") for p in self.network.reachable()):
            self._add("honest", 0)  # the guarantee needs one honest neighbour
        self.network.time += 120.0  # breakers close, backoffs end
        self.engine.sync(max_rounds=fair_rounds(len(self.network.peers), self.canonical.tip))
        assert self.node.head_height == self.canonical.tip, f"synced to {self.node.head_height}, tip {self.canonical.tip}"

    @invariant()
    def holds_a_prefix_of_the_canonical_chain(self) -> None:
        if hasattr(self, "node"):
            for h in range(self.node.head_height + 1):
                assert self.node.by_height[h].hex() == self.canonical.states[h]["head"], f"height {h} is not canonical"

    @invariant()
    def nothing_imported_is_given_up(self) -> None:
        """A bad block from a peer costs the node nothing it held: head and finalization only rise."""
        if hasattr(self, "node"):
            head, fin = self.node.head_height, self.node.finalized_height
            assert head >= self.heads[-1], f"head went from {self.heads[-1]} to {head}"
            assert fin >= self.finalized[-1], f"finalized height went from {self.finalized[-1]} to {fin}"
            self.heads.append(head)
            self.finalized.append(fin)


class CheckpointMachine(RuleBasedStateMachine):
    """Import, crash (also mid-write), restart, rot a checkpoint: checkpoints stay consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.acknowledged = 0

    @initialize(data=st.data(), interval=st.integers(1, 4), retention=st.integers(1, 3))
    def start(self, data: st.DataObject, interval: int, retention: int) -> None:
        self.canonical = _new_chain(data)
        self.interval, self.retention = interval, retention
        self.store = self.target.sync.store(interval=interval, retention=retention)
        self._boot()
        note(f"checkpoint every {interval}, keep {retention}")

    def _boot(self) -> None:
        b = self.canonical.builder
        self.node = self.target.sync.recover(self.store, b.spec, b.genesis, b.bitcoin)
        self.network = self.target.sync.network()
        self.engine = self.target.sync.engine(self.node, self.network, self.store)
        self.alive = True

    @precondition(lambda self: self.alive)
    @rule(k=st.integers(1, 3))
    def import_blocks(self, k: int) -> None:
        if self.node.head_height + k > self.canonical.tip:
            self.canonical.extend(self.node.head_height + k - self.canonical.tip)
        for h in range(self.node.head_height + 1, self.node.head_height + k + 1):
            try:
                self.engine.import_block(self.canonical.wire[h])
            except OSError as err:  # an injected disk fault: the process dies here
                note(f"crash while storing block {h}: {err}")
                self.alive = False
                return
            self.acknowledged = max(self.acknowledged, h)

    @precondition(lambda self: self.alive)
    @rule(more=st.integers(0, 3))
    def resume_sync_from_an_honest_peer(self, more: int) -> None:
        """Recovery ends in sync: the rest of the chain comes from the network."""
        self.canonical.extend(more)
        if not self.network.peers:
            self.network.add(self.target.sync.peer("honest", self.canonical.wire))
        try:
            outcome = self.engine.sync(max_rounds=fair_rounds(1, self.canonical.tip))
        except OSError as err:
            note(f"crash while syncing: {err}")
            self.alive = False
            return
        finally:
            self.acknowledged = max(self.acknowledged, self.engine.acknowledged)
        note(f"sync: {outcome} at {self.node.head_height}")
        assert outcome == "synced" and self.node.head_height == self.canonical.tip

    @rule(kind=st.sampled_from(["io-error", "torn"]), after=st.integers(1, 4))
    def inject_disk_fault(self, kind: str, after: int) -> None:
        faults = self.store.faults
        faults.at_write, faults.kind = faults.writes + after, kind

    @precondition(lambda self: self.alive)
    @rule(kind=st.sampled_from(["io-error", "torn"]), write=st.integers(1, 2))
    def crash_while_storing_the_next_block(self, kind: str, write: int) -> None:
        """The process dies on the first or second write of the next block (its row, or its checkpoint)."""
        self.inject_disk_fault(kind, write)
        self.import_blocks(1)

    @rule()
    def crash(self) -> None:
        self.alive = False

    @precondition(lambda self: not self.alive)
    @rule()
    def restart(self) -> None:
        self.store.faults.at_write = None
        self._boot()
        note(f"recovered at {self.node.head_height} (acknowledged {self.acknowledged})")

    @precondition(lambda self: bool(self.store.checkpoints()))
    @rule(data=st.data())
    def corrupt_a_checkpoint(self, data: st.DataObject) -> None:
        cp = data.draw(st.sampled_from(self.store.checkpoints()))
        self.store.corrupt_checkpoint(cp.height)

    @invariant()
    def kept_checkpoints_that_verify_equal_the_reference_state(self) -> None:
        for cp in self.store.checkpoints():
            if cp.verifies():
                assert cp.state == self.canonical.states[cp.height], f"checkpoint {cp.height} verifies but is wrong"

    @invariant()
    def checkpoint_heights_follow_the_interval_rule(self) -> None:
        cps = self.store.checkpoints()
        if self.alive:  # a crash may interrupt pruning; recovery prunes
            assert len(cps) <= self.retention, f"{len(cps)} checkpoints kept, retention {self.retention}"
        assert all(cp.height % self.interval == 0 and cp.height > 0 for cp in cps)

    @invariant()
    def every_checkpoint_has_its_block_stored(self) -> None:
        stored = set(self.store.stored_heights())
        for cp in self.store.checkpoints():
            assert cp.height in stored, f"checkpoint {cp.height} for a block that was never committed"

    @invariant()
    def nothing_acknowledged_is_lost_across_a_crash(self) -> None:
        if self.alive:
            assert self.node.head_height >= self.acknowledged, f"recovered {self.node.head_height}, acknowledged {self.acknowledged}"
            for h in range(self.node.head_height + 1):
                assert self.node.by_height[h].hex() == self.canonical.states[h]["head"]
