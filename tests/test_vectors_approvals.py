"""The BLS, approvals, actors and sync families of the conformance vectors (issue 13).

Each rule generates deterministically and validates against its schemas; the expected verdicts are
held to the references by statements written apart from the generators (the draft's verdict per edge
family, the node's threshold table, the range server's formula, py_ecc on a few pinned vectors);
replay passes on `alys-fixed` for every case, fails on `alys` exactly on the quirk-tagged cases;
every quirk of the area has its `quirk-<id>` regression vector (or is listed, with why, in
UNREACHABLE_QUIRKS); every seeded mutant of the area fails a vector, or is listed in UNREACHABLE,
and then no vector catches it (the list stays honest).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pytest

import alys
from alys_pbt import deviations
from alys_pbt.interface import Target
from alys_pbt.models import bls as bls_models
from alys_pbt.models.sync import expected_checkpoints
from alys_pbt.vectors.format import canonical
from alys_pbt.vectors.generate import rule_files
from alys_pbt.vectors.rule import Case, Rule, from_hex
from alys_pbt.vectors.validation import validate_file
from properties.test_approvals import THRESHOLDS
from properties.test_bls import DRAFT_VERDICTS

FAMILIES: dict[str, ModuleType] = {
    name: importlib.import_module(f"alys_pbt.vectors.families.{name}")
    for name in ("bls", "approvals", "actors", "sync")
}
RULES: dict[str, Rule] = {rule.id: rule for module in FAMILIES.values() for rule in module.RULES}
SEED, SMALL = 0, 2
# The quirks and seeded mutants of this area (alys_pbt/deviations.py).
AREA_QUIRKS = [
    q for q in deviations.QUIRKS if q.id.startswith(("approvals-", "federation-", "actors-", "sync-"))
]
AREA_MUTANTS = [
    m
    for m in deviations.MUTANTS
    if m.component in ("approvals", "actors", "sync") or m.id.startswith(("bls-", "store-"))
]
UNREACHABLE = {m: why for module in FAMILIES.values() for m, why in module.UNREACHABLE.items()}
UNREACHABLE_QUIRKS = {
    q: why for module in FAMILIES.values() for q, why in getattr(module, "UNREACHABLE_QUIRKS", {}).items()
}


@pytest.fixture(scope="module")
def cases() -> dict[str, list[Case]]:
    return {rule_id: rule.generate(SEED, SMALL) for rule_id, rule in RULES.items()}


def by_name(cases: dict[str, list[Case]], rule_id: str) -> dict[str, Case]:
    return {c.name: c for c in cases[rule_id]}


def answer(target: Target, rule: Rule, case: Case) -> dict[str, Any]:
    """The target's verdict on a case, as the format writes an expected one."""
    assert rule.replay is not None
    try:
        outputs = rule.replay(target, case.inputs)
    except Exception as err:  # noqa: BLE001 - the class name is the verdict
        return {"verdict": "error", "error": type(err).__name__}
    return {"verdict": "ok", "outputs": json.loads(canonical(outputs))}


def expected(case: Case) -> dict[str, Any]:
    return json.loads(canonical(case.expected.to_json()))


def failing(target: Target, cases: dict[str, list[Case]], *, first: bool = False) -> list[str]:
    """`rule :: case` of every replayed case the target answers wrongly (with `first`, the first)."""
    out = []
    for rule_id, rule_cases in cases.items():
        rule = RULES[rule_id]
        if rule.replay is None:
            continue
        for case in rule_cases:
            if answer(target, rule, case) != expected(case):
                out.append(f"{rule_id} :: {case.name}")
                if first:
                    return out
    return out


# --- generation and format --------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_generates_the_same_files_from_the_same_seed_and_they_validate(rule_id: str) -> None:
    rule = RULES[rule_id]
    first, again = rule_files(rule, SEED, SMALL), rule_files(rule, SEED, SMALL)
    assert canonical(first) == canonical(again), f"{rule_id} is not deterministic"
    for path, document in first:
        validate_file(document, rule, path)  # SchemaError names the case and the field
    names = [c["name"] for _, d in first for c in d["cases"]]
    assert len(names) == len(set(names)) > 0
    assert any(n.startswith("valid-") for n in names), f"{rule_id} has no drawn valid case"


def test_another_seed_draws_other_valid_cases() -> None:
    rule = RULES["approvals/majority-approved"]
    one, two = (
        canonical([c.inputs for c in rule.generate(s, SMALL) if c.name.startswith("valid-")]) for s in (0, 1)
    )
    assert one != two


# --- the expected verdicts, held to statements written apart from the generators ------------------


