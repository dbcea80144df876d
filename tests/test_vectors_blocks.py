"""The blocks, EVM, peg-in and chain families of the conformance vectors (issue 13).

Each rule generates the same JSON for the same seed; every file validates against its rule's
schema; every expected verdict is what the reference gives from the case's inputs alone (the
chain scenarios replayed on the reference chain from their serialized form); every case passes on
`alys-fixed`; on `alys` exactly the quirk-tagged cases fail, and on `alys-fixed+QUIRK` exactly the
cases tagged with that quirk; every quirk of the area has its `quirk-<id>` vector; and every seeded
mutant of the area (chain-*, evm-*) makes at least one vector fail.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from alys_pbt import deviations, targets
from alys_pbt.models import evm as evm_model
from alys_pbt.models import pegin as pegin_model
from alys_pbt.models.bitcoin import Transaction
from alys_pbt.vectors.families import blocks, chain, evm, pegin
from alys_pbt.vectors.generate import canonical, rule_files
from alys_pbt.vectors.rule import Rule, from_hex, from_json_int
from alys_pbt.vectors.runner import judge
from alys_pbt.vectors.validation import validate_file
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.chain

FAMILIES = (blocks, evm, pegin, chain)
RULES: dict[str, Rule] = {rule.id: rule for family in FAMILIES for rule in family.RULES}
SEED, CASES = 3, 2  # a small set, as CI generates it
AREA_QUIRKS = sorted(q.id for q in deviations.QUIRKS if q.component == "chain")
AREA_MUTANTS = sorted(
    m.id for m in deviations.MUTANTS if m.component == "chain" or m.id.startswith(("chain-", "evm-"))
)
UNREACHABLE: dict[str, str] = {
    k: v for family in FAMILIES for k, v in getattr(family, "UNREACHABLE", {}).items()
}


@functools.cache
def documents(rule_id: str) -> list[dict[str, Any]]:
    return [doc for _, doc in rule_files(RULES[rule_id], SEED, CASES)]


def cases(rule_id: str) -> list[dict[str, Any]]:
    return [case for doc in documents(rule_id) for case in doc["cases"]]


@functools.cache
def target(spec: str) -> Any:
    return targets.load(spec)


def failing(rule_id: str, spec: str) -> set[str]:
    rule = RULES[rule_id]
    return {case["name"] for case in cases(rule_id) if judge(rule, target(spec), case) is not None}


def test_the_area_is_what_the_registry_says() -> None:
    assert (
        sorted(
            [
                "chain-full-nodes-skip-withdrawals",
                "chain-pegin-utf8-address-rejected",
                "chain-rollback-undoes-finalization",
                "chain-slot-author-unchecked",
                "chain-withdrawals-extra-accepted",
                "chain-wire-form-lenient",
            ]
        )
        == AREA_QUIRKS
    )
    assert len(AREA_MUTANTS) == 12


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_the_same_seed_gives_the_same_files(rule_id: str) -> None:
    again = [doc for _, doc in rule_files(RULES[rule_id], SEED, CASES)]
    assert canonical(again) == canonical(documents(rule_id))
    other = [doc for _, doc in rule_files(RULES[rule_id], SEED + 1, CASES)]
    assert canonical(other) != canonical(documents(rule_id)), "the seed changes nothing"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_file_validates_against_its_rule_schema(rule_id: str) -> None:
    for doc in documents(rule_id):
        validate_file(doc, RULES[rule_id], rule_id)
    names = [c["name"] for c in cases(rule_id)]
    assert any(n.startswith("valid-") for n in names) and any(n.startswith("boundary-") for n in names)


def _reference(rule_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The verdict the reference gives from the case's inputs alone, as the format writes it."""
    if rule_id == "blocks/decode":
        return blocks.expected_for(from_hex(inputs["block"])).to_json()
    if rule_id == "evm/sender":
        return evm.expected_for(from_hex(inputs["transaction"])).to_json()
    if rule_id == "evm/sender-memo":
        answers = [evm._answer(from_hex(raw), evm.reference_sender) for raw in inputs["transactions"]]
        return {"verdict": "ok", "outputs": {"answers": answers}}
    if rule_id == "chain/scenario":
        return {"verdict": "ok", "outputs": {"steps": chain.reference_states(inputs)}}
    states = chain.reference_states(inputs["scenario"])
    assert all(s["result"] == "ok" for s in states[:-1]), "the scenario fails before its last block"
    if rule_id == "pegin/parse":
        tx = Transaction.from_bytes(from_hex(inputs["transaction"]))
        spk = from_hex(inputs["federation_spk"])
        assert spk == from_hex(inputs["scenario"]["spec"]["federation_spk"])
        name = verdict(lambda: pegin_model.pegin_info(tx, spk))
        assert states[-1]["result"] == name, "the scenario does not show the parse"
        if name != "ok":
            return {"verdict": "error", "error": name}
        info = pegin_model.pegin_info(tx, spk)
        return {
            "verdict": "ok",
            "outputs": {"amount_sats": info.amount, "evm_address": "0x" + info.evm_address.hex()},
        }
    assert rule_id == "pegin/fee-split"
    assert states[-1]["result"] == "ok"
    fees = from_json_int(inputs["fees_wei"])
    federation = tuple(from_hex(a) for a in inputs["federation"])
    assert federation == tuple(from_hex(a) for a in inputs["scenario"]["spec"]["federation"])
    return {
        "verdict": "ok",
        "outputs": {"withdrawals": pegin.owed(fees, from_hex(inputs["miner"]), federation)},
    }


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_expected_verdict_is_the_references(rule_id: str) -> None:
    for case in cases(rule_id):
        assert json.loads(canonical(_reference(rule_id, case["inputs"]))) == case["expected"], case["name"]


