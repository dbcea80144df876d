"""The AuxPoW strategies generate what they claim, and the corruption catalogue is complete."""

from __future__ import annotations

import inspect
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from alys_pbt.models import auxpow as ref
from alys_pbt.models.bitcoin import BlockHeader, DecodeError, MerkleBranch, Transaction, merkle_root
from alys_pbt.strategies.auxpow import (
    EASY_BITS,
    AuxPowCase,
    auxpow_cases,
    auxpow_recipes,
    build,
    compact_bits,
    pow_probes,
)
from alys_pbt.strategies.bitcoin import coinbase_transactions, merkle_proofs, transactions
from alys_pbt.strategies.corruptions import BY_NAME, CATALOGUE, corrupted_cases
from alys_pbt.strategies.malformed_bitcoin import APPLIES, HOWS, Malformed, malformed_bitcoin
from alys_pbt.strategies.retarget import GapCase, gap_cases

quick = settings(max_examples=25, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    "feature",
    [
        lambda c: c.layout == "script-sig",
        lambda c: (
            c.layout == "output-script"
            and c.auxpow.coinbase_txn.outputs[2].script_pubkey[:4] != ref.MERGED_MINING_MAGIC
        ),
        lambda c: len(c.auxpow.blockchain_branch.hashes) == 0,
        lambda c: len(c.auxpow.blockchain_branch.hashes) > 5,  # past the full-tree sizes
        lambda c: len(c.auxpow.blockchain_branch.hashes) == 30,  # the limit itself
        lambda c: c.auxpow.coinbase_txn.has_witness,
        lambda c: len(c.auxpow.coinbase_branch.hashes) >= 2,  # a parent block with other txs
        lambda c: c.auxpow.blockchain_branch.side_mask != 0,
    ],
    ids=["vin", "vout-output-3", "h0", "h-above-5", "h30", "segwit-coinbase", "parent-txs", "nonzero-slot"],
)
def test_valid_proofs_reach_every_shape(feature) -> None:  # type: ignore[no-untyped-def]
    reach = settings(max_examples=2000, database=None, phases=[Phase.generate])  # existence, not shrinking
    case = find(auxpow_cases(max_height=30), feature, settings=reach)
    ref.check(case.auxpow, case.aux_hash, case.chain_id, case.layout)


@quick
@given(case=auxpow_cases())
def test_proofs_are_valid_by_construction(case: AuxPowCase) -> None:
    ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())
    assert ref.check_proof_of_work(case.auxpow.parent_block, EASY_BITS)
    assert case.auxpow.coinbase_branch.side_mask == 0 and case.auxpow.coinbase_txn.is_coinbase


@quick
@given(recipe=auxpow_recipes())
def test_the_grind_is_deterministic(recipe) -> None:  # type: ignore[no-untyped-def]
    first, second = build(recipe), build(recipe)
    assert first == second
    nonce = first.parent_block.nonce
    assert all(
        not ref.check_proof_of_work(BlockHeader(*[*_fields(first.parent_block)[:5], n]), EASY_BITS)
        for n in range(nonce)
    )


def _fields(h: BlockHeader) -> list[int | bytes]:
    return [h.version, h.prev_block, h.merkle_root, h.time, h.bits, h.nonce]


def test_knobs_fix_what_they_name() -> None:
    case = find(auxpow_cases(commit=b"\x07" * 32, chain_id=42, layout="vin"), lambda c: True)
    assert (case.aux_hash, case.chain_id, case.layout) == (
        b"\x07" * 32,
        42,
        "script-sig",
    )  # the old name works
    with pytest.raises(Exception, match="too hard"):
        find(auxpow_cases(bits=0x1D00FFFF), lambda c: True)


@quick
@given(proof=merkle_proofs(), tx=transactions(segwit=True))
def test_merkle_proofs_and_segwit_transactions(proof, tx: Transaction) -> None:  # type: ignore[no-untyped-def]
    leaves, index, branch = proof
    assert branch.evaluate(leaves[index]) == merkle_root(leaves)
    assert tx.has_witness and tx.to_bytes() != tx.to_bytes(witness=False)


@quick
@given(tx=coinbase_transactions())
def test_coinbase_transactions_are_coinbases(tx: Transaction) -> None:
    assert tx.is_coinbase and tx.inputs[0].script_sig[0] == 3  # BIP34 height push first
    assert Transaction.from_bytes(tx.to_bytes()) == tx


def test_type_strategies_are_registered() -> None:
    for cls in (ref.AuxPow, BlockHeader, Transaction, MerkleBranch):
        assert isinstance(find(st.from_type(cls), lambda _: True), cls)


def _reference_errors() -> set[str]:
    errors = set()
    for base in (ref.AuxPowError, ref.PowRejected):
        errors |= {cls.__name__ for cls in base.__subclasses__()}
    return errors


def test_every_error_the_reference_can_raise_has_a_corruption() -> None:
    produced = {c.expected for c in CATALOGUE}
    missing = _reference_errors() - produced
    assert not missing, f"reference errors no corruption produces: {sorted(missing)}"


def test_every_reference_error_is_raised_somewhere_in_the_reference() -> None:
    source = inspect.getsource(ref)
    for name in _reference_errors():
        assert f"raise {name}(" in source, f"{name} is declared but never raised"


def test_catalogue_names_are_unique_and_levels_known() -> None:
    assert len(BY_NAME) == len(CATALOGUE)
    assert {c.level for c in CATALOGUE} == {"structure", "pow", "header"}


# --- Issue 14: what the mutation run on alys/auxpow.py found the generators never made --------------

reach = settings(
    max_examples=3000, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
)
# What a property sees in one ci run: 100 examples, and the same ones every time (derandomized).
budget = settings(reach, max_examples=100, derandomize=True)


