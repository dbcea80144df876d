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
from tests.support import FIXTURES, copy_project, run_pytest

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
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
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
        first, "deliberate_failure.py", HYPOTHESIS_PROFILE="ci", ALYS_PBT_DATABASE_URL=redis_url, ALYS_PBT_EXAMPLE_LOG=str(log)
    )
    assert found.returncode == 1
    assert not (first / ".hypothesis" / "examples").exists()  # stored in Redis, not on disk
    log.write_text("")
    replay = run_pytest(
        second, "deliberate_failure.py", HYPOTHESIS_PROFILE="dev", ALYS_PBT_DATABASE_URL=redis_url, ALYS_PBT_EXAMPLE_LOG=str(log)
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
