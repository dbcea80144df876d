"""The actor strategies generate what they claim; the reference mailbox follows the design."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import alys
from alys.actors.mailbox import Envelope, Priority
from alys.actors.scheduler import DeterministicScheduler
from alys.actors.supervision import ExponentialBackoff, Immediate, SupervisionPolicy
from alys.actors.system import Behaviour
from alys_pbt.interface import Target
from alys_pbt.models import actors as ref
from alys_pbt.models.actors import CRITICAL, HIGH, LOW, NORMAL, MailboxModel, Msg
from alys_pbt.strategies.actors import (
    V2_TOPOLOGY,
    actor_messages,
    message_sequences,
    supervision_policies,
    topologies,
)

quick = settings(max_examples=50, database=None)


@quick
@given(messages=message_sequences())
def test_sequences_number_each_sender_from_one(messages) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, int] = {}
    for m in messages:
        assert m.seq == seen.get(m.sender, 0) + 1 and 0 <= m.priority <= 5
        seen[m.sender] = m.seq


@quick
@given(message=actor_messages(), policy=supervision_policies())
def test_single_messages_and_policies(message, policy) -> None:  # type: ignore[no-untyped-def]
    assert message.seq == 1 and 1 <= policy.max_restarts <= 6


@quick
@given(topology=topologies())
def test_topologies_are_dags_or_the_v2_graph(topology) -> None:  # type: ignore[no-untyped-def]
    names = list(topology)
    for deps in topology.values():
        assert all(d in topology for d in deps)
    if topology != V2_TOPOLOGY:
        assert all(names.index(d) < names.index(n) for n, deps in topology.items() for d in deps)


def test_v2_graph_has_the_designed_dependencies() -> None:
    # alys-rules.md §6.1: Chain depends on Engine and Storage, Engine on Storage, Bridge on Chain.
    assert set(V2_TOPOLOGY["chain"]) == {"engine", "storage"}
    assert V2_TOPOLOGY["engine"] == ("storage",) and V2_TOPOLOGY["bridge"] == ("chain",)


def test_model_mailbox_order_and_backpressure() -> None:
    box = MailboxModel(capacity=10, policy="reject")
    for i, p in enumerate([LOW, NORMAL, HIGH, CRITICAL, NORMAL, HIGH]):
        assert box.send(Msg("s", i + 1, p)) == "accepted"
    assert box.backpressure() == "WARNING"  # 6 of 10: at least half
    order = [box.deliver() for _ in range(6)]
    assert [m.seq for m in order] == [4, 3, 6, 2, 5, 1]  # Critical, High (older first), Normal FIFO, Low
    for i in range(8):
        box.send(Msg("t", i + 1, NORMAL))
    assert box.backpressure() == "CRITICAL"  # 8 = floor(10 x 0.8)
    box.send(Msg("t", 9, NORMAL)), box.send(Msg("t", 10, NORMAL))
    assert box.backpressure() == "BLOCKED" and box.send(Msg("t", 11, NORMAL)) == "rejected"


def test_model_drop_lowest_evicts_the_newest_lowest() -> None:
    box = MailboxModel(capacity=2, policy="drop-lowest")
    box.send(Msg("a", 1, LOW)), box.send(Msg("a", 2, LOW))
    assert box.send(Msg("b", 1, LOW)) == "dropped"  # not higher than the lowest: the newcomer goes
    assert box.send(Msg("b", 2, HIGH)) == "accepted" and box.dropped[-1] == Msg("a", 2, LOW)


# --- the port's supervisor at its limits, on explicit builds ---------------------------------------------
# The secure rule (alys-fixed) against the reference supervisor, with failures exactly at, just
# before and just after the restart window's edge; and the node's rule as coded (quirk
# actors-restart-limit-hardcoded on its own), which no secure-rule property can pin down: on target
# `alys` those properties fail either way.


def _failures(target: Target, policy: SupervisionPolicy, gaps: list[float]) -> list[str]:
    """Fail a worker after each gap (it restarts at once or escalates); what each failure led to."""
    scheduler = DeterministicScheduler()
    system = target.actors.system(scheduler)
    system.spawn("worker", Behaviour, supervision=policy)
    outcomes = []
    for gap in gaps:
        scheduler.advance(gap)
        if system.lookup("worker").state.name != "RUNNING":
            break
        system.fail("worker")
        scheduler.run_until_idle()
        events = [event for _, event in system.lookup("worker").history]
        outcomes.append(events[len(events) - 1 - events[::-1].index("failed") + 1])  # what followed it
    return outcomes


@quick
@given(
    max_restarts=st.integers(1, 3),
    window=st.sampled_from([1.0, 5.0, 60.0]),
    edge=st.sampled_from([-0.5, 0.0, 0.5]),  # just before, exactly at, just after the window's edge
    extra=st.lists(st.sampled_from([0.0, 0.5, 1.0]), max_size=3),
)
def test_a_restart_exactly_a_window_ago_still_counts(
    max_restarts: int, window: float, edge: float, extra: list[float]
) -> None:
    """SupervisionPolicy: at most `max_restarts` restarts within `window` seconds, the window's
    edge included (supervisor.rs should_restart_child: now - t <= window): the failure after
    `max_restarts` quick ones, exactly a window later, escalates; just after, it restarts."""
    gaps = [0.0] * max_restarts + [window + edge, *extra]
    model = ref.SupervisorModel(Immediate(), max_restarts, window)
    expected, now = [], 0.0
    for gap in gaps:
        now += gap
        due = model.on_failure(now)
        expected.append("restart in 0.0" if due is not None else "escalated: too many restarts")
        if due is None:
            break
    fixed = alys.build("alys-fixed")
    assert _failures(fixed, SupervisionPolicy(Immediate(), max_restarts, window), gaps) == expected


@quick
@given(
    max_restarts=st.integers(1, 8),
    window=st.sampled_from([0.5, 60.0]),
    gap=st.sampled_from([0.0, 1.0]),
)
def test_the_node_as_coded_escalates_at_the_fourth_failure_whatever_the_policy(
    max_restarts: int, window: float, gap: float
) -> None:
    """Quirk actors-restart-limit-hardcoded, as the node codes it (handle_child_failure's
    `restart_count < 3`): three restarts, then escalation at the fourth failure, whatever the
    policy's maximum and window."""
    quirk = alys.build("alys-fixed+actors-restart-limit-hardcoded", ["actors-restart-limit-hardcoded"])
    outcomes = _failures(quirk, SupervisionPolicy(Immediate(), max_restarts, window), [gap] * 6)
    assert outcomes == ["restart in 0.0"] * 3 + ["escalated: too many restarts"]


