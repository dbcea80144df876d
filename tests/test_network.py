"""The network machine's guarantees, each shown failing on a seeded bug in a scripted schedule (and
holding on alys-fixed under the same schedule); the thresholds of models/network.py; the as-coded
approval rule losing agreement without any Byzantine authority; the chaos section."""

from __future__ import annotations

from typing import Any

import pytest

from alys_pbt import chaos, targets
from alys_pbt.interface import view
from alys_pbt.machines import wired
from alys_pbt.models import bls
from alys_pbt.models.approvals import required_approvals
from alys_pbt.models.machines.network import Network, NetworkMachine
from alys_pbt.models.network import (
    SignedMessage,
    agreement_threshold,
    equivocations,
    equivocators,
    liveness_threshold,
)
from alys_pbt.strategies.network import FAULT_KINDS, SLOT_MS, NetworkSetup


def _target(spec: str) -> Any:
    return view(targets.load(spec), spec)


def _machine(spec: str, setup: NetworkSetup) -> NetworkMachine:
    machine = wired(NetworkMachine, _target(spec))()
    machine.net = Network(machine.target, setup)
    machine.n = setup.authorities
    return machine


def _slots(net: Network, count: int, *, mine: bool = True) -> None:
    for _ in range(count):
        if mine:
            for p in net.honest:
                net.mine(p)
        net.flush()
        net.tick()
        net.flush()


def test_thresholds_follow_quorum_intersection() -> None:
    """ceil(2n/3) of n: two quorums share 2q - n; withholding n - q + 1 leaves no quorum."""
    table = {n: (required_approvals(n), agreement_threshold(n), liveness_threshold(n)) for n in (3, 4, 7, 15)}
    assert table == {3: (2, 1, 2), 4: (3, 2, 2), 7: (5, 3, 3), 15: (10, 5, 6)}


def test_equivocation_evidence_names_each_double_signer_once_per_pair() -> None:
    a, b, c = b"a" * 32, b"b" * 32, b"c" * 32
    seen = [
        SignedMessage("approval", 1, 5, 3, a, b"s1"),
        SignedMessage("approval", 1, 6, 3, b, b"s2"),
        SignedMessage("approval", 1, 6, 3, b, b"s2"),  # a duplicate is no new evidence
        SignedMessage("approval", 2, 6, 3, b, b"s3"),
        SignedMessage("block", 1, 7, 4, c, b"s4"),
        SignedMessage("approval", 1, 7, 4, c, b"s4"),
    ]
    evidence = equivocations(seen)
    assert [(e.authority, e.kind) for e in evidence] == [(1, "approval")]
    assert equivocators(evidence, "approval", 3, frozenset({a, b})) == {1}


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+approvals-floor-threshold"])
def test_agreement_fails_on_a_floor_threshold_after_an_even_partition(spec: str) -> None:
    """2|2 of four authorities: ceil(8/3) = 3 keeps both halves from importing; floor(8/3) = 2 lets
    each import its own blocks with nobody approving both, which Agreement reports."""
    m = _machine(spec, NetworkSetup(4, 0, (), (0,) * 4))
    m.net.cut = {frozenset((a, b)) for a in (0, 1) for b in (2, 3)}
    _slots(m.net, 8, mine=False)
    if spec == "alys-fixed":
        assert not m.net.conflicts()
        m.agreement()
    else:
        assert m.net.conflicts()
        with pytest.raises(AssertionError, match="Agreement"):
            m.agreement()


