"""Throughput of the system under test (target alys-fixed): actor messages/s with 1 to 16 actors,
sync blocks/s with real BLS and without, AuxPoW checks/s, blocks validated/s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import workloads


@pytest.mark.parametrize("actors", [1, 2, 4, 8, 16])
def test_actor_messages(measure: Callable[..., Any], actors: int) -> None:
    run, n = workloads.actor_messages(2_000, actors)
    assert measure(run, ops=n, rounds=15) == n


@pytest.mark.parametrize("bls", ["real-bls", "no-bls"])
def test_sync_blocks(measure: Callable[..., Any], bls: str) -> None:
    run, n = workloads.sync_blocks(24, signatures=bls == "real-bls")
    assert measure(run, ops=n, rounds=5) == n


def test_auxpow_checks(measure: Callable[..., Any]) -> None:
    run, n = workloads.auxpow_checker(40)
    assert measure(run, ops=n) == n


def test_blocks_validated(measure: Callable[..., Any]) -> None:
    run, n = workloads.blocks_validated(24)
    assert measure(run, ops=n, rounds=5) == n
