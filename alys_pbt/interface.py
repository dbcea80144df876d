"""The target interface: what an implementation offers for the properties to drive it.

A target is any object with `name: str`, `quirks` (a set of ids of the known deviations it carries:
ours, from alys_pbt.deviations, or its own), and one attribute per component it offers (`auxpow`,
`chain`, `approvals`, `actors`, `sync`, `governance`). It may offer any subset of the components; a
component it offers must have every method not marked optional, or the target is refused naming each
one missing.
Optionally a target has `deviations` (its own registry of known deviations, alys_pbt/foreign.py),
and a component has `capabilities` (what it supports; strategies draw nothing else, see
`CAPABILITIES`). A property or machine needing a component or optional method the target lacks is
skipped with a reason naming the missing part, and the run lists what was not covered.

Rejections are exceptions whose *class name* is the error's name; each method lists the names it
may raise (`Method.errors`, defined with `@op`). Any other exception out of a component method is a
crash of the target: the suite raises `TargetCrash` naming the method and what it raised.
Data cross the interface as consensus bytes, except where a method says it takes a model object
from `models/` (the references define those types; nothing here comes from `alys/`).

`python -m alys_pbt.interface docs` writes docs/target-interface.md from this module
(`--check` exits 1 if it is stale).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from attrs import define, field, frozen

from alys_pbt.models import approvals as approvals_ref
from alys_pbt.models import auxpow as auxpow_ref
from alys_pbt.models import bitcoin as bitcoin_ref
from alys_pbt.models import blocks as blocks_ref
from alys_pbt.models import chain as chain_ref
from alys_pbt.models import evm as evm_ref
from alys_pbt.models.approvals import AggregateApproval, IndividualApproval
from alys_pbt.models.auxpow import LAYOUTS, ROOT_ORDERS, AuxPowHeader, PowContext
from alys_pbt.models.retarget import RetargetParams
from alys_pbt.verdict import TargetCrash

DOCS = Path(__file__).resolve().parent.parent / "docs" / "target-interface.md"

# --- Errors, as data ---------------------------------------------------------------------------------


def _meaning(cls: type) -> str:
    return " ".join((cls.__doc__ or "").split())


def _refs(*classes: type) -> dict[str, str]:
    """The references' error classes, by name, each meaning its docstring."""
    return {cls.__name__: _meaning(cls) for cls in classes}


_AUXPOW_RULES = auxpow_ref.AuxPowError.__subclasses__()
NODE_PANIC = {
    "NodePanic": "the node aborts (a Rust panic under panic = abort): never a correct answer, but a "
    "named one, so a known deviation can register it as its failure"
}
BITCOIN_DECODE = {"DecodeError": _meaning(bitcoin_ref.DecodeError)}
AUXPOW_CHECK = {**BITCOIN_DECODE, **_refs(*_AUXPOW_RULES)}
CHECK_POW = {
    **_refs(*auxpow_ref.PowRejected.__subclasses__()),
    **AUXPOW_CHECK,
    **NODE_PANIC,
}
BLOCK_DECODE = {"DecodeError": _meaning(blocks_ref.DecodeError)}
TX_SENDER = _refs(evm_ref.MalformedRlp, evm_ref.BadSignature)
FEDERATION_SIZE = {"TooManyAuthorities": _meaning(approvals_ref.TooManyAuthorities)}
INDIVIDUAL = {**_refs(approvals_ref.UnknownAuthority, approvals_ref.InvalidSignature), **FEDERATION_SIZE}
MAJORITY = {**_refs(approvals_ref.UnknownAuthority, approvals_ref.BadSignature), **FEDERATION_SIZE}
STORE = {
    "OSError": "a store failure, as a typed subclass whose name says what is wrong (a full disk, a "
    "torn write, a locked file, a checkpoint or block that rotted: e.g. StoreFull, StoreCorrupt); "
    "never sqlite3's own exception"
}
CHAIN_ERRORS = _refs(
    *[
        value
        for value in vars(chain_ref).values()
        if isinstance(value, type)
        and issubclass(value, chain_ref.ChainError)
        and value is not chain_ref.ChainError
    ]
)

F = TypeVar("F", bound=Callable[..., Any])


def op(*, errors: Mapping[str, str] | None = None, optional: bool = False) -> Callable[[F], F]:
    """Mark an interface method: the error names it may raise (name -> meaning), and whether a
    component may leave it out (the properties needing it are then skipped)."""

    def mark(fn: F) -> F:
        fn.__interface__ = (dict(errors or {}), optional)  # type: ignore[attr-defined]
        return fn

    return mark


# --- Types the suite passes that the interface defines (the target never imports them) ---------------


class Scheduler(Protocol):
    """The suite's scheduler, through which a target's actor system runs every task: the suite picks
    the interleaving (simulated time; no wall clock)."""

    def now(self) -> float: ...
    def call_soon(self, task: Callable[[], object]) -> None: ...
    def call_later(self, delay: float, task: Callable[[], object]) -> object: ...  # a handle, or None


class Behaviour:
    """An actor as a Python object (a subclass), for a target in this process that takes one: its
    runtime calls `started(ctx)` once it runs and `handle(message, ctx)` for each message, returning
    the answer to an ask; raising is a panic. `ctx` is the runtime's (`system`, `name`, `sender`).
    The properties and machines use `Role` (data) instead, which crosses any process boundary."""

    def started(self, ctx: Any) -> None:
        """Called when the actor starts (and after each restart)."""

    def handle(self, message: Any, ctx: Any) -> Any:
        """The answer to `message` (None for a tell)."""
        return None


