"""The implementation under test: a Python port of the Alys node's logic, as its Rust code has it.

`build(name, enabled)` returns a target whose components carry the given deviations: the node's quirks
(`QUIRKS`, all on in target `alys`) and any seeded mutants (`SEEDED`, the ids of alys_pbt.deviations).
"""

from __future__ import annotations

from collections.abc import Iterable

from alys.actors import ActorsPort
from alys.approvals import ApprovalsPort
from alys.auxpow import AuxPowPort
from alys.chain import ChainPort
from alys.governance import GovernancePort
from alys.sync import SyncPort
from alys.variant import NodePanic, Variant

# The places where the node's code deviates from the secure rule (see alys_pbt/deviations.py).
QUIRKS: frozenset[str] = frozenset(
    {
        "auxpow-any-tx-commitment",
        "auxpow-check-pow-aborts",
        "auxpow-header-fields-unchecked",
        "retarget-caps-low-ratio",
        "retarget-ratio-one-truncates",
        "retarget-zero-bits",
        "approvals-padded-bits-count",
        "federation-early-approvals-lost",
        "federation-replace-drops-approvals",
        "approvals-authorities-beyond-bitlist",
        "actors-capacity-unenforced",
        "actors-restart-limit-hardcoded",
        "actors-delayed-restarts-never-fire",
        "chain-slot-author-unchecked",
        "chain-rollback-undoes-finalization",
        "chain-withdrawals-extra-accepted",
        "chain-full-nodes-skip-withdrawals",
        "chain-pegin-utf8-address-rejected",
        "chain-wire-form-lenient",
        "sync-serve-loop-index",
        "sync-error-rolls-back",
        "governance-buffer-lost-on-reconnect",
        "governance-connection-cap-unenforced",
        "governance-silence-undetected",
        "governance-signature-status-squashed",
        "governance-backoff-jitter-past-cap",
    }
)


