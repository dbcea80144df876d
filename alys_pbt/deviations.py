"""The registry of known deviations: the port's quirks, the libraries' deviations and the seeded mutants.

A *library* deviation is a measured disagreement of a third-party BLS library with the IETF
suite (bls-edge-cases.md); it is always present, so the properties it breaks always run as strict
xfails: the run turns red if the library changes. A *quirk* is a place where the Alys node's code
deviates from the secure rule; the port carries it (target `alys` has every quirk on, `alys-fixed`
none). A *mutant* is a small seeded bug switched on in `alys-fixed` to prove that the properties
which declare it (with `@kills`) can fail.

`breaks` lists the properties a quirk breaks, as pytest node-id patterns (fnmatch, relative to the
project root); when the chosen target carries the quirk, they run as strict xfails. It is derived:
each property that runs a catalogue of invalid cases is a `Sweep` (`SWEEPS` below), and a quirk
breaks the items whose case exposes it (`InvalidCase.exposes`, strategies/invalid.py); a quirk's
declaration lists only the properties no catalogue drives. `may_break` lists the properties it
breaks only by chance (a random draw must find its form): they run as non-strict xfails, whose
failure must still be the registered one, and the findings list them as "may show".
`component` is the deviation's area (strategies/invalid.py AREAS: the markers' names), by which the
findings are grouped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Literal

import attrs
from attrs import frozen

from alys_pbt.strategies import approvals, blocks, corruptions, wire_forms
from alys_pbt.strategies.invalid import Sweep, item_pattern

Kind = Literal["quirk", "mutant", "library"]


@frozen
class Deviation:
    id: str
    kind: Kind
    component: str  # its area (AREAS)
    summary: str
    source: str  # where in the Alys code (quirk) or the port (mutant) it lives
    breaks: tuple[str, ...] = ()  # quirks only: node-id patterns of the properties it breaks
    requires: tuple[str, ...] = ()  # deviations without which this one cannot show
    # (pattern, other quirks): properties it breaks only in combination with those quirks
    jointly: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The failures that count as the property catching it, by exception class name (a foreign
    # target's classes are its own): an assertion (a verdict mismatch, a broken invariant) unless
    # the deviation is a crash the property sees raised, e.g. the node's abort ("NodePanic").
    # Anything else (a dead database, a TypeError in a strategy, Flaky) fails the run
    # (alys_pbt/verdict.py strays).
    fails_with: tuple[str, ...] = ("AssertionError",)
    # node-id patterns of properties it breaks only sometimes: non-strict xfails, same failure rule
    may_break: tuple[str, ...] = ()

    def breaks_item(self, nodeid: str, carried: Iterable[str] | None = None) -> bool:
        """Whether it breaks the property, given every deviation the target carries (None: all)."""
        on = None if carried is None else set(carried)
        if on is not None and not set(self.requires) <= on:
            return False
        if any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in self.breaks):
            return True
        return any(
            fnmatch.fnmatchcase(nodeid, pattern) and (on is None or set(others) <= on)
            for pattern, others in self.jointly
        )

    def may_break_item(self, nodeid: str, carried: Iterable[str] | None = None) -> bool:
        """Whether it can break the property by chance (and does not break it for sure)."""
        on = None if carried is None else set(carried)
        if on is not None and not set(self.requires) <= on:
            return False
        hit = any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in self.may_break)
        return hit and not self.breaks_item(nodeid, carried)


AUXPOW_PROPS = "properties/test_auxpow.py"
APPROVALS_PROPS = "properties/test_approvals.py"
BLS_PROPS = "properties/test_bls.py"
RETARGET_PROPS = "properties/test_retarget.py"
ACTORS_PROPS = "properties/test_actors.py"
NETWORK_PROPS = "properties/test_network.py"
CHAIN_PROPS = "properties/test_chain.py"
DECODER_PROPS = "properties/test_block_decoders.py"
WIRE_PROPS = "properties/test_evm_and_wire.py"
SYNC_PROPS = "properties/test_sync.py"
GOVERNANCE_PROPS = "properties/test_governance.py"

# Every property that runs a catalogue of invalid cases: once per case (its parametrization, by
# case name) or drawing any case in each example. A quirk breaks the items whose case it lets
# through, unless the property judges something other than the verdict (`checks_verdict`).
_OUTPUT_SCRIPT = tuple(c for c in corruptions.CATALOGUE if "output-script" in c.applies_to)
SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        f"{AUXPOW_PROPS}::test_check_rejects_corruption",
        tuple(c for c in corruptions.CATALOGUE if c.level == "structure"),
        corruptions.CHECK,
    ),
    Sweep(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _OUTPUT_SCRIPT, corruptions.CHECK_POW),
    Sweep(f"{CHAIN_PROPS}::test_corrupted_blocks_are_rejected", blocks.CATALOGUE),
    Sweep(f"{CHAIN_PROPS}::TestChain::runTest", blocks.CATALOGUE, parametrized=False),
    # Compares a validator's verdicts with a full node's, not with the rule's.
    Sweep(
        f"{CHAIN_PROPS}::test_full_nodes_and_validators_agree",
        tuple(
            c
            for c in blocks.CATALOGUE
            if c.expected in ("UnknownWithdrawal", "NotAPegin", "InsufficientConfirmations")
        ),
        parametrized=False,
        checks_verdict=False,
    ),
    # Judges what a refusal leaves behind, not whether the block is refused.
    Sweep(
        f"{DECODER_PROPS}::test_a_refused_block_changes_nothing",
        tuple(c for c in blocks.CATALOGUE if c.name != "missing-required-pow"),
        checks_verdict=False,
    ),
    Sweep(
        f"{DECODER_PROPS}::test_block_decoders_give_their_typed_error_on_structure_aware_bad_input",
        wire_forms.WIRE_FORMS,
    ),
    Sweep(
        f"{APPROVALS_PROPS}::test_block_approvals_are_judged_like_the_reference",
        approvals.AGGREGATES,
        parametrized=False,
    ),
    Sweep(
        f"{APPROVALS_PROPS}::test_individual_approvals_are_judged_like_the_reference",
        approvals.BYZANTINE,
        parametrized=False,
    ),
)


def _derived(declared: Deviation) -> Deviation:
    """The quirk with `breaks` completed: every swept item whose invalid case it lets through."""
    swept = tuple(pattern for sweep in SWEEPS for pattern in sweep.broken_by(declared.id))
    return attrs.evolve(declared, breaks=tuple(dict.fromkeys((*swept, *declared.breaks))))


_DECLARED_QUIRKS: tuple[Deviation, ...] = (
    # --- auxpow: every property they break runs a catalogue (strategies/corruptions.py) ----------
    Deviation(
        id="auxpow-any-tx-commitment",
        kind="quirk",
        component="auxpow",
        summary="the committed transaction's index and coinbase-ness are never checked: "
        "a commitment in any transaction of a Bitcoin block is accepted (index 0 and at least one "
        "input are Namecoin's rules; one input spending the null prevout is the suite's hardening)",
        source="app/src/auxpow.rs AuxPow::check (no nIndex == 0, no coinbase check)",
    ),
    Deviation(
        id="auxpow-check-pow-aborts",
        kind="quirk",
        component="auxpow",
        summary="an AuxPoW that meets the target but fails a structural check makes check_pow "
        "abort the process (.unwrap() under panic = abort) instead of rejecting the block",
        source="app/src/chain.rs check_pow: auxpow.check(...).unwrap()",
    ),
    Deviation(
        id="auxpow-header-fields-unchecked",
        kind="quirk",
        component="auxpow",
        summary="the AuxPowHeader's own bits, height and chain_id are never compared with what "
        "the chain requires; the proof is checked against the header's chain_id (comparing them "
        "is the suite's hardening)",
        source="app/src/chain.rs check_pow (bits from retarget, header.chain_id passed to check)",
    ),
    # --- retarget ---------------------------------------------------------------------------------
    Deviation(
        id="retarget-caps-low-ratio",
        kind="quirk",
        component="retarget",
        summary="a block-gap ratio below 1 is clamped to at most maxPowAdjustment/100 "
        "(min instead of max), so the target can shrink far below the adjustment bound",
        source="app/src/auxpow_miner.rs calculate_next_work_required: ratio.min(lower)",
        breaks=(
            f"{RETARGET_PROPS}::test_retarget_is_bounded_by_max_adjustment",
            f"{RETARGET_PROPS}::test_retarget_matches_reference",
            f"{RETARGET_PROPS}::test_retarget_formula_matches_reference",
        ),
    ),
    Deviation(
        id="retarget-ratio-one-truncates",
        kind="quirk",
        component="retarget",
        summary="a ratio of exactly 1 still goes through target/100*100, which truncates and "
        "can change the bits although nothing should change",
        source="app/src/auxpow_miner.rs calculate_next_work_required",
        breaks=(
            f"{RETARGET_PROPS}::test_retarget_at_ratio_one_keeps_bits",
            f"{RETARGET_PROPS}::test_retarget_matches_reference",
            f"{RETARGET_PROPS}::test_retarget_formula_matches_reference",
        ),
    ),
    Deviation(
        id="retarget-zero-bits",
        kind="quirk",
        component="retarget",
        summary="a ratio that rounds to 0.00 gives percent 0, target 0 and bits 0x00000000",
        source="app/src/auxpow_miner.rs calculate_next_work_required: (ratio*100).to_u8()",
        breaks=(f"{RETARGET_PROPS}::test_retarget_never_yields_zero_target",),
        # With the low ratio raised to the adjustment, no ratio can round to 0.00.
        requires=("retarget-caps-low-ratio",),
    ),
    # --- approvals ---------------------------------------------------------------------------------
    Deviation(
        id="approvals-padded-bits-count",
        kind="quirk",
        component="approvals",
        summary="set bits at index >= n count toward num_approvals but are zipped away from the "
        "authorities in verify: with n = 3, one real signature plus one padded bit reaches 2",
        source="app/src/signatures.rs AggregateApproval::num_approvals / verify",
        breaks=(f"{APPROVALS_PROPS}::test_aggregate_bits_at_and_past_the_last_authority",),
    ),
    Deviation(
        id="federation-early-approvals-lost",
        kind="quirk",
        component="approvals",
        summary="approvals that arrive before their block are parked under height 0, overwrite "
        "each other and are never merged when the block arrives",
        source="app/src/block_candidate/block_candidate_cache.rs (placeholder height 0)",
        breaks=(f"{APPROVALS_PROPS}::TestFederation::runTest",),
    ),
    Deviation(
        id="federation-replace-drops-approvals",
        kind="quirk",
        component="approvals",
        summary="a higher-slot block replaces the candidate at its height and the approvals "
        "gathered so far are dropped, as are later approvals of the replaced block",
        source="app/src/block_candidate/block_candidate_cache.rs insert",
        breaks=(f"{APPROVALS_PROPS}::TestFederation::runTest",),
    ),
    Deviation(
        id="approvals-authorities-beyond-bitlist",
        kind="quirk",
        component="approvals",
        summary="a federation of more than 15 authorities is taken as configured, but the 15-bit "
        "aggregation bitlist refuses the approvals of authorities 15 and above (UnknownAuthority, "
        "after their signatures verified): they can never approve",
        source="app/src/signatures.rs AggregateApproval (BitList<U15>, add_approval); no bound on "
        "the authorities is documented (alys-rules.md §3.2)",
        breaks=(f"{APPROVALS_PROPS}::test_federation_size_just_below_at_and_past_the_bitlist",),
    ),
    # --- actors ------------------------------------------------------------------------------------
    Deviation(
        id="actors-capacity-unenforced",
        kind="quirk",
        component="actors",
        summary="the capacity is enforced only when the mailbox rejects on full: under drop-lowest "
        "or block, a Blocked mailbox still enqueues (the semaphore permit is dropped in send)",
        source="crates/actor_system/src/mailbox.rs send",
        breaks=(
            f"{ACTORS_PROPS}::TestMailbox::runTest",
            # a full drop-lowest mailbox still takes the ask it should drop
            f"{ACTORS_PROPS}::test_an_ask_the_mailbox_refuses_fails_at_once_and_a_late_one_times_out_naming_itself",
        ),
    ),
    Deviation(
        id="actors-restart-limit-hardcoded",
        kind="quirk",
        component="actors",
        summary="failure handling allows a hard-coded 3 restarts instead of the policy's maximum "
        "and ignores the restart window (should_restart_child is never called)",
        source="crates/actor_system/src/supervisor.rs handle_child_failure",
        breaks=(
            f"{ACTORS_PROPS}::TestSupervision::runTest",
            # a worker told to restart at once, forever, escalates at its fourth panic
            f"{ACTORS_PROPS}::test_panics_at_chosen_messages_lose_nothing_else",
            f"{ACTORS_PROPS}::test_on_the_asyncio_scheduler_panics_lose_nothing_and_every_ask_is_answered",
        ),
    ),
    Deviation(
        id="actors-delayed-restarts-never-fire",
        kind="quirk",
        component="actors",
        summary="Delayed and backoff restarts are scheduled but never fire (a TODO), so the actor stays down",
        source="crates/actor_system/src/supervisor.rs (delayed restart TODO)",
        breaks=(
            f"{ACTORS_PROPS}::TestSupervision::runTest",
            f"{ACTORS_PROPS}::test_an_ask_of_a_crashed_actor_times_out_in_simulated_time_or_is_answered_after_restart",
        ),
    ),
    # --- chain -------------------------------------------------------------------------------------
    Deviation(
        id="chain-slot-author-unchecked",
        kind="quirk",
        component="chain",
        summary="the 'signed by the slot author' check is commented "
        "out: any authority's block passes for any slot",
        source="app/src/aura.rs check_signed_by_author",
        # In a network, honest validators approve a block signed for another authority's slot.
        breaks=(f"{NETWORK_PROPS}::test_a_block_signed_for_another_authoritys_slot_is_never_imported",),
    ),
    Deviation(
        id="chain-rollback-undoes-finalization",
        kind="quirk",
        component="chain",
        summary="rolling back the head moves the latest-PoW pointer back, so a finalized block can be undone",
        source="app/src/chain.rs rollback_head",
        # In a network, sync rolls the head back on an import error (chain.rs sync): a peer that
        # answers with a long-range fork walks the node back below its finalized height.
        breaks=(
            f"{CHAIN_PROPS}::TestChain::runTest",
            f"{NETWORK_PROPS}::test_a_long_range_fork_never_undoes_finality",
        ),
        # the machine's sync meets an import error only when a drawn schedule forks the chain
        may_break=(f"{NETWORK_PROPS}::TestNetwork::runTest",),
    ),
    Deviation(
        id="chain-withdrawals-extra-accepted",
        kind="quirk",
        component="chain",
        summary="unexpected extra withdrawals pass (only missing ones fail); the fee split map keeps the "
        "last amount for a repeated address instead of the sum",
        source="app/src/chain.rs check_withdrawals",
        breaks=(f"{CHAIN_PROPS}::test_fee_split_pays_a_repeated_address_the_sum",),
    ),
    Deviation(
        id="chain-full-nodes-skip-withdrawals",
        kind="quirk",
        component="chain",
        summary="full nodes skip the withdrawal and peg-out checks "
        "that validators apply, so the roles disagree",
        source="app/src/chain.rs process_block (is_validator)",
        breaks=(f"{CHAIN_PROPS}::test_full_nodes_and_validators_agree",),
    ),
    Deviation(
        id="chain-pegin-utf8-address-rejected",
        kind="quirk",
        component="chain",
        summary="a raw 20-byte peg-in address whose bytes are valid UTF-8 is parsed as a string and rejected",
        source="crates/federation/src/lib.rs pegin_info",
        breaks=(f"{CHAIN_PROPS}::test_pegins_mint_for_every_address_form",),
    ),
    Deviation(
        id="chain-wire-form-lenient",
        kind="quirk",
        component="chain",
        summary="the block decoder takes upper-case hex and whitespace, decimals with leading zeros or "
        "'+', and any MessagePack width: one block has several wire forms",
        source="parity-common impl-serde serialize.rs from_hex_raw; core u64::from_str (serde_utils "
        "quoted_u64); rmp-serde's decoder (alys-rules.md §2.2)",
        # A random byte flip sometimes lands on a form the decoder takes and the reference refuses.
        may_break=(f"{WIRE_PROPS}::test_block_wire_form_round_trips_and_bad_bytes_get_typed_errors",),
    ),
    # --- sync --------------------------------------------------------------------------------------
    Deviation(
        id="sync-serve-loop-index",
        kind="quirk",
        component="sync",
        summary="the range server breaks on the loop index (i > head) instead of the height, so a "
        "request starting above 0 gets wrong blocks (the head, for heights it does not have)",
        source="app/src/chain.rs get_blocks",
        breaks=(
            f"{SYNC_PROPS}::test_range_requests_get_exactly_the_canonical_blocks",
            # a node at the tip keeps getting copies of the head, so a small batch never comes back short
            f"{SYNC_PROPS}::test_sync_reaches_the_tip_whatever_peers_claim",
            f"{SYNC_PROPS}::test_full_sync_of_ten_thousand_blocks_from_several_peers_with_faults",
        ),
    ),
    Deviation(
        id="sync-error-rolls-back",
        kind="quirk",
        component="sync",
        summary="an import error from a peer rolls the head back by one block, and the latest-PoW "
        "pointer (finalization) with it",
        source="app/src/chain.rs sync (rollback_head(head - 1) on any other error)",
        breaks=(
            f"{SYNC_PROPS}::TestSync::runTest",
            f"{SYNC_PROPS}::test_a_bad_block_from_a_peer_costs_the_node_nothing*",
        ),
        # With the range server's quirk, a node at the tip is sent copies of its head; as coded each is
        # an error, so the node rolls back one block on every sync: it never settles at the tip, and a
        # crash mid-sync can lose a block the store had acknowledged. Each copy also counts against
        # the honest peer that sent it, so the peer is backed off for a block the node already has.
        jointly=(
            (f"{SYNC_PROPS}::TestCheckpoints::runTest", ("sync-serve-loop-index",)),
            # issue 16: the same copies undo what the other of two syncs running at once imported
            ("properties/test_sync_chaos.py::TestSyncUnderFaults::runTest", ("sync-serve-loop-index",)),
            (
                f"{SYNC_PROPS}::test_a_failing_peer_is_asked_again_only_when_the_retry_policy_allows",
                ("sync-serve-loop-index",),
            ),
        ),
    ),
    # --- governance (the V2 StreamActor, governance-stream.md) -------------------------------------
    Deviation(
        id="governance-buffer-lost-on-reconnect",
        kind="quirk",
        component="governance",
        summary="messages buffered while a stream is down are discarded when it reconnects (the "
        "connection is removed with its buffer and made anew), against the design's replay",
        source="app/src/actors/stream_actor.rs:280-282, 409-451; gs/ buffers are never written or "
        "replayed (governance-stream.md §6); docs/v2/implementation_analysis/stream_actor.knowledge.md:69-73",
        breaks=(
            f"{GOVERNANCE_PROPS}::TestGovernance::runTest",
            f"{GOVERNANCE_PROPS}::test_messages_sent_while_down_are_replayed_in_order_after_reconnect",
        ),
    ),
    Deviation(
        id="governance-connection-cap-unenforced",
        kind="quirk",
        component="governance",
        summary="max_connections (10) is only checked to be above 0: an eleventh connection is opened",
        source="app/src/actors/governance_stream/config.rs:1126 (mod.rs:49; the older actor refuses, "
        "stream_actor.rs:229-231)",
        breaks=(
            f"{GOVERNANCE_PROPS}::TestGovernance::runTest",
            f"{GOVERNANCE_PROPS}::test_the_connection_cap_refuses_the_eleventh",
        ),
    ),
    Deviation(
        id="governance-silence-undetected",
        kind="quirk",
        component="governance",
        summary="a silent server is never detected: liveness is set only on connect, never on receipt, "
        "and the monitor that flags an idle connection only logs",
        source="app/src/actors/governance_stream/actor.rs:804, 864-867 (heartbeat timeout "
        "protocol.rs:897 never read)",
        breaks=(
            f"{GOVERNANCE_PROPS}::TestGovernance::runTest",
            f"{GOVERNANCE_PROPS}::test_a_silent_server_is_detected_within_the_heartbeat_bound",
        ),
    ),
    Deviation(
        id="governance-signature-status-squashed",
        kind="quirk",
        component="governance",
        summary="every signature response is handed on as complete, so PENDING, PARTIAL, FAILED "
        "and TIMEOUT are lost",
        source="app/src/actors/governance_stream/protocol.rs:548-554",
        breaks=(
            f"{GOVERNANCE_PROPS}::TestGovernance::runTest",
            f"{GOVERNANCE_PROPS}::test_each_signature_response_reaches_its_requester_whatever_the_order",
        ),
    ),
    Deviation(
        id="governance-backoff-jitter-past-cap",
        kind="quirk",
        component="governance",
        summary="jitter is added after the cap, so a reconnect wait exceeds max_delay (300 s) by up "
        "to 10 % (measured: 270-330 s)",
        source="app/src/actors/governance_stream/reconnect.rs:339-356",
        breaks=(f"{GOVERNANCE_PROPS}::test_reconnect_waits_follow_the_coded_schedule",),
        # the machine reaches the cap only after eight failures in a row
        may_break=(f"{GOVERNANCE_PROPS}::TestGovernance::runTest",),
    ),
)
QUIRKS: tuple[Deviation, ...] = tuple(_derived(q) for q in _DECLARED_QUIRKS)

# A property that drives a valid proof through the target sees the mutant as the target's rejection
# (auxpow.rs AuxPowError, any variant: the name of the port's base class), not as an assertion.
_VALID_PROOF_REJECTED = ("AssertionError", "AuxPowError")

MUTANTS: tuple[Deviation, ...] = (
    # --- network (issue 16): gossip, equivocation handling and fork choice in the candidate cache ---
    Deviation(
        id="federation-duplicate-approval-toggles",
        kind="mutant",
        component="network",
        summary="an approval delivered twice (gossip by a second path) unsets its authority's bit, its "
        "signature staying in the aggregate, so the block's aggregate no longer verifies",
        source="alys/approvals.py Aggregate.add",
    ),
    Deviation(
        id="federation-equivocation-moves-bit",
        kind="mutant",
        component="network",
        summary="an authority's approval of a second block at a height takes its bit off the first "
        "candidate (the signature stays there), so the first can no longer be accepted",
        source="alys/approvals.py CandidateCache.add_approval",
    ),
    Deviation(
        id="federation-first-candidate-only",
        kind="mutant",
        component="network",
        summary="fork choice keeps the first block seen at a height as its only candidate: after a "
        "partition in which no side reached a majority, no later block at that height is accepted",
        source="alys/approvals.py CandidateCache.insert_block",
    ),
    Deviation(
        id="store-checkpoint-before-blocks",
        kind="mutant",
        component="sync",
        summary="a checkpoint is written before its block is committed",
        source="alys/sync/store.py put_block",
    ),
    # Seen as the restart itself failing (TestCheckpoints.restart lets the store's error escape).
    Deviation(
        id="store-recover-unverified",
        kind="mutant",
        component="sync",
        summary="recovery trusts the newest checkpoint without verifying it",
        source="alys/sync/store.py newest_valid_checkpoint",
        fails_with=("AssertionError", "StoreCorrupt"),
    ),
    Deviation(
        id="store-retention-off-by-one",
        kind="mutant",
        component="sync",
        summary="pruning keeps retention + 1 checkpoints",
        source="alys/sync/store.py prune",
    ),
    Deviation(
        id="sync-batch-start-off-by-one",
        kind="mutant",
        component="sync",
        summary="batches are requested from head + 2",
        source="alys/sync/engine.py round",
    ),
    Deviation(
        id="sync-trusts-claimed-height",
        kind="mutant",
        component="sync",
        summary="a peer's claimed height ends the sync",
        source="alys/sync/engine.py round",
    ),
    Deviation(
        id="sync-retry-without-backoff",
        kind="mutant",
        component="sync",
        summary="a peer that just failed is asked again at once",
        source="alys/sync/engine.py _available",
    ),
    Deviation(
        id="sync-breaker-never-opens",
        kind="mutant",
        component="sync",
        summary="three failures in a row do not open the peer's circuit breaker",
        source="alys/sync/engine.py _fail",
    ),
    Deviation(
        id="sync-failures-never-reset",
        kind="mutant",
        component="sync",
        summary="a good answer does not end a peer's run of failures",
        source="alys/sync/engine.py _succeed",
    ),
    # The store and engine before issue 14, one part each: every data loss under a real fault.
    Deviation(
        id="store-errors-untyped",
        kind="mutant",
        component="sync",
        summary="SQLite's own exceptions (locked, full, malformed) escape the store untyped",
        source="alys/sync/store.py Store._sqlite",
    ),
    Deviation(
        id="sync-head-moves-before-store",
        kind="mutant",
        component="sync",
        summary="the head stays moved when the store refuses the "
        "block: a hole below the next acknowledged block",
        source="alys/sync/engine.py SyncEngine._persist",
    ),
    Deviation(
        id="store-recovery-deletes-acknowledged",
        kind="mutant",
        component="sync",
        summary="recovery checks no row and cuts the store back at the "
        "first block that fails, deleting acknowledged blocks",
        source="alys/sync/engine.py recover",
    ),
    Deviation(
        id="store-rows-unverified",
        kind="mutant",
        component="sync",
        summary="nothing compares a block row with its digest "
        "or its hash: a rotted row is accepted on restart",
        source="alys/sync/store.py Store.check",
    ),
    Deviation(
        id="store-tail-loss-unchecked",
        kind="mutant",
        component="sync",
        summary="no acknowledgement record is compared at open: "
        "a file that lost its tail starts lower, silently",
        source="alys/sync/store.py Store.check",
    ),
    Deviation(
        id="store-shared-writer",
        kind="mutant",
        component="sync",
        summary="no exclusive lock: a second store opens the same file and overwrites acknowledged rows",
        source="alys/sync/store.py Store._open",
    ),
    Deviation(
        id="sync-parallel-swallows-store-errors",
        kind="mutant",
        component="sync",
        summary="parallel download takes a store error for a bad block and returns as if done",
        source="alys/sync/engine.py SyncEngine.sync_parallel",
    ),
    # Two syncs at once and faults during parallel download (issue 16, item 4).
    Deviation(
        id="sync-health-per-engine",
        kind="mutant",
        component="sync",
        summary="each sync keeps its own peer standing, so a second sync asks a peer the first just "
        "found failing (the port before issue 16)",
        source="alys/sync/engine.py SyncEngine.__init__",
    ),
    Deviation(
        id="sync-parallel-bad-block-uncharged",
        kind="mutant",
        component="sync",
        summary="a parallel download stops at a bad block without charging the peer that served it "
        "(the port before issue 16)",
        source="alys/sync/engine.py SyncEngine.sync_parallel",
    ),
    Deviation(
        id="sync-parallel-ignores-backoff",
        kind="mutant",
        component="sync",
        summary="a parallel download asks every peer it is given, one in backoff or behind an open "
        "breaker too (the port before issue 16)",
        source="alys/sync/engine.py SyncEngine.sync_parallel",
    ),
    # Limits probed at, below and past them (issue 14, item 7).
    Deviation(
        id="sync-serve-count-off-by-one",
        kind="mutant",
        component="sync",
        summary="the range server answers up to 1,025 blocks instead of 1,024",
        source="alys/sync/engine.py serve_blocks_by_range",
    ),
    Deviation(
        id="sync-timeout-inclusive",
        kind="mutant",
        component="sync",
        summary="a response at exactly the 15 s request timeout counts as timed out",
        source="alys/sync/engine.py SimNetwork._exchange",
    ),
    Deviation(
        id="chain-block-decode-ignores-trailing",
        kind="mutant",
        component="chain",
        summary="the block decoder ignores bytes after the value",
        source="alys/wire.py decode_block",
    ),
    Deviation(
        id="evm-accepts-high-s",
        kind="mutant",
        component="chain",
        summary="signatures with s in the upper half are accepted (no EIP-2 check)",
        source="alys/evm.py transaction_sender",
    ),
    Deviation(
        id="evm-legacy-ignores-chain-id",
        kind="mutant",
        component="chain",
        summary="EIP-155 transactions are hashed without the chain id",
        source="alys/evm.py transaction_sender",
    ),
    Deviation(
        id="chain-accepts-unknown-parent",
        kind="mutant",
        component="chain",
        summary="a block whose parent is unknown is imported",
        source="alys/node.py process_block",
    ),
    Deviation(
        id="chain-finalized-range-off-by-one",
        kind="mutant",
        component="chain",
        summary="a finalized range may start at the last finalized block (overlap)",
        source="alys/node.py _check_pow",
    ),
    Deviation(
        id="chain-fee-split-rounds-up",
        kind="mutant",
        component="chain",
        summary="the federation's fee share is converted to gwei rounding up instead of down",
        source="alys/node.py _check_withdrawals",
    ),
    Deviation(
        id="chain-import-moves-head-early",
        kind="mutant",
        component="chain",
        summary="process_block stores the block and moves the head before "
        "the approvals check, so a refused block is half imported",
        source="alys/node.py process_block",
    ),
    Deviation(
        id="evm-sender-cache-key-omits-signature",
        kind="mutant",
        component="chain",
        summary="the sender memo is keyed by the signed digest, without the signature: "
        "another signature over the same payload gets the first signer",
        source="alys/evm.py SenderCache._key",
    ),
    Deviation(
        id="chain-withdrawals-limit-off-by-one",
        kind="mutant",
        component="chain",
        summary="the block decoder takes 17 withdrawals (MaxWithdrawalsPerPayload is 16)",
        source="alys/wire.py PAYLOAD",
    ),
    Deviation(
        id="chain-block-size-limit-off-by-one",
        kind="mutant",
        component="chain",
        summary="the block decoder takes a block one byte over the 1 MiB limit",
        source="alys/wire.py decode_block",
    ),
    Deviation(
        id="evm-rlp-accepts-leading-zeros",
        kind="mutant",
        component="chain",
        summary="the transaction decoder takes integers with leading zero bytes (non-canonical RLP)",
        source="alys/evm.py _Items.uint",
    ),
    Deviation(
        id="evm-tx-size-limit-off-by-one",
        kind="mutant",
        component="chain",
        summary="the transaction decoder takes a transaction one byte over 128 KiB (geth's txMaxSize)",
        source="alys/evm.py decode",
    ),
    Deviation(
        id="actors-ties-newest-first",
        kind="mutant",
        component="actors",
        summary="equal priorities in the heap go newest first",
        source="alys/actors/mailbox.py _enqueue",
    ),
    Deviation(
        id="actors-normal-lifo",
        kind="mutant",
        component="actors",
        summary="the Normal queue is a LIFO instead of a FIFO",
        source="alys/actors/mailbox.py pop",
    ),
    Deviation(
        id="actors-warning-off-by-one",
        kind="mutant",
        component="actors",
        summary="Warning starts above half full instead of at half",
        source="alys/actors/mailbox.py backpressure",
    ),
    Deviation(
        id="actors-restart-count-from-1",
        kind="mutant",
        component="actors",
        summary="restart attempts are counted from 1, so backoff skips its first delay",
        source="alys/actors/supervision.py restart_delay",
    ),
    Deviation(
        id="actors-restart-loses-mailbox",
        kind="mutant",
        component="actors",
        summary="a restart clears the mailbox, losing acknowledged messages",
        source="alys/actors/system.py _restart",
    ),
    Deviation(
        id="actors-shutdown-forward-order",
        kind="mutant",
        component="actors",
        summary="shutdown stops dependencies before their dependents",
        source="alys/actors/system.py shutdown",
    ),
    Deviation(
        id="actors-timer-ties-newest-first",
        kind="mutant",
        component="actors",
        summary="timers due at the same time become ready newest first",
        source="alys/actors/scheduler.py call_later",
    ),
    Deviation(
        id="actors-idle-runs-past-limit",
        kind="mutant",
        component="actors",
        summary="run_until_idle takes one step more than its limit",
        source="alys/actors/scheduler.py run_until_idle",
    ),
    Deviation(
        id="actors-broadcast-drops-priority",
        kind="mutant",
        component="actors",
        summary="broadcast sends every copy at Normal priority",
        source="alys/actors/system.py broadcast",
    ),
    Deviation(
        id="actors-ask-refusal-unanswered",
        kind="mutant",
        component="actors",
        summary="an ask the mailbox refuses is left to time out",
        source="alys/actors/system.py ask",
    ),
    Deviation(
        id="actors-shutdown-cycle-left-running",
        kind="mutant",
        component="actors",
        summary="actors on a dependency cycle are never stopped",
        source="alys/actors/system.py shutdown",
    ),
    # --- actors under chaos (issue 16, item 4): memory, slow handlers, trees, routes, leaks ---------
    Deviation(
        id="actors-memory-not-released",
        kind="mutant",
        component="actors",
        summary="a delivered message's bytes stay counted against the mailbox's memory limit",
        source="alys/actors/mailbox.py Mailbox.pop",
    ),
    Deviation(
        id="actors-memory-limit-off-by-one",
        kind="mutant",
        component="actors",
        summary="a message that exactly fills the mailbox's memory limit is refused",
        source="alys/actors/mailbox.py Mailbox.send",
    ),
    Deviation(
        id="actors-stalled-handler-hangs",
        kind="mutant",
        component="actors",
        summary="a handler past the processing timeout is never timed out: the actor hangs on it",
        source="alys/actors/system.py ActorSystem._handle_slowly",
    ),
    Deviation(
        id="actors-handler-timeout-inclusive",
        kind="mutant",
        component="actors",
        summary="a handler taking exactly the processing timeout counts as stalled",
        source="alys/actors/system.py ActorSystem._handle_slowly",
    ),
    Deviation(
        id="actors-slow-handler-overlaps",
        kind="mutant",
        component="actors",
        summary="an actor takes its next message while a slow handler is still in flight",
        source="alys/actors/system.py ActorSystem._free",
    ),
    Deviation(
        id="actors-escalation-not-propagated",
        kind="mutant",
        component="actors",
        summary="an escalation is recorded at the parent, which never fails (the port before issue 16)",
        source="alys/actors/system.py ActorSystem._fail",
    ),
    Deviation(
        id="actors-cascade-one-level",
        kind="mutant",
        component="actors",
        summary="a failure takes down the children but not the grandchildren, which run on",
        source="alys/actors/system.py ActorSystem._descendants",
    ),
    Deviation(
        id="actors-route-overflow-silent",
        kind="mutant",
        component="actors",
        summary="a forward along a route that the next hop refuses vanishes: no dead letter",
        source="alys/actors/system.py ActorSystem._forward",
    ),
    Deviation(
        id="actors-ask-timer-left-pending",
        kind="mutant",
        component="actors",
        summary="an answered ask leaves its timeout timer pending (a leak on the asyncio loop)",
        source="alys/actors/system.py Reply.resolve",
    ),
    Deviation(
        id="actors-started-sees-running",
        kind="mutant",
        component="actors",
        summary="an actor is marked Running before its started() hook runs, so the hook sees it Running",
        source="alys/actors/system.py ActorSystem._start",
    ),
    Deviation(
        id="actors-escalation-unrecorded",
        kind="mutant",
        component="actors",
        summary="an escalation leaves no entry in the actor's lifecycle history (failed, then nothing)",
        source="alys/actors/system.py ActorSystem._fail",
    ),
    Deviation(
        id="actors-failed-actor-scheduled",
        kind="mutant",
        component="actors",
        summary="a message told to a failed actor still schedules a task for it (a wasted wake-up)",
        source="alys/actors/system.py ActorSystem._schedule",
    ),
    Deviation(
        id="actors-spawn-replaces-taken-name",
        kind="mutant",
        component="actors",
        summary="a spawn of a taken name is refused only after its new actor replaced the one "
        "registered under it (a half-applied change)",
        source="alys/actors/system.py ActorSystem.spawn",
    ),
    Deviation(
        id="actors-capacity-off-by-one",
        kind="mutant",
        component="actors",
        summary="a mailbox is full only past its capacity, so it holds one message more than its bound",
        source="alys/actors/mailbox.py Mailbox.send",
    ),
    Deviation(
        id="approvals-strict-threshold",
        kind="mutant",
        component="approvals",
        summary="a block needs more than ceil(2n/3) approvals (> instead of >=)",
        source="alys/approvals.py ApprovalsPort._majority",
    ),
    Deviation(
        id="approvals-floor-threshold",
        kind="mutant",
        component="approvals",
        summary="the threshold is floor(2n/3) instead of ceil(2n/3)",
        source="alys/approvals.py ApprovalsPort.required_approvals",
    ),
    Deviation(
        id="approvals-duplicate-counted",
        kind="mutant",
        component="approvals",
        summary="a duplicate approval is counted (and aggregated) again instead of ignored",
        source="alys/approvals.py Aggregate.add",
    ),
    Deviation(
        id="approvals-verify-all-authorities",
        kind="mutant",
        component="approvals",
        summary="the aggregate is verified against every authority instead of the signers",
        source="alys/approvals.py Aggregate.verify",
    ),
    Deviation(
        id="approvals-unknown-index-off-by-one",
        kind="mutant",
        component="approvals",
        summary="an individual approval's index is refused only above n, so index n reaches the key lookup",
        source="alys/approvals.py ApprovalsPort.check_individual",
    ),
    Deviation(
        id="approvals-bits-beyond-n-off-by-one",
        kind="mutant",
        component="approvals",
        summary="set bits are refused only from index n + 1, so a bit at exactly n pads the count",
        source="alys/approvals.py ApprovalsPort._majority",
    ),
    Deviation(
        id="approvals-max-authorities-off-by-one",
        kind="mutant",
        component="approvals",
        summary="a federation of exactly 15 authorities (the bitlist's length) is refused",
        source="alys/approvals.py ApprovalsPort._check_size",
    ),
    Deviation(
        id="bls-wrong-dst",
        kind="mutant",
        component="approvals",
        summary="messages are hashed with the basic scheme's DST (..._NUL_) instead of the POP suite's",
        source="alys/bls.py LighthouseBls._verify",
    ),
    Deviation(
        id="bls-accepts-infinity-key",
        kind="mutant",
        component="approvals",
        summary="public key validation lets the identity key through (so the identity signature verifies)",
        source="alys/bls.py LighthouseBls.public_key",
    ),
    Deviation(
        id="bls-fast-aggregate-accepts-infinity-key",
        kind="mutant",
        component="approvals",
        summary="FastAggregateVerify decodes its keys without key validation, so an identity key in the list "
        "passes (as blspy does)",
        source="alys/bls.py LighthouseBls._aggregated_key",
    ),
    Deviation(
        id="bls-accepts-identity-aggregate-key",
        kind="mutant",
        component="approvals",
        summary="FastAggregateVerify accepts keys that sum to the identity: the identity signature verifies "
        "(the port before issue 14)",
        source="alys/bls.py LighthouseBls._fast_aggregate_verify",
    ),
    Deviation(
        id="bls-verify-raises-on-malformed",
        kind="mutant",
        component="approvals",
        summary="Verify raises on an undecodable key or signature instead of returning False (as blspy does)",
        source="alys/bls.py LighthouseBls.verify",
    ),
    Deviation(
        id="bls-memo-ignores-message",
        kind="mutant",
        component="approvals",
        summary="the FastAggregateVerify memo is keyed on (keys, signature) without the message",
        source="alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        id="bls-memo-ignores-keys",
        kind="mutant",
        component="approvals",
        summary="the FastAggregateVerify memo is keyed on (message, signature) without the keys",
        source="alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        id="bls-memo-ignores-signature",
        kind="mutant",
        component="approvals",
        summary="the FastAggregateVerify memo is keyed on (keys, message) without the signature",
        source="alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        id="bitcoin-merkle-odd-promotes",
        kind="mutant",
        component="auxpow",
        summary="an odd merkle level promotes its last hash instead of pairing it with itself",
        source="alys/codec.py merkle_root",
    ),
    Deviation(
        id="codec-drops-witness",
        kind="mutant",
        component="auxpow",
        summary="re-encoding a decoded transaction leaves out the segwit witness",
        source="alys/codec.py encode_tx",
    ),
    Deviation(
        id="codec-accepts-trailing-bytes",
        kind="mutant",
        component="auxpow",
        summary="decoders ignore bytes after the structure instead of rejecting them",
        source="alys/codec.py Cursor.finish",
    ),
    Deviation(
        id="codec-panics-on-truncation",
        kind="mutant",
        component="auxpow",
        summary="reading past the end panics (an untyped IndexError) instead of raising DecodeError",
        source="alys/codec.py Cursor.take",
    ),
    Deviation(
        id="auxpow-merkle-sides-swapped",
        kind="mutant",
        component="auxpow",
        summary="a merkle branch step puts the sibling on the wrong side (mask bit read inverted)",
        source="alys/auxpow.py evaluate_branch",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        id="auxpow-pow-strict-less",
        kind="mutant",
        component="auxpow",
        summary="the PoW check uses hash < target instead of hash <= target",
        source="alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        id="auxpow-pow-hash-big-endian",
        kind="mutant",
        component="auxpow",
        summary="the parent hash is read as a big-endian integer when compared with the target",
        source="alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        id="auxpow-expected-index-i32",
        kind="mutant",
        component="auxpow",
        summary="the expected index is computed in C int (signed 32-bit) with a truncating remainder",
        source="alys/auxpow.py expected_index",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        id="auxpow-branch-limit-off-by-one",
        kind="mutant",
        component="auxpow",
        summary="the chain branch length limit rejects 30 (>= instead of >)",
        source="alys/auxpow.py check",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        id="auxpow-no-output-3-fallback",
        kind="mutant",
        component="auxpow",
        summary="the vout parser gives up after output 2 instead of trying output 3",
        source="alys/auxpow.py find_header_vout",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        id="auxpow-aggregate-single-unhashed",
        kind="mutant",
        component="auxpow",
        summary="the aggregate of a single block is the block hash itself, not its sha256d",
        source="alys/chain.py aggregate_hash",
    ),
    Deviation(
        id="compact-no-sign-adjust",
        kind="mutant",
        component="auxpow",
        summary="GetCompact forgets to shift a mantissa with bit 0x00800000 set (which decodes as 0)",
        source="alys/auxpow.py compact_from_target",
    ),
    Deviation(
        id="compact-shift-saturates",
        kind="mutant",
        component="auxpow",
        summary="the PoW target decoder zeroes an exponent >= 35 "
        "instead of wrapping the shift like rust-bitcoin",
        source="alys/auxpow.py target_from_compact",
    ),
    # Issue 14: one per limit class the generators never reached (mutmut on alys/auxpow.py).
    Deviation(
        id="compact-sign-bit-boundary",
        kind="mutant",
        component="auxpow",
        summary="a mantissa of exactly 0x800000 (the sign bit alone) decodes as a positive target, not 0",
        source="alys/auxpow.py target_from_compact",
    ),
    Deviation(
        id="compact-sign-checked-before-shift",
        kind="mutant",
        component="auxpow",
        summary="the sign bit is read before the mantissa is shifted for exponents 0..2 (Bitcoin Core's "
        "SetCompact order), so 0x02800000 decodes as 0 where rust-bitcoin gives 0x8000",
        source="alys/auxpow.py target_from_compact",
    ),
    Deviation(
        id="compact-zero-target-size-one",
        kind="mutant",
        component="auxpow",
        summary="GetCompact of target 0 gives 0x01000000 (size at least 1) instead of 0",
        source="alys/auxpow.py compact_from_target",
    ),
    Deviation(
        id="auxpow-pow-zero-target-unlimited",
        kind="mutant",
        component="auxpow",
        summary="a zero target is read as 'no target set': every hash meets it",
        source="alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        id="auxpow-coinbase-first-input-only",
        kind="mutant",
        component="auxpow",
        summary="the coinbase check looks at the first input only: a committed tx with several inputs passes",
        source="alys/auxpow.py check_decoded",
    ),
    Deviation(
        id="auxpow-fallback-indexes-output-3",
        kind="mutant",
        component="auxpow",
        summary="with a bad header in output 2 of a three-output coinbase, the fallback indexes output 3 "
        "(an IndexError, a panic in Rust) instead of answering CoinbaseInvalidOutputs",
        source="alys/auxpow.py find_header_vout",
    ),
    Deviation(
        id="auxpow-vin-magic-after-start",
        kind="mutant",
        component="auxpow",
        summary="the scriptSig parser looks for the magic from offset 1: a header at offset 0 is missed",
        source="alys/auxpow.py find_header_vin",
    ),
    Deviation(
        id="auxpow-merkle-size-bit-length",
        kind="mutant",
        component="auxpow",
        summary="the merkle size check compares bit lengths: any size in [2^h, 2^(h+1)) passes",
        source="alys/auxpow.py check_decoded",
    ),
    Deviation(
        id="auxpow-root-order-ignored",
        kind="mutant",
        component="auxpow",
        summary="check ignores root_order: a proof holding the root reversed (Namecoin's order) is refused",
        source="alys/auxpow.py check_decoded",
    ),
    Deviation(
        id="auxpow-branch-limit-31",
        kind="mutant",
        component="auxpow",
        summary="the chain branch length limit lets 31 hashes through (> 31 instead of > 30)",
        source="alys/auxpow.py check_decoded",
    ),
    Deviation(
        id="auxpow-expected-index-mod-off-by-one",
        kind="mutant",
        component="auxpow",
        summary="getExpectedIndex reduces modulo 2^h + 1: the slot can fall outside the tree",
        source="alys/auxpow.py expected_index",
    ),
    Deviation(
        id="codec-accepts-non-minimal-varint",
        kind="mutant",
        component="auxpow",
        summary="a CompactSize in a non-minimal form (0xfd/0xfe/0xff for a small value) is accepted",
        source="alys/codec.py Cursor.varint",
    ),
    Deviation(
        id="codec-any-segwit-flag",
        kind="mutant",
        component="auxpow",
        summary="any non-zero segwit flag byte is read as the BIP144 flag 1",
        source="alys/codec.py read_tx",
    ),
    Deviation(
        id="codec-accepts-superfluous-witness",
        kind="mutant",
        component="auxpow",
        summary="a segwit flag with every witness empty is "
        "accepted (rust-bitcoin and Bitcoin Core refuse it)",
        source="alys/codec.py read_tx",
    ),
    Deviation(
        id="codec-max-vec-off-by-one",
        kind="mutant",
        component="auxpow",
        summary="a byte vector of exactly MAX_VEC_SIZE (4,000,000) is refused (> cap read as >=)",
        source="alys/codec.py Cursor.count",
    ),
    Deviation(
        id="retarget-no-upper-clamp",
        kind="mutant",
        component="retarget",
        summary="a ratio above 1 is not clamped to 1 + maxPowAdjustment/100",
        source="alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        id="retarget-half-up-rounding",
        kind="mutant",
        component="retarget",
        summary="the block-gap ratio is rounded half up instead of half to even",
        source="alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        id="retarget-product-wraps",
        kind="mutant",
        component="retarget",
        summary="target/100*percent wraps modulo 2^256 instead of saturating",
        source="alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        id="retarget-fires-one-late",
        kind="mutant",
        component="retarget",
        summary="retargeting fires when the gap exceeds the interval by two, not one",
        source="alys/chain.py get_next_work_required",
    ),
    Deviation(
        id="governance-reconnect-drops-buffered",
        kind="mutant",
        component="governance",
        summary="the oldest buffered message is lost when a connection's buffer is replayed",
        source="alys/governance.py StreamActor._connected",
    ),
    Deviation(
        id="governance-backoff-never-grows",
        kind="mutant",
        component="governance",
        summary="the reconnect wait stays at its first value instead of doubling",
        source="alys/governance.py StreamActor.backoff",
    ),
    Deviation(
        id="governance-response-wrong-request",
        kind="mutant",
        component="governance",
        summary="a signature response resolves the oldest pending request, not the one it names",
        source="alys/governance.py StreamActor._signature_response",
    ),
    Deviation(
        id="governance-heartbeat-unchecked",
        kind="mutant",
        component="governance",
        summary="the liveness monitor is never scheduled, so heartbeats are sent but never checked",
        source="alys/governance.py StreamActor._connected",
    ),
    Deviation(
        id="governance-replay-newest-first",
        kind="mutant",
        component="governance",
        summary="a reconnected stream replays its buffer newest first",
        source="alys/governance.py StreamActor._connected",
    ),
    Deviation(
        id="governance-buffer-bound-off-by-one",
        kind="mutant",
        component="governance",
        summary="the outbound buffer holds one message more than its bound before dropping the oldest",
        source="alys/governance.py StreamActor._enqueue",
    ),
    Deviation(
        id="governance-sweep-never-times-out",
        kind="mutant",
        component="governance",
        summary="the request sweep never times a request out, so an unanswered one stays pending forever",
        source="alys/governance.py StreamActor._sweep",
    ),
)


def _library(id: str, summary: str, family: str) -> Deviation:
    return Deviation(
        id=id,
        kind="library",
        component="approvals",
        summary=summary,
        source="bls-edge-cases.md (measured)",
        breaks=(item_pattern(f"{BLS_PROPS}::test_backends_agree_on_edge_inputs", family),),
    )


LIBRARY: tuple[Deviation, ...] = (
    _library(
        "blspy-fast-aggregate-accepts-infinity-key",
        "blspy's FastAggregateVerify accepts a key list with the identity key in it",
        "fast-aggregate-with-infinity-key",
    ),
    _library(
        "blspy-aggregate-verify-empty-accepts",
        "blspy's AggregateVerify([], [], identity signature) is True",
        "aggregate-verify-empty",
    ),
    _library(
        "blspy-raises-on-bad-encodings",
        "blspy raises on undecodable or out-of-group inputs where Verify must return False",
        "verify-malformed-signature",
    ),
    _library(
        "py-ecc-milagro-aggregate-outside-subgroup",
        "py_ecc and milagro aggregate a signature outside the G2 subgroup instead of refusing it",
        "aggregate-outside-subgroup",
    ),
    _library(
        "aggregate-of-nothing-differs",
        "Aggregate([]) raises in py_ecc and blst, but is the identity in milagro and blspy",
        "aggregate-empty",
    ),
    _library(
        "blspy-signs-with-zero-key",
        "blspy's SkToPk(0) returns the identity key instead of refusing the secret key",
        "zero-secret-key",
    ),
)

ALL: dict[str, Deviation] = {d.id: d for d in QUIRKS + MUTANTS + LIBRARY}
LIBRARY_IDS: frozenset[str] = frozenset(d.id for d in LIBRARY)
QUIRK_IDS: frozenset[str] = frozenset(d.id for d in QUIRKS)
MUTANT_IDS: frozenset[str] = frozenset(d.id for d in MUTANTS)


class UnknownDeviation(KeyError):
    def __str__(self) -> str:
        return f"unknown deviation {self.args[0]!r}; known: {', '.join(sorted(ALL))}"


def get(deviation_id: str) -> Deviation:
    try:
        return ALL[deviation_id]
    except KeyError:
        raise UnknownDeviation(deviation_id) from None


def quirks_breaking(nodeid: str, carried: Iterable[str]) -> list[Deviation]:
    """The carried quirks that break the property with this node id."""
    always = sorted(LIBRARY_IDS)
    carried = set(carried)
    on = carried | set(always)
    return [
        get(q)
        for q in [*sorted(carried), *always]
        if get(q).kind != "mutant" and get(q).breaks_item(nodeid, on)
    ]


def quirks_that_may_break(nodeid: str, carried: Iterable[str]) -> list[Deviation]:
    """The carried quirks that can break the property with this node id by chance (`may_break`)."""
    carried = set(carried)
    return [
        get(q) for q in sorted(carried) if get(q).kind == "quirk" and get(q).may_break_item(nodeid, carried)
    ]
