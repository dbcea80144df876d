"""A strict expected failure counts only the property's own failure (issue 14, item 1).

Inner pytest sessions (pytester, in a subprocess) run stand-ins for the property files from
tests/fixtures/expected/ on target `alys`: each stand-in property sits under a node id that a
registered quirk breaks, so it runs as a strict expected failure, and fails in one chosen way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis.errors import FailedHealthCheck, FlakyFailure

import alys
from alys_pbt import deviations
from alys_pbt.verdict import ASSERTION, is_registered, strays
from tests.support import FIXTURES, free_port, inner_pytest

pytest_plugins = ["pytester"]

STAND_INS = FIXTURES / "expected"
_runs: dict[str, tuple[pytest.RunResult, str]] = {}  # one inner session per stand-in file


def session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, module: str
) -> tuple[pytest.RunResult, str]:
    """The inner session over properties/test_<module>.py (its stdout, and its findings report)."""
    if module not in _runs:
        (pytester.path / "properties").mkdir()
        (pytester.path / "properties" / f"test_{module}.py").write_text(
            (STAND_INS / f"{module}_properties.py").read_text()
        )
        findings = pytester.path / "findings.md"
        result = inner_pytest(
            pytester,
            monkeypatch,
            "-ra",
            "--target",
            "alys",
            "--findings",
            str(findings),
            ALYS_PBT_DEAD_PORT=str(free_port()),
        )
        _runs[module] = (result, findings.read_text() if findings.exists() else "")
    return _runs[module]


HEALTH = FailedHealthCheck.__name__
STRAYS = [
    # (stand-in, property, the quirk holding it as an expected failure, what it raised instead)
    ("retarget", "test_retarget_never_yields_zero_target", "retarget-zero-bits", "ConnectionError: Error"),
    ("chain", "test_full_nodes_and_validators_agree", "chain-full-nodes-skip-withdrawals", "TypeError: can"),
    ("chain", "test_pegins_mint_for_every_address_form", "chain-pegin-utf8-address-rejected", "TypeError"),
    ("chain", "test_fee_split_pays_a_repeated_address_the_sum", "chain-withdrawals-extra-accepted", HEALTH),
    ("sync", "test_range_requests_get_exactly_the_canonical_blocks", "sync-serve-loop-index", "FlakyFailure"),
    ("sync", "test_a_bad_block_from_a_peer_costs_the_node_nothing", "sync-error-rolls-back", "ModuleNot"),
]


@pytest.mark.parametrize(("module", "prop", "quirk", "raised"), STRAYS, ids=[s[1] for s in STRAYS])
def test_any_other_exception_fails_the_run_names_itself_and_is_not_caught(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    prop: str,
    quirk: str,
    raised: str,
) -> None:
    result, findings = session(pytester, monkeypatch, module)
    nodeid = f"properties/test_{module}.py::{prop}"
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    assert f"FAILED {nodeid}" in out
    assert f"XFAIL {nodeid}" not in out
    assert (
        f"UnregisteredFailure: expected failure for quirk {quirk} was not the registered failure "
        f"(AssertionError): {raised}" in out
    )
    assert f"NOT caught  {quirk}  (1 properties; not the registered failure: {nodeid} raised {raised}" in out
    assert f"## `{quirk}`: NOT caught" in findings
    section = findings.split(f"## `{quirk}`: NOT caught", 1)[1].split("\n## ", 1)[0]
    assert f"### error in `{nodeid}`: not the registered failure" in section
    assert raised in section and "caught by" not in section


CAUGHT = [
    ("test_retarget_is_bounded_by_max_adjustment", "retarget-caps-low-ratio", "past the bound"),
    # Hypothesis found two distinct failures and raised an exception group: both are assertions.
    ("test_retarget_at_ratio_one_keeps_bits", "retarget-ratio-one-truncates", "bits truncated at ratio one"),
]


@pytest.mark.parametrize(("prop", "quirk", "message"), CAUGHT, ids=[c[0] for c in CAUGHT])
def test_the_property_s_own_assertion_is_the_expected_failure_and_is_caught(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, prop: str, quirk: str, message: str
) -> None:
    result, findings = session(pytester, monkeypatch, "retarget")
    nodeid = f"properties/test_retarget.py::{prop}"
    out = result.stdout.str()
    assert f"XFAIL {nodeid} - known deviation: {quirk} (expected failure: AssertionError)" in out
    assert f"    caught  {quirk}  (1 properties)\n" in out
    section = findings.split(f"## `{quirk}`: caught", 1)[1].split("\n## ", 1)[0]
    assert f"### caught by `{nodeid}`" in section and message in section


class NodePanic(Exception):
    """A foreign target's own crash class: matched by its name, like the port's."""


def test_a_registered_crash_is_matched_by_class_name_on_any_target() -> None:
    allowed = (ASSERTION, "NodePanic")
    assert strays(NodePanic("abort"), allowed) == []
    assert strays(alys.NodePanic("abort"), allowed) == []
    assert is_registered(AssertionError("mismatch"), allowed)
    crash = RuntimeError("abort")
    assert strays(crash, allowed) == [crash]
    assert not is_registered(alys.NodePanic("abort"))  # not registered by default
    assert not is_registered(None)  # a property that passed has not failed


def test_every_member_of_an_exception_group_must_be_a_registered_failure() -> None:
    dead = ConnectionError("Error 111 connecting to 127.0.0.1:6399")
    assert is_registered(ExceptionGroup("two bugs", [AssertionError("a"), AssertionError("b")]))
    assert strays(ExceptionGroup("two bugs", [AssertionError("a"), dead])) == [dead]
    nested = ExceptionGroup("outer", [AssertionError("a"), ExceptionGroup("inner", [dead])])
    assert strays(nested) == [dead]


def test_hypothesis_s_own_errors_are_never_the_property_s_failure() -> None:
    flaky = FlakyFailure("failed once, then passed", [AssertionError("first call")])
    assert strays(flaky) == [flaky]  # although its only member is an assertion
    assert not is_registered(FailedHealthCheck("filter_too_much"))


def test_the_stand_ins_sit_where_the_quirks_they_name_are_registered() -> None:
    """Guards the inner sessions above: each stand-in property really is held by its quirk."""
    carried = alys.QUIRKS
    for module, prop, quirk, _ in STRAYS:
        breaking = [q.id for q in deviations.quirks_breaking(f"properties/test_{module}.py::{prop}", carried)]
        assert breaking == [quirk], (prop, breaking)
    for prop, quirk, _ in CAUGHT:
        breaking = [q.id for q in deviations.quirks_breaking(f"properties/test_retarget.py::{prop}", carried)]
        assert breaking == [quirk], (prop, breaking)
    for path in Path(STAND_INS).glob("*_properties.py"):
        assert not path.name.startswith("test_")  # never collected by the suite's own run
