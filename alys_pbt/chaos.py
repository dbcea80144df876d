"""The chaos section of the findings: per fault kind, how many examples injected it and which
invariants ran after it, merged across pytest-xdist workers.

A machine (or property) that injects faults calls `record_example(injected, exercised)` once per
example; the counts of a test item travel to the controller on its report (`user_properties`,
which pytest-xdist ships), where `merged()` adds them up and `markdown()` writes the section. A
fault kind in `strategies/network.py` FAULT_KINDS that no example reached is listed as not covered.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any, cast

import pluggy
import pytest

from alys_pbt.models.network import agreement_threshold, liveness_threshold
from alys_pbt.strategies.network import FAULT_KINDS

CHAOS_KEY = "alys_pbt_chaos"
_pending: dict[str, dict[str, Any]] = {}  # this process's counts since the last report
_merged: dict[str, dict[str, Any]] = {}  # the run's, on the controller


def record_example(injected: Iterable[str], exercised: Mapping[str, Iterable[str]]) -> None:
    """One example injected the fault kinds `injected`; `exercised` maps each to the invariants
    checked after it was injected."""
    for kind in set(injected):
        entry = _pending.setdefault(kind, {"examples": 0, "invariants": []})
        entry["examples"] += 1
        entry["invariants"] = sorted({*entry["invariants"], *exercised.get(kind, ())})


def _add(into: dict[str, dict[str, Any]], counts: Mapping[str, Mapping[str, Any]]) -> None:
    for kind, entry in counts.items():
        mine = into.setdefault(kind, {"examples": 0, "invariants": []})
        mine["examples"] += int(entry["examples"])
        mine["invariants"] = sorted({*mine["invariants"], *entry["invariants"]})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome: pluggy.Result[pytest.TestReport] = yield
    if call.when == "call" and _pending:
        outcome.get_result().user_properties.append((CHAOS_KEY, {k: dict(v) for k, v in _pending.items()}))
        _pending.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == CHAOS_KEY:
            _add(_merged, cast(Mapping[str, Mapping[str, Any]], value))  # what makereport attached


def merged() -> dict[str, dict[str, Any]]:
    """The run's counts per fault kind (on the controller; in-process runs too)."""
    return {k: dict(v) for k, v in _merged.items()}


def lines(counts: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """One line per fault kind: examples that injected it and invariants it exercised, or 'not covered'."""
    counts = merged() if counts is None else counts
    out = []
    for kind in FAULT_KINDS:
        entry = counts.get(kind)
        if not entry or not entry["examples"]:
            out.append(f"{kind}: not covered")
        else:
            out.append(
                f"{kind}: {entry['examples']} examples; exercised {', '.join(entry['invariants']) or 'none'}"
            )
    return out


def thresholds() -> list[tuple[str, str, str, str]]:
    """(guarantee, the coalition size at which it breaks, sizes for n = 4, 7, 15, where it is shown)."""
    sizes = (4, 7, 15)

    def each(f: Any) -> str:
        return ", ".join(f"{f(n)} of {n}" for n in sizes)

    props = "properties/test_network.py::"
    tests = "tests/test_network.py::"
    return [
        (
            "Agreement (no two honest nodes finalize different blocks at one height)",
            "2*ceil(2n/3) - n authorities approving both blocks (quorum intersection), the rest "
            "approving one block per height, under a partition",
            each(agreement_threshold),
            f"{props}test_agreement_is_lost_exactly_at_a_coalition_of_2q_minus_n",
        ),
        (
            "Agreement, as the node codes approvals",
            "0: a validator approves every valid block above its head (app/src/chain.rs process_block, "
            "no lock per height, no round change), so message loss alone gives two blocks at one height "
            "ceil(2n/3) approvals each; the evidence names the honest validators that approved both",
            each(lambda n: 0),
            f"{tests}test_as_coded_agreement_is_lost_without_any_byzantine_authority",
        ),
        (
            "Liveness (finalization advances within 4n slots of a heal)",
            "n - ceil(2n/3) + 1 authorities withholding",
            each(liveness_threshold),
            f"{props}test_liveness_is_lost_exactly_when_withholders_exceed_n_minus_q",
        ),
        (
            "Validity (only blocks the reference accepts are imported)",
            "never on a node that checks every rule on import (alys-fixed); 1 as coded: one authority "
            "signing for another's slot is approved by honest validators (chain-slot-author-unchecked)",
            each(lambda n: 1),
            f"{props}test_a_block_signed_for_another_authoritys_slot_is_never_imported",
        ),
        (
            "Finality (a finalized block is never undone)",
            "never on alys-fixed; 0 authorities as coded: one lying sync peer walks a node back below "
            "its finalized height (chain.rs sync rollback, chain-rollback-undoes-finalization)",
            each(lambda n: 0),
            f"{props}test_a_long_range_fork_never_undoes_finality",
        ),
        (
            "Accountability (every equivocation seen yields evidence naming its signer)",
            "never: evidence is two verifying signatures by one key; as coded, honest validators are "
            "also named for approving two blocks at one height",
            "never",
            f"{props}TestNetwork (invariant accountability)",
        ),
    ]


def markdown(counts: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """The findings' chaos section (empty when no network property ran)."""
    counts = merged() if counts is None else counts
    if not counts:
        return []
    out = [
        "",
        "## Chaos",
        "",
        "Per fault kind: the examples that injected it and the invariants checked after it.",
        "",
    ]
    out += ["| fault | examples | invariants exercised |", "|---|---|---|"]
    for kind in FAULT_KINDS:
        entry = counts.get(kind)
        if not entry or not entry["examples"]:
            out.append(f"| {kind} | 0 | **not covered** |")
        else:
            out.append(f"| {kind} | {entry['examples']} | {', '.join(entry['invariants']) or 'none'} |")
    out += [
        "",
        "## Network thresholds",
        "",
        "The coalition size at which each guarantee breaks, as coded:",
        "",
    ]
    out += ["| guarantee | breaks at | n = 4, 7, 15 | shown by |", "|---|---|---|---|"]
    out += [f"| {g} | {at} | {sizes} | `{where}` |" for g, at, sizes, where in thresholds()]
    return out
