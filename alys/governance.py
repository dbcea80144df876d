"""The V2 governance StreamActor (app/src/actors/governance_stream/, "ALYS-012"): one actor holding
bi-directional gRPC streams to the Anduro governance nodes, over which the node registers, sends
notifications and signature requests, and receives signature responses and federation updates.

Most of the V2 actor is a stub (governance-stream.md §9: only three handlers, nothing ever enqueued,
the reconnect loop never called). This port builds what its design states and says where:
- it connects through the actor runtime (alys.actors): every command and every transport event is a
  message the actor handles on the runtime's scheduler, whose clock is the only one it reads;
- a connection is Connected once the server acknowledges its NodeRegistration (NodeRegistrationAck);
- heartbeats every `heartbeat_interval` (30 s, mod.rs:51), each with the next per-stream sequence;
  a monitor every `monitor_interval` (60 s, actor.rs:619) closes a stream silent for longer than
  `heartbeat_timeout` (30 s, protocol.rs:897);
- reconnect with the coded backoff (gs/reconnect.rs, actor.rs:700-709): the first attempt after a
  working stream drops is immediate, the wait after n consecutive failures is
  min(initial * multiplier^n, max_delay) with jitter +-factor*delay (floored at 0.1 s), and after
  `max_attempts` consecutive failures it gives up; a registration ack resets the count;
- a bounded outbound buffer per connection (1000, mod.rs:50), overflow DropOldest
  (config.rs:1034-1035); while a connection is not Connected its messages wait there and are written,
  in order, once it is (the design's "Flush Buffer -> Replay Messages", stream_actor.knowledge.md);
- a cap on connections (10, mod.rs:49): the eleventh is refused with TooManyConnections;
- signature requests (RequestSignatures, messages.rs:37-54) are sent with their request id in the
  metadata; the response whose ResponseMetadata.request_id names a pending request is handed to the
  requesting actor (ApplySignatures, bridge/messages.rs:31-36); one not answered within
  `request_timeout` (60 s) is answered SignatureTimeout by the sweep (every 10 s, actor.rs:629);
- federation updates are forwarded, in stream order, to the actor that needs them (the design's
  StreamActor -> ChainActor UpdateFederation, governance-stream.md §8).

Quirks (the V2 code, alys_pbt/deviations.py): `governance-buffer-lost-on-reconnect`,
`governance-connection-cap-unenforced`, `governance-silence-undetected`,
`governance-signature-status-squashed`, `governance-backoff-jitter-past-cap`.
Seeded mutants: `governance-reconnect-drops-buffered`, `governance-backoff-never-grows`,
`governance-response-wrong-request`, `governance-heartbeat-unchecked`, `governance-replay-newest-first`,
`governance-buffer-bound-off-by-one`, `governance-sweep-never-times-out`.

The wire contract is alys/governance.proto, compiled when first used (grpc_tools' protoc, into a
private descriptor pool: nothing generated is committed, so the code cannot drift from the .proto).
"""

from __future__ import annotations

import functools
import os
import queue
import random
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

# gRPC's core logs each GOAWAY at info level; a dropped stream is routine here.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
import grpc
from attrs import define, field, frozen
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

from alys.actors.system import Reply
from alys.variant import Variant

PROTO = Path(__file__).with_name("governance.proto")
STREAM_METHOD = "/governance.v1.GovernanceStream/Stream"
PROTOCOL_VERSION = "v1"
NOTIFICATIONS = ("status_update", "pegin_notification")  # what `send` carries (StreamRequest payloads)
MAX_WAIT = 60.0  # the longest `wait_event` blocks, in seconds of real time


