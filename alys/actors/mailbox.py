"""The V2 actor mailbox (crates/actor_system/src/mailbox.rs, alys-rules.md §6.3), as designed.

Order: Emergency, Critical and High from a heap (higher first, older first on ties), then Normal
FIFO, then Low and Background FIFO. Backpressure from the fill level before each send. Overflow
policies: reject when full, drop the lowest priority, or block the sender until there is room.

Quirk `actors-capacity-unenforced` (on in target `alys`): the capacity is enforced only when the
mailbox rejects on full (`drop_on_full`); under any other policy a Blocked mailbox still enqueues,
because the semaphore permit is dropped at the end of `send`.

Memory limit (issue 16; the V2 design bounds a mailbox's memory, which the V2 branch only
scaffolds): a mailbox may also hold at most `max_bytes` bytes of messages, queued and blocked
senders' alike. A message that would take it past the limit is refused (MailboxFull), whatever the
overflow policy: waiting for room or evicting by priority would each need memory past the bound.
Seeded mutants: `actors-memory-not-released` (a delivered message's bytes stay counted) and
`actors-memory-limit-off-by-one` (a message that exactly fills the limit is refused).
"""

from __future__ import annotations

import heapq
from collections import deque
from enum import IntEnum
from typing import Any, Literal

from attrs import define, field

from alys.variant import Variant

Policy = Literal["reject", "drop-lowest", "block"]


class Priority(IntEnum):
    BACKGROUND = 0
    LOW = 1
    NORMAL = 2
    HIGH = 3
    CRITICAL = 4
    EMERGENCY = 5


class Backpressure(IntEnum):
    NORMAL = 0
    WARNING = 1
    CRITICAL = 2
    BLOCKED = 3


class MailboxFull(Exception):
    """The send was refused: the mailbox is at capacity and rejects on full."""


@define
class Envelope:
    sender: str
    seq: int  # per-sender sequence number
    priority: Priority
    payload: Any = None
    queued_at: int = 0  # the mailbox's arrival counter: older = smaller
    size: int = 0  # bytes the message takes in memory (the memory limit counts them)


def _size(envelope: Any) -> int:
    """Bytes a message takes; a message that does not say takes none (the capacity bounds it)."""
    return int(getattr(envelope, "size", 0))


@define
class Mailbox:
    capacity: int
    policy: Policy = "reject"
    variant: Variant = field(factory=Variant)
    _heap: list[tuple[int, int, Envelope]] = field(factory=list)
    _normal: deque[Envelope] = field(factory=deque)
    _low: deque[Envelope] = field(factory=deque)
    _blocked: deque[Envelope] = field(factory=deque)  # senders waiting for room (policy "block")
    _arrivals: int = 0
    dropped: list[Envelope] = field(factory=list)
    max_bytes: int | None = None  # the memory limit; None: bounded by the capacity alone
    held_bytes: int = 0  # bytes of every message queued or waiting

    def __len__(self) -> int:
        return len(self._heap) + len(self._normal) + len(self._low)

    @property
    def waiting(self) -> list[Envelope]:
        return list(self._blocked)

    @property
    def queued(self) -> list[Envelope]:
        """The messages queued, in the order they would be delivered."""
        heap = [e for _, _, e in sorted(self._heap, key=lambda item: item[:2])]
        normal = list(reversed(self._normal)) if self.variant.on("actors-normal-lifo") else list(self._normal)
        return heap + normal + list(self._low)

    def backpressure(self) -> Backpressure:
        size = len(self)
        if size >= self.capacity:
            return Backpressure.BLOCKED
        if size >= int(self.capacity * 0.8):
            return Backpressure.CRITICAL
        warn = (
            size > self.capacity / 2
            if self.variant.on("actors-warning-off-by-one")
            else size >= self.capacity / 2
        )
        return Backpressure.WARNING if warn else Backpressure.NORMAL

    def send(self, envelope: Envelope) -> str:
        """Offer a message: "accepted", "rejected" (MailboxFull), "blocked" or "dropped"."""
        if self.max_bytes is not None:
            past = self.held_bytes + _size(envelope)
            over = (
                past >= self.max_bytes  # pragma: no mutate
                if self.variant.on("actors-memory-limit-off-by-one")
                else past > self.max_bytes
            )
            if over:
                self.dropped.append(envelope)
                raise MailboxFull(
                    f"mailbox memory limit of {self.max_bytes} bytes: {self.held_bytes} held, "
                    f"{_size(envelope)} more refused"
                )
        full = self.backpressure() is Backpressure.BLOCKED
        if self.variant.on("actors-capacity-off-by-one"):  # pragma: no mutate block
            full = len(self) > self.capacity  # full only past the capacity: it holds one more
        if full:
            if self.policy == "reject":
                self.dropped.append(envelope)
                raise MailboxFull(f"mailbox of {self.capacity} is full")
            if not self.variant.on("actors-capacity-unenforced"):
                if self.policy == "block":
                    self._blocked.append(envelope)
                    self.held_bytes += _size(envelope)
                    return "blocked"
                victim = self._lowest()
                if victim is None or envelope.priority <= victim.priority:
                    self.dropped.append(envelope)
                    return "dropped"
                self._remove(victim)
                self.held_bytes -= _size(victim)
                self.dropped.append(victim)
        self._enqueue(envelope)
        self.held_bytes += _size(envelope)
        return "accepted"

    def _enqueue(self, envelope: Envelope) -> None:
        self._arrivals += 1
        envelope.queued_at = self._arrivals
        if envelope.priority >= Priority.HIGH:
            order = -envelope.queued_at if self.variant.on("actors-ties-newest-first") else envelope.queued_at
            heapq.heappush(self._heap, (-int(envelope.priority), order, envelope))
        elif envelope.priority == Priority.NORMAL:
            self._normal.append(envelope)
        else:
            self._low.append(envelope)

    def _lowest(self) -> Envelope | None:
        """The message the drop-lowest policy evicts: lowest priority, newest among equals."""
        queued = [e for _, _, e in self._heap] + list(self._normal) + list(self._low)
        if not queued:
            return None
        return min(queued, key=lambda e: (e.priority, -e.queued_at))

    def _remove(self, victim: Envelope) -> None:
        for queue in (self._normal, self._low):
            if victim in queue:
                queue.remove(victim)
                return
        self._heap = [item for item in self._heap if item[2] is not victim]
        heapq.heapify(self._heap)

    def pop(self) -> Envelope | None:
        """The next message to process, and room for the oldest blocked sender."""
        if self._heap:
            envelope = heapq.heappop(self._heap)[2]
        elif self._normal:
            lifo = self.variant.on("actors-normal-lifo")
            envelope = self._normal.pop() if lifo else self._normal.popleft()
        elif self._low:
            envelope = self._low.popleft()
        else:
            return None
        if not self.variant.on("actors-memory-not-released"):
            self.held_bytes -= _size(envelope)
        if self._blocked and len(self) < self.capacity:
            self._enqueue(self._blocked.popleft())  # its bytes were counted while it waited
        return envelope

    def drain(self) -> list[Envelope]:
        out = []
        while (envelope := self.pop()) is not None:
            out.append(envelope)
        return out
