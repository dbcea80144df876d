"""Conformance vectors (issue 13): what CI checks of the generator, the schemas and the runner.

A small set (SMALL cases per rule) of every real family is generated once per worker; it must be
byte-identical when generated again, validate against the JSON Schemas, pass on `alys-fixed`, fail
on `alys` exactly on its quirk-tagged cases, and fail on every seeded mutant that no family lists as
UNREACHABLE. The toy family in tests/fixtures/vectors_families pins down the machinery itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from jsonschema import Draft202012Validator, ValidationError

import alys
from alys_pbt import deviations, targets
from alys_pbt.interface import Target
from alys_pbt.vectors import docs, generate, runner
from alys_pbt.vectors.__main__ import main
from alys_pbt.vectors.discovery import Family, discover, family_of
from alys_pbt.vectors.format import (
    MANIFEST,
    BoundsError,
    FamilyError,
    IntegrityError,
    RuleError,
    SchemaError,
    dumps,
)
from alys_pbt.vectors.rule import Case, Expected, Rule
from alys_pbt.vectors.validation import MANIFEST_SCHEMA, file_schema, load_schema
from tests.support import ROOT, clean_env

SMALL = 2  # cases per rule of the CI set
TOY = "tests.fixtures.vectors_families"


def _write(files: dict[str, bytes], out: Path) -> Path:
    generate.write(files, out)
    return out


@pytest.fixture(scope="session")
def families() -> list[Family]:
    return discover()


@pytest.fixture(scope="session")
def small_set(
    families: list[Family], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, bytes]]:
    files = generate.build(families, seed=generate.DEFAULT_SEED, cases_per_rule=SMALL)
    return _write(files, tmp_path_factory.mktemp("vectors") / "small"), files


@pytest.fixture(scope="session")
def loaded(small_set: tuple[Path, dict[str, bytes]], families: list[Family]) -> runner.VectorSet:
    return runner.load(small_set[0], families)


@pytest.fixture
def toy_set(tmp_path: Path) -> Path:
    return _write(generate.build(discover(TOY), cases_per_rule=SMALL), tmp_path / "toy")


# -- generation ------------------------------------------------------------------------------------


def test_every_family_is_discovered_and_has_rules(families: list[Family]) -> None:
    names = [f.name for f in families]
    print("families:", ", ".join(f"{f.name} ({len(f.rules)} rules)" for f in families))
    assert names, "no rule family under alys_pbt/vectors/families"
    assert all(f.rules for f in families), [f.name for f in families if not f.rules]


def test_the_same_seed_gives_byte_identical_files(
    small_set: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    """Generated again by the command, in another process with another hash seed and no profile."""
    directory, files = small_set
    again = tmp_path / "again"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "alys_pbt.vectors",
            "generate",
            "--out",
            str(again),
            "--cases-per-rule",
            str(SMALL),
        ],
        cwd=ROOT,
        env=clean_env(PYTHONHASHSEED="12345"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first = {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }
    second = {str(p.relative_to(again)): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()}
    assert first.keys() == second.keys() == files.keys()
    differing = sorted(path for path in first if first[path] != second[path])
    assert not differing, f"files that differ between two generations: {differing[:5]}"
    assert all(data.endswith(b"\n") and data.isascii() for data in first.values())


def test_a_selection_writes_the_same_files_as_the_full_set(
    small_set: tuple[Path, dict[str, bytes]], families: list[Family]
) -> None:
    _, files = small_set
    rule = families[0].rules[0]
    part = generate.build(families, seed=generate.DEFAULT_SEED, cases_per_rule=SMALL, only=rule.id)
    assert {p for p in part if p != MANIFEST} == {p for p in files if p.startswith(rule.id)}
    assert all(files[p] == data for p, data in part.items() if p != MANIFEST)


def test_the_manifest_lists_every_file_with_its_hash(small_set: tuple[Path, dict[str, bytes]]) -> None:
    _, files = small_set
    manifest = json.loads(files[MANIFEST])
    listed = {e["path"]: e for r in manifest["rules"] for e in r["files"]}
    assert set(listed) == set(files) - {MANIFEST}
    assert manifest["file_count"] == len(listed) and manifest["byte_count"] == sum(
        e["bytes"] for e in listed.values()
    )
    assert manifest["cases_per_rule"] == SMALL and manifest["seed"] == generate.DEFAULT_SEED
    assert manifest["generator"]["hypothesis"]
    for rule in manifest["rules"]:
        assert rule["cases"] == sum(e["cases"] for e in rule["files"])
        for entry in rule["files"]:
            assert len(json.loads(files[entry["path"]])["cases"]) == entry["cases"]


# -- schemas ---------------------------------------------------------------------------------------


def test_every_file_and_the_manifest_validate_against_the_schemas(
    small_set: tuple[Path, dict[str, bytes]], families: list[Family]
) -> None:
    directory, _ = small_set
    rules = {r.id: r for f in families for r in f.rules}
    manifest = json.loads((directory / MANIFEST).read_text())
    Draft202012Validator(load_schema(MANIFEST_SCHEMA)).validate(manifest)
    for rule in manifest["rules"]:
        validator = Draft202012Validator(file_schema(rules[rule["id"]]))
        for entry in rule["files"]:
            validator.validate(json.loads((directory / entry["path"]).read_text()))


def test_every_rule_schema_is_exact(families: list[Family]) -> None:
    """The inputs and outputs fragments close their objects and name their required fields."""
    loose = []
    for rule in (r for f in families for r in f.rules):
        for part, schema in (("inputs", rule.inputs_schema), ("outputs", rule.outputs_schema)):
            Draft202012Validator.check_schema(schema)
            closed = (
                schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False
            )
            if not (schema.get("type") == "object" and closed and "required" in schema):
                loose.append(f"{rule.id} {part}")
    assert not loose, f"schemas that are not exact (type object, closed, required): {loose}"


def test_a_broken_file_does_not_validate(toy_set: Path) -> None:
    (rule,) = (r for r in discover(TOY)[0].rules if r.id == "toy/retarget")
    document = json.loads((toy_set / "toy/retarget.json").read_text())
    exact = Draft202012Validator(file_schema(rule))
    exact.validate(document)

    def broken(change: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(document))
        change(copy)
        return copy

    wrong_type = broken(lambda d: d["cases"][0]["inputs"].update(diff="6"))
    Draft202012Validator(file_schema(None)).validate(wrong_type)  # the generic schema cannot see it ...
    with pytest.raises(ValidationError):
        exact.validate(wrong_type)  # ... the rule's merged inputs_schema does
    for change in (
        lambda d: d["cases"][0].update(extra=1),
        lambda d: d["cases"][0].pop("expected"),
        lambda d: d["cases"][0].update(expected={"verdict": "error", "error": "not a class name"}),
        lambda d: d["cases"][0].update(origin="folklore"),
        lambda d: d["cases"][0]["expected"]["outputs"].update(bits=1.5),
        lambda d: d.update(format_version=2),
        lambda d: d.update(cases=[]),
    ):
        with pytest.raises(ValidationError):
            exact.validate(broken(change))
    from alys_pbt.vectors.validation import validate_file

    with pytest.raises(SchemaError, match=r"toy/retarget\.json does not validate"):
        validate_file(wrong_type, rule, "toy/retarget.json")


def test_hex_must_be_lowercase_and_whole_bytes() -> None:
    hex_schema = load_schema("vector-file.schema.json")["$defs"]["hex"]
    Draft202012Validator(hex_schema).validate("0x00ff")
    for bad in ("0x0", "0xFF", "00ff", "0x 00"):
        with pytest.raises(ValidationError):
            Draft202012Validator(hex_schema).validate(bad)


# -- replay ----------------------------------------------------------------------------------------


def test_every_vector_passes_on_alys_fixed(loaded: runner.VectorSet) -> None:
    report = runner.replay(loaded, targets.load("alys-fixed"))
    print("\n".join(r.line() for r in report.results))
    assert report.failures == [], report.summary()
    assert report.known == []
    assert report.passed > 0


def test_on_alys_exactly_the_quirk_tagged_vectors_fail(
    loaded: runner.VectorSet, small_set: tuple[Path, dict[str, bytes]]
) -> None:
    report = runner.replay(loaded, targets.load("alys"))
    assert report.failures == [], f"untagged cases failed on alys: {[f.line() for f in report.failures[:5]]}"
    tagged_passes = [t for r in report.results for t in r.tagged_passes]
    assert tagged_passes == [], f"cases tagged with a quirk pass on alys: {tagged_passes[:5]}"
    tagged = Counter(q for f in report.known for q in f.quirks)
    missing = sorted(alys.QUIRKS - set(tagged))
    print("quirk -> failing tagged cases on alys:", dict(sorted(tagged.items())))
    print("quirks with no tagged vector:", missing or "none")
    manifest = json.loads(small_set[1][MANIFEST])
    assert set(manifest["quirks"]) == set(tagged), "a tagged case was skipped: it proves nothing"
    assert not missing, f"quirks of alys.QUIRKS with no quirk-tagged vector: {missing}"
    regressions = {
        f.case.removeprefix("quirk-") for f in report.known if f.case.removeprefix("quirk-") in f.quirks
    }
    assert regressions >= alys.QUIRKS, (
        f"quirks without a regression vector quirk-<id>: {sorted(alys.QUIRKS - regressions)}"
    )


def test_every_seeded_mutant_fails_a_vector(loaded: runner.VectorSet, families: list[Family]) -> None:
    """The kill matrix for vectors: one replay per mutant, stopping at the first failing vector."""
    unreachable = {m: (f.name, why) for f in families for m, why in f.unreachable.items()}
    rows, survivors = [], []
    for mutant in deviations.MUTANTS:
        if mutant.id in unreachable:
            family, why = unreachable[mutant.id]
            rows.append(f"{mutant.id:<44} unreachable ({family}: {why})")
            continue
        # The family the mutant's name starts with first ("evm-..." -> evm/...): its vectors catch it soonest.
        area = mutant.id.split("-", 1)[0]
        ordered = evolve(
            loaded, files=tuple(sorted(loaded.files, key=lambda f: family_of(f.rule_id) != area))
        )
        report = runner.replay(ordered, targets.load(f"alys-fixed+{mutant.id}"), stop_at_first_failure=True)
        if report.failures:
            rows.append(f"{mutant.id:<44} killed by {report.failures[0].path} :: {report.failures[0].case}")
        else:
            rows.append(f"{mutant.id:<44} SURVIVED")
            survivors.append(mutant.id)
    print("\n".join(rows))
    assert not survivors, (
        f"mutants no vector catches (add a vector, or list them in a family's UNREACHABLE): {survivors}"
    )


def test_the_runner_judges_errors_by_class_name_and_outputs_exactly() -> None:
    class WrongIndex(Exception):
        pass

    class Other(Exception):
        pass

    def rule(replay: Any) -> Rule:
        return Rule("toy/judge", "judge", "node", "nowhere", lambda s, n: [], replay)

    expects_error = {"inputs": {}, "expected": {"verdict": "error", "error": "WrongIndex"}}
    expects_ok = {"inputs": {}, "expected": {"verdict": "ok", "outputs": {"valid": True, "n": 1}}}

    def raise_(err: Exception) -> Any:
        def replay(target: Target, inputs: Any) -> Any:
            raise err

        return replay

    assert runner.judge(rule(raise_(WrongIndex("x"))), None, expects_error) is None
    assert runner.judge(rule(raise_(Other("y"))), None, expects_error) == "error Other: y"
    assert runner.judge(rule(lambda t, i: {}), None, expects_error) == "ok {}"
    assert runner.judge(rule(lambda t, i: {"n": 1, "valid": True}), None, expects_ok) is None
    assert (
        runner.judge(rule(lambda t, i: {"n": True, "valid": True}), None, expects_ok) is not None
    )  # True is not 1
    assert runner.judge(rule(lambda t, i: {"n": 1, "valid": 1}), None, expects_ok) is not None
    assert runner.judge(rule(raise_(WrongIndex())), None, expects_ok) == "error WrongIndex"


# -- the toy family: the commands, skips, quirks, bounds, tampering ----------------------------------------


def test_the_two_commands_and_their_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "set"
    assert main(["generate", "--out", str(out), "--cases-per-rule", "2", "--families", TOY]) == 0
    run = ["run", str(out), "--families", TOY, "--target"]
    assert main([*run, "alys-fixed"]) == 0
    text = capsys.readouterr().out
    assert "ok   toy/retarget " in text and "skipped:         3 (no replay: 3)" in text
    assert main([*run, "alys"]) == 0  # every failure is a quirk alys declares
    text = capsys.readouterr().out
    assert "known deviation: 3" in text and "retarget-caps-low-ratio, retarget-ratio-one-truncates" in text
    assert "failed:          0" in text
    assert main([*run, "alys", "--strict"]) == 1
    capsys.readouterr()
    assert main([*run, "alys-fixed+retarget-caps-low-ratio"]) == 0
    assert main([*run, "alys-fixed+approvals-floor-threshold"]) == 1  # a mutant declares no quirk
    text = capsys.readouterr().out
    assert "FAIL toy/required-approvals" in text and "first failure: toy/required-approvals.json :: " in text
    assert main([*run, "no-such-target"]) == 2
    assert main(["generate", "--out", str(out), "--families", TOY]) == 2  # not empty: no silent overwrite
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["generate", "--out", str(out), "--families", TOY, "--overwrite"]) == 0


def test_stateful_rules_write_one_file_per_scenario(toy_set: Path) -> None:
    scenarios = sorted(p.name for p in (toy_set / "toy" / "retarget-walk").iterdir())
    assert scenarios == ["scenario-ratio-one.json", "scenario-slow-blocks.json"]
    assert all(
        len(json.loads((toy_set / "toy/retarget-walk" / s).read_text())["cases"]) == 1 for s in scenarios
    )


def test_the_bounds_refuse_an_oversized_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toy = discover(TOY)
    with pytest.raises(BoundsError, match="exceed 1000 bytes"):
        generate.build(toy, max_bytes=1000)
    with pytest.raises(BoundsError, match="exceed 3 files"):
        generate.build(toy, max_files=3)
    out = tmp_path / "big"
    assert main(["generate", "--out", str(out), "--families", TOY, "--max-bytes", "1000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: BoundsError: ") and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing half-written
    assert generate.build(toy, max_bytes=10**6, max_files=6)  # at the bound: 5 files and the manifest


def test_tampering_is_caught_by_the_manifest(toy_set: Path, tmp_path: Path) -> None:
    toy = discover(TOY)
    runner.load(toy_set, toy)

    def tampered(change: Any) -> Path:
        copy = tmp_path / f"t{len(list(tmp_path.iterdir()))}"
        shutil.copytree(toy_set, copy)
        change(copy)
        return copy

    def flip(d: Path) -> None:
        path = d / "toy/retarget.json"
        path.write_bytes(path.read_bytes().replace(b'"diff": 6', b'"diff": 7', 1))

    def rehash(d: Path) -> None:  # the file's own hash updated, the content hash not
        flip(d)
        manifest = json.loads((d / MANIFEST).read_text())
        for rule in manifest["rules"]:
            for entry in rule["files"]:
                if entry["path"] == "toy/retarget.json":
                    import hashlib

                    entry["sha256"] = hashlib.sha256((d / entry["path"]).read_bytes()).hexdigest()
        (d / MANIFEST).write_bytes(dumps(manifest))

    for change, message in (
        (flip, "toy/retarget.json does not match its sha256"),
        (rehash, "content hash does not match"),
        (lambda d: (d / "toy/retarget.json").unlink(), "listed in manifest.json but missing"),
        (lambda d: (d / "toy/extra.json").write_text("{}"), "toy/extra.json is not listed"),
    ):
        with pytest.raises(IntegrityError, match=message):
            runner.load(tampered(change), toy)
    assert main(["run", str(tampered(flip)), "--target", "alys-fixed", "--families", TOY]) == 2


def test_a_family_that_fails_to_import_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FamilyError, match=r"family 'cracked'.*failed to import: ImportError"):
        discover("tests.fixtures.vectors_broken")
    out = tmp_path / "never"
    assert main(["generate", "--out", str(out), "--families", "tests.fixtures.vectors_broken"]) == 2
    assert "family 'cracked'" in capsys.readouterr().err and not out.exists()


def test_a_rule_that_breaks_the_format_is_refused_naming_it() -> None:
    def family(*cases: Case) -> list[Family]:
        rule = Rule("toy/bad", "bad", "node", "nowhere", lambda s, n: list(cases))
        return [Family("toy", "toy", (rule,), {})]

    ok = Expected.ok(x=1)
    for cases, message in (
        ((Case("a", {"b": b"\x00"}, ok),), "'a' inputs.b: bytes is not a JSON value.*hex_bytes"),
        ((Case("a", {"n": 1 << 60}, ok),), "does not fit 53 bits"),
        ((Case("a", {}, ok), Case("a", {}, ok)), "not unique"),
        ((Case("a b", {}, ok),), "the name must match"),
        ((Case("a", {}, ok, quirks=("no-such-quirk",)),), "not quirk ids"),
        ((Case("a", {}, Expected.raises("not a name")),), "must be a class name"),
        ((), "no cases"),
    ):
        with pytest.raises(RuleError, match=message):
            generate.build(family(*cases))


# -- docs ------------------------------------------------------------------------------------------


def test_docs_examples_are_current() -> None:
    """docs/vectors.md's one example per family is what the generator writes today."""
    text = (ROOT / docs.DOC).read_text(encoding="utf-8")
    assert docs.section(text) == docs.render(), (
        "docs/vectors.md is stale: run python -m alys_pbt.vectors docs"
    )
    for name in ("python -m alys_pbt.vectors generate", "python -m alys_pbt.vectors run", "manifest.json"):
        assert name in text


def test_cases_whose_component_the_target_lacks_are_skipped(toy_set: Path) -> None:
    full = targets.load("alys-fixed")

    class ApprovalsOnly:  # a partial implementation, replayed in-process (load() would refuse it)
        name, quirks, approvals = "approvals-only", frozenset(), full.approvals

    report = runner.replay(runner.load(toy_set, discover(TOY)), ApprovalsOnly())
    by_rule = {r.rule: r for r in report.results}
    assert by_rule["toy/required-approvals"].passed == by_rule["toy/required-approvals"].cases > 0
    assert by_rule["toy/retarget"].skip_reason == "target lacks component chain"
    assert by_rule["toy/retarget"].skipped == by_rule["toy/retarget"].cases
    assert "target lacks component chain: 8" in report.summary() and report.exit_code() == 0
