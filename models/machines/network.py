"""A network of Alys nodes on simulated time, driven by one deterministic scheduler: the machine.

Every node is the target's `chain` node and `approvals` candidate cache, reached through the
interface; around them sits what the suite simulates, each step as the node codes it: a producer
proposes in its own Aura slot by its own (skewable) clock, gossiping the block with its approval;
every validator that finds a proposal valid (process_block refuses it only for want of approvals)
approves it and gossips its approval (chain.rs process_block, "a validator adds its own approval");
approvals go into the candidate cache, and a block the cache accepts is imported with the
aggregate the cache built; a proposal whose parent is missing starts a sync from its sender
(BlocksByRange from head + 1; chain.rs sync, which rolls the head back one block on an import
error); merged miners give a node an AuxPoW for its unfinalized range, which it gossips (QueuePow)
and the next producer carries. Links partition, heal, drop, duplicate, delay and reorder; a
Byzantine coalition equivocates, withholds, approves what it should not, replays approvals, and
Sybil peers and eclipses surround a node. Invariants hold honest nodes to the guarantees; the
rule `heal_and_run` is Liveness.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, Any

from attrs import define, frozen
from hypothesis import event
from hypothesis import note as _hypothesis_note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt import chaos
from alys_pbt.models import bls
from alys_pbt.models.approvals import AggregateApproval, IndividualApproval
from alys_pbt.models.auxpow import AuxPowHeader
from alys_pbt.models.blocks import SignedConsensusBlock
from alys_pbt.models.network import (
    SignedMessage,
    agreement_threshold,
    approval_message,
    equivocations,
    equivocators,
    import_verdict,
    proposal_verdict,
)
from alys_pbt.strategies.network import SLOT_MS, BlockFactory, NetworkSetup, network_setups
from alys_pbt.verdict import verdict

if TYPE_CHECKING:
    from alys_pbt.interface import Target


def note(text: str) -> None:
    """Hypothesis's note inside a test; nothing when a schedule is driven by hand (tests/)."""
    if currently_in_test_context():
        _hypothesis_note(text)


LATENCY_MS = 100  # one gossip hop
LIVENESS_SLOTS = 4  # rounds of n slots Liveness allows after a heal (see heal_and_run)
VALID_BUT_UNAPPROVED = "NotEnoughApprovals"  # process_block passes every check but the majority
# What a cache may answer a bad approval with (interface: add_approval's errors). Every approval in
# a cache was checked on its way in, so a correct cache never meets an aggregate that does not
# verify: anything else it raises (BadSignature included) is a crash.
CACHE_REFUSALS = {"UnknownAuthority", "InvalidSignature"}


# --- gossip messages ---------------------------------------------------------------------------


@frozen
class Proposal:
    """`consensus_block`: a block with its producer's approval."""

    signed: SignedConsensusBlock


@frozen
class Approval:
    """`approve_block`: one authority's approval of a block (by signing root)."""

    block_hash: bytes
    approval: IndividualApproval


@frozen
class QueuePow:
    """`queue_pow`: an AuxPoW header a miner submitted to some node."""

    header: AuxPowHeader


@frozen
class SyncRequest:
    """BlocksByRange from `start`."""

    start: int


@frozen
class SyncResponse:
    blocks: tuple[SignedConsensusBlock, ...]


Message = Proposal | Approval | QueuePow | SyncRequest | SyncResponse


@define
class Envelope:
    src: int
    dst: int
    message: Message
    due: int  # simulated ms
    seq: int


