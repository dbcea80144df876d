"""A second language proves the protocol: tests/fixtures/js-auxpow/server.js, the `auxpow`
component in plain JavaScript on Node.js written from docs/protocol.md, is driven through
`exec:node ...`: its auxpow properties run and pass, the properties of the components it lacks are
skipped naming them, and each bug seeded in it (JS_AUXPOW_BUG) is found by the auxpow properties."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alys_pbt.protocol import connect, docs

ROOT = Path(__file__).resolve().parent.parent
SERVER = "node tests/fixtures/js-auxpow/server.js"
TARGET = f"exec:{SERVER}"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

# A representative slice of the auxpow properties (the whole set runs under --run-slow).
SLICE = [
    "properties/test_auxpow.py::test_encodings_round_trip",
    "properties/test_auxpow.py::test_hashes_match_python_bitcoinlib",
    "properties/test_auxpow.py::test_valid_proofs_are_accepted",
    "properties/test_auxpow.py::test_check_rejects_corruption[branch-of-31]",
    "properties/test_auxpow.py::test_check_rejects_corruption[wrong-index]",
    "properties/test_auxpow.py::test_hash_exactly_at_target_meets_it",
    "properties/test_auxpow.py::test_check_pow_rejects_corruption[wrong-index]",
    "properties/test_bitcoin_decoders.py",
]


def run(
    nodes: list[str], tmp_path: Path, bug: str = "", *extra: str, declare: bool = False
) -> tuple[dict[str, str], str]:
    """Run the properties against the JavaScript server: {node id: outcome}, and the output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALYS_", "PYTEST_", "JS_AUXPOW"))}
    env.update(HYPOTHESIS_PROFILE="dev", ALYS_PBT_LOCAL_DB=str(tmp_path / "db"))
    if bug:
        env["JS_AUXPOW_BUG"] = bug
    if declare:
        env["JS_AUXPOW_DECLARE"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--target", TARGET]
    done = subprocess.run(
        [*command, *extra, *nodes], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    outcomes = {}
    for line in done.stdout.splitlines():
        found = re.match(r"^(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR) (\S+)", line)
        if found:
            outcomes[found.group(2)] = found.group(1)
    return outcomes, done.stdout


def test_the_js_server_offers_auxpow_only_and_its_examples_hold() -> None:
    target = connect(TARGET, cwd=str(ROOT))
    try:
        assert target.name == "js-auxpow (over exec:)"
        assert set(target.components) == {"auxpow"}
        assert not hasattr(target, "chain")
    finally:
        target.close()
    assert docs.replay(SERVER, cwd=str(ROOT)) == []


def test_its_auxpow_properties_pass_and_the_rest_is_skipped_with_reasons(tmp_path: Path) -> None:
    outcomes, out = run(SLICE, tmp_path)
    passed = [n for n, o in outcomes.items() if o == "PASSED"]
    assert "properties/test_auxpow.py::test_valid_proofs_are_accepted" in passed, out[-3000:]
    assert any(n.startswith("properties/test_bitcoin_decoders.py::") for n in passed), out[-3000:]
    assert not [n for n, o in outcomes.items() if o not in ("PASSED", "SKIPPED")], out[-3000:]
    # check_pow is the chain component's: skipped, naming it
    assert re.search(
        r"SKIPPED \[\d+\] properties/test_auxpow.py:\d+: target 'js-auxpow \(over exec:\)' lacks chain", out
    ), out[-3000:]


@pytest.mark.parametrize(
    ("bug", "caught_by"),
    [
        ("branch-limit-31", "properties/test_auxpow.py::test_check_rejects_corruption[branch-of-31]"),
        ("pow-strict-less", "properties/test_auxpow.py::test_hash_exactly_at_target_meets_it"),
    ],
)
def test_a_bug_seeded_in_it_is_found(tmp_path: Path, bug: str, caught_by: str) -> None:
    outcomes, out = run([caught_by], tmp_path, bug)
    assert outcomes == {caught_by: "FAILED"}, out[-3000:]
    assert "AssertionError" in out and "TargetFailure" not in out, out[-3000:]


def test_a_deviation_the_server_registers_in_its_hello_is_a_strict_expected_failure(tmp_path: Path) -> None:
    """The seeded bug, declared by the server as its own known deviation (hello.deviations), turns
    the property it breaks into an XFAIL, listed in the findings; undeclared, the same run fails."""
    caught_by = "properties/test_auxpow.py::test_hash_exactly_at_target_meets_it"
    findings = tmp_path / "findings.md"
    outcomes, out = run([caught_by], tmp_path, "pow-strict-less", "--findings", str(findings), declare=True)
    assert outcomes == {caught_by: "XFAIL"}, out[-3000:]
    assert "js-auxpow-pow-strict-less" in findings.read_text(), findings.read_text()[-2000:]


@pytest.mark.slow
def test_every_auxpow_property_passes_and_the_swapped_branch_bug_is_found(tmp_path: Path) -> None:
    outcomes, out = run(["properties/", "-m", "auxpow"], tmp_path)
    assert outcomes and all(o in ("PASSED", "SKIPPED") for o in outcomes.values()), out[-3000:]
    outcomes, out = run(
        ["properties/test_auxpow.py::test_valid_proofs_are_accepted"],
        tmp_path / "bug",
        "merkle-sides-swapped",
    )
    assert outcomes == {"properties/test_auxpow.py::test_valid_proofs_are_accepted": "FAILED"}, out[-3000:]