# The seeded mutants the port carries (alys_pbt/deviations.py MUTANTS): each guards code of its own,
# off in every shipped target. The port names them so that a build refuses an id it has no code for
# (a typo would otherwise build alys-fixed silently, and a kill matrix would report it survived).
SEEDED: frozenset[str] = frozenset(
    {
        "actors-ask-refusal-unanswered",
        "actors-ask-timer-left-pending",
        "actors-broadcast-drops-priority",
        "actors-capacity-off-by-one",
        "actors-cascade-one-level",
        "actors-escalation-not-propagated",
        "actors-escalation-unrecorded",
        "actors-failed-actor-scheduled",
        "actors-handler-timeout-inclusive",
        "actors-idle-runs-past-limit",
        "actors-memory-limit-off-by-one",
        "actors-memory-not-released",
        "actors-normal-lifo",
        "actors-restart-count-from-1",
        "actors-restart-loses-mailbox",
        "actors-route-overflow-silent",
        "actors-shutdown-cycle-left-running",
        "actors-shutdown-forward-order",
        "actors-slow-handler-overlaps",
        "actors-spawn-replaces-taken-name",
        "actors-stalled-handler-hangs",
        "actors-started-sees-running",
        "actors-ties-newest-first",
        "actors-timer-ties-newest-first",
        "actors-warning-off-by-one",
        "approvals-bits-beyond-n-off-by-one",
        "approvals-duplicate-counted",
        "approvals-floor-threshold",
        "approvals-max-authorities-off-by-one",
        "approvals-strict-threshold",
        "approvals-unknown-index-off-by-one",
        "approvals-verify-all-authorities",
        "auxpow-aggregate-single-unhashed",
        "auxpow-branch-limit-31",
        "auxpow-branch-limit-off-by-one",
        "auxpow-coinbase-first-input-only",
        "auxpow-expected-index-i32",
        "auxpow-expected-index-mod-off-by-one",
        "auxpow-fallback-indexes-output-3",
        "auxpow-merkle-sides-swapped",
        "auxpow-merkle-size-bit-length",
        "auxpow-no-output-3-fallback",
        "auxpow-pow-hash-big-endian",
        "auxpow-pow-strict-less",
        "auxpow-pow-zero-target-unlimited",
        "auxpow-root-order-ignored",
        "auxpow-vin-magic-after-start",
        "bitcoin-merkle-odd-promotes",
        "bls-accepts-identity-aggregate-key",
        "bls-accepts-infinity-key",
        "bls-fast-aggregate-accepts-infinity-key",
        "bls-memo-ignores-keys",
        "bls-memo-ignores-message",
        "bls-memo-ignores-signature",
        "bls-verify-raises-on-malformed",
        "bls-wrong-dst",
        "chain-accepts-unknown-parent",
        "chain-block-decode-ignores-trailing",
        "chain-block-size-limit-off-by-one",
        "chain-fee-split-rounds-up",
        "chain-finalized-range-off-by-one",
        "chain-import-moves-head-early",
        "chain-withdrawals-limit-off-by-one",
        "codec-accepts-non-minimal-varint",
        "codec-accepts-superfluous-witness",
        "codec-accepts-trailing-bytes",
        "codec-any-segwit-flag",
        "codec-drops-witness",
        "codec-max-vec-off-by-one",
        "codec-panics-on-truncation",
        "compact-no-sign-adjust",
        "compact-shift-saturates",
        "compact-sign-bit-boundary",
        "compact-sign-checked-before-shift",
        "compact-zero-target-size-one",
        "evm-accepts-high-s",
        "evm-legacy-ignores-chain-id",
        "evm-rlp-accepts-leading-zeros",
        "evm-sender-cache-key-omits-signature",
        "evm-tx-size-limit-off-by-one",
        "federation-duplicate-approval-toggles",
        "federation-equivocation-moves-bit",
        "federation-first-candidate-only",
        "governance-backoff-never-grows",
        "governance-buffer-bound-off-by-one",
        "governance-heartbeat-unchecked",
        "governance-reconnect-drops-buffered",
        "governance-replay-newest-first",
        "governance-response-wrong-request",
        "governance-sweep-never-times-out",
        "retarget-fires-one-late",
        "retarget-half-up-rounding",
        "retarget-no-upper-clamp",
        "retarget-product-wraps",
        "store-checkpoint-before-blocks",
        "store-errors-untyped",
        "store-recover-unverified",
        "store-recovery-deletes-acknowledged",
        "store-retention-off-by-one",
        "store-rows-unverified",
        "store-shared-writer",
        "store-tail-loss-unchecked",
        "sync-batch-start-off-by-one",
        "sync-breaker-never-opens",
        "sync-failures-never-reset",
        "sync-head-moves-before-store",
        "sync-health-per-engine",
        "sync-parallel-bad-block-uncharged",
        "sync-parallel-ignores-backoff",
        "sync-parallel-swallows-store-errors",
        "sync-retry-without-backoff",
        "sync-serve-count-off-by-one",
        "sync-timeout-inclusive",
        "sync-trusts-claimed-height",
    }
)


class AlysTarget:
    """Target `alys` (or a variant of it): one attribute per component of the target interface."""

    def __init__(self, name: str, enabled: Iterable[str]) -> None:
        self.name = name
        self.variant = Variant(frozenset(enabled))
        self.quirks = self.variant.enabled & QUIRKS
        self.auxpow = AuxPowPort(self.variant)
        self.approvals = ApprovalsPort(self.variant)
        self.chain = ChainPort(self.variant, self.auxpow, self.approvals)
        self.actors = ActorsPort(self.variant)
        self.sync = SyncPort(self.variant, self.chain)
        self.governance = GovernancePort(self.variant)

    def __repr__(self) -> str:
        return f"<target {self.name}>"


def build(name: str, enabled: Iterable[str] = ()) -> AlysTarget:
    """Target `name` with the deviations `enabled` switched on; an id the port has no code for is a
    ValueError naming it."""
    ids = list(enabled)
    unknown = sorted(set(ids) - QUIRKS - SEEDED)
    if unknown:
        raise ValueError(
            f"the port carries no deviation {', '.join(map(repr, unknown))} "
            "(its quirks are alys.QUIRKS, its seeded mutants alys.SEEDED)"
        )
    return AlysTarget(name, ids)


__all__ = ["QUIRKS", "SEEDED", "AlysTarget", "NodePanic", "build"]
