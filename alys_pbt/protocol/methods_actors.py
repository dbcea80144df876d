"""The protocol tables of the `actors` component (CROSSING.md): mailboxes, actor systems on the
scheduler relay, and the runtime's own scheduler, as handles; behaviours as roles (data).

The relay (issue 12, item 6): a system's runtime schedules nothing itself. Each task it would
schedule is recorded as `[id, delay]` (delay null: call_soon) and handed to the client by
`system.scheduled`; the client puts it on the suite's scheduler and sends `system.run_task` when
that scheduler runs it, and `system.set_time` whenever the suite's clock moved. A timer the runtime
cancels is listed in `cancelled` (when the client's scheduler can cancel timers, which it says in
`actors.system`'s `scheduler` object; otherwise cancelling is left to the runtime).
"""

from __future__ import annotations

from typing import Any

from alys_pbt.protocol.methods import Method, Step, Type, _m

S = Step
SYS = S("actors.system", {"scheduler": {"cancellable": True}}, 1)
ROLE_ECHO: dict[str, Any] = {"reply": "echo", "panics_on": [], "takes_item": None, "answers_sender": []}
SPAWN = S("system.spawn", {"system": 1, "name": "echo", "role": ROLE_ECHO}, "echo")
ENVELOPE = {"sender": "a", "seq": 1, "priority": 2, "payload": None, "queued_at": 1, "size": 0}
NEW_ACTOR = {
    "name": "echo",
    "state": "RUNNING",
    "restarts": 0,
    "cascades": 0,
    "escalations": [],
    "history": [[0.0, "running"]],
    "processed": [],
    "failed": [],
    "in_flight": [],
    "unhandled": [],
    "scheduled": False,
    "depends_on": [],
    "mailbox": {"size": 0, "capacity": 1000, "held_bytes": 0, "queued": [], "waiting": []},
}
IMMEDIATE = {"strategy": {"kind": "Immediate"}, "max_restarts": 5, "window": 60.0, "escalation": "escalate"}

TYPES_ACTORS: tuple[Type, ...] = (
    Type("json", "any JSON value: a message, as the suite sent it", [1, "ping"]),
    Type("float", "a JSON number (simulated seconds)", 0.5),
    Type("float?", "a `float`, or null", None),
    Type("int?", "an `int`, or null", None),
    Type("int[]", "an array of `int`", [1, 2]),
    Type("str?", "a `str`, or null", None),
    Type("str[]", "an array of `str`", ["a0", "a1"]),
    Type(
        "scheduler",
        'what the client\'s scheduler offers: `{"cancellable": bool}` (true: a timer the runtime '
        "cancels is reported in `system.scheduled`'s `cancelled` and the client cancels it; false: "
        "the runtime's cancel does nothing, as with a scheduler whose call_later returns no handle)",
        {"cancellable": True},
    ),
    Type(
        "role",
        'what an actor does, as data (interface.Role): `{"reply": "none" | "echo" | "count", '
        '"panics_on": [json], "takes_item": int or null, "answers_sender": [[json, json]]}`; every '
        "start and message is recorded (`system.received`)",
        ROLE_ECHO,
    ),
    Type(
        "restart-strategy",
        '`{"kind": "Never" | "Immediate"}`, `{"kind": "Delayed", "delay": float}`, `{"kind": '
        '"ExponentialBackoff", "initial": float, "maximum": float, "multiplier": float}` or '
        '`{"kind": "Progressive", "initial": float, "max_attempts": int, "multiplier": float}`',
        {"kind": "Delayed", "delay": 0.5},
    ),
    Type(
        "supervision-policy?",
        '`{"strategy": restart-strategy, "max_restarts": int, "window": float, "escalation": '
        '"escalate" | "stop"}`, or null for the default (ExponentialBackoff, 5 in 60 s, escalate)',
        IMMEDIATE,
    ),
    Type(
        "task",
        'a task for the runtime\'s own scheduler (interface.Task): `{"id": int, "then": ["soon" | '
        '"later", float, int] or null, "repeat": int}`',
        {"id": 1, "then": None, "repeat": 0},
    ),
    Type(
        "envelope",
        'a message in a mailbox: `{"sender": str, "seq": int, "priority": int (0 Background .. 5 '
        'Emergency), "payload": json, "queued_at": int, "size": int}` (an ask\'s or a route\'s payload '
        "is the message itself)",
        ENVELOPE,
    ),
    Type("envelope?", "an `envelope`, or null", None),
    Type("envelope[]", "an array of `envelope`", [ENVELOPE]),
    Type(
        "verdicts",
        'an object: actor name -> "accepted" | "rejected" | "blocked" | "dropped"',
        {"a1": "accepted"},
    ),
    Type(
        "scheduled",
        '`{"tasks": [[int, float or null], ...], "cancelled": [int, ...]}`: what the runtime '
        "scheduled (id, delay; null for call_soon) and cancelled since the last `system.scheduled`",
        {"tasks": [[1, None]], "cancelled": []},
    ),
    Type(
        "actor",
        'an actor as it is now: `{"name", "state" (upper-case lifecycle name), "restarts", "cascades", '
        '"escalations": str[], "history": [[float, str]], "processed", "failed", "in_flight", '
        '"unhandled": envelope[], "scheduled": bool, "depends_on": str[], "mailbox": {"size", '
        '"capacity", "held_bytes": int, "queued", "waiting": envelope[]}}`',
        NEW_ACTOR,
    ),
    Type(
        "received[]",
        'an actor\'s log: `[{"hook": "started" | "handle", "sender": str, "message": json, "state": '
        'str, "at": float, "in_flight": int}]`',
        [
            {
                "hook": "started",
                "sender": "echo",
                "message": None,
                "state": "STARTING",
                "at": 0.0,
                "in_flight": 0,
            }
        ],
    ),
    Type(
        "dead-letter[]",
        '`[{"to": str, "payload": json, "verdict": str, "by": str}]`: forwards a hop refused',
        [],
    ),
    Type(
        "reply-state",
        '`{"done": bool, "value": json, "error": {"name": str, "bases": str[], "message": str} or null}`',
        {"done": True, "value": "ping", "error": None},
    ),
)

