"""Every property fails on the seeded bugs it declares, and every quirk is caught (issue 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from alys_pbt import deviations
from alys_pbt.killing import (
    MutantSurvived,
    NotTheRegisteredFailure,
    Pair,
    assert_killed,
    declared_pairs,
    discover,
)
from tests.support import ROOT

CASES = discover()
PAIRS = declared_pairs(CASES)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.label)
def test_declared_deviation_is_killed_within_the_ci_budget(pair: Pair) -> None:
    outcome = assert_killed(pair)
    assert outcome.examples >= 1


def test_every_property_declares_a_seeded_bug_or_quirk_it_fails_on() -> None:
    covered = {p.function for p in PAIRS}
    bare = sorted({c.function for c in CASES} - covered)
    assert not bare, f"properties that no seeded bug or quirk has ever failed: {bare}"


def test_every_mutant_is_declared_by_some_property() -> None:
    declared = {p.deviation for p in PAIRS}
    assert deviations.MUTANT_IDS <= declared, sorted(deviations.MUTANT_IDS - declared)


def test_every_quirk_pattern_names_an_existing_property() -> None:
    import fnmatch

    nodeids = [c.nodeid for c in CASES]
    for quirk in deviations.QUIRKS:
        for pattern in (*quirk.breaks, *(p for p, _ in quirk.jointly)):
            assert any(fnmatch.fnmatchcase(n, pattern) for n in nodeids), f"{quirk.id}: stale pattern {pattern}"


def test_a_mutant_that_survives_fails_the_kill_matrix() -> None:
    weak = declared_pairs(discover(ROOT / "tests" / "fixtures" / "weak"))
    (pair,) = (p for p in weak if p.deviation == "auxpow-pow-strict-less")
    with pytest.raises(MutantSurvived, match="survived .*test_zero_hash_meets_an_easy_target"):
        assert_killed(pair)


def test_a_property_that_fails_by_another_exception_does_not_kill_its_mutant() -> None:
    """Issue 14: a mutant is killed only by the property's own failure, not by any exception."""
    stray = declared_pairs(discover(ROOT / "tests" / "fixtures" / "stray", pattern="stray_*.py"))
    (pair,) = (p for p in stray if p.deviation == "auxpow-pow-strict-less")
    expected = "it raised ConnectionError: Error 111 .*not the registered failure"
    with pytest.raises(NotTheRegisteredFailure, match=expected):
        assert_killed(pair)


def test_a_failure_the_registry_names_is_a_kill_by_its_class_name() -> None:
    stray = declared_pairs(discover(ROOT / "tests" / "fixtures" / "stray", pattern="stray_*.py"))
    (pair,) = (p for p in stray if p.deviation == "auxpow-branch-limit-off-by-one")
    assert "AuxPowError" in pair.fails_with
    assert assert_killed(pair).killed


def test_the_matrix_command_prints_one_row_per_pair() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alys_pbt.killmatrix", "--seeds", "2", "--only", "aggregate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("auxpow-aggregate-single-unhashed"))
    assert "test_aggregate_hash_matches_reference" in row and " 2/2 " in row
