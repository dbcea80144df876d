"""Reference for the V2 governance stream (governance-stream.md): the reconnect schedule, the bounded
outbound buffer, the connection cap, signature correlation and the liveness bound, as the V2 design
states them (each rule names its source; where the code is a stub, the design's text).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from attrs import define, field, frozen

SIGNATURE_STATUSES = ("PENDING", "PARTIAL", "COMPLETE", "FAILED", "TIMEOUT")  # proto:475-586, 1..5


@frozen
class StreamPolicy:
    """The gs actor's parameters (gs/mod.rs:49-58, actor.rs:611-629, 700-709, protocol.rs:897)."""

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


def backoff_delay(policy: StreamPolicy, failures: int) -> float:
    """The wait after `failures` consecutive failures, jitter off (reconnect.rs:314-336):
    initial * multiplier^failures, capped at max_delay; the first attempt after a working stream
    (no failures) is immediate (reconnect.rs:182-219, count 0 -> Proceed)."""
    if failures == 0:
        return 0.0
    return min(policy.initial_delay * policy.multiplier**failures, policy.max_delay)


def backoff_bounds(policy: StreamPolicy, failures: int) -> tuple[float, float]:
    """Where a jittered wait may fall: +-jitter*delay, floored at 0.1 s (reconnect.rs:339-356) and,
    the suite's hardening of the documented maximum, never past max_delay."""
    delay = backoff_delay(policy, failures)
    if failures == 0 or not policy.jitter:
        return delay, delay
    low = max(0.1, delay * (1 - policy.jitter))
    high = min(policy.max_delay, max(0.1, delay * (1 + policy.jitter)))
    return min(low, high), high


def gives_up(policy: StreamPolicy, failures: int) -> bool:
    """GiveUp once the consecutive failures reach max_attempts (reconnect.rs next_attempt)."""
    return failures >= policy.max_attempts


def detection_bound(policy: StreamPolicy) -> float:
    """How long a Connected stream may hear nothing before it is closed: the heartbeat timeout,
    plus at most one monitor period until the monitor looks (actor.rs:619; protocol.rs:897)."""
    return policy.heartbeat_timeout + policy.monitor_interval


def refuses_connection(policy: StreamPolicy, live: int) -> bool:
    """The cap: a new connection is refused while `max_connections` are live (mod.rs:49;
    stream_actor.rs:229-231, TooManyConnections)."""
    return live >= policy.max_connections


@define
class OutboundBuffer:
    """One connection's buffer while it is not Connected: bounded, DropOldest on overflow
    (config.rs:1034-1035; stream_actor.rs:366-377), replayed in order on connect (the design's
    "Flush Buffer -> Replay Messages", stream_actor.knowledge.md:69-73)."""

    capacity: int
    waiting: deque[str] = field(factory=deque)
    dropped: list[str] = field(factory=list)

    def enqueue(self, message_id: str) -> str | None:
        """Buffer a message; the id it dropped to make room, if any."""
        lost = None
        if len(self.waiting) >= self.capacity:
            lost = self.waiting.popleft()
            self.dropped.append(lost)
        self.waiting.append(message_id)
        return lost

    def flush(self) -> list[str]:
        """Everything waiting, oldest first; the buffer is empty after."""
        out = list(self.waiting)
        self.waiting.clear()
        return out


@define
class Correlation:
    """Pending signature requests by request id (actor.rs:174-191): a response resolves exactly the
    request its ResponseMetadata.request_id names, once; an unknown id resolves nothing."""

    pending: dict[str, str] = field(factory=dict)  # request id -> requester
    resolved: dict[str, str] = field(factory=dict)  # request id -> status handed on

    def request(self, request_id: str, requester: str) -> None:
        self.pending[request_id] = requester

    def respond(self, request_id: str, status: str) -> str | None:
        """The requester the response goes to, or None if it names no pending request."""
        requester = self.pending.pop(request_id, None)
        if requester is not None:
            self.resolved[request_id] = status
        return requester


# --- what the suite reads of a target's StreamActor (plain data: in process, or over the protocol) ---


