"""The kill matrix through the target protocol (issue 12, item 8): each pair's variant served by
`python -m alys.serve` as a child process, driven over JSON-RPC, must be killed by the same
registered failure as in-process; a server that cannot start is an error of the pair, never a kill."""

from __future__ import annotations

import shlex
import sys

import pytest

from alys_pbt.interface import TargetError
from alys_pbt.killing import assert_killed, declared_pairs, run, served
from alys_pbt.killmatrix import pytest_args

SERVE = f"{shlex.quote(sys.executable)} -m alys.serve"
PAIRS = {p.label: p for p in declared_pairs()}
# One seeded mutant and one quirk per component that crosses the protocol, chosen cheap (costs.json).
THROUGH = (
    "auxpow-pow-strict-less--test_hash_exactly_at_target_meets_it",
    "approvals-floor-threshold--test_threshold_is_ceil_two_thirds",
    "retarget-caps-low-ratio--test_retarget_formula_matches_reference",
    "chain-withdrawals-extra-accepted--test_corrupted_blocks_are_rejected",
)


def test_a_served_pair_runs_on_the_servers_variant() -> None:
    pair = PAIRS[THROUGH[0]]
    assert served(pair.target_spec, SERVE) == f"exec:{SERVE} alys-fixed+auxpow-pow-strict-less"
    assert served(pair.target_spec) == pair.target_spec


@pytest.mark.parametrize("label", THROUGH)
def test_each_pair_is_killed_through_the_protocol_as_in_process(label: str) -> None:
    pair = PAIRS[label]
    outcome = assert_killed(pair, serve=SERVE)
    assert outcome.killed and not outcome.error


def test_a_server_that_cannot_start_is_an_error_of_the_pair_not_a_kill() -> None:
    pair = PAIRS[THROUGH[0]]
    broken = f"{shlex.quote(sys.executable)} -m alys.nowhere"
    with pytest.raises(
        TargetError, match=r"(?s)alys\.nowhere alys-fixed\+auxpow-pow-strict-less.*misbehaved"
    ):
        run(pair, serve=broken)


def test_the_matrix_command_passes_the_server_to_its_items() -> None:
    args = pytest_args(seeds=1, only="x", workers="0", serve=SERVE)
    assert args[args.index("--kill-serve") + 1] == SERVE
    assert "--kill-serve" not in pytest_args(seeds=1, only="x", workers="0")