def _long_range(m: NetworkMachine) -> None:
    net = m.net
    _slots(net, 8)
    m.finality()
    p = net.honest[0]
    fin = p.finalized_height
    assert fin >= 1
    parent = p.imported[p.chain()[fin - 1]].message
    f = net.factory
    fork = f.proposal(f.block(parent, parent.slot + 1, variant=9), (parent.slot + 1) % f.n)
    for _ in range(4):
        p.on_sync_response((fork,))


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+chain-rollback-undoes-finalization"])
def test_finality_fails_when_a_rollback_undoes_finalization(spec: str) -> None:
    m = _machine(spec, NetworkSetup(4, 0, (), (0,) * 4))
    _long_range(m)
    if spec == "alys-fixed":
        m.finality()
    else:
        with pytest.raises(AssertionError, match="Finality"):
            m.finality()


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+chain-slot-author-unchecked"])
def test_validity_fails_when_the_slot_author_is_unchecked(spec: str) -> None:
    """Authority 0 signs a block for authority 1's slot; with the check commented out, honest
    validators approve it and import it, which the reference refuses (WrongSlotAuthor)."""
    m = _machine(spec, NetworkSetup(4, 0, (0,), (0,) * 4))
    net = m.net
    f = net.factory
    slot = 4 * 3 + 1  # authority 1's
    net.now = (slot - 1) * SLOT_MS
    net.propose(net.peers[0], f.proposal(f.block(f.genesis.message, slot), 0))
    net.flush()
    if spec == "alys-fixed":
        m.validity()
    else:
        with pytest.raises(AssertionError, match=r"Validity.*WrongSlotAuthor"):
            m.validity()


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+bls-wrong-dst"])
def test_accountability_fails_when_the_node_cannot_verify_the_evidence(spec: str) -> None:
    """A coalition member signs two blocks for one slot: the evidence must verify on the node's BLS."""
    m = _machine(spec, NetworkSetup(4, 0, (1,), (0,) * 4))
    net = m.net
    f = net.factory
    net.now = SLOT_MS
    first, second = (f.proposal(f.block(f.genesis.message, 1, variant=v), 1) for v in (0, 1))
    net.injected_equivocations.append((1, "block", frozenset({net.hash_of(first), net.hash_of(second)})))
    net.propose(net.peers[1], first, [0])
    net.propose(net.peers[1], second, [2, 3])
    net.flush()
    if spec == "alys-fixed":
        m.accountability()
    else:
        with pytest.raises(AssertionError, match="Accountability"):
            m.accountability()


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+federation-first-candidate-only"])
def test_liveness_fails_when_fork_choice_keeps_the_first_candidate(spec: str) -> None:
    """2|2 of four: each half proposes at height 1 and neither reaches 3 approvals. After the heal a
    later block at height 1 must win; a cache that keeps only its first candidate never accepts it."""
    m = _machine(spec, NetworkSetup(4, 0, (), (0,) * 4))
    m.net.cut = {frozenset((a, b)) for a in (0, 1) for b in (2, 3)}
    _slots(m.net, 4, mine=False)
    if spec == "alys-fixed":
        m.heal_and_run(duplicate=False)
    else:
        with pytest.raises(AssertionError, match="Liveness"):
            m.heal_and_run(duplicate=False)


@pytest.mark.parametrize("spec", ["alys-fixed", "alys-fixed+federation-duplicate-approval-toggles"])
def test_gossip_duplicates_must_not_unset_an_approval(spec: str) -> None:
    """Every gossip message arrives twice (two mesh paths): a cache that toggles on a re-delivered
    approval builds aggregates that do not verify (a crash of the cache) and stops finalizing."""
    m = _machine(spec, NetworkSetup(4, 0, (), (0,) * 4))
    if spec == "alys-fixed":
        m.heal_and_run(duplicate=True)
    else:
        with pytest.raises(AssertionError, match=r"crashed|Liveness"):
            m.heal_and_run(duplicate=True)


def test_as_coded_agreement_is_lost_without_any_byzantine_authority() -> None:
    """Finding: validators approve every valid block above their head (chain.rs process_block), with
    no lock per height. Authority 1 proposes X; 0 and 3 approve it, and their approvals reach 1 only;
    authority 2, who never saw X, proposes Y at the same height in its slot and 0 and 3 approve it
    too: 1 imports X, 2 imports Y, with no Byzantine authority. The evidence names 0 and 3."""
    m = _machine("alys-fixed", NetworkSetup(4, 0, (), (0,) * 4))
    net = m.net
    net.cut = {frozenset((1, 2)), frozenset((0, 3))}
    _slots(net, 2, mine=False)
    conflicts = net.conflicts()
    assert conflicts and conflicts[0][0] == 1
    height, pair = conflicts[0]
    assert net.peers[1].chain()[1] != net.peers[2].chain()[1]
    assert equivocators(equivocations(net.seen), "approval", height, pair) == {0, 3}
    m.agreement()  # accountable: 2 = 2q - n authorities approved both


def test_chaos_section_lists_every_fault_kind_and_merges_reports() -> None:
    counts: dict[str, dict[str, Any]] = {}
    chaos._add(counts, {"partition": {"examples": 2, "invariants": ["agreement"]}})
    chaos._add(counts, {"partition": {"examples": 1, "invariants": ["finality"]}})
    lines = chaos.lines(counts)
    assert len(lines) == len(FAULT_KINDS)
    assert "partition: 3 examples; exercised agreement, finality" in lines
    assert "sybil: not covered" in lines
    assert "| sybil | 0 | **not covered** |" in chaos.markdown(counts)


def test_the_network_runs_on_the_reference_bls_backend_it_is_given() -> None:
    net = Network(_target("alys-fixed"), NetworkSetup(3, 1, (), (0,) * 4), bls.backend())
    _slots(net, 6)
    assert all(p.finalized_height >= 1 for p in net.peers)
