"""The index of the suite's rules, generated as docs/rules.md: `python -m alys_pbt.rules [--check]`.

For each rule: the reference that states it (models/), the port's code (alys/), the strategies that
draw its inputs (strategies/), its invalid cases (the catalogue records, strategies/invalid.py), the
properties that test it (properties/), the invariants of the state machines among them, and the
deviations that break those properties (the registry, alys_pbt/deviations.py: quirks and library
deviations, which properties they break, derived from the records; mutants, from `@kills`).

The table below names the objects themselves, so a renamed function fails the import; the
properties are named by node id, and tests/test_rules_index.py checks that every property of the
suite belongs to exactly one rule and that docs/rules.md is what this module writes.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen
from hypothesis.stateful import INVARIANT_MARKER

import alys.actors.mailbox
import alys.actors.scheduler
import alys.actors.supervision
import alys.actors.system
import alys.approvals
import alys.auxpow
import alys.bls
import alys.chain
import alys.codec
import alys.evm
import alys.governance
import alys.node
import alys.sync.engine
import alys.sync.store
import alys.wire
from alys_pbt import deviations, killing
from alys_pbt.database import ROOT
from alys_pbt.models import (
    actor_trees,
    actors,
    approvals,
    auxpow,
    bitcoin,
    blocks,
    bls,
    chain,
    evm,
    pegin,
    retarget,
    sync,
)
from alys_pbt.models import governance as governance_model
from alys_pbt.models import network as network_model
from alys_pbt.strategies import actors as actor_strategies
from alys_pbt.strategies import approvals as approval_strategies
from alys_pbt.strategies import auxpow as auxpow_strategies
from alys_pbt.strategies import bitcoin as bitcoin_strategies
from alys_pbt.strategies import blocks as block_strategies
from alys_pbt.strategies import corruptions, malformed_bitcoin, malformed_blocks
from alys_pbt.strategies import evm as evm_strategies
from alys_pbt.strategies import governance as governance_strategies
from alys_pbt.strategies import network as network_strategies
from alys_pbt.strategies import retarget as retarget_strategies
from alys_pbt.strategies import sync as sync_strategies
from alys_pbt.strategies.invalid import AREAS, Area, InvalidCase

DOC = ROOT / "docs" / "rules.md"
COMMAND = "python -m alys_pbt.rules"


@frozen
class Rule:
    """One rule of the protocol and everything the suite has for it."""

    id: str  # "<area>/<rule>"
    area: Area
    summary: str
    reference: tuple[Any, ...]  # functions and classes of models/
    port: tuple[Any, ...]  # functions, classes and methods of alys/
    strategies: tuple[Any, ...]  # strategies of strategies/ (functions)
    properties: tuple[str, ...]  # node ids without parameters: "test_x.py::test_y" under properties/


def _props(file: str, *names: str) -> tuple[str, ...]:
    return tuple(f"properties/{file}::{name}" for name in names)


RULES: tuple[Rule, ...] = (
    # --- auxpow -----------------------------------------------------------------------------------
    Rule(
        "auxpow/bitcoin-encoding",
        "auxpow",
        "Bitcoin consensus encoding: headers, transactions and AuxPoW decode strictly, round-trip, "
        "and hash as Bitcoin does",
        (bitcoin.Transaction, bitcoin.BlockHeader, bitcoin.merkle_root, auxpow.AuxPow),
        (alys.codec.read_tx, alys.codec.encode_tx, alys.codec.read_auxpow, alys.codec.merkle_root),
        (
            bitcoin_strategies.transactions,
            bitcoin_strategies.block_headers,
            bitcoin_strategies.merkle_trees,
            malformed_bitcoin.malformed_bitcoin,
        ),
        _props("test_auxpow.py", "test_encodings_round_trip", "test_hashes_match_python_bitcoinlib")
        + _props(
            "test_bitcoin_decoders.py",
            "test_decoders_answer_structured_corruption_with_typed_errors",
            "test_decoders_reject_malformed_bytes_with_typed_errors",
        ),
    ),
    Rule(
        "auxpow/check",
        "auxpow",
        "AuxPow::check: the proof commits to the aux hash, in the parent's coinbase, at the slot of "
        "our chain id",
        (auxpow.check, auxpow.expected_index, auxpow.find_header),
        (
            alys.auxpow.AuxPowPort.check,
            alys.auxpow.AuxPowPort.check_decoded,
            alys.auxpow.AuxPowPort.find_header_vout,
            alys.auxpow.AuxPowPort.find_header_vin,
            alys.auxpow.AuxPowPort.expected_index,
        ),
        (auxpow_strategies.auxpow_cases, corruptions.corrupted_cases),
        _props(
            "test_auxpow.py",
            "test_valid_proofs_are_accepted",
            "test_check_rejects_corruption",
            "test_expected_index_matches_reference",
        )
        + _props("test_bitcoin_decoders.py", "test_check_answers_structured_corruption_with_typed_errors"),
    ),
    Rule(
        "auxpow/check-pow",
        "auxpow",
        "check_pow: an AuxPowHeader finalizes the range after the last finalized block, with its own "
        "fields, a proof of the range's aggregate hash and enough work",
        (auxpow.check_pow, auxpow.aggregate_hash),
        (alys.chain.ChainPort.check_pow, alys.chain.ChainPort.aggregate_hash),
        (auxpow_strategies.auxpow_cases, corruptions.corrupted_cases),
        _props(
            "test_auxpow.py",
            "test_check_pow_rejects_corruption",
            "test_check_pow_accepts_valid_headers",
            "test_aggregate_hash_matches_reference",
        ),
    ),
    Rule(
        "auxpow/proof-of-work",
        "auxpow",
        "compact bits decode to a target and back, and a parent hash meets a target when at most it",
        (
            auxpow.target_from_compact,
            auxpow.compact_from_target,
            auxpow.hash_meets_target,
            auxpow.check_proof_of_work,
        ),
        (
            alys.auxpow.AuxPowPort.target_from_compact,
            alys.auxpow.AuxPowPort.compact_from_target,
            alys.auxpow.AuxPowPort.hash_meets_target,
            alys.auxpow.AuxPowPort.check_proof_of_work,
        ),
        (auxpow_strategies.compact_bits, auxpow_strategies.pow_probes),
        _props(
            "test_auxpow.py",
            "test_compact_encoding_matches_reference",
            "test_compact_round_trip_within_precision",
            "test_compact_decoding_matches_reference",
            "test_pow_verdict_at_the_boundary_matches_reference",
            "test_hash_exactly_at_target_meets_it",
            "test_proof_of_work_matches_reference",
        ),
    ),
    # --- retarget ---------------------------------------------------------------------------------
    Rule(
        "retarget/next-work",
        "retarget",
        "the bits the next AuxPoW must meet: retarget when due, by the block-gap ratio, bounded by "
        "the maximum adjustment, never to target 0",
        (retarget.get_next_work_required, retarget.calculate_next_work_required),
        (alys.chain.ChainPort.get_next_work_required, alys.chain.ChainPort.calculate_next_work_required),
        (
            retarget_strategies.retarget_situations,
            retarget_strategies.retarget_params,
            retarget_strategies.block_gaps,
        ),
        _props(
            "test_retarget.py",
            "test_retarget_matches_reference",
            "test_retarget_formula_matches_reference",
            "test_retarget_is_bounded_by_max_adjustment",
            "test_retarget_is_monotone_in_block_gap",
            "test_retarget_at_ratio_one_keeps_bits",
            "test_retarget_never_yields_zero_target",
        ),
    ),
    # --- approvals --------------------------------------------------------------------------------
    Rule(
        "approvals/threshold",
        "approvals",
        "a block needs ceil(2n/3) approvals, and every authority fits the 15-bit aggregation bitlist",
        (approvals.required_approvals, approvals.check_federation_size),
        (alys.approvals.ApprovalsPort.required_approvals, alys.approvals.ApprovalsPort._check_size),
        (approval_strategies.keyrings,),
        _props(
            "test_approvals.py",
            "test_threshold_is_ceil_two_thirds",
            "test_block_approvals_just_below_at_and_just_above_the_threshold",
            "test_federation_size_just_below_at_and_past_the_bitlist",
        ),
    ),
    Rule(
        "approvals/aggregate",
        "approvals",
        "a block's aggregate approval: every set bit a known authority, enough of them, and the "
        "aggregate verifying for exactly them",
        (approvals.check_aggregate, approvals.AggregateApproval),
        (alys.approvals.ApprovalsPort.majority_approved, alys.approvals.Aggregate),
        (approval_strategies.aggregate_approvals, approval_strategies.keyrings),
        _props(
            "test_approvals.py",
            "test_block_approvals_are_judged_like_the_reference",
            "test_aggregate_bits_at_and_past_the_last_authority",
        ),
    ),
    Rule(
        "approvals/individual",
        "approvals",
        "one authority's approval: a known index and its signature over this block",
        (approvals.check_individual, approvals.IndividualApproval),
        (alys.approvals.ApprovalsPort.check_individual,),
        (approval_strategies.byzantine_approvals, approval_strategies.approvals),
        _props(
            "test_approvals.py",
            "test_individual_approvals_are_judged_like_the_reference",
            "test_individual_approvals_at_and_past_the_last_authority",
        ),
    ),
    Rule(
        "approvals/acceptance",
        "approvals",
        "a block is accepted once ceil(2n/3) distinct authorities approved it, whatever the order "
        "blocks and approvals arrive in",
        (approvals.Federation,),
        (alys.approvals.CandidateCache,),
        (approval_strategies.signed_proposals, approval_strategies.approvals),
        _props("test_approvals.py", "TestFederation"),
    ),
    Rule(
        "approvals/bls",
        "approvals",
        "BLS signatures of the IETF proof-of-possession suite: KeyValidate, Verify, FastAggregateVerify",
        (bls.Backend, bls.Blst),
        (alys.bls.LighthouseBls,),
        (approval_strategies.malformed_signatures, approval_strategies.keyrings),
        _props(
            "test_bls.py",
            "test_target_gives_the_ietf_verdict_on_edge_inputs",
            "test_backends_agree_on_edge_inputs",
            "test_memoized_verification_answers_like_the_unmemoized_reference",
            "test_every_library_signs_the_same_bytes_and_the_node_accepts_them",
            "test_py_ecc_reference_agrees_with_blst_and_the_node",
        ),
    ),
    # --- chain ------------------------------------------------------------------------------------
    Rule(
        "chain/process-block",
        "chain",
        "process_block in the node's order: parent, height, payload link, slot and author, approvals, "
        "withdrawals, finalization; all or nothing",
        (chain.Chain.process_block, blocks.slot_author, blocks.slot_is_in_future),
        (alys.node.Node.process_block, alys.node.Node.rollback_head),
        (block_strategies.chains, block_strategies.signed_blocks),
        _props(
            "test_chain.py",
            "test_corrupted_blocks_are_rejected",
            "TestChain",
            "test_full_nodes_and_validators_agree",
        )
        + _props(
            "test_block_decoders.py",
            "test_a_refused_block_changes_nothing",
            "test_a_block_whose_transactions_the_el_refuses_imports_whole",
        ),
    ),
    Rule(
        "chain/pegins-and-fees",
        "chain",
        "peg-ins mint what they pay the federation, once, to the address they name; a PoW block pays "
        "the parent's fees, 80% to the miner and the rest split over the federation",
        (pegin.pegin_info, pegin.fee_split, pegin.expected_withdrawals),
        (alys.node.Node._check_withdrawals, alys.node.Node._pegin),
        (block_strategies.pegin_transactions, block_strategies.chains),
        _props(
            "test_chain.py",
            "test_fee_split_pays_a_repeated_address_the_sum",
            "test_pegins_mint_for_every_address_form",
        ),
    ),
    Rule(
        "chain/block-wire-form",
        "chain",
        "a block has one MessagePack wire form, bounded in size, counts and depth; anything else is a "
        "DecodeError",
        (blocks.block_from_bytes, blocks.block_to_bytes),
        (alys.wire.decode_block, alys.wire.encode_block),
        (
            block_strategies.signed_blocks,
            malformed_blocks.malformed_wire_blocks,
            malformed_blocks.mangled_wire_blocks,
            malformed_blocks.with_value,
        ),
        _props(
            "test_block_decoders.py",
            "test_block_decoders_give_their_typed_error_on_structure_aware_bad_input",
            "test_every_count_limit_holds_at_below_and_past_it",
            "test_the_block_size_limit_holds_at_below_and_past_it",
        )
        + _props("test_evm_and_wire.py", "test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors"),
    ),
    Rule(
        "chain/evm-transactions",
        "chain",
        "EVM transactions: canonical RLP, bounded size, low-s signatures, EIP-155 chain id, and the "
        "sender they recover",
        (evm.decode, evm.sender),
        (alys.evm.decode, alys.evm.transaction_sender, alys.evm.SenderCache),
        (
            evm_strategies.evm_transactions,
            malformed_blocks.malformed_transactions,
            malformed_blocks.sized_transaction,
        ),
        _props(
            "test_block_decoders.py",
            "test_transaction_decoders_give_their_typed_error_on_structure_aware_bad_input",
            "test_the_sender_memo_answers_as_recovery_does_when_keys_repeat",
            "test_the_transaction_size_limit_holds_at_below_and_past_it",
        )
        + _props(
            "test_evm_and_wire.py",
            "test_signed_transactions_round_trip_and_recover_their_signer",
            "test_bad_transactions_get_typed_errors_from_both_stacks",
        ),
    ),
    # --- sync -------------------------------------------------------------------------------------
    Rule(
        "sync/range-sync",
        "sync",
        "sync reaches the canonical tip from honest and faulty peers: ranges served exactly, bad "
        "blocks cost nothing, peers retried only as the policy allows",
        (sync.Canonical, sync.AnswerJudge, sync.RetryReference),
        (alys.sync.engine.SyncEngine, alys.sync.engine.SimNetwork),
        (sync_strategies.canonical_chains, sync_strategies.peer_behaviours, sync_strategies.network_faults),
        _props(
            "test_sync.py",
            "TestSync",
            "test_range_requests_get_exactly_the_canonical_blocks",
            "test_a_response_times_out_only_past_the_request_timeout",
            "test_a_bad_block_from_a_peer_costs_the_node_nothing",
            "test_the_verification_memo_answers_as_a_fresh_verifier_when_inputs_are_reused",
            "test_sync_reaches_the_tip_whatever_peers_claim",
            "test_a_failing_peer_is_asked_again_only_when_the_retry_policy_allows",
            "test_parallel_download_from_several_peers_imports_the_canonical_chain",
            "test_full_sync_of_ten_thousand_blocks_from_several_peers_with_faults",
        ),
    ),
    Rule(
        "sync/store-and-checkpoints",
        "sync",
        "the store keeps every acknowledged block through crashes and disk faults, and checkpoints "
        "follow the interval and hold the reference state",
        (sync.expected_checkpoints,),
        (alys.sync.store.Store,),
        (sync_strategies.store_faults, sync_strategies.disk_faults),
        _props(
            "test_sync.py",
            "TestCheckpoints",
            "test_checkpoints_follow_the_interval_and_hold_the_reference_state",
            "test_a_crash_at_any_write_loses_nothing_acknowledged",
            "test_recovery_never_trusts_a_rotted_checkpoint",
        ),
    ),
    Rule(
        "sync/concurrent-syncs-and-parallel-download",
        "sync",
        "two syncs of one node at once, parallel downloads through failing peers and a disk that "
        "stays full: the node holds the canonical chain, gives up nothing, never runs ahead of its "
        "store, and judges each peer by one standing",
        (sync.RetryReference, sync.fair_rounds),
        (alys.sync.engine.SyncEngine.sync_parallel, alys.sync.engine.SyncEngine.round),
        (sync_strategies.peer_behaviours, sync_strategies.network_faults),
        _props("test_sync_chaos.py", "TestSyncUnderFaults"),
    ),
    # --- actors -----------------------------------------------------------------------------------
    Rule(
        "actors/mailbox",
        "actors",
        "a mailbox delivers by priority, FIFO within one, within its capacity, with backpressure; "
        "every message once",
        (actors.MailboxModel,),
        (alys.actors.mailbox.Mailbox, alys.actors.system.ActorSystem.ask),
        (actor_strategies.message_sequences, actor_strategies.actor_messages),
        _props(
            "test_actors.py",
            "TestMailbox",
            "test_a_thousand_concurrent_senders_deliver_exactly_once_in_order",
            "test_an_ask_the_mailbox_refuses_fails_at_once_and_a_late_one_times_out_naming_itself",
            "test_tell_ask_broadcast_and_route_deliver_sender_priority_and_payload",
            "test_a_mailbox_spawned_with_the_defaults_holds_1000_and_rejects_the_next",
            "test_an_unknown_actor_or_a_taken_name_is_refused_naming_it",
        ),
    ),
    Rule(
        "actors/supervision",
        "actors",
        "a supervisor restarts a failed actor as its policy says, within its limits, losing no "
        "acknowledged message",
        (actors.SupervisorModel, actors.restart_delay),
        (alys.actors.supervision.Supervisor,),
        (
            actor_strategies.failure_schedules,
            actor_strategies.supervision_policies,
        ),
        _props(
            "test_actors.py",
            "TestSupervision",
            "TestMessageFlows",
            "test_restart_delays_match_the_reference",
            "test_an_ask_of_a_crashed_actor_times_out_in_simulated_time_or_is_answered_after_restart",
            "test_panics_at_chosen_messages_lose_nothing_else",
            "test_on_the_asyncio_scheduler_panics_lose_nothing_and_every_ask_is_answered",
            "test_a_behaviour_sees_its_own_context_starting_then_running",
            "test_the_lifecycle_history_records_each_failure_and_what_the_supervisor_decided",
        ),
    ),
    Rule(
        "actors/scheduler-and-shutdown",
        "actors",
        "the deterministic scheduler runs tasks and timers in order within its limit; shutdown stops "
        "dependents first, every actor once",
        (actors.SchedulerModel,),
        (alys.actors.scheduler.DeterministicScheduler, alys.actors.system.ActorSystem.shutdown),
        (actor_strategies.topologies,),
        _props(
            "test_actors.py",
            "TestScheduler",
            "test_run_until_idle_stops_a_runaway_task_at_its_default_limit",
            "test_shutdown_stops_dependents_before_their_dependencies",
            "test_shutdown_stops_every_actor_once_even_on_a_dependency_cycle",
            "test_the_scheduler_holds_one_task_per_running_actor_with_mail_and_none_for_a_failed_one",
        ),
    ),
    Rule(
        "actors/supervision-trees",
        "actors",
        "in a tree of any depth a failure takes its subtree down, a restart brings it back, an "
        "escalation fails the parent up to the root; no actor runs under a parent that is down, no "
        "acknowledged message is lost; on the deterministic and the asyncio runtime alike, leaving "
        "nothing pending",
        (actor_trees.TreeModel,),
        (alys.actors.system.ActorSystem._fail, alys.actors.system.ActorSystem._restart),
        (actor_strategies.supervision_policies,),
        _props("test_actors_chaos.py", "TestSupervisionTree", "TestSupervisionTreeOnAsyncio"),
    ),
    Rule(
        "actors/resource-pressure",
        "actors",
        "a mailbox never holds past its memory limit; a slow handler holds its actor, a stalled one "
        "fails at the processing timeout; a forward refused along a route is a dead letter; on both "
        "runtimes, leaving nothing pending",
        (actors.MailboxModel,),
        (alys.actors.mailbox.Mailbox.send, alys.actors.system.ActorSystem._handle_slowly),
        (actor_strategies.actor_messages,),
        _props("test_actors_chaos.py", "TestPressure", "TestPressureOnAsyncio"),
    ),
    # --- governance (the V2 StreamActor, governance-stream.md) ---------------------------------------
    Rule(
        "governance/connection",
        "governance",
        "the stream reconnects on the coded backoff schedule and gives up after max_attempts, a "
        "silent server is found out within heartbeat timeout + one monitor period, at most "
        "max_connections are live, and nothing is left running when it closes",
        (
            governance_model.backoff_delay,
            governance_model.backoff_bounds,
            governance_model.gives_up,
            governance_model.detection_bound,
            governance_model.refuses_connection,
        ),
        (
            alys.governance.StreamActor.backoff,
            alys.governance.StreamActor._lost,
            alys.governance.StreamActor._tick,
            alys.governance.StreamActor._connect,
        ),
        (governance_strategies.stream_policies, governance_strategies.time_steps),
        _props(
            "test_governance.py",
            "TestGovernance",
            "test_reconnect_waits_follow_the_coded_schedule",
            "test_a_silent_server_is_detected_within_the_heartbeat_bound",
            "test_the_connection_cap_refuses_the_eleventh",
        ),
    ),
    Rule(
        "governance/delivery",
        "governance",
        "what the stream takes while down waits in a bounded DropOldest buffer and reaches the server "
        "after reconnect once each, in order; nothing acknowledged is lost but what the policy drops",
        (governance_model.OutboundBuffer,),
        (alys.governance.StreamActor._enqueue, alys.governance.StreamActor._connected),
        (governance_strategies.stream_policies,),
        _props("test_governance.py", "test_messages_sent_while_down_are_replayed_in_order_after_reconnect"),
    ),
    Rule(
        "governance/signatures",
        "governance",
        "a signature response resolves exactly the pending request its metadata names, once, and is "
        "handed to the requester with its status and witnesses",
        (governance_model.Correlation,),
        (alys.governance.StreamActor._request_signatures, alys.governance.StreamActor._signature_response),
        (),
        _props("test_governance.py", "test_each_signature_response_reaches_its_requester_whatever_the_order"),
    ),
    # --- network (issue 16) ----------------------------------------------------------------------
    Rule(
        "network/agreement",
        "network",
        "honest nodes hold different blocks at one height only when at least 2*ceil(2n/3) - n "
        "authorities approved both (quorum intersection); a coalition of that size, linked to both "
        "halves of a partition, makes each half finalize its own blocks",
        (network_model.agreement_threshold, network_model.equivocations, network_model.equivocators),
        (
            alys.approvals.CandidateCache.insert_block,
            alys.approvals.CandidateCache.add_approval,
            alys.approvals.ApprovalsPort.required_approvals,
        ),
        (network_strategies.network_setups,),
        _props(
            "test_network.py", "TestNetwork", "test_agreement_is_lost_exactly_at_a_coalition_of_2q_minus_n"
        ),
    ),
    Rule(
        "network/liveness",
        "network",
        "after a heal, with ceil(2n/3) honest authorities connected, finalization advances within a "
        "few rounds of slots: a later block at a stalled height wins; withholding by n - ceil(2n/3) + 1 "
        "stops it",
        (network_model.liveness_threshold,),
        (alys.approvals.CandidateCache.insert_block, alys.approvals.CandidateCache._maybe_accept),
        (network_strategies.network_setups,),
        _props(
            "test_network.py",
            "test_liveness_is_lost_exactly_when_withholders_exceed_n_minus_q",
            "test_after_a_partition_no_half_could_win_a_later_block_is_accepted",
        ),
    ),
    Rule(
        "network/validity",
        "network",
        "only blocks the reference accepts are imported: proposed by the slot's author alone and "
        "carrying ceil(2n/3) verifying approvals",
        (network_model.import_verdict, network_model.proposal_verdict),
        (alys.node.Node.process_block,),
        (),
        _props("test_network.py", "test_a_block_signed_for_another_authoritys_slot_is_never_imported"),
    ),
    Rule(
        "network/finality",
        "network",
        "a finalized block is never undone, whatever a sync peer answers (chain.rs sync rolls the head "
        "back on an import error)",
        (chain.Chain.rollback,),
        (alys.node.Node.rollback,),
        (),
        _props("test_network.py", "test_a_long_range_fork_never_undoes_finality"),
    ),
)


# --- what is derived ---------------------------------------------------------------------------------


def where(obj: Any) -> tuple[str, str]:
    """(path from the project root, qualified name) of a function, class or strategy."""
    fn = getattr(obj, "__func__", obj)
    module = sys.modules[fn.__module__]
    path = Path(module.__file__ or "").resolve().relative_to(ROOT).as_posix()
    name = getattr(fn, "__qualname__", "")
    if not name or "<locals>" in name:  # a strategy made by @st.composite keeps its own __name__
        name = getattr(fn, "__name__", repr(fn))
    return path, name


def cases_of(rule: Rule, sweeps: Sequence[Any] = deviations.SWEEPS) -> tuple[InvalidCase, ...]:
    """The invalid cases the rule's properties run (each catalogue record once)."""
    found: dict[tuple[str, str], InvalidCase] = {}
    for sweep in sweeps:
        if sweep.nodeid.removesuffix("::runTest") in rule.properties:
            for case in sweep.cases:
                found.setdefault((case.area, case.name), case)
    return tuple(found.values())


