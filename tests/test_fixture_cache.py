"""Expensive fixtures are built once per key, kept on disk, and handed out as fresh copies (issue 17,
item 2)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings

from alys_pbt import fixture_cache
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies.sync import canonical_chains


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(fixture_cache, "CACHE_DIR", tmp_path / "fixture-cache")
    monkeypatch.setattr(fixture_cache, "_memo", {})
    return tmp_path / "fixture-cache"


class Builder:
    """A builder that counts its calls and returns a nested mutable value."""

    def __init__(self, value: Any) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def builder_module(tmp_path: Path, body: str) -> ModuleType:
    path = tmp_path / "fixture_builder.py"
    path.write_text(body)
    spec = importlib.util.spec_from_file_location("fixture_builder", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_params_build_once_in_process_and_from_disk(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = Builder({"blocks": [b"a", b"b"]})
    first = fixture_cache.cached("chain", (1, 2), build, code=(sys.modules[__name__],))
    second = fixture_cache.cached("chain", (1, 2), build, code=(sys.modules[__name__],))
    assert build.calls == 1 and first == second == {"blocks": [b"a", b"b"]}
    monkeypatch.setattr(fixture_cache, "_memo", {})  # a new worker or run: only the disk entry is left
    third = fixture_cache.cached("chain", (1, 2), build, code=(sys.modules[__name__],))
    assert build.calls == 1 and third == first
    assert len(list(cache_dir.glob("chain-*.pickle"))) == 1 and not list(cache_dir.glob("*.tmp"))


def test_other_params_or_name_build_afresh() -> None:
    build = Builder([1])
    fixture_cache.cached("chain", (1, 2), build)
    fixture_cache.cached("chain", (1, 3), build)
    fixture_cache.cached("keyring", (1, 2), build)
    assert build.calls == 3


def test_changed_builder_code_builds_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = Builder([1])
    module = builder_module(tmp_path, "LENGTH = 10\n")
    fixture_cache.cached("chain", 10, build, code=(module,))
    monkeypatch.setattr(fixture_cache, "_memo", {})
    fixture_cache.cached("chain", 10, build, code=(module,))
    assert build.calls == 1
    Path(module.__file__ or "").write_text("LENGTH = 11\n")
    fixture_cache.cached("chain", 10, build, code=(module,))
    assert build.calls == 2


@pytest.mark.parametrize(
    "garbage", [b"", b"not a pickle", b"\x80\x05\x95"], ids=["empty", "text", "truncated"]
)
def test_a_corrupt_entry_is_rebuilt_not_trusted(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    build = Builder({"head": "ab"})
    fixture_cache.cached("chain", 7, build)
    (entry,) = cache_dir.glob("chain-*.pickle")
    entry.write_bytes(garbage)
    monkeypatch.setattr(fixture_cache, "_memo", {})
    assert fixture_cache.cached("chain", 7, build) == {"head": "ab"}
    assert build.calls == 2
    monkeypatch.setattr(fixture_cache, "_memo", {})
    assert fixture_cache.cached("chain", 7, build) == {"head": "ab"} and build.calls == 2  # rewritten whole


def test_each_call_hands_out_its_own_copy() -> None:
    build = Builder({"blocks": [b"a"]})
    first = fixture_cache.cached("chain", 1, build)
    first["blocks"].append(b"forged")
    assert fixture_cache.cached("chain", 1, build) == {"blocks": [b"a"]}
    assert build.value == {"blocks": [b"a"]}  # nor is the builder's own value handed out


def test_shared_singletons_are_kept_by_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    singleton = object()
    build = Builder([singleton, [1]])
    fixture_cache.cached("chain", 1, build, shared=(singleton,))
    monkeypatch.setattr(fixture_cache, "_memo", {})
    value = fixture_cache.cached("chain", 1, build, shared=(singleton,))
    assert value[0] is singleton and build.calls == 1


@pytest.mark.parametrize("length", [0, 1, 6])
def test_a_cached_canonical_chain_is_the_uncached_one_and_never_shared(length: int) -> None:
    chains = []
    for cached in (False, True, True):
        one: list[Canonical] = []

        # derandomize: the same draws (so the same keyring) for each of the three builds.
        @settings(max_examples=1, database=None, derandomize=True)
        @given(canonical_chains(length=length, cached=cached))
        def draw_one(chain: Canonical) -> None:
            one.append(chain)

        draw_one()
        chains.append(one[0])
    uncached, first, second = chains
    assert first.builder.keyring == uncached.builder.keyring
    assert first.wire == uncached.wire and first.states == uncached.states
    first.extend(2)  # growing one copy leaves the next one as built
    assert second.tip == length and second.wire == uncached.wire
    assert first.builder.bls is second.builder.bls is uncached.builder.bls


def test_only_the_newest_entries_are_kept(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixture_cache, "KEEP", 2)
    build = Builder([1])
    for params in range(4):
        fixture_cache.cached("chain", params, build)
    fixture_cache.cached("keyring", 0, build)
    assert len(list(cache_dir.glob("chain-*.pickle"))) == 2
    assert len(list(cache_dir.glob("keyring-*.pickle"))) == 1