class Priority(IntEnum):
    """A message's priority (crates/actor_system mailbox.rs): higher is served first."""

    BACKGROUND = 0
    LOW = 1
    NORMAL = 2
    HIGH = 3
    CRITICAL = 4
    EMERGENCY = 5


@define
class Envelope:
    """A message as it crosses into a mailbox: the mailbox stamps `queued_at` (its arrival counter)."""

    sender: str
    seq: int  # per-sender sequence number
    priority: int  # a Priority
    payload: Any = None
    queued_at: int = 0


Message = Envelope  # the name the docs use


# Restart strategies and the supervision policy (crates/actor_system supervisor.rs), as plain data:
# a target reads them by class name and attribute (as models/actors.py restart_delay does).
@frozen
class Never:
    """Never restart: the failure escalates."""


@frozen
class Immediate:
    """Restart at once."""


@frozen
class Delayed:
    """Restart after `delay` seconds."""

    delay: float


@frozen
class ExponentialBackoff:
    """Restart after initial * multiplier^attempt seconds, capped at `maximum`."""

    initial: float = 0.1
    maximum: float = 30.0
    multiplier: float = 2.0


@frozen
class Progressive:
    """Restart after initial * multiplier^attempt seconds, for `max_attempts` attempts, then give up."""

    initial: float
    max_attempts: int
    multiplier: float


RestartStrategy = Never | Immediate | Delayed | ExponentialBackoff | Progressive


@frozen
class SupervisionPolicy:
    """How a supervisor treats a failing child: its restart strategy, at most `max_restarts` restarts
    within `window` seconds, then "escalate" (to its parent) or "stop"."""

    strategy: RestartStrategy = field(factory=ExponentialBackoff)
    max_restarts: int = 5
    window: float = 60.0
    escalation: str = "escalate"


@frozen
class Role:
    """What an actor does, as data (a target implements it; no suite code runs inside the target).

    Every start and every message is recorded (`system.received(name)`, as `Received` records).
    On a message the actor: panics (an error named RuntimeError, text "panic") if the message is
    one of `panics_on`; takes `message[takes_item]` seconds of simulated time (a list message) if
    `takes_item` is set; tells the sender `answer` if the message equals `on` for a pair of
    `answers_sender` and the sender is an actor; and answers an ask with `reply`: "none" (null),
    "echo" (the message itself) or "count" (how many messages it has handled, this one included,
    across restarts)."""

    reply: str = "none"
    panics_on: tuple[Any, ...] = ()
    takes_item: int | None = None
    answers_sender: tuple[tuple[Any, Any], ...] = ()


@frozen
class Received:
    """One entry of an actor's log: `hook` "started" (sender: the actor itself, message None) or
    "handle"; its lifecycle state's name when the hook ran; the simulated time; and how many of its
    messages were in flight (taken by a slow handler, not yet finished) at that moment."""

    hook: str
    sender: str
    message: Any
    state: str
    at: float
    in_flight: int


@frozen
class Task:
    """A task for the runtime's own scheduler (`actors.scheduler()`), as data: when it runs the
    scheduler records `id` (its `ran`), then schedules `then` = (how "soon" | "later", delay, the
    follow-up's id) if set, or runs again soon `repeat` more times."""

    id: int
    then: tuple[str, float, int] | None = None
    repeat: int = 0


ACTOR_TYPES: tuple[type, ...] = (
    Role,
    Received,
    Task,
    Behaviour,
    Envelope,
    Priority,
    Never,
    Immediate,
    Delayed,
    ExponentialBackoff,
    Progressive,
    SupervisionPolicy,
)


# --- The components ----------------------------------------------------------------------------------


