"""The implementation under test: a Python port of the Alys node's logic, as its Rust code has it.

`build(enabled)` returns a target whose components carry the given deviations: the node's quirks
(`QUIRKS`, all on in target `alys`) and any seeded mutants (ids from alys_pbt.deviations).
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
    return AlysTarget(name, enabled)


__all__ = ["QUIRKS", "AlysTarget", "NodePanic", "build"]
