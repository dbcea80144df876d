"""The governance stream machine: the target's StreamActor, running on the target's actor runtime on
the suite's deterministic scheduler, against the suite's real gRPC governance server on loopback.

Hypothesis chooses what the node sends, what the server answers and when (late, never, in any
order), when a stream drops, when the server is partitioned away, heals, restarts or goes silent,
and how simulated time moves. gRPC itself runs on its own threads; after each step the machine
waits until both sides have seen everything in flight (`settle`: a bounded wait on events, never a
sleep that decides anything), so each step's outcome is fixed and the program shrinks and replays.
Time is the scheduler's: the actor reads no other clock. `advance` moves it timer by timer, settling
between, as a network of negligible latency would.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from alys_pbt.governance import GovernanceServer, Session, port_is_free, running_server
from alys_pbt.interface import Role, Target
from alys_pbt.models.governance import (
    ApplySignatures,
    FederationUpdate,
    OutboundBuffer,
    SignatureTimeout,
    StreamConnection,
    StreamPolicy,
    backoff_bounds,
    detection_bound,
    gives_up,
    handed,
    refuses_connection,
)
from alys_pbt.models.machines.actors import SuiteScheduler
from alys_pbt.strategies.governance import (
    NOTIFICATIONS,
    STATUS_NUMBERS,
    signature_statuses,
    stream_policies,
    time_steps,
)

# Seconds of wall clock before a hung stream is reported: a guard only, wide enough that a loaded
# machine (two processes over the target protocol, on cores shared with other work) never trips it,
# since a guard that trips on one run and not on its replay makes Hypothesis report a flaky test.
SETTLE_TIMEOUT = 30.0
CONTROL = ("node_registration", "heartbeat")  # what the actor writes on its own
REFUSALS = ("TooManyConnections", "UnknownConnection", "GaveUp")  # a command's refusals, by name


class StreamHarness:
    """A target's StreamActor on the suite's scheduler, against a GovernanceServer: settle and advance.

    Everything it reads of the actor is the interface's plain data (connections, pending requests,
    what the bridge and the chain actors were told), the same in process and over the protocol."""

    def __init__(self, target: Target, server: GovernanceServer, *, seed: int = 0, **config: Any) -> None:
        self.scheduler = SuiteScheduler()
        self.server = server
        self.heard: dict[tuple[int, int], float] = {}  # (connection, generation) -> last inbound, sim time
        self._seen: dict[tuple[int, int], int] = {}
        self.system = target.actors.system(self.scheduler)
        # The bridge (the requester) and the chain (routes["federation"]): actors of the node that do
        # nothing but keep what they are told, given as data (the actors component's Role).
        self.system.spawn("bridge", Role())
        self.system.spawn("chain", Role())
        self.stream = target.governance.stream(
            self.system, routes={"federation": "chain"}, seed=seed, **config
        )

    def now(self) -> float:
        return float(self.scheduler.now())

    # --- what the suite reads ---------------------------------------------------------------------
    def connections(self) -> list[StreamConnection]:
        return [StreamConnection.of(c) for c in self.stream.connections()]

    def connection(self, conn_id: int) -> StreamConnection:
        return StreamConnection.of(self.stream.connection(conn_id))

    def pending(self) -> list[str]:
        return list(self.stream.pending())

    def _told(self, actor: str) -> list[Any]:
        """What an actor was told, in order, each read as the interface describes it."""
        return [handed(r.message) for r in self.system.received(actor) if r.hook == "handle"]

    def applied(self) -> list[ApplySignatures | SignatureTimeout]:
        """What the bridge (the requester) was told: ApplySignatures and SignatureTimeout, in order."""
        told = self._told("bridge")
        assert not [m for m in told if isinstance(m, FederationUpdate)], "the bridge was told an update"
        return told

    def updates(self) -> list[FederationUpdate]:
        """What the chain (routes["federation"]) was told, in order."""
        told = self._told("chain")
        assert all(isinstance(m, FederationUpdate) for m in told), f"the chain was told {told}"
        return told

    # --- commands ---------------------------------------------------------------------------------
    def result(self, reply: Any) -> Any:
        """A command's answer once the scheduler has run it: its value, or the refusal it carries
        (an exception, known by its name)."""
        self.scheduler.run_until_idle()
        try:
            return self.stream.outcome(reply)
        except Exception as err:  # a refusal is known by its name (a target's class)
            if type(err).__name__ not in REFUSALS:
                raise
            return err

    def connect(self) -> int:
        """A connection to the server, once the server has acknowledged it (its id)."""
        conn = self.stream.outcome(self.ask(self.stream.connect(self.server.endpoint)))
        self.settle()
        state = self.connection(conn).state
        assert state == "connected", f"the server acknowledged the registration, yet {conn} is {state}"
        return int(conn)

    def ask(self, reply: Any) -> Any:
        """A command's reply, once the scheduler has run it."""
        self.scheduler.run_until_idle()
        return reply

    # --- time and the network ---------------------------------------------------------------------
    def session(self, conn: StreamConnection) -> Session | None:
        """The server's side of the connection's current stream (its registration names it)."""
        name = f"register-{conn.id}-{conn.generation}"
        for session in self.server.sessions:
            if session.received and session.received[0].metadata.request_id == name:
                return session
        return None

    def _quiet(self, conn: StreamConnection) -> bool:
        """Nothing of the connection is in flight: its events are handled, or only time can move it."""
        if conn.state in ("backoff", "gave-up", "closed"):
            return True
        session = self.session(conn)
        if session is None or not session.open or not self.server.running:
            return False  # its registration is on the way, or its end is
        with self.server.changed:  # everything written has arrived, and everything the server sent
            return bool(len(session.received) == conn.out_sequence and session.queued == conn.in_sequence)

    def settle(self) -> None:
        """Run the scheduler and hand the actor what gRPC delivered until nothing is in flight."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            self.stream.pump()
            self.scheduler.run_until_idle()
            conns = self.connections()
            for conn in conns:
                key = (conn.id, conn.generation)
                if self._seen.get(key, 0) < conn.in_sequence:
                    self._seen[key] = conn.in_sequence
                    self.heard[key] = self.now()
            if all(self._quiet(c) for c in conns) and not self.scheduler.ready:
                return
            if time.monotonic() > deadline:
                states = {c.id: (c.state, c.out_sequence, c.in_sequence) for c in conns}
                raise AssertionError(f"the stream did not settle in {SETTLE_TIMEOUT}s: {states}")
            self.stream.wait_event(0.002)

    def advance(self, dt: float) -> None:
        """Simulated time moves on, timer by timer (each fires at its own time), settling between."""
        end = self.now() + dt
        while (due := self.scheduler.model.next_timer()) is not None and due <= end:
            self.scheduler.advance(max(0.0, due - self.now()))
            self.settle()
        self.scheduler.advance(max(0.0, end - self.now()))
        self.settle()

    def delivered(self, conn_id: int) -> list[str]:
        """The ids the server received from a connection, over all its streams, in order."""
        out = []
        for session in self.server.sessions:
            if session.received and session.received[0].metadata.request_id.startswith(
                f"register-{conn_id}-"
            ):
                out += [
                    r.metadata.request_id for r in session.received if r.WhichOneof("payload") not in CONTROL
                ]
        return out

    def close(self) -> None:
        self.stream.close()
        self.server.stop()
        held = [c.id for c in self.connections() if c.open]
        assert not held, f"connections still holding a channel: {held}"
        assert port_is_free(self.server.port), f"port {self.server.port} still bound"


@contextlib.contextmanager
def harnessed(
    target: Target, *, seed: int = 0, script: dict[str, Any] | None = None, **config: Any
) -> Iterator[StreamHarness]:
    """A StreamHarness against a fresh server; on leaving, everything closed and checked for leaks."""
    with running_server(**(script or {})) as server:
        harness = StreamHarness(target, server, seed=seed, **config)
        try:
            yield harness
        finally:
            harness.stream.close()


class GovernanceMachine(RuleBasedStateMachine):
    """One StreamActor against one scripted governance server."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.server = GovernanceServer()
        self.h: StreamHarness | None = None
        self.ids = 0
        self.acknowledged: dict[int, list[str]] = {}  # connection -> ids the actor took, in order
        self.buffers: dict[int, OutboundBuffer] = {}  # the model of each connection's buffer
        self.answered: dict[str, str] = {}  # request id -> status the server sent
        self.requested: dict[str, float] = {}  # request id -> when the actor took it (simulated)
        self.pushed: dict[int, list[int]] = {}  # connection -> effective heights pushed, in order
        self.refused = 0

    @property
    def harness(self) -> StreamHarness:
        assert self.h is not None
        return self.h

    def live(self) -> int:
        return sum(c.state not in ("gave-up", "closed") for c in self.harness.connections())

    def _connected(self) -> list[StreamConnection]:
        h = self.harness
        return [c for c in h.connections() if c.state == "connected" and h.session(c)]

    def _unanswered(self) -> dict[str, Session]:
        """Requests on the current stream of a Connected connection the server has not answered,
        with that stream (not the server's own list: a stream the node closed ends there later)."""
        out: dict[str, Session] = {}
        for conn in self._connected():
            session = self.harness.session(conn)
            assert session is not None
            for r in session.of_kind("signature_request"):
                if r.metadata.request_id not in self.answered:
                    out[r.metadata.request_id] = session
        return dict(sorted(out.items()))

    # --- setup ----------------------------------------------------------------------------------
    @initialize(policy=stream_policies(), seed=st.integers(0, 2**32 - 1))
    def start(self, policy: StreamPolicy, seed: int) -> None:
        self.policy = policy
        self.server.start()
        config = {k: getattr(policy, k) for k in ("max_connections", "buffer_size", "jitter")}
        self.h = StreamHarness(self.target, self.server, seed=seed, **config)
        note(f"policy {policy}, jitter seed {seed}, server on {self.server.endpoint}")
        self._connect()

    def teardown(self) -> None:
        if self.h is not None:
            self.h.close()
        self.server.stop()

    # --- rules ----------------------------------------------------------------------------------
    def _connect(self) -> None:
        h = self.harness
        must_refuse = refuses_connection(self.policy, self.live())
        conn = h.result(h.stream.connect(self.server.endpoint))
        if isinstance(conn, Exception):
            assert type(conn).__name__ == "TooManyConnections", f"connect raised {conn!r}"
            assert must_refuse, (
                f"refused a connection with {self.live()} of {self.policy.max_connections} live"
            )
            self.refused += 1
            note(f"connect: refused ({conn})")
            return
        note(f"connect: connection {conn}")
        self.acknowledged[conn] = []
        self.buffers[conn] = OutboundBuffer(self.policy.buffer_size)
        self.pushed[conn] = []
        h.settle()

    @precondition(
        lambda self: (
            self.h is not None and len(self.h.connections()) + self.refused <= self.policy.max_connections
        )
    )
    @rule()
    def connect(self) -> None:
        self._connect()

    def _next_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"

    def _take(self, conn_id: int, verdict: Any, message_id: str) -> None:
        """What the actor answered a send: sent (Connected), buffered (not yet), refused (gave up)."""
        state = self.harness.connection(conn_id).state  # a send changes no state
        if state in ("gave-up", "closed"):
            assert type(verdict).__name__ == "GaveUp", f"a connection that {state} took {message_id}"
            return
        expected = "sent" if state == "connected" else "buffered"
        assert verdict == expected, f"{message_id}: the actor said {verdict!r}, expected {expected}"
        self.acknowledged[conn_id].append(message_id)
        if expected == "buffered":
            self.buffers[conn_id].enqueue(message_id)

    def _draw(self, data: st.DataObject, among: list[StreamConnection]) -> int:
        """One of `among`, drawn by id (a counterexample reads `connection: 2`)."""
        return data.draw(st.sampled_from([c.id for c in among]), label="connection")

    def _conn(self, data: st.DataObject) -> int:
        return self._draw(data, self.harness.connections())

    def _send(self, conn_id: int, kind: str, message_id: str) -> Any:
        h = self.harness
        verdict = h.result(h.stream.send(conn_id, kind, message_id))
        self._take(conn_id, verdict, message_id)
        return verdict

    @precondition(lambda self: self.h is not None and self.h.connections())
    @rule(data=st.data(), kind=st.sampled_from(NOTIFICATIONS))
    def send(self, data: st.DataObject, kind: str) -> None:
        h, conn_id = self.harness, self._conn(data)
        message_id, state = self._next_id(kind), h.connection(conn_id).state
        verdict = self._send(conn_id, kind, message_id)
        note(f"send {message_id} on {conn_id} ({state}): {verdict}")
        h.settle()

    def _request(self, conn_id: int, request_id: str, amounts: tuple[int, ...]) -> Any:
        h = self.harness
        verdict = h.result(h.stream.request_signatures(conn_id, request_id, "bridge", "00" * 8, amounts))
        self._take(conn_id, verdict, request_id)
        if not isinstance(verdict, Exception):
            self.requested[request_id] = h.now()
        return verdict

    @precondition(lambda self: self.h is not None and self.h.connections())
    @rule(data=st.data())
    def request_signatures(self, data: st.DataObject) -> None:
        h, conn_id = self.harness, self._conn(data)
        request_id, state = self._next_id("sig"), h.connection(conn_id).state
        verdict = self._request(conn_id, request_id, (1000,))
        note(f"request signatures {request_id} on {conn_id} ({state}): {verdict}")
        h.settle()

    @precondition(lambda self: self.h is not None and self._unanswered())
    @rule(data=st.data(), status=signature_statuses)
    def answer_signatures(self, data: st.DataObject, status: str) -> None:
        """The server answers one request it holds, in an order Hypothesis picks (late, or never)."""
        held = self._unanswered()
        request_id = data.draw(st.sampled_from(sorted(held)), label="request")
        self.answered[request_id] = status
        self.server.answer(request_id, STATUS_NUMBERS[status], session=held[request_id])
        note(f"server answers {request_id}: {status}")
        self.harness.settle()

    @precondition(lambda self: self.h is not None and self._connected() and not self.server.silent)
    @rule(data=st.data(), statuses=st.lists(signature_statuses, min_size=1, max_size=4))
    def request_then_answer_in_any_order(self, data: st.DataObject, statuses: list[str]) -> None:
        """Several requests on one stream, answered in an order Hypothesis picks."""
        h = self.harness
        conn_id = self._draw(data, self._connected())
        ids = [self._next_id("sig") for _ in statuses]
        for request_id in ids:
            self._request(conn_id, request_id, (1,))
        h.settle()
        order = data.draw(st.permutations(range(len(ids))), label="answer order")
        note(f"requests {ids} on {conn_id}, answered in order {[ids[i] for i in order]}: {statuses}")
        session = h.session(h.connection(conn_id))
        for i in order:
            self.answered[ids[i]] = statuses[i]
            self.server.answer(ids[i], STATUS_NUMBERS[statuses[i]], session=session)
        h.settle()

    @precondition(lambda self: self.h is not None and self.server.running)
    @rule(data=st.data(), count=st.integers(1, 6))
    def outage(self, data: st.DataObject, count: int) -> None:
        """A partition while the node keeps sending, then the heal and the reconnect it waits for."""
        h = self.harness
        self.server.stop()
        h.settle()
        conn_id = self._conn(data)
        for _ in range(count):
            self._send(conn_id, "status_update", self._next_id("status_update"))
        self.server.start()
        wait = max([w for _, w in h.connection(conn_id).waits[-1:]] or [0.0])
        note(f"outage: {count} sent on {conn_id} while partitioned; healed; time +{wait:g}")
        h.advance(wait)

    @precondition(lambda self: self.h is not None and self._connected() and not self.server.silent)
    @rule(data=st.data(), height=st.integers(0, 2**40))
    def push_federation_update(self, data: st.DataObject, height: int) -> None:
        h = self.harness
        conn_id = self._draw(data, self._connected())
        session = h.session(h.connection(conn_id))
        assert session is not None
        self.server.push_update(session, height, (f"m{height % 7}",))
        self.pushed[conn_id].append(height)
        note(f"server pushes federation update @{height} on {conn_id}")
        h.settle()

    @precondition(lambda self: self.h is not None and self._connected())
    @rule(data=st.data())
    def drop_stream(self, data: st.DataObject) -> None:
        h = self.harness
        conn_id = self._draw(data, self._connected())
        session = h.session(h.connection(conn_id))
        assert session is not None
        note(f"server drops the stream of {conn_id}")
        self.server.drop(session)
        self.server.wait(lambda: not session.open)
        h.settle()

    @precondition(lambda self: self.h is not None and self.server.running)
    @rule()
    def partition(self) -> None:
        note("partition: the server is unreachable")
        self.server.stop()
        self.harness.settle()

    @precondition(lambda self: self.h is not None and not self.server.running)
    @rule()
    def heal(self) -> None:
        note("heal: the server is reachable again")
        self.server.start()
        self.harness.settle()

    @precondition(lambda self: self.h is not None and self.server.running)
    @rule()
    def restart_server(self) -> None:
        note("the server restarts")
        self.server.restart()
        self.harness.settle()

    @precondition(lambda self: self.h is not None)
    @rule(silent=st.booleans())
    def go_silent(self, silent: bool) -> None:
        """The server stops (or resumes) answering anything: registrations and heartbeats alike."""
        self.server.silent = silent
        note(f"server silent: {silent}")

    @precondition(lambda self: self.h is not None)
    @rule()
    def silence_past_the_heartbeat(self) -> None:
        self.server.silent = True
        note("server silent, and time passes the detection bound")
        self.harness.advance(detection_bound(self.policy) + 1.0)

    @precondition(
        lambda self: (
            self.h is not None and any(c.state in ("backoff", "connecting") for c in self.h.connections())
        )
    )
    @rule(data=st.data(), extra=st.integers(1, 3), kind=st.sampled_from(NOTIFICATIONS))
    def fill_the_buffer(self, data: st.DataObject, extra: int, kind: str) -> None:
        """While a connection is down, send its buffer's capacity and `extra` more."""
        h = self.harness
        conn_id = self._draw(data, [c for c in h.connections() if c.state in ("backoff", "connecting")])
        for _ in range(self.policy.buffer_size + extra):
            self._send(conn_id, kind, self._next_id(kind))
        note(f"filled the buffer of {conn_id} with {self.policy.buffer_size + extra}")
        h.settle()

    @precondition(lambda self: self.h is not None)
    @rule(dt=time_steps())
    def advance(self, dt: float) -> None:
        self.harness.advance(dt)
        note(f"time +{dt:g} -> {self.harness.now():g}")

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def nothing_acknowledged_is_lost_but_what_the_policy_drops(self) -> None:
        if self.h is None:
            return
        for conn in self.h.connections():
            delivered = self.h.delivered(conn.id)
            dupes = sorted({m for m in delivered if delivered.count(m) > 1})
            assert not dupes, f"connection {conn.id} delivered {dupes} more than once"
            model = self.buffers[conn.id]
            if conn.state == "connected":  # its buffer has been replayed
                model.flush()
            owed = [m for m in self.acknowledged[conn.id] if m not in model.dropped and m not in delivered]
            waiting = list(conn.buffer)
            assert owed == waiting, (
                f"connection {conn.id} ({conn.state}) holds {waiting}, but owes {owed} "
                f"(the policy dropped {model.dropped})"
            )
            assert list(conn.dropped) == model.dropped, (
                f"dropped {list(conn.dropped)}, the policy drops {model.dropped}"
            )

    @invariant()
    def order_is_kept_per_stream(self) -> None:
        for session in self.server.sessions:
            seqs = [r.metadata.sequence for r in list(session.received)]
            assert seqs == list(range(1, len(seqs) + 1)), f"stream {session.id} carried sequences {seqs}"
        if self.h is None:
            return
        updates = self.h.updates()
        for conn in self.h.connections():
            acks = list(conn.heartbeat_acks)  # each echoes a heartbeat sent, in the order sent
            assert acks == sorted(set(acks)) and all(0 < a <= conn.heartbeat_sequence for a in acks), (
                f"connection {conn.id} had heartbeats {acks} acknowledged, of {conn.heartbeat_sequence} sent"
            )
            delivered = self.h.delivered(conn.id)
            order = [m for m in self.acknowledged[conn.id] if m in delivered]
            assert delivered == order, f"connection {conn.id} delivered {delivered}, taken in order {order}"
            heights = [u.effective_height for u in updates if u.connection == conn.id]
            assert heights == self.pushed[conn.id], f"pushed {self.pushed[conn.id]}, forwarded {heights}"

    @invariant()
    def every_signature_response_matches_its_request(self) -> None:
        if self.h is None:
            return
        applied = self.h.applied()
        handed_on = [m for m in applied if isinstance(m, ApplySignatures)]
        ids = [m.request_id for m in applied]  # answers and timeouts
        assert len(ids) == len(set(ids)), f"a request was resolved twice: {ids}"
        # resolved or timed out within request_timeout + one sweep (actor.rs:629, 891-915)
        late = self.policy.request_timeout + self.policy.sweep_interval
        overdue = sorted(r for r, t in self.requested.items() if self.h.now() >= t + late and r not in ids)
        assert not overdue, f"{overdue} neither answered nor timed out {late:g}s after they were taken"
        for m in handed_on:
            assert m.request_id in self.answered, f"{m.request_id} resolved, but never answered"
            assert m.witnesses == (f"{m.request_id}/0".encode(),), (
                f"{m.request_id} was handed the witnesses {m.witnesses}"
            )
            assert m.status == self.answered[m.request_id], (
                f"{m.request_id} handed on as {m.status}, the server answered {self.answered[m.request_id]}"
            )

    @invariant()
    def backoff_schedule_and_connection_cap_are_obeyed(self) -> None:
        if self.h is None:
            return
        conns = self.h.connections()
        live = sum(c.state not in ("gave-up", "closed") for c in conns)
        assert live <= self.policy.max_connections, (
            f"{live} live connections, the cap is {self.policy.max_connections}"
        )
        for conn in conns:
            for failures, wait in conn.waits:
                low, high = backoff_bounds(self.policy, failures)
                assert low - 1e-9 <= wait <= high + 1e-9, (
                    f"connection {conn.id} waited {wait:g}s after {failures} failures; the schedule says "
                    f"[{low:g}, {high:g}]"
                )
            gaps = [b - a for a, b in zip(conn.attempts, conn.attempts[1:], strict=False)]
            for gap, (_, wait) in zip(gaps, conn.waits, strict=False):
                assert gap >= wait - 1e-9, f"connection {conn.id} tried again after {gap:g}s, not {wait:g}s"
            if conn.state == "gave-up":
                assert gives_up(self.policy, conn.failures), f"gave up after {conn.failures} failures"

    @invariant()
    def the_buffer_bound_is_never_exceeded(self) -> None:
        if self.h is None:
            return
        for conn in self.h.connections():
            assert len(conn.buffer) <= self.policy.buffer_size, (
                f"connection {conn.id} buffers {len(conn.buffer)} > {self.policy.buffer_size}"
            )

    @invariant()
    def a_silent_server_is_detected_within_the_heartbeat_bound(self) -> None:
        if self.h is None:
            return
        for conn in self.h.connections():
            if conn.state != "connected":
                continue
            heard = self.h.heard.get((conn.id, conn.generation), conn.connected_at)
            silent_for = self.h.now() - max(heard, conn.connected_at)
            assert silent_for <= detection_bound(self.policy) + 1e-9, (
                f"connection {conn.id} heard nothing for {silent_for:g}s and is still Connected "
                f"(bound {detection_bound(self.policy):g}s)"
            )