class AuxPowComponent(Protocol):
    """Bitcoin decoding, compact bits, PoW and AuxPow::check (app/src/auxpow.rs)."""

    @op(errors=BITCOIN_DECODE)
    def decode_transaction(self, data: bytes) -> Any:
        """A transaction from its consensus bytes (segwit included): an object the other methods take."""

    @op(errors={"OverflowError": "a count or length too large for a CompactSize"}, optional=True)
    def encode_transaction(self, tx: Any) -> bytes:
        """The consensus bytes of a transaction decode_transaction returned."""

    @op()
    def txid(self, tx: Any) -> bytes:
        """sha256d of the transaction without witness, internal byte order."""

    @op(errors=BITCOIN_DECODE)
    def decode_header(self, data: bytes) -> Any:
        """An 80-byte Bitcoin block header."""

    @op(optional=True)
    def encode_header(self, header: Any) -> bytes:
        """The 80 bytes of a header decode_header returned."""

    @op()
    def header_hash(self, header: Any) -> bytes:
        """sha256d of the header, internal byte order."""

    @op(errors=BITCOIN_DECODE)
    def decode_auxpow(self, data: bytes) -> Any:
        """An AuxPoW (coinbase, parent hash, coinbase branch, chain branch, parent header)."""

    @op(errors={"OverflowError": "a count or length too large for a CompactSize"}, optional=True)
    def encode_auxpow(self, auxpow: Any) -> bytes:
        """The consensus bytes of an AuxPoW decode_auxpow returned."""

    @op()
    def merkle_root(self, txids: list[bytes]) -> bytes:
        """Bitcoin's merkle root of one or more txids (the odd one out paired with itself)."""

    @op()
    def target_from_compact(self, bits: int) -> int:
        """The 256-bit target that compact `bits` stand for, as rust-bitcoin decodes them."""

    @op()
    def compact_from_target(self, target: int) -> int:
        """GetCompact: the compact form of a target (rounding down)."""

    @op()
    def hash_meets_target(self, block_hash: bytes, bits: int) -> bool:
        """Whether the hash (internal byte order) is at or below the target `bits` stand for."""

    @op()
    def check_proof_of_work(self, header: bytes, bits: int) -> bool:
        """Whether an 80-byte header's hash meets `bits`."""

    @op()
    def expected_index(self, nonce: int, chain_id: int, h: int) -> int:
        """Namecoin's getExpectedIndex: the chain's slot in a merged-mining tree of height h."""

    @op(errors=AUXPOW_CHECK)
    def check(
        self,
        auxpow: bytes,
        aux_hash: bytes,
        chain_id: int,
        layout: str = "output-script",
        root_order: str = "internal",
    ) -> None:
        """AuxPow::check: accept the proof for `aux_hash` and `chain_id`, or raise why not. `layout`:
        where the merged-mining header sits, "output-script" (the whole scriptPubKey of output 2, else
        3: the node's production parser) or "script-sig" (in the coinbase scriptSig, once); `root_order`:
        the chain root's byte order in the header, "internal" (Alys) or "reversed" (Namecoin); the
        suite passes only what the component's capabilities declare."""


class ChainComponent(Protocol):
    """Finalization by AuxPoW and retargeting (app/src/chain.rs, app/src/auxpow_miner.rs), the node's
    process_block, and block and transaction decoding."""

    @op()
    def aggregate_hash(self, block_hashes: list[bytes]) -> bytes:
        """What a miner commits to: sha256d over the range's block hashes, oldest first."""

    @op(errors=CHECK_POW)
    def check_pow(self, header: AuxPowHeader, ctx: PowContext) -> None:
        """Accept an AuxPowHeader as finalizing its range under `ctx`, or raise why not. Both are
        models.auxpow objects: `header.auxpow` is a models.auxpow.AuxPow (`to_bytes()` its consensus
        bytes, `parent_block.to_bytes()` the parent header's). Judge the proof with the target's own
        AuxPoW code, never another implementation's private objects."""

    @op(errors=NODE_PANIC)
    def get_next_work_required(
        self, last_pow_height: int, last_bits: int, params: RetargetParams, head_height: int
    ) -> int:
        """The bits the next AuxPoW must meet (auxpow_miner.rs get_next_work_required)."""

    @op(errors=NODE_PANIC)
    def calculate_next_work_required(self, diff: int, last_bits: int, params: RetargetParams) -> int:
        """Retargeting for a gap of `diff` blocks (auxpow_miner.rs calculate_next_work_required)."""

    @op()
    def node(self, spec: Any, genesis: Any, bitcoin: Any, *, validator: bool = True) -> Any:
        """A node over a genesis block: process_block(SignedConsensusBlock) (all or nothing: when it
        raises, head, finalization, stored, by_height and latest_pow are as before; its errors are
        those of models/chain.py, listed under "Errors of the objects"), rollback(height), restart(),
        head, head_height, finalized_height, stored (block hashes). Blocks arrive as model objects from
        models/ or as what decode_block returned: read them by attribute only, and compute roots, fees
        and decodings with the target's own code. For sync: by_height (height -> block hash),
        latest_pow, holds(signed), rollback_head(height), import_trusted(signed) and
        restore_pointer(latest_pow)."""

    @op(errors=BLOCK_DECODE)
    def decode_block(self, data: bytes) -> Any:
        """The target's own decoding of the wire form: any object with the attributes of a
        models.blocks.SignedConsensusBlock; only the one canonical form of a block decodes
        (lowercase hex, canonical decimals, minimal MessagePack)."""

    @op(errors=TX_SENDER)
    def transaction_sender(self, raw: bytes) -> bytes:
        """The 20-byte sender an EVM transaction's signature recovers to."""


class CandidateCacheLike(Protocol):
    """The block candidate cache: blocks and approvals in, accepted block hashes out."""

    accepted: list[bytes]  # signing roots of the blocks imported, in order
    accepted_approvals: list[tuple[list[bool], bytes | None]]  # (15 bits, aggregate) each was accepted with

    def insert_block(self, block_hash: bytes, height: int, slot: int) -> None: ...
    def add_approval(self, block_hash: bytes, approval: IndividualApproval) -> None: ...  # may raise


