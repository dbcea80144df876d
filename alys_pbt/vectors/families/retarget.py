"""Conformance vectors for difficulty retargeting (app/src/auxpow_miner.rs, alys-rules.md §1.5).

Expected bits come from the secure reference `models/retarget.py`. Valid situations are drawn by
`strategies/retarget.py`; the boundaries are the ratio's: exactly 1, just below and above it, at and
past the max adjustment on both sides, the rounding midpoints (half to even), a ratio that rounds to
0.00, a product past 2^256, and the interval rule (`gap > interval`, at, below and past it).

Where the node as coded answers differently, the case is tagged with the quirk responsible
(`retarget-caps-low-ratio`, `retarget-ratio-one-truncates`, `retarget-zero-bits`; the last shows only
together with the first, its `requires`). Which quirk answers a case wrongly is computed by
`as_coded` below: the code of auxpow_miner.rs with each quirk switched on or off, written from the
quirks' descriptions in alys_pbt/deviations.py (it decides tags, never an expected verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from alys_pbt import deviations
from alys_pbt.interface import Target
from alys_pbt.models import retarget as ref
from alys_pbt.models.auxpow import U256_MAX, compact_from_target
from alys_pbt.models.retarget import TESTNET, RetargetParams
from alys_pbt.strategies.retarget import block_gaps, canonical_bits, retarget_params, retarget_situations
from alys_pbt.vectors.families.bitcoin import BOOL, NAT, U32, draw, obj, reference_verdict, unique_names
from alys_pbt.vectors.rule import Case, Json, Outputs, Rule

CAPS = "retarget-caps-low-ratio"
ONE = "retarget-ratio-one-truncates"
ZERO = "retarget-zero-bits"
AREA_QUIRKS = (CAPS, ONE, ZERO)
_MINER = "app/src/auxpow_miner.rs"
PREV_BITS = 0x1E21FFC0  # auxpow_miner.rs tests' PREV_BITS
REPO = RetargetParams(1_200_000, 100_000, 20)  # auxpow_miner.rs tests: spacing 100000, 20%
PERCENT = RetargetParams(100, 100, 20)  # spacing 100: the ratio is the gap in percent
MAX_TARGET_BITS = compact_from_target(U256_MAX)  # 0x2100ffff: its target times 1.2 passes 2^256


def as_coded(diff: int, last_bits: int, params: RetargetParams, quirks: frozenset[str]) -> int:
    """calculate_next_work_required as auxpow_miner.rs codes it, with `quirks` of this area on."""
    ratio = ref.block_gap_ratio(max(diff, 1), params.pow_target_spacing)
    low = Decimal(params.max_pow_adjustment) / 100
    if ratio < 1:
        ratio = min(ratio, low) if CAPS in quirks else max(ratio, low)
    elif ratio > 1:
        ratio = min(ratio, 1 + low)
    elif ONE not in quirks:
        return last_bits
    percent = int(ratio * 100)
    if percent == 0 and ZERO not in quirks:
        percent = 1
    target = ref.retarget_target_from_compact(last_bits)
    return compact_from_target(min(target // 100 * percent, U256_MAX))


def _fires(last_pow_height: int, params: RetargetParams, head_height: int) -> bool:
    interval = params.difficulty_adjustment_interval
    gap = head_height + 1 - last_pow_height
    return not params.pow_no_retargeting and (head_height % interval == 0 or gap > interval)


def _quirks(secure: int | None, coded: Any) -> tuple[str, ...]:
    """The quirks of this area that make the node answer other than `secure`: each switched on with
    what it requires, where it changes the answer those give (retarget-zero-bits only shows where
    retarget-caps-low-ratio lets a ratio of 0.00 through)."""
    if secure is None:
        return ()
    if coded(frozenset()) != secure:
        raise AssertionError("as_coded without quirks must be the secure rule")
    tags = []
    for q in AREA_QUIRKS:
        required = frozenset(deviations.get(q).requires)
        answer = coded(required | {q})
        if answer != secure and answer != coded(required):
            tags.append(q)
    return tuple(tags)


PARAMS_SCHEMA = obj(
    {
        "pow_target_timespan": NAT,
        "pow_target_spacing": {"type": "integer", "minimum": 1, "maximum": 2**53 - 1},
        "max_pow_adjustment": {"type": "integer", "minimum": 1, "maximum": 100},
        "pow_no_retargeting": BOOL,
        "pow_limit": U32,
        "pow_lower_limit": U32,
    }
)


def params_json(p: RetargetParams) -> dict[str, Json]:
    return attrs.asdict(p)


def params_of(value: Mapping[str, Json]) -> RetargetParams:
    """The RetargetParams model object (alys_pbt/interface.py) a vector's params stand for."""
    return RetargetParams(**value)


# --- calculate_next_work_required ------------------------------------------------------------------


