"""The sync references and simulation pieces do what they claim (issue 7): the checkpoint-set
reference, the canonical chain's per-height states, fork views, topologies, the store's integrity
hash (v2 checkpoint.rs layout) and its disk faults."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys.sync.engine import Request  # the wire's record; the reference reads only its fields
from alys_pbt import targets
from alys_pbt.models.blocks import block_from_bytes
from alys_pbt.models.sync import AnswerJudge, RetryClock, RetryReference, expected_checkpoints, fair_rounds
from alys_pbt.strategies.sync import (
    BEHAVIOURS,
    NETWORK_FAULTS,
    TOPOLOGIES,
    ForkView,
    canonical_chains,
    unapproved,
)


@pytest.mark.parametrize(
    ("height", "interval", "retention", "expected"),
    [
        (0, 3, 2, []),
        (2, 3, 2, []),
        (3, 3, 2, [3]),
        (10, 3, 2, [6, 9]),
        (10, 1, 3, [8, 9, 10]),
        (100, 100, 10, [100]),
        (1000, 100, 10, list(range(100, 1001, 100))),
        (1050, 100, 10, list(range(100, 1001, 100))),
        (1100, 100, 10, list(range(200, 1101, 100))),
    ],
)
def test_expected_checkpoints_are_the_last_multiples_of_the_interval(
    height: int, interval: int, retention: int, expected: list[int]
) -> None:
    assert expected_checkpoints(height, interval, retention) == expected


def test_fair_rounds_cover_every_peer_breaking_and_every_batch() -> None:
    assert fair_rounds(3, 10_000, 1024) == 8 * 4 + 2 * 10
    assert fair_rounds(1, 5) == 16 + 10


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_canonical_states_follow_the_reference_chain(data: st.DataObject) -> None:
    canonical = data.draw(canonical_chains(length=5))
    for height, raw in enumerate(canonical.wire):
        assert canonical.states[height]["height"] == height
        assert block_from_bytes(raw).message.execution_payload.block_number == height
    # every state's latest-PoW block is at or below its height, and the chain needs PoW every 4
    pow_heights = [
        h for h, raw in enumerate(canonical.wire) if block_from_bytes(raw).message.auxpow_header is not None
    ]
    assert pow_heights[0] == 0 and all(b - a <= 4 for a, b in itertools.pairwise(pow_heights))


@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_a_fork_view_forges_every_block_from_its_cut_and_grows_with_the_chain(data: st.DataObject) -> None:
    canonical = data.draw(canonical_chains(length=3))
    view = ForkView(canonical.wire, 2)
    assert view[:2] == canonical.wire[:2]
    assert all(
        view[h] != canonical.wire[h] and block_from_bytes(view[h]).signature.signature is None
        for h in range(2, len(view))
    )
    canonical.extend(1)
    assert len(view) == len(canonical.wire) and view[-1] != canonical.wire[-1]


@pytest.mark.parametrize(
    ("topology", "extra", "neighbours"),
    [
        ("mesh", (), ["a", "b", "c", "d"]),
        ("star", (), ["a", "b", "c", "d"]),
        ("ring", (), ["a", "d"]),
        ("random", ((0, 2),), ["a", "b", "d"]),
    ],
)
def test_topologies_decide_which_peers_the_node_can_ask(
    topology: str, extra: tuple[tuple[int, int], ...], neighbours: list[str]
) -> None:
    sync = targets.load("alys-fixed").sync
    network = sync.network()
    for name in "abcd":
        network.add(sync.peer(name, [b"genesis"]))
    network.wire(topology, extra)
    assert network.reachable() == neighbours
    network.partitioned.add(neighbours[0])
    assert network.reachable() == neighbours[1:]


def test_an_unknown_topology_is_refused_by_name() -> None:
    network = targets.load("alys-fixed").sync.network()
    with pytest.raises(ValueError, match="unknown topology 'torus'"):
        network.wire("torus")


def test_the_integrity_hash_is_sha256_of_height_hash_time_and_state() -> None:
    """v2 actors/sync/checkpoint.rs: SHA-256(height BE || block hash || created_at BE || state JSON)."""
    store = targets.load("alys-fixed").sync.store(interval=1, retention=1)
    store.put_block(1, b"\x01" * 32, b"block", {"height": 1, "head": "01" * 32}, 1700000000)
    (cp,) = store.checkpoints()
    body = (
        (1).to_bytes(8, "big")
        + b"\x01" * 32
        + (1700000000).to_bytes(8, "big")
        + b'{"head": "'
        + b"01" * 32
        + b'", "height": 1}'
    )
    assert cp.integrity == hashlib.sha256(body).digest() and cp.verifies()
    store.corrupt_checkpoint(1)
    assert not store.checkpoints()[0].verifies()


@pytest.mark.parametrize("kind", ["io-error", "torn"])
def test_a_disk_fault_raises_on_the_chosen_write_and_a_torn_row_is_partial(kind: str) -> None:
    store = targets.load("alys-fixed").sync.store(interval=10, retention=1)
    store.faults.at_write, store.faults.kind = 2, kind
    store.put_block(1, b"\x01" * 32, b"first block", {}, 0)
    with pytest.raises(OSError, match="write 2"):
        store.put_block(2, b"\x02" * 32, b"second block", {}, 0)
    rows = {h: bytes(data) for h, _, data in store.blocks_from(0)}
    assert rows == ({1: b"first block"} if kind == "io-error" else {1: b"first block", 2: b"second"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda sync: sync.store(interval=0, retention=1), "interval must be at least 1"),
        (lambda sync: sync.store(interval=1, retention=0), "retention must keep at least 1"),
        (
            lambda sync: sync.engine(None, sync.network(), sync.store(interval=1, retention=1), batch=0),
            "batch must be 1..1024",
        ),
        (
            lambda sync: sync.engine(None, sync.network(), sync.store(interval=1, retention=1), batch=1025),
            "batch must be 1..1024",
        ),
    ],
)
def test_bad_configuration_is_refused_by_name(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(targets.load("alys-fixed").sync)


@pytest.mark.parametrize("batch", [1, 2, 1023, 1024])
def test_a_batch_within_the_limit_is_accepted(batch: int) -> None:
    """The other side of the 1..1024 limit: at it and just inside it, the engine takes the batch."""
    sync = targets.load("alys-fixed").sync
    assert sync.engine(None, sync.network(), sync.store(interval=1, retention=1), batch=batch).batch == batch


def test_the_backoff_cap_is_unreachable_through_the_breaker() -> None:
    """Why no mutant probes the 30 s cap: the breaker opens at the third failure in a row and starts
    the count again, so no backoff exceeds 2 s (a change of the cap is an equivalent mutant)."""
    clock = RetryClock()
    waits = [clock.after(float(i), True) - i for i in range(12)]
    assert max(waits) == 60.0 and sorted(set(waits)) == [1.0, 2.0, 60.0]


def test_an_unknown_disk_fault_is_refused_by_name() -> None:
    store = targets.load("alys-fixed").sync.store(interval=1, retention=1)
    with pytest.raises(ValueError, match="'kind' must be in"):
        store.faults.kind = "bit-flip"


def test_an_unknown_peer_behaviour_or_network_fault_is_refused_by_name() -> None:
    sync = targets.load("alys-fixed").sync
    with pytest.raises(ValueError, match="'behaviour' must be in"):
        sync.peer("p", [b"genesis"], "evil")
    network = sync.network()
    network.add(sync.peer("p", [b"genesis"]))
    network.faults["p"] = ["eaten by a grue"]
    with pytest.raises(ValueError, match="unknown network fault 'eaten by a grue'"):
        network.blocks_by_range("p", 0, 1)


def test_the_strategies_offer_every_behaviour_fault_and_topology_the_engine_knows() -> None:
    """A behaviour or fault added to the engine but not to the strategies would never be exercised."""
    from alys.sync import engine  # the suite's own test may look inside the port; models never do

    assert set(BEHAVIOURS) == set(engine.BEHAVIOURS)
    assert set(NETWORK_FAULTS) == set(engine.FAULTS) | {"disconnect", "partition"}
    network = targets.load("alys-fixed").sync.network()
    for topology in TOPOLOGIES:
        network.wire(topology)  # every topology the strategy draws is one the network accepts


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([(0.05, False)], [0.05]),  # a good answer: ask again at once
        ([(15.0, True), (17.0, True), (20.0, True)], [16.0, 19.0, 80.0]),  # 1 s, 2 s, then the breaker's 60 s
        ([(15.0, True), (16.0, False), (31.0, True)], [16.0, 16.0, 32.0]),  # a good answer ends the run
        (
            [(1.0, True), (3.0, True), (5.0, True), (70.0, True)],
            [2.0, 5.0, 65.0, 71.0],
        ),  # counting restarts after the breaker
    ],
)
def test_the_retry_policy_reference_backs_off_then_opens_the_breaker(
    outcomes: list[tuple[float, bool]], expected: list[float]
) -> None:
    """alys-rules.md §5.1: backoff 1 s, 2 s, ... (30 s cap), breaker after 3 failures for 60 s."""
    clock = RetryClock()
    assert [clock.after(ended, failed) for ended, failed in outcomes] == expected


def test_the_backoff_is_capped_at_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    import alys_pbt.models.sync as reference

    monkeypatch.setattr(
        reference, "BREAKER_FAILURES", 99
    )  # without the breaker in the way, the doubling reaches its cap
    clock = RetryClock()
    waits = [clock.after(float(i), True) - i for i in range(8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


@given(data=st.data())
@settings(max_examples=10)
def test_the_reference_counts_exactly_the_answers_a_node_cannot_use(data: st.DataObject) -> None:
    canonical = data.draw(canonical_chains(length=5), label="canonical chain")
    w = canonical.wire
    corrupted = bytearray(w[4])
    corrupted[len(corrupted) // 2] ^= 0xFF
    answers = [
        [w[1], w[2]],  # good
        None,  # timed out
        [w[2], w[3]],  # a repeat, then the next block: good
        [],  # a peer behind us, or withholding: short, not bad
        [w[5], w[4]],  # reordered: the first cannot be imported yet
        [unapproved(w[4])],  # the next block without its approvals
        [bytes(corrupted)],  # the next block with a byte flipped
        [w[4], w[5]],  # good, to the tip
    ]
    judge = AnswerJudge(w)
    assert [judge(answer) for answer in answers] == [False, True, False, False, True, True, True, False]


@given(data=st.data())
@settings(max_examples=5)
def test_the_retry_reference_keeps_a_clock_per_peer(data: st.DataObject) -> None:
    """Requests are judged in the order sent, but each peer backs off on its own."""
    canonical = data.draw(canonical_chains(length=2), label="canonical chain")
    w = canonical.wire
    reference = RetryReference(w)
    log = [
        Request(0.0, "a", 1, 1, 15.0, "timed out"),
        Request(15.0, "b", 1, 1, 15.05, "answered", (w[1],)),
        Request(15.05, "a", 2, 1, 30.05, "timed out"),
        Request(15.1, "b", 2, 1, 15.15, "answered", (unapproved(w[2]),)),
        Request(16.15, "b", 2, 1, 16.2, "answered", (w[2],)),
    ]
    assert [reference.admit(r) for r in log] == [0.0, 0.0, 16.0, 15.05, 16.15]