class ApprovalsComponent(Protocol):
    """Federation approvals (app/src/signatures.rs, block_candidate/*). Messages are signing roots."""

    @op()
    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        """The node's BLS Verify (IETF POP suite); False, never an exception, on undecodable input."""

    @op()
    def fast_aggregate_verify(self, pks: list[bytes], message: bytes, signature: bytes) -> bool:
        """The node's BLS FastAggregateVerify; False on undecodable input."""

    @op()
    def required_approvals(self, n: int) -> int:
        """How many of n authorities must approve: ceil(2n/3)."""

    @op(errors=INDIVIDUAL)
    def check_individual(
        self, approval: IndividualApproval, authorities: list[bytes], message: bytes
    ) -> None:
        """Accept one authority's approval (a models.approvals.IndividualApproval), or raise why not."""

    @op(errors=MAJORITY)
    def majority_approved(
        self, approval: AggregateApproval, authorities: list[bytes], message: bytes
    ) -> bool:
        """Whether an aggregate (a models.approvals.AggregateApproval) carries a majority: False for
        "not yet"; under the secure rule a federation of more than 15 is refused (the 15-bit list)."""

    @op(errors=FEDERATION_SIZE)
    def candidate_cache(self, authorities: list[bytes]) -> CandidateCacheLike:
        """An empty candidate cache for this federation (see CandidateCacheLike)."""


class ActorsComponent(Protocol):
    """The V2 actor runtime (crates/actor_system). Actors are `Role`s (data: no suite code runs in
    the target); every task runs through the suite's `Scheduler`, so the suite chooses the
    interleaving. Messages are JSON values (numbers, strings, lists, objects, null).

    system(): `spawn(name, role, *, capacity=1000, policy="reject", supervision=None, parent=None,
    depends_on=(), max_bytes=None, processing_timeout=30.0)` (depends_on may name actors spawned
    later, so cycles can be built), `tell(to, message, *, sender="outside", priority=2, size=0)` ->
    "accepted" | "rejected" | "blocked" | "dropped", `ask(to, message, *, timeout, sender, priority,
    size)` -> a reply (`done`, `value`, `error`: an exception named for the refusal), `broadcast(
    message, *, sender, priority)` -> {name: verdict}, `route(hops, message, *, sender, size)`,
    `fail(name)` (an injected panic), `lookup(name)` -> the actor as it is now (`state.name`, the
    lifecycle's upper-case name; `restarts`, `cascades`, `escalations`, `history` ((time, event)
    pairs), `processed`, `failed`, `in_flight`, `unhandled` (Envelopes; an ask's or a route's
    `payload` is the message itself or an object whose `payload` is), `scheduled`, `depends_on`,
    `mailbox` (`len()`, `capacity`, `held_bytes`, `queued` in delivery order, `waiting`)),
    `received(name)` (its `Received` log), `escalated` (failures escalated past the top of a tree),
    `dead_letters` (each with `to`, `payload`, `verdict`, `by`), `shutdown()` -> the stop order."""

    @op(errors={"ValueError": "an unknown overflow policy or a capacity below 1"})
    def mailbox(self, capacity: int, policy: str) -> Any:
        """A mailbox ("reject" | "drop-lowest" | "block" when full): send(message) -> verdict, pop(),
        backpressure(); messages are `Envelope` objects."""

    @op()
    def system(self, scheduler: Scheduler) -> Any:
        """An actor system running every task through `scheduler` (see the component's description)."""

    @op()
    def restart_delay(self, strategy: RestartStrategy, attempt: int) -> float | None:
        """The delay before restart number `attempt` (0-based) under a restart strategy (None: it
        gives up)."""

    @op(optional=True)
    def scheduler(self) -> Any:
        """The runtime's own deterministic scheduler, for the properties of the scheduler itself
        (its runaway guard): `call_soon(task)`, `call_later(delay, task)` (`Task` data), `step(index)`,
        `advance(dt)`, `run_until_idle(limit)`, `now()`, `next_timer()`, `ready` (ids), `ran` (ids
        in the order they ran)."""


@frozen
class SyncRequest:
    """One BlocksByRange request as the simulated wire saw it (`network.requests()`): when it went
    out, to whom, for what, when and how it ended ("answered" | "timed out" | "unreachable"), and
    the blocks that came back."""

    sent: float
    peer: str
    start: int
    count: int
    ended: float
    outcome: str
    blocks: tuple[bytes, ...] = ()


@frozen
class CheckpointRecord:
    """A stored checkpoint (`store.checkpoints()`): its height, its state (the JSON object it
    records: height, head, latest_pow; None if what is stored is not an object) and whether its
    integrity hash verifies."""

    height: int
    state: dict[str, Any] | None
    verified: bool


@frozen
class PeerStanding:
    """A peer's standing with the engine (§5.1 retry policy): consecutive failures, and the
    simulated times its backoff and its circuit breaker run until."""

    failures: int
    backoff_until: float
    breaker_until: float


