"""Difficulty retargeting for AuxPoW (auxpow_miner.rs, alys-rules.md §1.5): the secure reference.

The node computes `ratio = blocks since the last PoW block / powTargetSpacing`, rounds it to two
decimals (banker's rounding), clamps it and scales the last target by it in whole percent. The
secure rule differs from the code in three places, each a quirk of the port: a ratio below 1 is
raised to at least the adjustment (the code caps it at most), a ratio of exactly 1 keeps the bits
(the code still truncates through /100*100), and so no ratio rounds to a zero target.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from attrs import field, frozen

from alys_pbt.models.auxpow import U256_MAX, compact_from_target
from alys_pbt.models.bitcoin import Origin, origins_text

CENT = Decimal("0.01")
_MINER = "app/src/auxpow_miner.rs"
# Whose rule each step is: the node's code, or the suite's hardening where the secure rule departs
# from the code (each of those is a quirk of the port).
RULE_ORIGINS: dict[str, tuple[Origin, ...]] = {
    "fires-at-interval": (
        Origin("node", f"{_MINER} get_next_work_required: head % interval == 0 or gap > interval"),
    ),
    "ratio-rounding": (
        Origin("node", f"{_MINER} calculate_next_work_required: gap / spacing, round_dp(2) half to even"),
    ),
    "upper-clamp": (
        Origin("node", f"{_MINER} calculate_next_work_required: ratio.min(1 + maxPowAdjustment/100)"),
    ),
    "lower-floor": (
        Origin(
            "suite-hardening",
            f"a ratio below 1 is raised to at least maxPowAdjustment/100 ({_MINER} caps it: ratio.min)",
        ),
        Origin(
            "bitcoin-consensus", "src/pow.cpp CalculateNextWorkRequired bounds every adjustment on both sides"
        ),
    ),
    "ratio-one-keeps-bits": (
        Origin(
            "suite-hardening", f"ratio 1 returns the bits unchanged ({_MINER} truncates through /100*100)"
        ),
    ),
    "no-zero-target": (
        Origin("suite-hardening", f"no ratio yields target 0 ({_MINER}: (ratio*100).to_u8() can be 0)"),
    ),
    "target-decoding": (Origin("node", f"{_MINER} uint256_target_from_compact: a shift of 256+ gives 0"),),
    "scale-saturates": (Origin("node", f"{_MINER}: target / 100 * percent, saturating multiply"),),
}


def origin_of(rule: str) -> str:
    """The origins of a retarget rule, as one line for messages."""
    return origins_text(RULE_ORIGINS[rule])


class InvalidRetargetParams(ValueError):
    """Retarget parameters the formula cannot use (zero spacing or interval, adjustment > 100%)."""


@frozen
class RetargetParams:
    """BitcoinConsensusParams (serialized camelCase in chain.json)."""

    pow_target_timespan: int
    pow_target_spacing: int
    max_pow_adjustment: int  # percent, a u8
    pow_no_retargeting: bool = False
    pow_limit: int = field(default=0)  # never used by the node
    pow_lower_limit: int = field(default=0)  # never used by the node

    @property
    def difficulty_adjustment_interval(self) -> int:
        return self.pow_target_timespan // self.pow_target_spacing


TESTNET = RetargetParams(60, 5, 20, False, 553713663, 439495319)  # etc/config/chain.json


def validate(params: RetargetParams) -> None:
    """Reject parameters for which the node's arithmetic divides by zero or overflows a u8."""
    if params.pow_target_spacing <= 0:
        raise InvalidRetargetParams("powTargetSpacing must be positive")
    if params.difficulty_adjustment_interval <= 0:
        raise InvalidRetargetParams("powTargetTimespan / powTargetSpacing must be at least 1")
    if not 1 <= params.max_pow_adjustment <= 100:
        raise InvalidRetargetParams("maxPowAdjustment must be 1..100 percent")


def retarget_target_from_compact(bits: int) -> int:
    """Alys's uint256_target_from_compact: like rust-bitcoin's, but a shift of 256+ gives 0."""
    exponent = bits >> 24
    if exponent <= 3:
        mantissa, shift = (bits & 0xFF_FFFF) >> (8 * (3 - exponent)), 0
    else:
        mantissa, shift = bits & 0xFF_FFFF, 8 * (exponent - 3)
    if mantissa > 0x7F_FFFF or shift >= 256:
        return 0
    return (mantissa << shift) & U256_MAX


def block_gap_ratio(diff: int, spacing: int) -> Decimal:
    """diff / spacing rounded to two decimals, half to even (rust_decimal round_dp(2))."""
    exact = Fraction(diff, spacing)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def calculate_next_work_required(diff: int, last_bits: int, params: RetargetParams) -> int:
    """The bits after `diff` blocks without PoW, scaling the last target by the clamped ratio."""
    validate(params)
    ratio = block_gap_ratio(max(diff, 1), params.pow_target_spacing)
    if ratio == 1:
        return last_bits
    low = Decimal(params.max_pow_adjustment) / 100
    high = 1 + low
    ratio = max(ratio, low) if ratio < 1 else min(ratio, high)
    percent = int(ratio * 100)
    target = retarget_target_from_compact(last_bits)
    return compact_from_target(min(target // 100 * percent, U256_MAX))


def get_next_work_required(
    last_pow_height: int, last_bits: int, params: RetargetParams, head_height: int
) -> int:
    """The bits a new AuxPoW must meet, given the latest PoW block and the current head."""
    validate(params)
    if last_pow_height > head_height + 1:
        raise ValueError("the latest PoW block cannot be above the head")
    diff = head_height + 1 - last_pow_height
    interval = params.difficulty_adjustment_interval
    if params.pow_no_retargeting or not (head_height % interval == 0 or diff > interval):
        return last_bits
    return calculate_next_work_required(diff, last_bits, params)
