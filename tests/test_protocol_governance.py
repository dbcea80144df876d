"""The governance stream over the target protocol gives the in-process verdicts: the StreamActor runs
in the served port (`python -m alys.serve`), its gRPC client connects to the suite's governance
server on loopback, and its tasks run on the suite's scheduler through the actor system's relay.

Each governance property and the machine, run with one seed and no shrinking (alys_pbt/killing.py
run_case), fails or passes over the protocol exactly as in-process, after exactly as many examples
(the schedule is the suite's, so an example is the same example on both sides): on `alys` (every
governance quirk), on `alys-fixed` (none) and on seeded mutants served as `alys-fixed+ID`. The
vectors of the governance family replay to the same outputs. The stream's commands wait for the
suite's scheduler; refusals cross as the interface's error names; nothing is left running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from alys_pbt import deviations, killing, targets
from alys_pbt.governance import leaked_threads, port_is_free
from alys_pbt.models.machines.actors import SuiteScheduler
from alys_pbt.models.machines.governance import harnessed
from alys_pbt.vectors.families import governance as family

pytestmark = pytest.mark.governance

ROOT = Path(__file__).resolve().parent.parent
SERVE = f"{sys.executable} -m alys.serve"
NOWHERE = "127.0.0.1:1"  # nothing listens there: a connection that stays "connecting" until pumped
CASES = {c.nodeid: c for c in killing.discover(pattern="test_governance.py")}
SHARE = 4  # a quarter of the ci budget per case: the verdicts, not the search, are compared


@pytest.fixture(scope="module")
def served() -> Any:
    """One served port per variant for the module (each closed at the end)."""
    opened: dict[str, Any] = {}

    def load(variant: str) -> Any:
        if variant not in opened:
            opened[variant] = targets.load(f"exec:{SERVE} {variant}")
        return opened[variant]

    yield load
    for target in opened.values():
        target.close()


def verdicts(case: killing.Case, local: Any, remote: Any, seed: int = 0) -> tuple[Any, Any]:
    """The case's outcome in-process and served, under the same seed and budget (no shrinking)."""
    here = killing.run_case(case, local, seed=seed, share=SHARE)
    there = killing.run_case(case, remote, seed=seed, share=SHARE)
    assert not here.error and not there.error, (here.error, there.error)
    return here, there


def test_every_governance_property_and_the_machine_are_compared() -> None:
    assert sorted(CASES) == [
        "properties/test_governance.py::TestGovernance::runTest",
        "properties/test_governance.py::test_a_silent_server_is_detected_within_the_heartbeat_bound",
        "properties/test_governance.py::test_each_signature_response_reaches_its_requester_whatever_the_order",
        "properties/test_governance.py::test_messages_sent_while_down_are_replayed_in_order_after_reconnect",
        "properties/test_governance.py::test_reconnect_waits_follow_the_coded_schedule",
        "properties/test_governance.py::test_the_connection_cap_refuses_the_eleventh",
    ]


@pytest.mark.parametrize("variant", ["alys", "alys-fixed"])
@pytest.mark.parametrize("nodeid", sorted(CASES))
def test_each_governance_property_gives_the_in_process_verdict_served(
    served: Any, variant: str, nodeid: str
) -> None:
    """On `alys` every governance property fails (each quirk its own, the machine on all), on
    `alys-fixed` none does; served, the same verdict after the same number of examples."""
    here, there = verdicts(CASES[nodeid], targets.load(variant), served(variant))
    assert (there.killed, there.examples) == (here.killed, here.examples), (here, there)
    assert here.killed == (variant == "alys"), here


GOVERNANCE_PAIRS = {
    p.label: p
    for p in killing.declared_pairs(list(CASES.values()))
    if p.deviation.startswith("governance-") and deviations.get(p.deviation).kind == "mutant"
}
FAST_PAIRS = ("governance-response-wrong-request--TestGovernance",)


def test_the_seeded_governance_mutants_are_all_compared() -> None:
    mutants = {p.deviation for p in GOVERNANCE_PAIRS.values()}
    assert mutants == {m.id for m in deviations.MUTANTS if m.id.startswith("governance-")}
    assert set(FAST_PAIRS) <= set(GOVERNANCE_PAIRS)


@pytest.mark.parametrize(
    "label",
    [
        pytest.param(label, marks=() if label in FAST_PAIRS else (pytest.mark.slow,), id=label)
        for label in sorted(GOVERNANCE_PAIRS)
    ],
)
def test_a_seeded_governance_mutant_served_is_killed_as_in_process(label: str) -> None:
    """alys-fixed+ID served is killed by the property that kills it in-process, after as many
    examples (the kill matrix's governance pairs hold over the protocol)."""
    pair = GOVERNANCE_PAIRS[label]
    here = killing.assert_killed(pair, seed=0)
    there = killing.assert_killed(pair, seed=0, serve=SERVE)
    assert there.examples == here.examples, (here, there)


