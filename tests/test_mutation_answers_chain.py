"""What mutation testing of alys/chain.py found unanswered (issue 14, docs/mutation.md), answered.

* the retarget's `ratio*100 as u8` (auxpow_miner.rs): a percent of 255 fits, 256 panics, probed
  with adjustments past the suite's 1..100 (the node's u8 takes up to 255; the reference refuses
  such parameters, so no vector can carry them);
* every panic of the retarget names what the node's would (`attempt to divide by zero`, ...);
* each quirk carrier's retarget gives exactly the bits the family's account of the node's code
  (alys_pbt/vectors/families/retarget.py `as_coded`) gives, not only a wrong answer where tagged:
  with retarget-caps-low-ratio alone a ratio of 0.00 still becomes 1%, with retarget-zero-bits 0%;
* on `alys`, a proof check()ing wrong panics with Rust's unwrap message naming the error;
* a chain component built afresh derives transaction senders through its own memo.
"""

from __future__ import annotations

from typing import Any

import pytest
from attrs import frozen
from hypothesis import given

import alys
from alys.auxpow import AuxPowError
from alys.variant import NodePanic
from alys_pbt.models.retarget import RetargetParams
from alys_pbt.strategies.auxpow import EASY_BITS, build
from alys_pbt.strategies.sync import Canonical, canonical_chains
from alys_pbt.vectors.families import retarget as family

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


CALCULATE = next(r for r in family.RULES if r.id == "retarget/calculate-next-work-required")
CARRIED = [(), (family.CAPS,), (family.ONE,), (family.CAPS, family.ZERO), family.AREA_QUIRKS]


@pytest.mark.parametrize("carried", CARRIED, ids=lambda c: "+".join(c) or "none")
def test_each_carrier_retargets_exactly_as_the_node_codes_it(carried: tuple[str, ...]) -> None:
    chain = alys.build("alys-fixed+" + "+".join(carried), carried).chain
    checked = 0
    for case in CALCULATE.generate(0, 2):
        if case.expected.verdict != "ok":
            continue  # parameters the reference refuses
        diff, bits = case.inputs["diff"], case.inputs["last_bits"]
        params = RetargetParams(**case.inputs["params"])
        want = family.as_coded(diff, bits, params, frozenset(carried))
        assert chain.calculate_next_work_required(diff, bits, params) == want, case.name
        checked += 1
    assert checked > 50


def test_a_fresh_chain_component_derives_senders() -> None:
    raw = bytes.fromhex(
        "02f8718301d97c568502540be40085199c82cc0083054b0494f6041d3c687e4a34fa2f093f57efbfc4e6e2456b818480c0"
        "01a098682685a2eed8421e53a1b3b459dd5efb6d78bdd45915ba8e841ce7f238012aa065fd70a437e454c17deb49b3a9b9"
        "3153d9398e797664600bb9e131a27c999493"
    )
    chain = alys.build("alys-fixed").chain
    assert chain.transaction_sender(raw) == bytes.fromhex("ba2e4022aa3f5239847639c69aee909eb56f7b43")
    assert chain.transaction_sender(raw) == chain.transaction_sender(raw)


@pytest.mark.parametrize(
    ("gap", "seen"), [(2**32 + 5, 5), (2**32, 1), (2**32 - 1, 2**32 - 1), (2**33 + 7, 7)]
)
def test_the_gap_is_truncated_to_u32_as_the_node_casts_it(gap: int, seen: int) -> None:
    # auxpow_miner.rs: `(head_height + 1 - last_pow_height) as u32`; a gap of 0 counts as 1.
    chain = alys.build("alys-fixed").chain
    params = Params(100, 100, 20)  # an interval of 1: every head retargets
    bits = chain.get_next_work_required(0, BITS, params, gap - 1)
    assert bits == chain.calculate_next_work_required(seen, BITS, params)
    assert (seen < 100) == (bits < BITS)  # 5 and 1 raise the difficulty, the long gaps lower it


@pytest.mark.parametrize("name", ["alys-fixed", "alys"])
@given(canonical=canonical_chains(length=0, authorities=1))
def test_a_node_is_a_validator_unless_told_otherwise(name: str, canonical: Canonical) -> None:
    # chain.node(spec, genesis, bitcoin) is what every property builds; on `alys` a full node
    # (validator=False) skips the withdrawal checks (quirk chain-full-nodes-skip-withdrawals).
    b = canonical.builder
    node = alys.build(name, alys.QUIRKS if name == "alys" else ()).chain.node(b.spec, b.genesis, b.bitcoin)
    assert node.validator is True


@frozen
class Header:
    """The AuxPowHeader fields check_pow reads (alys/chain.py HeaderLike)."""

    bits: int
    chain_id: int
    height: int
    auxpow: Any


def test_on_alys_a_failing_proof_panics_naming_its_error() -> None:
    # Quirk auxpow-check-pow-aborts: chain.rs unwraps check()'s Result, so the process panics with
    # Rust's unwrap message naming the error; alys-fixed raises the error itself.
    from alys.node import PowContext
    from alys_pbt.strategies.blocks import minimal_recipe

    committed, other, chain_id = bytes(32), b"\x01" * 32, 7
    header = Header(EASY_BITS, chain_id, 1, build(minimal_recipe(committed, chain_id, EASY_BITS)))
    ctx = PowContext(other, EASY_BITS, chain_id, 1, override=True)  # a valid proof of another range
    fixed = alys.build("alys-fixed").chain
    with pytest.raises(AuxPowError) as refused:
        fixed.check_pow(header, ctx)
    with pytest.raises(NodePanic) as panic:
        alys.build("alys", alys.QUIRKS).chain.check_pow(header, ctx)
    assert str(panic.value) == f"called `Result::unwrap()` on an `Err` value: {type(refused.value).__name__}"
    fixed.check_pow(
        header, PowContext(committed, EASY_BITS, chain_id, 1, override=True)
    )  # the proof is valid
