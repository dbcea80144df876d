"""The verdict comparison CI runs between the in-process and the served property suite
(alys_pbt/compare.py, issue 12 item 8): every difference is printed and fails the step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alys_pbt.compare import differences, main, verdicts
from tests.support import ROOT

SUITE = """<?xml version="1.0"?><testsuites><testsuite name="pytest">{}</testsuite></testsuites>"""


def _xml(tmp_path: Path, name: str, cases: str) -> Path:
    path = tmp_path / name
    path.write_text(SUITE.format(cases))
    return path


def test_each_outcome_is_read_by_its_test_id(tmp_path: Path) -> None:
    path = _xml(
        tmp_path,
        "a.xml",
        '<testcase classname="properties.test_auxpow" name="test_ok"/>'
        '<testcase classname="properties.test_auxpow" name="test_x"><skipped type="pytest.xfail"/></testcase>'
        '<testcase classname="properties.test_auxpow" name="test_s"><skipped type="pytest.skip"/></testcase>'
        '<testcase classname="properties.test_auxpow" name="test_f"><failure message="m"/></testcase>'
        '<testcase classname="properties.test_actors.TestMailbox" name="runTest">'
        '<error message="e"/></testcase>'
        '<testcase classname="tests.test_compare" name="test_elsewhere"/>',
    )
    assert verdicts(path, "properties/") == {
        "properties/test_auxpow.py::test_ok": "passed",
        "properties/test_auxpow.py::test_x": "xfailed",
        "properties/test_auxpow.py::test_s": "skipped",
        "properties/test_auxpow.py::test_f": "failed",
        "properties/test_actors.py::TestMailbox::runTest": "error",
    }


def test_a_teardown_error_after_a_pass_counts(tmp_path: Path) -> None:
    path = _xml(
        tmp_path,
        "a.xml",
        '<testcase classname="properties.test_sync" name="test_t"/>'
        '<testcase classname="properties.test_sync" name="test_t"><error message="teardown"/></testcase>',
    )
    assert verdicts(path) == {"properties/test_sync.py::test_t": "error"}


def test_a_changed_verdict_and_a_missing_test_are_differences(tmp_path: Path) -> None:
    first = {"p.py::a": "xfailed", "p.py::b": "passed", "p.py::c": "passed"}
    second = {"p.py::a": "failed", "p.py::b": "passed"}
    assert differences(first, second) == [
        "p.py::a: xfailed in the first run, failed in the second",
        "p.py::c: passed in the first run, absent in the second",
    ]
    assert differences(first, dict(first)) == []


def test_the_command_fails_on_a_difference_and_passes_on_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xfail = '<testcase classname="properties.test_chain" name="t"><skipped type="pytest.xfail"/></testcase>'
    a = _xml(tmp_path, "a.xml", xfail)
    b = _xml(tmp_path, "b.xml", '<testcase classname="properties.test_chain" name="t"/>')
    assert main([str(a), str(b), "--under", "properties/"]) == 1
    assert (
        "properties/test_chain.py::t: xfailed in the first run, passed in the second"
        in capsys.readouterr().out
    )
    assert main([str(a), str(a), "--under", "properties/"]) == 0
    assert main([str(a), str(a), "--under", "nowhere/"]) == 1  # nothing compared is no pass


def test_real_pytest_runs_compare(tmp_path: Path) -> None:
    """Two runs of a real property, in-process and served: pytest's own JUnit XML, the same verdicts."""
    runs = []
    for target in ("alys", f"exec:{sys.executable} -m alys.serve alys"):
        xml = tmp_path / f"{len(runs)}.xml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "--target",
                target,
                "properties/test_retarget.py",
                "--junitxml",
                str(xml),
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
            env={"HYPOTHESIS_PROFILE": "dev", "PATH": "/usr/bin:/bin"},
        )
        runs.append(verdicts(xml, "properties/"))
    assert runs[0] and "xfailed" in runs[0].values()  # a quirk of alys breaks a retarget property
    assert differences(*runs) == []


def test_a_property_a_quirk_breaks_only_by_chance_may_differ_on_that_target() -> None:
    chance = (
        "properties/test_evm_and_wire.py::test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors"
    )
    first, second = {chance: "passed"}, {chance: "xfailed"}
    assert differences(first, second, quirks=["chain-wire-form-lenient"]) == []
    assert differences(first, second) != []  # on a target without that quirk it must not differ
    assert differences(first, {chance: "failed"}, quirks=["chain-wire-form-lenient"]) != []
