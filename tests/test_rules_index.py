"""docs/rules.md, the index of the suite's rules, is generated and current (issue 18, item 4).

From the README one hop reaches docs/rules.md, and from there one hop any rule's reference, port
code, strategies, properties and machines; its invalid cases and deviations are listed in place."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from alys_pbt import rules
from alys_pbt.killing import discover
from tests.support import ROOT

CASES = discover()


def section(text: str, rule_id: str) -> str:
    return text.split(f"\n## {rule_id}\n", 1)[1].split("\n## ", 1)[0]


def test_docs_rules_md_is_current() -> None:
    said: list[str] = []
    assert rules.main(["--check"], write=said.append) == 0, (
        f"{said}: docs/rules.md is stale; run python -m alys_pbt.rules"
    )


def test_the_check_fails_on_a_stale_index_and_names_the_command(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text(rules.render().replace("## auxpow/check\n", "## auxpow/check-that-was\n"))
    said: list[str] = []
    assert rules.main(["--check", "--out", str(stale)], write=said.append) == 1
    assert said == [f"{stale} is stale: run python -m alys_pbt.rules"]
    assert rules.main(["--out", str(stale)], write=said.append) == 0
    assert rules.main(["--check", "--out", str(stale)], write=said.append) == 0


def test_every_property_belongs_to_exactly_one_rule() -> None:
    listed = Counter(p for rule in rules.RULES for p in rule.properties)
    assert [p for p, n in listed.items() if n > 1] == []
    functions = {c.function for c in CASES}
    assert sorted(functions - set(listed)) == [], "properties in no rule"
    assert sorted(set(listed) - functions) == [], "rules name properties that do not exist"


def test_the_readme_links_the_index_and_the_index_links_every_rule_s_code() -> None:
    assert "(docs/rules.md)" in (ROOT / "README.md").read_text()
    text = rules.DOC.read_text()
    for rule in rules.RULES:
        part = section(text, rule.id)
        for obj in (*rule.reference, *rule.port, *rule.strategies):
            path, name = rules.where(obj)
            assert f"[`{path}`](../{path}) `{name}`" in part, (rule.id, path, name)
            assert (ROOT / path).exists()
        for nodeid in rule.properties:
            path, name = nodeid.split("::", 1)
            assert f"[`{path}`](../{path}) `{name}`" in part


def test_a_rule_lists_its_invalid_cases_machine_invariants_and_deviations() -> None:
    text = rules.render()
    chain = section(text, "chain/process-block")
    assert "`wrong-slot-author` → `WrongSlotAuthor`" in chain
    assert "let through by `chain-slot-author-unchecked`" in chain
    assert "`ChainMachine`, invariants: " in chain and "`a_finalized_block_is_never_undone`" in chain
    assert "`chain-rollback-undoes-finalization` (quirk)" in chain  # by its explicit break of TestChain
    assert "`chain-accepts-unknown-parent` (mutant)" in chain  # declared with @kills
    check_pow = section(text, "auxpow/check-pow")
    assert "let through by `auxpow-header-fields-unchecked`" in check_pow
    assert "`auxpow-check-pow-aborts` (through check_pow)" in check_pow
    assert "`chain-wire-form-lenient` (quirk)" in section(text, "chain/block-wire-form")
    assert "`blspy-signs-with-zero-key` (library)" in section(text, "approvals/bls")
