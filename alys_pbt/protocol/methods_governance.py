"""The protocol tables of the `governance` component (CROSSING.md): the V2 StreamActor, spawned in an
actor system of the `actors` component (on its scheduler relay), as a handle of kind `stream`.

The suite plays the governance node: a gRPC server of governance.proto on loopback, on the suite's
machine. The server under test runs the node's side, the StreamActor, whose gRPC client connects to
the endpoint the suite names (`stream.connect`). Every command and every transport event is a
message the actor handles in a task of the relay: the client sends the suite's clock before a
command (`system.set_time`) and, after a command or `stream.pump`, takes what it scheduled
(`system.scheduled`) and runs each task when the suite's scheduler picks it (`system.run_task`).
A command answers with the id of its reply; `stream.outcome` reads the answer once the task ran.
What the actor tells other actors (the requester's ApplySignatures and SignatureTimeout, the
federation route's update) is read with `system.received` on actors spawned with a role, each
message a JSON object naming its `type` (bytes as hex):
`{"type": "ApplySignatures", "request_id": str, "status": "PENDING" | "PARTIAL" | "COMPLETE" |
"FAILED" | "TIMEOUT", "witnesses": [bytes], "connection": int}`,
`{"type": "SignatureTimeout", "request_id": str}`, and
`{"type": "FederationUpdateMessage", "effective_height": int, "members": [str], "connection": int,
"source_sequence": int}`.

Every example exchange below needs no governance node: the stream connects to an endpoint where
nothing listens, and no example pumps the events of that connection (their timing is gRPC's), so
each holds as written (tests/test_protocol_docs.py replays them against the port's server).
"""

from __future__ import annotations

from alys_pbt.protocol.methods import Method, Step, Type, _m

S = Step
NOWHERE = "127.0.0.1:1"  # an endpoint where nothing listens: the examples never need a governance node
SYS = S("actors.system", {"scheduler": {"cancellable": False}}, 1)
CONFIG = {"jitter": 0.0, "max_connections": 1}
STREAM = S("governance.stream", {"system": 1, "routes": {"federation": "chain"}, "config": CONFIG}, 2)
CONNECT = (
    S("stream.connect", {"stream": 2, "endpoint": NOWHERE}, 1),
    S("system.scheduled", {"system": 1}, {"tasks": [[1, None]], "cancelled": []}),
    S("system.run_task", {"system": 1, "task": 1}, None),
)
CONNECTING = {
    "id": 1,
    "endpoint": NOWHERE,
    "state": "connecting",
    "generation": 1,
    "buffer": [],
    "dropped": [],
    "failures": 0,
    "attempts": [0.0],
    "waits": [],
    "out_sequence": 1,
    "in_sequence": 0,
    "heartbeat_sequence": 0,
    "heartbeat_acks": [],
    "last_received": 0.0,
    "connected_at": 0.0,
    "detections": [],
    "open": True,
}
# After CONNECT the actor has scheduled its sweep (10 s) and the attempt's connect timeout (30 s).
TIMERS = [[2, 10.0], [3, 30.0]]
REQUEST = {"stream": 2, "connection": 1, "request_id": "sig-1", "requester": "bridge", "tx_hex": "00"}

TYPES_GOVERNANCE: tuple[Type, ...] = (
    Type("str-map", "an object of `str` values (a name -> a name); null: none", {"federation": "chain"}),
    Type(
        "stream-config",
        "the StreamActor's parameters to override, by name (any of max_connections, buffer_size, "
        "heartbeat_interval, heartbeat_timeout, monitor_interval, connect_timeout, initial_delay, "
        "max_delay, multiplier, max_attempts, jitter, request_timeout, sweep_interval, node_id): an "
        "object of numbers (seconds, counts, factors) and strings; `{}` keeps the coded ones",
        CONFIG,
    ),
    Type(
        "notification-fields",
        "fields of a notification's payload (governance.proto StatusUpdate or PeginNotification), by "
        "name: an object of JSON scalars",
        {"block_height": 7},
    ),
    Type(
        "stream-connection",
        'one connection of a stream: `{"id": int, "endpoint": str, "state": "connecting" | "connected" | '
        '"backoff" | "gave-up" | "closed", "generation": int (one per gRPC stream), "buffer": str[] '
        '(request ids waiting for a Connected stream, oldest first), "dropped": str[] (request ids the '
        'overflow policy dropped), "failures": int (consecutive failed attempts), "attempts": float[] '
        '(when each attempt was made), "waits": [[int, float]] ((failures, wait) scheduled after each '
        'loss), "out_sequence": int, "in_sequence": int (requests written and responses received on '
        'the current stream), "heartbeat_sequence": int, "heartbeat_acks": int[], "last_received": '
        'float, "connected_at": float, "detections": float[] (when silence was detected), "open": '
        "bool (it holds a gRPC channel)}` (times are the suite's simulated seconds)",
        CONNECTING,
    ),
    Type("stream-connection[]", "an array of `stream-connection`, by id", [CONNECTING]),
)