def machines_of(rule: Rule, cases: Sequence[killing.Case]) -> tuple[type, ...]:
    """The state machines among the rule's properties."""
    found: dict[type, None] = {}
    for case in cases:
        if case.function in rule.properties and case.is_machine:
            found[case.obj.runTest._hypothesis_state_machine_class] = None
    return tuple(found)


def invariants(machine: type) -> tuple[str, ...]:
    """The machine's invariants, by method name, in definition order."""
    return tuple(
        name
        for klass in reversed(machine.__mro__)
        for name, value in vars(klass).items()
        if getattr(value, INVARIANT_MARKER, None) is not None
    )


def deviations_of(rule: Rule, cases: Sequence[killing.Case]) -> tuple[deviations.Deviation, ...]:
    """The quirks and library deviations that break (or may break) the rule's properties, and the
    mutants those properties declare they kill."""
    nodeids = [c.nodeid for c in cases if c.function in rule.properties]
    found: dict[str, deviations.Deviation] = {}
    for d in (*deviations.QUIRKS, *deviations.LIBRARY):
        patterns = (*d.breaks, *d.may_break, *(p for p, _ in d.jointly))
        if any(fnmatch.fnmatchcase(n, p) for n in nodeids for p in patterns):
            found[d.id] = d
    for case in cases:
        if case.function in rule.properties:
            for mutant in case.declared:
                found[mutant] = deviations.get(mutant)
    return tuple(found.values())


