"""Target selection, the target interface, and quirks held as strict expected failures (issue 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import alys
from alys_pbt import deviations, targets
from alys_pbt.interface import COMPONENTS, TargetError, required_methods
from alys_pbt.project import copy_project
from tests.support import inner_pytest, run_pytest

pytest_plugins = ["pytester"]

ZERO_BITS_PROPERTY = "properties/test_retarget.py::test_retarget_never_yields_zero_target"


def test_builtin_targets_carry_all_or_no_quirks() -> None:
    assert targets.load("alys").quirks == deviations.QUIRK_IDS
    assert targets.load("alys-fixed").quirks == frozenset()
    variant = targets.load("alys-fixed+auxpow-pow-strict-less+retarget-zero-bits")
    assert variant.quirks == {"retarget-zero-bits"}
    assert variant.variant.on("auxpow-pow-strict-less")


def test_the_port_and_the_registry_list_the_same_quirks() -> None:
    assert alys.QUIRKS == deviations.QUIRK_IDS


def test_the_port_and_the_registry_list_the_same_seeded_mutants() -> None:
    assert alys.SEEDED == deviations.MUTANT_IDS


@pytest.mark.parametrize(
    ("ids", "named"),
    [
        (["retarget-zero-bit"], "'retarget-zero-bit'"),
        (["retarget-zero-bits", "typo"], "'typo'"),
        (["blspy-signs-with-zero-key"], "'blspy-signs-with-zero-key'"),
        (["zz", "retarget-zero-bits", "aa"], "'aa', 'zz'"),
    ],
)
def test_the_port_refuses_to_build_a_deviation_it_has_no_code_for(ids: list[str], named: str) -> None:
    """A typo, or a library's deviation (the port has no code for it): a ValueError naming each such
    id, where the port once built alys-fixed silently (and a kill pair on it would have "survived")."""
    message = (
        f"the port carries no deviation {named} (its quirks are alys.QUIRKS, its seeded mutants alys.SEEDED)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        alys.build("alys-fixed+" + "+".join(ids), ids)


@pytest.mark.parametrize(
    "spec", ["alys", "alys-fixed", "alys-fixed+auxpow-pow-strict-less+retarget-zero-bits"]
)
def test_a_built_target_answers_to_the_spec_it_was_built_from(spec: str) -> None:
    """The name is what builds a fresh copy of a target (`targets.load(target.name)`, e.g. the sync
    memo property) and what findings print: a target built under one spec answers to it (mutation
    survivors of alys/__init__.py: `AlysTarget(None, ...)`, `self.name = None`)."""
    target = targets.load(spec)
    assert target.name == spec and repr(target) == f"<target {spec}>"
    assert targets.load(target.name).quirks == target.quirks
    built = alys.build("a-name", ["retarget-zero-bits"])
    assert (built.name, repr(built), built.quirks) == ("a-name", "<target a-name>", {"retarget-zero-bits"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("alys-broken", "unknown target 'alys-broken': expected one of alys, alys-fixed"),
        ("alys-fixed+no-such-bug", "names unknown deviations ['no-such-bug']"),
        ("no_such_module:target", "cannot import 'no_such_module'"),
        ("tests.fixtures.foreign_targets:nothing", "has no 'nothing'"),
        # issue 14, item 10: each of these ended in an untyped exception (an INTERNALERROR)
        (":obj", "target ':obj': expected package.module:object, with one ':' and both parts"),
        ("tests.fixtures.foreign_targets:", "expected package.module:object"),
        ("a:b:c", "expected package.module:object"),
        ("os:system", "target 'os:system' is not a target: <built-in function system> needs arguments"),
        ("os.path:sep", "target 'os.path:sep' is not a target: '/' has none of auxpow, chain"),
        (
            "tests.fixtures.foreign_targets:exploding",
            "the factory 'exploding' raised RuntimeError: cannot reach the node's RPC at 127.0.0.1:8545",
        ),
        ("", "unknown target '': expected one of alys, alys-fixed"),
        ("%$ garbage", "unknown target '%$ garbage'"),
    ],
)
def test_bad_targets_are_refused_with_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        targets.load(spec)


@pytest.mark.parametrize("spec", [":obj", "os:system", "tests.fixtures.foreign_targets:exploding"])
def test_a_malformed_target_is_one_line_at_start_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = inner_pytest(pytester, monkeypatch, "--target", spec)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.errlines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"ERROR: target {spec!r}"), result.errlines
    everything = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in everything and "Traceback" not in everything


def test_an_incomplete_target_names_every_missing_method() -> None:
    with pytest.raises(TargetError) as err:
        targets.load("tests.fixtures.foreign_targets:bare")
    for component, protocol in COMPONENTS.items():
        for method in required_methods(protocol):
            assert f"{component}.{method}" in str(err.value)


def test_a_target_may_offer_any_subset_of_the_components() -> None:
    """issue 12, item 1: a target with `auxpow` alone loads; what it lacks is known, not refused."""
    target = targets.prepare(targets.load("tests.fixtures.foreign_targets:partial"))
    assert target.coverage.offered == ("auxpow",)
    assert target.coverage.absent_components == ("chain", "approvals", "actors", "sync", "governance")
    assert target.coverage.lacks("chain.node") == "chain (the whole component)"
    assert target.coverage.lacks("auxpow.check") is None


def test_a_foreign_target_is_loaded_from_a_factory_or_an_object() -> None:
    assert targets.load("tests.fixtures.foreign_targets:liar").name == "liar"
    assert targets.load("tests.fixtures.foreign_targets:honest_alys").quirks == alys.QUIRKS


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("targets") / "p")


def test_unknown_target_on_the_command_line_is_a_usage_error(project: Path) -> None:
    result = run_pytest(project, ZERO_BITS_PROPERTY, "--target", "alys-nightly")
    assert result.returncode == 4
    assert "unknown target 'alys-nightly'" in result.stderr


def test_a_quirk_held_as_strict_xfail_is_green_while_the_target_carries_it(
    project: Path, tmp_path: Path
) -> None:
    report = tmp_path / "findings.md"
    result = run_pytest(
        project,
        ZERO_BITS_PROPERTY,
        "--target",
        "tests.fixtures.foreign_targets:honest_alys",
        "--findings",
        str(report),
    )
    assert result.returncode == 0, result.stdout
    assert "1 xfailed" in result.stdout
    assert "caught  retarget-zero-bits" in result.stdout
    text = report.read_text()
    assert "## `retarget-zero-bits`: caught" in text
    assert "Falsifying example" in text or "Failing test case" in text


def test_the_run_turns_red_when_the_quirk_is_switched_off(project: Path, tmp_path: Path) -> None:
    report = tmp_path / "findings.md"
    result = run_pytest(
        project,
        ZERO_BITS_PROPERTY,
        "--target",
        "tests.fixtures.foreign_targets:liar",
        "--findings",
        str(report),
    )
    assert result.returncode == 1, result.stdout
    assert "XPASS(strict)" in result.stdout
    assert "NOT caught  retarget-zero-bits" in result.stdout
    assert "## `retarget-zero-bits`: NOT caught" in report.read_text()


def test_alys_env_variable_selects_the_target(project: Path) -> None:
    result = run_pytest(project, ZERO_BITS_PROPERTY, ALYS_TARGET="alys-fixed")
    assert result.returncode == 0 and "1 passed" in result.stdout
