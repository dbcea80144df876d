"""The suite over several hosts (issue 17, item 4): scripts/two_hosts.py runs two network-namespace
"hosts", each with its own pytest-xdist worker (an execnet socket server), sharing one Redis example
database; a failure host A finds replays first on host B. Needs root and `ip netns` (CI has both)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "two_hosts.py"
SKIP = 77  # the script's "cannot run here" (not root, no `ip netns`, no redis-server)
DEMO_TIMEOUT = 150  # seconds: the demonstration bounds each of its steps well within this


def _require_namespaces() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the two hosts are network namespaces (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("the `ip` command (iproute2) is not installed")


def _demo(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS_", "ALYS_", "PYTEST_"))}
    return subprocess.Popen(
        [sys.executable, "-u", str(SCRIPT), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _left_behind(first_line: str) -> list[str]:
    """Namespaces, veths or processes of the run whose first line is `first_line` still present."""
    # "hosts: alys-a-TAG 10.250.17.1/30 (...) and alys-b-TAG ... in WORKDIR"
    words = first_line.split()
    namespaces = [w for w in words if w.startswith(("alys-a-", "alys-b-"))]
    assert len(namespaces) == 2, first_line
    tag = namespaces[0].removeprefix("alys-a-")
    work = words[-1]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20).stdout
    left = [ns for ns in namespaces if ns in listed]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=20).stdout
    left += [dev for dev in (f"alva{tag}", f"alvb{tag}") if dev in links]
    for proc in Path("/proc").iterdir():
        try:  # Redis renames itself, so look at where each process runs as well as its command line
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if work in cmdline or cwd.startswith(work):
            left.append(f"process {proc.name} in {cwd}: {cmdline}")
    if Path(work).exists():
        left.append(work)
    return left


def test_a_failure_found_on_one_host_replays_first_on_the_other() -> None:
    _require_namespaces()
    demo = _demo("--json")
    try:
        out, err = demo.communicate(timeout=DEMO_TIMEOUT)
    finally:
        if demo.poll() is None:
            demo.terminate()  # the script unwinds its own clean-up on SIGTERM
            demo.communicate(timeout=30)
    if demo.returncode == SKIP:
        pytest.skip(f"two hosts cannot run here: {err.strip()}")
    assert demo.returncode == 0, f"{out}\n{err}"
    outcome = json.loads(out.splitlines()[-1])
    # Host A generated its way to the failure and shrank it; host B ran it first, from Redis.
    assert outcome["found_on_a"] and outcome["shrunk"] == "[1000]"
    assert outcome["first_on_a"] != outcome["shrunk"] and outcome["examples_on_a"] > 2
    assert outcome["redis_keys"] != 0  # stored in the shared Redis (-1: no redis-cli to count them)
    assert outcome["failed_on_b"] and outcome["first_on_b"] == outcome["shrunk"]
    assert outcome["examples_on_b"] <= 2  # the replay, and Hypothesis's final re-run of it
    assert outcome["replayed_first"]
    assert outcome["local_databases"] == []  # only Redis carried it: no example database on disk
    assert _left_behind(out.splitlines()[0]) == []


def test_an_interrupted_demonstration_removes_what_it_made() -> None:
    _require_namespaces()
    demo = _demo()
    assert demo.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + DEMO_TIMEOUT
    try:
        # Interrupt once the hosts, Redis and both workers are up (the second line says so).
        while len(lines) < 2 and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
        if len(lines) < 2:
            demo.wait(timeout=30)
            if demo.returncode == SKIP:
                pytest.skip(f"two hosts cannot run here: {demo.stderr.read().strip() if demo.stderr else ''}")
            reason = demo.stderr.read() if demo.stderr else ""
            pytest.fail(f"the demonstration stopped early: {lines} {reason}")
        assert lines[1].startswith("Redis at"), lines
        demo.send_signal(signal.SIGTERM)
        demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate(timeout=30)
    assert demo.returncode == 143
    assert _left_behind(lines[0]) == []


def _in_namespace(pid: int, ns: str) -> bool:
    listed = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=20)
    return str(pid) in listed.stdout.split()


def test_a_process_no_finally_holds_is_still_removed_with_its_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clean-up sweeps each namespace: a SIGTERM inside `subprocess.Popen` orphans the child."""
    _require_namespaces()
    spec = importlib.util.spec_from_file_location("two_hosts", SCRIPT)
    assert spec is not None and spec.loader is not None
    two_hosts = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, two_hosts)  # its dataclasses look their module up
    spec.loader.exec_module(two_hosts)
    tag = f"t{os.getpid():x}"[-8:]
    with two_hosts.network(tag) as (ns_a, ns_b):
        # What an interrupted Popen leaves: a running child whose object nobody kept, one per host.
        orphans = [
            subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"], start_new_session=True)
            for ns in (ns_a, ns_b)
        ]
        deadline = time.monotonic() + 20  # `ip netns exec` enters its namespace, then execs `sleep`
        while not all(
            _in_namespace(orphan.pid, ns) for orphan, ns in zip(orphans, (ns_a, ns_b), strict=True)
        ):
            assert time.monotonic() < deadline, "the stand-in orphans never entered their namespaces"
            time.sleep(0.01)
    for orphan in orphans:
        assert orphan.wait(timeout=5) == -signal.SIGKILL
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20).stdout
    assert ns_a not in left and ns_b not in left
