"""Strategies for the governance stream: stream policies (the coded defaults, with the buffer and the
connection cap shrunk so a machine reaches their bounds), signature statuses, notifications, and
the simulated-time steps that matter (each backoff wait, the heartbeat and monitor periods)."""

from __future__ import annotations

from hypothesis import strategies as st

from alys_pbt.models.governance import SIGNATURE_STATUSES, StreamPolicy, backoff_delay

DEFAULT = StreamPolicy()
# SignatureStatus numbers of the proto (1..5), by name
STATUS_NUMBERS: dict[str, int] = {name: i for i, name in enumerate(SIGNATURE_STATUSES, start=1)}
NOTIFICATIONS = ("status_update", "pegin_notification")


@st.composite
def stream_policies(
    draw: st.DrawFn, *, max_buffer: int = 4, max_connections: int = 3, jitter: bool = True
) -> StreamPolicy:
    """The coded policy with a small buffer and cap; jitter as coded (0.1) or off."""
    return StreamPolicy(
        buffer_size=draw(st.integers(1, max_buffer)),
        max_connections=draw(st.integers(1, max_connections)),
        jitter=draw(st.sampled_from([0.1, 0.0])) if jitter else 0.0,
    )


signature_statuses = st.sampled_from(SIGNATURE_STATUSES)
notification_kinds = st.sampled_from(NOTIFICATIONS)


@st.composite
def signature_rounds(
    draw: st.DrawFn, *, max_requests: int = 5, min_answered: int = 1
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Statuses for requests 0..n-1, and the indices the server answers, in its order (some never)."""
    statuses = draw(st.lists(signature_statuses, min_size=1, max_size=max_requests), label="statuses")
    # By default at least one answer: a round nobody answers hands nothing on, whatever the code, and
    # a count that is 0 as often as a shrink-minded draw makes it leaves ten examples blind.
    order = draw(st.permutations(range(len(statuses))), label="order")
    count = draw(st.integers(min(min_answered, len(statuses)), len(statuses)), label="answered")
    return tuple(statuses), tuple(order[:count])


def time_steps(*, policy: StreamPolicy = DEFAULT) -> st.SearchStrategy[float]:
    """Steps of simulated time: a little, each backoff wait just below and past it, the heartbeat and
    monitor periods, past the detection bound, and the cap."""
    waits = [backoff_delay(policy, n) for n in range(1, policy.max_attempts + 1)]
    edges = sorted({w * f for w in waits for f in (0.89, 1.11)})
    fixed = [0.5, policy.heartbeat_interval, policy.monitor_interval, 95.0, policy.max_delay * 1.11]
    return st.sampled_from(sorted({*edges, *fixed}))


def failure_counts(*, policy: StreamPolicy = DEFAULT) -> st.SearchStrategy[int]:
    """Consecutive failures, 0 to twice max_attempts, half the time at the cap's edges: one below
    the first capped wait, the first, one past it, and the most (each count checks every wait to it)."""
    capped = next(n for n in range(1, 64) if backoff_delay(policy, n) >= policy.max_delay)
    edges = sorted({capped - 1, capped, capped + 1, 2 * policy.max_attempts})
    return st.one_of(st.sampled_from(edges), st.integers(0, 2 * policy.max_attempts))
