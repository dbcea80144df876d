"""Sync over a simulated P2P network (app/src/chain.rs sync/get_blocks, alys-rules.md §5.1).

Serving: a BlocksByRange(start, count) request is answered with the canonical blocks from start to
min(start + count - 1, head). Syncing: request batches from head + 1, import each block through
the node's validation, stop when every reachable peer answers short; per peer, exponential
backoff (1 s, 2 s, ... 30 s) and a circuit breaker (open after 3 failures, for 60 s); rotate
peers; parallel download from several peers. Everything runs on simulated time.

Quirks (on in target `alys`):
* `sync-serve-loop-index`: the server breaks on the loop index, not the height (`i > head`), so a
  request that starts above 0 gets wrong blocks (it falls back to the head for missing heights);
* `sync-error-rolls-back`: an import error rolls the head back by one block.
Seeded mutants: `sync-batch-start-off-by-one`, `sync-trusts-claimed-height`,
`sync-retry-without-backoff`, `sync-breaker-never-opens`, `sync-failures-never-reset`,
`sync-serve-count-off-by-one` (the server answers up to 1,025 blocks), `sync-timeout-inclusive` (a
response at exactly 15 s counts as timed out); and, each
today's (pre-issue-14) handling of a store failure: `sync-head-moves-before-store` (the head stays
moved when the store refuses the block: a hole), `sync-parallel-swallows-store-errors` (parallel
download takes a store error for a bad block), `store-recovery-deletes-acknowledged` (recovery cuts
the store back at the first row that does not validate, acknowledged or not).

Issue 16 (the V2 design's SyncActor keeps one peer manager): every engine syncing through one
network shares the peers' standing (backoff, breaker), so two syncs running at once (the start-up
sync and one a gossiped block's missing parent triggers) never ask a peer the other just found
failing; and a parallel download charges the peer that served the first bad block of its range.
A parallel download asks only peers the retry policy allows now. Seeded mutants
`sync-health-per-engine` (each engine its own table), `sync-parallel-bad-block-uncharged` (the bad
block's peer goes free) and `sync-parallel-ignores-backoff` (any peer given is asked): each the
port before issue 16.

A store failure (a StoreError) is fatal to the round: the node's head goes back to where it was
(the store did not acknowledge the block) and the error propagates to whoever drives the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import define, field, frozen, validators

from alys.sync.store import CorruptBlock, DiskError, Store, StoreCorrupt, StoreError
from alys.variant import Variant

MAX_REQUEST_BLOCKS = 1024
BEHAVIOURS = (
    "honest",
    "lagging",
    "fork",
    "withholding",
    "lying",
)  # fork: serves blocks the federation never approved
FAULTS = (
    "drop",
    "duplicate",
    "reorder",
    "corrupt",
    "delay",
)  # per response; disconnect and partition are sets
ME = "me"  # the syncing node's name in the network's links
REQUEST_TIMEOUT = 15.0  # seconds (the node's RPC request timeout, §5.1)
DELAY = 5.0  # seconds a "delay" fault adds to one response
# §5.1 retry policy, per peer: exponential backoff after consecutive failures, and a circuit breaker.
BACKOFF_CAP = 30.0
BREAKER_FAILURES = 3
BREAKER_OPEN = 60.0


def serve_blocks_by_range(blocks: Sequence[bytes], start: int, count: int, variant: Variant) -> list[bytes]:
    """The server side: `blocks[h]` is the canonical block at height h; head = len(blocks) - 1."""
    head = len(blocks) - 1
    limit = MAX_REQUEST_BLOCKS
    if variant.on("sync-serve-count-off-by-one"):  # pragma: no mutate block
        limit += 1
    count = min(count, limit)
    if variant.on("sync-serve-loop-index"):
        out = []
        for i in range(count):
            if i > head:
                break
            height = start + i
            out.append(blocks[height] if height <= head else blocks[head])  # walks back from head
        return out
    return list(blocks[start : min(start + count - 1, head) + 1])


class PeerUnreachable(ConnectionError):
    """Disconnected, partitioned away, or the response was lost (a timeout)."""


class RequestTimedOut(PeerUnreachable):
    """The response was lost or came after the 15 s request timeout."""


class NotTheNextBlock(ValueError):
    """A block that does not extend the node's head. Sync imports in order from head + 1; the
    node itself accepts any stored parent, and a block the store refused stays stored in the node
    (rollback_head forgets no block), so a child of it would bring it back unacknowledged."""


@frozen
class Request:
    """One BlocksByRange request as the wire saw it: when it went out, to whom, for what, and when
    and how it ended ("answered", "timed out" or "unreachable"), with the blocks that came back."""

    sent: float
    peer: str
    start: int
    count: int
    ended: float
    outcome: str
    blocks: tuple[bytes, ...] = ()


@define
class SimPeer:
    """A peer: its chain (wire bytes by height), how it behaves, and what it claims."""

    name: str
    chain: Sequence[bytes]  # by height; may be a view that grows
    behaviour: str = field(default="honest", validator=validators.in_(BEHAVIOURS))
    lag: int = 0
    claimed: int | None = None  # a lying peer's claimed height

    def served(self) -> Sequence[bytes]:
        if self.behaviour == "lagging":
            return self.chain[: max(len(self.chain) - self.lag, 1)]
        return self.chain

    def status(self) -> int:
        return self.claimed if self.claimed is not None else len(self.served()) - 1


@define
class SimNetwork:
    """Deterministic, discrete-event: links, partitions and per-peer pending faults."""

    variant: Variant = field(factory=Variant)
    peers: dict[str, SimPeer] = field(factory=dict)
    disconnected: set[str] = field(factory=set)
    partitioned: set[str] = field(factory=set)
    faults: dict[str, list[str | None]] = field(
        factory=dict
    )  # per response: drop | duplicate | reorder | corrupt | delay | None (none)
    time: float = 0.0
    latency: float = 0.05
    links: set[frozenset[str]] | None = None  # None: a full mesh; else the undirected links, ME included
    log: list[Request] = field(factory=list)  # every BlocksByRange request, in the order sent
    health: dict[str, PeerHealth] = field(factory=dict)  # the peers' standing, shared by every sync

    def reachable(self) -> list[str]:
        """Peers the node has a live direct link to (BlocksByRange is a direct request)."""
        return sorted(
            p
            for p in self.peers
            if p not in self.disconnected
            and p not in self.partitioned
            and (self.links is None or frozenset((ME, p)) in self.links)
        )

    def add(self, peer: SimPeer) -> None:
        """A new peer, linked to the node."""
        self.peers[peer.name] = peer
        if self.links is not None:
            self.links.add(frozenset((ME, peer.name)))

    def wire(self, topology: str, extra: Sequence[tuple[int, int]] = ()) -> None:
        """Relink the node and its peers (in name order, the node first) as a "mesh", a "ring",
        a "star" around the node, or a "random" graph: a ring plus the `extra` index pairs."""
        names = [ME, *sorted(self.peers)]
        pairs: set[tuple[int, int]] = set()
        if topology == "mesh":
            pairs = {(i, j) for i in range(len(names)) for j in range(i + 1, len(names))}
        elif topology == "star":
            pairs = {(0, j) for j in range(1, len(names))}
        elif topology in ("ring", "random"):
            pairs = {(i, (i + 1) % len(names)) for i in range(len(names))}
            if topology == "random":
                pairs |= {(a % len(names), b % len(names)) for a, b in extra}
        else:
            raise ValueError(f"unknown topology {topology!r}: mesh, ring, star or random")
        self.links = {frozenset((names[a], names[b])) for a, b in pairs if a != b}

    # --- what the suite does to the network (the interface's methods: JSON-able in and out) -------------
    def add_peer(
        self,
        name: str,
        chain: Sequence[bytes],
        behaviour: str = "honest",
        lag: int = 0,
        claimed: int | None = None,
    ) -> None:
        """A new peer serving a copy of `chain` (wire blocks by height), linked to the node."""
        self.add(SimPeer(name, [bytes(b) for b in chain], behaviour, lag, claimed))

    def grow(self, peer: str, blocks: Sequence[bytes]) -> None:
        """The peer's chain grows by `blocks` (the heights after its last)."""
        p = self._peer(peer)
        p.chain = [*p.chain, *(bytes(b) for b in blocks)]

    def remove_peer(self, peer: str) -> None:
        self._peer(peer)
        del self.peers[peer]

    def peer_names(self) -> list[str]:
        return sorted(self.peers)

    def _peer(self, peer: str) -> SimPeer:
        if peer not in self.peers:
            raise ValueError(f"no peer named {peer!r}")
        return self.peers[peer]

    def queue_faults(self, peer: str, faults: Sequence[str | None]) -> None:
        """The peer's next responses meet these faults, in order, after those already queued."""
        for fault in faults:
            if fault is not None and fault not in FAULTS:
                raise ValueError(f"unknown network fault {fault!r}: one of {', '.join(FAULTS)}")
        self.faults.setdefault(peer, []).extend(faults)

    def clear_faults(self) -> None:
        for pending in self.faults.values():
            pending.clear()

    def disconnect(self, peer: str) -> None:
        self.disconnected.add(peer)

    def partition(self, peer: str) -> None:
        self.partitioned.add(peer)

    def heal(self) -> None:
        """Every peer reconnected and back on the node's side of every partition."""
        self.disconnected.clear()
        self.partitioned.clear()

    def set_latency(self, seconds: float) -> None:
        self.latency = float(seconds)

    def advance(self, seconds: float) -> None:
        """Simulated time moves on."""
        self.time += float(seconds)

    def requests(self, since: int = 0) -> list[Request]:
        """The BlocksByRange requests from number `since` on (0: all), in the order sent."""
        return self.log[since:]

    def status(self, peer: str) -> int:
        if peer not in self.reachable():
            raise PeerUnreachable(peer)
        return self.peers[peer].status()

    def blocks_by_range(self, peer: str, start: int, count: int) -> list[bytes]:
        sent = self.time
        try:
            blocks = self._exchange(peer, start, count)
        except PeerUnreachable as e:
            self.log.append(
                Request(
                    sent,
                    peer,
                    start,
                    count,
                    self.time,
                    "timed out" if isinstance(e, RequestTimedOut) else "unreachable",
                )
            )
            raise
        self.log.append(Request(sent, peer, start, count, self.time, "answered", tuple(blocks)))
        return blocks

    def _exchange(self, peer: str, start: int, count: int) -> list[bytes]:
        if peer not in self.reachable():
            raise PeerUnreachable(f"{peer} is not reachable")
        p = self.peers[peer]
        fault = self.faults.get(peer, []).pop(0) if self.faults.get(peer) else None
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown network fault {fault!r}: one of {', '.join(FAULTS)}")
        elapsed = self.latency + (DELAY if fault == "delay" else 0.0)
        late = elapsed > REQUEST_TIMEOUT
        if self.variant.on("sync-timeout-inclusive"):  # pragma: no mutate block
            late = elapsed >= REQUEST_TIMEOUT
        if fault == "drop" or late:  # the response never arrives in time
            self.time += REQUEST_TIMEOUT
            raise RequestTimedOut(f"request to {peer} timed out")
        self.time += elapsed
        if p.behaviour == "withholding":
            return []
        blocks = serve_blocks_by_range(p.served(), start, count, self.variant)
        if fault == "duplicate" and blocks:
            blocks = blocks[:1] + blocks
        if fault == "reorder" and len(blocks) >= 2:
            blocks[0], blocks[1] = blocks[1], blocks[0]
        if fault == "corrupt" and blocks:
            raw = bytearray(blocks[0])
            raw[len(raw) // 2] ^= 0xFF
            blocks[0] = bytes(raw)
        return blocks


@define
class PeerHealth:
    failures: int = 0  # consecutive, since the last good answer or the breaker's last opening
    backoff_until: float = 0.0
    breaker_until: float = 0.0


class SyncEngine:
    """Imports blocks from peers through `node` (the chain's validation) and persists them."""

    def __init__(
        self,
        node: Any,
        chain: Any,
        network: SimNetwork,
        store: Store,
        variant: Variant,
        batch: int = MAX_REQUEST_BLOCKS,
    ) -> None:
        self.node, self.chain, self.network, self.store, self.v = node, chain, network, store, variant
        if not 1 <= batch <= MAX_REQUEST_BLOCKS:
            raise ValueError(
                f"batch must be 1..{MAX_REQUEST_BLOCKS} blocks (MAX_REQUEST_BLOCKS), got {batch}"
            )
        self.batch = batch
        # One peer manager per node: every sync through this network sees the same standing.
        self.health: dict[str, PeerHealth] = network.health
        if variant.on("sync-health-per-engine"):  # pragma: no mutate block
            self.health = {}
        self.turn = 0
        self.acknowledged = 0  # the highest height the store confirmed
        self.short: set[str] = set()  # peers that answered short in this sync
        self.failed: set[str] = set()  # peers that failed in this sync
        # (outcome, head height, finalized height) after each round of the last sync(): the suite
        # checks its invariants between the rounds of a full sync from this trace.
        self.rounds: list[tuple[str, int, int]] = []

    def standing(self, peer: str) -> PeerHealth | None:
        """The peer's standing as this engine judges it (None: never judged)."""
        return self.health.get(peer)

    def sync_rounds(self) -> list[tuple[str, int, int]]:
        """(outcome, head height, finalized height) after each round of the last `sync`."""
        return list(self.rounds)

    def _available(self) -> list[str]:
        """Reachable peers whose backoff has run out and whose circuit breaker is closed."""
        now, ignore_backoff = self.network.time, False
        if self.v.on("sync-retry-without-backoff"):  # pragma: no mutate block
            ignore_backoff = True

        def ready(peer: str) -> bool:
            h = self.health.setdefault(peer, PeerHealth())
            return (ignore_backoff or h.backoff_until <= now) and h.breaker_until <= now

        return [p for p in self.network.reachable() if ready(p)]

    def _fail(self, peer: str) -> None:
        """A failed request: back off 1 s, 2 s, 4 s ... (at most 30 s); the third failure in a row
        opens the peer's circuit breaker for 60 s and starts the count again (§5.1)."""
        self.failed.add(peer)
        h = self.health.setdefault(peer, PeerHealth())
        h.failures += 1
        h.backoff_until = self.network.time + min(2.0 ** (h.failures - 1), BACKOFF_CAP)
        opens = h.failures >= BREAKER_FAILURES
        if self.v.on("sync-breaker-never-opens"):  # pragma: no mutate block
            opens = False
        if opens:
            h.breaker_until = self.network.time + BREAKER_OPEN
            h.failures = 0

    def _succeed(self, peer: str) -> None:
        """A good answer: the peer's run of failures is over."""
        if self.v.on("sync-failures-never-reset"):  # pragma: no mutate block
            return
        self.health.setdefault(peer, PeerHealth()).failures = 0

    def _state(self) -> dict[str, Any]:
        return {
            "height": self.node.head_height,
            "head": self.node.head.hex(),
            "latest_pow": self.node.latest_pow.hex(),
        }

    def import_block(self, raw: bytes) -> None:
        """Validate and import one block, then persist it. If the store does not acknowledge it
        (a StoreError: an OSError), the node's head is put back and the error propagates."""
        signed = self.chain.decode_block(raw)
        before = self._pointers()
        self._process(signed)
        self._persist(signed, raw, before)

    def _process(self, signed: Any) -> None:
        if signed.message.parent_hash != self.node.head:
            raise NotTheNextBlock(
                f"block {signed.message.execution_payload.block_number} does not extend the head"
            )
        self.node.process_block(signed)

    def _pointers(self) -> tuple[int, bytes, bytes]:
        return self.node.head_height, self.node.head, self.node.latest_pow

    def _persist(self, signed: Any, raw: bytes, before: tuple[int, bytes, bytes]) -> None:
        """Store the block the node just imported; the head counts only once the store acknowledged it."""
        try:
            self._store(raw)
        except Exception:
            if self.v.on("sync-head-moves-before-store"):  # pragma: no mutate block
                raise
            self._undo(signed, before)
            raise

    def _undo(self, signed: Any, before: tuple[int, bytes, bytes]) -> None:
        """The store refused the block: the node's head and latest-PoW pointer go back to where they
        were (rollback_head, restore_pointer), and the peg-ins it minted are unminted, so the same
        block imports again once the store recovers."""
        height, head, latest_pow = before
        self.node.rollback_head(height)
        self.node.restore_pointer(latest_pow)
        wallet = getattr(self.node, "wallet", None)
        if wallet is not None:
            wallet.difference_update(txid for txid, _ in signed.message.pegins)
        if self.node.head != head:
            raise StoreCorrupt(
                f"the store refused block {height + 1} and the node's head could not be put back to {height}"
            )

    def _store(self, raw: bytes) -> None:
        self.store.put_block(
            self.node.head_height, self.node.head, raw, self._state(), int(self.network.time)
        )
        self.acknowledged = self.node.head_height

    def _start(self) -> int:
        """Where the next batch starts: head + 1."""
        step = 1
        if self.v.on("sync-batch-start-off-by-one"):  # pragma: no mutate block
            step = 2
        return self.node.head_height + step

    def _reject(self, peer: str, head_at_start: int) -> str:
        """A bad block from `peer`: count the failure; as coded, also roll back (§5.1)."""
        self._fail(peer)
        if self.v.on("sync-error-rolls-back") and head_at_start > 0:
            # chain.rs: rollback_head(head - 1) with the head captured at the batch start; rollback_head
            # moves the latest-PoW pointer back too, so finalization goes with it.
            self.node.rollback_head(head_at_start - 1)
            self.store.truncate_above(self.node.head_height)
            self.acknowledged = min(self.acknowledged, self.node.head_height)
        return "failed"

    def round(self) -> str:
        """One request to the next available peer: "synced", "progress", "failed" or "idle"."""
        peers = self._available()
        if not peers:
            return "idle"
        peer = peers[self.turn % len(peers)]
        self.turn += 1
        head = self.node.head_height
        if self.v.on("sync-trusts-claimed-height"):  # pragma: no mutate block
            try:
                if self.network.status(peer) <= head:
                    return "synced"  # believes whatever the peer says
            except PeerUnreachable:
                pass
        try:
            blocks = self.network.blocks_by_range(peer, self._start(), self.batch)
        except PeerUnreachable:
            self._fail(peer)
            return "failed"
        imported = 0
        for raw in blocks:
            try:
                signed = self.chain.decode_block(raw)
                if self.node.holds(signed) and not self.v.on("sync-error-rolls-back"):
                    continue  # a block we already hold (a duplicated message): harmless
                before = self._pointers()
                self._process(signed)
            except Exception:  # noqa: BLE001 - an undecodable or invalid block from this peer
                return self._reject(peer, head)
            try:
                self._persist(signed, raw, before)
            except Exception:
                self._succeed(peer)  # a StoreError ends the round, and it is not the peer's fault
                raise
            imported += 1
        self._succeed(peer)
        if len(blocks) < self.batch:
            self.short.add(peer)
            if set(self.network.reachable()) - self.failed <= self.short:
                return "synced"
        else:
            self.short.clear()
        return "progress" if imported else "failed"

    def sync(self, max_rounds: int = 10_000) -> str:
        """Rounds until synced (every reachable peer answered short), waiting out backoffs."""
        self.short, self.failed = (
            set(),
            set(),
        )  # the rotation carries on across syncs: "each known peer in turn"
        self.rounds = []
        for _ in range(max_rounds):
            outcome = self.round()
            self.rounds.append((outcome, self.node.head_height, self.node.finalized_height))
            if outcome == "synced":
                return "synced"
            if outcome == "idle":
                waits = [
                    max(h.backoff_until, h.breaker_until)
                    for p, h in self.health.items()
                    if p in self.network.reachable()
                ]
                if not self.network.reachable():
                    return "stalled"
                self.network.time = max(self.network.time, min(waits) if waits else self.network.time) + 0.001
        return "stalled"

    def sync_parallel(self, peers: Sequence[str], target: int) -> int:
        """Download heights head+1..target from several peers at once (disjoint ranges of at most
        one batch, dealt round-robin, all in flight together), then import them in order."""
        head, first = self.node.head_height, self._start()
        available = set(self._available())  # the retry policy holds for every request (§5.1)
        if self.v.on("sync-parallel-ignores-backoff"):  # pragma: no mutate block
            available = set(peers)
        peers = [p for p in peers if p in available]
        if not peers or target < first:
            return 0
        size = min(self.batch, -(-(target - first + 1) // len(peers)))
        t0, finished = self.network.time, self.network.time
        fetched: dict[int, bytes] = {}
        served_by: dict[int, str] = {}
        for i, start in enumerate(range(first, target + 1, size)):
            peer = peers[i % len(peers)]
            self.network.time = t0  # requests go out together; the slowest answer sets the clock
            try:
                for offset, raw in enumerate(
                    self.network.blocks_by_range(peer, start, min(size, target - start + 1))
                ):
                    fetched[start + offset] = raw
                    served_by[start + offset] = peer
            except PeerUnreachable:
                self._fail(peer)
            finished = max(finished, self.network.time)
        self.network.time = finished
        imported = 0
        for height in range(head + 1, target + 1):
            if height not in fetched:
                break
            try:
                self.import_block(fetched[height])
                imported += 1
            except DiskError:
                raise
            except StoreError:
                if self.v.on("sync-parallel-swallows-store-errors"):  # pragma: no mutate block
                    break
                raise  # the store's failure, not the block's: fatal to the round
            except Exception:  # noqa: BLE001 - stop at the first bad block; sync() finishes the rest
                if self.v.on("sync-parallel-bad-block-uncharged"):  # pragma: no mutate block
                    break
                self._fail(served_by[height])  # the peer that served it, as a round would
                break
        return imported


def recover(
    store: Store, chain: Any, spec: Any, genesis: Any, bitcoin: Any, *, validator: bool = True
) -> Any:
    """A fresh node after a crash. The store checks that every acknowledged row is there and
    matches its digest (else LostAcknowledged / CorruptBlock); blocks up to the newest checkpoint
    that verifies (and whose block is stored) are trusted, its recorded pointers restored; later
    blocks are validated again. Each row must decode to the block its hash names. A row above the
    acknowledged height that fails (a torn write) is cut off with everything after it; an
    acknowledged row that fails is a CorruptBlock, and nothing is deleted."""
    if store.variant.on("store-recovery-deletes-acknowledged"):  # pragma: no mutate block
        return _recover_cutting_back(store, chain, spec, genesis, bitcoin, validator=validator)
    node = chain.node(spec, genesis, bitcoin, validator=validator)
    store.check()
    store.prune()  # a crash between a checkpoint and its pruning leaves one too many
    checkpoint = store.newest_valid_checkpoint()
    trusted = checkpoint.height if checkpoint is not None else 0
    restored = checkpoint is None
    verify_hash = True
    if store.variant.on("store-rows-unverified"):  # pragma: no mutate block
        verify_hash = False
    for height, block_hash, raw in store.blocks_from(1):
        if (
            height != node.head_height + 1
        ):  # a gap: check() vouches there is none up to the acknowledged height
            store.discard_unacknowledged_above(node.head_height)
            break
        if (
            height > trusted and not restored
        ):  # the checkpoint's pointers hold at its height, before what follows
            _restore(node, checkpoint)
            restored = True
        try:
            if not store.row_verifies(height, block_hash, raw):
                raise CorruptBlock(height, "does not match its digest")
            signed = chain.decode_block(raw)
            if height <= trusted:
                node.import_trusted(signed)
            else:
                node.process_block(signed)
            if verify_hash and node.head != block_hash:
                raise CorruptBlock(height, "does not decode to the block its hash names")
        except Exception as err:  # a torn, rotted or invalid row
            if height <= store.acknowledged:
                if isinstance(err, StoreError):
                    raise
                raise CorruptBlock(height, f"no longer validates ({type(err).__name__}: {err})") from None
            store.discard_unacknowledged_above(height - 1)
            break
    if not restored and node.head_height >= trusted:
        _restore(node, checkpoint)
    store.acknowledge_up_to(node.head_height)
    return node


def _restore(node: Any, checkpoint: Any) -> None:
    try:
        node.restore_pointer(bytes.fromhex(checkpoint.state.get("latest_pow", "")))
    except ValueError as err:  # a verified checkpoint naming a block the store does not hold
        raise StoreCorrupt(f"checkpoint {checkpoint.height} cannot be restored: {err}") from None


def _recover_cutting_back(  # the seeded mutant's code: no shipped target runs it
    store: Store, chain: Any, spec: Any, genesis: Any, bitcoin: Any, *, validator: bool = True
) -> Any:  # pragma: no mutate block
    """Recovery before issue 14 (mutant `store-recovery-deletes-acknowledged`): rows are not
    checked, and the store is cut back to the last block that validates, acknowledged or not."""
    node = chain.node(spec, genesis, bitcoin, validator=validator)
    store.prune()
    checkpoint = store.newest_valid_checkpoint()
    trusted = checkpoint.height if checkpoint is not None else 0
    restored = checkpoint is None
    for height, _, raw in store.blocks_from(1):
        try:
            signed = chain.decode_block(bytes(raw))
            if height <= trusted:
                node.import_trusted(signed)
            else:
                if not restored and checkpoint is not None:  # (not restored: there is a checkpoint)
                    node.restore_pointer(bytes.fromhex(checkpoint.state.get("latest_pow", "")))
                    restored = True
                node.process_block(signed)
        except Exception:  # noqa: BLE001 - a torn or invalid stored block ends the replay
            store.truncate_above(node.head_height)
            break
    if not restored and checkpoint is not None and node.head_height >= trusted:
        node.restore_pointer(bytes.fromhex(checkpoint.state.get("latest_pow", "")))
    return node
