"""One record for an invalid case, and the registry derived from it (issue 18, items 4 and 5).

Every catalogue (AuxPoW, blocks, Byzantine and aggregate approvals, block wire forms) is a tuple of
`InvalidCase`; the quirks' `breaks` come from the records that expose them and the `Sweep`s that run
them, so the names a property is parametrized by and the names the registry holds cannot drift."""

from __future__ import annotations

import fnmatch
import importlib
from typing import get_args

import pytest

from alys_pbt import deviations, plugin
from alys_pbt.killing import discover
from alys_pbt.models import approvals as approvals_ref
from alys_pbt.models import auxpow as auxpow_ref
from alys_pbt.models import blocks as blocks_ref
from alys_pbt.models import chain as chain_ref
from alys_pbt.models.bitcoin import OriginKind
from alys_pbt.strategies import approvals, blocks, corruptions, malformed_blocks, wire_forms
from alys_pbt.strategies.invalid import AREAS, Exposure, InvalidCase, Sweep

CATALOGUES: dict[str, tuple[tuple[InvalidCase, ...], tuple[object, ...]]] = {
    # catalogue: (its records, the reference modules whose errors it expects)
    "auxpow": (corruptions.CATALOGUE, (auxpow_ref,)),
    "blocks": (blocks.CATALOGUE, (chain_ref, approvals_ref)),
    "byzantine": (approvals.BYZANTINE, (approvals_ref,)),
    "aggregates": (approvals.AGGREGATES, (approvals_ref,)),
    "wire-forms": (wire_forms.WIRE_FORMS, (blocks_ref,)),
}
CASES = discover()
NODEIDS = [c.nodeid for c in CASES]


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_every_record_names_a_reference_error_a_rule_its_origins_and_known_deviations(catalogue: str) -> None:
    records, references = CATALOGUES[catalogue]
    assert records and all(isinstance(c, InvalidCase) for c in records)
    assert len({c.name for c in records}) == len(records)
    for c in records:
        assert c.expected == "ok" or any(hasattr(ref, c.expected) for ref in references), c.name
        assert c.rule and c.origins and c.area in AREAS, c.name
        assert {o.kind for o in c.origins} <= set(get_args(OriginKind)), c.name
        for exposure in c.exposes:
            assert deviations.get(exposure.deviation).kind == "quirk", (c.name, exposure)


def test_the_auxpow_records_keep_their_reference_error_s_origins() -> None:
    for c in corruptions.CATALOGUE:
        assert c.origins == getattr(auxpow_ref, c.expected).origins
        assert c.describe() == f"{c.expected}: {c.rule} [{c.origin_text}]"


def test_the_wire_form_records_are_the_generator_s_ways() -> None:
    assert tuple(wire_forms.BY_NAME) == malformed_blocks.WIRE_WAYS


def test_the_byzantine_verdicts_come_from_the_records() -> None:
    assert {c.name: c.expected for c in approvals.BYZANTINE} == approvals.EXPECTED
    assert set(approvals.EXPECTED) == set(approvals.BYZANTINE_KINDS)


@pytest.mark.parametrize("sweep", deviations.SWEEPS, ids=lambda s: s.nodeid.split("::", 1)[1])
def test_each_sweep_is_a_property_run_over_exactly_its_cases(sweep: Sweep) -> None:
    mine = [c for c in CASES if sweep.nodeid in (c.function, c.nodeid)]
    assert mine, f"no property {sweep.nodeid}"
    if sweep.parametrized:
        assert [c.nodeid for c in mine] == [f"{sweep.nodeid}[{name}]" for name in sweep.names]
    else:
        assert [c.nodeid for c in mine] in ([sweep.nodeid], [f"{sweep.nodeid}::runTest"])


