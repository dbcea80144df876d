"""Which deviations a build of the port carries: the node's quirks and any seeded mutants."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import field, frozen


class NodePanic(Exception):
    """The node would panic here; with `panic = "abort"` the whole process dies.

    Deliberately not an AuxPowError or any other rejection: a property that expects a clean
    rejection must see this as the crash it is.
    """


def _ids(ids: Iterable[str]) -> frozenset[str]:
    return frozenset(ids)


@frozen
class Variant:
    """A set of switched-on deviation ids; `variant.on(id)` guards each deviating line."""

    enabled: frozenset[str] = field(factory=frozenset, converter=_ids)

    def on(self, deviation_id: str) -> bool:
        return deviation_id in self.enabled
