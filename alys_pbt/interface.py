"""The target interface: what an implementation must offer for the properties to drive it.

A target is any object with:

* `name: str`
* `quirks: frozenset[str]`: ids (from alys_pbt.deviations) of the known deviations it carries;
  the properties those quirks break then run as strict expected failures;
* one attribute per component below, offering that component's methods.

Plug one in with `--target package.module:object` (an object, or a zero-argument callable that
returns one). Rejections are exceptions whose *class name* is the error's name (`WrongIndex`,
`InvalidPow`, `DecodeError`, ...): the properties compare names, so a foreign implementation
defines its own classes. Any other exception is a crash. Protocol data cross the interface as
consensus bytes, except where a method says it takes a model object from `models/`.

Components: auxpow, chain, approvals, actors, sync. `majority_approved` answers False for "not yet" and raises BadSignature or UnknownAuthority;
under the secure rule, `majority_approved` and `candidate_cache` raise TooManyAuthorities for a
federation of more than 15 (the 15-bit approval list, signatures.rs; the node as coded takes it:
quirk approvals-authorities-beyond-bitlist). A target that lacks a method is refused with a TargetError naming every missing part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from alys_pbt.models.approvals import AggregateApproval, IndividualApproval
from alys_pbt.models.auxpow import AuxPowHeader, PowContext
from alys_pbt.models.retarget import RetargetParams


class AuxPowComponent(Protocol):
    """Bitcoin decoding, compact bits, PoW and AuxPow::check (app/src/auxpow.rs)."""

    def decode_transaction(self, data: bytes) -> Any: ...  # raises DecodeError on bad bytes
    def encode_transaction(self, tx: Any) -> bytes: ...  # of a decoded transaction
    def txid(self, tx: Any) -> bytes: ...  # internal byte order
    def decode_header(self, data: bytes) -> Any: ...  # an 80-byte header
    def encode_header(self, header: Any) -> bytes: ...
    def header_hash(self, header: Any) -> bytes: ...  # sha256d, internal byte order
    def decode_auxpow(self, data: bytes) -> Any: ...
    def encode_auxpow(self, auxpow: Any) -> bytes: ...
    def merkle_root(self, txids: list[bytes]) -> bytes: ...
    def target_from_compact(self, bits: int) -> int: ...
    def compact_from_target(self, target: int) -> int: ...
    def hash_meets_target(self, block_hash: bytes, bits: int) -> bool: ...
    def check_proof_of_work(self, header: bytes, bits: int) -> bool: ...
    def expected_index(self, nonce: int, chain_id: int, h: int) -> int: ...
    # `layout`: where the merged-mining header sits: "output-script" (the whole scriptPubKey of
    # output 2, else 3: the node's production CoinbaseVout parser) or "script-sig" (in the coinbase
    # scriptSig, once: its test-only CoinbaseVin parser); the old names "vout"/"vin" mean the same.
    # `root_order`: the chain root's byte order in the header, "internal" (Alys) or "reversed"
    # (Namecoin's vchRootHash); the properties pass it only when it is "reversed".
    def check(
        self,
        auxpow: bytes,
        aux_hash: bytes,
        chain_id: int,
        layout: str = "output-script",
        root_order: str = "internal",
    ) -> None: ...


class ChainComponent(Protocol):
    """Finalization by AuxPoW and retargeting (app/src/chain.rs, app/src/auxpow_miner.rs)."""

    def aggregate_hash(self, block_hashes: list[bytes]) -> bytes: ...
    def check_pow(self, header: AuxPowHeader, ctx: PowContext) -> None: ...  # model objects
    def get_next_work_required(
        self, last_pow_height: int, last_bits: int, params: RetargetParams, head_height: int
    ) -> int: ...
    def calculate_next_work_required(self, diff: int, last_bits: int, params: RetargetParams) -> int: ...
    # A node over a genesis block: process_block(SignedConsensusBlock), rollback(height), restart(),
    # head, head_height, finalized_height, stored (block hashes). Blocks arrive as model objects from
    # models/ or as what the target's own decode_block returned: read them by attribute only, and
    # compute roots, fees and decodings with the target's own code. process_block is all or nothing:
    # when it raises, head, finalization, stored, by_height and latest_pow are as before.
    # For sync: by_height (height -> block hash), latest_pow, holds(signed), rollback_head(height)
    # (the unguarded primitive), import_trusted(signed) and restore_pointer(latest_pow) for recovery.
    def node(self, spec: Any, genesis: Any, bitcoin: Any, *, validator: bool = True) -> Any: ...
    # The target's own decoding of the wire form: any object with the attributes of a
    # models.blocks.SignedConsensusBlock (signature: bits, signature), or DecodeError; only the one
    # canonical form of a block decodes (lowercase hex, canonical decimals, minimal MessagePack).
    def decode_block(self, data: bytes) -> Any: ...
    def transaction_sender(self, raw: bytes) -> bytes: ...  # or MalformedRlp / BadSignature


class CandidateCacheLike(Protocol):
    """The block candidate cache: blocks and approvals in, accepted block hashes out."""

    accepted: list[bytes]  # signing roots of the blocks imported, in order
    accepted_approvals: list[tuple[list[bool], bytes | None]]  # (15 bits, aggregate) each was accepted with

    def insert_block(self, block_hash: bytes, height: int, slot: int) -> None: ...
    def add_approval(self, block_hash: bytes, approval: IndividualApproval) -> None: ...  # may raise


class ApprovalsComponent(Protocol):
    """Federation approvals (app/src/signatures.rs, block_candidate/*). Messages are signing roots."""

    def verify(self, pk: bytes, message: bytes, signature: bytes) -> bool: ...  # the node's BLS
    def fast_aggregate_verify(self, pks: list[bytes], message: bytes, signature: bytes) -> bool: ...
    def required_approvals(self, n: int) -> int: ...
    def check_individual(
        self, approval: IndividualApproval, authorities: list[bytes], message: bytes
    ) -> None: ...
    def majority_approved(
        self, approval: AggregateApproval, authorities: list[bytes], message: bytes
    ) -> bool: ...
    def candidate_cache(self, authorities: list[bytes]) -> CandidateCacheLike: ...


class ActorsComponent(Protocol):
    """The V2 actor runtime (crates/actor_system). `system(scheduler)` must run every task through
    the given scheduler (alys.actors.scheduler's protocol: now, call_soon, call_later) so that the
    properties choose the interleaving; its actors are alys.actors.system.Behaviour objects."""

    def mailbox(
        self, capacity: int, policy: str
    ) -> Any: ...  # send(envelope) -> verdict, pop(), backpressure()
    def system(self, scheduler: Any) -> Any: ...  # spawn, tell, ask, broadcast, route, fail, lookup, shutdown
    def restart_delay(self, strategy: Any, attempt: int) -> float | None: ...


class SyncComponent(Protocol):
    """Sync and checkpoints (app/src/chain.rs sync/get_blocks, v2 checkpoints): a simulated
    network, a SQLite store with checkpoints and disk faults, the engine, crash recovery.

    network(): `peers` (name -> peer), the sets `disconnected` and `partitioned`, `faults` (name ->
    the faults its next responses meet, in order: "drop" | "duplicate" | "reorder" | "corrupt" | "delay" | None
    for none), simulated `time`, `reachable()`, `log` (every BlocksByRange request: sent, peer, start,
    count, ended, outcome "answered" | "timed out" | "unreachable", blocks),
    `add(peer)` and `wire(topology, extra)` for a "mesh" | "ring" | "star" | "random" topology.
    peer(): behaviour "honest" | "lagging" (lag blocks behind) | "fork" | "withholding" | "lying"
    (claims `claimed`). store(): `faults` (`at_write`, `kind` "io-error" | "torn", `writes`),
    `checkpoints()` (each with height, state, verifies()), `stored_heights()`,
    `blocks_from(height, up_to=None)` ((height, hash, data) rows), `corrupt_checkpoint(height)`,
    `put_block(height, hash, data, state, now)`, `close()`, and `db`, its sqlite3 connection (the
    fault model sets its page limit to fill the disk). A file store holds its file exclusively and
    keeps whatever else it needs beside it (`<path>-*`); `busy_timeout` is SQLite's, in seconds.
    Every store failure is a typed OSError (never sqlite3's own exception): a class that names what
    is wrong; a row that rotted is reported when the store opens, with its `height`.
    engine(): `round()`, `sync(max_rounds=)` -> "synced" | "stalled",
    `sync_parallel(peers, target)`, `import_block(raw)` (a store failure is an OSError, and the
    node's head stays where the store is), `acknowledged` (the highest height the store
    confirmed), and `observers`, callables that `sync` calls after every round.
    """

    def serve(self, blocks: list[bytes], start: int, count: int) -> list[bytes]: ...  # BlocksByRange
    def network(self) -> Any: ...
    def peer(
        self,
        name: str,
        chain: Sequence[bytes],
        behaviour: str = "honest",
        *,
        lag: int = 0,
        claimed: int | None = None,
    ) -> Any: ...
    def store(
        self, *, interval: int, retention: int, path: str = ":memory:", busy_timeout: float = 5.0
    ) -> Any: ...
    def engine(self, node: Any, network: Any, store: Any, *, batch: int = 1024) -> Any: ...
    def recover(self, store: Any, spec: Any, genesis: Any, bitcoin: Any) -> Any: ...


COMPONENTS: dict[str, type] = {
    "auxpow": AuxPowComponent,
    "chain": ChainComponent,
    "approvals": ApprovalsComponent,
    "actors": ActorsComponent,
    "sync": SyncComponent,
}


def required_methods(component: type) -> list[str]:
    return sorted(
        name for name, value in vars(component).items() if callable(value) and not name.startswith("_")
    )


class TargetError(Exception):
    """A target that cannot be used: unknown, unimportable, or missing part of the interface."""


def validate(target: object, spec: str) -> None:
    """Raise TargetError naming every component or method `target` lacks."""
    missing = [attr for attr in ("name", "quirks") if not hasattr(target, attr)]
    for component, protocol in COMPONENTS.items():
        part = getattr(target, component, None)
        if part is None:
            missing.append(f"{component} (the whole component)")
            continue
        missing += [
            f"{component}.{m}" for m in required_methods(protocol) if not callable(getattr(part, m, None))
        ]
    if missing:
        raise TargetError(f"target {spec!r} lacks: {', '.join(missing)} (see alys_pbt/interface.py)")
