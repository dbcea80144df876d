"""What mutation testing of alys/chain.py found unanswered (issue 14, docs/mutation.md), answered.

* the retarget's `ratio*100 as u8` (auxpow_miner.rs): a percent of 255 fits, 256 panics, probed
  with adjustments past the suite's 1..100 (the node's u8 takes up to 255; the reference refuses
  such parameters, so no vector can carry them);
* every panic of the retarget names what the node's would (`attempt to divide by zero`, ...).
"""

from __future__ import annotations

import pytest
from attrs import frozen

import alys
from alys.variant import NodePanic

BITS = 0x1D00FFFF
U8_PANIC = "called `Option::unwrap()` on a `None` value (ratio*100 as u8)"


@frozen
class Params:
    """auxpow_miner.rs BitcoinConsensusParams as the port reads them (alys/chain.py ParamsLike)."""

    pow_target_timespan: int
    pow_target_spacing: int
    max_pow_adjustment: int
    pow_no_retargeting: bool = False


def target_of(bits: int) -> int:
    exponent, mantissa = bits >> 24, bits & 0xFFFFFF
    return mantissa << (8 * (exponent - 3))


@pytest.mark.parametrize(("gap", "adjustment"), [(254, 154), (255, 155), (255, 200)])
def test_a_percent_up_to_255_fits_the_u8(gap: int, adjustment: int) -> None:
    chain = alys.build("alys-fixed").chain
    bits = chain.calculate_next_work_required(gap, BITS, Params(100, 100, adjustment))
    assert bits == chain.auxpow.compact_from_target(target_of(BITS) // 100 * gap)


@pytest.mark.parametrize(("gap", "adjustment"), [(256, 156), (300, 255)])
@pytest.mark.parametrize("name", ["alys-fixed", "alys"])
def test_a_percent_past_255_panics_as_the_node_does(gap: int, adjustment: int, name: str) -> None:
    chain = alys.build(name, alys.QUIRKS if name == "alys" else ()).chain
    with pytest.raises(NodePanic) as panic:
        chain.calculate_next_work_required(gap, BITS, Params(100, 100, adjustment))
    assert str(panic.value) == U8_PANIC


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (Params(100, 0, 20), "attempt to divide by zero"),
        (Params(99, 100, 20), "attempt to calculate the remainder with a divisor of zero"),
        (Params(0, 100, 20), "attempt to calculate the remainder with a divisor of zero"),
    ],
)
def test_a_degenerate_interval_panics_as_the_node_does(params: Params, message: str) -> None:
    chain = alys.build("alys-fixed").chain
    with pytest.raises(NodePanic) as panic:
        chain.get_next_work_required(1, BITS, params, 10)
    assert str(panic.value) == message