def test_a_quirk_s_breaks_are_derived_from_the_records_that_expose_it() -> None:
    declared = {q.id: q for q in deviations._DECLARED_QUIRKS}
    slot = deviations.get("chain-slot-author-unchecked")
    derived = {  # the item of its case and the machine drawing it: none of them written by hand ...
        "properties/test_chain.py::test_corrupted_blocks_are_rejected[[]wrong-slot-author[]]",
        "properties/test_chain.py::TestChain::runTest",
    }
    assert not derived & set(declared[slot.id].breaks)
    assert derived <= set(slot.breaks)  # ... yet it breaks them
    # ... beside what is declared by hand: a property no catalogue drives (the network's)
    assert set(slot.breaks) == derived | set(declared[slot.id].breaks)
    aborts = deviations.get("auxpow-check-pow-aborts")
    structural = [
        c.name for c in corruptions.CATALOGUE if c.level == "structure" and c.layouts != ("script-sig",)
    ]
    assert {p.split("[[]", 1)[1][:-3] for p in aborts.breaks} == set(structural)
    assert all("test_check_pow_rejects_corruption" in p for p in aborts.breaks)  # only through check_pow
    # A property that judges what a refusal leaves behind is not broken by a case getting through.
    assert not any("test_a_refused_block_changes_nothing" in p for q in deviations.QUIRKS for p in q.breaks)


def test_a_new_record_exposing_a_quirk_adds_the_item_it_parametrizes() -> None:
    def case(name: str, *exposes: str | Exposure) -> InvalidCase:
        return InvalidCase(name, "E", "a rule", (), lambda: None, "chain", exposes=exposes)

    sweep = Sweep("p.py::t", (case("a"), case("b", "q"), case("c", Exposure("q", via=("x",)))), "y")
    assert sweep.broken_by("q") == ("p.py::t[[]b[]]",)
    assert Sweep("p.py::t", sweep.cases, "x").broken_by("q") == ("p.py::t[[]b[]]", "p.py::t[[]c[]]")
    assert Sweep("p.py::t", sweep.cases, parametrized=False).broken_by("q") == ("p.py::t",)
    assert Sweep("p.py::t", sweep.cases, checks_verdict=False).broken_by("q") == ()
    assert all(fnmatch.fnmatchcase("p.py::t[b]", p) for p in sweep.broken_by("q"))


def test_every_derived_pattern_names_an_existing_property() -> None:
    for q in deviations.QUIRKS:
        for pattern in (*q.breaks, *q.may_break):
            assert any(fnmatch.fnmatchcase(n, pattern) for n in NODEIDS), (q.id, pattern)


def test_every_deviation_sits_in_an_area_and_retargeting_has_its_own() -> None:
    for d in (*deviations.QUIRKS, *deviations.MUTANTS, *deviations.LIBRARY):
        assert d.component in AREAS, (d.id, d.component)
    assert {d.component for d in deviations.ALL.values() if d.id.startswith("retarget-")} == {"retarget"}


def test_the_markers_are_the_areas_and_every_property_file_carries_one() -> None:
    assert set(AREAS) <= set(plugin.MARKERS)
    assert not {"federation", "blocks"} & set(plugin.MARKERS)
    for path in sorted({c.function.split("::", 1)[0] for c in CASES}):
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        marks = getattr(module, "pytestmark", None)
        assert marks is not None and marks.name in AREAS, (path, marks)


def test_the_findings_are_grouped_by_area(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    carried = (
        "sync-serve-loop-index",
        "auxpow-any-tx-commitment",
        "retarget-zero-bits",
        "chain-wire-form-lenient",
    )
    target = SimpleNamespace(quirks=frozenset(carried), foreign=(), name="t")
    monkeypatch.setitem(plugin._state, "target", target)
    monkeypatch.setitem(plugin._state, "results", {})
    areas = [d.component for d, _, _ in plugin.findings()]
    assert areas == sorted(areas, key=list(AREAS).index)
    assert list(dict.fromkeys(areas)) == ["auxpow", "retarget", "chain", "approvals", "sync"]
