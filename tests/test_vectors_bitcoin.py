"""The Bitcoin, AuxPoW and retarget vector families (issue 13): deterministic, schema-valid, their
expected verdicts the reference's, passing on `alys-fixed`, failing on `alys` and on each quirk's
carrier exactly on the cases tagged with it, and failing on every seeded mutant of their area."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from alys_pbt import deviations, targets
from alys_pbt.interface import Target
from alys_pbt.models import auxpow as ref_auxpow
from alys_pbt.models import bitcoin as ref_bitcoin
from alys_pbt.models import retarget as ref_retarget
from alys_pbt.models.retarget import RetargetParams
from alys_pbt.strategies.corruptions import CATALOGUE
from alys_pbt.vectors import generate, runner
from alys_pbt.vectors.families import auxpow as auxpow_family
from alys_pbt.vectors.families import bitcoin as bitcoin_family
from alys_pbt.vectors.families import retarget as retarget_family
from alys_pbt.vectors.format import canonical
from alys_pbt.vectors.rule import Rule, from_hex, from_json_int
from alys_pbt.vectors.validation import validate_file

FAMILIES = (bitcoin_family, auxpow_family, retarget_family)
RULES: tuple[Rule, ...] = tuple(rule for family in FAMILIES for rule in family.RULES)
SMALL = 2
SEED = 0
PREFIXES = ("auxpow-", "codec-", "compact-", "retarget-", "bitcoin-")
AREA_MUTANTS = tuple(d.id for d in deviations.MUTANTS if d.component == "auxpow" or d.id.startswith(PREFIXES))
AREA_QUIRKS = tuple(q.id for q in deviations.QUIRKS if q.id.startswith(("auxpow-", "retarget-")))
# The rules that refuse bad input (the others answer every input with a value).
REFUSING = (
    "bitcoin/header-decode",
    "bitcoin/transaction-decode",
    "bitcoin/auxpow-decode",
    "auxpow/check",
    "auxpow/check-pow",
)
UNREACHABLE = {k: v for family in FAMILIES for k, v in family.UNREACHABLE.items()}


@pytest.fixture(scope="module")
def generated() -> dict[str, list[dict[str, Any]]]:
    """Each rule's cases as the format writes them (JSON, as a runner reads them back)."""
    out = {}
    for rule in RULES:
        ((path, document),) = generate.rule_files(rule, SEED, SMALL)
        validate_file(document, rule, path)  # the file schema with the rule's exact fragments
        out[rule.id] = document["cases"]
    return out


