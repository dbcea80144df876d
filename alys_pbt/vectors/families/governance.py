"""Governance vectors: the V2 governance StreamActor (the target's `governance` component) as plain data.

Each case is a scenario a client replays without Python: a schedule of events on simulated time
(connect, the server dropping a stream or going away and coming back, sends while it is down,
signature requests and the responses the server sends in some order, heartbeats answered or not,
time moving on), with the outcome the reference (models/governance.py) gives:

* `governance/backoff`: the wait after n consecutive failures, jitter off: min(1 s * 2^n, 300 s)
  (reconnect.rs:314-336); `governance/backoff-jitter`: with the coded 10 % jitter and a seed, only
  whether the wait stays in [max(0.1, 0.9 d), min(300, 1.1 d)] (the jitter's draws are the target's own).
* `governance/replay`: a connected stream loses its server (a drop, a partition, a restart), n
  messages are sent while it is down, the server comes back and the stream reconnects after the
  first backoff: the messages the server receives, in order, and the ones DropOldest dropped.
* `governance/signatures`: signature requests, the server answering some in an order with a status
  each, then time past the request timeout and one sweep: which request each answer reaches, with
  its status, and which requests time out.
* `governance/liveness`: a server that answers heartbeats for a while and then never, late, or
  says nothing at all: whether the stream is closed and reconnected within heartbeat timeout + one
  monitor period.
* `governance/cap`: n connections opened against the coded cap (10): which are refused.

Replay drives the target's StreamActor on the suite's scheduler against the suite's gRPC server on
loopback (alys_pbt/governance.py; models/machines/governance.py StreamHarness), through the
interface only.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import governance as ref
from alys_pbt.models.governance import SIGNATURE_STATUSES, StreamPolicy
from alys_pbt.strategies.governance import signature_rounds
from alys_pbt.vectors.families.bls import obj
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, sample

POLICY = StreamPolicy()
SOURCE = "app/src/actors/governance_stream/"
BUFFER_LOST = "governance-buffer-lost-on-reconnect"
CAP = "governance-connection-cap-unenforced"
SILENCE = "governance-silence-undetected"
SQUASHED = "governance-signature-status-squashed"
JITTER = "governance-backoff-jitter-past-cap"
OUTAGES = ("partition", "drop", "restart")
MODES = ("never", "late", "silent")
# Seeds whose first draw of the port's jitter RNG (random.Random(seed); measured) puts a capped 300 s
# wait above the cap when jitter is added after it (reconnect.rs:339-356): the quirk's vectors need one.
JITTER_PAST_CAP_SEEDS = (0, 2)


# --- backoff ---------------------------------------------------------------------------------------
def backoff_case(name: str, failures: int, jitter: float = 0.0, seed: int = 0, quirk: bool = False) -> Case:
    inputs: dict[str, Json] = {"failures": failures, "jitter": jitter, "seed": seed}
    if jitter:
        low, high = ref.backoff_bounds(StreamPolicy(jitter=jitter), failures)
        expected = Expected.ok(within_bounds=True, low=low, high=high)
    else:
        expected = Expected.ok(wait=ref.backoff_delay(POLICY, failures))
    return Case(name, inputs, expected, quirks=(JITTER,) if quirk else ())


def gen_backoff(seed: int, n: int) -> list[Case]:
    drawn = sample(st.integers(1, POLICY.max_attempts + 2), seed_value=seed, n=max(n, 1))[:n]
    cases = [backoff_case(f"valid-{i:04d}", f) for i, f in enumerate(drawn)]
    cases += [backoff_case(f"boundary-failures-{f}", f) for f in (1, 2, 7, 8, 9, 10)]
    return cases


def gen_backoff_jitter(seed: int, n: int) -> list[Case]:
    drawn = sample(st.tuples(st.integers(1, 8), st.integers(0, 2**16)), seed_value=seed, n=max(n, 1))[:n]
    cases = [backoff_case(f"valid-{i:04d}", f, 0.1, seed=x) for i, (f, x) in enumerate(drawn)]
    cases += [backoff_case(f"boundary-failures-{f}", f, 0.1, seed=0) for f in (1, 2, 8)]
    cases.append(backoff_case(f"quirk-{JITTER}", 9, 0.1, seed=JITTER_PAST_CAP_SEEDS[0], quirk=True))
    cases += [
        backoff_case(f"boundary-at-cap-seed-{x}", 10, 0.1, seed=x, quirk=True) for x in JITTER_PAST_CAP_SEEDS
    ]
    return cases


def replay_backoff(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.models.machines.actors import SuiteScheduler

    jitter, failures = float(inputs["jitter"]), int(inputs["failures"])
    system = target.actors.system(SuiteScheduler())
    stream = target.governance.stream(system, seed=inputs["seed"], jitter=jitter)
    try:
        wait = float(stream.backoff(failures))
    finally:
        stream.close()
    if not jitter:
        return {"wait": wait}
    low, high = ref.backoff_bounds(StreamPolicy(jitter=jitter), failures)
    return {"within_bounds": low <= wait <= high, "low": low, "high": high}


# --- replay of the buffer --------------------------------------------------------------------------
def replay_case_of(name: str, buffer_size: int, sent: int, outage: str, note: str = "") -> Case:
    model = ref.OutboundBuffer(buffer_size)
    for i in range(sent):
        model.enqueue(f"m{i}")
    dropped = list(model.dropped)
    return Case(
        name,
        {"buffer_size": buffer_size, "sent": sent, "outage": outage},
        Expected.ok(
            state_while_down="backoff",
            sends=["buffered"] * sent,
            state_after=("connected"),
            delivered=model.flush(),
            dropped=dropped,
            reconnect_after=ref.backoff_bounds(POLICY, 1)[1],
        ),
        quirks=(BUFFER_LOST,) if sent else (),
        note=note,
    )


def gen_replay(seed: int, n: int) -> list[Case]:
    drawn = sample(
        st.tuples(st.integers(1, 4), st.integers(1, 7), st.sampled_from(OUTAGES)),
        seed_value=seed,
        n=max(n, 1),
    )[:n]
    cases = [replay_case_of(f"valid-{i:04d}", *d) for i, d in enumerate(drawn)]
    cases += [
        replay_case_of("boundary-one-below-the-bound", 3, 2, "partition"),
        replay_case_of("boundary-at-the-bound", 3, 3, "drop"),
        replay_case_of("boundary-one-past-the-bound", 3, 4, "restart", note="DropOldest drops m0"),
        replay_case_of(
            f"quirk-{BUFFER_LOST}",
            4,
            2,
            "drop",
            note="the node as coded makes the connection anew, without its buffer: nothing is replayed",
        ),
    ]
    return cases


def replay_replay(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.models.machines.governance import harnessed

    with harnessed(target, buffer_size=inputs["buffer_size"]) as h:
        conn = h.connect()
        if inputs["outage"] == "drop":
            session = h.session(h.connection(conn))
            assert session is not None, "a connected client has its stream on the server"
            h.server.drop(session)
            h.server.wait(lambda: not session.open)
        h.server.stop()
        h.settle()
        down = h.connection(conn).state
        sends = [str(h.result(h.stream.send(conn, "status_update", f"m{i}"))) for i in range(inputs["sent"])]
        h.server.start()
        wait = ref.backoff_bounds(POLICY, 1)[1]
        h.advance(wait)
        after = h.connection(conn)
        return {
            "state_while_down": down,
            "sends": sends,
            "state_after": after.state,
            "delivered": h.delivered(conn),
            "dropped": list(after.dropped),
            "reconnect_after": wait,
        }


# --- signature correlation and timeouts ------------------------------------------------------------
def signature_case(name: str, statuses: list[str], answered: list[int], note: str = "") -> Case:
    ids = [f"sig-{i}" for i in range(len(statuses))]
    model = ref.Correlation()
    for request_id in ids:
        model.request(request_id, "bridge")
    applied = []
    for k in answered:
        assert model.respond(ids[k], statuses[k]) == "bridge"
        applied.append([ids[k], statuses[k]])
    squashed = any(statuses[k] != "COMPLETE" for k in answered)
    return Case(
        name,
        {"statuses": statuses, "answered": answered},
        Expected.ok(
            applied=applied,
            pending=sorted(model.pending),
            timed_out=sorted(model.pending),
            wait=POLICY.request_timeout + POLICY.sweep_interval,
        ),
        quirks=(SQUASHED,) if squashed else (),
        note=note,
    )


def gen_signatures(seed: int, n: int) -> list[Case]:
    drawn = sample(signature_rounds(max_requests=4, min_answered=0), seed_value=seed, n=max(n, 1))[:n]
    cases = [signature_case(f"valid-{i:04d}", list(s), list(a)) for i, (s, a) in enumerate(drawn)]
    cases += [
        signature_case("boundary-answered-in-reverse", ["COMPLETE"] * 3, [2, 1, 0]),
        signature_case("boundary-none-answered", ["COMPLETE", "COMPLETE"], [], note="both time out"),
        signature_case("boundary-one-of-two-answered", ["COMPLETE", "COMPLETE"], [1]),
        signature_case(
            f"quirk-{SQUASHED}",
            ["PARTIAL", "FAILED", "COMPLETE"],
            [1, 0, 2],
            note="the node as coded hands every answer on as COMPLETE",
        ),
    ]
    return cases


def replay_signatures(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.models.machines.governance import harnessed
    from alys_pbt.strategies.governance import STATUS_NUMBERS

    statuses = list(inputs["statuses"])
    ids = [f"sig-{i}" for i in range(len(statuses))]
    with harnessed(target) as h:
        conn = h.connect()
        for request_id in ids:
            h.ask(h.stream.request_signatures(conn, request_id, "bridge", "00", (1,)))
        h.settle()
        for k in inputs["answered"]:
            h.server.answer(ids[k], STATUS_NUMBERS[statuses[k]])
        h.settle()
        applied = [[m.request_id, m.status] for m in h.applied() if isinstance(m, ref.ApplySignatures)]
        pending = sorted(h.pending())
        wait = POLICY.request_timeout + POLICY.sweep_interval
        h.advance(wait)
        timed_out = sorted(m.request_id for m in h.applied() if isinstance(m, ref.SignatureTimeout))
        return {"applied": applied, "pending": pending, "timed_out": timed_out, "wait": wait}


# --- liveness --------------------------------------------------------------------------------------
def liveness_case(name: str, mode: str, quiet_after: int, note: str = "") -> Case:
    return Case(
        name,
        {"mode": mode, "quiet_after": quiet_after},
        Expected.ok(
            connected_while_answered=True,
            detected_within_bound=True,
            bound=ref.detection_bound(POLICY),
        ),
        quirks=(SILENCE,),  # liveness is never checked as coded: every silence goes unseen
        note=note,
    )


def gen_liveness(seed: int, n: int) -> list[Case]:
    drawn = sample(st.tuples(st.sampled_from(MODES), st.integers(0, 3)), seed_value=seed, n=max(n, 1))[:n]
    cases = [liveness_case(f"valid-{i:04d}", *d) for i, d in enumerate(drawn)]
    cases += [
        liveness_case("boundary-silent-at-once", "silent", 0),
        liveness_case("boundary-heartbeats-late", "late", 2),
        liveness_case(f"quirk-{SILENCE}", "never", 1, note="heartbeats go unanswered after 30 s"),
    ]
    return cases


def replay_liveness(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.models.machines.governance import harnessed

    bound = ref.detection_bound(POLICY)
    with harnessed(target) as h:
        conn = h.connect()
        h.advance(inputs["quiet_after"] * POLICY.heartbeat_interval)
        answered = h.connection(conn).state == "connected"
        went_quiet = h.now()
        if inputs["mode"] == "silent":
            h.server.silent = True
        else:
            h.server.heartbeats = inputs["mode"]
        generation = h.connection(conn).generation
        h.advance(bound)
        after = h.connection(conn)
        detected = (
            after.generation != generation
            and bool(after.detections)
            and after.detections[0] - went_quiet <= bound
        )
        h.server.release_held()
        return {"connected_while_answered": answered, "detected_within_bound": detected, "bound": bound}


# --- the connection cap ----------------------------------------------------------------------------
def cap_case(name: str, connections: int) -> Case:
    results = [
        "TooManyConnections" if ref.refuses_connection(POLICY, k) else "ok" for k in range(connections)
    ]
    live = min(connections, POLICY.max_connections)
    return Case(
        name,
        {"connections": connections},
        Expected.ok(results=results, live=live),
        quirks=(CAP,) if connections > POLICY.max_connections else (),
    )


def gen_cap(seed: int, n: int) -> list[Case]:
    cases = [cap_case("boundary-one", 1), cap_case("boundary-at-the-cap", POLICY.max_connections)]
    cases.append(cap_case(f"quirk-{CAP}", POLICY.max_connections + 1))
    cases.append(cap_case("boundary-two-past-the-cap", POLICY.max_connections + 2))
    return cases


def replay_cap(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.models.machines.governance import harnessed

    results = []
    with harnessed(target) as h:
        for _ in range(inputs["connections"]):
            opened = h.result(h.stream.connect(h.server.endpoint))
            h.settle()
            results.append(type(opened).__name__ if isinstance(opened, Exception) else "ok")
        live = sum(c.state == "connected" for c in h.connections())
    return {"results": results, "live": live}


NUMBER: dict[str, Json] = {"type": "number", "minimum": 0}
IDS: dict[str, Json] = {"type": "array", "items": {"type": "string"}}
BACKOFF_INPUTS: dict[str, Json] = obj(
    failures={"type": "integer", "minimum": 1}, jitter=NUMBER, seed={"type": "integer", "minimum": 0}
)
RULES: tuple[Rule, ...] = (
    Rule(
        "governance/backoff",
        "the reconnect wait after n failures, jitter off: min(1 s * 2^n, 300 s)",
        "node",
        f"{SOURCE}reconnect.rs:314-336",
        gen_backoff,
        replay=replay_backoff,
        component="governance",
        inputs_schema=BACKOFF_INPUTS,
        outputs_schema=obj(wait=NUMBER),
    ),
    Rule(
        "governance/backoff-jitter",
        "a jittered reconnect wait stays within +-10 % of min(1 s * 2^n, 300 s), never past 300 s",
        "suite-hardening",
        f"{SOURCE}reconnect.rs:339-356 (the cap after jitter: the documented maximum; quirk {JITTER})",
        gen_backoff_jitter,
        replay=replay_backoff,
        component="governance",
        inputs_schema=BACKOFF_INPUTS,
        outputs_schema=obj(within_bounds={"type": "boolean"}, low=NUMBER, high=NUMBER),
    ),
    Rule(
        "governance/replay",
        "messages sent while the stream is down are replayed in order on reconnect, minus DropOldest's drops",
        "node",
        f"{SOURCE}config.rs:1034-1035, stream_actor.rs:366-377; the design's replay "
        f"(stream_actor.knowledge.md:69-73; quirk {BUFFER_LOST})",
        gen_replay,
        replay=replay_replay,
        component="governance",
        inputs_schema=obj(
            buffer_size={"type": "integer", "minimum": 1},
            sent={"type": "integer", "minimum": 0},
            outage={"enum": list(OUTAGES)},
        ),
        outputs_schema=obj(
            state_while_down={"type": "string"},
            sends=IDS,
            state_after={"type": "string"},
            delivered=IDS,
            dropped=IDS,
            reconnect_after=NUMBER,
        ),
        stateful=True,
    ),
    Rule(
        "governance/signatures",
        "each signature response reaches the request it names with its status; unanswered ones time out",
        "node",
        f"{SOURCE}actor.rs:174-191, protocol.rs:548-554 (quirk {SQUASHED}); request timeout 60 s, sweep 10 s",
        gen_signatures,
        replay=replay_signatures,
        component="governance",
        inputs_schema=obj(
            statuses={"type": "array", "items": {"enum": list(SIGNATURE_STATUSES)}},
            answered={"type": "array", "items": {"type": "integer", "minimum": 0}},
        ),
        outputs_schema=obj(
            applied={"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
            pending=IDS,
            timed_out=IDS,
            wait=NUMBER,
        ),
        stateful=True,
    ),
    Rule(
        "governance/liveness",
        "a server gone quiet is detected within heartbeat timeout + one monitor period and reconnected",
        "node",
        f"{SOURCE}actor.rs:619, protocol.rs:897 (quirk {SILENCE}: actor.rs:804, 864-867)",
        gen_liveness,
        replay=replay_liveness,
        component="governance",
        inputs_schema=obj(mode={"enum": list(MODES)}, quiet_after={"type": "integer", "minimum": 0}),
        outputs_schema=obj(
            connected_while_answered={"type": "boolean"},
            detected_within_bound={"type": "boolean"},
            bound=NUMBER,
        ),
        stateful=True,
    ),
    Rule(
        "governance/cap",
        "at most max_connections (10) live connections: each one past them is refused TooManyConnections",
        "node",
        f"{SOURCE}mod.rs:49, stream_actor.rs:229-231 (quirk {CAP}: config.rs:1126)",
        gen_cap,
        replay=replay_cap,
        component="governance",
        inputs_schema=obj(connections={"type": "integer", "minimum": 1}),
        outputs_schema=obj(results=IDS, live={"type": "integer", "minimum": 0}),
        stateful=True,
    ),
)

UNREACHABLE_QUIRKS: dict[str, str] = {}
UNREACHABLE: dict[str, str] = {}
