"""References for sync and checkpoints: the canonical chain (the generator knows it), with its
wire bytes and the node's expected state at every height; the checkpoint set an interval and a
retention imply; and a bound on the rounds a fair sync needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.blocks import block_to_bytes

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


def fair_rounds(peers: int, blocks: int, batch: int = 1) -> int:
    """Enough rounds to reach the tip once faults stop: every peer may fail a breaker's worth of
    times, and every other round may be an honest peer's full batch."""
    return 8 * (peers + 1) + 2 * -(-blocks // batch)
