"""Strategies for difficulty retargeting: parameters, canonical bits, and chain situations."""

from __future__ import annotations

from attrs import frozen
from hypothesis import strategies as st

from alys_pbt.models.auxpow import compact_from_target
from alys_pbt.models.retarget import RetargetParams

# Real spacings (testnet 5, Bitcoin 600, dev 1000, the repo's tests 100000) and spacings whose
# block-gap ratios land exactly on a rounding midpoint (k/8, k/40, k/200).
MIDPOINT_SPACINGS = (8, 40, 200)  # every odd gap over these spacings is a midpoint (x.xx5)
SPACINGS = (
    st.sampled_from(MIDPOINT_SPACINGS)
    | st.sampled_from([1, 2, 5, 600, 1000, 100_000])
    | st.integers(1, 10**6)
)


@st.composite
def retarget_params(draw: st.DrawFn, *, no_retargeting: bool | None = False) -> RetargetParams:
    """Parameters the formula accepts: positive spacing, interval >= 1, adjustment 1..100%."""
    spacing = draw(SPACINGS)
    interval = draw(st.integers(1, 100))
    return RetargetParams(
        pow_target_timespan=spacing * interval + draw(st.integers(0, spacing - 1)),
        pow_target_spacing=spacing,
        max_pow_adjustment=draw(st.sampled_from([20, 1, 100]) | st.integers(1, 100)),
        pow_no_retargeting=draw(st.sampled_from([False, False, False, True]))
        if no_retargeting is None
        else no_retargeting,
    )


def targets(*, min_target: int = 2**16) -> st.SearchStrategy[int]:
    """256-bit targets, with extra weight near 2^256 where products overflow."""
    top = 2**256 - 1
    return st.integers(min_target, top) | st.integers(2**255, top)


def canonical_bits(*, min_target: int = 2**16) -> st.SearchStrategy[int]:
    """Compact bits as a node produces them (GetCompact of some target)."""
    return targets(min_target=min_target).map(compact_from_target)


def rounding_midpoints(spacing: int) -> list[int]:
    """Gaps up to 3 spacings whose ratio is exactly x.xx5 with an even hundredths digit: where
    rounding half to even (rust_decimal) and half up disagree (ratio = j/200, j = 1 mod 4)."""
    return [spacing * j // 200 for j in range(1, 601, 4) if spacing * j % 200 == 0]


def block_gaps(params: RetargetParams) -> st.SearchStrategy[int]:
    """Blocks since the last PoW block: ratios 0..3 of the spacing, weighted to ratios near 1 and to
    the rounding midpoints of the spacing (if it has any)."""
    s, adjustment = params.pow_target_spacing, params.max_pow_adjustment
    gaps = st.integers(0, 3 * s) | st.integers(max(s - s // 4, 0), s + s // 4 + 1)
    # Only a midpoint inside the clamp [adjustment%, 100% + adjustment%] shows its rounding.
    midpoints = [g for g in rounding_midpoints(s) if adjustment * s <= 100 * g <= (100 + adjustment) * s]
    return st.sampled_from(midpoints) | gaps if midpoints else gaps


@frozen
class GapCase:
    """calculate_next_work_required's inputs: the parameters, the last bits, and the block gaps (one
    per call: a property comparing two gaps draws both here, sorted)."""

    params: RetargetParams
    last_bits: int
    gaps: tuple[int, ...]


@st.composite
def gap_cases(draw: st.DrawFn, *, count: int = 1, min_target: int = 2**16) -> GapCase:
    """Parameters, canonical bits and `count` block gaps for those parameters (`block_gaps`), sorted."""
    params = draw(retarget_params())
    last_bits = draw(canonical_bits(min_target=min_target))
    gaps = draw(st.lists(block_gaps(params), min_size=count, max_size=count))
    return GapCase(params, last_bits, tuple(sorted(gaps)))


@frozen
class RetargetSituation:
    """The latest PoW block (height, bits) and the head, as get_next_work_required sees them."""

    params: RetargetParams
    last_bits: int
    last_pow_height: int
    head_height: int

    @property
    def gap(self) -> int:
        return self.head_height + 1 - self.last_pow_height


@st.composite
def retarget_situations(
    draw: st.DrawFn, *, params: st.SearchStrategy[RetargetParams] | None = None
) -> RetargetSituation:
    """Chains whose block gap ranges over ratios 0..3 and the retarget interval's boundaries."""
    p = draw(params if params is not None else retarget_params())
    interval = p.difficulty_adjustment_interval
    # Boundaries get branches of their own: the interval rule (gap > interval), ratio exactly 1,
    # and spacing + 1, which for spacings 8, 40 and 200 is a rounding midpoint (1.125, 1.025, 1.005).
    gap = draw(
        st.one_of(
            st.just(interval + 1),
            st.sampled_from([interval, interval + 2]),
            st.sampled_from([p.pow_target_spacing, p.pow_target_spacing + 1]),
            st.integers(0, 3 * p.pow_target_spacing),
        )
    )
    # Retargeting fires at heads that are multiples of the interval, or when the gap exceeds it:
    # choose alignment explicitly so the gap rule is exercised on unaligned heads too.
    head = draw(st.integers(max(gap - 1, 0), 2**32))
    if draw(st.booleans()):
        head += -head % interval
    elif interval > 1 and head % interval == 0:
        head += 1
    return RetargetSituation(p, draw(canonical_bits()), head + 1 - gap, head)