class Peer:
    """One node: the target's chain node and candidate cache, and the gossip loop around them."""

    def __init__(self, net: Network, index: int, authority: int | None, byzantine: bool, skew: int) -> None:
        self.net, self.index, self.authority, self.byzantine, self.skew = (
            net,
            index,
            authority,
            byzantine,
            skew,
        )
        f = net.factory
        self.node = net.target.chain.node(f.spec, f.genesis, _NoBitcoin(), validator=authority is not None)
        self.genesis_hash = f.genesis.block_hash
        self.imported: dict[bytes, SignedConsensusBlock] = {self.genesis_hash: f.genesis}
        self.proposals: dict[bytes, SignedConsensusBlock] = {}
        self.last_slot = -1
        self.queued_pow: AuxPowHeader | None = None
        self.approved: dict[int, set[bytes]] = {}  # height -> blocks this authority approved
        self.new_cache()

    # --- the node's state, through the interface -----------------------------------------------
    @property
    def head_height(self) -> int:
        return int(self.node.head_height)

    @property
    def finalized_height(self) -> int:
        return int(self.node.finalized_height)

    def chain(self) -> dict[int, bytes]:
        return dict(self.node.by_height)

    def new_cache(self) -> None:
        """A fresh candidate cache at the head (the node clears its cache on every import; heights go
        to the cache relative to the head, so the cache's next height is the node's)."""
        self.cache = self.net.target.approvals.candidate_cache(list(self.net.factory.spec.authorities))
        self.base = self.head_height
        self.consumed = 0

    def slot(self) -> int:
        """Aura slot by this node's own clock."""
        return max(0, self.net.now + self.skew) // SLOT_MS

    # --- gossip handlers -------------------------------------------------------------------------
    def receive(self, src: int, message: Message) -> None:
        if isinstance(message, Proposal):
            self.on_proposal(src, message.signed)
        elif isinstance(message, Approval):
            self.on_approval(message.block_hash, message.approval)
        elif isinstance(message, QueuePow):
            self.queued_pow = message.header
        elif isinstance(message, SyncRequest):
            self.on_sync_request(src, message.start)
        else:
            self.on_sync_response(message.blocks)

    def on_proposal(self, src: int, signed: SignedConsensusBlock) -> None:
        h = self.net.hash_of(signed)
        if h in self.imported:
            return
        self.proposals[h] = signed
        if self.byzantine:
            self.net.byzantine_approves(self, signed, h)
            return
        got = verdict(lambda: self.node.process_block(signed))
        self.net.verdicts[got] += 1
        if got == "MissingParent":
            self.net.send(self.index, src, SyncRequest(self.head_height + 1))
            return
        if got != VALID_BUT_UNAPPROVED:
            return
        rel = signed.height - self.base
        if rel <= 0:
            return
        self._cache(lambda: self.cache.insert_block(h, rel, signed.message.slot))
        proposer = signed.signature.signers
        if len(proposer) == 1 and signed.signature.signature is not None:
            self._cache(
                lambda: self.cache.add_approval(
                    h, IndividualApproval(signed.signature.signature, proposer[0])
                )
            )
        if self.authority is not None and h not in self.approved.get(signed.height, set()):
            approval = self.net.factory.approve(h, self.authority)
            self.approved.setdefault(signed.height, set()).add(h)
            self.net.seen.append(approval_message(approval, signed.message, h))  # it sees its own
            self._cache(lambda: self.cache.add_approval(h, approval))
            self.net.broadcast(self.index, Approval(h, approval))
        self.import_accepted()

    def on_approval(self, block_hash: bytes, approval: IndividualApproval) -> None:
        if block_hash in self.imported or self.byzantine:
            return
        self._cache(lambda: self.cache.add_approval(block_hash, approval))
        self.import_accepted()

    def _cache(self, action: Any) -> None:
        got = verdict(action)
        assert got == "ok" or got in CACHE_REFUSALS, f"node {self.index}'s candidate cache crashed: {got}"

    def import_accepted(self) -> None:
        """Import each block the cache accepted, with the aggregate the cache built."""
        while self.consumed < len(self.cache.accepted):
            h = self.cache.accepted[self.consumed]
            bits, signature = self.cache.accepted_approvals[self.consumed]
            self.consumed += 1
            proposal = self.proposals[h]
            signed = SignedConsensusBlock(proposal.message, AggregateApproval(tuple(bits), signature))
            got = verdict(partial(self.node.process_block, signed))
            self.net.verdicts[got] += 1
            if got != "ok":
                self.new_cache()
                return
            self.imported[h] = signed
            self.net.on_import(self, h, signed)

    def on_sync_request(self, src: int, start: int) -> None:
        chain = self.chain()
        blocks = tuple(self.imported[chain[h]] for h in range(max(start, 1), self.head_height + 1))
        if blocks:
            self.net.send(self.index, src, SyncResponse(blocks))

    def on_sync_response(self, blocks: tuple[SignedConsensusBlock, ...]) -> None:
        """chain.rs sync: import in order, skipping blocks it holds; any error but ProcessGenesis rolls
        the head back one block (refused below finality by a node that keeps it)."""
        if self.byzantine:
            return
        for signed in blocks:
            h = self.net.hash_of(signed)
            if self.node.holds(signed):
                continue
            got = verdict(partial(self.node.process_block, signed))
            self.net.verdicts[got] += 1
            if got != "ok":
                if got != "ProcessGenesis" and self.head_height > 0:
                    verdict(lambda: self.node.rollback(self.head_height - 1))  # refused below finality
                self.new_cache()
                return
            self.imported[h] = signed
            self.net.on_import(self, h, signed)
        self.new_cache()

    # --- production ------------------------------------------------------------------------------
    def produce(self, variant: int = 0) -> SignedConsensusBlock | None:
        """Propose on the head at this node's slot, carrying the queued AuxPoW if it fits the chain."""
        f = self.net.factory
        source = self.net.best() if self.byzantine else self  # the coalition builds on the best chain
        parent = source.imported[source.node.head].message
        header = self.queued_pow if not self.byzantine and self.pow_fits(self.queued_pow) else None
        block = f.block(parent, self.slot(), header=header, variant=variant)
        assert self.authority is not None
        return f.proposal(block, self.authority)

    def pow_fits(self, header: AuxPowHeader | None) -> bool:
        if header is None:
            return False
        chain = self.chain()
        fin = self.finalized_height
        return chain.get(fin + 1) == header.range_start and chain.get(self.head_height) == header.range_end

    def unfinalized(self) -> list[bytes]:
        chain = self.chain()
        return [chain[h] for h in range(self.finalized_height + 1, self.head_height + 1)]