@functools.cache
def messages() -> dict[str, Any]:
    """The message classes of governance.proto, by short name (compiled once, in a private pool)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "governance.pb"
        args = ["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc could not compile {PROTO}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    pool = descriptor_pool.DescriptorPool()
    for proto in files:
        pool.Add(proto)
    classes = message_factory.GetMessages(list(files), pool=pool)
    return {name.rsplit(".", 1)[1]: cls for name, cls in classes.items()}


# --- errors ------------------------------------------------------------------------------------------


class TooManyConnections(Exception):
    """The actor already holds `max_connections` connections (mod.rs:49; stream_actor.rs:229-231)."""


class UnknownConnection(LookupError):
    """No connection of that id."""


class GaveUp(ConnectionError):
    """The connection gave up after max_attempts consecutive failures (reconnect.rs next_attempt)."""


class UnknownReply(LookupError):
    """No command of that reply id was told to this stream."""


class Unanswered(RuntimeError):
    """The actor has not handled the command yet (the scheduler has not run it)."""


# --- configuration (gs/mod.rs, config.rs, actor.rs:700-709) ----------------------------------------


@frozen
class StreamConfig:
    node_id: str = "alys-node"
    max_connections: int = 10
    buffer_size: int = 1000
    heartbeat_interval: float = 30.0
    heartbeat_timeout: float = 30.0
    monitor_interval: float = 60.0
    connect_timeout: float = 30.0
    initial_delay: float = 1.0
    max_delay: float = 300.0
    multiplier: float = 2.0
    max_attempts: int = 10
    jitter: float = 0.1
    request_timeout: float = 60.0
    sweep_interval: float = 10.0


class State(Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKOFF = "backoff"
    GAVE_UP = "gave-up"
    CLOSED = "closed"


# --- what the actor hands to other actors (bridge/messages.rs ApplySignatures; messages.rs:97-146) ---


@frozen
class ApplySignatures:
    request_id: str
    status: str  # the SignatureStatus name without its prefix: PENDING, PARTIAL, COMPLETE, FAILED, TIMEOUT
    witnesses: tuple[bytes, ...]
    connection: int


@frozen
class SignatureTimeout:
    request_id: str


@frozen
class FederationUpdateMessage:
    effective_height: int
    members: tuple[str, ...]
    connection: int
    source_sequence: int  # its place in the stream's inbound order (1, 2, ...)


# --- commands, as messages to the actor -------------------------------------------------------------


@frozen
class _Connect:
    endpoint: str


@frozen
class _Send:
    connection: int
    kind: str  # "status_update" | "pegin_notification"
    request_id: str
    fields: tuple[tuple[str, Any], ...]


@frozen
class _RequestSignatures:
    connection: int
    request_id: str
    requester: str
    tx_hex: str
    amounts: tuple[int, ...]


@frozen
class _Event:
    connection: int
    generation: int
    kind: str  # "message" | "closed"
    payload: Any = None


@frozen
class _Tick:
    connection: int
    generation: int
    kind: str  # "heartbeat" | "monitor" | "reconnect" | "connect-timeout"


@frozen
class _Call:
    command: Any
    reply: Reply


@frozen
class _Sweep:
    pass


@frozen
class _Close:
    pass


# --- transport: one gRPC stream on its own channel -------------------------------------------------

_END = object()


class _Transport:
    """One Stream call. A reader thread turns what arrives into events for the actor's inbox; the
    actor alone decides what they mean, on the scheduler."""

    def __init__(self, endpoint: str, connection: int, generation: int, post: Callable[[_Event], None]):
        self.connection, self.generation, self._post = connection, generation, post
        self._out: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.channel = grpc.insecure_channel(endpoint)
        msgs = messages()
        stream = self.channel.stream_stream(
            STREAM_METHOD,
            request_serializer=msgs["StreamRequest"].SerializeToString,
            response_deserializer=msgs["StreamResponse"].FromString,
        )
        self.call = stream(iter(self._out.get, _END))
        self.reader = threading.Thread(target=self._read, name=f"governance-reader-{connection}", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                self._post(_Event(self.connection, self.generation, "message", response))
            self._post(_Event(self.connection, self.generation, "closed", "ended"))
        except grpc.RpcError as err:
            self._post(_Event(self.connection, self.generation, "closed", str(err.code())))

    def write(self, request: Any) -> None:
        self._out.put(request)

    def close(self) -> None:
        self._out.put(_END)
        self.call.cancel()
        self.channel.close()
        self.reader.join(10.0)


# --- the actor ---------------------------------------------------------------------------------------


@define
class Connection:
    id: int
    endpoint: str
    state: State = State.CONNECTING
    generation: int = 0
    transport: _Transport | None = None
    buffer: deque[Any] = field(factory=deque)  # StreamRequests waiting for a Connected stream
    dropped: list[str] = field(factory=list)  # request ids the overflow policy dropped
    failures: int = 0  # consecutive failed attempts (reconnect.rs attempt_count)
    attempts: list[float] = field(factory=list)  # when each connection attempt was made
    waits: list[tuple[int, float]] = field(factory=list)  # (failures, wait) scheduled after a failure
    out_sequence: int = 0  # per stream
    in_sequence: int = 0  # inbound messages on the current stream
    heartbeat_sequence: int = 0
    last_received: float = 0.0
    connected_at: float = 0.0
    detections: list[float] = field(factory=list)  # when silence was detected
    heartbeat_acks: list[int] = field(factory=list)


@define
class Pending:
    request_id: str
    requester: str
    connection: int
    deadline: float


class StreamActor:
    """The actor (a Behaviour of the runtime): state is touched only in `handle`."""

    def __init__(self, config: StreamConfig, routes: dict[str, str], variant: Variant, seed: int) -> None:
        self.config, self.routes, self.v = config, routes, variant
        self.connections: dict[int, Connection] = {}
        self.pending: dict[str, Pending] = {}
        self.unmatched: list[str] = []  # responses naming no pending request
        self.seed = seed  # jitter, seeded by whoever builds the stream
        self.rng = random.Random(seed)
        # one generator per connection: its waits do not depend on how other streams' events interleave
        self.rngs: dict[int, random.Random] = {}
        self.inbox: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self.arrived = threading.Condition()
        self.ctx: Any = None
        self._swept = False

    # Behaviour
    def started(self, ctx: Any) -> None:
        self.ctx = ctx

    def post(self, event: _Event) -> None:
        """From a reader thread: queue the event; `pump` tells it to the actor."""
        with self.arrived:
            self.inbox.put(event)
            self.arrived.notify_all()

    def _now(self) -> float:
        return float(self.ctx.system.scheduler.now())

    def _later(self, delay: float, message: Any) -> None:
        system, name = self.ctx.system, self.ctx.name
        system.scheduler.call_later(delay, lambda: system.tell(name, message, sender=name))

    def handle(self, message: Any, ctx: Any) -> Any:
        """A refusal is the answer, not a panic: the runtime would restart the actor for a raise."""
        self.ctx = ctx
        try:
            return self._dispatch(message)
        except (TooManyConnections, UnknownConnection, GaveUp) as err:
            return err

    def _dispatch(self, message: Any) -> Any:
        if isinstance(message, _Call):
            try:
                value = self._answer(message.command)
            except (TooManyConnections, UnknownConnection, GaveUp) as err:
                value = err
            message.reply.resolve(value=value)
            return None
        return self._answer(message)

    def _answer(self, message: Any) -> Any:
        if isinstance(message, _Connect):
            return self._connect(message.endpoint)
        if isinstance(message, _Send):
            return self._send(message)
        if isinstance(message, _RequestSignatures):
            return self._request_signatures(message)
        if isinstance(message, _Event):
            return self._event(message)
        if isinstance(message, _Tick):
            return self._tick(message)
        if isinstance(message, _Sweep):
            return self._sweep()
        if isinstance(message, _Close):
            return self.close()
        raise TypeError(f"StreamActor: no handler for {type(message).__name__}")

    # --- connecting ---------------------------------------------------------------------------------
    def _live(self) -> int:
        return sum(
            c.state is not State.CLOSED and c.state is not State.GAVE_UP for c in self.connections.values()
        )

    def _connect(self, endpoint: str) -> int:
        # The V2 actor only checks max_connections > 0 (config.rs:1126); the older one refuses at the cap.
        if self._live() >= self.config.max_connections and not self.v.on(
            "governance-connection-cap-unenforced"
        ):
            raise TooManyConnections(f"already {self._live()} of {self.config.max_connections} connections")
        conn = Connection(len(self.connections) + 1, endpoint)
        self.connections[conn.id] = conn
        if not self._swept:
            self._swept = True
            self._later(self.config.sweep_interval, _Sweep())
        self._attempt(conn)
        return conn.id

    def _attempt(self, conn: Connection) -> None:
        msgs = messages()
        if conn.attempts and self.v.on("governance-buffer-lost-on-reconnect"):
            # stream_actor.rs:280-282, 409-451: a reconnect removes the connection with its buffer
            # and makes it anew.
            conn.buffer.clear()
        conn.generation += 1
        conn.state = State.CONNECTING
        conn.attempts.append(self._now())
        conn.out_sequence = conn.in_sequence = 0
        conn.transport = _Transport(conn.endpoint, conn.id, conn.generation, self.post)
        registration = msgs["StreamRequest"]()
        registration.node_registration.node_info.version = PROTOCOL_VERSION
        registration.node_registration.capabilities.append("signatures")
        self._write(conn, registration, f"register-{conn.id}-{conn.generation}")
        self._later(self.config.connect_timeout, _Tick(conn.id, conn.generation, "connect-timeout"))

    def _write(self, conn: Connection, request: Any, request_id: str) -> None:
        assert conn.transport is not None
        conn.out_sequence += 1
        request.metadata.request_id = request_id
        request.metadata.node_id = self.config.node_id
        request.metadata.protocol_version = PROTOCOL_VERSION
        request.metadata.timestamp = int(self._now())
        request.metadata.sequence = conn.out_sequence
        conn.transport.write(request)

    def _connected(self, conn: Connection) -> None:
        conn.state = State.CONNECTED
        conn.failures = 0  # reconnect.rs record_success
        conn.last_received = conn.connected_at = self._now()
        waiting = list(conn.buffer)
        conn.buffer.clear()
        if self.v.on("governance-reconnect-drops-buffered"):  # pragma: no mutate block
            waiting = waiting[1:]
        if self.v.on("governance-replay-newest-first"):  # pragma: no mutate block
            waiting.reverse()
        for request in waiting:
            self._write(conn, request, request.metadata.request_id)
        self._later(self.config.heartbeat_interval, _Tick(conn.id, conn.generation, "heartbeat"))
        if self.v.on("governance-heartbeat-unchecked"):  # pragma: no mutate block
            return
        self._later(self.config.monitor_interval, _Tick(conn.id, conn.generation, "monitor"))

    def _lost(self, conn: Connection, *, established: bool) -> None:
        """The stream ended (dropped, refused, timed out, or found silent): schedule the next attempt."""
        if conn.transport is not None:
            conn.transport.close()
            conn.transport = None
        conn.generation += 1  # events and timers of the old stream are stale from now on
        if not established:
            conn.failures += 1
        if conn.failures >= self.config.max_attempts:
            conn.state = State.GAVE_UP
            return
        conn.state = State.BACKOFF
        if conn.failures == 0:  # reconnect.rs next_attempt: count 0 -> Proceed at once
            conn.waits.append((0, 0.0))
            self._later(0.0, _Tick(conn.id, conn.generation, "reconnect"))
            return
        rng = self.rngs.setdefault(conn.id, random.Random(f"{self.seed}/{conn.id}"))
        wait = self.backoff(conn.failures, rng)
        conn.waits.append((conn.failures, wait))
        self._later(wait, _Tick(conn.id, conn.generation, "reconnect"))

    def backoff(self, failures: int, rng: random.Random | None = None) -> float:
        """The wait after `failures` consecutive failures (reconnect.rs:314-356)."""
        c = self.config
        n = failures
        if self.v.on("governance-backoff-never-grows"):  # pragma: no mutate block
            n = 1
        delay = min(c.initial_delay * c.multiplier**n, c.max_delay)
        if c.jitter:
            delay = max(0.1, delay + (rng or self.rng).uniform(-c.jitter * delay, c.jitter * delay))
            if not self.v.on("governance-backoff-jitter-past-cap"):
                delay = min(delay, c.max_delay)  # the cap holds after jitter too
        return delay

    # --- sending ------------------------------------------------------------------------------------
    def _conn(self, connection: int) -> Connection:
        try:
            return self.connections[connection]
        except KeyError:
            raise UnknownConnection(f"no connection {connection}") from None

    def _enqueue(self, conn: Connection, request: Any, request_id: str) -> str:
        if conn.state is State.GAVE_UP or conn.state is State.CLOSED:
            raise GaveUp(f"connection {conn.id} is {conn.state.value}")
        if conn.state is State.CONNECTED:
            self._write(conn, request, request_id)
            return "sent"
        request.metadata.request_id = request_id
        bound = self.config.buffer_size
        if self.v.on("governance-buffer-bound-off-by-one"):  # pragma: no mutate block
            bound += 1
        if len(conn.buffer) >= bound:  # DropOldest (config.rs:1034-1035)
            conn.dropped.append(conn.buffer.popleft().metadata.request_id)
        conn.buffer.append(request)
        return "buffered"

    def _send(self, message: _Send) -> str:
        conn = self._conn(message.connection)
        request = messages()["StreamRequest"]()
        payload = getattr(request, message.kind)
        payload.SetInParent()  # the oneof names its kind even with no field set, as prost's Some(..) does
        for name, value in message.fields:
            setattr(payload, name, value)
        return self._enqueue(conn, request, message.request_id)

    def _request_signatures(self, message: _RequestSignatures) -> str:
        conn = self._conn(message.connection)
        request = messages()["StreamRequest"]()
        request.signature_request.tx_hex = message.tx_hex
        request.signature_request.amounts.extend(message.amounts)
        request.signature_request.tx_type = 2  # PEGOUT (the proto's number, not messages.rs:858-879's)
        verdict = self._enqueue(conn, request, message.request_id)
        self.pending[message.request_id] = Pending(
            message.request_id, message.requester, conn.id, self._now() + self.config.request_timeout
        )
        return verdict

    # --- receiving ----------------------------------------------------------------------------------
    def _event(self, event: _Event) -> None:
        conn = self.connections.get(event.connection)
        if conn is None or event.generation != conn.generation or conn.state is State.CLOSED:
            return  # from a stream already given up on
        if event.kind == "closed":
            self._lost(conn, established=conn.state is State.CONNECTED)
            return
        response = event.payload
        conn.in_sequence += 1
        if not self.v.on("governance-silence-undetected"):
            conn.last_received = self._now()  # any inbound traffic refreshes liveness
        kind = response.WhichOneof("payload")
        if kind == "registration_ack":
            if conn.state is State.CONNECTING:
                self._connected(conn)
        elif kind == "heartbeat_ack":
            conn.heartbeat_acks.append(response.heartbeat_ack.sequence)
        elif kind == "signature_response":
            self._signature_response(conn, response)
        elif kind == "federation_update":
            update = response.federation_update
            self._tell(
                "federation",
                FederationUpdateMessage(
                    update.effective_height,
                    tuple(m.member_id for m in update.members),
                    conn.id,
                    conn.in_sequence,
                ),
            )

    def _signature_response(self, conn: Connection, response: Any) -> None:
        request_id = response.metadata.request_id
        if self.v.on("governance-response-wrong-request"):  # pragma: no mutate block
            request_id = next(iter(self.pending), request_id)  # the oldest pending, not the one named
        pending = self.pending.pop(request_id, None)
        if pending is None:
            self.unmatched.append(request_id)
            return
        status = messages()["SignatureResponse"].DESCRIPTOR.fields_by_name["status"].enum_type
        name = status.values_by_number[response.signature_response.status].name.removeprefix(
            "SIGNATURE_STATUS_"
        )
        if self.v.on("governance-signature-status-squashed"):
            name = "COMPLETE"  # protocol.rs:548-554
        witnesses = tuple(w.signature for w in response.signature_response.signatures)
        self._tell(pending.requester, ApplySignatures(request_id, name, witnesses, conn.id))

    def _tell(self, route: str, message: Any) -> None:
        to = self.routes.get(route, route)
        if to in self.ctx.system.cells:
            self.ctx.system.tell(to, message, sender=self.ctx.name)

    # --- timers -------------------------------------------------------------------------------------
    def _tick(self, tick: _Tick) -> None:
        conn = self.connections.get(tick.connection)
        if conn is None or tick.generation != conn.generation:
            return
        if tick.kind == "reconnect" and conn.state is State.BACKOFF:
            self._attempt(conn)
        elif tick.kind == "connect-timeout" and conn.state is State.CONNECTING:
            self._lost(conn, established=False)  # actor.rs:766, 30 s
        elif tick.kind == "heartbeat" and conn.state is State.CONNECTED:
            conn.heartbeat_sequence += 1
            request = messages()["StreamRequest"]()
            request.heartbeat.sequence = conn.heartbeat_sequence
            request.heartbeat.timestamp = int(self._now())
            self._write(conn, request, f"heartbeat-{conn.id}-{conn.heartbeat_sequence}")
            self._later(self.config.heartbeat_interval, tick)
        elif tick.kind == "monitor" and conn.state is State.CONNECTED:
            if self._now() - conn.last_received > self.config.heartbeat_timeout:
                conn.detections.append(self._now())
                if not self.v.on("governance-silence-undetected"):  # actor.rs:864-867: it only logs
                    self._lost(conn, established=True)
                    return
            self._later(self.config.monitor_interval, tick)

    def _sweep(self) -> None:
        now = self._now()
        for request_id, pending in list(self.pending.items()):
            if now < pending.deadline:
                continue
            if self.v.on("governance-sweep-never-times-out"):  # pragma: no mutate block
                continue
            del self.pending[request_id]
            self._tell(pending.requester, SignatureTimeout(request_id))
        if any(c.state is not State.CLOSED for c in self.connections.values()):
            self._later(self.config.sweep_interval, _Sweep())

    def close(self) -> None:
        for conn in self.connections.values():
            if conn.transport is not None:
                conn.transport.close()
                conn.transport = None
            conn.state = State.CLOSED
            conn.generation += 1


def connection_view(conn: Connection) -> dict[str, Any]:
    """A connection as plain data (JSON's types): what the suite reads of it, in process or over the
    target protocol."""
    return {
        "id": conn.id,
        "endpoint": conn.endpoint,
        "state": conn.state.value,
        "generation": conn.generation,
        "buffer": [r.metadata.request_id for r in conn.buffer],
        "dropped": list(conn.dropped),
        "failures": conn.failures,
        "attempts": list(conn.attempts),
        "waits": [[failures, wait] for failures, wait in conn.waits],
        "out_sequence": conn.out_sequence,
        "in_sequence": conn.in_sequence,
        "heartbeat_sequence": conn.heartbeat_sequence,
        "heartbeat_acks": list(conn.heartbeat_acks),
        "last_received": conn.last_received,
        "connected_at": conn.connected_at,
        "detections": list(conn.detections),
        "open": conn.transport is not None,
    }


class GovernanceStream:
    """A StreamActor running in an actor system, and the commands the node's other actors send it.

    Each command is told to the actor through the runtime and answered when the scheduler runs it: a
    command returns the id of its reply, and `outcome(reply)` reads the answer once it is there.
    `pump()` hands what the gRPC reader threads received to the actor, as messages. What the suite
    reads of the actor's state comes as plain data (`connections()`, `connection(id)`, `pending()`)."""

    def __init__(self, system: Any, name: str, actor: StreamActor) -> None:
        self.system, self.name, self.actor = system, name, actor
        self.replies: dict[int, Reply] = {}

    def _ask(self, message: Any) -> int:
        """Tell the actor a command; its Reply is resolved when the actor handles it. (Not the
        runtime's ask: the actor always answers, so no timeout timer is needed per command.)"""
        reply = Reply()
        self.replies[len(self.replies) + 1] = reply
        verdict = self.system.tell(self.name, _Call(message, reply), sender=self.name)
        if verdict not in ("accepted", "blocked"):
            reply.resolve(error=RuntimeError(f"the StreamActor's mailbox {verdict} the command"))
        return len(self.replies)

    def connect(self, endpoint: str) -> int:
        return self._ask(_Connect(endpoint))

    def send(self, connection: int, kind: str, request_id: str, **fields: Any) -> int:
        """A notification: refused here, before the actor is told, if its kind or a field is not the
        contract's (ValueError), so the actor never handles a message it cannot build."""
        if kind not in NOTIFICATIONS:
            raise ValueError(f"{kind!r} is not a notification ({', '.join(NOTIFICATIONS)})")
        payload = getattr(messages()["StreamRequest"](), kind)
        for name, value in fields.items():
            try:
                setattr(payload, name, value)
            except (AttributeError, TypeError, ValueError) as err:
                raise ValueError(f"{kind}.{name} = {value!r:.40}: {err}") from None
        return self._ask(_Send(connection, kind, request_id, tuple(sorted(fields.items()))))

    def request_signatures(
        self, connection: int, request_id: str, requester: str, tx_hex: str, amounts: tuple[int, ...] = ()
    ) -> int:
        return self._ask(_RequestSignatures(connection, request_id, requester, tx_hex, tuple(amounts)))

    def outcome(self, reply: int) -> Any:
        """A command's answer, once the scheduler has run it: its value, or its refusal raised."""
        found = self.replies.get(reply)
        if found is None:
            raise UnknownReply(f"no command with reply {reply}")
        if not found.done:
            raise Unanswered(f"the actor has not handled command {reply} yet (run the scheduler)")
        if found.error is not None:
            raise found.error
        if isinstance(found.value, Exception):
            raise found.value
        return found.value

    def pump(self) -> int:
        """Tell the actor every transport event received so far; how many."""
        told = 0
        while True:
            try:
                event = self.actor.inbox.get_nowait()
            except queue.Empty:
                return told
            self.system.tell(self.name, event, sender=self.name)
            told += 1

    def wait_event(self, timeout: float) -> bool:
        """Block until a transport event is waiting, at most `timeout` seconds of real time, 0 to
        MAX_WAIT (a guard against a hung stream, not a clock)."""
        if not 0.0 <= timeout <= MAX_WAIT:
            raise ValueError(f"a wait of {timeout!r:.20} s is outside 0..{MAX_WAIT:g} s")
        with self.actor.arrived:
            return self.actor.arrived.wait_for(lambda: not self.actor.inbox.empty(), timeout)

    def connection(self, connection: int) -> dict[str, Any]:
        return connection_view(self.actor._conn(connection))

    def connections(self) -> list[dict[str, Any]]:
        """Every connection, by id."""
        return [connection_view(c) for _, c in sorted(self.actor.connections.items())]

    def pending(self) -> list[str]:
        """The request ids of the signature requests awaiting an answer, oldest first."""
        return list(self.actor.pending)

    def backoff(self, failures: int) -> float:
        return self.actor.backoff(failures)

    def close(self) -> None:
        """Close every stream and channel and join the reader threads (directly: no scheduler needed)."""
        self.actor.close()


class GovernancePort:
    """The `governance` component of target `alys`."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant

    def stream(
        self,
        system: Any,
        *,
        name: str = "governance-stream",
        routes: dict[str, str] | None = None,
        seed: int = 0,
        **config: Any,
    ) -> GovernanceStream:
        actor = StreamActor(StreamConfig(**config), dict(routes or {}), self.v, seed)
        system.spawn(name, lambda: actor, capacity=5000)  # mailbox 5000 (foundation/config.rs:276-294)
        return GovernanceStream(system, name, actor)

    def messages(self) -> dict[str, Any]:
        return messages()
