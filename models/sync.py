"""References for sync and checkpoints: the canonical chain (the generator knows it), with its
wire bytes and the node's expected state at every height; the checkpoint set an interval and a
retention imply; the node's retry policy for a peer that fails; and a bound on the rounds a fair
sync needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from models.blocks import DecodeError, block_from_bytes, block_to_bytes, signing_root

if TYPE_CHECKING:  # the generator that grows it; a reference never imports strategies at run time
    from strategies.blocks import ChainBuilder


class Canonical:
    """The canonical chain, grown by the generator; wire bytes and reference state per height."""

    def __init__(self, builder: ChainBuilder) -> None:
        self.builder = builder
        self.wire: list[bytes] = [block_to_bytes(builder.genesis)]
        self.states: list[dict[str, Any]] = [self._state()]

    def _state(self) -> dict[str, Any]:
        c = self.builder.chain
        return {"height": c.head_height, "head": c.head.hex(), "latest_pow": c.latest_pow.hex()}

    def extend(self, k: int) -> None:
        for _ in range(k):
            c = self.builder.chain
            pow = c.head_height > c.finalized_height and c.head_height - c.finalized_height >= self.builder.spec.max_blocks_without_pow - 1
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
    """Checkpoint heights after importing blocks 1..height: the last `retention` positive multiples of `interval`."""
    multiples = list(range(interval, height + 1, interval))
    return multiples[-retention:] if retention else []


# app/src/chain.rs sync, as alys-rules.md §5.1 records it: per peer, exponential backoff 1 s, 2 s, ...
# capped at 30 s; a circuit breaker that opens after 3 failures and resets after 60 s.
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 30.0
BREAKER_FAILURES, BREAKER_OPEN = 3, 60.0


def failed_answers(canonical: Sequence[bytes], answers: Sequence[Sequence[bytes] | None]) -> list[bool]:
    """For a node at genesis on the canonical chain, the range answers it gets in order (None: none
    came in time): whether each counts against its peer, i.e. holds a block that is neither one the
    node already has (the same block root: a harmless repeat) nor the next canonical block."""
    blocks_by_height = [block_from_bytes(raw) for raw in canonical]
    height_of = {signing_root(signed.message): h for h, signed in enumerate(blocks_by_height)}
    head, failed = 0, []
    for answer in answers:
        bad = answer is None
        for raw in answer or ():
            try:
                signed = block_from_bytes(raw)
            except DecodeError:
                bad = True
                break
            if height_of.get(signing_root(signed.message), head + 1) <= head:
                continue
            if head + 1 >= len(blocks_by_height) or signed != blocks_by_height[head + 1]:
                bad = True  # the node stops at the first block it cannot import
                break
            head += 1
        failed.append(bad)
    return failed


def next_request_not_before(outcomes: Sequence[tuple[float, bool]]) -> list[float]:
    """For each request to one peer, (when it ended, whether it failed): the earliest time the
    next request to that peer may go out."""
    earliest, in_a_row = [], 0
    for ended, failed in outcomes:
        if not failed:
            in_a_row = 0  # a good answer ends the run of failures
            earliest.append(ended)
            continue
        in_a_row += 1
        if in_a_row == BREAKER_FAILURES:  # the breaker opens; when it closes, counting starts again
            earliest.append(ended + BREAKER_OPEN)
            in_a_row = 0
        else:
            earliest.append(ended + min(BACKOFF_FIRST * 2 ** (in_a_row - 1), BACKOFF_CAP))
    return earliest


def fair_rounds(peers: int, blocks: int, batch: int = 1) -> int:
    """Enough rounds to reach the tip once faults stop: every peer may fail a breaker's worth of
    times, and every other round may be an honest peer's full batch."""
    return 8 * (peers + 1) + 2 * -(-blocks // batch)
