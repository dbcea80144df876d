"""Every property fails on the seeded bugs it declares, and every quirk is caught (issue 2).

The first test is the kill matrix's own items (`alys_pbt.killmatrix_plugin`), with one seed: each
declared pair is killed by its registered failure within the ci budget.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import settings

from alys_pbt import deviations
from alys_pbt.killing import (
    MutantSurvived,
    NotTheRegisteredFailure,
    assert_killed,
    declared_pairs,
    discover,
)
from alys_pbt.killmatrix_plugin import MatrixItem, check, costs, matrix
from tests.support import ROOT

CASES = discover()
PAIRS = declared_pairs(CASES)


@pytest.mark.parametrize("kill_run", matrix(PAIRS, seeds=1))
def test_declared_deviation_is_killed_within_the_ci_budget(
    kill_run: MatrixItem, record_property: Callable[[str, object], None]
) -> None:
    outcome = check(kill_run, record_property)
    assert outcome.killed and outcome.examples >= 1


def test_every_property_declares_a_seeded_bug_or_quirk_it_fails_on() -> None:
    covered = {p.function for p in PAIRS}
    bare = sorted({c.function for c in CASES} - covered)
    assert not bare, f"properties that no seeded bug or quirk has ever failed: {bare}"


def test_every_mutant_is_declared_by_some_property() -> None:
    declared = {p.deviation for p in PAIRS}
    assert declared >= deviations.MUTANT_IDS, sorted(deviations.MUTANT_IDS - declared)


def test_every_quirk_pattern_names_an_existing_property() -> None:
    import fnmatch

    nodeids = [c.nodeid for c in CASES]
    for quirk in deviations.QUIRKS:
        for pattern in (*quirk.breaks, *(p for p, _ in quirk.jointly)):
            assert any(fnmatch.fnmatchcase(n, pattern) for n in nodeids), (
                f"{quirk.id}: stale pattern {pattern}"
            )


def test_a_mutant_that_survives_fails_the_kill_matrix() -> None:
    weak = declared_pairs(discover(ROOT / "tests" / "fixtures" / "weak"))
    (pair,) = (p for p in weak if p.deviation == "auxpow-pow-strict-less")
    with pytest.raises(MutantSurvived, match=r"survived .*test_zero_hash_meets_an_easy_target"):
        assert_killed(pair)


def test_a_matrix_item_fails_when_its_mutant_survives_and_records_why() -> None:
    weak = declared_pairs(discover(ROOT / "tests" / "fixtures" / "weak"))
    (param,) = matrix([p for p in weak if p.deviation == "auxpow-pow-strict-less"], seeds=1)
    recorded: list[tuple[str, object]] = []
    with pytest.raises(MutantSurvived, match=r"survived .*test_zero_hash_meets_an_easy_target"):
        check(param.values[0], lambda key, value: recorded.append((key, value)))
    ((_, outcome),) = recorded
    assert outcome["killed"] is False and outcome["examples"] > 0 and not outcome["error"]  # type: ignore[index]


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


def _matrix_command(*args: str) -> tuple[list[str], str]:
    result = subprocess.run(
        [sys.executable, "-m", "alys_pbt.killmatrix", "--seeds", "2", "--only", "aggregate-single", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    table = result.stdout[result.stdout.index("deviation ") :].splitlines()
    # Wall-clock seconds differ from run to run; every other column is fixed by the seeds.
    return [re.sub(r" \d+\.\d{3} ", " <seconds> ", line) for line in table], result.stdout


def test_the_matrix_command_prints_one_row_per_pair_and_the_same_table_on_two_xdist_workers() -> None:
    (in_process, _), (on_workers, output) = _matrix_command("-n", "0"), _matrix_command("-n", "2")
    assert "bringing up nodes" in output  # pytest-xdist ran the items
    row = next(line for line in in_process if line.startswith("auxpow-aggregate-single-unhashed"))
    assert "test_aggregate_hash_matches_reference" in row and " 2/2 " in row
    assert in_process[-1] == "1 pairs, 0 not killed on every seed"
    assert on_workers == in_process


def test_the_measured_item_order_names_only_declared_pairs() -> None:
    """killmatrix/costs.json orders the items longest first; a renamed pair must be measured again."""
    stale = sorted(set(costs()) - {p.label for p in PAIRS})
    assert not stale, f"re-run benchmarks/bench_time_to_failure.py --write-costs; stale: {stale}"


def test_the_matrix_runs_the_longest_pairs_first() -> None:
    known = costs()
    order = [param.values[0].pair.label for param in matrix(PAIRS, seeds=1)]
    measured = [known[label] for label in order if label in known]
    assert measured == sorted(measured, reverse=True) and measured
    assert all(label not in known for label in order[: len(order) - len(measured)])  # unmeasured first


def test_a_pair_over_several_parametrizations_reaches_the_one_that_kills_without_spending_the_others() -> (
    None
):
    """`trailing` is the last of six corruptions and the only one that kills: run one after another
    on the whole budget, the five others spent it all first (about 500 test cases)."""
    label = "codec-accepts-trailing-bytes--test_decoders_answer_structured_corruption_with_typed_errors"
    (pair,) = (p for p in PAIRS if p.label == label)
    assert pair.cases[-1].nodeid.endswith("[trailing]")
    budget = settings.get_profile("ci").max_examples
    outcome = assert_killed(pair)
    assert outcome.examples < (len(pair.cases) - 1) * budget / 2