def _calc_case(name: str, diff: int, last_bits: int, params: RetargetParams, **extra: Any) -> Case:
    expected = reference_verdict(lambda: {"bits": ref.calculate_next_work_required(diff, last_bits, params)})
    secure = expected.outputs.get("bits") if expected.verdict == "ok" else None
    quirks = _quirks(secure, lambda on: as_coded(diff, last_bits, params, on))
    inputs = {"diff": diff, "last_bits": last_bits, "params": params_json(params)}
    return Case(name, inputs, expected, quirks=quirks, **extra)


@st.composite
def _formula_inputs(d: st.DrawFn) -> tuple[int, int, RetargetParams]:
    params = d(retarget_params())
    return d(block_gaps(params)), d(canonical_bits()), params


def _generate_calculate(seed: int, n: int) -> list[Case]:
    cases = [
        _calc_case(f"valid-{i:04d}", *t) for i, t in enumerate(draw(_formula_inputs(), seed, "formula", n=n))
    ]
    hard = "suite-hardening"
    for bits in (PREV_BITS, 0x1D00FFFF):
        b = f"{bits:08x}"
        for label, gap in (
            ("ratio-1", 100),  # exactly 1: the bits are kept
            ("ratio-0.99", 99),
            ("ratio-1.01", 101),
            ("ratio-0.21", 21),
            ("ratio-0.20-at-floor", 20),  # the lower bound itself
            ("ratio-0.19-below-floor", 19),
            ("ratio-0.01", 1),
            ("ratio-1.19", 119),
            ("ratio-1.20-at-cap", 120),  # the upper bound itself
            ("ratio-1.21-past-cap", 121),
            ("ratio-3.00", 300),
        ):
            # Below 1 the floor, at 1 the kept bits: the suite's rules where the code departs.
            rule = "lower-floor" if gap < 100 else "ratio-one-keeps-bits" if gap == 100 else "upper-clamp"
            origin = hard if gap <= 100 else None
            cases.append(
                _calc_case(
                    f"boundary-{b}-{label}", gap, bits, PERCENT, origin=origin, source=ref.origin_of(rule)
                )
            )
    # A ratio that rounds to 0.00 (a gap of 0 counts as 1): the floor keeps the target above 0.
    for spacing in (201, 1000, 100_000):
        p = RetargetParams(spacing, spacing, 20)
        source = ref.origin_of("no-zero-target")
        cases.append(
            _calc_case(
                f"boundary-rounds-to-zero-spacing-{spacing}", 1, PREV_BITS, p, origin=hard, source=source
            )
        )
        cases.append(
            _calc_case(f"boundary-gap-0-spacing-{spacing}", 0, PREV_BITS, p, origin=hard, source=source)
        )
    # Rounding midpoints, half to even: 1.125 -> 1.12, 1.005 -> 1.00 (kept), 1.015 -> 1.02, 0.625 -> 0.62.
    for gap, spacing in ((9, 8), (201, 200), (203, 200), (5, 8), (41, 40), (43, 40)):
        p = RetargetParams(spacing, spacing, 20)
        cases.append(_calc_case(f"boundary-midpoint-{gap}-over-{spacing}", gap, 0x1D00FFFF, p))
    # The product target / 100 * percent past 2^256 saturates.
    for gap in (101, 120, 300):
        cases.append(_calc_case(f"boundary-max-target-ratio-{gap}", gap, MAX_TARGET_BITS, PERCENT))
    cases.append(_calc_case("boundary-regtest-ratio-1.20", 120, 0x207FFFFF, PERCENT))
    # Targets that decode to 0 (negative mantissa; a shift of 256 or more) stay 0.
    for bits in (0x04800000, 0x22000001, 0x00000000):
        cases.append(_calc_case(f"boundary-zero-target-{bits:08x}", 150, bits, PERCENT))
    # Exponents of 3 and below: the mantissa shifted right by 8 * (3 - exponent), to a tiny target.
    for bits in (0x01123456, 0x02123456, 0x02008000, 0x03123456, 0x04123456):
        cases.append(_calc_case(f"boundary-small-exponent-{bits:08x}", 150, bits, PERCENT))
    # The adjustment at its limits: 1% and 100% (a low ratio raised to 1, then truncated by /100*100).
    for adj in (1, 100):
        p = RetargetParams(100, 100, adj)
        for gap in (50, 150, 250):
            cases.append(_calc_case(f"boundary-adjustment-{adj}-ratio-{gap}", gap, PREV_BITS, p))
    # The repository's own vectors (auxpow_miner.rs tests): 150000 and 50000 blocks over 100000.
    for gap in (150_000, 50_000, 100_000):
        cases.append(_calc_case(f"boundary-repo-{gap}", gap, PREV_BITS, REPO, source=f"{_MINER} tests"))
    # The quirks' regression vectors, each as small as it gets, citing the secure rule it keeps.
    for quirk, rule, (diff, bits, params), note in (
        (
            CAPS,
            "lower-floor",
            (1, 0x1D00FFFF, RetargetParams(2, 2, 20)),
            "ratio 0.50 must stay 0.50, not 0.20",
        ),
        (ONE, "ratio-one-keeps-bits", (1, PREV_BITS, RetargetParams(1, 1, 20)), "ratio 1 keeps the bits"),
        (
            ZERO,
            "no-zero-target",
            (1, PREV_BITS, RetargetParams(1000, 1000, 20)),
            "ratio 0.00 must not give target 0",
        ),
    ):
        source = f"{ref.origin_of(rule)}; the quirk: {deviations.get(quirk).source}"
        cases.append(_calc_case(f"quirk-{quirk}", diff, bits, params, origin=hard, source=source, note=note))
    return unique_names(cases)


