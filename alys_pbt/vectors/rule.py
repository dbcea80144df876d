"""What a family of conformance vectors offers: rules, their cases, and how to replay a case.

A *rule* is one stateless check of the protocol (decode a transaction, `AuxPow::check`, FastAggregateVerify,
...) or one kind of stateful scenario (a chain fed block by block). Each family module in
`alys_pbt/vectors/families/` exports `RULES: tuple[Rule, ...]`; the generator and the runner find
them by discovery, so adding a family touches no other file.

Values cross into JSON in one way only (see `docs/vectors.md`): bytes as `"0x"` + lowercase hex,
integers as JSON numbers when they fit 53 bits and as decimal strings otherwise (`to_json_int`),
finite floats (durations) as JSON numbers, booleans, strings, None, lists and objects as themselves.
The generator (`alys_pbt.vectors.generate`) refuses anything else, naming the rule and the case.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from attrs import field, frozen
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

Json = Any  # a value json.dumps takes: dict, list, str, int, bool, None
Outputs = dict[str, Json]

ORIGINS = ("node", "namecoin", "bitcoin-consensus", "ietf", "ethereum", "suite-hardening")


@frozen
class Expected:
    """The verdict a correct implementation gives: `ok` with outputs, or the name of its error."""

    verdict: str  # "ok" or "error"
    outputs: Outputs = field(factory=dict)
    error: str | None = None

    @classmethod
    def ok(cls, **outputs: Json) -> Expected:
        return cls("ok", dict(outputs))

    @classmethod
    def raises(cls, error: str) -> Expected:
        return cls("error", {}, error)

    def to_json(self) -> dict[str, Json]:
        if self.verdict == "ok":
            return {"verdict": "ok", "outputs": self.outputs}
        return {"verdict": "error", "error": self.error}


@frozen
class Case:
    """One vector: inputs (JSON), the expected verdict, and what it is for."""

    name: str  # unique within its rule: "valid-0003", "corruption-wrong-index", "boundary-branch-30"
    inputs: dict[str, Json]
    expected: Expected
    origin: str | None = None  # the rule's origin unless this case's check comes from elsewhere
    source: str | None = None  # where exactly (file and function, RFC section, BIP): free text
    quirks: tuple[str, ...] = ()  # known deviations (alys_pbt.deviations ids) that answer this case wrongly
    note: str = ""


@frozen
class Rule:
    """A rule: its cases, from a seed, and how to put one case to a target."""

    id: str  # "<family>/<rule>", e.g. "auxpow/check", lowercase, [a-z0-9-/]
    summary: str  # one line
    origin: str  # one of ORIGINS
    source: str  # where exactly the rule is written: "app/src/auxpow.rs AuxPow::check", "RFC 9380 §3"
    generate: Callable[[int, int], list[Case]]  # (seed, cases_per_rule) -> cases, deterministic
    # replay(target, inputs) -> outputs; raises the target's own error (judged by class name). None:
    # no target method answers this rule (the vectors are still written, for other clients).
    replay: Callable[[Any, Mapping[str, Json]], Outputs] | None = None
    component: str | None = None  # the target component replay needs ("auxpow", "chain", ...)
    inputs_schema: dict[str, Json] = field(factory=dict)  # JSON Schema of a case's inputs object
    outputs_schema: dict[str, Json] = field(factory=dict)  # JSON Schema of an ok verdict's outputs
    stateful: bool = False  # a scenario: inputs hold steps, outputs the state after each


def hex_bytes(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def from_hex(text: str) -> bytes:
    if not (isinstance(text, str) and text.startswith("0x")):
        raise ValueError(f"expected 0x-prefixed hex, got {text!r}")
    return bytes.fromhex(text[2:])


def to_json_int(n: int) -> int | str:
    """A JSON number when it survives a double (53 bits), a decimal string otherwise."""
    return n if -(1 << 53) < n < 1 << 53 else str(n)


def from_json_int(value: int | str) -> int:
    return value if isinstance(value, int) else int(value, 10)


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis also draws literals it finds in the project's *loaded* modules (its "local
    constants"); which modules are loaded differs between the CLI and a pytest session (every test
    module adds its literals), so the same seed would draw different vectors. Draw only from
    Hypothesis's own constants while sampling. Private API, pinned with Hypothesis (constraints.txt):
    if it moves, sampling still works and tests/test_vectors.py's cross-process check says so."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original = providers._get_local_constants
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # pragma: no cover - another Hypothesis version
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()  # it holds the local constants allowed per choice type
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


T = TypeVar("T")


def sample(strategy: st.SearchStrategy[T], *, seed_value: int, n: int) -> list[T]:
    """`n` values drawn by Hypothesis from `strategy`, the same for the same seed and version,
    whatever modules the process has loaded."""
    out: list[T] = []

    @seed(seed_value)
    @settings(
        max_examples=n,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        if len(out) < n:
            out.append(value)

    with _no_local_constants():
        collect()
    return out