def _failing(target: Target, generated: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    by_id = {rule.id: rule for rule in RULES}
    return {
        f"{rule_id} :: {case['name']}"
        for rule_id, cases in generated.items()
        for case in cases
        if runner.judge(by_id[rule_id], target, case) is not None
    }


def _tagged(generated: Mapping[str, list[dict[str, Any]]], quirks: set[str]) -> set[str]:
    return {
        f"{rid} :: {c['name']}"
        for rid, cases in generated.items()
        for c in cases
        if set(c["quirks"]) & quirks
    }


def test_the_families_have_their_rules() -> None:
    ids = {rule.id for rule in RULES}
    assert {
        "bitcoin/header-decode",
        "bitcoin/transaction-decode",
        "bitcoin/merkle-root",
        "auxpow/target-from-compact",
        "auxpow/compact-from-target",
        "auxpow/hash-meets-target",
        "auxpow/check-proof-of-work",
        "auxpow/expected-index",
        "auxpow/check",
        "auxpow/check-pow",
        "auxpow/aggregate-hash",
        "retarget/calculate-next-work-required",
        "retarget/get-next-work-required",
    } <= ids
    assert all(rule.replay is not None and rule.inputs_schema and rule.outputs_schema for rule in RULES)


def test_the_same_seed_gives_the_same_cases_and_another_seed_other_valid_cases() -> None:
    for rule in RULES:
        first = [generate.case_json(rule, c) for c in rule.generate(SEED, SMALL)]
        again = [generate.case_json(rule, c) for c in rule.generate(SEED, SMALL)]
        assert canonical(first) == canonical(again), rule.id
    # The drawn cases depend on the seed (the boundaries do not).
    for rule in RULES:
        valid = [c.inputs for c in rule.generate(1, SMALL) if c.name.startswith("valid")]
        other = [c.inputs for c in rule.generate(2, SMALL) if c.name.startswith("valid")]
        assert valid and valid != other, rule.id


def test_generated_files_validate_and_each_case_counts_valid_and_bad_inputs(
    generated: dict[str, list[dict[str, Any]]],
) -> None:
    for rule in RULES:
        cases = generated[rule.id]
        verdicts = {c["expected"]["verdict"] for c in cases}
        names = [c["name"] for c in cases]
        assert any(n.startswith("valid-") for n in names), rule.id
        assert any(n.startswith("boundary-") for n in names), rule.id
        if rule.id in REFUSING:
            assert verdicts == {"ok", "error"}, rule.id  # a decoder or check is shown refusing too


# Expected verdicts, recomputed from the JSON inputs with the reference alone (not the families' code).
def _params(value: Mapping[str, Any]) -> RetargetParams:
    return RetargetParams(**value)


def _hex(value: str) -> bytes:
    return from_hex(value)


def _check(i: Mapping[str, Any]) -> dict[str, Any]:
    ref_auxpow.check(
        auxpow_family.decode_auxpow(_hex(i["auxpow"])),
        _hex(i["aux_hash"]),
        i["chain_id"],
        i["layout"],
        i["root_order"],
    )
    return {}


def _check_pow(i: Mapping[str, Any]) -> dict[str, Any]:
    ref_auxpow.check_pow(*auxpow_family.pow_objects(i))
    return {}


def _tx(i: Mapping[str, Any]) -> dict[str, Any]:
    tx = ref_bitcoin.Transaction.from_bytes(_hex(i["transaction"]))
    return {"txid": "0x" + tx.txid.hex(), "encoding": "0x" + tx.to_bytes().hex()}


def _header(i: Mapping[str, Any]) -> dict[str, Any]:
    h = ref_bitcoin.BlockHeader.from_bytes(_hex(i["header"]))
    return {"hash": "0x" + h.hash.hex(), "encoding": "0x" + h.to_bytes().hex()}


REFERENCE: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "bitcoin/header-decode": _header,
    "bitcoin/transaction-decode": _tx,
    "bitcoin/auxpow-decode": lambda i: {
        "encoding": "0x" + ref_auxpow.AuxPow.from_bytes(_hex(i["auxpow"])).to_bytes().hex()
    },
    "bitcoin/merkle-root": lambda i: {
        "root": "0x" + ref_bitcoin.merkle_root([_hex(t) for t in i["txids"]]).hex()
    },
    "auxpow/target-from-compact": lambda i: {"target": ref_auxpow.target_from_compact(i["bits"])},
    "auxpow/compact-from-target": lambda i: {
        "bits": ref_auxpow.compact_from_target(from_json_int(i["target"]))
    },
    "auxpow/hash-meets-target": lambda i: {"meets": ref_auxpow.hash_meets_target(_hex(i["hash"]), i["bits"])},
    "auxpow/check-proof-of-work": lambda i: {
        "meets": ref_auxpow.check_proof_of_work(
            ref_bitcoin.BlockHeader.from_bytes(_hex(i["header"])), i["bits"]
        )
    },
    "auxpow/expected-index": lambda i: {
        "index": ref_auxpow.expected_index(i["nonce"], i["chain_id"], i["h"])
    },
    "auxpow/check": _check,
    "auxpow/check-pow": _check_pow,
    "auxpow/aggregate-hash": lambda i: {
        "hash": "0x" + ref_auxpow.aggregate_hash([_hex(h) for h in i["block_hashes"]]).hex()
    },
    "retarget/calculate-next-work-required": lambda i: {
        "bits": ref_retarget.calculate_next_work_required(i["diff"], i["last_bits"], _params(i["params"]))
    },
    "retarget/get-next-work-required": lambda i: {
        "bits": ref_retarget.get_next_work_required(
            i["last_pow_height"], i["last_bits"], _params(i["params"]), i["head_height"]
        )
    },
}


