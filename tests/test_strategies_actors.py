"""The actor strategies generate what they claim; the reference mailbox follows the design."""

from __future__ import annotations

from hypothesis import given, settings

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
