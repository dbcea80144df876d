"""The target interface as data (issue 12, items 1-4; issue 18, the Target protocol): optional parts,
capabilities, error names, crashes, a target's own deviations, and what each property needs."""

from __future__ import annotations

import ast
import re
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import alys
from alys_pbt import coverage, foreign, interface, targets
from alys_pbt.interface import COMPONENTS, METHODS, Target, TargetError, TargetView
from alys_pbt.models import auxpow as ref
from alys_pbt.strategies import auxpow as auxpow_strategies
from alys_pbt.strategies.auxpow import auxpow_cases
from alys_pbt.strategies.corruptions import CATALOGUE, corrupted_cases
from alys_pbt.verdict import TargetCrash, verdict
from tests.support import ROOT

pytest_plugins = ["pytester"]

# --- docs/target-interface.md is generated, and current ------------------------------------------------


def test_the_interface_docs_are_current() -> None:
    """Regenerate with `python -m alys_pbt.interface docs` after changing alys_pbt/interface.py."""
    assert interface.DOCS.read_text() == interface.docs(), "run `python -m alys_pbt.interface docs`"


def test_the_docs_check_fails_on_a_stale_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "target-interface.md"
    stale.write_text(interface.docs().replace("WrongIndex", "WrongSlot"))
    assert interface.main(["docs", "--check", "--out", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert interface.main(["docs", "--out", str(stale)]) == 0
    assert interface.main(["docs", "--check", "--out", str(stale)]) == 0


def test_the_docs_list_every_method_with_its_errors() -> None:
    text = interface.docs()
    for component in COMPONENTS:
        for method in METHODS[component].values():
            assert f"### `{method.path}(" in text
            for name in method.errors:
                assert f"| `{name}` |" in text


# --- Error names as data --------------------------------------------------------------------------------


def test_every_rejection_the_corruption_catalogue_expects_is_listed_for_the_method_that_gives_it() -> None:
    check, check_pow = METHODS["auxpow"]["check"].errors, METHODS["chain"]["check_pow"].errors
    for c in CATALOGUE:
        assert c.expected in check_pow, f"{c.name}: chain.check_pow does not list {c.expected}"
        if c.level == "structure":
            assert c.expected in check, f"{c.name}: auxpow.check does not list {c.expected}"


def test_every_error_has_a_meaning() -> None:
    for component in COMPONENTS:
        for method in METHODS[component].values():
            for name, meaning in method.errors.items():
                assert meaning.strip(), f"{method.path}: {name} means nothing"


class _Raising:
    name = "raising"
    quirks: frozenset[str] = frozenset()

    def __init__(self, error: Exception) -> None:
        port = alys.build("x").auxpow
        self.auxpow = type("C", (), {m: getattr(port, m) for m in METHODS["auxpow"]})()

        def check(*args: Any, **kwargs: Any) -> None:
            raise error

        self.auxpow.check = check


def test_an_exception_not_among_a_methods_errors_is_a_crash_of_the_target() -> None:
    seen = targets.prepare(_Raising(IndexError("list index out of range")))
    with pytest.raises(TargetCrash, match=r"auxpow\.check crashed with IndexError: list index out of range"):
        seen.auxpow.check(b"", bytes(32), 1)
    assert verdict(lambda: seen.auxpow.check(b"", bytes(32), 1)) == "TargetCrash(auxpow.check: IndexError)"


def test_a_listed_error_passes_as_itself_whatever_its_module() -> None:
    WrongIndex = type("WrongIndex", (Exception,), {})  # a foreign target's own class of that name
    seen = targets.prepare(_Raising(WrongIndex()))
    assert verdict(lambda: seen.auxpow.check(b"", bytes(32), 1)) == "WrongIndex"


def test_the_port_raises_only_listed_names_through_the_view() -> None:
    seen = targets.prepare(alys.build("alys-fixed"))
    assert verdict(lambda: seen.auxpow.decode_header(b"\x00" * 79)) == "DecodeError"
    assert verdict(lambda: seen.chain.decode_block(b"{")) == "DecodeError"
    assert verdict(lambda: seen.chain.transaction_sender(b"\xc0")) == "MalformedRlp"


# --- Optional components and methods, capabilities -------------------------------------------------------


class _NoEncoders:
    name = "no-encoders"
    quirks: frozenset[str] = frozenset()

    def __init__(self, capabilities: Any = None) -> None:
        port = alys.build("x").auxpow
        required = interface.required_methods(interface.AuxPowComponent)
        self.auxpow = type("C", (), {m: getattr(port, m) for m in required})()
        if capabilities is not None:
            self.auxpow.capabilities = capabilities


def test_an_optional_method_left_out_skips_what_reaches_it_naming_it() -> None:
    seen = targets.prepare(_NoEncoders())
    assert seen.coverage.absent_methods == (
        "auxpow.encode_transaction",
        "auxpow.encode_header",
        "auxpow.encode_auxpow",
    )
    header = seen.auxpow.decode_header(bytes(80))
    with pytest.raises(
        pytest.skip.Exception, match=re.escape("target 'no-encoders' lacks auxpow.encode_header")
    ) as skip:
        seen.auxpow.encode_header(header)
    assert skip.value.missing_part == "auxpow.encode_header"  # type: ignore[attr-defined]
    with pytest.raises(pytest.skip.Exception, match=r"lacks chain \(the whole component\)"):
        seen.chain.node(None, None, None)


def test_a_skip_is_not_a_verdict() -> None:
    """verdict() catches Exception; a missing part must end the property, not answer it."""
    seen = targets.prepare(_NoEncoders())
    with pytest.raises(pytest.skip.Exception):
        verdict(lambda: seen.auxpow.encode_header(None))


@pytest.mark.parametrize(
    ("capabilities", "message"),
    [
        ({"layouts": ("vout",)}, "auxpow.capabilities['layouts'] must be a non-empty subset"),
        ({"layouts": ()}, "auxpow.capabilities['layouts'] must be a non-empty subset"),
        ({"byte_order": "big"}, "auxpow.capabilities names unknown 'byte_order'"),
        (["script-sig"], "auxpow.capabilities must be a mapping"),
    ],
)
def test_capabilities_declared_wrongly_are_refused(capabilities: Any, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        targets.prepare(_NoEncoders(capabilities))


def test_capabilities_default_to_everything() -> None:
    seen = targets.prepare(_NoEncoders({"layouts": "script-sig"}))
    assert seen.coverage.capabilities["auxpow"] == {
        "layouts": ("script-sig",),
        "root_orders": ref.ROOT_ORDERS,
    }
    assert seen.coverage.supports("auxpow", "layouts", "script-sig")
    assert not seen.coverage.supports("auxpow", "layouts", "output-script")


@pytest.fixture
def script_sig_reversed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(auxpow_strategies.SUPPORTED, "layouts", ("script-sig",))
    monkeypatch.setitem(auxpow_strategies.SUPPORTED, "root_orders", ("reversed",))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_strategies_draw_only_what_the_target_supports(script_sig_reversed_only: None, data: Any) -> None:
    case = data.draw(auxpow_cases(max_height=3))
    assert (case.layout, case.root_order) == ("script-sig", "reversed")
    case = data.draw(auxpow_cases(max_height=3, root_order=st.sampled_from(ref.ROOT_ORDERS)))
    assert (case.layout, case.root_order) == ("script-sig", "reversed")
    case = data.draw(corrupted_cases("wrong-index", root_order=st.sampled_from(ref.ROOT_ORDERS)))
    assert (case.layout, case.root_order) == ("script-sig", "reversed")


def test_a_pinned_value_is_drawn_as_pinned(script_sig_reversed_only: None) -> None:
    """chain.check_pow is the node's production layout: its properties pin it and get it."""
    case = find(auxpow_cases(layout="output-script", max_height=1), lambda _: True)
    assert case.layout == "output-script"


# --- What each property needs ----------------------------------------------------------------------------


def _helper(target: Any) -> bytes:
    return target.chain.aggregate_hash([bytes(32)])


def _reads(target: Any) -> None:
    target.auxpow.check(b"", b"", 0)
    _helper(target)
    target.sync.network()


def test_what_a_property_needs_is_read_from_its_code_and_the_helpers_it_calls() -> None:
    assert coverage.read_needs(_reads) == {"auxpow.check", "chain.aggregate_hash", "sync.network"}


def test_a_requires_marker_adds_to_what_the_code_shows(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_needs="""
        import pytest

        @pytest.mark.requires("actors.scheduler", "sync")
        def test_x(target):
            target.auxpow.check(b"", b"", 0)
        """
    )
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    assert coverage.needs(items[0]) == ["actors.scheduler", "auxpow.check", "sync"]


# --- A target's own deviations -----------------------------------------------------------------------------


class _WithDeviations:
    name = "own"
    quirks: frozenset[str] = frozenset({"retarget-zero-bits"})

    def __init__(self, records: Any) -> None:
        self.auxpow = alys.build("x").auxpow
        self.deviations = records


RECORD = {"id": "own-bug", "summary": "something", "breaks": ["properties/test_auxpow.py::test_a"]}


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{**RECORD, "id": "auxpow-pow-strict-less"}], "has the id of one of ours (mutant)"),
        ([{**RECORD, "breaks": []}], "deviation 'own-bug' breaks no property"),
        ([{**RECORD, "summary": ""}], "deviation 'own-bug' has no summary"),
        ([RECORD, RECORD], "deviation 'own-bug' is registered twice"),
        ([{**RECORD, "requires": ["no-such"]}], "deviation 'own-bug' names unknown deviation 'no-such'"),
        ([{"summary": "x", "breaks": ["a"]}], "deviation #0 has no id"),
        ({"id": "x"}, "deviations must be a list of records"),
    ],
)
def test_a_malformed_foreign_registry_is_refused_naming_the_record(records: Any, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        foreign.load(_WithDeviations(records), "own")


def test_foreign_deviations_break_their_properties_with_requires_and_jointly() -> None:
    own = foreign.load(
        _WithDeviations(
            [
                RECORD,
                {
                    "id": "own-joint",
                    "summary": "shows only with own-bug and our retarget-zero-bits",
                    "breaks": [],
                    "jointly": [("properties/test_auxpow.py::test_b", ["own-bug", "retarget-zero-bits"])],
                },
                {
                    "id": "own-needs",
                    "summary": "x",
                    "breaks": ["*::test_c"],
                    "requires": ["auxpow-pow-strict-less"],
                },
            ]
        ),
        "own",
    )
    ours = {"retarget-zero-bits", "retarget-caps-low-ratio"}  # the first shows only with the second
    ids = lambda nodeid, carried=ours: [d.id for d in foreign.breaking(nodeid, carried, own)]  # noqa: E731
    assert ids("properties/test_auxpow.py::test_a") == ["own-bug"]
    assert ids("properties/test_auxpow.py::test_b") == ["own-joint"]
    assert ids("properties/test_auxpow.py::test_b", set()) == []  # jointly needs our quirk too
    assert ids("x::test_c") == []  # requires a deviation the target does not carry
    assert "retarget-zero-bits" in ids("properties/test_retarget.py::test_retarget_never_yields_zero_target")


def test_a_target_may_declare_its_own_ids_among_its_quirks(monkeypatch: pytest.MonkeyPatch) -> None:
    target = _WithDeviations([RECORD])
    target.quirks = frozenset({"own-bug"})
    monkeypatch.setattr(sys.modules[__name__], "own", target, raising=False)
    assert targets.load(f"{__name__}:own") is target
    target.quirks = frozenset({"nobody-knows"})
    with pytest.raises(TargetError, match=r"declares unknown quirks \['nobody-knows'\]"):
        targets.load(f"{__name__}:own")


def test_the_actor_types_the_interface_defines_drive_the_port() -> None:
    """A Behaviour, an Envelope and a SupervisionPolicy of the interface's own, not the port's."""
    port = targets.prepare(alys.build("alys-fixed")).actors
    mailbox = port.mailbox(3, "reject")
    assert [
        mailbox.send(interface.Envelope("a", n, p)) for n, p in ((1, 1), (2, interface.Priority.HIGH))
    ] == [
        "accepted",
        "accepted",
    ]
    assert [mailbox.pop().seq, mailbox.pop().seq] == [2, 1]

    class Echo(interface.Behaviour):
        def handle(self, message: Any, ctx: Any) -> Any:
            return ("echo", message)

    scheduler = port.scheduler()
    system = port.system(scheduler)
    system.spawn("echo", Echo, supervision=interface.SupervisionPolicy(interface.Immediate()))
    reply = system.ask("echo", 5, timeout=1.0)
    scheduler.run_until_idle()
    assert reply.value == ("echo", 5)


class _SpyAuxPow:
    """Our port's AuxPoW behind the interface alone: its decodings are opaque (a dict), and every
    interface call is recorded."""

    def __init__(self) -> None:
        self.port, self.calls = alys.build("x").auxpow, []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            result = getattr(self.port, name)(*args, **kwargs)
            return {"opaque": result} if name.startswith("decode_") else result

        return call


def test_a_borrowed_chain_judges_proofs_with_the_auxpow_it_is_given_through_the_interface() -> None:
    """issue 12: a wrapper borrowing our chain with its own auxpow had check_pow test *our* AuxPoW.
    The chain must reach the auxpow component only through interface methods (the parent header is
    an AuxPoW's last 80 bytes), so the foreign one is what gets judged."""
    from alys.chain import ChainPort

    port = alys.build("alys-fixed")
    spy = _SpyAuxPow()
    chain = ChainPort(port.variant, spy, port.approvals)  # type: ignore[arg-type]
    header, ctx = find(auxpow_cases(layout="output-script", max_height=2), lambda _: True).pow_header()
    chain.check_pow(header, ctx)
    assert "check" in spy.calls and "check_proof_of_work" in spy.calls


# --- The Target protocol ---------------------------------------------------------------------------------


def test_the_target_protocol_is_built_from_the_components() -> None:
    hints = typing.get_type_hints(Target)
    assert {name: hints[name] for name in COMPONENTS} == COMPONENTS
    assert set(hints) == {"name", "quirks", *COMPONENTS}


def test_every_component_method_is_in_its_protocol_with_its_metadata() -> None:
    for component, protocol in COMPONENTS.items():
        declared = {n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")}
        assert declared == set(METHODS[component]), f"{component}: a method without @op"


def test_the_view_is_what_properties_get() -> None:
    seen = targets.current()
    assert isinstance(seen, TargetView) and seen.coverage.offered == tuple(COMPONENTS)
    assert repr(seen).startswith("<target ")


# --- No property or machine reaches past the interface -----------------------------------------------------

# Known leaks, each owned by another part of the suite (see the issue 12 report): they go, one by one.
# This list must match exactly: a new leak fails, and so does a leak that was fixed but is still listed.
KNOWN_LEAKS: set[str] = set()  # none left: the actors cross as roles, on the suite's own schedulers
SCANNED = ("properties", "models", "strategies", "alys_pbt/vectors/families")


def _port_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "alys" or a.name.startswith("alys.")}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "alys"
        ):
            found.add(str(node.module))
    return found


def test_no_property_strategy_or_machine_imports_the_port_beyond_the_known_leaks() -> None:
    leaks = {
        str(path.relative_to(ROOT)): _port_imports(path)
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if _port_imports(path)
    }
    assert set(leaks) - KNOWN_LEAKS == set(), f"new imports of the port: {leaks}"
    assert KNOWN_LEAKS - set(leaks) == set(), "a leak was fixed: strike it from KNOWN_LEAKS"


def test_properties_and_machines_call_only_interface_methods() -> None:
    pattern = re.compile(r"\btarget\s*\.\s*(" + "|".join(COMPONENTS) + r")\s*\.\s*([A-Za-z_]\w*)")
    outside = []
    for folder in ("properties", "models/machines", "strategies"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for component, attr in pattern.findall(path.read_text()):
                if attr not in METHODS[component] and attr != "capabilities":
                    outside.append(f"{path.relative_to(ROOT)}: target.{component}.{attr}")
    assert outside == []