@frozen
class StreamConnection:
    """One connection of the target's StreamActor, as the interface's `connection(id)` gives it
    (docs/target-interface.md, governance): its state, stream generation, buffer and schedule."""

    id: int
    endpoint: str
    state: str  # "connecting" | "connected" | "backoff" | "gave-up" | "closed"
    generation: int  # one per stream
    buffer: tuple[str, ...]  # request ids of the messages waiting for a Connected stream, oldest first
    dropped: tuple[str, ...]  # request ids the overflow policy dropped
    failures: int  # consecutive failed attempts
    attempts: tuple[float, ...]  # when each connection attempt was made (simulated time)
    waits: tuple[tuple[int, float], ...]  # (failures, wait) scheduled after each loss
    out_sequence: int  # requests written on the current stream
    in_sequence: int  # responses received on the current stream
    heartbeat_sequence: int
    heartbeat_acks: tuple[int, ...]
    last_received: float
    connected_at: float
    detections: tuple[float, ...]  # when silence was detected
    open: bool  # the connection holds a gRPC channel

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> StreamConnection:
        """Read the interface's mapping (every key present, nothing else)."""
        fields = [a.name for a in cls.__attrs_attrs__]
        if set(data) != set(fields):
            raise ValueError(f"a connection has exactly the keys {fields}, got {sorted(data)}")
        return cls(
            id=int(data["id"]),
            endpoint=str(data["endpoint"]),
            state=str(data["state"]),
            generation=int(data["generation"]),
            buffer=tuple(map(str, data["buffer"])),
            dropped=tuple(map(str, data["dropped"])),
            failures=int(data["failures"]),
            attempts=tuple(map(float, data["attempts"])),
            waits=tuple((int(f), float(w)) for f, w in data["waits"]),
            out_sequence=int(data["out_sequence"]),
            in_sequence=int(data["in_sequence"]),
            heartbeat_sequence=int(data["heartbeat_sequence"]),
            heartbeat_acks=tuple(map(int, data["heartbeat_acks"])),
            last_received=float(data["last_received"]),
            connected_at=float(data["connected_at"]),
            detections=tuple(map(float, data["detections"])),
            open=bool(data["open"]),
        )


@frozen
class ApplySignatures:
    """What the stream tells the requesting actor for a signature response (bridge/messages.rs:31-36)."""

    request_id: str
    status: str  # a SIGNATURE_STATUSES name
    witnesses: tuple[bytes, ...]
    connection: int


@frozen
class SignatureTimeout:
    """What the stream tells the requesting actor for a request unanswered past its timeout."""

    request_id: str


@frozen
class FederationUpdate:
    """What the stream forwards to routes["federation"] (governance-stream.md §8)."""

    effective_height: int
    members: tuple[str, ...]
    connection: int
    source_sequence: int  # its place in the stream's inbound order (1, 2, ...)


Handed = ApplySignatures | SignatureTimeout | FederationUpdate
HANDED: dict[str, type] = {c.__name__: c for c in (ApplySignatures, SignatureTimeout, FederationUpdate)}
# The type name a target may use for a federation update (the port's, the design's UpdateFederation).
HANDED_ALIASES = {"FederationUpdateMessage": "FederationUpdate", "UpdateFederation": "FederationUpdate"}


def handed(message: Any) -> Handed:
    """A message the stream told an actor, read as the interface describes it: a JSON object with
    its "type" and fields (over the protocol; witnesses as hex), or an object of a class of that
    name with those attributes (in process)."""
    kind = str(message.get("type")) if isinstance(message, Mapping) else type(message).__name__
    kind = HANDED_ALIASES.get(kind, kind)

    def read(name: str) -> Any:
        try:
            return message[name] if isinstance(message, Mapping) else getattr(message, name)
        except (KeyError, AttributeError):
            raise ValueError(f"a {kind} without its {name}: {message!r:.120}") from None

    if kind == "ApplySignatures":
        witnesses = tuple(bytes.fromhex(w) if isinstance(w, str) else bytes(w) for w in read("witnesses"))
        return ApplySignatures(
            str(read("request_id")), str(read("status")), witnesses, int(read("connection"))
        )
    if kind == "SignatureTimeout":
        return SignatureTimeout(str(read("request_id")))
    if kind == "FederationUpdate":
        return FederationUpdate(
            int(read("effective_height")),
            tuple(map(str, read("members"))),
            int(read("connection")),
            int(read("source_sequence")),
        )
    raise ValueError(f"not a message the governance stream tells: {message!r:.120}")