_system = ("system", "handle", "an actor system")
_mailbox = ("mailbox", "handle", "a mailbox")
_scheduler = ("scheduler", "handle", "the runtime's scheduler")
MB = S("actors.mailbox", {"capacity": 1, "policy": "reject"}, 1)
SEND = S("mailbox.send", {"mailbox": 1, "envelope": ENVELOPE}, "accepted")
SCH = S("actors.scheduler", {}, 1)
TASK = {"id": 7, "then": None, "repeat": 0}
RUN_ECHO = [SYS, SPAWN, S("system.tell", {"system": 1, "to": "echo", "message": "ping"}, "accepted")]

METHODS_ACTORS: tuple[Method, ...] = (
    _m(
        "actors.mailbox",
        [
            ("capacity", "int", "how many messages it holds"),
            ("policy", "str", '"reject" | "drop-lowest" | "block"'),
        ],
        "handle",
        "A mailbox (a handle of kind `mailbox`).",
        [MB],
        ("ValueError",),
    ),
    _m(
        "mailbox.send",
        [_mailbox, ("envelope", "envelope", "the message")],
        "str",
        'Offer a message: "accepted", "blocked" or "dropped"; refused when full (MailboxFull).',
        [MB, SEND, S("mailbox.send", {"mailbox": 1, "envelope": ENVELOPE}, error="MailboxFull")],
        ("MailboxFull",),
    ),
    _m(
        "mailbox.pop",
        [_mailbox],
        "envelope?",
        "The next message due, or null.",
        [MB, SEND, S("mailbox.pop", {"mailbox": 1}, ENVELOPE)],
    ),
    _m(
        "mailbox.drain",
        [_mailbox],
        "envelope[]",
        "Every message, in delivery order.",
        [MB, SEND, S("mailbox.drain", {"mailbox": 1}, [ENVELOPE])],
    ),
    _m(
        "mailbox.backpressure",
        [_mailbox],
        "str",
        "NORMAL | WARNING | CRITICAL | BLOCKED.",
        [
            S("actors.mailbox", {"capacity": 10, "policy": "reject"}, 1),
            S("mailbox.backpressure", {"mailbox": 1}, "NORMAL"),
        ],
    ),
    _m(
        "mailbox.size",
        [_mailbox],
        "int",
        "How many messages are queued.",
        [MB, SEND, S("mailbox.size", {"mailbox": 1}, 1)],
    ),
    _m(
        "mailbox.waiting",
        [_mailbox],
        "envelope[]",
        "Blocked senders' messages, oldest first.",
        [MB, S("mailbox.waiting", {"mailbox": 1}, [])],
        attribute=True,
    ),
    _m(
        "mailbox.dropped",
        [_mailbox],
        "envelope[]",
        "Every message refused or evicted.",
        [MB, SEND, S("mailbox.dropped", {"mailbox": 1}, [])],
        attribute=True,
    ),
    _m(
        "actors.restart_delay",
        [("strategy", "restart-strategy", "the strategy"), ("attempt", "int", "the restart, from 0")],
        "float?",
        "Seconds before restart number `attempt`, or null: the strategy gives up.",
        [S("actors.restart_delay", {"strategy": {"kind": "Delayed", "delay": 0.5}, "attempt": 3}, 0.5)],
    ),
    _m(
        "actors.system",
        [("scheduler", "scheduler", "what the client's scheduler offers")],
        "handle",
        "An actor system on the relay (a handle of kind `system`): it schedules nothing itself.",
        [SYS],
    ),
    _m(
        "system.scheduled",
        [_system],
        "scheduled",
        "What the runtime scheduled and cancelled since the last call (then forgotten).",
        [*RUN_ECHO, S("system.scheduled", {"system": 1}, {"tasks": [[1, None]], "cancelled": []})],
    ),
    _m(
        "system.run_task",
        [_system, ("task", "int", "a task id from `system.scheduled`")],
        "null",
        "Run one scheduled task (once); a task not pending is UnknownTask.",
        [
            *RUN_ECHO,
            S("system.run_task", {"system": 1, "task": 1}, None),
            S("system.run_task", {"system": 1, "task": 1}, error="UnknownTask"),
        ],
        ("UnknownTask",),
    ),
    _m(
        "system.set_time",
        [_system, ("now", "float", "the suite's simulated time")],
        "null",
        "The runtime's clock reads `now` from here on (the client sends it when its clock moved).",
        [SYS, S("system.set_time", {"system": 1, "now": 2.5}, None)],
    ),
    _m(
        "system.spawn",
        [
            _system,
            ("name", "str", "its name"),
            ("role", "role", "what it does"),
            ("capacity", "int", "its mailbox's capacity", 1000),
            ("policy", "str", "its mailbox's overflow policy", "reject"),
            ("supervision", "supervision-policy?", "its supervision policy", None),
            ("parent", "str?", "its supervisor (an actor), or null", None),
            ("depends_on", "str[]", "what it stops after (may name actors spawned later)", []),
            ("max_bytes", "int?", "its mailbox's memory limit", None),
            ("processing_timeout", "float", "seconds a handler may take", 30.0),
        ],
        "str",
        "Start an actor; a taken name is ValueError.",
        [SYS, SPAWN, S("system.spawn", {"system": 1, "name": "echo", "role": ROLE_ECHO}, error="ValueError")],
        ("ValueError",),
    ),
    _m(
        "system.tell",
        [
            _system,
            ("to", "str", "the actor"),
            ("message", "json", "the message"),
            ("sender", "str", "who sends it", "outside"),
            ("priority", "int", "0 .. 5", 2),
            ("size", "int", "bytes it takes", 0),
        ],
        "str",
        'Send: "accepted" | "rejected" | "blocked" | "dropped"; an unknown actor is ActorNotFound.',
        [*RUN_ECHO, S("system.tell", {"system": 1, "to": "nobody", "message": 1}, error="ActorNotFound")],
        ("ActorNotFound",),
    ),
    _m(
        "system.ask",
        [
            _system,
            ("to", "str", "the actor"),
            ("message", "json", "the message"),
            ("timeout", "float", "seconds of simulated time"),
            ("sender", "str", "who asks", "outside"),
            ("priority", "int", "0 .. 5", 2),
            ("size", "int", "bytes it takes", 0),
        ],
        "handle",
        "Ask: a reply (a handle of kind `reply`), answered when the actor handles it.",
        [SYS, SPAWN, S("system.ask", {"system": 1, "to": "echo", "message": "ping", "timeout": 1.0}, 2)],
        ("ActorNotFound",),
        kind="reply",
    ),
    _m(
        "reply.state",
        [("reply", "handle", "a reply")],
        "reply-state",
        "Whether it was answered, with what value or error (AskTimeout, MailboxFull, a panic, ...).",
        [
            SYS,
            SPAWN,
            S("system.ask", {"system": 1, "to": "echo", "message": "ping", "timeout": 1.0}, 2),
            S("system.run_task", {"system": 1, "task": 1}, None),
            S("reply.state", {"reply": 2}, {"done": True, "value": "ping", "error": None}),
        ],
    ),
    _m(
        "system.broadcast",
        [
            _system,
            ("message", "json", "the message"),
            ("sender", "str", "who sends it", "outside"),
            ("priority", "int", "0 .. 5", 2),
        ],
        "verdicts",
        "Tell every actor but the sender.",
        [SYS, SPAWN, S("system.broadcast", {"system": 1, "message": 1}, {"echo": "accepted"})],
    ),
    _m(
        "system.route",
        [
            _system,
            ("hops", "str[]", "the actors, in turn"),
            ("message", "json", "the message"),
            ("sender", "str", "who sends it", "outside"),
            ("size", "int", "bytes", 0),
        ],
        "str",
        "Send along `hops`; the first hop's verdict (a refused forward is a dead letter).",
        [SYS, SPAWN, S("system.route", {"system": 1, "hops": ["echo"], "message": 1}, "accepted")],
        ("ActorNotFound",),
    ),
    _m(
        "system.fail",
        [_system, ("name", "str", "the actor"), ("reason", "str", "the panic's text", "injected panic")],
        "null",
        "Make a running actor panic (fault injection).",
        [SYS, SPAWN, S("system.fail", {"system": 1, "name": "echo"}, None)],
        ("ActorNotFound",),
    ),
    _m(
        "system.lookup",
        [_system, ("name", "str", "the actor")],
        "actor",
        "The actor as it is now.",
        [
            SYS,
            SPAWN,
            S("system.lookup", {"system": 1, "name": "echo"}, NEW_ACTOR),
            S("system.lookup", {"system": 1, "name": "x"}, error="ActorNotFound"),
        ],
        ("ActorNotFound",),
    ),
    _m(
        "system.received",
        [_system, ("name", "str", "the actor")],
        "received[]",
        "The actor's log: each start and each message it handled.",
        [
            SYS,
            SPAWN,
            S(
                "system.received",
                {"system": 1, "name": "echo"},
                [
                    {
                        "hook": "started",
                        "sender": "echo",
                        "message": None,
                        "state": "STARTING",
                        "at": 0.0,
                        "in_flight": 0,
                    }
                ],
            ),
        ],
        ("ActorNotFound",),
    ),
    _m(
        "system.escalated",
        [_system],
        "str[]",
        "Failures escalated past the top of a tree.",
        [SYS, S("system.escalated", {"system": 1}, [])],
        attribute=True,
    ),
    _m(
        "system.dead_letters",
        [_system],
        "dead-letter[]",
        "Forwards a hop refused.",
        [SYS, S("system.dead_letters", {"system": 1}, [])],
        attribute=True,
    ),
    _m(
        "system.shutdown",
        [_system],
        "str[]",
        "Stop every actor, dependents first: the stop order.",
        [SYS, SPAWN, S("system.shutdown", {"system": 1}, ["echo"])],
    ),
    _m(
        "actors.scheduler",
        [],
        "handle",
        "The runtime's own deterministic scheduler (a handle of kind `scheduler`).",
        [SCH],
        optional=True,
    ),
    _m(
        "scheduler.call_soon",
        [_scheduler, ("task", "task", "the task")],
        "null",
        "Make a task ready.",
        [SCH, S("scheduler.call_soon", {"scheduler": 1, "task": TASK}, None)],
    ),
    _m(
        "scheduler.call_later",
        [_scheduler, ("delay", "float", "seconds"), ("task", "task", "the task")],
        "null",
        "A timer.",
        [SCH, S("scheduler.call_later", {"scheduler": 1, "delay": 1.0, "task": TASK}, None)],
    ),
    _m(
        "scheduler.step",
        [_scheduler, ("index", "int", "which ready task (modulo how many)", 0)],
        "bool",
        "Run one ready task; false when none is ready.",
        [SCH, S("scheduler.step", {"scheduler": 1}, False)],
    ),
    _m(
        "scheduler.advance",
        [_scheduler, ("dt", "float", "seconds")],
        "null",
        "Move time on.",
        [SCH, S("scheduler.advance", {"scheduler": 1, "dt": 1.0}, None)],
    ),
    _m(
        "scheduler.run_until_idle",
        [_scheduler, ("limit", "int", "at most this many steps", 1_000_000)],
        "int",
        "Run ready tasks until none is or `limit` ran: how many ran.",
        [
            SCH,
            S("scheduler.call_soon", {"scheduler": 1, "task": {"id": 1, "then": None, "repeat": 2}}, None),
            S("scheduler.run_until_idle", {"scheduler": 1}, 3),
        ],
    ),
    _m(
        "scheduler.now",
        [_scheduler],
        "float",
        "The simulated time.",
        [SCH, S("scheduler.now", {"scheduler": 1}, 0.0)],
    ),
    _m(
        "scheduler.next_timer",
        [_scheduler],
        "float?",
        "When the next timer falls due, or null.",
        [SCH, S("scheduler.next_timer", {"scheduler": 1}, None)],
    ),
    _m(
        "scheduler.ready",
        [_scheduler],
        "int[]",
        "The ready tasks' ids, in order.",
        [
            SCH,
            S("scheduler.call_soon", {"scheduler": 1, "task": TASK}, None),
            S("scheduler.ready", {"scheduler": 1}, [7]),
        ],
        attribute=True,
    ),
    _m(
        "scheduler.ran",
        [_scheduler],
        "int[]",
        "The ids of the tasks that ran, in order.",
        [SCH, S("scheduler.ran", {"scheduler": 1}, [])],
        attribute=True,
    ),
)

ERRORS_ACTORS: dict[str, Any] = {
    "MailboxFull": "the mailbox is full and its policy is to refuse",
    "ActorNotFound": "no actor of that name",
    "UnknownTask": "run_task named a task that is not pending (never scheduled, run, or cancelled)",
}