def test_every_actor_deviation_reaches_its_component_through_the_port() -> None:
    """The actors port hands its variant to every component it builds (alys/actors/__init__.py):
    each deviation of the area, switched on alone, shows in the component it lives in, and not
    without it. A port that drops the variant would make a quirk or seeded mutant unreachable."""

    def build(deviation: str | None) -> Any:
        return alys.build(f"alys-fixed+{deviation}", [deviation]) if deviation else alys.build("alys-fixed")

    def restart_delay(deviation: str | None) -> float | None:  # actors-restart-count-from-1: attempt + 1
        return build(deviation).actors.restart_delay(ExponentialBackoff(0.1, 30.0, 2.0), 0)

    def over_capacity(deviation: str | None) -> str:  # actors-capacity-unenforced: a full box still takes it
        box = build(deviation).actors.mailbox(1, "block")
        box.send(Envelope("a", 1, Priority.NORMAL, "first"))
        box.send(Envelope("a", 2, Priority.NORMAL, "second"))
        return f"{len(box)} queued"

    def timer_ties(deviation: str | None) -> list[str]:  # actors-timer-ties-newest-first
        scheduler, ran = build(deviation).actors.scheduler(), []
        for name in ("older", "newer"):
            scheduler.call_later(1.0, lambda name=name: ran.append(name))
        scheduler.advance(1.0)
        scheduler.run_until_idle()
        return ran

    def runaway(deviation: str | None) -> int:  # actors-idle-runs-past-limit: one step past the limit
        scheduler = build(deviation).actors.scheduler()

        def again() -> None:
            scheduler.call_soon(again)

        scheduler.call_soon(again)
        return scheduler.run_until_idle(limit=10)

    assert (restart_delay(None), restart_delay("actors-restart-count-from-1")) == (0.1, 0.2)
    assert (over_capacity(None), over_capacity("actors-capacity-unenforced")) == ("1 queued", "2 queued")
    assert timer_ties(None) == ["older", "newer"]
    assert timer_ties("actors-timer-ties-newest-first") == ["newer", "older"]
    assert (runaway(None), runaway("actors-idle-runs-past-limit")) == (10, 11)