class SyncComponent(Protocol):
    """Sync and checkpoints (app/src/chain.rs sync/get_blocks, v2 checkpoints): a simulated
    network, a SQLite store with checkpoints and disk faults, the engine, crash recovery.

    Everything the suite does to these objects and reads from them is a method taking and giving
    JSON-able values (bytes, numbers, strings, lists, the records above), so the component crosses
    the target protocol as it is (docs/protocol.md: `network.*`, `store.*`, `engine.*` handles).

    network(): a deterministic, discrete-event network of peers and the node, in simulated time.
    `add_peer(name, chain, behaviour, lag, claimed)` (behaviour "honest" | "lagging" (serves `lag`
    blocks behind) | "fork" | "withholding" | "lying" (claims `claimed`)), `grow(peer, blocks)` (the
    peer's chain grows), `remove_peer(peer)`, `peer_names()`, `queue_faults(peer, faults)` (the
    peer's next responses meet these, in order: "drop" | "duplicate" | "reorder" | "corrupt" |
    "delay" | None for none), `clear_faults()`, `disconnect(peer)`, `partition(peer)`, `heal()`
    (every peer back), `set_latency(seconds)`, `advance(seconds)`, `time` (read-only),
    `reachable()`, `wire(topology, extra)` for a "mesh" | "ring" | "star" | "random" topology,
    `blocks_by_range(peer, start, count)` (the node's request), `requests(since)` (every
    BlocksByRange request from number `since` on, as SyncRequest records).
    store(): `set_fault(at_write, kind)` (write number `at_write` of this store fails: "io-error" |
    "torn"), `writes` (how many it made), `checkpoints()` (CheckpointRecord each), `stored_heights()`,
    `blocks_from(height, up_to=None)` ((height, hash, data) rows), `corrupt_checkpoint(height)`,
    `put_block(height, hash, data, state, now)`, `close()`, and the fault model's hooks
    `inject_fault(name)` and `clear_fault(name)` (name "disk-full": the next write needing a new page
    fails as on a full disk, a typed StoreFull, until cleared). A file store holds its file
    exclusively and keeps whatever else it needs beside it (`<path>-*`); `busy_timeout` is SQLite's,
    in seconds. The path of a file store is the suite's: the suite acts on the file itself (a crash's
    leftovers, bit rot, a lost tail, another connection's lock) while the store is closed or through
    SQLite's own locking, which works the same over `exec:` (the server runs on the suite's machine).
    Every store failure is a typed OSError; a row that rotted is reported when the store opens,
    as a CorruptBlock whose message begins "acknowledged block <height>:" (with its `height`).
    engine(): `round()` -> "synced" | "progress" | "failed" | "idle", `sync(max_rounds=)` ->
    "synced" | "stalled", `sync_rounds()` ((outcome, head height, finalized height) after each round
    of the last sync: the suite checks its invariants between the rounds from it),
    `sync_parallel(peers, target)`, `import_block(raw)` (a store failure is an OSError, and the
    node's head stays where the store is), `acknowledged` (the highest height the store confirmed),
    `batch`, and `standing(peer)` (a PeerStanding, or None for a peer never judged).
    """

    @op()
    def serve(self, blocks: list[bytes], start: int, count: int) -> list[bytes]:
        """BlocksByRange: the blocks a node holding `blocks` answers for (start, count)."""

    @op()
    def network(self) -> Any:
        """An empty simulated network (see the component's description)."""

    @op(errors=STORE)
    def store(
        self, *, interval: int, retention: int, path: str = ":memory:", busy_timeout: float = 5.0
    ) -> Any:
        """A block and checkpoint store (a checkpoint every `interval` blocks, `retention` kept)."""

    @op(errors={"ValueError": "a batch outside 1..1024 blocks"})
    def engine(self, node: Any, network: Any, store: Any, *, batch: int = 1024) -> Any:
        """A sync engine importing into `node` (a chain component's node) from `network`,
        persisting to `store`."""

    @op(errors=STORE)
    def recover(self, store: Any, spec: Any, genesis: Any, bitcoin: Any) -> Any:
        """A node rebuilt from a store after a crash (the last verified checkpoint, then the blocks)."""


class GovernanceComponent(Protocol):
    """The V2 governance StreamActor (app/src/actors/governance_stream/): the node's client of the
    bi-directional gRPC stream to the governance nodes (governance.proto). The suite plays the
    governance node (a gRPC server on loopback, alys_pbt/governance.py) and the target's actor is the
    client, running on the target's actor system on the suite's scheduler (simulated time; its
    clock is the only one the actor may read).

    stream(): `connect(endpoint)`, `send(connection, kind, request_id, **fields)` (kind
    "status_update" | "pegin_notification"; a kind or field not in the contract is a ValueError at
    once), `request_signatures(connection, request_id, requester, tx_hex, amounts)`: each a command
    told to the actor, returning the id of its reply, answered once the scheduler runs it;
    `outcome(reply)` is the answer (connect: the connection's id; send and request_signatures:
    "sent" | "buffered") or raises the refusal (errors below; Unanswered before the actor handled
    it); `pump()` hands the actor what the gRPC threads received (as messages; how many),
    `wait_event(timeout)` blocks (0 to 60 s of real time) until something did. What the suite reads
    is plain data (JSON's types): `connections()` (by id) and `connection(id)`, each a mapping with
    `id`, `endpoint`, `state` ("connecting" | "connected" | "backoff" | "gave-up" | "closed"),
    `generation` (one per stream), `buffer` (request ids waiting for a Connected stream, oldest
    first), `dropped` (ids the overflow policy dropped), `failures`, `attempts` (when each was made),
    `waits` ([failures, wait] after each loss), `out_sequence`, `in_sequence`, `heartbeat_sequence`,
    `heartbeat_acks`, `last_received`, `connected_at`, `detections` and `open` (it holds a channel);
    `pending()` (request ids awaiting an answer, oldest first); `backoff(failures)`; `close()`. Each
    stream opens with a NodeRegistration whose metadata.request_id is
    "register-<connection>-<generation>" and is Connected once acknowledged; metadata.sequence numbers
    each stream's requests from 1. It tells the requester actor ApplySignatures(request_id, status,
    witnesses, connection) or SignatureTimeout(request_id), and routes["federation"]
    FederationUpdateMessage(effective_height, members, connection, source_sequence); the suite reads
    them with the actors component's `received(name)` on actors spawned with a `Role` (over the
    protocol each is a JSON object naming its "type", witnesses as hex).
    """

    @op(errors={"TypeError": "an unknown configuration field"})
    def stream(
        self,
        system: Any,
        *,
        name: str = "governance-stream",
        routes: Mapping[str, str] | None = None,
        seed: int = 0,
        **config: Any,
    ) -> Any:
        """A StreamActor spawned in `system` (from the actors component), jitter seeded by `seed`;
        `config` overrides the coded parameters (max_connections, buffer_size, heartbeat_interval,
        heartbeat_timeout, monitor_interval, connect_timeout, initial_delay, max_delay, multiplier,
        max_attempts, jitter, request_timeout, sweep_interval)."""


