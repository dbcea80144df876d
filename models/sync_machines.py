"""Sync and checkpoint-consistency machines: a node syncing through flaky and dishonest peers,
crashing mid-write and recovering, against the canonical chain the generator knows.

The references (the canonical chain and its state at each height, the checkpoint set) are in
models/sync.py; the strategies (canonical chains, behaviours, faults, topologies) in
strategies/sync.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt import targets
from models.sync import RetryReference, fair_rounds
from strategies.sync import ForkView, canonical_chains, network_faults, network_topologies, peer_behaviours


class SyncMachine(RuleBasedStateMachine):
    """A node syncing from peers with faults; the chain it holds must be canonical."""

    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.heads: list[int] = [0]
        self.finalized: list[int] = [0]

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.canonical = data.draw(canonical_chains(), label="canonical chain")
        b = self.canonical.builder
        self.network = self.target.sync.network()
        self.store = self.target.sync.store(interval=3, retention=3)
        self.node = self.target.chain.node(b.spec, b.genesis, b.bitcoin)
        self.engine = self.target.sync.engine(self.node, self.network, self.store)
        self.engine.observers.append(self.nothing_imported_is_given_up)  # also between the rounds of a full sync
        self.retry = RetryReference(self.canonical.wire)  # fed the wire's log as it grows
        self.requests_checked = 0
        self.peers = 0
        for behaviour in ["honest"] + data.draw(st.lists(peer_behaviours(), max_size=2), label="more peers"):
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
        note(f"canonical tip {self.canonical.tip}")

    @rule(behaviour=peer_behaviours(), lag=st.integers(1, 3))
    def add_peer(self, behaviour: str, lag: int) -> None:
        self._add(behaviour, lag)

    @precondition(lambda self: len(self.network.peers) > 1)
    @rule(data=st.data())
    def remove_peer(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.network.peers)))
        del self.network.peers[name]
        note(f"peer {name} leaves")

    @rule(data=st.data(), fault=network_faults())
    def inject_network_fault(self, data: st.DataObject, fault: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.network.peers)))
        note(f"{fault} {name}")
        if fault == "disconnect":
            self.network.disconnected.add(name)
        elif fault == "partition":
            self.network.partitioned.add(name)
        else:
            self.network.faults.setdefault(name, []).append(fault)

    @rule(topology=network_topologies(), extra=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=4))
    def rewire_the_network(self, topology: str, extra: list[tuple[int, int]]) -> None:
        note(f"topology {topology} {extra if topology == 'random' else ''}")
        self.network.wire(topology, extra)

    @rule(latency=st.sampled_from([0.05, 1.0, 10.0, 20.0]))
    def change_latency(self, latency: float) -> None:
        """Above the 15 s request timeout, every request times out."""
        self.network.latency = latency
        note(f"latency {latency} s")

    @rule()
    def reconnect_and_heal(self) -> None:
        self.network.disconnected.clear()
        self.network.partitioned.clear()
        self.network.latency = 0.05
        note("network healed")

    @rule(dt=st.sampled_from([0.5, 2.0, 30.0, 61.0]))
    def advance_time(self, dt: float) -> None:
        self.network.time += dt
        note(f"time {self.network.time:.2f} s")

    @rule()
    def sync_one_round(self) -> None:
        outcome = self.engine.round()  # the engine answers every peer's fault; it never raises
        note(f"sync round: {outcome}")

    @rule()
    def sync_three_rounds_back_to_back(self) -> None:
        """Requests in quick succession: a peer that just failed must not be asked again yet."""
        outcomes = []
        for _ in range(3):
            outcomes.append(self.engine.round())
            self.nothing_imported_is_given_up()
        note(f"sync rounds: {', '.join(outcomes)}")

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
        """So it never holds an invalid block: every canonical block is valid."""
        for h in range(self.node.head_height + 1):
            assert self.node.by_height[h].hex() == self.canonical.states[h]["head"], f"height {h} is not canonical"

    @invariant()
    def nothing_imported_is_given_up(self) -> None:
        """A bad block from a peer costs the node nothing it held: head and finalization only rise."""
        head, fin = self.node.head_height, self.node.finalized_height
        assert head >= self.heads[-1], f"head went from {self.heads[-1]} to {head}"
        assert fin >= self.finalized[-1], f"finalized height went from {self.finalized[-1]} to {fin}"
        self.heads.append(head)
        self.finalized.append(fin)

    @invariant()
    def every_peer_waits_out_its_backoff_and_breaker(self) -> None:
        """No request goes to a peer before the retry policy allows (§5.1), whatever the faults."""
        for r in self.network.log[self.requests_checked :]:
            earliest = self.retry.admit(r)
            assert r.sent >= earliest, f"{r.peer} asked at {r.sent:g} s, before {earliest:g} s"
        self.requests_checked = len(self.network.log)


class CheckpointMachine(RuleBasedStateMachine):
    """Import, crash (also mid-write), restart, rot a checkpoint: checkpoints stay consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.target = targets.current()
        self.acknowledged = 0

    @initialize(data=st.data(), interval=st.integers(1, 4), retention=st.integers(1, 3))
    def start(self, data: st.DataObject, interval: int, retention: int) -> None:
        self.canonical = data.draw(canonical_chains(), label="canonical chain")
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
        note(f"{kind} on disk write {faults.at_write}")

    @precondition(lambda self: self.alive)
    @rule(kind=st.sampled_from(["io-error", "torn"]), write=st.integers(1, 2))
    def crash_while_storing_the_next_block(self, kind: str, write: int) -> None:
        """The process dies on the first or second write of the next block (its row, or its checkpoint)."""
        self.inject_disk_fault(kind, write)
        self.import_blocks(1)

    @rule()
    def crash(self) -> None:
        self.alive = False
        note("crash")

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
        note(f"checkpoint {cp.height} rotted")

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
