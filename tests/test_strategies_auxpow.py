"""The AuxPoW strategies generate what they claim, and the corruption catalogue is complete."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from models import auxpow as ref
from models.bitcoin import BlockHeader, MerkleBranch, Transaction, merkle_root
from strategies.auxpow import EASY_BITS, AuxPowCase, auxpow_cases, auxpow_recipes, build
from strategies.bitcoin import coinbase_transactions, merkle_proofs, transactions
from strategies.corruptions import BY_NAME, CATALOGUE

quick = settings(max_examples=25, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    "feature",
    [
        lambda c: c.layout == "vin",
        lambda c: c.layout == "vout" and c.auxpow.coinbase_txn.outputs[2].script_pubkey[:4] != ref.MERGED_MINING_MAGIC,
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
    ref.check(case.auxpow, case.aux_hash, case.chain_id, case.layout)
    assert ref.check_proof_of_work(case.auxpow.parent_block, EASY_BITS)
    assert case.auxpow.coinbase_branch.side_mask == 0 and case.auxpow.coinbase_txn.is_coinbase


@quick
@given(recipe=auxpow_recipes())
def test_the_grind_is_deterministic(recipe) -> None:  # type: ignore[no-untyped-def]
    first, second = build(recipe), build(recipe)
    assert first == second
    nonce = first.parent_block.nonce
    assert all(
        not ref.check_proof_of_work(BlockHeader(*[*_fields(first.parent_block)[:5], n]), EASY_BITS) for n in range(nonce)
    )


def _fields(h: BlockHeader) -> list[int | bytes]:
    return [h.version, h.prev_block, h.merkle_root, h.time, h.bits, h.nonce]


def test_knobs_fix_what_they_name() -> None:
    case = find(auxpow_cases(commit=b"\x07" * 32, chain_id=42, layout="vin"), lambda c: True)
    assert (case.aux_hash, case.chain_id, case.layout) == (b"\x07" * 32, 42, "vin")
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
