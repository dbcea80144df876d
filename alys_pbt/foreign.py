"""A target's own registry of known deviations, loaded like ours (alys_pbt/deviations.py).

A target may have `deviations`: records (mappings or objects with these attributes) of the places
where it knowingly departs from the secure rule:

* `id` (not one of ours), `summary`;
* `breaks`: pytest node-id patterns (fnmatch; `[[]` and `[]]` for a parameter's brackets) of the
  properties it breaks;
* optionally `requires` (deviation ids without which it cannot show), `jointly` ((pattern, other
  ids) pairs: properties it breaks only together with those), `fails_with` (the failures that count
  as catching it, by class name; default AssertionError), `source` (where it lives) and
  `component` (the area the findings list it under).

Each one is carried (the target need not repeat it in `quirks`); the properties it breaks run as
strict expected failures, and the findings list it with its counterexamples, as for our quirks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

from alys_pbt import deviations
from alys_pbt.interface import TargetError


@frozen
class ForeignDeviation:
    """A known deviation a target registers itself (the fields our Deviation records have)."""

    id: str
    summary: str
    source: str
    breaks: tuple[str, ...]
    requires: tuple[str, ...] = ()
    jointly: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fails_with: tuple[str, ...] = ("AssertionError",)
    component: str = ""  # the area the findings group it under (auxpow, chain, ...), if it says
    kind: str = "foreign"

    def breaks_item(self, nodeid: str, carried: Iterable[str]) -> bool:
        """Whether it breaks the property, given every deviation the target carries."""
        on = set(carried)
        if not set(self.requires) <= on:
            return False
        if any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in self.breaks):
            return True
        return any(
            fnmatch.fnmatchcase(nodeid, pattern) and set(others) <= on for pattern, others in self.jointly
        )


def _field(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _strings(value: Any, what: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    items = tuple(value) if isinstance(value, Iterable) else ()
    if not all(isinstance(v, str) and v for v in items):
        problems.append(f"{what} must be a list of non-empty strings, got {value!r}")
        return ()
    return items


def load(target: Any, spec: str) -> tuple[ForeignDeviation, ...]:
    """The target's own deviations, or TargetError naming every record that is wrong."""
    records = getattr(target, "deviations", None)
    if records is None:
        return ()
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise TargetError(
            f"target {spec!r}: deviations must be a list of records, got {type(records).__name__}"
        )
    out: list[ForeignDeviation] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, record in enumerate(records):
        rid = _field(record, "id")
        where = f"deviation {rid!r}" if isinstance(rid, str) and rid else f"deviation #{n}"
        if not isinstance(rid, str) or not rid:
            problems.append(f"{where} has no id")
            continue
        if rid in deviations.ALL:
            problems.append(f"{where} has the id of one of ours ({deviations.get(rid).kind}); choose another")
        if rid in seen:
            problems.append(f"{where} is registered twice")
        seen.add(rid)
        summary = _field(record, "summary")
        if not isinstance(summary, str) or not summary.strip():
            problems.append(f"{where} has no summary")
        breaks = _strings(_field(record, "breaks"), f"{where}: breaks", problems)
        jointly_raw = _field(record, "jointly") or ()
        jointly = []
        for pair in jointly_raw:
            try:
                pattern, others = pair
            except (TypeError, ValueError):
                problems.append(f"{where}: jointly holds (pattern, [deviation ids]) pairs, got {pair!r}")
                continue
            jointly.append((str(pattern), _strings(others, f"{where}: jointly", problems)))
        if not breaks and not jointly:
            problems.append(f"{where} breaks no property (give `breaks`, node-id patterns)")
        fails_with = _strings(_field(record, "fails_with"), f"{where}: fails_with", problems) or (
            "AssertionError",
        )
        out.append(
            ForeignDeviation(
                id=rid,
                summary=str(summary or "").strip(),
                source=str(_field(record, "source") or f"target {spec}'s own registry"),
                breaks=breaks,
                requires=_strings(_field(record, "requires"), f"{where}: requires", problems),
                jointly=tuple(jointly),
                fails_with=fails_with,
                component=str(_field(record, "component") or ""),
            )
        )
    known = seen | set(deviations.ALL)
    for d in out:
        for other in [*d.requires, *(i for _, ids in d.jointly for i in ids)]:
            if other not in known:
                problems.append(f"deviation {d.id!r} names unknown deviation {other!r}")
    if problems:
        raise TargetError(f"target {spec!r}: {'; '.join(problems)} (see alys_pbt/foreign.py)")
    return tuple(out)


def breaking(
    nodeid: str, carried: Iterable[str], foreign: Iterable[ForeignDeviation]
) -> list[deviations.Deviation | ForeignDeviation]:
    """Ours the target carries and its own, that break the property with this node id."""
    foreign = tuple(foreign)
    own_ids = {d.id for d in foreign}
    ours = set(carried) - own_ids
    found: list[deviations.Deviation | ForeignDeviation] = list(deviations.quirks_breaking(nodeid, ours))
    on = ours | own_ids | set(deviations.LIBRARY_IDS)
    found += [d for d in foreign if d.breaks_item(nodeid, on)]
    return found