def test_every_expected_verdict_is_the_references(generated: dict[str, list[dict[str, Any]]]) -> None:
    assert set(REFERENCE) == {rule.id for rule in RULES}
    for rule_id, cases in generated.items():
        for case in cases:
            try:
                outputs = REFERENCE[rule_id](case["inputs"])
            except Exception as err:  # noqa: BLE001 - the class name is the verdict
                got = {"verdict": "error", "error": type(err).__name__}
            else:
                big = {
                    k: (str(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 1 << 53 else v)
                    for k, v in outputs.items()
                }
                got = {"verdict": "ok", "outputs": big}
            assert canonical(got) == canonical(case["expected"]), f"{rule_id} :: {case['name']}"


def test_one_case_per_catalogue_entry_with_the_catalogues_error_and_origin(
    generated: dict[str, list[dict[str, Any]]],
) -> None:
    check = {c["name"]: c for c in generated["auxpow/check"]}
    check_pow = {c["name"]: c for c in generated["auxpow/check-pow"]}
    for corruption in CATALOGUE:
        name = bitcoin_family.slug(corruption.name)
        kinds = {o.kind for o in corruption.origins}
        if corruption.level == "structure":
            for layout in corruption.layouts:
                case = check[f"corruption-{name}-{layout}"]
                assert case["expected"] == {"verdict": "error", "error": corruption.expected}, case["name"]
                assert case["origin"] in {auxpow_family._ORIGIN_OF_KIND[k] for k in kinds}
        if "output-script" in corruption.layouts:
            case = check_pow[f"corruption-{name}"]
            assert case["expected"] == {"verdict": "error", "error": corruption.expected}, case["name"]


def test_every_quirk_of_the_area_has_its_regression_vector(
    generated: dict[str, list[dict[str, Any]]],
) -> None:
    assert set(AREA_QUIRKS) == {
        "auxpow-any-tx-commitment",
        "auxpow-check-pow-aborts",
        "auxpow-header-fields-unchecked",
        "retarget-caps-low-ratio",
        "retarget-ratio-one-truncates",
        "retarget-zero-bits",
    }
    found = {
        c["name"].removeprefix("quirk-"): c
        for cases in generated.values()
        for c in cases
        if c["name"].startswith("quirk-")
    }
    assert set(found) == set(AREA_QUIRKS)
    for quirk, case in found.items():
        assert quirk in case["quirks"], quirk


def test_every_vector_passes_on_alys_fixed(generated: dict[str, list[dict[str, Any]]]) -> None:
    assert _failing(targets.load("alys-fixed"), generated) == set()


def test_on_alys_exactly_the_quirk_tagged_vectors_fail(generated: dict[str, list[dict[str, Any]]]) -> None:
    alys = targets.load("alys")
    assert _failing(alys, generated) == _tagged(generated, set(alys.quirks))


@pytest.mark.parametrize("quirk", AREA_QUIRKS)
def test_each_quirks_carrier_fails_exactly_the_vectors_tagged_with_it(
    quirk: str, generated: dict[str, list[dict[str, Any]]]
) -> None:
    carried = {quirk, *deviations.get(quirk).requires}
    target = targets.load("alys-fixed+" + "+".join(sorted(carried)))
    failing = _failing(target, generated)
    assert failing == _tagged(generated, carried)
    assert failing & _tagged(generated, {quirk}), f"no vector shows {quirk}"


def test_every_seeded_mutant_of_the_area_fails_a_vector(generated: dict[str, list[dict[str, Any]]]) -> None:
    # Whatever the seed: the boundary, catalogue and quirk cases alone (not the drawn ones) catch each.
    fixed = {
        rule_id: [c for c in cases if not c["name"].startswith(("valid-", "malformed-"))]
        for rule_id, cases in generated.items()
    }
    assert set(UNREACHABLE) <= set(AREA_MUTANTS)
    survivors = []
    for mutant in AREA_MUTANTS:
        if mutant in UNREACHABLE:
            assert UNREACHABLE[mutant].strip()
            continue
        if not _failing(targets.load(f"alys-fixed+{mutant}"), fixed):
            survivors.append(mutant)
    assert survivors == [], f"mutants no Bitcoin/AuxPoW/retarget boundary vector catches: {survivors}"


def test_the_family_tests_fail_when_an_expected_verdict_is_wrong(
    generated: dict[str, list[dict[str, Any]]],
) -> None:
    # The replay check can fail: flip one expected output and the fixed port disagrees with it.
    rule = next(r for r in RULES if r.id == "auxpow/expected-index")
    case = json.loads(json.dumps(generated[rule.id][0]))
    case["expected"]["outputs"]["index"] += 1
    assert runner.judge(rule, targets.load("alys-fixed"), case) is not None
