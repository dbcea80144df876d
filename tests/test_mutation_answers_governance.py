"""Answers to mutation survivors of the governance stream (alys/governance.py, docs/mutation.md): each a
deterministic check through the interface (`targets.load("alys-fixed").governance`), on the suite's
own scheduler and its gRPC governance server on loopback, at the exact boundaries the properties'
generators only sample: every step of the backoff schedule and its jitter (seeded, so each wait is
known to the bit), the cap, the buffer at, under and over its bound, heartbeat and monitor timing
just before, at and after each period, request ids, correlation and sequence numbers, and the errors
and messages a client sees."""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from alys_pbt import targets
from alys_pbt.governance import _END, Session
from alys_pbt.interface import Role, Target
from alys_pbt.models.governance import (
    ApplySignatures,
    FederationUpdate,
    SignatureTimeout,
    StreamConnection,
    handed,
)
from alys_pbt.models.machines.actors import SuiteScheduler
from alys_pbt.models.machines.governance import StreamHarness, harnessed

pytestmark = pytest.mark.governance

STREAM = "governance-stream"  # the stream actor's default name


@pytest.fixture(scope="module")
def target() -> Target:
    """Target alys-fixed: the port with every quirk fixed."""
    loaded: Target = targets.load("alys-fixed")
    return loaded


def bare(target: Target, **config: Any) -> Any:
    """A stream on the suite's scheduler with no server (for what needs none: backoff, the API)."""
    system = target.actors.system(SuiteScheduler())
    return target.governance.stream(system, **config)


def jittered(rng: random.Random, failures: int, *, jitter: float = 0.1, cap: float = 300.0) -> float:
    """The coded wait (reconnect.rs:314-356, the cap kept after jitter) drawn from `rng`."""
    delay = min(1.0 * 2.0**failures, cap)
    return min(max(0.1, delay + rng.uniform(-jitter * delay, jitter * delay)), cap)


def down(h: StreamHarness) -> int:
    """A connection made while the server is away: refused once, in backoff (its id)."""
    h.server.stop()
    conn = h.result(h.stream.connect(h.server.endpoint))
    h.settle()
    assert isinstance(conn, int)
    return conn


def session_of(h: StreamHarness, conn: int) -> Session:
    """The server's side of the connection's current stream."""
    session: Session | None = h.session(h.connection(conn))
    assert session is not None, f"connection {conn} has no stream on the server"
    return session


def payloads(session: Session) -> list[tuple[str, str, int]]:
    """What a stream carried: (payload kind, request id, sequence), in arrival order."""
    return [(r.WhichOneof("payload"), r.metadata.request_id, r.metadata.sequence) for r in session.received]


def told(h: StreamHarness, actor: str) -> list[tuple[str, float, Any]]:
    """What an actor was told: (sender, when, the message as the interface reads it)."""
    return [(r.sender, r.at, handed(r.message)) for r in h.system.received(actor) if r.hook == "handle"]


@contextlib.contextmanager
def running(target: Target, **config: Any) -> Iterator[StreamHarness]:
    """harnessed(), and on leaving: the stream actor never panicked (no failure, no restart)."""
    with harnessed(target, **config) as h:
        yield h
        cell = h.system.lookup(STREAM)
        assert (cell.restarts, [event for _, event in cell.history]) == (0, ["running"])


@pytest.fixture
def harness(target: Target) -> Iterator[StreamHarness]:
    """A stream with jitter off, against a running server."""
    with running(target, jitter=0.0) as h:
        yield h


# --- the backoff schedule ---------------------------------------------------------------------------


def test_without_jitter_the_wait_doubles_from_one_second_to_the_cap(target: Target) -> None:
    """jitter 0: min(1 s * 2^n, 300 s) for n = 0..12, the cap reached at n = 9 and kept."""
    stream = bare(target, jitter=0.0)
    waits = [stream.backoff(n) for n in range(13)]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]


def test_the_schedule_follows_its_configured_initial_multiplier_and_cap(target: Target) -> None:
    """initial 0.5 s, multiplier 3, cap 40 s: 0.5, 1.5, 4.5, 13.5, then 40 (40.5 capped), 40."""
    stream = bare(target, jitter=0.0, initial_delay=0.5, multiplier=3.0, max_delay=40.0)
    assert [stream.backoff(n) for n in range(6)] == [0.5, 1.5, 4.5, 13.5, 40.0, 40.0]


def test_an_unjittered_wait_is_not_floored(target: Target) -> None:
    """Jitter off, a delay under 0.1 s stays what it is (the 0.1 s floor is jitter's)."""
    stream = bare(target, jitter=0.0, initial_delay=0.01)
    assert stream.backoff(1) == 0.02


