"""Sync and checkpoints: a sync engine over a simulated P2P network, and a SQLite store."""

from collections.abc import Sequence
from typing import Any

from alys.sync.engine import PeerUnreachable, SimNetwork, SimPeer, SyncEngine, recover, serve_blocks_by_range
from alys.sync.store import (
    Checkpoint,
    CorruptBlock,
    DiskError,
    DiskFaults,
    LostAcknowledged,
    MalformedCheckpointState,
    Store,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreInUse,
    StoreIOError,
    StoreLocked,
)
from alys.variant import Variant


class SyncPort:
    """The `sync` component of target `alys`."""

    def __init__(self, variant: Variant, chain: Any) -> None:
        self.v, self.chain = variant, chain

    def serve(self, blocks: list[bytes], start: int, count: int) -> list[bytes]:
        return serve_blocks_by_range(blocks, start, count, self.v)

    def network(self) -> SimNetwork:
        return SimNetwork(self.v)

    def peer(
        self,
        name: str,
        chain: Sequence[bytes],
        behaviour: str = "honest",
        *,
        lag: int = 0,
        claimed: int | None = None,
    ) -> SimPeer:
        return SimPeer(name, chain, behaviour, lag, claimed)

    def store(
        self, *, interval: int, retention: int, path: str = ":memory:", busy_timeout: float = 5.0
    ) -> Store:
        return Store(path, interval, retention, self.v, busy_timeout=busy_timeout)

    def engine(self, node: Any, network: SimNetwork, store: Store, *, batch: int = 1024) -> SyncEngine:
        return SyncEngine(node, self.chain, network, store, self.v, batch)

    def recover(self, store: Store, spec: Any, genesis: Any, bitcoin: Any) -> Any:
        return recover(store, self.chain, spec, genesis, bitcoin)


__all__ = [
    "Checkpoint",
    "CorruptBlock",
    "DiskError",
    "DiskFaults",
    "LostAcknowledged",
    "MalformedCheckpointState",
    "PeerUnreachable",
    "SimNetwork",
    "SimPeer",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreIOError",
    "StoreInUse",
    "StoreLocked",
    "SyncEngine",
    "SyncPort",
]
