"""The actors component of the port's target-protocol server (alys/serve_actors.py) driven in-process,
as tests/test_serve_inprocess.py drives the whole server: requests go through `alys.serve.answer` on an
`alys.serve.Session`, one line of JSON each, and the component's readers and writers are called as the
session holds them.

- every reader takes each of its JSON forms to the port's object, and refuses each wrong form as
  Invalid params (-32602) with the words that name what is wrong;
- every writer gives the JSON form of docs/protocol.md, every field;
- the relay scheduler records every task the runtime schedules (ids from 1, delays), reports the
  timers the runtime cancels (when the client's scheduler can cancel) and runs a task when told;
- every method passes the port exactly what was sent, and the documented default of what was not.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
import pytest

from alys import serve
from alys import serve_actors as sa
from alys.actors.mailbox import Envelope, Priority
from alys.actors.supervision import (
    Delayed,
    ExponentialBackoff,
    Immediate,
    Never,
    Progressive,
    SupervisionPolicy,
)
from alys.actors.system import Routed, _Ask
from alys.serve_params import BadParams
from alys_pbt.protocol.methods import METHODS
from tests.test_serve_inprocess import Client as InProcessClient

VARIANT = "alys-fixed"
INVALID_PARAMS = -32602
REJECTED = -32000


class Client(InProcessClient):
    """One session, asked line by line through `serve.answer`, with an actor system of its own."""

    def __init__(self, cancellable: bool | None = None) -> None:
        super().__init__(VARIANT)
        self.system = 0
        if cancellable is not None:
            self.system = self.call("actors.system", scheduler={"cancellable": cancellable})

    def call(self, method: str, **params: Any) -> Any:
        reply = self.ask(method, params)
        assert "result" in reply, f"{method} {params}: {reply}"
        return reply["result"]

    def on(self, method: str, **params: Any) -> Any:
        """A method of this client's system."""
        return self.call(method, system=self.system, **params)

    def error(self, method: str, **params: Any) -> dict[str, Any]:
        reply = self.ask(method, params)
        assert "error" in reply, f"{method} {params}: {reply}"
        error: dict[str, Any] = reply["error"]
        return error

    def run_soon(self) -> list[list[Any]]:
        """Run every task scheduled with no delay since the last look (and those they schedule);
        return the timers (id and delay) seen meanwhile."""
        timers: list[list[Any]] = []
        while True:
            tasks = self.on("system.scheduled")["tasks"]
            if not tasks:
                return timers
            for task, delay in tasks:
                if delay is None:
                    assert self.on("system.run_task", task=task) is None
                else:
                    timers.append([task, delay])

    def actor(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.on("system.lookup", name=name)
        return found

    def cell(self, name: str) -> Any:
        """The port's own actor, as the server's system holds it."""
        return self.session.handles[self.system][1].system.lookup(name)


def _env(
    payload: Any,
    seq: int = 1,
    *,
    sender: str = "outside",
    priority: int = 2,
    queued_at: int = 1,
    size: int = 0,
) -> dict[str, Any]:
    """An envelope's JSON form (docs/protocol.md `envelope`)."""
    return {
        "sender": sender,
        "seq": seq,
        "priority": priority,
        "payload": payload,
        "queued_at": queued_at,
        "size": size,
    }


def _id(kind: str, i: int) -> str:
    """A test id of plain characters (mutmut hands node ids to pytest as they are)."""
    return f"{kind.replace('?', '_or_null').replace('[]', '_array')}-{i}"


READ = serve.Session(VARIANT).read
WRITE = serve.WRITE


# --- readers: their JSON forms ---------------------------------------------------------------------

STRATEGY_FORMS: list[tuple[dict[str, Any], Any]] = [
    ({"kind": "Never"}, Never()),
    ({"kind": "Immediate"}, Immediate()),
    ({"kind": "Delayed", "delay": 0.5}, Delayed(0.5)),
    (
        {"kind": "ExponentialBackoff", "initial": 1, "maximum": 10, "multiplier": 3},
        ExponentialBackoff(1.0, 10.0, 3.0),
    ),
    ({"kind": "Progressive", "initial": 0.25, "max_attempts": 3, "multiplier": 2}, Progressive(0.25, 3, 2.0)),
]

VALID: list[tuple[str, Any, Any]] = [
    ("role", {}, sa.Role("none", (), None, ())),
    ("role", {"reply": "none"}, sa.Role("none", (), None, ())),
    ("role", {"reply": "count", "takes_item": None}, sa.Role("count", (), None, ())),
    (
        "role",
        {
            "reply": "echo",
            "panics_on": [1, "x"],
            "takes_item": 0,
            "answers_sender": [["ping", "pong"], [1, [2]]],
        },
        sa.Role("echo", (1, "x"), 0, (("ping", "pong"), (1, [2]))),
    ),
    ("role", {"takes_item": -1, "answers_sender": []}, sa.Role("none", (), -1, ())),
    *[("restart-strategy", form, made) for form, made in STRATEGY_FORMS],
    ("supervision-policy?", None, None),
    (
        "supervision-policy?",
        {"strategy": {"kind": "Immediate"}, "max_restarts": 3, "window": 60, "escalation": "stop"},
        SupervisionPolicy(Immediate(), 3, 60.0, "stop"),
    ),
    (
        "supervision-policy?",
        {
            "strategy": {"kind": "Delayed", "delay": 2},
            "max_restarts": 0,
            "window": 0.5,
            "escalation": "escalate",
        },
        SupervisionPolicy(Delayed(2.0), 0, 0.5, "escalate"),
    ),
    ("task", {"id": 1}, sa.TaskData(1, None, 0)),
    ("task", {"id": 0, "then": None, "repeat": 0}, sa.TaskData(0, None, 0)),
    ("task", {"id": 2, "then": ["later", 1.5, 7], "repeat": 3}, sa.TaskData(2, ("later", 1.5, 7), 3)),
    ("task", {"id": 4, "then": ["soon", 0, 5]}, sa.TaskData(4, ("soon", 0.0, 5), 0)),
    ("envelope", {"sender": "a", "seq": 1, "priority": 2}, Envelope("a", 1, Priority.NORMAL)),
    (
        "envelope",
        {"sender": "b", "seq": 7, "priority": 5, "payload": {"x": [1]}, "queued_at": 9, "size": 4},
        Envelope("b", 7, Priority.EMERGENCY, {"x": [1]}, size=4),
    ),
    (
        "envelope",
        {"sender": "", "seq": 0, "priority": 0, "payload": "p"},
        Envelope("", 0, Priority.BACKGROUND, "p"),
    ),
    ("scheduler", {}, False),
    ("scheduler", {"cancellable": True}, True),
    ("scheduler", {"cancellable": False}, False),
    ("int?", None, None),
    ("int?", 0, 0),
    ("int?", -3, -3),
    ("float", 2, 2.0),
    ("float?", None, None),
    ("float?", 0.5, 0.5),
    ("str?", None, None),
    ("str?", "a", "a"),
    ("str[]", ["a", ""], ["a", ""]),
    ("json", {"a": [1, None]}, {"a": [1, None]}),
]


@pytest.mark.parametrize(
    ("kind", "value", "made"), VALID, ids=[_id(k, i) for i, (k, _, _) in enumerate(VALID)]
)
def test_each_reader_takes_its_json_forms(kind: str, value: Any, made: Any) -> None:
    """A reader's valid form becomes exactly the port's object (every field read, defaults filled)."""
    got = READ[kind](value)
    assert got == made and type(got) is type(made), (got, made)


def test_numbers_read_as_the_ports_types() -> None:
    """A count is an int (not a float that compares equal), a duration a float."""
    progressive = READ["restart-strategy"](STRATEGY_FORMS[-1][0])
    assert type(progressive.max_attempts) is int and type(progressive.initial) is float
    policy = READ["supervision-policy?"](
        {"strategy": {"kind": "Never"}, "max_restarts": 3, "window": 60, "escalation": "stop"}
    )
    assert type(policy.max_restarts) is int and type(policy.window) is float
    task = READ["task"]({"id": 1, "then": ["later", 2, 3]})
    assert type(task.then[1]) is float and type(task.then[2]) is int


# --- readers: the wrong forms -------------------------------------------------------------------------

_ENVELOPE = {"sender": "a", "seq": 1, "priority": 2}
_POLICY = {"strategy": {"kind": "Never"}, "max_restarts": 3, "window": 60, "escalation": "stop"}
_PROGRESSIVE = {"kind": "Progressive", "initial": 1, "max_attempts": 3, "multiplier": 2}
_ENVELOPE_KEYS = "an envelope has sender, seq, priority (and maybe payload, queued_at, size)"
_TASK_KEYS = "a task has id (and maybe then, repeat)"
_THEN = 'a task\'s then is ["soon" or "later", delay, follow-up id] or null'
_PAIRS = "a role's answers_sender is an array of [message, answer] pairs"

WRONG: list[tuple[str, Any, str]] = [
    ("role", [], "a role is an object"),
    ("role", {"x": 1, "reply": "echo"}, "a role has no ['x']"),
    ("role", {"reply": "shout"}, "a role's reply is none, echo or count, not 'shout'"),
    ("role", {"reply": None}, "a role's reply is none, echo or count, not None"),
    ("role", {"takes_item": "0"}, "a role's takes_item is an integer or null"),
    ("role", {"takes_item": True}, "a role's takes_item is an integer or null"),
    ("role", {"takes_item": 1.0}, "a role's takes_item is an integer or null"),
    ("role", {"answers_sender": {}}, _PAIRS),
    ("role", {"answers_sender": None}, _PAIRS),
    ("role", {"answers_sender": [["a"]]}, _PAIRS),
    ("role", {"answers_sender": ["ab"]}, _PAIRS),
    ("role", {"answers_sender": [["a", "b", "c"]]}, _PAIRS),
    ("role", {"panics_on": "x"}, "a role's panics_on is an array"),
    ("role", {"panics_on": None}, "a role's panics_on is an array"),
    ("restart-strategy", [], "a restart strategy is an object"),
    ("restart-strategy", {"kind": "Sometimes"}, "an unknown restart strategy 'Sometimes'"),
    ("restart-strategy", {"kind": "Delayed"}, "Delayed has exactly kind, delay"),
    ("restart-strategy", {"kind": "Never", "delay": 1}, "Never has exactly kind"),
    (
        "restart-strategy",
        {**_PROGRESSIVE, "max_attempts": 2.5},
        "Progressive's max_attempts is an integer, not 2.5",
    ),
    (
        "restart-strategy",
        {**_PROGRESSIVE, "max_attempts": "3"},
        "Progressive's max_attempts is an integer, not '3'",
    ),
    ("restart-strategy", {"kind": "Delayed", "delay": "1"}, "expected a number, got '1'"),
    ("supervision-policy?", [], "a supervision policy is an object"),
    (
        "supervision-policy?",
        {"strategy": {"kind": "Never"}},
        "a supervision policy has exactly strategy, max_restarts, window, escalation",
    ),
    (
        "supervision-policy?",
        {**_POLICY, "max_restarts": "3"},
        "a policy's max_restarts is an integer, not '3'",
    ),
    ("supervision-policy?", {**_POLICY, "window": None}, "expected a number, got None"),
    ("supervision-policy?", {**_POLICY, "strategy": "Never"}, "a restart strategy is an object"),
    (
        "supervision-policy?",
        {**_POLICY, "escalation": "restart"},
        "a policy's escalation is escalate or stop, not 'restart'",
    ),
    ("task", "1", "a task is an object"),
    ("task", {}, f"{_TASK_KEYS}: missing ['id'], unknown []"),
    ("task", {"id": 1, "x": 0}, f"{_TASK_KEYS}: missing [], unknown ['x']"),
    ("task", {"id": "1"}, "a task's id is an integer, not '1'"),
    ("task", {"id": 1, "then": "abc"}, _THEN),
    ("task", {"id": 1, "then": ["soon", 1]}, _THEN),
    ("task", {"id": 1, "then": ["soon", 1, 2, 3]}, _THEN),
    ("task", {"id": 1, "then": ["now", 1, 2]}, _THEN),
    ("task", {"id": 1, "then": ["later", "1", 2]}, "expected a number, got '1'"),
    ("task", {"id": 1, "then": ["later", 1, "2"]}, "a follow-up's id is an integer, not '2'"),
    ("task", {"id": 1, "repeat": 1.5}, "a task's repeat is an integer, not 1.5"),
    ("envelope", 5, "an envelope is an object"),
    ("envelope", {}, f"{_ENVELOPE_KEYS}: missing ['sender', 'seq', 'priority'], unknown []"),
    ("envelope", {**_ENVELOPE, "to": "x"}, f"{_ENVELOPE_KEYS}: missing [], unknown ['to']"),
    ("envelope", {**_ENVELOPE, "priority": "2"}, "an envelope's priority is an integer, not '2'"),
    ("envelope", {**_ENVELOPE, "priority": 6}, "an envelope's priority is one of [0, 1, 2, 3, 4, 5], not 6"),
    (
        "envelope",
        {**_ENVELOPE, "priority": -1},
        "an envelope's priority is one of [0, 1, 2, 3, 4, 5], not -1",
    ),
    ("envelope", {**_ENVELOPE, "seq": 1.0}, "an envelope's seq is an integer, not 1.0"),
    ("envelope", {**_ENVELOPE, "sender": 1}, "expected a string, got 1"),
    ("envelope", {**_ENVELOPE, "size": "4"}, "an envelope's size is an integer, not '4'"),
    ("scheduler", [], "a scheduler is an object"),
    (
        "scheduler",
        {"cancellable": True, "x": 1},
        "a scheduler has no required key (and maybe cancellable): missing [], unknown ['x']",
    ),
    ("scheduler", {"cancellable": 1}, "a scheduler's cancellable is true or false, not 1"),
    ("scheduler", {"cancellable": None}, "a scheduler's cancellable is true or false, not None"),
    ("int?", 1.5, "expected an integer or null, got 1.5"),
    ("int?", True, "expected an integer or null, got True"),
    ("int?", "1", "expected an integer or null, got '1'"),
    ("float", True, "expected a number, got True"),
    ("float?", "0.5", "expected a number, got '0.5'"),
    ("str?", 5, "expected a string, got 5"),
    ("str[]", "ab", "an array"),
    ("str[]", ["a", 1], "expected a string, got 1"),
]


@pytest.mark.parametrize(
    ("kind", "value", "words"), WRONG, ids=[_id(k, i) for i, (k, _, _) in enumerate(WRONG)]
)
def test_each_reader_refuses_a_wrong_form_naming_it(kind: str, value: Any, words: str) -> None:
    """A wrong form is Invalid params whose reason is exactly the words naming what is wrong."""
    with pytest.raises(BadParams) as caught:
        READ[kind](value)
    assert caught.value.data == words
    assert caught.value.jsonrpc_error_code == INVALID_PARAMS


def test_a_wrong_form_over_the_protocol_is_invalid_params_with_its_reason() -> None:
    """The reader's words reach the client as the error's data, and nothing is spawned."""
    client = Client(cancellable=False)
    error = client.error("system.spawn", system=client.system, name="a", role={"reply": "shout"})
    assert error["code"] == INVALID_PARAMS
    assert error["data"] == "a role's reply is none, echo or count, not 'shout'"
    error = client.error("system.spawn", system=client.system, name="a", role={}, max_bytes=1.5)
    assert error["data"] == "expected an integer or null, got 1.5"
    assert client.error("system.lookup", system=client.system, name="a")["data"]["name"] == "ActorNotFound"


def test_fields_names_the_missing_and_unknown_keys() -> None:
    """The key check names what is required, what may be given (only when anything may), and the faults."""
    sa._fields({"a": 1}, "a thing", ("a",))
    sa._fields({}, "a thing", (), ("b",))
    for d, required, optional, words in [
        ({"b": 1}, ("a",), (), "a thing has a: missing ['a'], unknown ['b']"),
        ({}, ("a", "c"), (), "a thing has a, c: missing ['a', 'c'], unknown []"),
        (
            {"z": 0, "y": 0},
            (),
            ("b", "c"),
            "a thing has no required key (and maybe b, c): missing [], unknown ['y', 'z']",
        ),
    ]:
        with pytest.raises(BadParams) as caught:
            sa._fields(d, "a thing", required, optional)
        assert caught.value.data == words


# --- writers ---------------------------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = 7


@attrs.define
class Point:
    x: int
    tag: bytes


class Odd:
    def __repr__(self) -> str:
        return "<odd>"


JSONABLE: list[tuple[Any, Any]] = [
    (None, None),
    (True, True),
    (3, 3),
    (1.5, 1.5),
    ("s", "s"),
    (Priority.HIGH, 3),  # an IntEnum is an int: a priority crosses as its number, as in an envelope
    (Colour.RED, "RED"),
    (b"\x01\xff", "01ff"),
    (bytearray(b"\x02"), "02"),
    ((1, (2, b"\x03")), [1, [2, "03"]]),
    ([None, "a"], [None, "a"]),
    ({1: b"\x03", "k": [None]}, {"1": "03", "k": [None]}),
    (Point(1, b"\x04"), {"type": "Point", "x": 1, "tag": "04"}),
    ([Delayed(0.5)], [{"type": "Delayed", "delay": 0.5}]),
    (Odd(), "<odd>"),
]


@pytest.mark.parametrize(
    ("value", "form"), JSONABLE, ids=[_id(type(v).__name__, i) for i, (v, _) in enumerate(JSONABLE)]
)
def test_jsonable_gives_each_values_json_form(value: Any, form: Any) -> None:
    """Records name their type and give every field, tuples are arrays, bytes hex, enums by name."""
    assert sa.jsonable(value) == form
    assert json.dumps(WRITE["json"](value)) == json.dumps(form)


def test_error_names_the_exception_its_bases_and_its_message() -> None:
    """An error's JSON: its name, its bases short of the roots, its message; no error is null."""
    from alys.actors.system import AskTimeout

    assert sa.error(None) is None
    assert sa.error(AskTimeout("late")) == {
        "name": "AskTimeout",
        "bases": ["TimeoutError", "OSError"],
        "message": "late",
    }
    assert sa.error(ValueError("v")) == {"name": "ValueError", "bases": [], "message": "v"}
    assert sa.error(KeyboardInterrupt()) == {"name": "KeyboardInterrupt", "bases": [], "message": ""}


def test_an_envelopes_payload_is_the_message_inside_an_ask_or_a_route() -> None:
    """The envelope writer gives every field, opening an ask's or a route's wrapper (only those)."""
    from alys.actors.system import Reply

    message = {"m": [1, b"\x05"]}
    for payload, form in [
        (message, {"m": [1, "05"]}),
        (_Ask(message, Reply()), {"m": [1, "05"]}),
        (Routed(message, ("b",)), {"m": [1, "05"]}),
        (_Ask(Routed("x", ()), Reply()), "x"),
        (Delayed(1.5), {"type": "Delayed", "delay": 1.5}),
        (None, None),
    ]:
        e = Envelope("s", 3, Priority.HIGH, payload, queued_at=4, size=9)
        assert sa.envelope(e) == _env(form, 3, sender="s", priority=3, queued_at=4, size=9)
        assert WRITE["envelope?"](e) == sa.envelope(e) and WRITE["envelope[]"]([e, e]) == [sa.envelope(e)] * 2
    assert WRITE["envelope?"](None) is None


def test_the_writers_give_their_json_forms() -> None:
    """The component's plain writers: each value as its documented JSON."""
    assert WRITE["str"](5) == "5" and WRITE["str[]"](("a", 1)) == ["a", "1"]
    assert WRITE["float"](2) == 2.0 and type(WRITE["float"](2)) is float
    assert WRITE["float?"](None) is None and type(WRITE["float?"](1)) is float
    assert WRITE["int[]"]((True, 2)) == [1, 2]
    assert WRITE["verdicts"]({"a": "accepted", 1: 2}) == {"a": "accepted", "1": "2"}
    scheduled = {"tasks": [[1, None]], "cancelled": [2]}
    assert WRITE["scheduled"](scheduled) == scheduled


# --- the relay scheduler ----------------------------------------------------------------------------------


def test_the_relay_records_each_task_with_its_id_and_delay_and_runs_it_when_told() -> None:
    """Ids count from 1, a call_soon has no delay, a call_later its delay as a float; run runs it once."""
    relay = sa.RelayScheduler(cancellable=True)
    ran: list[str] = []
    assert relay.now() == 0.0
    relay.call_soon(lambda: ran.append("soon"))
    timer = relay.call_later(2, lambda: ran.append("later"))
    assert isinstance(timer, sa.RelayTimer) and timer.task == 2
    assert relay.scheduled() == {"tasks": [[1, None], [2, 2.0]], "cancelled": []}
    assert type(relay.scheduled()["tasks"]) is list and relay.scheduled() == {"tasks": [], "cancelled": []}
    for wrong in (1.0, "1", None):
        with pytest.raises(sa.UnknownTask, match="is not pending"):
            relay.run(wrong)  # type: ignore[arg-type]
    relay.run(2)
    relay.run(1)
    assert ran == ["later", "soon"]
    with pytest.raises(sa.UnknownTask) as caught:
        relay.run(1)
    assert str(caught.value) == "task 1 is not pending"
    timer.cancel()  # already run: nothing to report
    assert relay.scheduled()["cancelled"] == []


def test_the_relay_reports_a_cancelled_timer_once_and_forgets_it() -> None:
    """A cancelled timer is reported by id and no longer runs; a non-cancellable relay gives no handle."""
    relay = sa.RelayScheduler(cancellable=True)
    ran: list[int] = []
    timer = relay.call_later(1.5, lambda: ran.append(1))
    relay.call_soon(lambda: ran.append(2))
    assert timer is not None
    timer.cancel()
    timer.cancel()
    relay.cancel(99)
    assert relay.scheduled() == {"tasks": [[1, 1.5], [2, None]], "cancelled": [1]}
    with pytest.raises(sa.UnknownTask):
        relay.run(1)
    relay.run(2)
    assert ran == [2]
    plain = sa.RelayScheduler(cancellable=False)
    assert plain.call_later(1, lambda: None) is None
    assert plain.scheduled() == {"tasks": [[1, 1.0]], "cancelled": []}


@pytest.mark.parametrize("cancellable", [True, False])
def test_an_answered_asks_timer_is_cancelled_only_on_a_cancellable_scheduler(cancellable: bool) -> None:
    """The runtime cancels an answered ask's timeout: reported, and gone, only if the client can cancel."""
    client = Client(cancellable=cancellable)
    client.on("system.spawn", name="e", role={"reply": "echo"})
    reply = client.on("system.ask", to="e", message="hi", timeout=4)
    assert client.on("system.scheduled") == {"tasks": [[1, None], [2, 4.0]], "cancelled": []}
    assert client.on("system.run_task", task=1) is None
    assert client.call("reply.state", reply=reply) == {"done": True, "value": "hi", "error": None}
    if cancellable:
        assert client.on("system.scheduled") == {"tasks": [], "cancelled": [2]}
        error = client.error("system.run_task", system=client.system, task=2)
        assert error["code"] == REJECTED and error["message"] == "task 2 is not pending"
        assert error["data"] == {"name": "UnknownTask", "bases": ["LookupError"]}
    else:
        assert client.on("system.scheduled") == {"tasks": [], "cancelled": []}
        assert client.on("system.run_task", task=2) is None  # the timer runs, the answer stands
    assert client.call("reply.state", reply=reply) == {"done": True, "value": "hi", "error": None}


def test_an_ask_times_out_when_its_timer_runs_first() -> None:
    """Running the timeout's task answers the ask with AskTimeout; the timer that ran is not reported."""
    client = Client(cancellable=True)
    client.on("system.spawn", name="e", role={"reply": "echo"})
    reply = client.on("system.ask", to="e", message="hi", timeout=4)
    assert client.call("reply.state", reply=reply) == {"done": False, "value": None, "error": None}
    assert client.on("system.run_task", task=2) is None
    assert client.call("reply.state", reply=reply) == {
        "done": True,
        "value": None,
        "error": {
            "name": "AskTimeout",
            "bases": ["TimeoutError", "OSError"],
            "message": "e did not answer in 4.0s",
        },
    }
    assert client.on("system.scheduled") == {"tasks": [[1, None], [2, 4.0]], "cancelled": []}


def test_the_systems_clock_is_the_one_the_client_sets() -> None:
    """set_time moves the relay's clock: what the runtime records carries that time, as a float."""
    client = Client(cancellable=False)
    assert client.on("system.set_time", now=2.5) is None
    client.on("system.spawn", name="a", role={})
    client.on("system.set_time", now=4)
    client.on("system.spawn", name="b", role={})
    assert client.actor("a")["history"] == [[2.5, "running"]]
    assert client.actor("b")["history"] == [[4.0, "running"]]
    assert client.call("system.received", system=client.system, name="b") == [
        {"hook": "started", "sender": "b", "message": None, "state": "STARTING", "at": 4.0, "in_flight": 0}
    ]


# --- the system's methods pass what was sent ------------------------------------------------------------


def test_spawn_passes_every_parameter_and_the_documented_defaults() -> None:
    """What spawn gives the port: each parameter sent, or the default docs/protocol.md names."""
    client = Client(cancellable=False)
    policy = {
        "strategy": {"kind": "Delayed", "delay": 1},
        "max_restarts": 2,
        "window": 9,
        "escalation": "stop",
    }
    client.on("system.spawn", name="root", role={})
    sent = dict(
        capacity=3,
        policy="drop-lowest",
        supervision=policy,
        parent="root",
        depends_on=["root"],
        max_bytes=64,
        processing_timeout=2.5,
    )
    assert client.on("system.spawn", name="kid", role={"reply": "echo"}, **sent) == "kid"
    kid = client.cell("kid")
    assert (kid.mailbox.capacity, kid.mailbox.policy, kid.mailbox.max_bytes) == (3, "drop-lowest", 64)
    assert kid.supervisor.policy == SupervisionPolicy(Delayed(1.0), 2, 9.0, "stop")
    assert (kid.parent, kid.depends_on, kid.processing_timeout) == ("root", ("root",), 2.5)
    assert kid.behaviour.role == sa.Role("echo", (), None, ())
    root = client.cell("root")
    documented = {p.name: p.default for p in next(m for m in METHODS if m.name == "system.spawn").params}
    assert (root.mailbox.capacity, root.mailbox.policy, root.mailbox.max_bytes) == (
        documented["capacity"],
        documented["policy"],
        documented["max_bytes"],
    )
    assert root.supervisor.policy == SupervisionPolicy() and documented["supervision"] is None
    assert (root.parent, root.depends_on, root.processing_timeout) == (
        None,
        (),
        documented["processing_timeout"],
    )
    assert documented["depends_on"] == [] and documented["parent"] is None


def test_a_default_reject_mailbox_refuses_when_full() -> None:
    """A mailbox spawned without a policy rejects the message past its capacity (not drops or blocks)."""
    client = Client(cancellable=False)
    client.on("system.spawn", name="a", role={}, capacity=1)
    assert client.on("system.tell", to="a", message=1) == "accepted"
    assert client.on("system.tell", to="a", message=2) == "rejected"
    client.on("system.spawn", name="b", role={}, capacity=1, policy="block")
    client.on("system.tell", to="b", message=1)
    assert client.on("system.tell", to="b", message=2) == "blocked"


def test_tell_ask_route_and_broadcast_pass_the_message_and_its_envelope() -> None:
    """Each sending method queues the message sent, with the sender, priority and size sent or defaulted."""
    client = Client(cancellable=False)
    for name in ("a", "b", "c"):
        client.on("system.spawn", name=name, role={})
    message = {"k": [1, "two"]}
    assert client.on("system.tell", to="a", message=message) == "accepted"
    assert client.on("system.tell", to="a", message="t", sender="x", priority=4, size=7) == "accepted"
    client.on("system.ask", to="b", message=message, timeout=5)
    client.on("system.ask", to="b", message=[2], timeout=5, sender="y", priority=0, size=3)
    assert client.on("system.route", hops=["c", "a"], message=message) == "accepted"
    assert client.on("system.route", hops=["c"], message="r", sender="z", size=6) == "accepted"
    assert client.on("system.broadcast", message="all") == {"a": "accepted", "b": "accepted", "c": "accepted"}
    assert client.on("system.broadcast", message="hi", sender="a", priority=5) == {
        "b": "accepted",
        "c": "accepted",
    }
    queued = {name: client.actor(name)["mailbox"]["queued"] for name in ("a", "b", "c")}
    assert queued["a"] == [  # in delivery order: Critical and above first, then Normal, then Low
        _env("t", 1, sender="x", priority=4, queued_at=2, size=7),
        _env(message, 1, queued_at=1),
        _env("all", 2, queued_at=3),
    ]
    assert queued["b"] == [
        _env("hi", 1, sender="a", priority=5, queued_at=4),
        _env(message, 1, queued_at=1),
        _env("all", 2, queued_at=3),
        _env([2], 1, sender="y", priority=0, queued_at=2, size=3),
    ]
    assert queued["c"] == [
        _env("hi", 1, sender="a", priority=5, queued_at=4),
        _env(message, 1, queued_at=1),
        _env("r", 1, sender="z", queued_at=2, size=6),
        _env("all", 2, queued_at=3),
    ]
    for name in ("a", "b", "c"):
        assert client.actor(name)["mailbox"]["held_bytes"] == sum(e["size"] for e in queued[name])


def test_a_route_forwards_the_message_and_a_refused_hop_is_a_dead_letter() -> None:
    """The route's message reaches every hop as sent; a hop that refuses it is a dead letter naming it."""
    client = Client(cancellable=False)
    client.on("system.spawn", name="a", role={})
    client.on("system.spawn", name="b", role={}, capacity=1)
    client.on("system.route", hops=["a", "b"], message={"r": 1}, size=2)
    client.run_soon()
    assert client.actor("a")["processed"] == [_env({"r": 1}, size=2)]
    assert client.actor("b")["processed"] == [_env({"r": 1}, sender="a", size=2)]
    assert client.on("system.dead_letters") == []
    client.on("system.route", hops=["a", "b"], message=[3], sender="s")
    client.on("system.tell", to="b", message="filler")  # b is full when a forwards
    client.run_soon()
    assert client.on("system.dead_letters") == [{"to": "b", "payload": [3], "verdict": "rejected", "by": "a"}]
    handled = [r["message"] for r in client.on("system.received", name="b") if r["hook"] == "handle"]
    assert handled == [{"r": 1}, "filler"]


@pytest.mark.parametrize(
    ("reason", "message"), [({}, "injected panic"), ({"reason": "boom"}, "boom")], ids=["default", "sent"]
)
def test_fail_panics_the_actor_with_the_reason_sent(reason: dict[str, str], message: str) -> None:
    """fail makes the actor panic with the reason sent (or the documented one): its ask in flight gets it."""
    client = Client(cancellable=False)
    client.on("system.spawn", name="slow", role={"reply": "echo", "takes_item": 0})
    reply = client.on("system.ask", to="slow", message=[9, "x"], timeout=100)
    timers = client.run_soon()
    assert [delay for _, delay in timers] == [100.0, 9.0]
    assert client.actor("slow")["in_flight"] == [_env([9, "x"])]
    assert client.on("system.fail", name="slow", **reason) is None
    assert client.call("reply.state", reply=reply) == {
        "done": True,
        "value": None,
        "error": {"name": "RuntimeError", "bases": [], "message": message},
    }
    actor = client.actor("slow")
    assert actor["state"] == "RECOVERING" and actor["failed"] == [_env([9, "x"])]
    assert actor["history"][1:] == [[0.0, "failed"], [0.0, "restart in 0.1"]]


def test_lookup_gives_every_field_of_an_actor() -> None:
    """The actor writer: every list of envelopes, the flags and the mailbox, as the runtime has them."""
    client = Client(cancellable=False)
    client.on("system.spawn", name="q", role={}, capacity=1, policy="block", depends_on=["p"])
    client.on("system.tell", to="q", message="a")
    client.on("system.tell", to="q", message="b", size=5)
    q = client.actor("q")
    assert q["scheduled"] is True and q["depends_on"] == ["p"]
    assert q["mailbox"] == {
        "size": 1,
        "capacity": 1,
        "held_bytes": 5,
        "queued": [_env("a")],
        "waiting": [_env("b", 2, queued_at=0, size=5)],
    }
    supervision = {"strategy": {"kind": "Never"}, "max_restarts": 1, "window": 1, "escalation": "escalate"}
    client.on(
        "system.spawn", name="p", role={"panics_on": ["boom"], "reply": "count"}, supervision=supervision
    )
    client.on("system.tell", to="p", message="ok")
    client.on("system.tell", to="p", message="boom")
    client.on("system.spawn", name="s", role={"takes_item": 0})
    client.on("system.tell", to="s", message=[3])
    client.run_soon()
    assert client.actor("p") == {
        "name": "p",
        "state": "FAILED",
        "restarts": 0,
        "cascades": 0,
        "escalations": [],
        "history": [[0.0, "running"], [0.0, "failed"], [0.0, "escalated: the strategy gives up"]],
        "processed": [_env("ok")],
        "failed": [_env("boom", 2, queued_at=2)],
        "in_flight": [],
        "unhandled": [],
        "scheduled": False,
        "depends_on": [],
        "mailbox": {"size": 0, "capacity": 1000, "held_bytes": 0, "queued": [], "waiting": []},
    }
    assert client.on("system.escalated") == ["p"]
    assert client.actor("s")["in_flight"] == [_env([3])]
    assert client.actor("q")["processed"] == [_env("a"), _env("b", 2, queued_at=2, size=5)]
    client.on("system.tell", to="q", message="c")
    assert client.on("system.shutdown") == ["q", "p", "s"]
    q = client.actor("q")
    assert q["state"] == "STOPPED" and q["unhandled"] == [_env("c", 3, queued_at=3)]
    assert q["mailbox"]["queued"] == [] and q["mailbox"]["held_bytes"] == 0


# --- the runtime's own scheduler --------------------------------------------------------------------------


def test_the_scheduler_takes_tasks_as_data_and_reports_them() -> None:
    """Tasks sent reach the scheduler whole: ready ids (0 too), steps by index, timers, follow-ups."""
    client = Client()
    sch = client.call("actors.scheduler")
    for task in ({"id": 0}, {"id": 5}, {"id": 6, "then": ["later", 2, 8]}):
        assert client.call("scheduler.call_soon", scheduler=sch, task=task) is None
    assert client.call("scheduler.ready", scheduler=sch) == [0, 5, 6]
    assert client.call("scheduler.step", scheduler=sch) is True
    assert client.call("scheduler.ran", scheduler=sch) == [0]
    assert client.call("scheduler.step", scheduler=sch, index=1) is True
    assert client.call("scheduler.ran", scheduler=sch) == [0, 6]
    assert client.call("scheduler.next_timer", scheduler=sch) == 2.0
    assert client.call("scheduler.call_later", scheduler=sch, delay=1.5, task={"id": 9, "repeat": 1}) is None
    assert client.call("scheduler.next_timer", scheduler=sch) == 1.5
    assert client.call("scheduler.advance", scheduler=sch, dt=1.5) is None
    assert client.call("scheduler.now", scheduler=sch) == 1.5
    assert client.call("scheduler.ready", scheduler=sch) == [5, 9]
    assert client.call("scheduler.run_until_idle", scheduler=sch) == 3
    assert client.call("scheduler.ran", scheduler=sch) == [0, 6, 5, 9, 9]
    assert client.call("scheduler.step", scheduler=sch) is False
    client.call("scheduler.advance", scheduler=sch, dt=1)
    assert client.call("scheduler.run_until_idle", scheduler=sch, limit=5) == 1
    assert client.call("scheduler.ran", scheduler=sch)[-1] == 8
    assert client.call("scheduler.next_timer", scheduler=sch) is None


def test_scheduler_calls_pass_what_was_sent_or_the_documented_default() -> None:
    """step's index and run_until_idle's limit reach the scheduler as sent, or as documented."""
    client = Client()
    sch = client.call("actors.scheduler")
    made = client.session.handles[sch][1]
    calls: list[tuple[str, Any]] = []

    def step(index: int) -> bool:
        calls.append(("step", index))
        return True

    def run_until_idle(limit: int) -> int:
        calls.append(("idle", limit))
        return 0

    made.step, made.run_until_idle = step, run_until_idle
    client.call("scheduler.step", scheduler=sch)
    client.call("scheduler.step", scheduler=sch, index=3)
    client.call("scheduler.run_until_idle", scheduler=sch)
    client.call("scheduler.run_until_idle", scheduler=sch, limit=2)
    documented = {(m.name, p.name): p.default for m in METHODS for p in m.params}
    assert calls == [
        ("step", documented["scheduler.step", "index"]),
        ("step", 3),
        ("idle", documented["scheduler.run_until_idle", "limit"]),
        ("idle", 2),
    ]


ACTOR_METHODS = [
    m for m in METHODS if m.name.partition(".")[0] in ("actors", "mailbox", "system", "reply", "scheduler")
]


@pytest.mark.parametrize("method", ACTOR_METHODS, ids=[m.name for m in ACTOR_METHODS])
def test_every_defaulted_parameter_defaults_as_documented(method: Any) -> None:
    """The server's default for a parameter left out is the one docs/protocol.md names."""
    session = serve.Session(VARIANT)
    served = {name: default for name, _, default in session.methods[method.name][0]}
    assert set(served) == {p.name for p in method.params}
    for p in method.params:
        assert served[p.name] == (... if p.required else p.default), p.name
