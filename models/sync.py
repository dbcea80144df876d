"""References for sync and checkpoints: the canonical chain (the generator knows it), with its
wire bytes and the node's expected state at every height; the checkpoint set an interval and a
retention imply; the node's retry policy for a peer that fails; and a bound on the rounds a fair
sync needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from alys_pbt.models.blocks import (
    DecodeError,
    SignedConsensusBlock,
    block_from_bytes,
    block_to_bytes,
    signing_root,
)
from alys_pbt.models.chain import BitcoinView, Chain, ChainSpec


class Federation(Protocol):
    @property
    def n(self) -> int: ...


class ChainGrower(Protocol):
    """What the canonical chain needs of the generator that grows it (a reference imports no
    strategy: strategies/blocks.py's ChainBuilder is one)."""

    @property
    def spec(self) -> ChainSpec: ...
    @property
    def keyring(self) -> Federation: ...
    @property
    def genesis(self) -> SignedConsensusBlock: ...
    @property
    def bitcoin(self) -> BitcoinView: ...
    @property
    def chain(self) -> Chain: ...
    def next_block(self, *, pow: bool) -> SignedConsensusBlock: ...
    def accept(self, signed: SignedConsensusBlock) -> None: ...


class Canonical:
    """The canonical chain, grown by the generator; wire bytes and reference state per height."""

    def __init__(self, builder: ChainGrower) -> None:
        self.builder = builder
        self.wire: list[bytes] = [block_to_bytes(builder.genesis)]
        self.states: list[dict[str, Any]] = [self._state()]

    def _state(self) -> dict[str, Any]:
        c = self.builder.chain
        return {"height": c.head_height, "head": c.head.hex(), "latest_pow": c.latest_pow.hex()}

    def extend(self, k: int) -> None:
        for _ in range(k):
            c = self.builder.chain
            pow = (
                c.head_height > c.finalized_height
                and c.head_height - c.finalized_height >= self.builder.spec.max_blocks_without_pow - 1
            )
            signed = self.builder.next_block(pow=pow)
            self.builder.accept(signed)
            self.wire.append(block_to_bytes(signed))
            self.states.append(self._state())

    @property
    def tip(self) -> int:
        return len(self.wire) - 1

    def __repr__(self) -> str:
        return f"<canonical chain: {self.tip} blocks after genesis, {self.builder.keyring.n} authorities>"


def expected_checkpoints(height: int, interval: int, retention: int) -> list[int]:
    """Checkpoints after importing blocks 1..height: the last `retention` positive multiples of `interval`."""
    multiples = list(range(interval, height + 1, interval))
    return multiples[-retention:] if retention else []


# app/src/chain.rs sync, as alys-rules.md §5.1 records it: per peer, exponential backoff 1 s, 2 s, ...
# capped at 30 s; a circuit breaker that opens after 3 failures and resets after 60 s.
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 30.0
BREAKER_FAILURES, BREAKER_OPEN = 3, 60.0


class AnswerJudge:
    """Range answers as a node at genesis on the canonical chain gets them, in order: whether each
    counts against its peer, i.e. holds a block that is neither one the node already has (the same
    block root: a harmless repeat) nor the next canonical block. The canonical chain may grow."""

    def __init__(self, canonical: Sequence[bytes]) -> None:
        self.canonical = canonical
        self.blocks: list[Any] = []  # canonical blocks decoded, by height
        self.height_of: dict[bytes, int] = {}  # block root -> canonical height
        self.head = 0

    def __call__(self, answer: Sequence[bytes] | None) -> bool:
        """Whether `answer` (None: none came in time) fails; the node imports what it can use."""
        for raw in self.canonical[len(self.blocks) :]:
            signed = block_from_bytes(raw)
            self.height_of[signing_root(signed.message)] = len(self.blocks)
            self.blocks.append(signed)
        if answer is None:
            return True
        for raw in answer:
            try:
                signed = block_from_bytes(raw)
            except DecodeError:
                return True
            if self.height_of.get(signing_root(signed.message), self.head + 1) <= self.head:
                continue
            if self.head + 1 >= len(self.blocks) or signed != self.blocks[self.head + 1]:
                return True  # the node stops at the first block it cannot import
            self.head += 1
        return False


class RetryClock:
    """One peer's retry state: failures in a row, and when it may next be asked."""

    def __init__(self) -> None:
        self.in_a_row = 0

    def after(self, ended: float, failed: bool) -> float:
        """The earliest time of the next request, given how the last one (ended then) went."""
        if not failed:
            self.in_a_row = 0  # a good answer ends the run of failures
            return ended
        self.in_a_row += 1
        if self.in_a_row == BREAKER_FAILURES:  # the breaker opens; when it closes, counting starts again
            self.in_a_row = 0
            return ended + BREAKER_OPEN
        return ended + min(BACKOFF_FIRST * 2.0 ** (self.in_a_row - 1), BACKOFF_CAP)


class RetryReference:
    """The retry policy over the wire's log: each request, in the order sent, gets the earliest
    time the policy allowed it to go out (0 for a peer's first), and is then judged by how it
    ended. A request has `peer`, `sent`, `ended`, `outcome` ("answered" or not) and `blocks`."""

    def __init__(self, canonical: Sequence[bytes]) -> None:
        self.judge = AnswerJudge(canonical)
        self.clocks: dict[str, RetryClock] = {}
        self.not_before: dict[str, float] = {}

    def admit(self, request: Any, *, store_refused_at: int | None = None) -> float:
        """When `request` could first have been sent; then learn whether it failed. If the node's
        store refused a block of the answer (`store_refused_at`: the node's head after it), every
        block before it was good, so the answer does not count against the peer (suite hardening:
        the store's failure is not the peer's), and the node holds nothing past that head."""
        earliest = self.not_before.get(request.peer, 0.0)
        if store_refused_at is None:
            failed = self.judge(request.blocks if request.outcome == "answered" else None)
        else:
            failed, self.judge.head = False, store_refused_at
        self.not_before[request.peer] = self.clocks.setdefault(request.peer, RetryClock()).after(
            request.ended, failed
        )
        return earliest


def fair_rounds(peers: int, blocks: int, batch: int = 1) -> int:
    """Enough rounds to reach the tip once faults stop: every peer may fail a breaker's worth of
    times, and every other round may be an honest peer's full batch."""
    return 8 * (peers + 1) + 2 * -(-blocks // batch)


def is_a(err: BaseException, name: str) -> bool:
    """Whether `err` is a `name` by its class's name or a base's: a target's rejections are judged
    by name (alys_pbt/interface.py), whether raised in-process or re-raised from the protocol."""
    return any(cls.__name__ == name for cls in type(err).__mro__)