def test_a_jittered_wait_is_floored_at_a_tenth_of_a_second(target: Target) -> None:
    """0.02 s +-10 % is under 0.1 s: the wait is exactly the 0.1 s floor, whatever the draw."""
    stream = bare(target, jitter=0.1, initial_delay=0.01, seed=3)
    assert [stream.backoff(1) for _ in range(5)] == [0.1] * 5


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_each_jittered_wait_is_the_seeded_draw_within_ten_percent_and_the_cap(
    target: Target, seed: int
) -> None:
    """Jitter 0.1, seeded: each wait is delay + U(-0.1 delay, 0.1 delay) from random.Random(seed),
    in order, kept under 300 s; past the cap about half the draws land on 300 s exactly."""
    stream = bare(target, seed=seed)
    rng = random.Random(seed)
    for n in [*range(1, 12), *[9] * 20]:
        wait, delay = stream.backoff(n), min(2.0**n, 300.0)
        assert wait == jittered(rng, n), f"after {n} failures, seed {seed}"
        assert 0.9 * delay <= wait <= min(1.1 * delay, 300.0)
    capped = [stream.backoff(10) for _ in range(40)]
    assert max(capped) == 300.0 and min(capped) < 300.0 and min(capped) >= 270.0


def test_the_default_seed_is_zero(target: Target) -> None:
    """A stream built without a seed draws its jitter as random.Random(0) does."""
    stream = bare(target)
    rng = random.Random(0)
    assert [stream.backoff(n) for n in (1, 2, 3)] == [jittered(rng, n) for n in (1, 2, 3)]


def test_a_connection_draws_its_waits_from_its_own_generator(target: Target) -> None:
    """The waits scheduled after failures come from random.Random(f"{seed}/{connection}"): one
    generator per connection, apart from the stream's own and from each other's."""
    with running(target, seed=5, max_attempts=3) as h:
        first = down(h)
        second = h.result(h.stream.connect(h.server.endpoint))
        h.settle()
        h.advance(5.0)  # each connection's second attempt fails too
        for conn in (first, second):
            rng = random.Random(f"5/{conn}")
            expected = [(1, jittered(rng, 1)), (2, jittered(rng, 2))]
            assert list(h.connection(conn).waits) == expected, f"connection {conn}"


# --- reconnecting -----------------------------------------------------------------------------------


def test_a_refused_stream_waits_each_step_and_gives_up_at_max_attempts(target: Target) -> None:
    """Refused at 0: a wait of 2 s, the next attempt at 2 s exactly (not before), then 4 s to the
    third at 6 s; the third failure of three gives up, with no wait scheduled and no channel held."""
    with running(target, jitter=0.0, max_attempts=3) as h:
        conn = down(h)
        c = h.connection(conn)
        assert (c.state, c.failures, c.attempts, c.waits, c.open) == (
            "backoff",
            1,
            (0.0,),
            ((1, 2.0),),
            False,
        )
        h.advance(1.999)
        assert h.connection(conn).attempts == (0.0,)
        h.advance(0.001)
        c = h.connection(conn)
        assert (c.state, c.failures, c.attempts, c.waits) == ("backoff", 2, (0.0, 2.0), ((1, 2.0), (2, 4.0)))
        h.advance(3.999)
        assert h.connection(conn).attempts == (0.0, 2.0)
        h.advance(0.001)
        c = h.connection(conn)
        assert (c.state, c.failures, c.attempts) == ("gave-up", 3, (0.0, 2.0, 6.0))
        assert c.waits == ((1, 2.0), (2, 4.0)) and not c.open
        h.advance(1000.0)
        assert h.connection(conn).attempts == (0.0, 2.0, 6.0), "a connection that gave up stays down"
        refusal = h.result(h.stream.send(conn, "status_update", "late"))
        assert type(refusal).__name__ == "GaveUp" and str(refusal) == f"connection {conn} is gave-up"
        assert isinstance(refusal, ConnectionError)


def test_one_attempt_allowed_gives_up_at_the_first_failure(target: Target) -> None:
    """max_attempts 1: the first refusal is the last."""
    with running(target, jitter=0.0, max_attempts=1) as h:
        conn = down(h)
        c = h.connection(conn)
        assert (c.state, c.failures, c.waits) == ("gave-up", 1, ())


def dropped_at(h: StreamHarness, conn: int, seconds: float) -> Session:
    """At `seconds` the server drops the connection's stream; the stream actor settles (a new stream
    replaces it). The dropped session."""
    h.advance(seconds)
    session = session_of(h, conn)
    h.server.drop(session)
    h.server.wait(lambda: not session.open)
    h.settle()
    return session


def test_a_working_stream_that_drops_is_retried_at_once_on_a_new_stream(harness: StreamHarness) -> None:
    """A Connected stream the server drops: no failure counted, a wait of 0, the new attempt at the
    same instant on a new generation, which registers as register-<id>-<generation>."""
    h = harness
    conn = h.connect()
    dropped_at(h, conn, 4.0)
    c = h.connection(conn)
    assert (c.state, c.failures, c.waits, c.attempts) == ("connected", 0, ((0, 0.0),), (0.0, 4.0))
    assert c.generation == 3 and c.connected_at == 4.0 and c.open
    assert payloads(session_of(h, conn))[0] == ("node_registration", f"register-{conn}-3", 1)


def test_a_registration_ack_resets_the_failure_count(harness: StreamHarness) -> None:
    """Two refusals, then the server is back: Connected with no failures, and a drop after that is
    retried at once (wait 0), not after 8 s."""
    h = harness
    conn = down(h)
    h.advance(2.0)
    assert h.connection(conn).failures == 2
    h.server.start()
    h.advance(4.0)
    c = h.connection(conn)
    assert (c.state, c.failures, c.connected_at) == ("connected", 0, 6.0)
    session = session_of(h, conn)
    h.server.drop(session)
    h.server.wait(lambda: not session.open)
    h.settle()
    assert h.connection(conn).waits[-1] == (0, 0.0)
    assert h.connection(conn).state == "connected"


