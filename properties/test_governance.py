"""Properties of the V2 governance stream: the StreamActor (the target's `governance` component) on
the target's actor runtime, against the suite's real gRPC governance server on loopback
(alys_pbt/governance.py), in simulated time (models/machines/governance.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models import governance as ref
from alys_pbt.models.governance import ApplySignatures, StreamPolicy
from alys_pbt.models.machines.actors import SuiteScheduler
from alys_pbt.models.machines.governance import GovernanceMachine, harnessed
from alys_pbt.strategies.governance import STATUS_NUMBERS, failure_counts, signature_rounds

pytestmark = pytest.mark.governance

TestGovernance = machine_test(
    kills(
        "governance-reconnect-drops-buffered",
        "governance-backoff-never-grows",
        "governance-response-wrong-request",
        "governance-heartbeat-unchecked",
        "governance-replay-newest-first",
        "governance-buffer-bound-off-by-one",
        "governance-sweep-never-times-out",
    )(GovernanceMachine)
)


@kills("governance-backoff-never-grows")
@given(failures=failure_counts(), seed=st.integers(0, 2**32 - 1))
def test_reconnect_waits_follow_the_coded_schedule(target: Target, failures: int, seed: int) -> None:
    """After n consecutive failures the wait is min(1 s * 2^n, 300 s) (+-10 % jitter, never past
    300 s and never under 0.1 s): every step of the schedule, to the cap and past it, jitter on and off."""
    for jitter in (0.1, 0.0):  # each draw both ways: the jittered bound and the exact schedule
        policy = StreamPolicy(jitter=jitter)
        system = target.actors.system(SuiteScheduler())
        stream = target.governance.stream(system, seed=seed, jitter=jitter)
        try:
            waits = [stream.backoff(n) for n in range(1, failures + 1)]
        finally:
            stream.close()
        note(f"jitter {jitter}: waits {waits}")
        for n, wait in enumerate(waits, start=1):
            low, high = ref.backoff_bounds(policy, n)
            assert low <= wait <= high, (
                f"after {n} failures the wait is {wait:g}s (jitter {jitter}), not in [{low:g}, {high:g}]"
            )


@kills(
    "governance-reconnect-drops-buffered",
    "governance-replay-newest-first",
    "governance-buffer-bound-off-by-one",
)
@settings(max_examples=20)
@given(
    buffer_size=st.integers(1, 4),
    sent=st.integers(1, 7),
    outage=st.sampled_from(["partition", "drop", "restart"]),
)
def test_messages_sent_while_down_are_replayed_in_order_after_reconnect(
    target: Target, buffer_size: int, sent: int, outage: str
) -> None:
    """Messages taken while the stream is down reach the server once it is back, once each, in the
    order taken, except the oldest ones the DropOldest policy drops past the buffer's bound."""
    with harnessed(target, buffer_size=buffer_size) as h:
        conn = h.connect()
        if outage == "drop":
            session = h.session(h.connection(conn))
            assert session is not None, "a connected client has its stream on the server"
            h.server.drop(session)
            h.server.wait(lambda: not session.open)
        h.server.stop()
        h.settle()
        state = h.connection(conn).state
        assert state == "backoff", f"the stream is {state} after the server went away"
        ids = [f"m{i}" for i in range(sent)]
        for message_id in ids:
            assert h.result(h.stream.send(conn, "status_update", message_id)) == "buffered"
        model = ref.OutboundBuffer(buffer_size)
        for message_id in ids:
            model.enqueue(message_id)
        h.server.start()
        h.advance(ref.backoff_bounds(StreamPolicy(), 1)[1])
        after = h.connection(conn)
        assert after.state == "connected", f"not reconnected: {after.state}"
        note(f"{outage}: sent {ids}, delivered {h.delivered(conn)}, dropped {list(after.dropped)}")
        assert h.delivered(conn) == model.flush(), (
            "the buffer was replayed in order, minus the policy's drops"
        )
        assert list(after.dropped) == model.dropped


@kills("governance-response-wrong-request")
@settings(max_examples=20)
@given(round_=signature_rounds())
def test_each_signature_response_reaches_its_requester_whatever_the_order(
    target: Target, round_: tuple[tuple[str, ...], tuple[int, ...]]
) -> None:
    """Signature requests answered in any order (some never): each ApplySignatures handed to the
    bridge is the answer to the request it names, with its status and witnesses, once."""
    statuses, order = round_
    with harnessed(target) as h:
        conn = h.connect()
        ids = [f"sig-{i}" for i in range(len(statuses))]
        for request_id in ids:
            h.ask(h.stream.request_signatures(conn, request_id, "bridge", "00", (1,)))
        h.settle()
        answered = [ids[i] for i in order]
        note(f"answered, in this order: {answered}")
        for request_id in answered:
            h.server.answer(request_id, STATUS_NUMBERS[statuses[ids.index(request_id)]])
        h.settle()
        got = [(m.request_id, m.status, m.witnesses) for m in h.applied() if isinstance(m, ApplySignatures)]
        want = [(r, statuses[ids.index(r)], (f"{r}/0".encode(),)) for r in answered]
        assert got == want, f"handed {got}, answered {want}"
        assert sorted(h.pending()) == sorted(set(ids) - set(answered)), "the unanswered stay pending"


@kills("governance-heartbeat-unchecked")
@settings(max_examples=20)
@given(mode=st.sampled_from(["never", "late", "silent"]), quiet_after=st.integers(0, 3))
def test_a_silent_server_is_detected_within_the_heartbeat_bound(
    target: Target, mode: str, quiet_after: int
) -> None:
    """A server that answers heartbeats for a while, then never (or late, or nothing at all), is
    found out within heartbeat timeout + one monitor period, and the stream is closed for a reconnect."""
    policy = StreamPolicy()
    with harnessed(target) as h:
        conn = h.connect()
        h.advance(quiet_after * policy.heartbeat_interval)
        assert h.connection(conn).state == "connected", "a server that answers is never flagged"
        went_quiet = h.now()
        if mode == "silent":
            h.server.silent = True
        else:
            h.server.heartbeats = mode
        generation = h.connection(conn).generation
        h.advance(ref.detection_bound(policy))
        after = h.connection(conn)
        note(f"{mode} at {went_quiet:g}; now {h.now():g}, detections {list(after.detections)}")
        assert after.generation != generation, (
            f"still on the same stream {ref.detection_bound(policy):g}s after the server went quiet"
        )
        assert after.detections and after.detections[0] - went_quiet <= ref.detection_bound(policy)
        h.server.release_held()


@given(extra=st.integers(1, 2))
@settings(max_examples=5)
def test_the_connection_cap_refuses_the_eleventh(target: Target, extra: int) -> None:
    """With the coded cap (10), ten connections open and each one past them is refused with
    TooManyConnections; the live connections never exceed the cap."""
    cap = StreamPolicy().max_connections
    with harnessed(target) as h:
        for _ in range(cap):
            h.connect()
        for _ in range(extra):
            opened = h.result(h.stream.connect(h.server.endpoint))
            h.settle()
            assert isinstance(opened, Exception), f"connection {opened} opened past the cap of {cap}"
            assert type(opened).__name__ == "TooManyConnections", f"refused with {opened!r}"
        live = [c for c in h.connections() if c.state == "connected"]
        assert len(live) == cap, f"{len(live)} connections live, the cap is {cap}"