COMPONENTS: dict[str, type] = {
    "auxpow": AuxPowComponent,
    "chain": ChainComponent,
    "approvals": ApprovalsComponent,
    "actors": ActorsComponent,
    "sync": SyncComponent,
    "governance": GovernanceComponent,
}


class Target(Protocol):
    """What the properties and machines drive: annotate `target: Target`. A target may lack any
    component; the properties needing one it lacks are skipped (see the module docstring)."""

    name: str
    quirks: AbstractSet[str]
    auxpow: AuxPowComponent
    chain: ChainComponent
    approvals: ApprovalsComponent
    actors: ActorsComponent
    sync: SyncComponent
    governance: GovernanceComponent


# Errors of the objects the factories return (documented; the properties compare these names).
OBJECT_ERRORS: dict[str, dict[str, str]] = {
    "chain.node(...).process_block": {**CHAIN_ERRORS, **NODE_PANIC},
    "approvals.candidate_cache(...).add_approval": {
        **_refs(approvals_ref.UnknownAuthority, approvals_ref.InvalidSignature)
    },
    "sync.store(...) methods, sync.engine(...).import_block": STORE,
    "actors.mailbox(...).send": {"MailboxFull": "the mailbox is full and its policy is to refuse"},
    "actors.system(...).tell, ask and route": {
        "ActorNotFound": "no actor of that name is running",
        "AskTimeout": "no answer within the ask's timeout (simulated time), or the mailbox refused it",
        "MailboxFull": "the actor's mailbox is full and its policy is to refuse",
    },
    "governance.stream(...).outcome of connect, send and request_signatures": {
        "TooManyConnections": "max_connections connections are live already",
        "UnknownConnection": "no connection of that id",
        "GaveUp": "the connection gave up after max_attempts consecutive failures (or was closed)",
        "UnknownReply": "no command of that reply id was told to this stream",
        "Unanswered": "the actor has not handled the command yet (the scheduler has not run it)",
    },
    "governance.stream(...).send, connection and wait_event": {
        "ValueError": "a notification kind or field not in the contract, or a wait outside 0..60 s",
        "UnknownConnection": "no connection of that id (connection)",
    },
}


@frozen
class Method:
    """One method of a component: its signature, what it does, the errors it may raise, optional or not."""

    component: str
    name: str
    signature: str
    summary: str
    errors: Mapping[str, str]
    optional: bool

    @property
    def path(self) -> str:
        return f"{self.component}.{self.name}"


def _signature(fn: Callable[..., Any]) -> str:
    """`(name: type = default, ...) -> type` as written (the annotations are strings here)."""
    sig = inspect.signature(fn)
    params = [p.replace(annotation=_Text(p.annotation)) for p in list(sig.parameters.values())[1:]]
    return str(sig.replace(parameters=params, return_annotation=_Text(sig.return_annotation)))


class _Text(str):
    """An annotation string that prints without quotes."""

    def __repr__(self) -> str:
        return str(self)


def methods(component: str) -> list[Method]:
    """The methods of a component, in the order the interface declares them."""
    out = []
    for name, fn in vars(COMPONENTS[component]).items():
        meta = getattr(fn, "__interface__", None)
        if meta is None:
            continue
        errors, optional = meta
        signature = _signature(fn)
        out.append(Method(component, name, signature, _meaning(fn) if fn.__doc__ else "", errors, optional))
    return out


METHODS: dict[str, dict[str, Method]] = {c: {m.name: m for m in methods(c)} for c in COMPONENTS}


def required_methods(component: type) -> list[str]:
    """The names of the methods a component must offer (all but the optional ones)."""
    name = next(key for key, value in COMPONENTS.items() if value is component)
    return sorted(m.name for m in METHODS[name].values() if not m.optional)


def optional_methods(component: str) -> list[str]:
    return sorted(m.name for m in METHODS[component].values() if m.optional)


# --- Capabilities --------------------------------------------------------------------------------------


@frozen
class Capability:
    """Something a component declares it supports; the strategies draw only what it declares."""

    component: str
    name: str
    values: tuple[str, ...]  # every value the interface knows; the default is all of them
    meaning: str


CAPABILITIES: dict[str, dict[str, Capability]] = {
    "auxpow": {
        "layouts": Capability(
            "auxpow",
            "layouts",
            LAYOUTS,
            'where `check` finds the merged-mining header: "output-script" (the node\'s production '
            "parser) and/or \"script-sig\" (Namecoin's, the node's test-only parser)",
        ),
        "root_orders": Capability(
            "auxpow",
            "root_orders",
            ROOT_ORDERS,
            "the chain root's byte order in the merged-mining header that `check` expects: "
            '"internal" (Alys) and/or "reversed" (Namecoin\'s vchRootHash)',
        ),
    },
}