def test_a_stream_not_acknowledged_within_the_connect_timeout_is_a_failure(target: Target) -> None:
    """A server that never acknowledges: still connecting at 4.999 s of a 5 s connect timeout, a
    failure at 5 s (wait 2 s), its next attempt at 7 s."""
    with running(target, jitter=0.0, connect_timeout=5.0, script={"silent": True}) as h:
        conn = h.result(h.stream.connect(h.server.endpoint))
        h.settle()
        assert h.connection(conn).state == "connecting"
        h.advance(4.999)
        assert (h.connection(conn).state, h.connection(conn).failures) == ("connecting", 0)
        h.advance(0.001)
        c = h.connection(conn)
        assert (c.state, c.failures, c.waits) == ("backoff", 1, ((1, 2.0),))
        h.advance(2.0)
        assert h.connection(conn).attempts == (0.0, 7.0)


# --- the connection cap -----------------------------------------------------------------------------


def test_the_cap_admits_up_to_max_connections_and_refuses_the_next(harness: StreamHarness) -> None:
    """max_connections 10 (coded): connections 1..10 open; the eleventh is refused with
    TooManyConnections naming the count, and takes no id."""
    h = harness
    ids = [h.connect() for _ in range(10)]
    assert ids == list(range(1, 11))
    refusal = h.result(h.stream.connect(h.server.endpoint))
    assert type(refusal).__name__ == "TooManyConnections"
    assert str(refusal) == "already 10 of 10 connections"
    assert [c.id for c in h.connections()] == ids


def test_connections_that_gave_up_or_closed_do_not_count_against_the_cap(target: Target) -> None:
    """max_connections 1: a connection that gave up leaves room for one more, and that one fills it."""
    with running(target, jitter=0.0, max_attempts=1, max_connections=1) as h:
        first = down(h)
        assert h.connection(first).state == "gave-up"
        h.server.start()
        second = h.connect()
        assert second == 2
        refusal = h.result(h.stream.connect(h.server.endpoint))
        assert str(refusal) == "already 1 of 1 connections"


# --- the outbound buffer ----------------------------------------------------------------------------


def test_the_buffer_holds_its_bound_then_drops_the_oldest_and_replays_in_order(target: Target) -> None:
    """buffer_size 3: three messages wait, none dropped; the fourth and fifth drop m0 and m1; once
    Connected the three kept are written in order after the registration, sequences 2, 3, 4."""
    with running(target, jitter=0.0, buffer_size=3, node_id="n-7") as h:
        conn = down(h)
        sends = [h.stream.send(conn, "status_update", f"m{i}", block_height=i) for i in range(3)]
        verdicts = [h.result(reply) for reply in sends]
        assert verdicts == ["buffered"] * 3
        c = h.connection(conn)
        assert (c.buffer, c.dropped) == (("m0", "m1", "m2"), ())
        assert h.result(h.stream.send(conn, "status_update", "m3", block_height=3)) == "buffered"
        assert (h.connection(conn).buffer, h.connection(conn).dropped) == (("m1", "m2", "m3"), ("m0",))
        assert h.result(h.stream.send(conn, "pegin_notification", "m4", amount=5)) == "buffered"
        assert h.connection(conn).dropped == ("m0", "m1")
        h.server.start()
        h.advance(2.0)
        c = h.connection(conn)
        assert (c.state, c.buffer, c.dropped) == ("connected", (), ("m0", "m1"))
        session = session_of(h, conn)
        assert payloads(session) == [
            ("node_registration", f"register-{conn}-{c.generation}", 1),
            ("status_update", "m2", 2),
            ("status_update", "m3", 3),
            ("pegin_notification", "m4", 4),
        ]
        for r in session.received:
            assert (r.metadata.node_id, r.metadata.protocol_version, r.metadata.timestamp) == ("n-7", "v1", 2)
        assert session.received[3].pegin_notification.amount == 5
        assert h.result(h.stream.send(conn, "status_update", "m5", block_height=9)) == "sent"
        h.settle()
        assert payloads(session)[-1] == ("status_update", "m5", 5)
        assert session.received[-1].status_update.block_height == 9
        assert h.delivered(conn) == ["m2", "m3", "m4", "m5"]


def test_a_buffer_of_one_keeps_only_the_newest(target: Target) -> None:
    """buffer_size 1: each new message drops the one before."""
    with running(target, jitter=0.0, buffer_size=1) as h:
        conn = down(h)
        for i in range(3):
            h.result(h.stream.send(conn, "status_update", f"m{i}"))
        c = h.connection(conn)
        assert (c.buffer, c.dropped) == (("m2",), ("m0", "m1"))


def test_the_registration_is_the_first_request_of_each_stream(harness: StreamHarness) -> None:
    """Each stream opens with a NodeRegistration (version v1, capability "signatures"), sequence 1."""
    h = harness
    conn = h.connect()
    first = session_of(h, conn).received[0]
    assert first.WhichOneof("payload") == "node_registration"
    assert first.node_registration.node_info.version == "v1"
    assert list(first.node_registration.capabilities) == ["signatures"]
    assert (first.metadata.request_id, first.metadata.sequence, first.metadata.node_id) == (
        f"register-{conn}-1",
        1,
        "alys-node",
    )
    c = h.connection(conn)
    assert (c.out_sequence, c.in_sequence, c.last_received, c.connected_at) == (1, 1, 0.0, 0.0)


