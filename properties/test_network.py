"""Properties of a network of Alys nodes: the network machine (models/machines/network.py) and the
fault thresholds of the approval rule, each probed just below, at and past the coalition size at
which its guarantee is lost (models/network.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from alys_pbt import chaos
from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.machines import machine_settings, machine_test
from alys_pbt.models.machines.network import Network, NetworkMachine
from alys_pbt.models.network import agreement_threshold, liveness_threshold
from alys_pbt.strategies.network import SLOT_MS, NetworkSetup

pytestmark = pytest.mark.network

TestNetwork = machine_test(
    kills("federation-duplicate-approval-toggles", "federation-equivocation-moves-bit")(NetworkMachine)
)
# A network example runs n nodes and their BLS: a sixteenth of the profile's examples, half its steps.
TestNetwork.settings = settings(
    machine_settings(),
    max_examples=max(4, settings().max_examples // 16),
    stateful_step_count=max(20, settings().stateful_step_count // 2),
)


def _split(n: int, coalition: tuple[int, ...]) -> tuple[list[int], list[int]]:
    honest = [i for i in range(n) if i not in coalition]
    return honest[: len(honest) // 2], honest[len(honest) // 2 :]


def _run(net: Network, slots: int, *, mine: bool = True) -> None:
    """`slots` slots, each node's miner asking for work at every slot."""
    for _ in range(slots):
        if mine:
            for p in net.honest:
                net.mine(p)
        net.flush()
        net.tick()
        net.flush()


THRESHOLD_CASES = [
    (n, f)
    for n in (4, 7)
    for f in range(agreement_threshold(n) - 1, agreement_threshold(n) + 2)
    if n - f >= 2
]


@kills("approvals-floor-threshold")
@pytest.mark.parametrize("case", THRESHOLD_CASES, ids=[f"n{n}-f{f}" for n, f in THRESHOLD_CASES])
@settings(max_examples=2, deadline=None)
@given(order=st.permutations(range(7)))
def test_agreement_is_lost_exactly_at_a_coalition_of_2q_minus_n(
    target: Target, case: tuple[int, int], order: list[int]
) -> None:
    """Threshold (Agreement): the honest authorities split in two halves that cannot hear each other,
    and a coalition of f approving every block it sees, linked to both. Each half imports and
    finalizes its own blocks iff its half of the honest authorities and the coalition reach
    ceil(2n/3): honest nodes finalize conflicting blocks exactly when f >= 2*ceil(2n/3) - n."""
    n, f = case
    coalition = tuple(sorted([i for i in order if i < n][:f]))
    net = Network(target, NetworkSetup(n, 0, coalition, (0,) * n))
    left, right = _split(n, coalition)
    net.cut = {frozenset((a, b)) for a in left for b in right}
    note(f"coalition {coalition}, sides {left} | {right}")
    _run(net, 3 * n)
    conflicting = [
        (height, blocks)
        for height, blocks in net.conflicts()
        if all(net.peers[i].finalized_height >= height for i in (*left, *right))
    ]
    chaos.record_example({"coalition-at-threshold", "partition"}, {"coalition-at-threshold": {"agreement"}})
    assert bool(conflicting) == (f >= agreement_threshold(n)), (
        f"with a coalition of {f} of {n}, honest nodes {'did' if conflicting else 'did not'} finalize "
        f"conflicting blocks; the threshold is {agreement_threshold(n)}"
    )


LIVENESS_CASES = [(n, f) for n in (4, 7) for f in (liveness_threshold(n) - 1, liveness_threshold(n))]


@kills("approvals-strict-threshold")
@pytest.mark.parametrize("case", LIVENESS_CASES, ids=[f"n{n}-f{f}" for n, f in LIVENESS_CASES])
@settings(max_examples=2, deadline=None)
@given(order=st.permutations(range(7)))
def test_liveness_is_lost_exactly_when_withholders_exceed_n_minus_q(
    target: Target, case: tuple[int, int], order: list[int]
) -> None:
    """Threshold (Liveness): a coalition that neither proposes nor approves stops finalization
    exactly when the honest authorities left are fewer than ceil(2n/3): f >= n - ceil(2n/3) + 1."""
    n, f = case
    coalition = tuple(sorted([i for i in order if i < n][:f]))
    net = Network(target, NetworkSetup(n, 0, coalition, (0,) * n))
    net.withholding = True
    note(f"coalition {coalition} withholds")
    _run(net, 2 * n)
    chaos.record_example({"withhold"}, {"withhold": {"liveness"}})
    advanced = all(p.finalized_height > 0 for p in net.honest)
    assert advanced == (f < liveness_threshold(n)), (
        f"with {f} of {n} withholding, finalization {'advanced' if advanced else 'stalled'}; "
        f"the threshold is {liveness_threshold(n)}"
    )