# --- the document ----------------------------------------------------------------------------------


def _link(path: str, text: str | None = None) -> str:
    return f"[`{text or path}`](../{path})"


def _objects(objs: Sequence[Any]) -> str:
    return "; ".join(f"{_link(path)} `{name}`" for path, name in map(where, objs))


def _anchor(rule_id: str) -> str:
    return rule_id.replace("/", "")


def render(rules: Sequence[Rule] = RULES) -> str:
    """docs/rules.md."""
    cases = killing.discover()
    out = [
        "# Rules: reference, port, strategies, invalid cases, properties, machines, deviations",
        "",
        f"Generated by `{COMMAND}` from `alys_pbt/rules.py` and the registries it reads (the invalid-case",
        "records, `alys_pbt/deviations.py`, the properties' `@kills`); do not edit by hand.",
        f"`{COMMAND} --check` (and tests/test_rules_index.py) fails when this file is stale.",
        "",
        "Links are relative to this file. Deviations: *quirk* (the node's code deviates; the property",
        "runs as a strict xfail on target `alys`; *may break*: only by chance), *library* (a BLS library",
        "disagrees with the IETF suite), *mutant* (a seeded bug the property must kill).",
        "",
    ]
    for area, text in AREAS.items():
        mine = [r for r in rules if r.area == area]
        if mine:
            out.append(f"- **{area}** ({text}): " + ", ".join(f"[{r.id}](#{_anchor(r.id)})" for r in mine))
    for area in AREAS:
        for rule in (r for r in rules if r.area == area):
            out += _section(rule, cases)
    return "\n".join(out) + "\n"