def test_compact_bits_reach_the_sign_bit_mantissa_and_every_exponent_edge() -> None:
    find(compact_bits(), lambda b: b & 0xFFFFFF == 0x800000, settings=budget)
    find(
        compact_bits(),
        lambda b: b >> 24 <= 2 and b & 0x800000 and ref.target_from_compact(b) > 0,
        settings=budget,
    )
    for exponent in (0, 1, 2, 3, 34, 35):
        find(compact_bits(), lambda b, e=exponent: b >> 24 == e, settings=budget)


def test_pow_probes_compare_a_zero_target() -> None:
    def zero_target_missed(probe: tuple[bytes, int]) -> bool:
        block_hash, bits = probe
        return ref.target_from_compact(bits) == 0 and int.from_bytes(block_hash, "little") > 0

    find(pow_probes(), zero_target_missed, settings=budget)
    find(pow_probes(), lambda p: ref.target_from_compact(p[1]) == 0 and not any(p[0]), settings=budget)


def test_corruptions_reach_a_coinbase_with_several_inputs() -> None:
    case = find(
        corrupted_cases("coinbase-with-several-inputs"),
        lambda c: len(c.auxpow.coinbase_txn.inputs) > 1,
        settings=reach,
    )
    assert case.auxpow.coinbase_txn.inputs[0].prevout.is_null  # only the input count is wrong
    with pytest.raises(ref.NotACoinbase):
        ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())


def test_corruptions_reach_a_bad_header_in_a_coinbase_of_exactly_three_outputs() -> None:
    case = find(corrupted_cases("header-broken-in-output-2-of-3"), lambda c: True, settings=reach)
    assert len(case.auxpow.coinbase_txn.outputs) == 3
    with pytest.raises(ref.CoinbaseInvalidOutputs):
        ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())


def test_valid_proofs_reach_the_magic_at_offset_0_of_the_script_sig() -> None:
    case = find(
        auxpow_cases(layout="script-sig"),
        lambda c: c.auxpow.coinbase_txn.inputs[0].script_sig.startswith(ref.MERGED_MINING_MAGIC),
        settings=reach,
    )
    ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())


def test_merkle_size_corruption_probes_both_sides_of_2_to_the_h() -> None:
    for off in (-1, 1):
        find(
            corrupted_cases("merkle-size-not-2^h"),
            lambda c, o=off: _header_size(c) == (1 << len(c.auxpow.blockchain_branch.hashes)) + o,
            settings=budget,
        )


def _header_size(case: AuxPowCase) -> int:
    header = ref.find_header(
        case.auxpow.coinbase_txn, case.auxpow.blockchain_branch.evaluate(case.aux_hash), case.layout
    )
    return header.merkle_size


@pytest.mark.parametrize("how", HOWS)
def test_malformed_bitcoin_reaches_every_class_for_every_kind(how: str) -> None:
    for kind in APPLIES[how]:
        bad = find(malformed_bitcoin(kinds=(kind,), hows=(how,)), lambda b: True, settings=reach)
        assert (bad.kind, bad.how) == (kind, how)


def test_malformed_bitcoin_makes_the_forms_bitcoin_core_names() -> None:
    def rule(bad: Malformed) -> str:
        try:
            {
                "transaction": Transaction.from_bytes,
                "auxpow": ref.AuxPow.from_bytes,
                "header": BlockHeader.from_bytes,
            }[bad.kind](bad.data)
        except DecodeError as err:
            return err.rule
        return "ok"

    for wanted in (
        "non-canonical-compact-size",
        "size-too-large",
        "superfluous-witness",
        "superfluous-witness-no-inputs",
        "unknown-segwit-flag",
    ):
        find(malformed_bitcoin(kinds=("transaction",)), lambda b, w=wanted: rule(b) == w, settings=reach)
    find(
        malformed_bitcoin(kinds=("auxpow",), hows=("huge-count",)),
        lambda b: "chain branch length" in b.detail and rule(b) == "size-too-large",
        settings=reach,
    )


def test_every_corruption_names_the_origin_of_its_rule() -> None:
    kinds = {"node", "namecoin", "bitcoin-consensus", "suite-hardening"}
    for c in CATALOGUE:
        assert c.origins and {o.kind for o in c.origins} <= kinds, c.name
        assert c.origin_text in c.describe()
    # The rules that are the suite's own hardening, not Namecoin's or the node's, say so.
    assert {o.kind for o in BY_NAME["coinbase-with-real-prevout"].origins} == {"suite-hardening"}
    assert "suite-hardening" in {o.kind for o in BY_NAME["commitment-in-non-coinbase"].origins}
    assert {o.kind for o in BY_NAME["header-bits-mismatch"].origins} == {"suite-hardening"}
    assert {o.kind for o in BY_NAME["wrong-index"].origins} == {"node", "namecoin"}


def test_retarget_gaps_reach_a_rounding_midpoint_inside_the_clamp() -> None:
    """Within one ci run, a block gap lands on a ratio of exactly x.xx5 with an even hundredths
    digit, inside the clamp: where rounding half to even (the node's rust_decimal) and half up
    disagree (the class of retarget-half-up-rounding, which the property kills only there)."""

    def disagrees(case: GapCase) -> bool:
        (gap,) = case.gaps
        ratio = Decimal(max(gap, 1)) / Decimal(case.params.pow_target_spacing)
        even, up = (ratio.quantize(Decimal("0.01"), rounding=r) for r in (ROUND_HALF_EVEN, ROUND_HALF_UP))
        low = Decimal(case.params.max_pow_adjustment) / 100
        return even != up and low <= even and up <= 1 + low

    find(gap_cases(), disagrees, settings=budget)