class TargetError(Exception):
    """A target that cannot be used: unknown, unimportable, or missing part of the interface."""


@frozen
class Coverage:
    """What a target offers: its components, the optional methods it lacks, its capabilities."""

    offered: tuple[str, ...]
    absent_methods: tuple[str, ...]  # "component.method", optional methods left out
    capabilities: Mapping[str, Mapping[str, tuple[str, ...]]]

    @property
    def absent_components(self) -> tuple[str, ...]:
        return tuple(c for c in COMPONENTS if c not in self.offered)

    def lacks(self, part: str) -> str | None:
        """The missing part `part` ("component" or "component.method") stands on, or None."""
        component, _, method = part.partition(".")
        if component not in self.offered:
            return f"{component} (the whole component)"
        if method and part in self.absent_methods:
            return part
        return None

    def supports(self, component: str, capability: str, value: str) -> bool:
        return value in self.capabilities.get(component, {}).get(capability, (value,))


def inspect_target(target: object, spec: str) -> Coverage:
    """What `target` offers, or TargetError naming every required part it lacks (a component it
    offers must have each method not marked optional) and every capability it declares wrongly."""
    missing = [attr for attr in ("name", "quirks") if not hasattr(target, attr)]
    offered: list[str] = []
    absent: list[str] = []
    problems: list[str] = []
    capabilities: dict[str, dict[str, tuple[str, ...]]] = {}
    for component in COMPONENTS:
        part = getattr(target, component, None)
        if part is None:
            continue
        offered.append(component)
        for method in METHODS[component].values():
            if callable(getattr(part, method.name, None)):
                continue
            if method.optional:
                absent.append(method.path)
            else:
                missing.append(method.path)
        capabilities[component] = _capabilities(component, part, problems)
    if not offered:
        raise TargetError(
            f"target {spec!r} offers none of the components {', '.join(COMPONENTS)} "
            "(see docs/target-interface.md)"
        )
    if missing:
        raise TargetError(f"target {spec!r} lacks: {', '.join(missing)} (see docs/target-interface.md)")
    if problems:
        raise TargetError(f"target {spec!r}: {'; '.join(problems)} (see docs/target-interface.md)")
    return Coverage(tuple(offered), tuple(absent), capabilities)


def _capabilities(component: str, part: object, problems: list[str]) -> dict[str, tuple[str, ...]]:
    known = CAPABILITIES.get(component, {})
    declared = getattr(part, "capabilities", None) or {}
    if not isinstance(declared, Mapping):
        problems.append(f"{component}.capabilities must be a mapping, got {type(declared).__name__}")
        return {name: c.values for name, c in known.items()}
    for name in declared:
        if name not in known:
            problems.append(
                f"{component}.capabilities names unknown {name!r} (known: {', '.join(known) or 'none'})"
            )
    out = {}
    for name, capability in known.items():
        values = declared.get(name, capability.values)
        values = (values,) if isinstance(values, str) else tuple(values)
        wrong = [v for v in values if v not in capability.values]
        if wrong or not values:
            problems.append(
                f"{component}.capabilities[{name!r}] must be a non-empty subset of "
                f"{capability.values}, got {values}"
            )
        out[name] = tuple(v for v in capability.values if v in values)
    return out


def validate(target: object, spec: str) -> None:
    """Raise TargetError naming every required part `target` lacks."""
    inspect_target(target, spec)


# --- The target as properties see it -------------------------------------------------------------------


Missing = pytest.skip.Exception  # what a property that reaches a part the target lacks is skipped with


def missing(target: str, part: str) -> BaseException:
    """The skip of a property that reached `part`, which the target lacks (`missing_part` names it)."""
    skip = Missing(f"target {target!r} lacks {part}", _use_item_location=True)
    skip.missing_part = part  # type: ignore[attr-defined]
    return skip


def listed(err: BaseException, errors: Mapping[str, str]) -> bool:
    """Whether `err` is one of the names a method may raise (its class or a base class, by name)."""
    return any(cls.__name__ in errors for cls in type(err).__mro__)


class ComponentView:
    """A component as properties reach it: optional methods it lacks are skipped, and an exception
    that is not one of a method's listed errors is a TargetCrash naming the method."""

    def __init__(self, target: str, name: str, part: object) -> None:
        self._target, self._name, self._part = target, name, part
        self._calls: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, attr: str) -> Any:
        method = METHODS[self._name].get(attr)
        if method is None:
            return getattr(self._part, attr)
        call = self._calls.get(attr)
        if call is None:
            fn = getattr(self._part, attr, None)
            if not callable(fn):
                raise missing(self._target, method.path)
            call = self._calls[attr] = _guarded(method, fn)
        return call

    def __repr__(self) -> str:
        return f"<{self._name} of target {self._target}>"