# --- heartbeats and the monitor ---------------------------------------------------------------------


def test_heartbeats_go_out_each_interval_with_the_next_sequence(target: Target) -> None:
    """heartbeat_interval 7: nothing at 6.999 s, heartbeat 1 at 7 s (timestamp 7), 2 at 14 s, each
    acknowledged; the server's acks are recorded in order."""
    with running(target, jitter=0.0, heartbeat_interval=7.0) as h:
        conn = h.connect()
        h.advance(6.999)
        assert h.connection(conn).heartbeat_sequence == 0
        h.advance(0.001)
        h.advance(7.0)
        session = session_of(h, conn)
        beats = [r for r in session.received if r.WhichOneof("payload") == "heartbeat"]
        assert [(b.heartbeat.sequence, b.heartbeat.timestamp, b.metadata.request_id) for b in beats] == [
            (1, 7, f"heartbeat-{conn}-1"),
            (2, 14, f"heartbeat-{conn}-2"),
        ]
        assert [b.metadata.sequence for b in beats] == [2, 3]
        c = h.connection(conn)
        assert (c.heartbeat_sequence, c.heartbeat_acks, c.last_received) == (2, (1, 2), 14.0)
        assert c.in_sequence == 3 and c.detections == ()


def test_silence_is_found_by_the_monitor_only_past_the_heartbeat_timeout(target: Target) -> None:
    """Heartbeats never answered, monitor every 11 s, timeout 22 s: at 22 s the silence is exactly
    the timeout (not past it), at 33 s it is past: detected then, and the stream replaced at once."""
    config = {"heartbeat_interval": 7.0, "monitor_interval": 11.0, "heartbeat_timeout": 22.0}
    with running(target, jitter=0.0, script={"heartbeats": "never"}, **config) as h:
        conn = h.connect()
        h.advance(32.999)
        c = h.connection(conn)
        assert (c.detections, c.generation, c.last_received) == ((), 1, 0.0)
        h.advance(0.001)
        c = h.connection(conn)
        assert c.detections == (33.0,)
        assert (c.state, c.generation, c.failures, c.waits) == ("connected", 3, 0, ((0, 0.0),))
        assert c.attempts == (0.0, 33.0) and c.connected_at == 33.0


def test_a_monitor_that_finds_traffic_keeps_looking(target: Target) -> None:
    """Heartbeats answered: the monitor never detects, over many periods; then the server stops
    answering and it is found at the first look past the timeout."""
    config = {"heartbeat_interval": 7.0, "monitor_interval": 11.0, "heartbeat_timeout": 10.0}
    with running(target, jitter=0.0, **config) as h:
        conn = h.connect()
        h.advance(99.0)  # monitors at 11, ..., 99; heartbeats answered at 7, ..., 98
        assert h.connection(conn).detections == ()
        assert h.connection(conn).last_received == 98.0
        h.server.heartbeats = "never"
        h.advance(11.0)  # at 110: silent since 98 (12 s, past 10 s)
        assert h.connection(conn).detections == (110.0,)


# --- signature requests and their answers -----------------------------------------------------------


def test_each_response_goes_to_its_requester_with_its_status_and_witnesses(harness: StreamHarness) -> None:
    """Requests a, b, c; b answered FAILED with two witnesses, then a COMPLETE: the bridge is told
    each, from the stream actor, with its id, status name, witnesses and connection; c waits."""
    h = harness
    conn = h.connect()
    for rid in ("a", "b", "c"):
        assert h.result(h.stream.request_signatures(conn, rid, "bridge", "00ff", (5, 6))) == "sent"
    h.settle()
    assert h.pending() == ["a", "b", "c"]
    request = session_of(h, conn).received[1]
    assert request.WhichOneof("payload") == "signature_request"
    assert (request.signature_request.tx_hex, list(request.signature_request.amounts)) == ("00ff", [5, 6])
    assert (request.signature_request.tx_type, request.metadata.request_id) == (2, "a")
    h.server.answer("b", 4, witnesses=2)
    h.server.answer("a", 3)
    h.settle()
    assert told(h, "bridge") == [
        (STREAM, 0.0, ApplySignatures("b", "FAILED", (b"b/0", b"b/1"), conn)),
        (STREAM, 0.0, ApplySignatures("a", "COMPLETE", (b"a/0",), conn)),
    ]
    assert h.pending() == ["c"]


@pytest.mark.parametrize(
    ("number", "name"), [(1, "PENDING"), (2, "PARTIAL"), (3, "COMPLETE"), (4, "FAILED"), (5, "TIMEOUT")]
)
def test_each_signature_status_is_handed_on_by_its_name(
    harness: StreamHarness, number: int, name: str
) -> None:
    """The status number on the wire is handed on as its name, without the enum's prefix."""
    h = harness
    conn = h.connect()
    h.result(h.stream.request_signatures(conn, "s", "bridge", "00"))
    h.settle()
    h.server.answer("s", number, witnesses=0)
    h.settle()
    assert [m for _, _, m in told(h, "bridge")] == [ApplySignatures("s", name, (), conn)]