ERRORS_GOVERNANCE: dict[str, str] = {
    "TooManyConnections": "max_connections connections are live already",
    "UnknownConnection": "no connection of that id",
    "GaveUp": "the connection gave up after max_attempts consecutive failures (or was closed)",
    "UnknownReply": "no command of that reply id was told to this stream",
    "Unanswered": "the actor has not handled the command yet (its task has not run)",
}
COMMAND = ("TooManyConnections", "UnknownConnection", "GaveUp", "UnknownReply", "Unanswered")

_stream = ("stream", "handle", "a stream")
_connection = ("connection", "int", "a connection's id")

METHODS_GOVERNANCE: tuple[Method, ...] = (
    _m(
        "governance.stream",
        [
            ("system", "handle", "an actor system (actors.system) to spawn the StreamActor in"),
            ("name", "str", "the actor's name", "governance-stream"),
            ("routes", "str-map", 'where it tells what it forwards: "federation" -> an actor', None),
            ("seed", "int", "the seed of its backoff jitter", 0),
            ("config", "stream-config", "the parameters it overrides (`{}`: none)"),
        ],
        "handle",
        "Spawn a StreamActor (mailbox of 5000) in the system; the handle (of kind `stream`) belongs to "
        "the system: its commands run as the system's tasks, on the relay.",
        [
            SYS,
            STREAM,
            S("governance.stream", {"system": 1, "name": "other", "config": {"bogus": 1}}, error="TypeError"),
        ],
    ),
    _m(
        "stream.connect",
        [_stream, ("endpoint", "str", "the governance node, HOST:PORT")],
        "int",
        "Tell the actor to open a connection (a gRPC stream to the endpoint, opened by a "
        "NodeRegistration whose request_id is `register-<connection>-<generation>`, Connected once "
        "acknowledged): the reply's id. Its outcome is the connection's id, or TooManyConnections.",
        [SYS, STREAM, *CONNECT, S("stream.outcome", {"stream": 2, "reply": 1}, 1)],
    ),
    _m(
        "stream.send",
        [
            _stream,
            _connection,
            ("kind", "str", '"status_update" | "pegin_notification"'),
            ("request_id", "str", "its metadata.request_id"),
            ("fields", "notification-fields", "fields of its payload", {}),
        ],
        "int",
        'Tell the actor to send a notification: the reply\'s id. Its outcome is "sent" (Connected), '
        '"buffered" (waiting for a Connected stream), UnknownConnection or GaveUp. A kind or field '
        "not in the contract is refused at once (ValueError), before the actor is told.",
        [
            SYS,
            STREAM,
            *CONNECT,
            S(
                "stream.send",
                {
                    "stream": 2,
                    "connection": 1,
                    "kind": "status_update",
                    "request_id": "m0",
                    "fields": {"block_height": 7},
                },
                2,
            ),
            S("system.scheduled", {"system": 1}, {"tasks": [*TIMERS, [4, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 4}, None),
            S("stream.outcome", {"stream": 2, "reply": 2}, "buffered"),
            S(
                "stream.send",
                {"stream": 2, "connection": 1, "kind": "no_such_kind", "request_id": "m1"},
                error="ValueError",
            ),
        ],
        ("ValueError",),
    ),
    _m(
        "stream.request_signatures",
        [
            _stream,
            _connection,
            ("request_id", "str", "its metadata.request_id, which the response names"),
            ("requester", "str", "the actor told ApplySignatures or SignatureTimeout"),
            ("tx_hex", "str", "the transaction to sign, hex"),
            ("amounts", "int[]", "its amounts", []),
        ],
        "int",
        "Tell the actor to send a signature request (tx_type PEGOUT) and keep it pending: the reply's "
        'id. Its outcome is "sent" or "buffered" as for `send`. The response naming the request is '
        "told to the requester as ApplySignatures; one unanswered past request_timeout is told "
        "SignatureTimeout by the sweep.",
        [
            SYS,
            STREAM,
            *CONNECT,
            S("stream.request_signatures", {**REQUEST, "amounts": [1000]}, 2),
            S("system.scheduled", {"system": 1}, {"tasks": [*TIMERS, [4, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 4}, None),
            S("stream.outcome", {"stream": 2, "reply": 2}, "buffered"),
        ],
    ),
    _m(
        "stream.outcome",
        [_stream, ("reply", "int", "a reply's id (from connect, send or request_signatures)")],
        "json",
        "A command's answer once its task has run: its value, or its refusal as the error.",
        [
            SYS,
            STREAM,
            S("stream.connect", {"stream": 2, "endpoint": NOWHERE}, 1),
            S("stream.outcome", {"stream": 2, "reply": 1}, error="Unanswered"),
            *CONNECT[1:],
            S("stream.outcome", {"stream": 2, "reply": 1}, 1),
            S("stream.connect", {"stream": 2, "endpoint": NOWHERE}, 2),
            S("system.scheduled", {"system": 1}, {"tasks": [*TIMERS, [4, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 4}, None),
            S("stream.outcome", {"stream": 2, "reply": 2}, error="TooManyConnections"),
            S("stream.send", {"stream": 2, "connection": 9, "kind": "status_update", "request_id": "m0"}, 3),
            S("system.scheduled", {"system": 1}, {"tasks": [[5, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 5}, None),
            S("stream.outcome", {"stream": 2, "reply": 3}, error="UnknownConnection"),
            S("stream.outcome", {"stream": 2, "reply": 9}, error="UnknownReply"),
        ],
        COMMAND,
    ),
    _m(
        "stream.pump",
        [_stream],
        "int",
        "Tell the actor every transport event its gRPC client received since the last pump (each a "
        "message, handled in a task of the relay): how many.",
        [SYS, STREAM, S("stream.pump", {"stream": 2}, 0)],
    ),
    _m(
        "stream.wait_event",
        [_stream, ("timeout", "float", "seconds of real time, 0 to 60")],
        "bool",
        "Block until a transport event is waiting to be pumped, at most `timeout` seconds (a guard "
        "against a hung stream, never a clock): whether one is. A timeout outside 0..60 is refused "
        "(ValueError).",
        [
            SYS,
            STREAM,
            S("stream.wait_event", {"stream": 2, "timeout": 0.0}, False),
            S("stream.wait_event", {"stream": 2, "timeout": 61.0}, error="ValueError"),
        ],
        ("ValueError",),
    ),
    _m(
        "stream.connections",
        [_stream],
        "stream-connection[]",
        "Every connection, by id.",
        [
            SYS,
            STREAM,
            S("stream.connections", {"stream": 2}, []),
            *CONNECT,
            S("stream.connections", {"stream": 2}, [CONNECTING]),
        ],
    ),
    _m(
        "stream.connection",
        [_stream, _connection],
        "stream-connection",
        "One connection.",
        [
            SYS,
            STREAM,
            *CONNECT,
            S("stream.connection", {"stream": 2, "connection": 1}, CONNECTING),
            S("stream.connection", {"stream": 2, "connection": 2}, error="UnknownConnection"),
        ],
        ("UnknownConnection",),
    ),
    _m(
        "stream.pending",
        [_stream],
        "str[]",
        "The request ids of the signature requests awaiting an answer, oldest first.",
        [
            SYS,
            STREAM,
            *CONNECT,
            S("stream.request_signatures", REQUEST, 2),
            S("system.scheduled", {"system": 1}, {"tasks": [*TIMERS, [4, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 4}, None),
            S("stream.pending", {"stream": 2}, ["sig-1"]),
        ],
    ),
    _m(
        "stream.backoff",
        [_stream, ("failures", "int", "consecutive failures")],
        "float",
        "The wait before the next attempt after `failures` consecutive failures "
        "(min(initial_delay * multiplier^failures, max_delay), with the stream's jitter).",
        [
            SYS,
            STREAM,
            S("stream.backoff", {"stream": 2, "failures": 3}, 8.0),
            S("stream.backoff", {"stream": 2, "failures": 9}, 300.0),
        ],
    ),
    _m(
        "stream.close",
        [_stream],
        "null",
        "Close every connection (each ends `closed`, holding no channel) and join the gRPC client's "
        "threads, at once (no task). A command on a closed connection is refused GaveUp.",
        [
            SYS,
            STREAM,
            *CONNECT,
            S("stream.close", {"stream": 2}, None),
            S(
                "stream.connection",
                {"stream": 2, "connection": 1},
                {**CONNECTING, "state": "closed", "generation": 2, "open": False},
            ),
            S("stream.send", {"stream": 2, "connection": 1, "kind": "status_update", "request_id": "m0"}, 2),
            S("system.scheduled", {"system": 1}, {"tasks": [*TIMERS, [4, None]], "cancelled": []}),
            S("system.run_task", {"system": 1, "task": 4}, None),
            S("stream.outcome", {"stream": 2, "reply": 2}, error="GaveUp"),
        ],
    ),
)