def test_bls_boundary_cases_carry_the_drafts_verdict_per_edge_family(cases: dict[str, list[Case]]) -> None:
    """properties/test_bls.py DRAFT_VERDICTS, family by family, on the vectors named after them."""
    checked = 0
    for rule_id in ("bls/verify", "bls/fast-aggregate-verify", "bls/aggregate-verify", "bls/pop-verify"):
        for case in cases[rule_id]:
            family = case.name.removeprefix("boundary-")
            if family in DRAFT_VERDICTS:
                assert case.expected.outputs == {"valid": DRAFT_VERDICTS[family]}, f"{rule_id} {case.name}"
                checked += 1
    aggregate = by_name(cases, "bls/aggregate")
    single = aggregate["boundary-aggregate-single"]
    assert case_ok(single)["signature"] == single.inputs["signatures"][0]  # "the signature"
    for family in ("aggregate-empty", "aggregate-outside-subgroup"):
        assert (
            aggregate[f"boundary-{family}"].expected.error == "BlsError"
            and DRAFT_VERDICTS[family] == "raises"
        )
    assert by_name(cases, "bls/sk-to-pk")["boundary-zero-secret-key"].expected.error == "BlsError"
    assert by_name(cases, "bls/sign")["boundary-zero-secret-key"].expected.error == "BlsError"
    assert checked >= 12, f"only {checked} cases named after a draft family"


def case_ok(case: Case) -> Mapping[str, Any]:
    assert case.expected.verdict == "ok", f"{case.name}: {case.expected}"
    return case.expected.outputs


def test_every_bad_encoding_is_invalid_and_every_valid_case_verifies(cases: dict[str, list[Case]]) -> None:
    """An edge encoding never verifies (the draft: signature_to_point / KeyValidate is INVALID), except
    a flipped sign bit, which encodes another valid key; a drawn valid case always verifies."""
    for rule_id in (
        "bls/verify",
        "bls/fast-aggregate-verify",
        "bls/aggregate-verify",
        "bls/pop-verify",
        "bls/key-validate",
    ):
        for case in cases[rule_id]:
            if case.name.startswith("corruption-"):
                valid = case.name.endswith("sign-flag-flipped") and rule_id == "bls/key-validate"
                assert case.expected.outputs == {"valid": valid}, f"{rule_id} {case.name}"
            if case.name.startswith("valid-") and case.name.count("-") == 1:
                assert case.expected.outputs == {"valid": True}, f"{rule_id} {case.name}"
    for case in cases["bls/fast-aggregate-verify-again"]:
        assert case_ok(case)["valid"][0::4] == [True] * 6, "each triple asked first is valid"


def test_bls_reference_agrees_with_py_ecc_on_pinned_vectors(cases: dict[str, list[Case]]) -> None:
    """py_ecc (the readable reference, ~0.5 s a verification) on a handful of vectors."""
    reference = bls_models.backend("py_ecc")
    sign = by_name(cases, "bls/sign")["boundary-one"]
    assert reference.Sign(1, from_hex(sign.inputs["message"])).hex() == case_ok(sign)["signature"][2:]
    pk = by_name(cases, "bls/sk-to-pk")["boundary-r-minus-one"]
    assert reference.SkToPk(bls_models.R - 1).hex() == case_ok(pk)["pk"][2:]
    for rule_id, name, op in (
        ("bls/verify", "boundary-verify-valid", "Verify"),
        ("bls/verify", "boundary-signature-under-the-basic-dst", "Verify"),
        ("bls/fast-aggregate-verify", "boundary-fast-aggregate-keys-sum-to-identity", "FastAggregateVerify"),
    ):
        case = by_name(cases, rule_id)[name]
        args = (
            [from_hex(p) for p in case.inputs["pks"]]
            if "pks" in case.inputs
            else from_hex(case.inputs["pk"]),
            from_hex(case.inputs["message"]),
            from_hex(case.inputs["signature"]),
        )
        assert getattr(reference, op)(*args) == case_ok(case)["valid"], f"{rule_id} {name}"


def test_approvals_follow_the_nodes_threshold_table(cases: dict[str, list[Case]]) -> None:
    for size, need in THRESHOLDS.items():
        assert by_name(cases, "approvals/required-approvals")[f"boundary-n-{size}"].expected.outputs == {
            "required": need
        }
    majority = by_name(cases, "approvals/majority-approved")
    seen = 0
    for size, need in THRESHOLDS.items():
        for count in (need - 1, need, need + 1):
            case = majority.get(f"boundary-n-{size}-signers-{count}")
            if 0 <= count <= size:
                assert case is not None and case.expected.outputs == {"approved": count >= need}, (
                    f"{size}/{count}"
                )
                seen += 1
        if size < 15:
            assert majority[f"boundary-n-{size}-bit-at-n"].expected.error == "UnknownAuthority"
    assert seen >= 40
    assert majority["boundary-n-16"].expected.error == "TooManyAuthorities"
    individual = by_name(cases, "approvals/check-individual")
    for index in (3, 4, 14, 15, 255):
        want = "ok" if index == 3 else "error"
        assert individual[f"boundary-index-{index}-of-4"].expected.verdict == want