def test_a_response_naming_no_pending_request_resolves_nothing(harness: StreamHarness) -> None:
    """An answer to an unknown id, and a second answer to one already answered: nothing is told,
    and the requests still pending stay pending."""
    h = harness
    conn = h.connect()
    h.result(h.stream.request_signatures(conn, "x", "bridge", "00"))
    h.result(h.stream.request_signatures(conn, "y", "bridge", "00"))
    h.settle()
    session = session_of(h, conn)
    h.server.answer("ghost", 3, session=session)
    h.server.answer("y", 3)
    h.server.answer("y", 4)
    h.settle()
    assert [m for _, _, m in told(h, "bridge")] == [ApplySignatures("y", "COMPLETE", (b"y/0",), conn)]
    assert h.pending() == ["x"]


def test_a_request_unanswered_at_its_deadline_times_out_at_the_sweep_that_reaches_it(
    target: Target,
) -> None:
    """request_timeout 25, a sweep every 10 s from the first connect: a request taken at 5 s has its
    deadline at 30 s, the third sweep: SignatureTimeout then (not at 20 s, not at 40 s), once."""
    with running(target, jitter=0.0, request_timeout=25.0) as h:
        conn = h.connect()
        h.advance(5.0)
        h.result(h.stream.request_signatures(conn, "slow", "bridge", "00"))
        h.result(h.stream.request_signatures(conn, "quick", "bridge", "00"))
        h.settle()
        h.server.answer("quick", 3)
        h.settle()
        h.advance(24.999)
        assert h.pending() == ["slow"]
        h.advance(0.001)
        assert h.pending() == []
        h.advance(30.0)
        assert [(at, m) for _, at, m in told(h, "bridge")] == [
            (5.0, ApplySignatures("quick", "COMPLETE", (b"quick/0",), conn)),
            (30.0, SignatureTimeout("slow")),
        ]


def test_the_sweep_runs_on_its_own_interval(target: Target) -> None:
    """sweep_interval 4, request_timeout 1: a request at 0 times out at the first sweep, 4 s."""
    with running(target, jitter=0.0, request_timeout=1.0, sweep_interval=4.0) as h:
        conn = h.connect()
        h.result(h.stream.request_signatures(conn, "r", "bridge", "00"))
        h.settle()
        h.advance(3.999)
        assert h.pending() == ["r"]
        h.advance(0.001)
        assert [(at, m) for _, at, m in told(h, "bridge")] == [(4.0, SignatureTimeout("r"))]


def test_a_request_taken_while_down_is_buffered_and_pending(harness: StreamHarness) -> None:
    """A signature request while the stream is down waits in the buffer and is pending already."""
    h = harness
    conn = down(h)
    assert h.result(h.stream.request_signatures(conn, "sig", "bridge", "00")) == "buffered"
    assert h.pending() == ["sig"] and h.connection(conn).buffer == ("sig",)


def test_an_answer_for_a_requester_that_is_not_running_is_dropped_quietly(harness: StreamHarness) -> None:
    """The requester names no actor: the answer is taken (no longer pending) and nothing breaks."""
    h = harness
    conn = h.connect()
    h.result(h.stream.request_signatures(conn, "r", "nobody", "00"))
    h.settle()
    h.server.answer("r", 3)
    h.settle()
    assert h.pending() == [] and told(h, "bridge") == []
    assert h.result(h.stream.send(conn, "status_update", "after")) == "sent"


# --- federation updates -----------------------------------------------------------------------------


def test_federation_updates_are_forwarded_in_stream_order_with_their_place(harness: StreamHarness) -> None:
    """Two updates pushed after the registration ack: the chain (routes["federation"]) is told each,
    with its height, members, connection and inbound sequence 2 and 3."""
    h = harness
    conn = h.connect()
    session = session_of(h, conn)
    h.server.push_update(session, 100, ("m1", "m2"))
    h.server.push_update(session, 200, ())
    h.settle()
    assert told(h, "chain") == [
        (STREAM, 0.0, FederationUpdate(100, ("m1", "m2"), conn, 2)),
        (STREAM, 0.0, FederationUpdate(200, (), conn, 3)),
    ]
    assert told(h, "bridge") == []


def test_without_routes_an_update_goes_to_the_actor_named_federation(target: Target) -> None:
    """No routes given: "federation" is the actor's own name."""
    with running(target, jitter=0.0) as h:
        h.system.spawn("federation", Role())
        system = h.system
        stream = target.governance.stream(system, name="other-stream")
        try:
            opened = stream.connect(h.server.endpoint)
            h.scheduler.run_until_idle()
            conn = stream.outcome(opened)
            assert stream.wait_event(10.0)
            while stream.connection(conn)["state"] != "connected":
                stream.wait_event(0.01)
                stream.pump()
                h.scheduler.run_until_idle()
            session = next(s for s in h.server.sessions if s.received)
            h.server.push_update(session, 7, ("a",))
            assert stream.wait_event(10.0)
            assert stream.pump() == 1
            h.scheduler.run_until_idle()
            got = [(r.sender, r.message) for r in system.received("federation") if r.hook == "handle"]
            assert [
                (s, type(m).__name__, m.effective_height, m.members, m.source_sequence) for s, m in got
            ] == [("other-stream", "FederationUpdateMessage", 7, ("a",), 2)]
        finally:
            stream.close()