def _section(rule: Rule, cases: Sequence[killing.Case]) -> list[str]:
    out = ["", f"## {rule.id}", "", rule.summary + ".", ""]
    out.append(f"- Reference: {_objects(rule.reference)}")
    out.append(f"- Port: {_objects(rule.port)}")
    out.append(f"- Strategies: {_objects(rule.strategies)}")
    invalid = cases_of(rule)
    if invalid:
        out.append(f"- Invalid cases ({len(invalid)}):")
        for c in invalid:
            exposes = ", ".join(
                f"`{e.deviation}`" + (f" (through {', '.join(e.via)})" if e.via else "") for e in c.exposes
            )
            tail = f"; let through by {exposes}" if exposes else ""
            out.append(f"  - `{c.name}` → `{c.expected}`: {c.rule} [{c.origin_text}]{tail}")
    out.append("- Properties:")
    for nodeid in rule.properties:
        path, name = nodeid.split("::", 1)
        out.append(f"  - {_link(path)} `{name}`")
    for machine in machines_of(rule, cases):
        path, name = where(machine)
        names = ", ".join(f"`{i}`" for i in invariants(machine)) or "none"
        out.append(f"- Machine {_link(path)} `{name}`, invariants: {names}")
    found = deviations_of(rule, cases)
    if found:
        out.append("- Deviations:")
        nodeids = [c.nodeid for c in cases if c.function in rule.properties]
        for d in found:
            chance = d.kind == "quirk" and not any(
                fnmatch.fnmatchcase(n, p) for n in nodeids for p in (*d.breaks, *(p for p, _ in d.jointly))
            )
            kind = "quirk, may break" if chance else d.kind
            out.append(f"  - `{d.id}` ({kind}): {d.summary}")
    return out


def main(argv: Sequence[str] | None = None, write: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/rules.md is stale")
    parser.add_argument("--out", type=Path, default=DOC, help="where to write (default docs/rules.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            write(f"{args.out} is stale: run {COMMAND}")
            return 1
        write(f"{args.out} is current")
        return 0
    args.out.write_text(text)
    write(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
