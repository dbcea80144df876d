"""ALYS_PBT_DATABASE_URL shares one example database through Redis (issue 2).

Runs against a real redis-server on loopback when one is installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alys_pbt import database
from alys_pbt.project import copy_project
from tests.support import FIXTURES, free_port, inner_pytest, run_pytest

pytest_plugins = ["pytester"]

REDIS = shutil.which("redis-server")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(200):  # bounded wait for the server to accept connections
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        server.kill()
        pytest.fail("redis-server did not start")
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_a_failure_stored_through_redis_replays_on_another_copy(redis_url: str, tmp_path: Path) -> None:
    first, second = copy_project(tmp_path / "a"), copy_project(tmp_path / "b")
    for project in (first, second):
        (project / "deliberate_failure.py").write_text((FIXTURES / "deliberate_failure.py").read_text())
    log = tmp_path / "log"
    found = run_pytest(
        first,
        "deliberate_failure.py",
        HYPOTHESIS_PROFILE="ci",
        ALYS_PBT_DATABASE_URL=redis_url,
        ALYS_PBT_EXAMPLE_LOG=str(log),
    )
    assert found.returncode == 1
    assert not (first / ".hypothesis" / "examples").exists()  # stored in Redis, not on disk
    log.write_text("")
    replay = run_pytest(
        second,
        "deliberate_failure.py",
        HYPOTHESIS_PROFILE="dev",
        ALYS_PBT_DATABASE_URL=redis_url,
        ALYS_PBT_EXAMPLE_LOG=str(log),
    )
    assert replay.returncode == 1
    assert log.read_text().splitlines()[0] == "[1000]"


def test_redis_database_round_trips_values(redis_url: str) -> None:
    db = database.shared(redis_url)
    db.save(b"key", b"value")
    assert list(db.fetch(b"key")) == [b"value"]


def test_only_redis_urls_are_accepted() -> None:
    with pytest.raises(database.DatabaseError, match="must be redis://"):
        database.shared("postgres://localhost/examples")


# Issue 14, item 10: a URL that cannot be used is one clear line at start-up, never a traceback
# inside the first property (or, worse, an "expected failure" of every quirk-held property).


def test_an_unreachable_redis_is_refused_when_the_database_is_built() -> None:
    url = f"redis://user:secret@127.0.0.1:{free_port()}/0"
    with pytest.raises(database.DatabaseError) as err:
        database.shared(url, timeout=2)
    shown = url.replace("secret", "***")
    assert str(err.value).startswith(f"ALYS_PBT_DATABASE_URL '{shown}' is unreachable: ")
    assert "ConnectionError" in str(err.value) and "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:{port}/0", "'redis://127.0.0.1:{port}/0' is unreachable: ConnectionError"),
        ("redis://127.0.0.1:notaport/0", "'redis://127.0.0.1:notaport/0' is malformed: "),
        ("redis://[::1/0", "'redis://[::1/0' is malformed: Invalid IPv6 URL"),
    ],
    ids=["unreachable", "bad-port", "bad-host"],
)
def test_a_database_url_that_cannot_be_used_is_one_line_at_start_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    port = free_port()
    # A quirk-held property: before, the dead database's ConnectionError passed for its failure.
    pytester.mkdir("properties")
    pytester.path.joinpath("properties", "test_retarget.py").write_text(
        "def test_retarget_never_yields_zero_target():\n    pass\n"
    )
    result = inner_pytest(pytester, monkeypatch, ALYS_PBT_DATABASE_URL=url.format(port=port))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.errlines if line.strip()]
    assert len(lines) == 1, result.errlines
    assert lines[0].startswith("ERROR: ALYS_PBT_DATABASE_URL " + message.format(port=port)), lines
    everything = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in everything and "Traceback" not in everything
