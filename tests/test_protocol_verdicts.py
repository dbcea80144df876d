"""Over the protocol the suite gives the in-process verdicts: the auxpow, Bitcoin decoder and
approvals properties (the candidate-cache state machine included) run against
`exec:python -m alys.serve alys` exactly as against target `alys` (every quirk caught as the same
strict expected failure, nothing else failing), and a seeded mutant served over the protocol is
killed by the property that kills it in-process. The properties of components the server does not
offer (chain, actors, sync) are skipped naming the component (docs/protocol.md says why)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVE = f"exec:{sys.executable} -m alys.serve"
SUBSET = ["properties/test_auxpow.py", "properties/test_bitcoin_decoders.py", "properties/test_approvals.py"]
# What the default run compares (a few minutes' worth under --run-slow is the whole SUBSET):
# passing properties and strict expected failures of both components, a decoder, a skip.
FAST = [
    "properties/test_auxpow.py::test_valid_proofs_are_accepted",
    "properties/test_auxpow.py::test_encodings_round_trip",
    "properties/test_auxpow.py::test_check_rejects_corruption[wrong-index]",
    "properties/test_auxpow.py::test_check_rejects_corruption[commitment-in-non-coinbase]",
    "properties/test_auxpow.py::test_check_pow_rejects_corruption[wrong-index]",
    "properties/test_auxpow.py::test_hash_exactly_at_target_meets_it",
    "properties/test_bitcoin_decoders.py::test_decoders_reject_malformed_bytes_with_typed_errors",
    "properties/test_approvals.py::test_threshold_is_ceil_two_thirds",
    "properties/test_approvals.py::test_individual_approvals_are_judged_like_the_reference",
    "properties/test_approvals.py::test_block_approvals_are_judged_like_the_reference",
    "properties/test_approvals.py::test_federation_size_just_below_at_and_past_the_bitlist",
]
EXAMPLES = "10"  # the verdicts, not the search, are compared: ci seeds both runs alike


def outcomes(target: str, nodes: list[str], tmp_path: Path) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALYS_", "PYTEST_"))}
    env.update(HYPOTHESIS_PROFILE="ci", ALYS_PBT_LOCAL_DB=str(tmp_path))
    options = [
        "-p",
        "no:cacheprovider",
        "-v",
        "-rs",
        "-m",
        "not slow",
        "--examples",
        EXAMPLES,
        "--target",
        target,
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *options, *nodes],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    found = {}
    for line in done.stdout.splitlines():
        match = re.match(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)\b", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found, done.stdout


def compare(nodes: list[str], tmp_path: Path) -> None:
    local, local_out = outcomes("alys", nodes, tmp_path / "local")
    remote, remote_out = outcomes(f"{SERVE} alys", nodes, tmp_path / "remote")
    assert local and set(local) == set(remote), (local_out[-2000:], remote_out[-2000:])
    skipped = {n for n, o in remote.items() if o == "SKIPPED" and local[n] != "SKIPPED"}
    ran = {n: o for n, o in remote.items() if n not in skipped}
    assert ran == {n: local[n] for n in ran}, remote_out[-3000:]
    assert "XFAIL" in ran.values() and "PASSED" in ran.values()
    assert not {"FAILED", "ERROR", "XPASS"} & set(ran.values()), remote_out[-3000:]
    # what was skipped needs the chain component (check_pow), which the server does not offer
    reasons = re.findall(r"^SKIPPED \[(\d+)\] \S+: (.*)$", remote_out, re.M)
    assert skipped and sum(int(n) for n, _ in reasons) == len(skipped), remote_out[-2000:]
    assert all("lacks chain (the whole component)" in reason for _, reason in reasons), reasons


def test_served_port_gives_the_in_process_verdicts(tmp_path: Path) -> None:
    compare(FAST, tmp_path)


@pytest.mark.slow
def test_served_port_gives_the_in_process_verdicts_on_every_auxpow_and_approvals_property(
    tmp_path: Path,
) -> None:
    compare(SUBSET, tmp_path)


@pytest.mark.parametrize(
    ("deviation", "killed"),
    [
        ("auxpow-branch-limit-31", "properties/test_auxpow.py::test_check_rejects_corruption[branch-of-31]"),
        ("approvals-floor-threshold", "properties/test_approvals.py::test_threshold_is_ceil_two_thirds"),
        pytest.param(
            "federation-early-approvals-lost",
            "properties/test_approvals.py::TestFederation::runTest",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_deviation_served_over_the_protocol_is_caught_as_in_process(
    tmp_path: Path, deviation: str, killed: str
) -> None:
    """alys-fixed+ID served is caught by the property that catches it in-process (the kill matrix's
    pairs hold over the protocol)."""
    local, _ = outcomes(f"alys-fixed+{deviation}", [killed], tmp_path / "local")
    remote, out = outcomes(f"{SERVE} alys-fixed+{deviation}", [killed], tmp_path / "remote")
    assert local == remote == {killed: "FAILED"}, out[-2000:]
