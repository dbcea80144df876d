"""One record for an invalid case: build a valid value, break one rule, expect one error.

Every catalogue of invalid cases (the AuxPoW corruptions, the block corruptions, the Byzantine
approvals, the non-canonical wire forms) is a tuple of `InvalidCase`. A record names the rule it
breaks and whose rule that is (`origins`: the node's code with file, Namecoin, Bitcoin consensus,
IETF, or the suite's own hardening), the error the reference raises, how to apply it, where it
applies, and the deviations that let it through (`exposes`: the registry's ids). A property that
runs a catalogue is a `Sweep`; the registry (alys_pbt/deviations.py) derives from the sweeps and
the records which properties each deviation breaks, so no list of names is copied by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from attrs import field, frozen

from alys_pbt.models.bitcoin import Origin, origins_text

# The areas of the suite: one name each, shared by the markers, the properties, the strategies,
# the references, the port and the deviations (the registry's `component`).
Area = Literal["auxpow", "retarget", "chain", "approvals", "actors", "sync", "network", "governance"]
AREAS: dict[str, str] = {
    "auxpow": "AuxPoW and Bitcoin encoding",
    "retarget": "difficulty retargeting and compact bits of the next block",
    "chain": "Alys blocks, their wire form, chains and finalization",
    "approvals": "BLS approvals, the federation threshold and the BLS libraries",
    "actors": "the V2 actor runtime",
    "sync": "sync engine and checkpoints",
    "network": "a network of nodes: partitions, clock skew, Byzantine authorities (safety and liveness)",
    "governance": "the governance stream (StreamActor over gRPC)",
}


@frozen
class Exposure:
    """A deviation that lets the case through; `via` names the entry points where it shows (every
    one when empty): e.g. a structural AuxPoW corruption aborts the node only through check_pow."""

    deviation: str
    via: tuple[str, ...] = ()

    def shows_through(self, entry: str) -> bool:
        return not self.via or entry in self.via


def _exposures(items: Iterable[str | Exposure]) -> tuple[Exposure, ...]:
    return tuple(Exposure(i) if isinstance(i, str) else i for i in items)


def _always(_state: Any) -> bool:
    return True


@frozen
class InvalidCase:
    """One named way to break one rule, and the one error a correct node answers it with."""

    name: str
    expected: str  # the reference's error class name ("ok": the case must change nothing)
    rule: str  # the rule it breaks
    origins: tuple[Origin, ...]  # whose rule that is
    apply: Callable[..., Any]  # how to break a valid value (the catalogue says what it takes)
    area: Area
    applies_to: tuple[str, ...] = ()  # where it applies (AuxPoW layouts, ...); () for everywhere
    level: str = ""  # the check that refuses it, where the area has several (AuxPoW: structure/pow/header)
    when: Callable[[Any], bool] = _always  # whether a generated state admits it (a chain long enough)
    exposes: tuple[Exposure, ...] = field(default=(), converter=_exposures)

    @property
    def why(self) -> str:
        return self.rule

    @property
    def layouts(self) -> tuple[str, ...]:
        return self.applies_to

    def applicable(self, state: Any) -> bool:
        return self.when(state)

    @property
    def origin_text(self) -> str:
        return origins_text(self.origins)

    def describe(self) -> str:
        """The rule and its origin, for failure messages and findings."""
        return f"{self.expected}: {self.rule} [{self.origin_text}]"

    def exposed_by(self, deviation: str, entry: str = "") -> bool:
        """Whether `deviation` lets this case through at `entry` (any entry when empty)."""
        return any(e.deviation == deviation and (not entry or e.shows_through(entry)) for e in self.exposes)


@frozen
class Sweep:
    """A property run over a catalogue: once per case (`parametrized`, the id being the case's name)
    or drawing any of them in each example; `entry` is the entry point of the target it drives.
    A property that judges something other than the verdict (what a refusal leaves behind, two
    roles agreeing) is not broken by a deviation that lets a case through: `checks_verdict` False."""

    nodeid: str  # the property's node id without parameters: properties/test_x.py::test_y
    cases: tuple[InvalidCase, ...]
    entry: str = ""
    parametrized: bool = True
    checks_verdict: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cases)

    def broken_by(self, deviation: str) -> tuple[str, ...]:
        """The node-id patterns (fnmatch) of the items `deviation` breaks: each case it lets through."""
        hit = [c for c in self.cases if self.checks_verdict and c.exposed_by(deviation, self.entry)]
        if not self.parametrized:
            return (self.nodeid,) if hit else ()
        return tuple(item_pattern(self.nodeid, c.name) for c in hit)


def item_pattern(nodeid: str, param: str) -> str:
    """The fnmatch pattern of one parametrization of a property (its brackets escaped)."""
    return f"{nodeid}[[]{param}[]]"


def by_name(cases: Sequence[InvalidCase]) -> dict[str, InvalidCase]:
    """The catalogue by case name (names are unique within a catalogue)."""
    table = {c.name: c for c in cases}
    if len(table) != len(cases):
        raise ValueError("two invalid cases share a name")
    return table


__all__ = ["AREAS", "Area", "Exposure", "InvalidCase", "Sweep", "by_name", "item_pattern"]
