"""The governance stream's suite parts, tested: each invariant of the GovernanceMachine fails on the
seeded bug (or the quirk) it exists to catch, alone (the machine with only that invariant); the two
copies of the .proto are one contract and interoperate on the wire; the server's leak check can
fail; the reference's schedule is the one measured on the V2 code; the strategies reach the edges.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from hypothesis.stateful import INVARIANT_MARKER, RuleBasedStateMachine

from alys_pbt import targets
from alys_pbt.governance import GovernanceServer, leaked_threads, port_is_free, running_server
from alys_pbt.governance import messages as suite_messages
from alys_pbt.killing import Case, run_case
from alys_pbt.machines import machine_test
from alys_pbt.models import governance as ref
from alys_pbt.models.machines.governance import GovernanceMachine, StreamHarness, harnessed
from alys_pbt.strategies.governance import (
    STATUS_NUMBERS,
    failure_counts,
    signature_rounds,
    stream_policies,
    time_steps,
)
from tests.support import ROOT

pytestmark = pytest.mark.governance

INVARIANTS = sorted(
    name for name, value in vars(GovernanceMachine).items() if getattr(value, INVARIANT_MARKER, None)
)

# Each invariant, and a seeded bug (or quirk) that only it has to catch.
CATCHES = {
    "nothing_acknowledged_is_lost_but_what_the_policy_drops": "governance-reconnect-drops-buffered",
    "order_is_kept_per_stream": "governance-replay-newest-first",
    "every_signature_response_matches_its_request": "governance-response-wrong-request",
    "backoff_schedule_and_connection_cap_are_obeyed": "governance-backoff-never-grows",
    "the_buffer_bound_is_never_exceeded": "governance-buffer-bound-off-by-one",
    "a_silent_server_is_detected_within_the_heartbeat_bound": "governance-heartbeat-unchecked",
}
ALSO = [
    ("nothing_acknowledged_is_lost_but_what_the_policy_drops", "governance-buffer-lost-on-reconnect"),
    ("backoff_schedule_and_connection_cap_are_obeyed", "governance-connection-cap-unenforced"),
    ("every_signature_response_matches_its_request", "governance-signature-status-squashed"),
    ("every_signature_response_matches_its_request", "governance-sweep-never-times-out"),
    ("a_silent_server_is_detected_within_the_heartbeat_bound", "governance-silence-undetected"),
]


def only(invariant: str) -> type[RuleBasedStateMachine]:
    """The machine with one invariant: the others are plain methods, which Hypothesis does not run."""
    others = {name: (lambda self: None) for name in INVARIANTS if name != invariant}
    return type(f"GovernanceMachineOnly_{invariant}", (GovernanceMachine,), others)


def test_every_invariant_has_a_bug_it_must_catch() -> None:
    assert sorted(CATCHES) == INVARIANTS


@pytest.mark.parametrize(("invariant", "deviation"), [*CATCHES.items(), *ALSO])
def test_each_invariant_alone_fails_on_its_seeded_bug(invariant: str, deviation: str) -> None:
    machine = only(invariant)
    case = Case(f"governance::{invariant}", f"governance::{invariant}", machine_test(machine))
    outcome = run_case(case, targets.load(f"alys-fixed+{deviation}"), seed=0)
    assert outcome.killed, f"{invariant} alone did not catch {deviation} ({outcome.examples} examples)"
    assert not outcome.error


def test_the_two_copies_of_the_contract_are_one() -> None:
    """The node's and the server's .proto are byte-identical, and their messages interoperate."""
    from alys.governance import PROTO, messages

    assert PROTO.read_bytes() == (ROOT / "alys_pbt" / "governance.proto").read_bytes()
    node, suite = messages(), suite_messages()
    assert sorted(node) == sorted(suite)
    request = node["StreamRequest"]()
    request.metadata.request_id, request.metadata.sequence = "sig-1", 7
    request.signature_request.tx_hex, request.signature_request.tx_type = "00", 2
    decoded = suite["StreamRequest"].FromString(request.SerializeToString())
    assert decoded.WhichOneof("payload") == "signature_request"
    assert (decoded.metadata.request_id, decoded.metadata.sequence) == ("sig-1", 7)


def test_the_proto_numbers_follow_the_account() -> None:
    """SignatureStatus 1..5 and TransactionType PEGOUT = 2 (governance-stream.md §2, §2.1)."""
    status = suite_messages()["SignatureResponse"].DESCRIPTOR.fields_by_name["status"].enum_type
    assert {
        v.name.removeprefix("SIGNATURE_STATUS_"): v.number for v in status.values if v.number
    } == STATUS_NUMBERS
    tx_type = suite_messages()["SignatureRequest"].DESCRIPTOR.fields_by_name["tx_type"].enum_type
    assert tx_type.values_by_name["TRANSACTION_TYPE_PEGOUT"].number == 2


def test_the_leak_check_fails_on_a_client_left_open() -> None:
    """A stream never closed leaves its gRPC channel open: the server's context names its thread."""
    target = targets.load("alys-fixed")
    left: list[Any] = []
    leak = r"leaked: threads left running: \[.*\(_run\)"  # the open channel's polling thread
    with pytest.raises(AssertionError, match=leak), running_server() as server:  # noqa: PT012
        h = StreamHarness(target, server)
        h.connect()
        left.append(h)
    left[0].stream.close()  # now nothing is left
    assert not [t for t in threading.enumerate() if t.name.startswith("governance-")]


def test_the_leak_check_passes_once_everything_is_closed() -> None:
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    with harnessed(targets.load("alys-fixed")) as h:
        h.connect()
        port = h.server.port
    assert port_is_free(port)
    assert leaked_threads(before) == []