# --- the client's API -------------------------------------------------------------------------------


def test_replies_are_numbered_from_one_and_read_only_once_handled(target: Target) -> None:
    """Each command's reply id is the next integer from 1; before the scheduler runs it the outcome
    is Unanswered, an id never given is UnknownReply; both say which."""
    system = target.actors.system(scheduler := SuiteScheduler())
    stream = target.governance.stream(system)
    first = stream.send(1, "status_update", "a")
    second = stream.request_signatures(2, "b", "bridge", "00")
    assert (first, second) == (1, 2)
    with pytest.raises(
        Exception, match=r"^the actor has not handled command 1 yet \(run the scheduler\)$"
    ) as err:
        stream.outcome(first)
    assert type(err.value).__name__ == "Unanswered" and isinstance(err.value, RuntimeError)
    with pytest.raises(LookupError, match=r"^no command with reply 3$") as unknown:
        stream.outcome(3)
    assert type(unknown.value).__name__ == "UnknownReply"
    scheduler.run_until_idle()
    for reply, conn in ((first, 1), (second, 2)):
        with pytest.raises(LookupError, match=rf"^no connection {conn}$") as missing:
            stream.outcome(reply)
        assert type(missing.value).__name__ == "UnknownConnection"
    assert stream.pending() == []
    stream.close()


def test_reading_an_unknown_connection_is_unknown_connection(target: Target) -> None:
    """connection(id) of an id never opened raises UnknownConnection naming it."""
    stream = bare(target)
    with pytest.raises(LookupError, match=r"^no connection 4$"):
        stream.connection(4)
    assert stream.connections() == []


def test_a_notification_outside_the_contract_is_refused_before_the_actor_is_told(target: Target) -> None:
    """A kind that is not a notification, and a field the kind lacks or of the wrong type, are
    ValueErrors naming them; no command is told (the next reply is still 1)."""
    stream = bare(target)
    with pytest.raises(
        ValueError, match=r"^'heartbeat' is not a notification \(status_update, pegin_notification\)$"
    ):
        stream.send(1, "heartbeat", "h")
    with pytest.raises(ValueError, match=r"^status_update\.colour = 'red': "):
        stream.send(1, "status_update", "s", colour="red")
    with pytest.raises(ValueError, match=r"^pegin_notification\.amount = 'x': "):
        stream.send(1, "pegin_notification", "p", amount="x")
    assert stream.send(1, "pegin_notification", "p", btc_txid="ab") == 1


@pytest.mark.parametrize("timeout", [-0.001, 60.001, float("inf")])
def test_a_wait_outside_zero_to_sixty_seconds_is_a_value_error(target: Target, timeout: float) -> None:
    """wait_event takes 0..60 s of real time, both ends included."""
    stream = bare(target)
    with pytest.raises(ValueError, match=r"^a wait of .* s is outside 0\.\.60 s$"):
        stream.wait_event(timeout)


def within(seconds: float, call: Any) -> Any:
    """call() on a thread, its result if it returns within `seconds` of real time (else a failure): a
    guard that tells a bounded wait from a hang, not a speed figure."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert out, f"still blocked after {seconds}s"
    return out[0]


def test_a_wait_at_either_end_is_taken(target: Target) -> None:
    """wait_event(0) and wait_event(0.2) with nothing arrived return False; with an event waiting,
    wait_event(0) and wait_event(60) return True without waiting out their timeout (a 5 s hang guard)."""
    stream = bare(target)
    assert within(5.0, lambda: stream.wait_event(0.0)) is False
    assert within(5.0, lambda: stream.wait_event(0.2)) is False
    assert stream.pump() == 0
    stream.actor.post(object())  # what a reader thread does with what it receives
    assert within(5.0, lambda: stream.wait_event(0.0)) is True
    assert within(5.0, lambda: stream.wait_event(60.0)) is True


def test_a_command_the_mailbox_refuses_is_answered_at_once_with_the_refusal(target: Target) -> None:
    """The actor's mailbox holds 5000 (policy reject): 5000 commands told before the scheduler runs
    are taken; the next one's reply is resolved at once with a RuntimeError naming the refusal."""
    system = target.actors.system(scheduler := SuiteScheduler())
    stream = target.governance.stream(system)
    replies = [stream.send(1, "status_update", f"m{i}") for i in range(5000)]
    with pytest.raises(RuntimeError, match=r"^the actor has not handled command \d+ yet"):  # Unanswered
        stream.outcome(replies[-1])
    refused = stream.send(1, "status_update", "one-too-many")
    with pytest.raises(RuntimeError, match=r"^the StreamActor's mailbox rejected the command$"):
        stream.outcome(refused)
    scheduler.run_until_idle()
    with pytest.raises(LookupError, match=r"^no connection 1$"):
        stream.outcome(replies[-1])


def test_pump_tells_each_event_received_and_says_how_many(harness: StreamHarness) -> None:
    """The registration ack is one event: pump hands it over (1), then nothing is left (0)."""
    h = harness
    reply = h.stream.connect(h.server.endpoint)
    h.scheduler.run_until_idle()
    conn = h.stream.outcome(reply)
    h.server.wait(lambda: bool(h.server.sessions) and h.server.sessions[0].queued == 1)
    assert h.stream.wait_event(10.0)
    while h.stream.actor.inbox.qsize() < 1:
        h.stream.wait_event(0.01)
    assert h.stream.pump() == 1
    assert h.stream.pump() == 0

    h.scheduler.run_until_idle()
    assert h.connection(conn).state == "connected"


