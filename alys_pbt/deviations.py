"""The registry of known deviations: the port's quirks and the seeded mutants.

A *library* deviation is a measured disagreement of a third-party BLS library with the IETF
suite (bls-edge-cases.md); it is always present, so the properties it breaks always run as strict
xfails: the run turns red if the library changes. A *quirk* is a place where the Alys node's code deviates from the secure rule; the port carries it
(target `alys` has every quirk on, `alys-fixed` none). A *mutant* is a small seeded bug switched on
in `alys-fixed` to prove that the properties which declare it (with `@kills`) can fail.

`breaks` lists the properties a quirk breaks, as pytest node-id patterns (fnmatch, relative to the
project root). When the chosen target carries a quirk, those properties run as strict xfails.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Literal

from attrs import frozen

Kind = Literal["quirk", "mutant", "library"]


@frozen
class Deviation:
    id: str
    kind: Kind
    component: str
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


AUXPOW_PROPS = "properties/test_auxpow.py"
FEDERATION_PROPS = "properties/test_approvals.py"
BLS_PROPS = "properties/test_bls.py"
RETARGET_PROPS = "properties/test_retarget.py"
_STRUCTURAL_CORRUPTIONS = (
    "wrong-index",
    "index-bit-above-height",
    "branch-of-31",
    "merkle-size-not-2^h",
    "wrong-magic",
    "header-script-43-bytes",
    "header-script-45-bytes",
    "header-in-op-return",
    "root-mismatch",
    "coinbase-not-in-parent-block",
    "commitment-in-non-coinbase",
    "coinbase-without-inputs",
    "coinbase-with-real-prevout",
    "parent-has-our-chain-id",
    "no-output-2",
    "coinbase-with-several-inputs",
    "header-broken-in-output-2-of-3",
)
_COINBASE_CORRUPTIONS = (
    "commitment-in-non-coinbase",
    "coinbase-without-inputs",
    "coinbase-with-real-prevout",
    "coinbase-with-several-inputs",
)
_HEADER_CORRUPTIONS = ("header-bits-mismatch", "header-chain-id-mismatch", "header-height-mismatch")


def _params(test: str, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{test}[[]{name}[]]" for name in names)  # fnmatch-escaped brackets


QUIRKS: tuple[Deviation, ...] = (
    Deviation(
        id="auxpow-any-tx-commitment",
        kind="quirk",
        component="auxpow",
        summary="the committed transaction's index and coinbase-ness are never checked: "
        "a commitment in any transaction of a Bitcoin block is accepted (index 0 and at least one "
        "input are Namecoin's rules; one input spending the null prevout is the suite's hardening)",
        source="app/src/auxpow.rs AuxPow::check (no nIndex == 0, no coinbase check)",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_rejects_corruption", _COINBASE_CORRUPTIONS)
        + _params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _COINBASE_CORRUPTIONS),
    ),
    Deviation(
        id="auxpow-check-pow-aborts",
        kind="quirk",
        component="auxpow",
        summary="an AuxPoW that meets the target but fails a structural check makes check_pow "
        "abort the process (.unwrap() under panic = abort) instead of rejecting the block",
        source="app/src/chain.rs check_pow: auxpow.check(...).unwrap()",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _STRUCTURAL_CORRUPTIONS),
    ),
    Deviation(
        id="auxpow-header-fields-unchecked",
        kind="quirk",
        component="auxpow",
        summary="the AuxPowHeader's own bits, height and chain_id are never compared with what "
        "the chain requires; the proof is checked against the header's chain_id (comparing them "
        "is the suite's hardening)",
        source="app/src/chain.rs check_pow (bits from retarget, header.chain_id passed to check)",
        breaks=_params(f"{AUXPOW_PROPS}::test_check_pow_rejects_corruption", _HEADER_CORRUPTIONS),
    ),
    Deviation(
        id="retarget-caps-low-ratio",
        kind="quirk",
        component="auxpow",
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
        component="auxpow",
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
        component="auxpow",
        summary="a ratio that rounds to 0.00 gives percent 0, target 0 and bits 0x00000000",
        source="app/src/auxpow_miner.rs calculate_next_work_required: (ratio*100).to_u8()",
        breaks=(f"{RETARGET_PROPS}::test_retarget_never_yields_zero_target",),
        # With the low ratio raised to the adjustment, no ratio can round to 0.00.
        requires=("retarget-caps-low-ratio",),
    ),
)

QUIRKS += (
    Deviation(
        id="approvals-padded-bits-count",
        kind="quirk",
        component="approvals",
        summary="set bits at index >= n count toward num_approvals but are zipped away from the "
        "authorities in verify: with n = 3, one real signature plus one padded bit reaches 2",
        source="app/src/signatures.rs AggregateApproval::num_approvals / verify",
        breaks=(
            f"{FEDERATION_PROPS}::test_block_approvals_are_judged_like_the_reference",
            f"{FEDERATION_PROPS}::test_aggregate_bits_at_and_past_the_last_authority",
        ),
    ),
    Deviation(
        id="federation-early-approvals-lost",
        kind="quirk",
        component="approvals",
        summary="approvals that arrive before their block are parked under height 0, overwrite "
        "each other and are never merged when the block arrives",
        source="app/src/block_candidate/block_candidate_cache.rs (placeholder height 0)",
        breaks=(f"{FEDERATION_PROPS}::TestFederation::runTest",),
    ),
    Deviation(
        id="federation-replace-drops-approvals",
        kind="quirk",
        component="approvals",
        summary="a higher-slot block replaces the candidate at its height and the approvals "
        "gathered so far are dropped, as are later approvals of the replaced block",
        source="app/src/block_candidate/block_candidate_cache.rs insert",
        breaks=(f"{FEDERATION_PROPS}::TestFederation::runTest",),
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
        breaks=(f"{FEDERATION_PROPS}::test_federation_size_just_below_at_and_past_the_bitlist",),
    ),
)

ACTORS_PROPS = "properties/test_actors.py"
QUIRKS += (
    Deviation(
        id="actors-capacity-unenforced",
        kind="quirk",
        component="actors",
        summary="the capacity is enforced only when the mailbox rejects on full: under drop-lowest "
        "or block, a Blocked mailbox still enqueues (the semaphore permit is dropped in send)",
        source="crates/actor_system/src/mailbox.rs send",
        breaks=(
            f"{ACTORS_PROPS}::TestMailboxOrdering::runTest",
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
)

CHAIN_PROPS = "properties/test_chain.py"
QUIRKS += (
    Deviation(
        id="chain-slot-author-unchecked",
        kind="quirk",
        component="chain",
        summary="the 'signed by the slot author' check is commented out: any authority's block passes for any slot",
        source="app/src/aura.rs check_signed_by_author",
        breaks=(
            f"{CHAIN_PROPS}::test_corrupted_blocks_are_rejected[[]wrong-slot-author[]]",
            f"{CHAIN_PROPS}::TestChain::runTest",
        ),
    ),
    Deviation(
        id="chain-rollback-undoes-finalization",
        kind="quirk",
        component="chain",
        summary="rolling back the head moves the latest-PoW pointer back, so a finalized block can be undone",
        source="app/src/chain.rs rollback_head",
        breaks=(f"{CHAIN_PROPS}::TestChain::runTest",),
    ),
    Deviation(
        id="chain-withdrawals-extra-accepted",
        kind="quirk",
        component="chain",
        summary="unexpected extra withdrawals pass (only missing ones fail); the fee split map keeps the "
        "last amount for a repeated address instead of the sum",
        source="app/src/chain.rs check_withdrawals",
        breaks=(
            f"{CHAIN_PROPS}::test_corrupted_blocks_are_rejected[[]unexpected-withdrawal[]]",
            f"{CHAIN_PROPS}::TestChain::runTest",
            f"{CHAIN_PROPS}::test_fee_split_pays_a_repeated_address_the_sum",
        ),
    ),
    Deviation(
        id="chain-full-nodes-skip-withdrawals",
        kind="quirk",
        component="chain",
        summary="full nodes skip the withdrawal and peg-out checks that validators apply, so the roles disagree",
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
        breaks=_params(
            "properties/test_block_decoders.py::test_block_decoders_give_their_typed_error_on_structure_aware_bad_input",
            (
                "hex-upper-case",
                "hex-whitespace",
                "decimal-leading-zeros",
                "decimal-sign",
                "non-minimal-integer",
                "non-minimal-string",
                "non-minimal-array",
            ),
        ),
    ),
)

SYNC_PROPS = "properties/test_sync.py"
QUIRKS += (
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
            (
                f"{SYNC_PROPS}::test_a_failing_peer_is_asked_again_only_when_the_retry_policy_allows",
                ("sync-serve-loop-index",),
            ),
        ),
    ),
)

# A property that drives a valid proof through the target sees the mutant as the target's rejection
# (auxpow.rs AuxPowError, any variant: the name of the port's base class), not as an assertion.
_VALID_PROOF_REJECTED = ("AssertionError", "AuxPowError")

MUTANTS: tuple[Deviation, ...] = (
    Deviation(
        "store-checkpoint-before-blocks",
        "mutant",
        "sync",
        "a checkpoint is written before its block is committed",
        "alys/sync/store.py put_block",
    ),
    # Seen as the restart itself failing (TestCheckpoints.restart lets the store's error escape).
    Deviation(
        "store-recover-unverified",
        "mutant",
        "sync",
        "recovery trusts the newest checkpoint without verifying it",
        "alys/sync/store.py newest_valid_checkpoint",
        fails_with=("AssertionError", "StoreCorrupt"),
    ),
    Deviation(
        "store-retention-off-by-one",
        "mutant",
        "sync",
        "pruning keeps retention + 1 checkpoints",
        "alys/sync/store.py prune",
    ),
    Deviation(
        "sync-batch-start-off-by-one",
        "mutant",
        "sync",
        "batches are requested from head + 2",
        "alys/sync/engine.py round",
    ),
    Deviation(
        "sync-trusts-claimed-height",
        "mutant",
        "sync",
        "a peer's claimed height ends the sync",
        "alys/sync/engine.py round",
    ),
    Deviation(
        "sync-retry-without-backoff",
        "mutant",
        "sync",
        "a peer that just failed is asked again at once",
        "alys/sync/engine.py _available",
    ),
    Deviation(
        "sync-breaker-never-opens",
        "mutant",
        "sync",
        "three failures in a row do not open the peer's circuit breaker",
        "alys/sync/engine.py _fail",
    ),
    Deviation(
        "sync-failures-never-reset",
        "mutant",
        "sync",
        "a good answer does not end a peer's run of failures",
        "alys/sync/engine.py _succeed",
    ),
    # The store and engine before issue 14, one part each: every data loss under a real fault.
    Deviation(
        "store-errors-untyped",
        "mutant",
        "sync",
        "SQLite's own exceptions (locked, full, malformed) escape the store untyped",
        "alys/sync/store.py Store._sqlite",
    ),
    Deviation(
        "sync-head-moves-before-store",
        "mutant",
        "sync",
        "the head stays moved when the store refuses the block: a hole below the next acknowledged block",
        "alys/sync/engine.py SyncEngine._persist",
    ),
    Deviation(
        "store-recovery-deletes-acknowledged",
        "mutant",
        "sync",
        "recovery checks no row and cuts the store back at the first block that fails, deleting acknowledged blocks",
        "alys/sync/engine.py recover",
    ),
    Deviation(
        "store-rows-unverified",
        "mutant",
        "sync",
        "nothing compares a block row with its digest or its hash: a rotted row is accepted on restart",
        "alys/sync/store.py Store.check",
    ),
    Deviation(
        "store-tail-loss-unchecked",
        "mutant",
        "sync",
        "no acknowledgement record is compared at open: a file that lost its tail starts lower, silently",
        "alys/sync/store.py Store.check",
    ),
    Deviation(
        "store-shared-writer",
        "mutant",
        "sync",
        "no exclusive lock: a second store opens the same file and overwrites acknowledged rows",
        "alys/sync/store.py Store._open",
    ),
    Deviation(
        "sync-parallel-swallows-store-errors",
        "mutant",
        "sync",
        "parallel download takes a store error for a bad block and returns as if done",
        "alys/sync/engine.py SyncEngine.sync_parallel",
    ),
    # Limits probed at, below and past them (issue 14, item 7).
    Deviation(
        "sync-serve-count-off-by-one",
        "mutant",
        "sync",
        "the range server answers up to 1,025 blocks instead of 1,024",
        "alys/sync/engine.py serve_blocks_by_range",
    ),
    Deviation(
        "sync-timeout-inclusive",
        "mutant",
        "sync",
        "a response at exactly the 15 s request timeout counts as timed out",
        "alys/sync/engine.py SimNetwork._exchange",
    ),
    Deviation(
        "chain-block-decode-ignores-trailing",
        "mutant",
        "chain",
        "the block decoder ignores bytes after the value",
        "alys/wire.py decode_block",
    ),
    Deviation(
        "evm-accepts-high-s",
        "mutant",
        "chain",
        "signatures with s in the upper half are accepted (no EIP-2 check)",
        "alys/evm.py transaction_sender",
    ),
    Deviation(
        "evm-legacy-ignores-chain-id",
        "mutant",
        "chain",
        "EIP-155 transactions are hashed without the chain id",
        "alys/evm.py transaction_sender",
    ),
    Deviation(
        "chain-accepts-unknown-parent",
        "mutant",
        "chain",
        "a block whose parent is unknown is imported",
        "alys/node.py process_block",
    ),
    Deviation(
        "chain-finalized-range-off-by-one",
        "mutant",
        "chain",
        "a finalized range may start at the last finalized block (overlap)",
        "alys/node.py _check_pow",
    ),
    Deviation(
        "chain-fee-split-rounds-up",
        "mutant",
        "chain",
        "the federation's fee share is converted to gwei rounding up instead of down",
        "alys/node.py _check_withdrawals",
    ),
    Deviation(
        "chain-import-moves-head-early",
        "mutant",
        "chain",
        "process_block stores the block and moves the head before the approvals check, so a refused block is half imported",
        "alys/node.py process_block",
    ),
    Deviation(
        "evm-sender-cache-key-omits-signature",
        "mutant",
        "chain",
        "the sender memo is keyed by the signed digest, without the signature: another signature over the same payload gets the first signer",
        "alys/evm.py SenderCache._key",
    ),
    Deviation(
        "chain-withdrawals-limit-off-by-one",
        "mutant",
        "chain",
        "the block decoder takes 17 withdrawals (MaxWithdrawalsPerPayload is 16)",
        "alys/wire.py PAYLOAD",
    ),
    Deviation(
        "chain-block-size-limit-off-by-one",
        "mutant",
        "chain",
        "the block decoder takes a block one byte over the 1 MiB limit",
        "alys/wire.py decode_block",
    ),
    Deviation(
        "evm-rlp-accepts-leading-zeros",
        "mutant",
        "chain",
        "the transaction decoder takes integers with leading zero bytes (non-canonical RLP)",
        "alys/evm.py _Items.uint",
    ),
    Deviation(
        "evm-tx-size-limit-off-by-one",
        "mutant",
        "chain",
        "the transaction decoder takes a transaction one byte over 128 KiB (geth's txMaxSize)",
        "alys/evm.py decode",
    ),
    Deviation(
        "actors-ties-newest-first",
        "mutant",
        "actors",
        "equal priorities in the heap go newest first",
        "alys/actors/mailbox.py _enqueue",
    ),
    Deviation(
        "actors-normal-lifo",
        "mutant",
        "actors",
        "the Normal queue is a LIFO instead of a FIFO",
        "alys/actors/mailbox.py pop",
    ),
    Deviation(
        "actors-warning-off-by-one",
        "mutant",
        "actors",
        "Warning starts above half full instead of at half",
        "alys/actors/mailbox.py backpressure",
    ),
    Deviation(
        "actors-restart-count-from-1",
        "mutant",
        "actors",
        "restart attempts are counted from 1, so backoff skips its first delay",
        "alys/actors/supervision.py restart_delay",
    ),
    Deviation(
        "actors-restart-loses-mailbox",
        "mutant",
        "actors",
        "a restart clears the mailbox, losing acknowledged messages",
        "alys/actors/system.py _restart",
    ),
    Deviation(
        "actors-shutdown-forward-order",
        "mutant",
        "actors",
        "shutdown stops dependencies before their dependents",
        "alys/actors/system.py shutdown",
    ),
    Deviation(
        "actors-timer-ties-newest-first",
        "mutant",
        "actors",
        "timers due at the same time become ready newest first",
        "alys/actors/scheduler.py call_later",
    ),
    Deviation(
        "actors-idle-runs-past-limit",
        "mutant",
        "actors",
        "run_until_idle takes one step more than its limit",
        "alys/actors/scheduler.py run_until_idle",
    ),
    Deviation(
        "actors-broadcast-drops-priority",
        "mutant",
        "actors",
        "broadcast sends every copy at Normal priority",
        "alys/actors/system.py broadcast",
    ),
    Deviation(
        "actors-ask-refusal-unanswered",
        "mutant",
        "actors",
        "an ask the mailbox refuses is left to time out",
        "alys/actors/system.py ask",
    ),
    Deviation(
        "actors-shutdown-cycle-left-running",
        "mutant",
        "actors",
        "actors on a dependency cycle are never stopped",
        "alys/actors/system.py shutdown",
    ),
    Deviation(
        "approvals-strict-threshold",
        "mutant",
        "approvals",
        "a block needs more than ceil(2n/3) approvals (> instead of >=)",
        "alys/approvals.py ApprovalsPort._majority",
    ),
    Deviation(
        "approvals-floor-threshold",
        "mutant",
        "approvals",
        "the threshold is floor(2n/3) instead of ceil(2n/3)",
        "alys/approvals.py ApprovalsPort.required_approvals",
    ),
    Deviation(
        "approvals-duplicate-counted",
        "mutant",
        "approvals",
        "a duplicate approval is counted (and aggregated) again instead of ignored",
        "alys/approvals.py Aggregate.add",
    ),
    Deviation(
        "approvals-verify-all-authorities",
        "mutant",
        "approvals",
        "the aggregate is verified against every authority instead of the signers",
        "alys/approvals.py Aggregate.verify",
    ),
    Deviation(
        "approvals-unknown-index-off-by-one",
        "mutant",
        "approvals",
        "an individual approval's index is refused only above n, so index n reaches the key lookup",
        "alys/approvals.py ApprovalsPort.check_individual",
    ),
    Deviation(
        "approvals-bits-beyond-n-off-by-one",
        "mutant",
        "approvals",
        "set bits are refused only from index n + 1, so a bit at exactly n pads the count",
        "alys/approvals.py ApprovalsPort._majority",
    ),
    Deviation(
        "approvals-max-authorities-off-by-one",
        "mutant",
        "approvals",
        "a federation of exactly 15 authorities (the bitlist's length) is refused",
        "alys/approvals.py ApprovalsPort._check_size",
    ),
    Deviation(
        "bls-wrong-dst",
        "mutant",
        "approvals",
        "messages are hashed with the basic scheme's DST (..._NUL_) instead of the POP suite's",
        "alys/bls.py LighthouseBls._verify",
    ),
    Deviation(
        "bls-accepts-infinity-key",
        "mutant",
        "approvals",
        "public key validation lets the identity key through (so the identity signature verifies)",
        "alys/bls.py LighthouseBls.public_key",
    ),
    Deviation(
        "bls-fast-aggregate-accepts-infinity-key",
        "mutant",
        "approvals",
        "FastAggregateVerify decodes its keys without key validation, so an identity key in the list "
        "passes (as blspy does)",
        "alys/bls.py LighthouseBls._aggregated_key",
    ),
    Deviation(
        "bls-accepts-identity-aggregate-key",
        "mutant",
        "approvals",
        "FastAggregateVerify accepts keys that sum to the identity: the identity signature verifies "
        "(the port before issue 14)",
        "alys/bls.py LighthouseBls._fast_aggregate_verify",
    ),
    Deviation(
        "bls-verify-raises-on-malformed",
        "mutant",
        "approvals",
        "Verify raises on an undecodable key or signature instead of returning False (as blspy does)",
        "alys/bls.py LighthouseBls.verify",
    ),
    Deviation(
        "bls-memo-ignores-message",
        "mutant",
        "approvals",
        "the FastAggregateVerify memo is keyed on (keys, signature) without the message",
        "alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        "bls-memo-ignores-keys",
        "mutant",
        "approvals",
        "the FastAggregateVerify memo is keyed on (message, signature) without the keys",
        "alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        "bls-memo-ignores-signature",
        "mutant",
        "approvals",
        "the FastAggregateVerify memo is keyed on (keys, message) without the signature",
        "alys/bls.py LighthouseBls._memo_key",
    ),
    Deviation(
        "bitcoin-merkle-odd-promotes",
        "mutant",
        "auxpow",
        "an odd merkle level promotes its last hash instead of pairing it with itself",
        "alys/codec.py merkle_root",
    ),
    Deviation(
        "codec-drops-witness",
        "mutant",
        "auxpow",
        "re-encoding a decoded transaction leaves out the segwit witness",
        "alys/codec.py encode_tx",
    ),
    Deviation(
        "codec-accepts-trailing-bytes",
        "mutant",
        "auxpow",
        "decoders ignore bytes after the structure instead of rejecting them",
        "alys/codec.py Cursor.finish",
    ),
    Deviation(
        "codec-panics-on-truncation",
        "mutant",
        "auxpow",
        "reading past the end panics (an untyped IndexError) instead of raising DecodeError",
        "alys/codec.py Cursor.take",
    ),
    Deviation(
        "auxpow-merkle-sides-swapped",
        "mutant",
        "auxpow",
        "a merkle branch step puts the sibling on the wrong side (mask bit read inverted)",
        "alys/auxpow.py evaluate_branch",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        "auxpow-pow-strict-less",
        "mutant",
        "auxpow",
        "the PoW check uses hash < target instead of hash <= target",
        "alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        "auxpow-pow-hash-big-endian",
        "mutant",
        "auxpow",
        "the parent hash is read as a big-endian integer when compared with the target",
        "alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        "auxpow-expected-index-i32",
        "mutant",
        "auxpow",
        "the expected index is computed in C int (signed 32-bit) with a truncating remainder",
        "alys/auxpow.py expected_index",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        "auxpow-branch-limit-off-by-one",
        "mutant",
        "auxpow",
        "the chain branch length limit rejects 30 (>= instead of >)",
        "alys/auxpow.py check",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        "auxpow-no-output-3-fallback",
        "mutant",
        "auxpow",
        "the vout parser gives up after output 2 instead of trying output 3",
        "alys/auxpow.py find_header_vout",
        fails_with=_VALID_PROOF_REJECTED,
    ),
    Deviation(
        "auxpow-aggregate-single-unhashed",
        "mutant",
        "auxpow",
        "the aggregate of a single block is the block hash itself, not its sha256d",
        "alys/chain.py aggregate_hash",
    ),
    Deviation(
        "compact-no-sign-adjust",
        "mutant",
        "auxpow",
        "GetCompact forgets to shift a mantissa with bit 0x00800000 set (which decodes as 0)",
        "alys/auxpow.py compact_from_target",
    ),
    Deviation(
        "compact-shift-saturates",
        "mutant",
        "auxpow",
        "the PoW target decoder zeroes an exponent >= 35 instead of wrapping the shift like rust-bitcoin",
        "alys/auxpow.py target_from_compact",
    ),
    # Issue 14: one per limit class the generators never reached (mutmut on alys/auxpow.py).
    Deviation(
        "compact-sign-bit-boundary",
        "mutant",
        "auxpow",
        "a mantissa of exactly 0x800000 (the sign bit alone) decodes as a positive target, not 0",
        "alys/auxpow.py target_from_compact",
    ),
    Deviation(
        "compact-sign-checked-before-shift",
        "mutant",
        "auxpow",
        "the sign bit is read before the mantissa is shifted for exponents 0..2 (Bitcoin Core's "
        "SetCompact order), so 0x02800000 decodes as 0 where rust-bitcoin gives 0x8000",
        "alys/auxpow.py target_from_compact",
    ),
    Deviation(
        "compact-zero-target-size-one",
        "mutant",
        "auxpow",
        "GetCompact of target 0 gives 0x01000000 (size at least 1) instead of 0",
        "alys/auxpow.py compact_from_target",
    ),
    Deviation(
        "auxpow-pow-zero-target-unlimited",
        "mutant",
        "auxpow",
        "a zero target is read as 'no target set': every hash meets it",
        "alys/auxpow.py hash_meets_target",
    ),
    Deviation(
        "auxpow-coinbase-first-input-only",
        "mutant",
        "auxpow",
        "the coinbase check looks at the first input only: a committed tx with several inputs passes",
        "alys/auxpow.py check_decoded",
    ),
    Deviation(
        "auxpow-fallback-indexes-output-3",
        "mutant",
        "auxpow",
        "with a bad header in output 2 of a three-output coinbase, the fallback indexes output 3 "
        "(an IndexError, a panic in Rust) instead of answering CoinbaseInvalidOutputs",
        "alys/auxpow.py find_header_vout",
    ),
    Deviation(
        "auxpow-vin-magic-after-start",
        "mutant",
        "auxpow",
        "the scriptSig parser looks for the magic from offset 1: a header at offset 0 is missed",
        "alys/auxpow.py find_header_vin",
    ),
    Deviation(
        "auxpow-merkle-size-bit-length",
        "mutant",
        "auxpow",
        "the merkle size check compares bit lengths: any size in [2^h, 2^(h+1)) passes",
        "alys/auxpow.py check_decoded",
    ),
    Deviation(
        "auxpow-root-order-ignored",
        "mutant",
        "auxpow",
        "check ignores root_order: a proof holding the root reversed (Namecoin's order) is refused",
        "alys/auxpow.py check_decoded",
    ),
    Deviation(
        "auxpow-branch-limit-31",
        "mutant",
        "auxpow",
        "the chain branch length limit lets 31 hashes through (> 31 instead of > 30)",
        "alys/auxpow.py check_decoded",
    ),
    Deviation(
        "auxpow-expected-index-mod-off-by-one",
        "mutant",
        "auxpow",
        "getExpectedIndex reduces modulo 2^h + 1: the slot can fall outside the tree",
        "alys/auxpow.py expected_index",
    ),
    Deviation(
        "codec-accepts-non-minimal-varint",
        "mutant",
        "auxpow",
        "a CompactSize in a non-minimal form (0xfd/0xfe/0xff for a small value) is accepted",
        "alys/codec.py Cursor.varint",
    ),
    Deviation(
        "codec-any-segwit-flag",
        "mutant",
        "auxpow",
        "any non-zero segwit flag byte is read as the BIP144 flag 1",
        "alys/codec.py read_tx",
    ),
    Deviation(
        "codec-accepts-superfluous-witness",
        "mutant",
        "auxpow",
        "a segwit flag with every witness empty is accepted (rust-bitcoin and Bitcoin Core refuse it)",
        "alys/codec.py read_tx",
    ),
    Deviation(
        "codec-max-vec-off-by-one",
        "mutant",
        "auxpow",
        "a byte vector of exactly MAX_VEC_SIZE (4,000,000) is refused (> cap read as >=)",
        "alys/codec.py Cursor.count",
    ),
    Deviation(
        "retarget-no-upper-clamp",
        "mutant",
        "auxpow",
        "a ratio above 1 is not clamped to 1 + maxPowAdjustment/100",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-half-up-rounding",
        "mutant",
        "auxpow",
        "the block-gap ratio is rounded half up instead of half to even",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-product-wraps",
        "mutant",
        "auxpow",
        "target/100*percent wraps modulo 2^256 instead of saturating",
        "alys/chain.py calculate_next_work_required",
    ),
    Deviation(
        "retarget-fires-one-late",
        "mutant",
        "auxpow",
        "retargeting fires when the gap exceeds the interval by two, not one",
        "alys/chain.py get_next_work_required",
    ),
)


def _library(id: str, summary: str, family: str) -> Deviation:
    return Deviation(
        id,
        "library",
        "bls",
        summary,
        "bls-edge-cases.md (measured)",
        breaks=(f"{BLS_PROPS}::test_backends_agree_on_edge_inputs[[]{family}[]]",),
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