@pytest.mark.parametrize("spec", ["alys-fixed", "alys"])
def test_the_server_leaves_nothing_behind(spec: str) -> None:
    """The leak check itself, on a stream that connected, sent and was closed: the server's context
    finds no thread, stream, channel or bound port left (it raises on leaving otherwise), and the
    stream holds no channel."""
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    with harnessed(targets.load(spec)) as h:
        conn = h.connect()
        assert h.result(h.stream.send(conn, "status_update", "m0")) == "sent"
        h.settle()
        assert h.delivered(conn) == ["m0"]
        port = h.server.port
    assert [c.open for c in h.connections()] == [False], "the closed stream holds no channel"
    assert port_is_free(port)
    assert leaked_threads(before) == []


def test_the_server_restarts_on_the_same_port_and_refuses_while_stopped() -> None:
    server = GovernanceServer()
    port = server.start()
    try:
        assert not port_is_free(port)
        server.stop()
        assert port_is_free(port)
        assert server.start() == port
    finally:
        server.stop()


def test_the_reference_schedule_is_the_one_measured_on_the_v2_code() -> None:
    """governance-stream.md §5 [measured]: 2, 4, ..., 256, then 300 s; GiveUp after 10 attempts."""
    policy = ref.StreamPolicy(jitter=0.0)
    assert [ref.backoff_delay(policy, n) for n in range(1, 11)] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert ref.backoff_delay(policy, 0) == 0
    assert not ref.gives_up(policy, 9) and ref.gives_up(policy, 10)
    low, high = ref.backoff_bounds(ref.StreamPolicy(), 9)
    assert (low, high) == (270.0, 300.0), "jitter never carries a wait past max_delay"
    assert ref.detection_bound(ref.StreamPolicy()) == 90.0


def test_the_reference_buffer_drops_the_oldest_and_replays_in_order() -> None:
    buffer = ref.OutboundBuffer(2)
    assert [buffer.enqueue(m) for m in "abc"] == [None, None, "a"]
    assert buffer.flush() == ["b", "c"] and buffer.dropped == ["a"] and buffer.flush() == []


def test_the_reference_correlation_resolves_once_by_id() -> None:
    table = ref.Correlation()
    table.request("x", "bridge")
    table.request("y", "bridge")
    assert table.respond("y", "FAILED") == "bridge"
    assert table.respond("y", "COMPLETE") is None, "a duplicate resolves nothing"
    assert table.respond("z", "COMPLETE") is None, "an unknown id resolves nothing"
    assert table.resolved == {"y": "FAILED"} and list(table.pending) == ["x"]


@given(policy=stream_policies(max_buffer=3, max_connections=2, jitter=False))
def test_stream_policies_keep_their_knobs(policy: ref.StreamPolicy) -> None:
    assert 1 <= policy.buffer_size <= 3 and 1 <= policy.max_connections <= 2 and policy.jitter == 0.0
    assert policy.heartbeat_timeout == 30.0 and policy.max_attempts == 10, "the coded parameters stay"


def test_time_steps_probe_each_backoff_wait_below_and_past_it() -> None:
    steps = set(time_steps().elements)  # type: ignore[attr-defined]
    for n in range(1, 11):
        wait = ref.backoff_delay(ref.StreamPolicy(), n)
        assert any(s < wait for s in steps) and any(s > wait for s in steps)
        assert wait * 0.89 in steps and wait * 1.11 in steps
    assert ref.detection_bound(ref.StreamPolicy()) < max(steps)


@given(data=st.data())
def test_stream_policies_reach_both_bounds(data: st.DataObject) -> None:
    policy = data.draw(stream_policies())
    assert 1 <= policy.buffer_size <= 4 and 1 <= policy.max_connections <= 3 and policy.jitter in (0.0, 0.1)


@given(round_=signature_rounds(max_requests=4))
def test_signature_rounds_answer_at_least_one_request_each_once(
    round_: tuple[tuple[str, ...], tuple[int, ...]],
) -> None:
    statuses, answered = round_
    assert 1 <= len(statuses) <= 4 and set(statuses) <= set(STATUS_NUMBERS)
    assert answered and len(set(answered)) == len(answered) and set(answered) <= set(range(len(statuses)))


_REACH = settings(database=None, max_examples=500)
# What the signature property needs its rounds to reach, for every bug it exists to catch
_ROUND_SHAPES: dict[str, Any] = {
    "out of order": lambda r: list(r[1]) != sorted(r[1]),
    "some never answered": lambda r: len(r[1]) < len(r[0]),
    "a status other than COMPLETE": lambda r: any(r[0][i] != "COMPLETE" for i in r[1]),
}


@pytest.mark.parametrize("shape", list(_ROUND_SHAPES))
def test_signature_rounds_reach_each_shape_the_property_needs(shape: str) -> None:
    found = find(signature_rounds(), _ROUND_SHAPES[shape], settings=_REACH)
    assert _ROUND_SHAPES[shape](found)


def test_failure_counts_probe_the_cap_below_at_and_past_it() -> None:
    policy = ref.StreamPolicy()
    capped = 9  # 1 s * 2^9 = 512 s is the first wait past max_delay (300 s); 2^8 = 256 s is not
    assert ref.backoff_delay(policy, capped - 1) < policy.max_delay <= ref.backoff_delay(policy, capped)
    for edge in (0, capped - 1, capped, capped + 1, 2 * policy.max_attempts):
        assert find(failure_counts(), lambda n, edge=edge: n == edge, settings=_REACH) == edge
    too_many = 2 * policy.max_attempts + 1
    with pytest.raises(NoSuchExample):
        find(failure_counts(), lambda n: not 0 <= n < too_many, settings=_REACH)
