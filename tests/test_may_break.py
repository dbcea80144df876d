"""A property a quirk breaks only by chance (`Deviation.may_break`) runs as a non-strict expected
failure: a pass is fine, a failure of the registered kind is an expected failure listed in the
findings as "may show", and a failure of any other kind still fails the run (issue 18, item 4).

Inner pytest sessions (pytester, in a subprocess) run a stand-in for properties/test_evm_and_wire.py
(tests/fixtures/expected/wire_properties.py) on target `alys`, ending as ALYS_PBT_STAND_IN says."""

from __future__ import annotations

import pytest

import alys
from alys_pbt import deviations
from alys_pbt.killing import declared_pairs
from tests.support import FIXTURES, inner_pytest

pytest_plugins = ["pytester"]

QUIRK = "chain-wire-form-lenient"
NODEID = "properties/test_evm_and_wire.py::test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors"


def session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str) -> tuple[str, int, str]:
    """(stdout, exit code, findings report) of the stand-in ending as `how` says, on target alys."""
    (pytester.path / "properties").mkdir()
    (pytester.path / "properties" / "test_evm_and_wire.py").write_text(
        (FIXTURES / "expected" / "wire_properties.py").read_text()
    )
    findings = pytester.path / "findings.md"
    result = inner_pytest(
        pytester, monkeypatch, "-ra", "--target", "alys", "--findings", str(findings), ALYS_PBT_STAND_IN=how
    )
    return result.stdout.str(), int(result.ret), findings.read_text() if findings.exists() else ""


def test_the_wire_round_trip_is_registered_as_one_the_lenient_decoder_may_break() -> None:
    assert [q.id for q in deviations.quirks_that_may_break(NODEID, alys.QUIRKS)] == [QUIRK]
    assert deviations.quirks_breaking(NODEID, alys.QUIRKS) == []  # never a strict xfail
    assert deviations.quirks_that_may_break(NODEID, ()) == []  # alys-fixed: an ordinary property
    # Nor a pair of the kill matrix: a property that fails only by chance proves nothing there.
    assert not [p for p in declared_pairs() if p.deviation == QUIRK and NODEID.startswith(p.function)]


def test_a_chance_failure_of_the_registered_kind_is_an_expected_failure_listed_as_may_show(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, code, findings = session(pytester, monkeypatch, "assert")
    assert code == pytest.ExitCode.OK, out
    assert f"XFAIL {NODEID} - known deviation, may show: {QUIRK} (expected failure: AssertionError)" in out
    assert f"  may show  {QUIRK}  (1 properties; may show in 1, shown in 1)" in out
    assert f"| chain | `{QUIRK}` | may show | 1 |" in findings
    section = findings.split(f"## `{QUIRK}`: may show", 1)[1]
    assert f"### may show in `{NODEID}`: shown on this run" in section
    assert "the target took the non-canonical form" in section


def test_a_pass_is_fine_and_shows_nothing(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    out, code, findings = session(pytester, monkeypatch, "pass")
    assert code == pytest.ExitCode.OK, out
    assert f"XPASS {NODEID}" in out
    assert f"  may show  {QUIRK}  (1 properties; may show in 1, shown in 0)" in out
    assert f"### may show in `{NODEID}`: not shown on this run" in findings


def test_a_failure_of_another_kind_still_fails_the_run_and_names_itself(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, code, findings = session(pytester, monkeypatch, "typeerror")
    assert code == pytest.ExitCode.TESTS_FAILED, out
    assert f"FAILED {NODEID}" in out and f"XFAIL {NODEID}" not in out
    assert (
        f"UnregisteredFailure: expected failure for quirk {QUIRK} was not the registered failure "
        "(AssertionError): TypeError: a strategy broke, not the decoder" in out
    )
    assert f"NOT caught  {QUIRK}  (1 properties; not the registered failure: {NODEID} raised TypeError" in out
    assert f"### error in `{NODEID}`: not the registered failure" in findings
