"""Over the protocol the suite gives the in-process verdicts: the auxpow, Bitcoin decoder, approvals
and chain properties (the candidate-cache and chain state machines included) run against
`exec:python -m alys.serve alys` exactly as against target `alys` (every quirk caught as the same
strict expected failure, nothing else failing), and against `alys-fixed` as in-process (all pass);
a seeded mutant served over the protocol is killed by the property that kills it in-process. The
properties of components the server does not offer (actors, sync) are skipped naming the component
(docs/protocol.md says why)."""

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
CHAIN = [
    "properties/test_chain.py",
    "properties/test_block_decoders.py",
    "properties/test_retarget.py",
    "properties/test_evm_and_wire.py",
]
NOT_SERVED: tuple[str, ...] = ()  # every component crosses: a served skip the in-process run lacks fails
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
    # chain: nodes as handles (the machine, peg-ins through the Bitcoin view, a refused block), blocks
    # by wire form, retargeting (quirks caught as strict expected failures), transaction senders
    "properties/test_chain.py::TestChain::runTest",
    "properties/test_chain.py::test_pegins_mint_for_every_address_form",
    "properties/test_chain.py::test_corrupted_blocks_are_rejected[shallow-pegin]",
    "properties/test_block_decoders.py::test_a_refused_block_changes_nothing[too-few-approvals]",
    "properties/test_retarget.py::test_retarget_matches_reference",
    "properties/test_evm_and_wire.py::test_bad_transactions_get_typed_errors_from_both_stacks",
]
# alys-fixed carries no quirk: in-process every one of these passes, and so it must over the protocol
FIXED = [
    "properties/test_chain.py::TestChain::runTest",
    "properties/test_chain.py::test_full_nodes_and_validators_agree",
    "properties/test_chain.py::test_pegins_mint_for_every_address_form",
    "properties/test_evm_and_wire.py::test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors",
    "properties/test_auxpow.py::test_check_pow_accepts_valid_headers",
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


def compare(
    nodes: list[str], tmp_path: Path, *, variant: str = "alys", strict: bool = True
) -> dict[str, str]:
    """The verdicts of `nodes` on `variant` in-process and served: the same for every node the server
    can run; the others skipped naming a component it does not offer. `strict`: nothing fails or
    passes unexpectedly in-process either (a subset whose in-process verdicts are all green)."""
    local, local_out = outcomes(variant, nodes, tmp_path / "local")
    remote, remote_out = outcomes(f"{SERVE} {variant}", nodes, tmp_path / "remote")
    assert local and set(local) == set(remote), (local_out[-2000:], remote_out[-2000:])
    skipped = {n for n, o in remote.items() if o == "SKIPPED" and local[n] != "SKIPPED"}
    ran = {n: o for n, o in remote.items() if n not in skipped}
    assert ran == {n: local[n] for n in ran}, remote_out[-3000:]
    if strict:
        assert not {"FAILED", "ERROR", "XPASS"} & set(ran.values()), remote_out[-3000:]
    # what was skipped needs a component the server does not offer (chain crosses now)
    reasons = re.findall(r"^SKIPPED \[(\d+)\] \S+: (.*)$", remote_out, re.M)
    assert sum(int(n) for n, _ in reasons) >= len(skipped), remote_out[-2000:]
    assert all(
        any(f"lacks {c} (the whole component)" in reason for c in NOT_SERVED) for _, reason in reasons
    ), reasons
    return ran


def test_served_port_gives_the_in_process_verdicts(tmp_path: Path) -> None:
    """Quirks of every served component (chain included) caught as the same strict xfails."""
    ran = compare(FAST, tmp_path)
    assert set(ran) == set(FAST), ran  # nothing skipped: check_pow and the chain cross now
    assert "XFAIL" in ran.values() and "PASSED" in ran.values()
    chain = {n: o for n, o in ran.items() if "test_chain" in n or "test_retarget" in n}
    assert "XFAIL" in chain.values() and "PASSED" in chain.values(), chain


def test_served_fixed_port_passes_as_in_process(tmp_path: Path) -> None:
    """alys-fixed served: the chain machine, full nodes against validators, peg-ins, the block wire
    form and check_pow all pass, as in-process."""
    ran = compare(FIXED, tmp_path, variant="alys-fixed")
    assert ran == dict.fromkeys(FIXED, "PASSED"), ran


@pytest.mark.slow
def test_served_port_gives_the_in_process_verdicts_on_every_auxpow_and_approvals_property(
    tmp_path: Path,
) -> None:
    ran = compare(SUBSET, tmp_path)
    assert "XFAIL" in ran.values() and "PASSED" in ran.values()


@pytest.mark.slow
def test_served_port_gives_the_in_process_verdicts_on_every_chain_property(tmp_path: Path) -> None:
    """Every chain, block decoder, retarget and EVM/wire property: the same verdicts served as
    in-process on `alys`, whatever they are (not strict: a property failing in-process for reasons
    of its own fails alike served)."""
    ran = compare(CHAIN, tmp_path, strict=False)
    assert ran.values() and "XFAIL" in ran.values() and "PASSED" in ran.values()


@pytest.mark.parametrize(
    ("deviation", "killed"),
    [
        ("auxpow-branch-limit-31", "properties/test_auxpow.py::test_check_rejects_corruption[branch-of-31]"),
        ("approvals-floor-threshold", "properties/test_approvals.py::test_threshold_is_ceil_two_thirds"),
        ("retarget-no-upper-clamp", "properties/test_retarget.py::test_retarget_matches_reference"),
        (
            "chain-import-moves-head-early",
            "properties/test_block_decoders.py::test_a_refused_block_changes_nothing[too-few-approvals]",
        ),
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