def test_the_evm_reference_refuses_with_its_typed_errors_only() -> None:
    for case in cases("evm/sender"):
        if case["expected"]["verdict"] == "error":
            raw = from_hex(case["inputs"]["transaction"])
            assert verdict(lambda raw=raw: evm_model.sender(evm_model.decode(raw))) in (
                "MalformedRlp",
                "BadSignature",
            )


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_case_passes_on_alys_fixed(rule_id: str) -> None:
    assert failing(rule_id, "alys-fixed") == set()


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_on_alys_exactly_the_quirk_tagged_cases_fail(rule_id: str) -> None:
    tagged = {c["name"] for c in cases(rule_id) if c["quirks"]}
    assert failing(rule_id, "alys") == tagged


@pytest.mark.parametrize("quirk", AREA_QUIRKS)
def test_each_quirk_alone_fails_exactly_the_cases_tagged_with_it(quirk: str) -> None:
    for rule_id in RULES:
        tagged = {c["name"] for c in cases(rule_id) if quirk in c["quirks"]}
        assert failing(rule_id, f"alys-fixed+{quirk}") == tagged, rule_id


@pytest.mark.parametrize("quirk", AREA_QUIRKS)
def test_each_quirk_has_its_regression_vector(quirk: str) -> None:
    found = [(rule_id, c) for rule_id in RULES for c in cases(rule_id) if c["name"] == f"quirk-{quirk}"]
    assert len(found) == 1, f"{quirk}: {len(found)} regression vectors"
    assert quirk in found[0][1]["quirks"]


@pytest.mark.parametrize("mutant", AREA_MUTANTS)
def test_each_mutant_of_the_area_fails_a_vector(mutant: str) -> None:
    caught = {rule_id: failing(rule_id, f"alys-fixed+{mutant}") for rule_id in RULES}
    if mutant in UNREACHABLE:
        assert not any(caught.values()), f"{mutant} is listed unreachable but a vector catches it"
        return
    assert any(caught.values()), f"no vector of blocks/evm/pegin/chain fails on alys-fixed+{mutant}"


def test_every_catalogue_corruption_and_wire_way_has_its_case() -> None:
    from alys_pbt.strategies.blocks import CATALOGUE
    from alys_pbt.strategies.malformed_blocks import RLP_WAYS, WIRE_WAYS

    names = {rule_id: {c["name"] for c in cases(rule_id)} for rule_id in RULES}
    assert {f"corruption-{c.name}" for c in CATALOGUE} <= names["chain/scenario"]
    assert {f"corruption-{w}" for w in WIRE_WAYS} <= names["blocks/decode"]
    assert {f"corruption-{w}" for w in RLP_WAYS} <= names["evm/sender"]
    for limit in ("withdrawals", "extra-data", "logs-bloom", "transactions", "array-length"):
        assert sum(n.startswith(f"boundary-{limit}-") for n in names["blocks/decode"]) == 3, limit
    assert sum(n.startswith("boundary-size-") for n in names["blocks/decode"]) == 2
    assert sum(n.startswith("boundary-size-") for n in names["evm/sender"]) == 3