def _guarded(method: Method, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # a name not listed is a crash of the target
            if isinstance(err, TargetCrash) or listed(err, method.errors):
                raise
            raise TargetCrash(method.path, err, tuple(method.errors)) from err

    call.__name__ = call.__qualname__ = method.name
    call.__doc__ = method.summary
    return call


class AbsentComponent:
    """A component the target does not offer: any use of it skips the property."""

    def __init__(self, target: str, name: str) -> None:
        self._target, self._name = target, name

    def __getattr__(self, attr: str) -> Any:
        raise missing(self._target, f"{self._name} (the whole component)")

    def __bool__(self) -> bool:
        return False


class TargetView:
    """The target the properties and machines drive: its components as ComponentView, the ones it
    lacks as AbsentComponent; everything else is the target's own."""

    foreign: tuple[Any, ...] = ()  # the target's own deviations (alys_pbt/foreign.py), set on loading
    # Each a ComponentView, or an AbsentComponent whose every use skips the property.
    auxpow: AuxPowComponent
    chain: ChainComponent
    approvals: ApprovalsComponent
    actors: ActorsComponent
    sync: SyncComponent
    governance: GovernanceComponent

    def __init__(self, target: Any, coverage: Coverage) -> None:
        self.target = target
        self.coverage = coverage
        self.name: str = target.name
        self.quirks: AbstractSet[str] = target.quirks
        for component in COMPONENTS:
            view: object = (
                ComponentView(self.name, component, getattr(target, component))
                if component in coverage.offered
                else AbsentComponent(self.name, component)
            )
            setattr(self, component, view)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.target, attr)

    def __repr__(self) -> str:
        return f"<target {self.name}>"


def view(target: Any, spec: str | None = None) -> TargetView:
    """The view of a target (validated)."""
    if isinstance(target, TargetView):
        return target
    return TargetView(target, inspect_target(target, spec or str(getattr(target, "name", "?"))))


# --- docs/target-interface.md ---------------------------------------------------------------------------


def _errors_table(errors: Mapping[str, str]) -> Iterator[str]:
    if not errors:
        yield "Errors: none (any exception is a crash of the target)."
        return
    yield "| error | means |"
    yield "|---|---|"
    for name, meaning in errors.items():
        yield f"| `{name}` | {meaning.replace('|', '/')} |"


def docs() -> str:
    """docs/target-interface.md, generated from this module."""
    out = [
        "# The target interface",
        "",
        "<!-- generated by `python -m alys_pbt.interface docs` from alys_pbt/interface.py: do not edit -->",
        "",
        " ".join(line.strip() for line in (__doc__ or "").split("\n\n")[1].splitlines()),
        "",
        "A target's own `deviations` are records with `id`, `summary` and `breaks` (pytest node-id "
        "patterns, fnmatch), and optionally `requires`, `jointly`, `fails_with`, `source` and "
        "`component`; each is held as a strict expected failure (alys_pbt/foreign.py). "
        "`--target package.module:object` plugs a Python target in; `exec:` and `tcp:` reach a server "
        "of the same interface (docs/protocol.md).",
        "",
        "A component present but lacking a method not marked optional is refused, naming every missing "
        "method. An exception whose class name (or a base class's) is not among a method's errors is "
        "reported as `TargetCrash(method: what it raised)`.",
        "",
        "## Components",
        "",
        "| component | required methods | optional methods |",
        "|---|---|---|",
    ]
    for component in COMPONENTS:
        req = ", ".join(f"`{m}`" for m in required_methods(COMPONENTS[component]))
        opt = ", ".join(f"`{m}`" for m in optional_methods(component)) or "none"
        out.append(f"| `{component}` | {req} | {opt} |")
    for component, protocol in COMPONENTS.items():
        out += ["", f"## `{component}`", "", " ".join((protocol.__doc__ or "").split()), ""]
        caps = CAPABILITIES.get(component, {})
        if caps:
            out += [
                "Capabilities (`capabilities` on the component, a mapping; default: all values):",
                "",
            ]
            out += [
                f"- `{c.name}`: any of {', '.join(f'`{v}`' for v in c.values)}: {c.meaning}."
                for c in caps.values()
            ]
            out.append("")
        for method in METHODS[component].values():
            flag = " (optional)" if method.optional else ""
            out += [f"### `{component}.{method.name}{method.signature}`{flag}", "", method.summary, ""]
            out += [*_errors_table(method.errors), ""]
    out += ["## Errors of the objects the factories return", ""]
    for where, errors in OBJECT_ERRORS.items():
        out += [f"### `{where}`", "", *_errors_table(errors), ""]
    out += [
        "## Types the suite passes",
        "",
        "Defined by the interface (alys_pbt/interface.py) or the references (`alys_pbt.models`), never by "
        "an implementation:",
        "",
    ]
    for proto in (Scheduler, CandidateCacheLike, *ACTOR_TYPES):
        out.append(f"- `{proto.__name__}`: {' '.join((proto.__doc__ or '').split())}")
    out += [
        "- `AuxPowHeader`, `PowContext` (models/auxpow.py), `RetargetParams` (models/retarget.py), "
        "`IndividualApproval`, `AggregateApproval` (models/approvals.py), blocks (models/blocks.py).",
    ]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.interface")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("docs", help=f"write {DOCS.relative_to(DOCS.parent.parent)} from the interface")
    cmd.add_argument("--check", action="store_true", help="exit 1 if the file is not what it would be")
    cmd.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    text = docs()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run `python -m alys_pbt.interface docs`", file=sys.stderr)
            return 1
        print(f"{args.out} is current")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