@kills("federation-first-candidate-only")
@settings(max_examples=2, deadline=None)
@given(n=st.sampled_from([4, 6]), slots=st.integers(1, 2), duplicate=st.booleans())
def test_after_a_partition_no_half_could_win_a_later_block_is_accepted(
    target: Target, n: int, slots: int, duplicate: bool
) -> None:
    """Liveness (fork choice): the authorities split into halves that cannot reach ceil(2n/3) and
    each proposes at the next height; after the heal, a later block at that height must win and
    finalization advance on every node (the machine's heal_and_run)."""
    machine = NetworkMachine(target)
    machine.net = Network(target, NetworkSetup(n, 0, (), (0,) * n))
    machine.n = n
    half = n // 2
    machine.net.cut = {frozenset((a, b)) for a in range(half) for b in range(half, n)}
    _run(machine.net, slots * n, mine=False)
    machine.net.fault("partition")
    machine.heal_and_run(duplicate)
    machine.teardown()


@settings(max_examples=3, deadline=None)
@given(n=st.integers(3, 5), byzantine=st.integers(0, 4), slot_offset=st.integers(1, 4))
def test_a_block_signed_for_another_authoritys_slot_is_never_imported(
    target: Target, n: int, byzantine: int, slot_offset: int
) -> None:
    """Validity: one authority proposes a block in a slot that is another's (signing it itself, the
    slot author's bit unset); honest nodes never approve it into a majority, and never import it."""
    byzantine %= n
    net = Network(target, NetworkSetup(n, 0, (byzantine,), (0,) * n))
    _run(net, 1, mine=False)
    best = net.best()
    parent = best.imported[best.node.head].message
    slot = (net.now // SLOT_MS) + slot_offset
    slot += (byzantine - slot) % n + 1  # a slot whose author is the next authority, not the proposer
    f = net.factory
    forged = f.proposal(f.block(parent, slot), byzantine)
    h = net.hash_of(forged)
    note(f"authority {byzantine} proposes height {parent.height + 1} in slot {slot} (authority {slot % n}'s)")
    net.propose(net.peers[byzantine], forged)
    net.flush()
    chaos.record_example(
        {"sign-other-slot", "approve-invalid"},
        {"sign-other-slot": {"validity"}, "approve-invalid": {"validity"}},
    )
    imported = [p.index for p in net.honest if h in p.imported]
    assert not imported, f"honest nodes {imported} imported a block signed for another authority's slot"


@settings(max_examples=2, deadline=None)
@given(n=st.integers(3, 4), attempts=st.integers(1, 3), victim=st.integers(0, 3))
def test_a_long_range_fork_never_undoes_finality(target: Target, n: int, attempts: int, victim: int) -> None:
    """Finality: a peer answers a node's sync with a fork that branches below its finalized height
    (blocks at heights it already holds); the node's sync, which rolls the head back one block on an
    import error (chain.rs sync), must never undo what the node finalized."""
    net = Network(target, NetworkSetup(n, 1, (), (0,) * (n + 1)))
    _run(net, n + 2)
    p = net.honest[victim % n]
    fin = p.finalized_height
    assert fin >= 1, f"no finalization to attack (node {p.index} at {p.head_height})"
    chain = p.chain()
    kept = {height: chain[height] for height in range(fin + 1)}
    f = net.factory
    fork_parent = p.imported[chain[fin - 1]].message
    fork = f.proposal(f.block(fork_parent, fork_parent.slot + 1, variant=9), (fork_parent.slot + 1) % n)
    note(f"node {p.index} finalized {fin} (head {p.head_height}); fork at height {fin}, {attempts} attempts")
    for _ in range(attempts):
        p.on_sync_response((fork,))
    chaos.record_example({"long-range-fork"}, {"long-range-fork": {"finality"}})
    after = p.chain()
    assert p.finalized_height >= fin, (
        f"node {p.index}'s finalized height fell from {fin} to {p.finalized_height}"
    )
    assert all(after.get(height) == h for height, h in kept.items()), "a finalized block was undone"
