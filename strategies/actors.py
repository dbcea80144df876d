"""Strategies for the actor runtime: messages, sequences, failure schedules, topologies, policies."""

from __future__ import annotations

from attrs import frozen
from hypothesis import strategies as st

# The supervision policies are the interface's plain data (a target reads them by variant name and
# fields), re-exported for the actor machines.
from alys_pbt.interface import Delayed as Delayed
from alys_pbt.interface import ExponentialBackoff as ExponentialBackoff
from alys_pbt.interface import Immediate as Immediate
from alys_pbt.interface import Never as Never
from alys_pbt.interface import Progressive as Progressive
from alys_pbt.interface import SupervisionPolicy as SupervisionPolicy

PRIORITIES = st.integers(0, 5)  # Background .. Emergency
SENDERS = ("chain", "engine", "bridge", "sync", "network")
# The V2 actor graph (alys-rules.md §6.1): actor -> what it depends on.
V2_TOPOLOGY: dict[str, tuple[str, ...]] = {
    "storage": (),
    "engine": ("storage",),
    "chain": ("engine", "storage"),
    "bridge": ("chain",),
    "auxpow_miner": ("chain",),
    "network": ("peer",),
    "peer": (),
    "sync": ("chain", "network"),
    "health_monitor": (),
}


@frozen
class ActorMessage:
    sender: str
    seq: int  # per-sender sequence number, from 1
    priority: int
    size: int  # payload bytes
    ask: bool


@st.composite
def message_sequences(
    draw: st.DrawFn, *, senders: tuple[str, ...] = SENDERS, min_size: int = 0, max_size: int = 40
) -> list[ActorMessage]:
    """Messages from several senders, numbered per sender in sending order."""
    raw = draw(
        st.lists(
            st.tuples(st.sampled_from(senders), PRIORITIES, st.integers(0, 4096), st.booleans()),
            min_size=min_size,
            max_size=max_size,
        )
    )
    counters: dict[str, int] = {}
    out = []
    for sender, priority, size, ask in raw:
        counters[sender] = counters.get(sender, 0) + 1
        out.append(ActorMessage(sender, counters[sender], priority, size, ask))
    return out


def actor_messages(*, senders: tuple[str, ...] = SENDERS) -> st.SearchStrategy[ActorMessage]:
    """One message (sequence number 1); use message_sequences for numbered streams."""
    return message_sequences(senders=senders, min_size=1, max_size=1).map(lambda ms: ms[0])


@st.composite
def failure_schedules(draw: st.DrawFn, *, messages: int = 40) -> frozenset[int]:
    """The indexes of the messages whose handling panics. How many is drawn first, as often 4 or
    more (past a hard-coded limit of 3 restarts, quirk actors-restart-limit-hardcoded) as fewer."""
    count = draw(st.one_of(st.integers(0, 3), st.integers(4, max(messages, 4))))
    size = min(count, messages)
    return frozenset(
        draw(st.lists(st.integers(0, max(messages - 1, 0)), min_size=size, max_size=size, unique=True))
    )


@st.composite
def topologies(draw: st.DrawFn, *, max_actors: int = 8) -> dict[str, tuple[str, ...]]:
    """The V2 actor graph, or a random dependency DAG (an actor depends only on earlier ones)."""
    if draw(st.booleans()):
        return dict(V2_TOPOLOGY)
    n = draw(st.integers(1, max_actors))
    names = [f"actor{i}" for i in range(n)]
    return {
        name: tuple(draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else ())
        for i, name in enumerate(names)
    }


restart_strategies = st.one_of(
    st.builds(Never),
    st.builds(Immediate),
    st.builds(Delayed, st.sampled_from([0.05, 0.5, 2.0])),
    st.builds(
        ExponentialBackoff,
        st.sampled_from([0.05, 0.1]),
        st.sampled_from([0.5, 30.0]),
        st.sampled_from([1.5, 2.0]),
    ),
    st.builds(Progressive, st.sampled_from([0.2, 0.05]), st.integers(1, 5), st.sampled_from([2.0, 1.5])),
)


def supervision_policies() -> st.SearchStrategy[SupervisionPolicy]:
    """Policies with every restart strategy, 1-6 restarts, and windows short and long."""
    return st.builds(
        SupervisionPolicy,
        strategy=restart_strategies,
        max_restarts=st.integers(1, 6),
        window=st.sampled_from([1.0, 5.0, 60.0]),
    )


@frozen
class PanicCase:
    """A worker's inbox: the messages in sending order, which of them panic, and after which the
    worker gets to run (the rest pile up)."""

    messages: tuple[ActorMessage, ...]
    poison: frozenset[int]  # indexes of the messages whose handling panics
    runs_after: frozenset[int]  # indexes after whose send the worker runs until idle

    def __repr__(self) -> str:
        shown = " ".join(
            f"{i}:{m.sender}#{m.seq}/p{m.priority}{'?' if m.ask else ''}{'!' if i in self.poison else ''}"
            for i, m in enumerate(self.messages)
        )
        return f"PanicCase({shown}; runs after {sorted(self.runs_after)})"


@st.composite
def panic_cases(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 40) -> PanicCase:
    """Messages from several senders, the ones that panic (as often past 3 as not: the node's
    hard-coded restart limit), and when the worker runs between sends."""
    messages = draw(message_sequences(min_size=min_size, max_size=max_size), label="messages")
    poison = draw(failure_schedules(messages=len(messages)), label="panics at")
    runs = draw(
        st.sets(st.integers(0, max(len(messages) - 1, 0)), max_size=len(messages)), label="runs after"
    )
    return PanicCase(tuple(messages), poison, frozenset(runs))
