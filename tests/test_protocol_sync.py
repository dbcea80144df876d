"""The `sync` component crosses the target protocol: the sync properties and the three sync machines
(the network's faults, the store's disk faults and the files a crash leaves, two syncs at once) give
the in-process verdicts against `exec:python -m alys.serve` (every quirk caught as the same strict
expected failure, nothing else failing); a seeded sync mutant served is killed by the property that
kills it in-process; and a store fault arrives over the protocol as its typed error, by name."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alys_pbt import targets
from alys_pbt.interface import CheckpointRecord, SyncRequest
from alys_pbt.models.machines.sync import ChainSetup, blamed_row, canonical_chain
from alys_pbt.models.sync import is_a
from tests.test_protocol_verdicts import SERVE, outcomes

SYNC = "properties/test_sync.py"
MACHINES = [
    f"{SYNC}::TestSync::runTest",
    f"{SYNC}::TestCheckpoints::runTest",
    "properties/test_sync_chaos.py::TestSyncUnderFaults::runTest",
]
# The default run: properties with a quirk (strict xfails on `alys`) and ones that pass, cheap to run.
FAST = [
    f"{SYNC}::test_range_requests_get_exactly_the_canonical_blocks",
    f"{SYNC}::test_a_response_times_out_only_past_the_request_timeout",
    f"{SYNC}::test_a_bad_block_from_a_peer_costs_the_node_nothing",
    f"{SYNC}::test_a_crash_at_any_write_loses_nothing_acknowledged",
    f"{SYNC}::test_checkpoints_follow_the_interval_and_hold_the_reference_state",
]
EVERY = [SYNC, "properties/test_sync_chaos.py", "properties/test_network.py"]


def same_verdicts(variant: str, nodes: list[str], tmp_path: Path) -> dict[str, str]:
    """The verdicts of `nodes` on `variant`, in-process and served: the same, none skipped."""
    local, local_out = outcomes(variant, nodes, tmp_path / "local")
    remote, remote_out = outcomes(f"{SERVE} {variant}", nodes, tmp_path / "remote")
    assert local, local_out[-2000:]
    assert remote == local, (remote_out[-3000:], local)
    assert "SKIPPED" not in remote.values(), remote_out[-2000:]
    return remote


def test_served_sync_gives_the_in_process_verdicts(tmp_path: Path) -> None:
    """On `alys`: the sync quirks caught as the same strict expected failures, served as in-process."""
    ran = same_verdicts("alys", FAST, tmp_path)
    assert set(ran) == set(FAST)
    assert not {"FAILED", "ERROR", "XPASS"} & set(ran.values()), ran
    assert ran[f"{SYNC}::test_a_bad_block_from_a_peer_costs_the_node_nothing"] == "XFAIL"
    assert ran[f"{SYNC}::test_a_crash_at_any_write_loses_nothing_acknowledged"] == "PASSED"


@pytest.mark.slow
def test_served_sync_machines_give_the_in_process_verdicts(tmp_path: Path) -> None:
    """The three sync machines on `alys` (sync-error-rolls-back caught through the full sync's round
    trace, the store's files damaged by the suite while the served store is closed)."""
    ran = same_verdicts("alys", MACHINES, tmp_path)
    assert ran == dict.fromkeys(MACHINES, "XFAIL"), ran


def test_served_fixed_sync_passes(tmp_path: Path) -> None:
    """On `alys-fixed` every sync machine and property passes, served as in-process."""
    ran = same_verdicts("alys-fixed", [*MACHINES, *FAST], tmp_path)
    assert ran == dict.fromkeys([*MACHINES, *FAST], "PASSED"), ran


@pytest.mark.slow
def test_served_sync_gives_the_in_process_verdicts_on_every_sync_and_network_property(
    tmp_path: Path,
) -> None:
    ran = same_verdicts("alys", EVERY, tmp_path)
    assert "XFAIL" in ran.values() and "PASSED" in ran.values()
    assert "FAILED" not in ran.values() and "ERROR" not in ran.values(), ran


@pytest.mark.parametrize(
    ("mutant", "killed"),
    [
        ("sync-timeout-inclusive", f"{SYNC}::test_a_response_times_out_only_past_the_request_timeout"),
        ("store-checkpoint-before-blocks", f"{SYNC}::test_a_crash_at_any_write_loses_nothing_acknowledged"),
        pytest.param(
            "sync-batch-start-off-by-one",
            f"{SYNC}::test_parallel_download_from_several_peers_imports_the_canonical_chain",
            marks=pytest.mark.slow,
        ),
        pytest.param("sync-retry-without-backoff", f"{SYNC}::TestSync::runTest", marks=pytest.mark.slow),
        # a lost tail of the file, which the suite cuts while the served store is closed
        pytest.param(
            "store-tail-loss-unchecked", f"{SYNC}::TestCheckpoints::runTest", marks=pytest.mark.slow
        ),
        pytest.param(
            "sync-health-per-engine",
            "properties/test_sync_chaos.py::TestSyncUnderFaults::runTest",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_sync_mutant_served_is_killed_as_in_process(tmp_path: Path, mutant: str, killed: str) -> None:
    """alys-fixed+MUTANT served fails the property that kills it in-process (a machine's network
    faults, a store's file damage and the engine's per-peer standing, all through calls)."""
    local, _ = outcomes(f"alys-fixed+{mutant}", [killed], tmp_path / "local")
    remote, out = outcomes(f"{SERVE} alys-fixed+{mutant}", [killed], tmp_path / "remote")
    assert local == remote == {killed: "FAILED"}, out[-2000:]


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    target = targets.load(f"{SERVE} alys-fixed")
    yield target
    target.close()


def test_a_store_fault_arrives_as_its_typed_error(served: Any) -> None:
    """An injected I/O error, a full disk and a corrupted checkpoint cross as the store's own names
    (OSError among the bases, so the suite's typed-error checks hold), and the store goes on."""
    store = served.sync.store(interval=1, retention=2)
    state = {"height": 1, "head": "11" * 32, "latest_pow": "22" * 32}
    store.set_fault(store.writes + 1, "io-error")
    with pytest.raises(Exception) as failed:  # noqa: PT011 - judged by name, as the suite judges
        store.put_block(1, b"\x11" * 32, b"block", state, 0)
    assert type(failed.value).__name__ == "DiskError" and is_a(failed.value, "OSError"), failed.value
    assert store.stored_heights() == []  # nothing half-applied
    store.put_block(1, b"\x11" * 32, b"block", state, 0)
    store.inject_fault("disk-full")
    with pytest.raises(Exception) as full:  # noqa: PT011
        store.put_block(2, b"\x22" * 32, b"x" * 20_000, {**state, "height": 2}, 0)
    assert type(full.value).__name__ == "StoreFull" and is_a(full.value, "StoreError"), full.value
    store.clear_fault("disk-full")
    assert store.checkpoints() == [CheckpointRecord(1, state, True)]
    store.corrupt_checkpoint(1)
    (rotted,) = store.checkpoints()
    assert not rotted.verified and rotted.state == {**state, "latest_pow": "00" * 32}
    assert store.blocks_from(1) == [(1, b"\x11" * 32, b"block")]
    store.close()


def test_a_rotted_row_is_reported_with_its_height_over_the_protocol(served: Any, tmp_path: Path) -> None:
    """A file store's path is the suite's: the suite rots an acknowledged row in the file; the
    served store refuses to open with a CorruptBlock that names the row (by its message)."""
    canonical = canonical_chain(ChainSetup((7,), 3))
    b = canonical.builder
    path = str(tmp_path / "chain.sqlite")
    store = served.sync.store(interval=5, retention=2, path=path, busy_timeout=0.0)
    engine = served.sync.engine(served.chain.node(b.spec, b.genesis, b.bitcoin), served.sync.network(), store)
    for raw in canonical.wire[1:]:
        engine.import_block(raw)
    assert engine.acknowledged == 3
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE blocks SET data = CAST(? AS BLOB) WHERE height = 2", (b"rot",))
    db.commit()
    db.close()
    with pytest.raises(Exception) as refused:  # noqa: PT011 - judged by name
        served.sync.recover(
            served.sync.store(interval=5, retention=2, path=path), b.spec, b.genesis, b.bitcoin
        )
    assert type(refused.value).__name__ == "CorruptBlock", refused.value
    assert blamed_row(refused.value) == 2, refused.value


def test_the_network_is_driven_and_read_through_calls(served: Any) -> None:
    """Faults queued for a peer, its link cut and healed, time advanced: the requests log comes back
    as records, and a lost response is a RequestTimedOut (a ConnectionError, by name)."""
    network = served.sync.network()
    network.add_peer("p", [b"genesis", b"block 1", b"block 2"])
    network.queue_faults("p", ["drop", None])
    with pytest.raises(Exception) as lost:  # noqa: PT011
        network.blocks_by_range("p", 1, 2)
    assert type(lost.value).__name__ == "RequestTimedOut" and is_a(lost.value, "ConnectionError")
    assert network.blocks_by_range("p", 1, 2) == [b"block 1", b"block 2"]
    network.disconnect("p")
    assert network.reachable() == []
    network.heal()
    network.advance(10.0)
    network.grow("p", [b"block 3"])
    assert network.blocks_by_range("p", 3, 1) == [b"block 3"]
    first, *rest = network.requests()
    assert first == SyncRequest(0.0, "p", 1, 2, 15.0, "timed out")
    assert [r.outcome for r in rest] == ["answered", "answered"] and rest[-1].sent == network.time - 0.05
    assert network.requests(2) == rest[1:]
