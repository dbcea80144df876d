"""The decoders in alys/sync (issue 14, item 5): a checkpoint's state JSON and the store's
acknowledgement record give a typed error for any bytes, in bounded time and stack.

py_ecc raises the recursion limit at import (to 100,000), which hides a recursive decoder's
RecursionError from the rest of the suite; these tests put the default limit back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys.sync.store import Checkpoint, integrity_hash  # the suite's own test of the port's decoder
from alys_pbt import targets


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def checkpoint(state: str) -> Checkpoint:
    """A checkpoint whose integrity hash covers `state`: it verifies, so recovery would read it."""
    return Checkpoint(3, b"\x01" * 32, state, 0, integrity_hash(3, b"\x01" * 32, 0, state))


@pytest.mark.parametrize(
    "state",
    [
        "[" * 1001,  # issue 14: RecursionError in json's parser
        "{" * 1001,
        '{"a": ' * 1001,
        "[" * 100_000,
        '{"height": ' + "9" * 5000 + "}",  # past int_max_str_digits: ValueError
        '["not", "an", "object"]',
        "not json",
        "{" + ",".join(f'"k{i}": {i}' for i in range(20_000)) + "}",  # 280 KB: past the size bound
    ],
    ids=[
        "1001-brackets",
        "1001-braces",
        "1001-keys",
        "100k-brackets",
        "5000-digits",
        "a-list",
        "not-json",
        "280-kB",
    ],
)
def test_a_malformed_checkpoint_state_is_a_typed_error(default_recursion_limit: None, state: str) -> None:
    cp = checkpoint(state)
    assert cp.verifies()
    with pytest.raises(Exception) as err:  # noqa: PT011 - the type is what is checked, by name
        _ = cp.state
    assert type(err.value).__name__ == "MalformedCheckpointState" and isinstance(err.value, ValueError), repr(
        err.value
    )


def test_nesting_within_the_bound_parses(default_recursion_limit: None) -> None:
    assert checkpoint('{"a": [[{"b": "[{"}]]}').state == {"a": [[{"b": "[{"}]]}
    assert checkpoint('{"height": 3, "head": "ab", "latest_pow": "cd"}').state["height"] == 3


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet='[]{}":,0123456789aeflnrstu\\ ', max_size=300))
def test_any_state_text_parses_or_is_a_typed_error(text: str) -> None:
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        value = checkpoint(text).state
    except Exception as err:  # noqa: BLE001 - either outcome is allowed: a value or the typed error
        assert type(err).__name__ == "MalformedCheckpointState", repr(err)  # noqa: PT017
    else:
        assert isinstance(value, dict)
    finally:
        sys.setrecursionlimit(saved)


@pytest.mark.parametrize("record", [b"", b"\x00" * 7, b"alys-ack-v1\x00" + b"\x00" * 200, b"x" * 10_000])
def test_a_damaged_acknowledgement_record_is_a_typed_error_at_open(tmp_path: Path, record: bytes) -> None:
    sync = targets.load("alys-fixed").sync
    path = tmp_path / "s.sqlite"
    store = sync.store(interval=3, retention=2, path=str(path), busy_timeout=0.0)
    store.put_block(1, b"\x01" * 32, b"block", {}, 0)
    store.close()
    Path(str(path) + "-ack").write_bytes(record)
    with pytest.raises(OSError, match="acknowledgement record") as err:
        sync.store(interval=3, retention=2, path=str(path), busy_timeout=0.0)
    assert type(err.value).__name__ == "StoreCorrupt"


@pytest.mark.parametrize("extra", [-1, 0, 1])  # the size bound probed below, at and past it
def test_a_state_at_the_size_bound_parses_and_one_past_it_is_named(extra: int) -> None:
    from alys.sync.store import MAX_STATE_BYTES, parse_state

    padding = MAX_STATE_BYTES + extra - len('{"pad": ""}')
    text = '{"pad": "' + "x" * padding + '"}'
    assert len(text) == MAX_STATE_BYTES + extra
    if extra <= 0:
        assert parse_state(text) == {"pad": "x" * padding}
        return
    with pytest.raises(ValueError) as refused:  # noqa: PT011 - the class is checked by name
        parse_state(text)
    assert type(refused.value).__name__ == "MalformedCheckpointState"
    assert str(refused.value) == f"checkpoint state of {len(text)} characters (at most {MAX_STATE_BYTES})"