class _NoBitcoin:
    """A Bitcoin view with nothing in it: network blocks carry no peg-ins."""

    def __init__(self) -> None:
        self.confirmations: dict[bytes, int] = {}
        self.transactions: dict[bytes, Any] = {}


class Network:
    """The nodes, the links between them, and the scheduler (simulated time, one queue)."""

    def __init__(self, target: Target, setup: NetworkSetup, backend: Any | None = None) -> None:
        self.target, self.setup = target, setup
        self.bls = backend or bls.backend()
        self.factory = BlockFactory(setup.authorities, self.bls)
        self.now = 0
        self.seq = 0
        self.queue: list[Envelope] = []
        self.cut: set[frozenset[int]] = set()
        self.link_faults: dict[tuple[int, int], list[tuple[str, int]]] = {}
        self.duplicate_all = False
        self.seen: list[SignedMessage] = []
        self.injected: set[str] = set()
        self.injected_equivocations: list[tuple[int, str, frozenset[bytes]]] = []
        self.verdicts: Counter[str] = Counter()
        self.hashes: dict[int, tuple[SignedConsensusBlock, bytes]] = {}
        self.withholding = False
        self.steps = 0
        self.peers = [
            Peer(self, i, i if i < setup.authorities else None, i in setup.coalition, setup.skews[i])
            for i in range(setup.authorities + setup.full_nodes)
        ]

    # --- helpers -------------------------------------------------------------------------------
    def hash_of(self, signed: SignedConsensusBlock) -> bytes:
        key = id(signed.message)
        hit = self.hashes.get(key)
        if hit is None or hit[0].message is not signed.message:
            hit = self.hashes[key] = (signed, signed.block_hash)
        return hit[1]

    @property
    def honest(self) -> list[Peer]:
        return [p for p in self.peers if not p.byzantine]

    @property
    def coalition(self) -> list[Peer]:
        return [p for p in self.peers if p.byzantine]

    def fault(self, kind: str) -> None:
        self.injected.add(kind)

    def best(self) -> Peer:
        """The honest node with the highest head (the lowest index among equals)."""
        return max(self.honest, key=lambda p: (p.head_height, -p.index))

    # --- links -----------------------------------------------------------------------------------
    def send(self, src: int, dst: int, message: Message, delay: int = 0) -> None:
        if src == dst:
            return
        if frozenset((src, dst)) in self.cut:
            self.fault("partition")
            return
        kind, extra = (self.link_faults.get((src, dst)) or [("", 0)])[0]
        if kind:
            self.link_faults[(src, dst)].pop(0)
            self.fault(kind)
        if kind == "drop":
            return
        due = self.now + LATENCY_MS + delay + (extra * SLOT_MS if kind == "delay" else 0)
        self._enqueue(src, dst, message, due)
        if kind == "duplicate" or self.duplicate_all:
            self._enqueue(src, dst, message, due + 1)  # gossipsub: the same message by a second path

    def _enqueue(self, src: int, dst: int, message: Message, due: int) -> None:
        self.seq += 1
        self.queue.append(Envelope(src, dst, message, due, self.seq))

    def broadcast(self, src: int, message: Message, to: list[int] | None = None) -> None:
        for p in self.peers if to is None else [self.peers[i] for i in to]:
            self.send(src, p.index, message)

    def due(self) -> list[Envelope]:
        """The messages that arrive before this slot ends, in arrival order."""
        end = (self.now // SLOT_MS + 1) * SLOT_MS
        return sorted((e for e in self.queue if e.due < end), key=lambda e: (e.due, e.seq))

    def deliver(self, envelope: Envelope) -> None:
        self.queue.remove(envelope)
        self.now = max(self.now, envelope.due)
        self.steps += 1
        message = envelope.message
        self._log(message)
        self.peers[envelope.dst].receive(envelope.src, message)

    def _log(self, message: Message) -> None:
        """Every signed message some node saw (for Accountability)."""
        if isinstance(message, Proposal):
            s = message.signed
            signers = s.signature.signers
            if len(signers) == 1 and s.signature.signature is not None:
                h = self.hash_of(s)
                signature = s.signature.signature
                self.seen.append(SignedMessage("block", signers[0], s.message.slot, s.height, h, signature))
                # The producer's signature is also its approval of the block.
                self.seen.append(approval_message(IndividualApproval(signature, signers[0]), s.message, h))
        elif isinstance(message, Approval):
            block = self._block(message.block_hash)
            if block is not None:
                self.seen.append(approval_message(message.approval, block.message, message.block_hash))

    def _block(self, h: bytes) -> SignedConsensusBlock | None:
        for p in self.peers:
            if h in p.proposals:
                return p.proposals[h]
        return None

    def flush(self, limit: int = 10_000) -> None:
        """Deliver every message that arrives before this slot ends, in arrival order (what is sent
        meanwhile too)."""
        for _ in range(limit):
            due = self.due()
            if not due:
                return
            self.deliver(due[0])

    # --- time and production ---------------------------------------------------------------------
    def tick(self) -> None:
        """The next slot starts: each authority whose clock reaches its own slot proposes."""
        self.now = (self.now // SLOT_MS + 1) * SLOT_MS
        for p in self.peers:
            if p.authority is None or (p.byzantine and self.withholding):
                if p.byzantine and p.authority is not None:
                    self.fault("withhold")
                continue
            slot = p.slot()
            if slot % self.setup.authorities != p.authority or slot <= p.last_slot:
                continue
            p.last_slot = slot
            signed = p.produce()
            if signed is None:
                continue
            self.propose(p, signed)

    def propose(self, p: Peer, signed: SignedConsensusBlock, to: list[int] | None = None) -> None:
        h = self.hash_of(signed)
        p.proposals[h] = signed
        self._log(Proposal(signed))
        if not p.byzantine:
            p.on_proposal(p.index, signed)  # its own block: checked, cached and approved like any
        self.broadcast(p.index, Proposal(signed), to)

    def mine(self, p: Peer) -> bool:
        """A merged miner asks node `p` for work (createauxblock) and submits a proof for its whole
        unfinalized range; the node gossips it (QueuePow) and will carry it in its next block."""
        hashes = p.unfinalized()
        if not hashes:
            return False
        last = p.imported[p.node.latest_pow].message.auxpow_header
        assert last is not None
        header = self.factory.auxpow_header(hashes, last.height)
        p.queued_pow = header
        self.broadcast(p.index, QueuePow(header))
        return True

    def on_import(self, p: Peer, h: bytes, signed: SignedConsensusBlock) -> None:
        """Hook: each block a node imports."""

    # --- Byzantine behaviour ---------------------------------------------------------------------
    def byzantine_approves(self, p: Peer, signed: SignedConsensusBlock, h: bytes) -> None:
        """A coalition member approves every block it sees (unless withholding), valid or not, at any
        height, and whatever it approved before at that height."""
        if self.withholding or p.authority is None:
            return
        earlier = p.approved.setdefault(signed.height, set())
        if earlier and h not in earlier:
            self.fault("equivocate-approval")
            self.injected_equivocations.append((p.authority, "approval", frozenset({h, *earlier})))
        parent = self._parent(signed)
        authorities = self.factory.spec.authorities
        if parent is not None and proposal_verdict(signed, parent, authorities, SLOT_MS, self.bls) != "ok":
            self.fault("approve-invalid")
        earlier.add(h)
        self.broadcast(p.index, Approval(h, self.factory.approve(h, p.authority)))

    def _parent(self, signed: SignedConsensusBlock) -> Any:
        for p in self.peers:
            parent = p.imported.get(signed.message.parent_hash)
            if parent is not None:
                return parent.message
        return None

    def reference(self, signed: SignedConsensusBlock, parent: Any) -> str:
        """The reference's verdict on a block an honest node imported."""
        return import_verdict(signed, parent, self.factory.spec.authorities, SLOT_MS, self.bls)

    # --- the guarantees --------------------------------------------------------------------------
    def conflicts(self) -> list[tuple[int, frozenset[bytes]]]:
        """Heights at which honest nodes hold different blocks, with the blocks."""
        by_height: dict[int, set[bytes]] = {}
        for p in self.honest:
            for height, h in p.chain().items():
                by_height.setdefault(height, set()).add(h)
        return [(height, frozenset(hs)) for height, hs in sorted(by_height.items()) if len(hs) > 1]


class NetworkMachine(RuleBasedStateMachine):
    """N authorities and full nodes on a faulty network with a Byzantine coalition below the fault
    thresholds; the invariants are the guarantees honest nodes must keep."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.finalized: dict[int, dict[int, bytes]] = {}  # node -> every finalized height's block
        self.exercised: dict[str, set[str]] = {}
        self.valid: set[tuple[int, bytes]] = set()  # (node, block) already judged
        self.ran_liveness = False
        self.evidence_checked = 0

    @initialize(setup=network_setups())
    def start_network(self, setup: NetworkSetup) -> None:
        self.net = Network(self.target, setup)
        self.n = setup.authorities
        note(
            f"{setup.authorities} authorities, coalition {setup.coalition}, {setup.full_nodes} full nodes, "
            f"skews {setup.skews}"
        )
        if any(setup.skews):
            self.net.fault("clock-skew")
        event(f"network: {setup.authorities} authorities, coalition of {len(setup.coalition)}")

    # --- time and gossip -------------------------------------------------------------------------
    @rule()
    def next_slot(self) -> None:
        note(f"slot {self.net.now // SLOT_MS + 1}")
        self.net.tick()

    @precondition(lambda self: bool(self.net.due()))
    @rule(choice=st.integers(0, 50))
    def deliver_one(self, choice: int) -> None:
        """Deliver one due message, not necessarily the oldest (reordering)."""
        due = self.net.due()
        if choice % len(due):
            self.net.fault("reorder")
        envelope = due[choice % len(due)]
        note(f"deliver {type(envelope.message).__name__} {envelope.src} -> {envelope.dst}")
        self.net.deliver(envelope)

    @rule()
    def deliver_all(self) -> None:
        note("deliver everything due")
        self.net.flush()

    # --- links -----------------------------------------------------------------------------------
    @rule(data=st.data())
    def partition(self, data: st.DataObject) -> None:
        """Cut the network in two groups (coalition members stay linked to both: a split brain)."""
        honest = [p.index for p in self.net.honest]
        side = set(
            data.draw(
                st.sets(st.sampled_from(honest), min_size=1, max_size=max(1, len(honest) - 1)),
                label="one side",
            )
        )
        self.net.cut = {frozenset((a, b)) for a in side for b in honest if b not in side}
        note(f"partition {sorted(side)} | {sorted(set(honest) - side)}")
        self.net.fault("partition")

    @rule()
    def heal(self) -> None:
        note("heal every partition")
        self.net.cut = set()

    @rule(
        src=st.integers(0, 15),
        dst=st.integers(0, 15),
        kind=st.sampled_from(["drop", "duplicate", "delay"]),
        slots=st.integers(1, 3),
    )
    def degrade_link(self, src: int, dst: int, kind: str, slots: int) -> None:
        """The next message on one link is dropped, duplicated or delayed by some slots."""
        m = len(self.net.peers)
        src, dst = src % m, dst % m
        self.net.link_faults.setdefault((src, dst), []).append((kind, slots))
        note(f"next message {src} -> {dst}: {kind}")

    @rule(node=st.integers(0, 15), skew=st.integers(-SLOT_MS, SLOT_MS))
    def skew_clock(self, node: int, skew: int) -> None:
        p = self.net.peers[node % len(self.net.peers)]
        p.skew += skew
        note(f"node {p.index}'s clock moves {skew} ms")
        self.net.fault("clock-skew")

    @precondition(lambda self: any(p.head_height > p.finalized_height for p in self.net.honest))
    @rule(node=st.integers(0, 15))
    def mine_auxpow(self, node: int) -> None:
        """A merged miner submits an AuxPoW for one honest node's unfinalized range."""
        ready = [p for p in self.net.honest if p.head_height > p.finalized_height]
        p = ready[node % len(ready)]
        self.net.mine(p)
        note(f"miner finalizes node {p.index}'s range up to {p.head_height}")

    # --- the coalition -----------------------------------------------------------------------------
    @precondition(lambda self: bool(self.net.coalition))
    @rule(member=st.integers(0, 15), data=st.data())
    def equivocate_block(self, member: int, data: st.DataObject) -> None:
        """A coalition member proposes two blocks for its next slot, each to part of the network.
        (Signing for another's slot is test_a_block_signed_for_another_authoritys_slot_is_never_imported.)"""
        p = self.net.coalition[member % len(self.net.coalition)]
        assert p.authority is not None
        best = self.net.best()
        parent = best.imported[best.node.head].message
        f = self.net.factory
        now = self.net.now // SLOT_MS
        slot = now + (p.authority - now) % self.n
        first = f.proposal(f.block(parent, slot), p.authority)
        second = f.proposal(f.block(parent, slot, variant=1), p.authority)
        others = [q.index for q in self.net.peers if q is not p]
        half = set(data.draw(st.sets(st.sampled_from(others)), label="first block to")) if others else set()
        note(f"authority {p.authority} equivocates at slot {slot}, height {parent.height + 1}")
        self.net.fault("equivocate-block")
        pair = frozenset({self.net.hash_of(first), self.net.hash_of(second)})
        self.net.injected_equivocations.append((p.authority, "block", pair))
        self.net.propose(p, first, sorted(half))
        self.net.propose(p, second, sorted(set(others) - half))

    @precondition(lambda self: bool(self.net.coalition))
    @rule(on=st.booleans())
    def withhold(self, on: bool) -> None:
        note(f"coalition {'withholds' if on else 'resumes'}")
        self.net.withholding = on

    @precondition(lambda self: bool(self.net.coalition) and any(m.kind == "approval" for m in self.net.seen))
    @rule(which=st.integers(0, 10**6), to=st.integers(0, 15))
    def replay_approval(self, which: int, to: int) -> None:
        """A coalition member re-sends an approval seen earlier (its own or anyone's)."""
        approvals = [m for m in self.net.seen if m.kind == "approval"]
        m = approvals[which % len(approvals)]
        src = self.net.coalition[0].index
        dst = to % len(self.net.peers)
        note(f"replay authority {m.authority}'s approval of height {m.height} to node {dst}")
        self.net.fault("replay-approval")
        self.net.send(src, dst, Approval(m.block_hash, IndividualApproval(m.signature, m.authority)))

    @rule(victim=st.integers(0, 15), count=st.integers(1, 4), garbage=st.binary(min_size=96, max_size=96))
    def sybil_flood(self, victim: int, count: int, garbage: bytes) -> None:
        """Lying peers without keys send a node approvals from unknown authorities and bad signatures."""
        p = self.net.honest[victim % len(self.net.honest)]
        heads = list(p.proposals) or [p.genesis_hash]
        note(f"{count} Sybil peers flood node {p.index}")
        self.net.fault("sybil")
        for k in range(count):
            index = self.n + k % (15 - self.n + 1) if k % 2 else k % self.n
            p.on_approval(heads[k % len(heads)], IndividualApproval(garbage, index))

    @precondition(lambda self: bool(self.net.coalition))
    @rule(victim=st.integers(0, 15))
    def eclipse(self, victim: int) -> None:
        """Every neighbour of one honest node is a coalition member."""
        p = self.net.honest[victim % len(self.net.honest)]
        note(f"eclipse node {p.index}")
        self.net.cut |= {frozenset((p.index, q.index)) for q in self.net.honest if q is not p}
        self.net.fault("eclipse")

    # --- Liveness ----------------------------------------------------------------------------------
    @precondition(lambda self: not self.ran_liveness)  # once an example: it runs 4n slots
    @rule(duplicate=st.booleans())
    def heal_and_run(self, duplicate: bool) -> None:
        """Liveness: heal every partition and stop losing messages (gossip may still duplicate them);
        with at least ceil(2n/3) honest authorities connected, every honest node's finalization
        advances within LIVENESS_SLOTS rounds of n slots, a miner finalizing at each."""
        net = self.net
        self.ran_liveness = True
        note(f"heal and run {LIVENESS_SLOTS * self.n} slots{' with duplicated gossip' if duplicate else ''}")
        net.cut, net.link_faults, net.duplicate_all = set(), {}, duplicate
        if duplicate:
            net.fault("duplicate")
        net.now += 3 * SLOT_MS  # whatever was delayed arrives
        net.flush()
        before = {p.index: p.finalized_height for p in net.honest}
        for _ in range(LIVENESS_SLOTS * self.n):
            best = self.net.best()
            for p in net.honest:
                if p.head_height == best.head_height:
                    net.mine(p)
            net.flush()
            net.tick()
            net.flush()
        net.duplicate_all = False
        conflicted = {
            p.index for height, hs in net.conflicts() for p in net.honest if p.chain().get(height) in hs
        }
        stuck = [p.index for p in net.honest if p.finalized_height <= before[p.index]]
        if net.conflicts():
            # Agreement was lost (invariant `agreement` says whether it was accountable): the nodes
            # on the two branches cannot both advance as the node codes it (no reorg); only the
            # honest nodes outside the conflict are held to Liveness.
            stuck = [i for i in stuck if i not in conflicted]
        self._exercise("liveness")
        assert not stuck, (
            f"Liveness: honest nodes {stuck} finalized nothing new in {LIVENESS_SLOTS * self.n} slots "
            f"after the heal (finalized {[net.peers[i].finalized_height for i in stuck]}, heads "
            f"{[net.peers[i].head_height for i in stuck]})"
        )

    def _exercise(self, invariant_name: str) -> None:
        for kind in self.net.injected:
            self.exercised.setdefault(kind, set()).add(invariant_name)

    # --- invariants ----------------------------------------------------------------------------------
    @invariant()
    def agreement(self) -> None:
        """Agreement: honest nodes hold different blocks at one height only when the messages seen
        name at least agreement_threshold(n) authorities approving both (quorum intersection)."""
        if not hasattr(self, "net"):
            return
        self._exercise("agreement")
        conflicts = self.net.conflicts()
        if not conflicts:
            return
        evidence = equivocations(self.net.seen)
        need = agreement_threshold(self.n)
        for height, blocks in conflicts:
            for a in blocks:
                for b in blocks:
                    if a < b:
                        named = equivocators(evidence, "approval", height, frozenset({a, b}))
                        assert len(named) >= need, (
                            f"Agreement: honest nodes hold two blocks at height {height}, but only "
                            f"{sorted(named)} approved both ({need} must have)"
                        )

    @invariant()
    def finality(self) -> None:
        """Finality: a block an honest node finalized is never undone on it."""
        if not hasattr(self, "net"):
            return
        self._exercise("finality")
        for p in self.net.honest:
            seen = self.finalized.setdefault(p.index, {})
            chain = p.chain()
            for height, h in seen.items():
                assert chain.get(height) == h, (
                    f"Finality: node {p.index} finalized height {height}, now holds "
                    f"{'nothing' if height not in chain else 'another block'} there"
                )
            for height in range(p.finalized_height + 1):
                seen.setdefault(height, chain[height])

    @invariant()
    def validity(self) -> None:
        """Validity: every block an honest node imported is one the reference accepts, both as its
        producer proposed it (the slot author alone signs it) and with the approvals it carries."""
        if not hasattr(self, "net"):
            return
        self._exercise("validity")
        for p in self.net.honest:
            for h, signed in p.imported.items():
                if h == p.genesis_hash or (p.index, h) in self.valid:
                    continue
                parent = p.imported.get(signed.message.parent_hash)
                got = "MissingParent" if parent is None else self.net.reference(signed, parent.message)
                assert got == "ok", f"Validity: node {p.index} imported a block the reference refuses ({got})"
                proposal = self.net._block(h)  # as its producer gossiped it
                if proposal is not None and parent is not None:
                    authorities = self.net.factory.spec.authorities
                    got = proposal_verdict(proposal, parent.message, authorities, SLOT_MS, self.net.bls)
                    assert got == "ok", (
                        f"Validity: node {p.index} imported a block proposed against the rules ({got})"
                    )
                self.valid.add((p.index, h))

    @invariant()
    def accountability(self) -> None:
        """Accountability: every equivocation injected and seen is detected, with evidence that names
        the authority and verifies on the node's own BLS; no honest producer is named for a block."""
        if not hasattr(self, "net"):
            return
        self._exercise("accountability")
        evidence = equivocations(self.net.seen)
        found = {
            (e.authority, e.kind, frozenset({e.first.block_hash, e.second.block_hash})) for e in evidence
        }
        seen_hashes = {m.block_hash for m in self.net.seen}
        for authority, kind, pair in self.net.injected_equivocations:
            if kind == "block" and pair <= seen_hashes:
                assert (authority, kind, pair) in found, (
                    f"Accountability: authority {authority}'s two blocks went unnoticed"
                )
        pks = self.net.factory.spec.authorities
        new, self.evidence_checked = evidence[self.evidence_checked :], len(evidence)  # seen is append-only
        for e in new:
            for m in (e.first, e.second):
                assert self.target.approvals.verify(pks[e.authority], m.block_hash, m.signature), (
                    f"Accountability: evidence against authority {e.authority} does not verify on the node"
                )
            assert not (e.kind == "block" and e.authority in self.net.setup.honest), (
                f"Accountability: honest authority {e.authority} named for two blocks in one slot"
            )

    def teardown(self) -> None:
        if hasattr(self, "net"):
            chaos.record_example(self.net.injected, self.exercised)
