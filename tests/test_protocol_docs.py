"""docs/protocol.md is generated from the tables the client marshals with, every example exchange in
it holds against the port's server, and the tables match the target interface method for method."""

from __future__ import annotations

import inspect
import sys

from alys_pbt import interface
from alys_pbt.protocol import docs
from alys_pbt.protocol.methods import METHODS, TYPES


def test_protocol_doc_is_generated_from_the_tables() -> None:
    """docs/protocol.md is what `python -m alys_pbt.protocol docs` writes today."""
    assert docs.DOCS.read_text() == docs.render(), (
        "docs/protocol.md is stale: python -m alys_pbt.protocol docs"
    )


def test_every_example_exchange_holds_on_the_port() -> None:
    """Each method's example, sent as written, gets the reply the document shows."""
    problems = docs.replay(f"{sys.executable} -m alys.serve alys-fixed")
    assert problems == []


def test_examples_are_checked_for_real() -> None:
    """The replay notices a wrong answer: against the port with quirks and mutants that change what
    the examples ask about, some examples no longer hold."""
    problems = docs.replay(f"{sys.executable} -m alys.serve alys-fixed+auxpow-expected-index-mod-off-by-one")
    assert any(p.startswith("auxpow.expected_index") for p in problems), problems


def test_protocol_methods_are_the_interface_methods() -> None:
    """For each component the protocol carries: the same methods, parameter names (so keyword calls
    marshal), defaults and optional flags as alys_pbt/interface.py."""
    carried = {m.component for m in METHODS if m.component in interface.COMPONENTS}
    assert carried == set(interface.COMPONENTS)
    for component in carried:
        ours = {m.short: m for m in METHODS if m.component == component}
        theirs = interface.METHODS[component]
        assert set(ours) == set(theirs), component
        for name, method in ours.items():
            fn = getattr(interface.COMPONENTS[component], name)
            params = list(inspect.signature(fn).parameters.values())[1:]
            assert [p.name for p in method.params] == [p.name for p in params], method.name
            for ours_p, theirs_p in zip(method.params, params, strict=True):
                if theirs_p.default is not inspect.Parameter.empty:
                    assert ours_p.default == theirs_p.default, f"{method.name}({ours_p.name})"
                else:
                    assert ours_p.required, f"{method.name}({ours_p.name})"
            assert method.optional == theirs[name].optional, method.name


def test_every_handle_kind_has_a_maker() -> None:
    """Each `KIND.name` method acts on a handle some method makes (chain.node and node.restart make
    nodes), so the client builds its proxy with every call of that kind."""
    made = {m.made for m in METHODS if m.result == "handle"}
    kinds = {m.component for m in METHODS if "." in m.name and m.component not in interface.COMPONENTS}
    handles = {"candidate_cache", "node", "mailbox", "system", "reply", "scheduler", "stream", "network"}
    assert kinds == handles | {"store", "engine"} and kinds <= made, (kinds, made)
    assert next(m for m in METHODS if m.name == "node.restart").made == "node"


def test_every_type_used_is_defined_and_every_method_has_an_example() -> None:
    used = {p.type for m in METHODS for p in m.params} | {m.result for m in METHODS}
    assert used <= set(TYPES), used - set(TYPES)
    assert [m.name for m in METHODS if not m.example and m.name != "release"] == []