def test_close_closes_every_connection_and_refuses_what_follows(harness: StreamHarness) -> None:
    """close(): each connection Closed on a new generation, holding no channel; a send after it is
    refused GaveUp naming the state "closed"; the sweep stops, so no timer is left after a minute."""
    h = harness
    a, b = h.connect(), h.connect()
    h.stream.close()
    views = h.connections()
    assert [(c.id, c.state, c.generation, c.open) for c in views] == [
        (a, "closed", 2, False),
        (b, "closed", 2, False),
    ]
    refusal = h.result(h.stream.send(a, "status_update", "x"))
    assert type(refusal).__name__ == "GaveUp" and str(refusal) == f"connection {a} is closed"
    h.advance(61.0)
    assert h.scheduler.model.next_timer() is None
    assert not [t for t in threading.enumerate() if t.name.startswith("governance-reader")]


def test_the_view_of_a_connection_has_every_field_as_plain_data(harness: StreamHarness) -> None:
    """connection(id) and connections() give the interface's mapping (exactly its keys), JSON types."""
    h = harness
    conn = h.connect()
    view = h.stream.connection(conn)
    assert StreamConnection.of(view).id == conn
    assert view["endpoint"] == h.server.endpoint and view["state"] == "connected" and view["open"] is True
    assert [v["id"] for v in h.stream.connections()] == [conn]
    assert all(
        isinstance(v, list) for k, v in view.items() if k in ("buffer", "dropped", "attempts", "waits")
    )


def test_the_reader_thread_is_named_for_its_connection(harness: StreamHarness) -> None:
    """Each stream's reader thread is governance-reader-<connection>, a daemon, gone once closed."""
    h = harness
    conn = h.connect()
    readers = [t for t in threading.enumerate() if t.name == f"governance-reader-{conn}"]
    assert len(readers) == 1 and readers[0].daemon, "a stream left open never keeps the process alive"
    h.stream.close()
    assert f"governance-reader-{conn}" not in [t.name for t in threading.enumerate()]


# --- a defect found on the way ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["status_update", "pegin_notification"])
def test_a_notification_without_fields_still_carries_its_kind(harness: StreamHarness, kind: str) -> None:
    """send(conn, kind, id) with no fields: the server receives a StreamRequest whose payload is kind
    (found by mutation: the port once sent no payload at all, getattr without SetInParent)."""
    h = harness
    conn = h.connect()
    assert h.result(h.stream.send(conn, kind, "bare")) == "sent"
    h.settle()
    assert payloads(session_of(h, conn))[-1] == (kind, "bare", 2)


def test_the_sweep_times_out_every_request_due_whatever_its_place(target: Target) -> None:
    """Requested again, a request keeps its place among the pending but takes the new deadline: the
    sweep at 30 s passes over it (due at 35 s) and still times out the one behind it (due at 30 s)."""
    with running(target, jitter=0.0, request_timeout=25.0) as h:
        conn = h.connect()
        h.result(h.stream.request_signatures(conn, "a", "bridge", "00"))
        h.advance(5.0)
        h.result(h.stream.request_signatures(conn, "b", "bridge", "00"))
        h.advance(5.0)
        h.result(h.stream.request_signatures(conn, "a", "bridge", "00"))
        assert h.pending() == ["a", "b"]
        h.advance(20.0)
        assert h.pending() == ["a"]
        h.advance(10.0)
        assert [(at, m) for _, at, m in told(h, "bridge")] == [
            (30.0, SignatureTimeout("b")),
            (40.0, SignatureTimeout("a")),
        ]


# --- the quirks, as target alys shows them (alys_pbt/deviations.py) ---------------------------------


@pytest.fixture(scope="module")
def v2() -> Target:
    """Target alys: the port with the V2 code's quirks."""
    loaded: Target = targets.load("alys")
    return loaded


def test_on_alys_every_signature_status_is_handed_on_as_complete(v2: Target) -> None:
    """governance-signature-status-squashed: a FAILED answer reaches the requester as COMPLETE, with
    its own id, witnesses and connection."""
    with running(v2, jitter=0.0) as h:
        conn = h.connect()
        h.result(h.stream.request_signatures(conn, "f", "bridge", "00"))
        h.settle()
        h.server.answer("f", 4)
        h.settle()
        assert [m for _, _, m in told(h, "bridge")] == [ApplySignatures("f", "COMPLETE", (b"f/0",), conn)]


def test_on_alys_jitter_carries_a_wait_past_the_cap(v2: Target) -> None:
    """governance-backoff-jitter-past-cap: past the cap the jittered wait is 300 s + U(-30, 30) as
    drawn, above 300 s for about half the draws; under the cap the schedule is the coded one."""
    seed = 11
    stream = v2.governance.stream(v2.actors.system(SuiteScheduler()), seed=seed)
    rng = random.Random(seed)
    for n in (1, 5, 9, 10, 10, 10, 10, 10, 10):
        delay = min(2.0**n, 300.0)
        assert stream.backoff(n) == max(0.1, delay + rng.uniform(-0.1 * delay, 0.1 * delay))
    assert max(stream.backoff(12) for _ in range(20)) > 300.0