def test_range_server_vectors_follow_the_formula(cases: dict[str, list[Case]]) -> None:
    """properties/test_sync.py's rule: blocks start .. min(start + min(count, 1024) - 1, head)."""
    for case in cases["sync/serve"]:
        blocks, start, count = case.inputs["blocks"], case.inputs["start"], case.inputs["count"]
        head = len(blocks) - 1
        assert case_ok(case)["blocks"] == blocks[start : min(start + min(count, 1024) - 1, head) + 1], (
            case.name
        )
    serve = by_name(cases, "sync/serve")
    assert len(case_ok(serve["boundary-count-1025-from-genesis"])["blocks"]) == 1024
    assert len(case_ok(serve["boundary-count-1024-from-1"])["blocks"]) == 1024
    assert case_ok(serve["boundary-count-0"])["blocks"] == []


def test_store_vectors_keep_the_newest_checkpoints(cases: dict[str, list[Case]]) -> None:
    for case in cases["sync/store"]:
        last = case_ok(case)["steps"][-1]
        top = max(last["stored"], default=0)
        assert last["checkpoints"] == expected_checkpoints(
            top, case.inputs["interval"], case.inputs["retention"]
        )
        assert all(last["verified"])
    refused = by_name(cases, "sync/store")["corruption-io-error-on-the-checkpoint-write"]
    step = case_ok(refused)["steps"][2]
    assert step["result"] == "StoreError" and step["stored"] == [1] and step["checkpoints"] == []


# --- replay -----------------------------------------------------------------------------------------


def test_every_case_passes_on_alys_fixed(cases: dict[str, list[Case]]) -> None:
    failures = failing(alys.build("alys-fixed"), cases)
    assert failures == [], f"{len(failures)} cases fail on alys-fixed, e.g. {failures[:5]}"


def test_on_alys_exactly_the_quirk_tagged_cases_fail(cases: dict[str, list[Case]]) -> None:
    target = alys.build("alys", alys.QUIRKS)
    tagged = {f"{r} :: {c.name}" for r, cs in cases.items() if RULES[r].replay for c in cs if c.quirks}
    failures = set(failing(target, cases))
    assert failures - tagged == set(), f"untagged cases fail on alys: {sorted(failures - tagged)[:5]}"
    assert tagged - failures == set(), f"tagged cases pass on alys: {sorted(tagged - failures)[:5]}"


@pytest.mark.parametrize("quirk", [q.id for q in AREA_QUIRKS])
def test_each_quirk_has_its_regression_vector_failing_only_with_that_quirk(
    quirk: str, cases: dict[str, list[Case]]
) -> None:
    """`quirk-<id>`, tagged with it, expecting the secure verdict: it fails on `alys-fixed+<id>` and
    passes on `alys-fixed`; or the quirk is listed in a family's UNREACHABLE_QUIRKS with why."""
    found = [(r, c) for r, cs in cases.items() for c in cs if c.name == f"quirk-{quirk}"]
    if quirk in UNREACHABLE_QUIRKS:
        assert not found and UNREACHABLE_QUIRKS[quirk].strip()
        return
    assert found, f"no quirk-{quirk} vector and no UNREACHABLE_QUIRKS entry"
    requires = deviations.get(quirk).requires
    carrier = alys.build(f"alys-fixed+{quirk}", [quirk, *requires])
    for rule_id, case in found:
        assert quirk in case.quirks
        assert answer(carrier, RULES[rule_id], case) != expected(case), (
            f"{rule_id} quirk-{quirk} passes on its carrier"
        )
        assert answer(alys.build("alys-fixed"), RULES[rule_id], case) == expected(case)


def test_unreachable_lists_name_deviations_of_the_area_with_a_reason() -> None:
    area = {m.id for m in AREA_MUTANTS}
    assert set(UNREACHABLE) <= area and all(why.strip() for why in UNREACHABLE.values())
    assert set(UNREACHABLE_QUIRKS) <= {q.id for q in AREA_QUIRKS} and all(
        w.strip() for w in UNREACHABLE_QUIRKS.values()
    )


@pytest.mark.parametrize("mutant", [m.id for m in AREA_MUTANTS])
def test_each_mutant_fails_a_vector_or_is_unreachable(mutant: str, cases: dict[str, list[Case]]) -> None:
    """The kill matrix, for this area's vectors; an UNREACHABLE mutant must indeed survive them all."""
    target = alys.build(f"alys-fixed+{mutant}", [mutant])
    if mutant in UNREACHABLE:
        survived = failing(target, cases)
        assert survived == [], (
            f"{mutant} is listed UNREACHABLE, yet {survived[0]} catches it: drop it from the list"
        )
        return
    assert failing(target, cases, first=True), f"no vector of the area fails on alys-fixed+{mutant}"
