"""Properties of difficulty retargeting (auxpow_miner.rs get/calculate_next_work_required)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import retarget as ref
from alys_pbt.models.auxpow import compact_from_target, target_from_compact
from alys_pbt.strategies.retarget import (
    GapCase,
    RetargetSituation,
    canonical_bits,
    gap_cases,
    retarget_params,
    retarget_situations,
)

pytestmark = pytest.mark.retarget


def decoded(bits: int) -> int:
    return ref.retarget_target_from_compact(bits)


@kills("retarget-fires-one-late", "retarget-no-upper-clamp")
@given(situation=retarget_situations(params=retarget_params(no_retargeting=None)))
def test_retarget_matches_reference(target: Target, situation: RetargetSituation) -> None:
    """The target computes the bits the (secure) reference computes, in every situation."""
    s = situation
    note(f"gap {s.gap}, interval {s.params.difficulty_adjustment_interval}")
    expected = ref.get_next_work_required(s.last_pow_height, s.last_bits, s.params, s.head_height)
    got = target.chain.get_next_work_required(s.last_pow_height, s.last_bits, s.params, s.head_height)
    assert got == expected, (
        f"bits {got:#010x}, reference {expected:#010x} [{ref.origin_of('fires-at-interval')}]"
    )


@kills("retarget-half-up-rounding", "retarget-no-upper-clamp")
@given(case=gap_cases())
def test_retarget_formula_matches_reference(target: Target, case: GapCase) -> None:
    """calculate_next_work_required rounds, clamps and scales as the reference does."""
    params, last_bits, (gap,) = case.params, case.last_bits, case.gaps
    note(f"ratio {ref.block_gap_ratio(max(gap, 1), params.pow_target_spacing)}")
    expected = ref.calculate_next_work_required(gap, last_bits, params)
    got = target.chain.calculate_next_work_required(gap, last_bits, params)
    assert got == expected, (
        f"bits {got:#010x}, reference {expected:#010x} [{ref.origin_of('ratio-rounding')}]"
    )


@kills("retarget-no-upper-clamp")
@given(situation=retarget_situations())
def test_retarget_is_bounded_by_max_adjustment(target: Target, situation: RetargetSituation) -> None:
    """One retarget moves the target by at most maxPowAdjustment percent either way."""
    s = situation
    old = decoded(s.last_bits)
    new = decoded(
        target.chain.get_next_work_required(s.last_pow_height, s.last_bits, s.params, s.head_height)
    )
    adj = s.params.max_pow_adjustment
    lowest = target_from_compact(compact_from_target(old // 100 * adj))
    highest = old // 100 * (100 + adj)
    note(f"old {old:#x}, new {new:#x}, bounds [{lowest:#x}, {max(old, highest):#x}]")
    assert lowest <= new, f"below the adjustment bound [{ref.origin_of('lower-floor')}]"
    assert new <= max(old, highest), f"above the adjustment bound [{ref.origin_of('upper-clamp')}]"


@kills("retarget-product-wraps")
@given(case=gap_cases(count=2))
def test_retarget_is_monotone_in_block_gap(target: Target, case: GapCase) -> None:
    """A longer wait for PoW never makes the next target harder."""
    params, last_bits, gaps = case.params, case.last_bits, case.gaps
    shorter, longer = (decoded(target.chain.calculate_next_work_required(g, last_bits, params)) for g in gaps)
    note(f"targets {shorter:#x} (gap {gaps[0]}) vs {longer:#x} (gap {gaps[1]})")
    assert shorter <= longer, f"a longer gap gave a harder target [{ref.origin_of('scale-saturates')}]"


@given(situation=retarget_situations())
def test_retarget_at_ratio_one_keeps_bits(target: Target, situation: RetargetSituation) -> None:
    """When the gap is exactly one spacing (ratio 1.00), the bits do not change."""
    s = situation
    interval = s.params.difficulty_adjustment_interval
    base = max(s.head_height, s.params.pow_target_spacing)
    head = base + -base % interval  # retargeting fires at a multiple of the interval
    s = attrs.evolve(s, head_height=head, last_pow_height=head + 1 - s.params.pow_target_spacing)
    got = target.chain.get_next_work_required(s.last_pow_height, s.last_bits, s.params, s.head_height)
    assert got == s.last_bits, (
        f"ratio 1 changed bits {s.last_bits:#010x} to {got:#010x} [{ref.origin_of('ratio-one-keeps-bits')}]"
    )


@given(params=retarget_params(), last_bits=canonical_bits(min_target=100), gap=st.integers(0, 2**32 - 1))
def test_retarget_never_yields_zero_target(
    target: Target, params: ref.RetargetParams, last_bits: int, gap: int
) -> None:
    """No block gap turns a usable target into target 0 (bits that no hash can meet)."""
    bits = target.chain.calculate_next_work_required(gap, last_bits, params)
    assert decoded(bits) > 0, f"gap {gap} gave bits {bits:#010x} [{ref.origin_of('no-zero-target')}]"
