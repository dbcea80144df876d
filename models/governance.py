"""Reference for the V2 governance stream (governance-stream.md): the reconnect schedule, the bounded
outbound buffer, the connection cap, signature correlation and the liveness bound, as the V2 design
states them (each rule names its source; where the code is a stub, the design's text).
"""

from __future__ import annotations

from collections import deque

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
