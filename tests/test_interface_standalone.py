"""The interface tried as a new user would (issue 12, items 1-4): a foreign target offering only
`auxpow` (tests/fixtures/foreign_auxpow.py: python-bitcoinlib's decoding, Namecoin's check written
from its rules, a decode-only verifier that supports the scriptSig layout with the reversed root)
runs the AuxPoW properties with one command; the run says what it skipped and why, never draws a
proof the target cannot take, and holds the target's own registered divergence as a strict xfail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alys_pbt import targets
from alys_pbt.interface import TargetError
from tests.support import ROOT, run_pytest

AUXPOW = "properties/test_auxpow.py"
TARGET = "tests.fixtures.foreign_auxpow:auxpow_only"
LAYOUT_ONLY = (  # the corruptions that exist only in the output-script layout
    "header-broken-in-output-2-of-3",
    "header-in-op-return",
    "header-script-43-bytes",
    "header-script-45-bytes",
    "no-output-2",
)


def _run(tmp_path: Path, target: str, *args: str) -> tuple[str, str, int]:
    report = tmp_path / "findings.md"
    result = run_pytest(
        ROOT,
        AUXPOW,
        "--target",
        target,
        "-rA",
        "--findings",
        str(report),
        *args,
        HYPOTHESIS_PROFILE="dev",
        ALYS_PBT_LOCAL_DB=str(tmp_path / "db"),  # the foreign failures stay out of the project's database
        ALYS_PBT_KNOWN_FAILURES="off",
    )
    return result.stdout, report.read_text() if report.exists() else "", result.returncode


@pytest.fixture(scope="module")
def auxpow_only_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int]:
    return _run(tmp_path_factory.mktemp("auxpow-only"), TARGET)


def _counts(stdout: str) -> dict[str, int]:
    tail = stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|xfailed|failed|error)", tail)}


def test_a_target_offering_only_auxpow_runs_the_auxpow_properties_with_one_command(
    auxpow_only_run: tuple[str, str, int],
) -> None:
    stdout, _, status = auxpow_only_run
    assert status == 0, stdout
    counts = _counts(stdout)
    # 16 functions, 46 items: 21 run and pass, 2 are the registered divergence, 30 are skipped.
    assert counts == {"passed": 21, "skipped": 30, "xfailed": 2}, stdout
    assert "offers auxpow; the properties needing" in stdout  # the header says what it lacks


def test_the_run_says_what_it_skipped_and_why(auxpow_only_run: tuple[str, str, int]) -> None:
    stdout, report, _ = auxpow_only_run
    summary = stdout.split("alys-pbt coverage: not run on target namecoin-style")[1]
    assert re.search(r"24\s+chain \(the whole component\)", summary), summary
    assert re.search(r"5\s+auxpow layout output-script \(it declares layouts script-sig\)", summary), summary
    # the round trip needs the encoders the decode-only verifier leaves out (its requires marker)
    assert re.search(r"1\s+auxpow.encode_auxpow, auxpow.encode_header, auxpow.encode_transaction", summary)
    assert "## Not covered" in report
    for name in LAYOUT_ONLY:
        assert f"`{AUXPOW}::test_check_rejects_corruption[{name}]`" in report
    assert f"`{AUXPOW}::test_aggregate_hash_matches_reference`" in report
    assert "target 'namecoin-style' lacks chain (the whole component)" in stdout


def test_only_what_the_target_declares_is_drawn(auxpow_only_run: tuple[str, str, int]) -> None:
    """Every scriptSig corruption and every valid proof reached the target and passed: had a proof in
    the output-script layout or with the internal root order been drawn, its check would have
    raised NotImplementedError, a TargetCrash, and the property would have failed."""
    stdout, _, _ = auxpow_only_run
    assert "TargetCrash" not in stdout and "FAILED" not in stdout
    assert f"PASSED {AUXPOW}::test_valid_proofs_are_accepted" in stdout
    for name in ("wrong-index", "branch-of-31", "coinbase-with-several-inputs", "root-mismatch"):
        assert f"PASSED {AUXPOW}::test_check_rejects_corruption[{name}]" in stdout


def test_a_foreign_deviation_is_a_strict_expected_failure_listed_with_its_counterexample(
    auxpow_only_run: tuple[str, str, int],
) -> None:
    stdout, report, _ = auxpow_only_run
    assert (
        f"XFAIL {AUXPOW}::test_hash_exactly_at_target_meets_it - known deviation: namecoin-style-pow-strict"
        in stdout
    )
    assert "caught  namecoin-style-pow-strict  (2 properties)" in stdout
    assert "## `namecoin-style-pow-strict`: caught" in report
    assert "| auxpow | `namecoin-style-pow-strict` | caught | 2 |" in report
    assert "a hash equal to the target does not meet it" in report
    section = report.split("## `namecoin-style-pow-strict`: caught")[1]
    assert "### caught by" in section and "Failing test case" in section


def test_without_its_registry_the_same_divergence_turns_the_run_red(tmp_path: Path) -> None:
    stdout, _, status = _run(tmp_path, "tests.fixtures.foreign_auxpow:unregistered", "-k", "at_target")
    assert status == 1, stdout
    assert f"FAILED {AUXPOW}::test_hash_exactly_at_target_meets_it" in stdout


def test_a_half_implemented_component_is_refused_naming_every_missing_method() -> None:
    with pytest.raises(TargetError) as err:
        targets.load("tests.fixtures.foreign_auxpow:half_done")
    assert str(err.value) == (
        "target 'tests.fixtures.foreign_auxpow:half_done' lacks: auxpow.expected_index, auxpow.check "
        "(see docs/target-interface.md)"
    )


def test_a_half_implemented_component_stops_the_run_at_start_up(tmp_path: Path) -> None:
    result = run_pytest(ROOT, AUXPOW, "--target", "tests.fixtures.foreign_auxpow:half_done")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "lacks: auxpow.expected_index, auxpow.check" in result.stderr


def test_machines_and_properties_of_components_it_lacks_are_skipped_naming_them(tmp_path: Path) -> None:
    report = tmp_path / "findings.md"
    result = run_pytest(
        ROOT,
        "properties/test_approvals.py",
        "properties/test_chain.py",
        "--target",
        TARGET,
        "--findings",
        str(report),
        HYPOTHESIS_PROFILE="dev",
        ALYS_PBT_LOCAL_DB=str(tmp_path / "db"),
        ALYS_PBT_KNOWN_FAILURES="off",
    )
    assert result.returncode == 0, result.stdout
    assert set(_counts(result.stdout)) == {"skipped"}, result.stdout
    text = report.read_text()
    approvals = text.split("- approvals (the whole component)")[1].split("\n- ")[0]
    chain = text.split("- chain (the whole component)")[1].split("\n- ")[0]
    assert "`properties/test_approvals.py::TestFederation::runTest`" in approvals, text
    assert "`properties/test_chain.py::TestChain::runTest`" in chain, text