def test_a_command_waits_for_the_suites_scheduler(served: Any) -> None:
    """Served, a command is a task on the suite's scheduler: unanswered until the suite runs it,
    then answered; the cap's refusal and an unknown reply cross as the interface's error names."""
    target = served("alys-fixed")
    scheduler = SuiteScheduler()
    stream = target.governance.stream(target.actors.system(scheduler), max_connections=1, jitter=0.0)
    try:
        first = stream.connect(NOWHERE)
        with pytest.raises(Exception, match="has not handled") as unanswered:
            stream.outcome(first)
        assert type(unanswered.value).__name__ == "Unanswered"
        assert len(scheduler.ready) == 1, "the command is the suite's task to run"
        scheduler.run_until_idle()
        assert stream.outcome(first) == 1
        assert stream.connection(1)["state"] == "connecting"
        second = stream.connect(NOWHERE)
        scheduler.run_until_idle()
        with pytest.raises(Exception, match="already 1 of 1") as refused:
            stream.outcome(second)
        assert type(refused.value).__name__ == "TooManyConnections"
        with pytest.raises(Exception, match="no command with reply 99") as unknown:
            stream.outcome(99)
        assert type(unknown.value).__name__ == "UnknownReply"
        assert stream.backoff(3) == 8.0
    finally:
        stream.close()
    assert [c["open"] for c in stream.connections()] == [False]


def test_the_served_stream_reads_the_suites_clock(served: Any) -> None:
    """Time is the suite's: a connection attempt made after the suite's clock moved is stamped with
    that time, and the actor's timers come back as the suite's timers (the connect timeout at 30 s)."""
    target = served("alys-fixed")
    scheduler = SuiteScheduler()
    stream = target.governance.stream(target.actors.system(scheduler), jitter=0.0)
    try:
        scheduler.advance(12.5)
        stream.connect(NOWHERE)
        scheduler.run_until_idle()
        assert stream.connection(1)["attempts"] == [12.5]
        assert scheduler.model.next_timer() == 12.5 + 10.0, "the sweep, 10 s on"
    finally:
        stream.close()


@pytest.mark.parametrize("variant", ["alys-fixed", "alys"])
def test_the_served_stream_leaves_nothing_behind(served: Any, variant: str) -> None:
    """The leak check over the protocol: a served stream that connected, sent and was closed holds
    no channel; the suite's server stops, leaving no thread of the suite's running and no port bound."""
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    with harnessed(served(variant)) as h:
        conn = h.connect()
        assert h.result(h.stream.send(conn, "status_update", "m0")) == "sent"
        h.settle()
        assert h.delivered(conn) == ["m0"]
        port = h.server.port
    assert [c.open for c in h.connections()] == [False]
    assert port_is_free(port)
    assert leaked_threads(before) == []


def _replays(variant: str, remote: Any, every: bool) -> None:
    local = targets.load(variant)
    for rule in family.RULES:
        cases = rule.generate(0, 1)
        for case in cases if every else cases[:1] + [c for c in cases if c.quirks][:1]:
            assert rule.replay is not None
            here, there = rule.replay(local, case.inputs), rule.replay(remote, case.inputs)
            assert there == here, f"{rule.id} {case.name}: served {there}, in process {here}"


@pytest.mark.parametrize("variant", ["alys-fixed", "alys"])
def test_governance_vectors_replay_to_the_same_outputs_served(served: Any, variant: str) -> None:
    """Of each governance rule, a valid case and a quirk-tagged one: the same outputs served."""
    _replays(variant, served(variant), every=False)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["alys-fixed", "alys"])
def test_every_governance_vector_replays_to_the_same_outputs_served(served: Any, variant: str) -> None:
    _replays(variant, served(variant), every=True)


PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v"]


def _pytest(target: str, tmp: Path) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALYS_", "PYTEST_"))}
    env.update(HYPOTHESIS_PROFILE="ci", ALYS_PBT_LOCAL_DB=str(tmp))
    done = subprocess.run(
        [*PYTEST, "--target", target, "properties/test_governance.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    found = dict(re.findall(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)\b", done.stdout, re.M))
    assert found, done.stdout[-3000:]
    return found, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["alys", "alys-fixed"])
def test_the_governance_properties_run_served_with_the_in_process_verdicts(
    tmp_path: Path, variant: str
) -> None:
    """The whole file through pytest (strict xfails from the registry, the known-failures store):
    every verdict served is the in-process one; on alys-fixed all pass."""
    here, _ = _pytest(variant, tmp_path / "local")
    there, out = _pytest(f"exec:{SERVE} {variant}", tmp_path / "remote")
    assert there == here, out[-6000:]
    assert set(here.values()) == ({"XFAIL"} if variant == "alys" else {"PASSED"}), here