def test_on_alys_the_connection_cap_is_not_enforced(v2: Target) -> None:
    """governance-connection-cap-unenforced: with max_connections 1 a second connection opens."""
    with running(v2, jitter=0.0, max_connections=1) as h:
        assert [h.connect(), h.connect()] == [1, 2]


def test_on_alys_a_reconnect_loses_what_was_buffered(v2: Target) -> None:
    """governance-buffer-lost-on-reconnect: messages buffered while down are gone at the next
    attempt, never written; the connection's first attempt loses nothing (alys-fixed: all kept)."""
    for spec, kept in (("alys", []), ("alys-fixed", ["m0", "m1"])):
        with running(targets.load(spec), jitter=0.0) as h:
            conn = down(h)
            for i in range(2):
                h.result(h.stream.send(conn, "status_update", f"m{i}", block_height=1))
            h.server.start()
            h.advance(2.0)
            c = h.connection(conn)
            assert (c.state, c.buffer, c.dropped) == ("connected", (), ()), spec
            assert h.delivered(conn) == kept, spec
    with running(v2, jitter=0.0) as h:
        conn = h.result(h.stream.connect(h.server.endpoint))
        assert h.result(h.stream.send(conn, "status_update", "early", block_height=1)) == "buffered"
        h.settle()
        assert h.delivered(conn) == ["early"]


def test_on_alys_silence_is_logged_but_the_stream_is_kept(v2: Target) -> None:
    """governance-silence-undetected: inbound traffic never refreshes liveness, so each monitor past
    the timeout records a detection even while heartbeats are answered, and the stream stays."""
    config = {"heartbeat_interval": 7.0, "monitor_interval": 11.0, "heartbeat_timeout": 22.0}
    with running(v2, jitter=0.0, **config) as h:
        conn = h.connect()
        h.advance(55.0)
        c = h.connection(conn)
        assert (c.detections, c.last_received, c.generation, c.state) == (
            (33.0, 44.0, 55.0),
            0.0,
            1,
            "connected",
        )
        assert c.heartbeat_acks == (1, 2, 3, 4, 5, 6, 7)


def test_the_timers_of_a_replaced_stream_are_spent(target: Target) -> None:
    """Dropped at 4 s and replaced at once: the old stream's heartbeat (30 s) and monitor (60 s) do
    nothing; the new one beats at 34 s and 64 s, its sequence going on from the connection's."""
    with running(target, jitter=0.0) as h:
        conn = h.connect()
        old = dropped_at(h, conn, 4.0)
        h.advance(60.0)
        new = session_of(h, conn)
        beats = [(r.heartbeat.sequence, r.heartbeat.timestamp) for r in new.of_kind("heartbeat")]
        assert beats == [(1, 34), (2, 64)] and not old.of_kind("heartbeat")
        c = h.connection(conn)
        assert (c.generation, c.attempts, c.detections, c.heartbeat_sequence) == (3, (0.0, 4.0), (), 2)


def test_a_stream_the_server_ends_is_replaced_at_once(harness: StreamHarness) -> None:
    """The server ends a Connected stream normally (status OK, not an error): a loss like any other,
    no failure counted, a new stream at once, registered and Connected."""
    h = harness
    conn = h.connect()
    h.advance(3.0)
    session = session_of(h, conn)
    session.outbox.put(_END)  # the server's handler returns: the call ends with OK
    h.server.wait(lambda: not session.open)
    h.settle()
    c = h.connection(conn)
    assert (c.state, c.generation, c.failures, c.waits, c.attempts) == (
        "connected",
        3,
        0,
        ((0, 0.0),),
        (0.0, 3.0),
    )
    assert payloads(session_of(h, conn)) == [("node_registration", f"register-{conn}-3", 1)]


def test_a_message_the_actor_has_no_handler_for_is_a_panic(target: Target) -> None:
    """Told something that is not one of its messages, the actor fails (a panic, not an answer)."""
    with harnessed(target, jitter=0.0) as h:
        assert h.system.tell(STREAM, "junk", sender="outside") == "accepted"
        h.scheduler.run_until_idle()
        cell = h.system.lookup(STREAM)
        assert [e for _, e in cell.history][:2] == ["running", "failed"]


def test_one_sweep_serves_every_connection_from_the_first(target: Target) -> None:
    """The sweep starts with the first connection (every 10 s from 0) and a later connection starts
    no second one: a request due at 24 s times out at the sweep of 30 s, not at 25 s."""
    with running(target, jitter=0.0, request_timeout=19.0) as h:
        h.connect()
        h.advance(5.0)
        second = h.connect()
        h.result(h.stream.request_signatures(second, "r", "bridge", "00"))
        h.advance(20.0)
        assert h.pending() == ["r"]
        h.advance(5.0)
        assert [(at, m) for _, at, m in told(h, "bridge")] == [(30.0, SignatureTimeout("r"))]


def test_pump_counts_every_event_waiting(target: Target) -> None:
    """Three events waiting (as the reader threads post them): one pump tells all three, says 3."""
    stream = bare(target)
    for _ in range(3):
        stream.actor.post(object())
    assert stream.pump() == 3
    assert stream.pump() == 0