def _replay_calculate(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    params = params_of(inputs["params"])
    return {"bits": target.chain.calculate_next_work_required(inputs["diff"], inputs["last_bits"], params)}


# --- get_next_work_required ------------------------------------------------------------------------


def _next_case(
    name: str, last_pow_height: int, last_bits: int, params: RetargetParams, head_height: int, **extra: Any
) -> Case:
    expected = reference_verdict(
        lambda: {"bits": ref.get_next_work_required(last_pow_height, last_bits, params, head_height)}
    )
    secure = expected.outputs.get("bits") if expected.verdict == "ok" else None

    def coded(on: frozenset[str]) -> int:
        if not _fires(last_pow_height, params, head_height):
            return last_bits
        return as_coded(head_height + 1 - last_pow_height, last_bits, params, on)

    inputs = {
        "last_pow_height": last_pow_height,
        "last_bits": last_bits,
        "params": params_json(params),
        "head_height": head_height,
    }
    return Case(name, inputs, expected, quirks=_quirks(secure, coded), **extra)


def _generate_next(seed: int, n: int) -> list[Case]:
    drawn = draw(retarget_situations(params=retarget_params(no_retargeting=None)), seed, "situations", n=n)
    cases = [
        _next_case(f"valid-{i:04d}", s.last_pow_height, s.last_bits, s.params, s.head_height)
        for i, s in enumerate(drawn)
    ]
    interval = TESTNET.difficulty_adjustment_interval  # 12 on testnet (60 / 5)
    head = 10 * interval + 1  # not a multiple of the interval
    for label, gap in (
        ("below", interval - 1),
        ("at", interval),
        ("one-past", interval + 1),
        ("two-past", interval + 2),
    ):
        cases.append(
            _next_case(f"boundary-gap-{label}-interval-unaligned", head + 1 - gap, PREV_BITS, TESTNET, head)
        )
    aligned = 10 * interval
    for gap in (1, 5, 6, interval):
        cases.append(
            _next_case(f"boundary-aligned-head-gap-{gap}", aligned + 1 - gap, PREV_BITS, TESTNET, aligned)
        )
    cases.append(_next_case("boundary-head-0", 1, PREV_BITS, TESTNET, 0))
    cases.append(_next_case("boundary-head-0-gap-1", 0, PREV_BITS, TESTNET, 0))
    off = attrs.evolve(TESTNET, pow_no_retargeting=True)
    cases.append(_next_case("boundary-no-retargeting-aligned", aligned - 40, PREV_BITS, off, aligned))
    cases.append(_next_case("boundary-no-retargeting-long-gap", head - 100, PREV_BITS, off, head))
    every = RetargetParams(5, 5, 20)  # interval 1: every head retargets
    for gap in (1, 2, 5, 6):
        cases.append(_next_case(f"boundary-interval-1-gap-{gap}", 1001 - gap, PREV_BITS, every, 1000))
    return unique_names(cases)


def _replay_next(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    params = params_of(inputs["params"])
    bits = target.chain.get_next_work_required(
        inputs["last_pow_height"], inputs["last_bits"], params, inputs["head_height"]
    )
    return {"bits": bits}


RULES: tuple[Rule, ...] = (
    Rule(
        id="retarget/calculate-next-work-required",
        summary="the bits after `diff` blocks without PoW: the last "
        "target scaled by the clamped, rounded gap ratio",
        origin="node",
        source=f"{_MINER} calculate_next_work_required (the secure "
        "floor, ratio-1 and non-zero rules: suite hardening)",
        generate=_generate_calculate,
        replay=_replay_calculate,
        component="chain",
        inputs_schema=obj({"diff": NAT, "last_bits": U32, "params": PARAMS_SCHEMA}),
        outputs_schema=obj({"bits": U32}),
    ),
    Rule(
        id="retarget/get-next-work-required",
        summary="the bits a new AuxPoW must meet: retarget at multiples "
        "of the interval or past it, else keep the bits",
        origin="node",
        source=f"{_MINER} get_next_work_required",
        generate=_generate_next,
        replay=_replay_next,
        component="chain",
        inputs_schema=obj(
            {"last_pow_height": NAT, "last_bits": U32, "params": PARAMS_SCHEMA, "head_height": NAT}
        ),
        outputs_schema=obj({"bits": U32}),
    ),
)

UNREACHABLE: dict[str, str] = {}
