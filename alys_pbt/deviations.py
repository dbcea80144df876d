"""The registry of known deviations: the port's quirks and the seeded mutants.

A *quirk* is a place where the Alys node's code deviates from the secure rule; the port carries it
(target `alys` has every quirk on, `alys-fixed` none). A *mutant* is a small seeded bug switched on
in `alys-fixed` to prove that the properties which declare it (with `@kills`) can fail.

`breaks` lists the properties a quirk breaks, as pytest node-id patterns (fnmatch, relative to the
project root). When the chosen target carries a quirk, those properties run as strict xfails.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Literal

from attrs import frozen

Kind = Literal["quirk", "mutant"]


@frozen
class Deviation:
    id: str
    kind: Kind
    component: str
    summary: str
    source: str  # where in the Alys code (quirk) or the port (mutant) it lives
    breaks: tuple[str, ...] = ()  # quirks only: node-id patterns of the properties it breaks
    requires: tuple[str, ...] = ()  # deviations without which this one cannot show

    def breaks_item(self, nodeid: str) -> bool:
        return any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in self.breaks)


AUXPOW_PROPS = "properties/test_auxpow.py"
RETARGET_PROPS = "properties/test_retarget.py"
_STRUCTURAL_CORRUPTIONS = (
    "wrong-index",
    "index-bit-above-height",
    "branch-of-31",
    "merkle-size-not-2^h",
    "wrong-magic",
    "header-script-43-bytes",
    "header-script-45-bytes",
    "header-in-op-return",
    "root-mismatch",
    "coinbase-not-in-parent-block",
    "commitment-in-non-coinbase",
    "coinbase-without-inputs",
    "coinbase-with-real-prevout",
    "parent-has-our-chain-id",
    "no-output-2",
)
_COINBASE_CORRUPTIONS = (
    "commitment-in-non-coinbase",
    "coinbase-without-inputs",
    "coinbase-with-real-prevout",
)
_HEADER_CORRUPTIONS = ("header-bits-mismatch", "header-chain-id-mismatch", "header-height-mismatch")


def _params(test: str, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{test}[[]{name}[]]" for name in names)  # fnmatch-escaped brackets


QUIRKS: tuple[Deviation, ...] = (
    Deviation(
        id="auxpow-any-tx-commitment",
        kind="quirk",
        component="auxpow",
        summary="the committed transaction's index and coinbase-ness are never checked: "
        "a commitment in any transaction of a Bitcoin block is accepted",
        source="app/src/auxpow.rs AuxPow::check (no nIndex == 0, no coinbase check)",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_rejects_corruption", _COINBASE_CORRUPTIONS)
        + _params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _COINBASE_CORRUPTIONS),
    ),
    Deviation(
        id="auxpow-check-pow-aborts",
        kind="quirk",
        component="auxpow",
        summary="an AuxPoW that meets the target but fails a structural check makes check_pow "
        "abort the process (.unwrap() under panic = abort) instead of rejecting the block",
        source="app/src/chain.rs check_pow: auxpow.check(...).unwrap()",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _STRUCTURAL_CORRUPTIONS),
    ),
    Deviation(
        id="auxpow-header-fields-unchecked",
        kind="quirk",
        component="auxpow",
        summary="the AuxPowHeader's own bits, height and chain_id are never compared with what "
        "the chain requires; the proof is checked against the header's chain_id",
        source="app/src/chain.rs check_pow (bits from retarget, header.chain_id passed to check)",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _HEADER_CORRUPTIONS),
    ),
    Deviation(
        id="retarget-caps-low-ratio",
        kind="quirk",
        component="auxpow",
        summary="a block-gap ratio below 1 is clamped to at most maxPowAdjustment/100 "
        "(min instead of max), so the target can shrink far below the adjustment bound",
        source="app/src/auxpow_miner.rs calculate_next_work_required: ratio.min(lower)",
        breaks=(
            f"{RETARGET_PROPS}::test_retarget_is_bounded_by_max_adjustment",
            f"{RETARGET_PROPS}::test_retarget_matches_reference",
            f"{RETARGET_PROPS}::test_retarget_formula_matches_reference",
        ),
    ),
    Deviation(
        id="retarget-ratio-one-truncates",
        kind="quirk",
        component="auxpow",
        summary="a ratio of exactly 1 still goes through target/100*100, which truncates and "
        "can change the bits although nothing should change",
        source="app/src/auxpow_miner.rs calculate_next_work_required",
        breaks=(
            f"{RETARGET_PROPS}::test_retarget_at_ratio_one_keeps_bits",
            f"{RETARGET_PROPS}::test_retarget_matches_reference",
            f"{RETARGET_PROPS}::test_retarget_formula_matches_reference",
        ),
    ),
    Deviation(
        id="retarget-zero-bits",
        kind="quirk",
        component="auxpow",
        summary="a ratio that rounds to 0.00 gives percent 0, target 0 and bits 0x00000000",
        source="app/src/auxpow_miner.rs calculate_next_work_required: (ratio*100).to_u8()",
        breaks=(
            f"{RETARGET_PROPS}::test_retarget_never_yields_zero_target",
        ),
        # With the low ratio raised to the adjustment, no ratio can round to 0.00.
        requires=("retarget-caps-low-ratio",),
    ),
)

MUTANTS: tuple[Deviation, ...] = (
    Deviation(
        "bitcoin-merkle-odd-promotes",
        "mutant",
        "auxpow",
        "an odd merkle level promotes its last hash instead of pairing it with itself",
        "alys/codec.py merkle_root",
    ),
    Deviation(
        "codec-drops-witness",
        "mutant",
        "auxpow",
        "re-encoding a decoded transaction leaves out the segwit witness",
        "alys/codec.py encode_tx",
    ),
    Deviation(
        "codec-accepts-trailing-bytes",
        "mutant",
        "auxpow",
        "decoders ignore bytes after the structure instead of rejecting them",
        "alys/codec.py Cursor.finish",
    ),
    Deviation(
        "codec-panics-on-truncation",
        "mutant",
        "auxpow",
        "reading past the end panics (an untyped IndexError) instead of raising DecodeError",
        "alys/codec.py Cursor.take",
    ),
    Deviation(
        "auxpow-merkle-sides-swapped",
        "mutant",
        "auxpow",
        "a merkle branch step puts the sibling on the wrong side (mask bit read inverted)",
        "alys/auxpow.py evaluate_branch",
    ),
    Deviation(
        "auxpow-pow-strict-less",
        "mutant",
        "auxpow",
        "the PoW check uses hash < target instead of hash <= target",
        "alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        "auxpow-pow-hash-big-endian",
        "mutant",
        "auxpow",
        "the parent hash is read as a big-endian integer when compared with the target",
        "alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        "auxpow-expected-index-i32",
        "mutant",
        "auxpow",
        "the expected index is computed in C int (signed 32-bit) with a truncating remainder",
        "alys/auxpow.py expected_index",
    ),
    Deviation(
        "auxpow-branch-limit-off-by-one",
        "mutant",
        "auxpow",
        "the chain branch length limit rejects 30 (>= instead of >)",
        "alys/auxpow.py check",
    ),
    Deviation(
        "auxpow-no-output-3-fallback",
        "mutant",
        "auxpow",
        "the vout parser gives up after output 2 instead of trying output 3",
        "alys/auxpow.py find_header_vout",
    ),
    Deviation(
        "auxpow-aggregate-single-unhashed",
        "mutant",
        "auxpow",
        "the aggregate of a single block is the block hash itself, not its sha256d",
        "alys/chain.py aggregate_hash",
    ),
    Deviation(
        "compact-no-sign-adjust",
        "mutant",
        "auxpow",
        "GetCompact forgets to shift a mantissa with bit 0x00800000 set (which decodes as 0)",
        "alys/auxpow.py compact_from_target",
    ),
    Deviation(
        "compact-shift-saturates",
        "mutant",
        "auxpow",
        "the PoW target decoder zeroes an exponent >= 35 instead of wrapping the shift like "
        "rust-bitcoin",
        "alys/auxpow.py target_from_compact",
    ),
    Deviation(
        "retarget-no-upper-clamp",
        "mutant",
        "auxpow",
        "a ratio above 1 is not clamped to 1 + maxPowAdjustment/100",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-half-up-rounding",
        "mutant",
        "auxpow",
        "the block-gap ratio is rounded half up instead of half to even",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-product-wraps",
        "mutant",
        "auxpow",
        "target/100*percent wraps modulo 2^256 instead of saturating",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-fires-one-late",
        "mutant",
        "auxpow",
        "retargeting fires when the gap exceeds the interval by two, not one",
        "alys/chain.py get_next_work_required",
    ),
)

ALL: dict[str, Deviation] = {d.id: d for d in QUIRKS + MUTANTS}
QUIRK_IDS: frozenset[str] = frozenset(d.id for d in QUIRKS)
MUTANT_IDS: frozenset[str] = frozenset(d.id for d in MUTANTS)


class UnknownDeviation(KeyError):
    def __str__(self) -> str:
        return f"unknown deviation {self.args[0]!r}; known: {', '.join(sorted(ALL))}"


def get(deviation_id: str) -> Deviation:
    try:
        return ALL[deviation_id]
    except KeyError:
        raise UnknownDeviation(deviation_id) from None


def quirks_breaking(nodeid: str, carried: Iterable[str]) -> list[Deviation]:
    """The carried quirks that break the property with this node id."""
    return [get(q) for q in sorted(carried) if get(q).kind == "quirk" and get(q).breaks_item(nodeid)]
