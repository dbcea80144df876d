"""Two "hosts" on one machine: a failure found on one replays first on the other, through Redis.

    sudo .venv/bin/python scripts/two_hosts.py          # about 30 s; --json for a machine-readable line

Host A and host B are network namespaces joined by one veth pair on a private /30 (10.250.17.1 and
10.250.17.2, which exist only inside the two namespaces). Each host has its own checkout of the
project (a copy, so nothing is shared through `.hypothesis/`) and its own pytest-xdist worker: an
execnet socket server (`python -m execnet.script.socketserver ADDR:PORT`) started with the venv's
python and with `ALYS_PBT_DATABASE_URL` naming the one Redis, which runs on host A. The controller
runs on host A too, and reaches each worker with `--tx socket=ADDR:PORT//chdir=CHECKOUT`.

1. On host A's worker, `tests/fixtures/deliberate_failure.py` (under `ci`) finds and shrinks its
   failure; Hypothesis stores the shrunk example in Redis.
2. On host B's worker, the same property fails again, and the first example it runs (logged by the
   property itself on host B, through `ALYS_PBT_EXAMPLE_LOG` set only in host B's server) is the
   shrunk counterexample from host A.

Everything made here (namespaces, the veth pair, the servers, Redis, the checkouts) is removed on
the way out, also on failure, a timeout or SIGTERM; each step has a timeout. Traffic stays on the
/30 and on loopback inside the namespaces. Needs root and `ip netns`; exit code 77 (and the reason
on stderr) when either is missing, 1 when the demonstration fails, 0 when the replay came first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from alys_pbt.project import copy_project

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "deliberate_failure.py"
PYTHON = Path(sys.executable)  # the venv's python: the workers run in it (socket gateways take no python=)
ADDR_A, ADDR_B, PREFIX = "10.250.17.1", "10.250.17.2", 30  # private, and only inside the namespaces
WORKER_PORT, REDIS_PORT = 8888, 6379  # fresh namespaces: nothing else listens there
SKIP = 77  # "not possible here": not root, or network namespaces not permitted
STEP_TIMEOUT = 15.0  # seconds for any one setup command or server start
RUN_TIMEOUT = 45.0  # seconds for one pytest session over a gateway
TOTAL_TIMEOUT = 120  # seconds for the whole demonstration, clean-up included in what follows it


class Unavailable(RuntimeError):
    """Network namespaces cannot be made here (not root, or not permitted)."""


class DemoFailed(RuntimeError):
    """A step of the demonstration did not do what it should."""


@dataclass
class Outcome:
    """What the two runs showed."""

    found_on_a: bool = False
    examples_on_a: int = 0
    first_on_a: str = ""
    failed_on_b: bool = False
    examples_on_b: int = 0
    first_on_b: str = ""
    shrunk: str = ""
    redis_keys: int = -1
    local_databases: list[str] = field(default_factory=list)
    replayed_first: bool = False


def run(
    cmd: Sequence[str], *, timeout: float = STEP_TIMEOUT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """One setup command, bounded in time; its output is kept for the error."""
    done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise DemoFailed(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return done


def available(probe: str) -> None:
    """Raise Unavailable unless this process may create (and delete) a network namespace."""
    if os.geteuid() != 0:
        raise Unavailable("needs root (network namespaces)")
    if shutil.which("ip") is None:
        raise Unavailable("the `ip` command (iproute2) is not installed")
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if made.returncode != 0:
        raise Unavailable(f"`ip netns add` is not permitted here: {made.stderr.strip()}")
    try:  # a veth pair inside the probe namespace: gone with it
        veth = subprocess.run(
            ["ip", "-n", probe, "link", "add", "pa", "type", "veth", "peer", "name", "pb"],
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=STEP_TIMEOUT)
    if veth.returncode != 0:
        raise Unavailable(f"veth pairs are not permitted here: {veth.stderr.strip()}")


class Server:
    """A long-running process in a namespace, ready once it prints `ready` on its output."""

    def __init__(
        self, name: str, ns: str, argv: Sequence[str], *, ready: str, cwd: Path, env: dict[str, str]
    ) -> None:
        self.name = name
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopped as one, never by name
        )
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()

    def _read(self, ready: str) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if ready in line:
                self._ready.set()

    def wait_ready(self, timeout: float = STEP_TIMEOUT) -> None:
        if not self._ready.wait(timeout):
            raise DemoFailed(f"{self.name} did not start in {timeout:.0f} s: {self.lines[-5:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the suite's own settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS_", "ALYS_", "PYTEST_"))}
    env.pop("CI", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextmanager
def network(tag: str) -> Iterator[tuple[str, str]]:
    """Two namespaces (host A, host B) joined by a veth pair on the /30; removed on the way out."""
    ns_a, ns_b = f"alys-a-{tag}", f"alys-b-{tag}"
    veth_a, veth_b = f"alva{tag}"[:15], f"alvb{tag}"[:15]
    made: list[str] = []
    try:
        for ns in (ns_a, ns_b):
            run(["ip", "netns", "add", ns])
            made.append(ns)
        run(["ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b])
        try:
            run(["ip", "link", "set", veth_a, "netns", ns_a])
            run(["ip", "link", "set", veth_b, "netns", ns_b])
        except DemoFailed:
            run(["ip", "link", "del", veth_a], check=False)  # still in this namespace: remove it here
            raise
        for ns, dev, addr in ((ns_a, veth_a, ADDR_A), (ns_b, veth_b, ADDR_B)):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        yield ns_a, ns_b
    finally:
        for ns in made:  # deleting a namespace deletes its end of the veth pair, and so the pair
            _kill_all_in(ns)
            run(["ip", "netns", "del", ns], check=False)


def _kill_all_in(ns: str) -> None:
    """SIGKILL every process still in `ns` and wait (bounded) until none is left."""
    # The sweep that makes "nothing left behind" hold whatever the moment of a SIGTERM: one arriving
    # inside `subprocess.Popen` (after the fork, before the object is returned) leaves a child that no
    # `finally` holds, and a process group is only as good as the pid it was recorded under.
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        listed = run(["ip", "netns", "pids", ns], check=False).stdout.split()
        pids = [int(pid) for pid in listed if pid.isdigit() and int(pid) != os.getpid()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # Not reaped here: a killed child of ours is a zombie, outside any namespace, until this
        # process exits (or whoever still holds its Popen waits for it and reads its status).
        time.sleep(0.05)  # a demonstration script's clean-up, not a property: wall-clock waits are fine


def checkout(dest: Path) -> Path:
    """A host's own copy of the project, with the deliberately failing property at its root."""
    copy_project(dest, leave_out=("scripts",))
    shutil.copy(FIXTURE, dest / "deliberate_failure.py")
    return dest


def examples(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def gateway_run(
    ns: str, controller: Path, spec: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """One pytest session whose controller runs on `ns` and whose only worker is the gateway `spec`."""
    argv = ["ip", "netns", "exec", ns, str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    # No path argument: xdist maps a path that exists where the controller runs onto an rsync root
    # (deprecated, and pointless when each host has its checkout). The selection travels as an option.
    argv += ["--dist", "load", "--tx", spec, "-o", "testpaths=deliberate_failure.py"]
    # Its own process group, stopped as one whatever ends the wait (a timeout, or SIGTERM unwinding
    # the demonstration): `ip netns exec` may leave the controller running if only it is killed.
    proc = subprocess.Popen(
        argv,
        cwd=controller,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        raise DemoFailed(f"pytest over {spec} took over {RUN_TIMEOUT:.0f} s") from timeout
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def demo(work: Path, tag: str, say: Callable[[str], None] = print) -> Outcome:
    """Set up the two hosts and Redis, run the property on A then B, and report what B replayed."""
    redis = shutil.which("redis-server")
    if redis is None:
        raise Unavailable("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    host_a, host_b = checkout(work / "host-a"), checkout(work / "host-b")
    log_a, log_b = work / "examples-a.log", work / "examples-b.log"
    url = f"redis://{ADDR_A}:{REDIS_PORT}/0"
    servers: list[Server] = []
    outcome = Outcome()
    with network(tag) as (ns_a, ns_b):
        say(
            f"hosts: {ns_a} {ADDR_A}/{PREFIX} (controller, Redis, worker) and "
            f"{ns_b} {ADDR_B}/{PREFIX} (worker) in {work}"
        )
        try:
            (work / "redis").mkdir()
            servers.append(
                Server(
                    "redis",
                    ns_a,
                    [
                        redis,
                        "--bind",
                        ADDR_A,
                        "--port",
                        str(REDIS_PORT),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(work / "redis"),
                        "--protected-mode",
                        "no",
                    ],
                    ready="Ready to accept connections",
                    cwd=work,
                    env=clean_env(),
                )
            )
            servers[-1].wait_ready()
            hosts = (("A", ns_a, ADDR_A, host_a, log_a), ("B", ns_b, ADDR_B, host_b, log_b))
            for name, ns, addr, home, log in hosts:
                # The worker's environment is its server's: the shared database (its URL cannot go in a
                # --tx spec, whose fields are split at "//") and this host's probe.
                env = clean_env(ALYS_PBT_DATABASE_URL=url, ALYS_PBT_EXAMPLE_LOG=str(log))
                servers.append(
                    Server(
                        f"worker {name}",
                        ns,
                        [str(PYTHON), "-m", "execnet.script.socketserver", f"{addr}:{WORKER_PORT}"],
                        ready="Entering Accept loop",
                        cwd=home,
                        env=env,
                    )
                )
                servers[-1].wait_ready()
            say(f"Redis at {url}; execnet socket servers at {ADDR_A}:{WORKER_PORT}, {ADDR_B}:{WORKER_PORT}")

            ctl_env = clean_env(HYPOTHESIS_PROFILE="ci", ALYS_PBT_DATABASE_URL=url)
            controller = host_a  # the controller's own checkout: the same layout as every host's
            profile = "//env:HYPOTHESIS_PROFILE=ci"  # the profile travels in the spec (nightly likewise)
            spec_a = f"socket={ADDR_A}:{WORKER_PORT}//chdir={host_a}{profile}"
            spec_b = f"socket={ADDR_B}:{WORKER_PORT}//chdir={host_b}{profile}"
            first = gateway_run(ns_a, controller, spec_a, ctl_env)
            seen_a = examples(log_a)
            outcome.found_on_a = first.returncode == 1 and bool(seen_a)
            outcome.examples_on_a, outcome.first_on_a = len(seen_a), seen_a[0] if seen_a else ""
            if not outcome.found_on_a:
                raise DemoFailed(
                    f"host A did not find the failure (exit {first.returncode}):\n{first.stdout[-3000:]}"
                )
            outcome.shrunk = _falsifying(first.stdout)
            outcome.redis_keys = _dbsize(ns_a, ADDR_A, REDIS_PORT)
            say(
                f"host A: failed after {len(seen_a)} examples, first {seen_a[0]}, "
                f"shrunk to {outcome.shrunk}; Redis holds {outcome.redis_keys} keys"
            )

            second = gateway_run(ns_a, controller, spec_b, ctl_env)
            seen_b = examples(log_b)
            outcome.failed_on_b = second.returncode == 1 and bool(seen_b)
            outcome.examples_on_b, outcome.first_on_b = len(seen_b), seen_b[0] if seen_b else ""
            if not outcome.failed_on_b:
                raise DemoFailed(f"host B did not fail (exit {second.returncode}):\n{second.stdout[-3000:]}")
            say(f"host B: failed after {len(seen_b)} examples, first {seen_b[0]}")
        finally:
            for server in reversed(servers):
                server.stop()
    # Only Redis may carry the failure: neither checkout has a local example database.
    local = (host_a / ".hypothesis" / "examples", host_b / ".hypothesis" / "examples")
    outcome.local_databases = [str(p) for p in local if p.exists()]
    outcome.replayed_first = (
        bool(outcome.shrunk) and outcome.first_on_b == outcome.shrunk and outcome.first_on_a != outcome.shrunk
    )
    return outcome


def _dbsize(ns: str, addr: str, port: int) -> int:
    """How many keys the shared Redis holds (-1 without redis-cli)."""
    cli = shutil.which("redis-cli")
    if cli is None:
        return -1
    done = run(["ip", "netns", "exec", ns, cli, "-h", addr, "-p", str(port), "dbsize"], check=False)
    return int(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip().isdigit() else -1


def _falsifying(output: str) -> str:
    """The shrunk example Hypothesis reports (`Failing test case: test_sum_stays_small(xs=[1000], )`)."""
    found = re.search(r"^E\s+xs=(\[[^\]]*\]),?\s*$", output, re.MULTILINE)
    return found.group(1) if found else ""


def _terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(143)


def _timed_out(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"two_hosts: FAILED: over {TOTAL_TIMEOUT} s, cleaning up", file=sys.stderr)
    sys.exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the outcome")
    args = parser.parse_args(argv)
    # SIGTERM (a timeout upstream) unwinds through every `finally`, so nothing is left behind; a
    # second one is ignored, so it cannot cut the clean-up short.
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGALRM, _timed_out)  # the whole run's bound, unwinding the same way
    signal.alarm(TOTAL_TIMEOUT)
    tag = f"{os.getpid():x}{int(time.time() * 1000) % 0xFFFF:04x}"[-8:]
    started = time.monotonic()
    try:
        available(f"alys-probe-{tag}")
        with tempfile.TemporaryDirectory(prefix="alys-two-hosts-") as tmp:
            outcome = demo(Path(tmp), tag)
    except Unavailable as err:
        print(f"two_hosts: cannot run here: {err}", file=sys.stderr)
        return SKIP
    except (DemoFailed, subprocess.TimeoutExpired) as err:
        print(f"two_hosts: FAILED: {err}", file=sys.stderr)
        return 1
    print(
        f"{'replayed first' if outcome.replayed_first else 'NOT replayed first'}: host B's first example "
        f"{outcome.first_on_b} is host A's shrunk failure {outcome.shrunk} "
        f"(host A's first was {outcome.first_on_a}); {time.monotonic() - started:.1f} s"
    )
    if args.json:
        print(json.dumps(asdict(outcome)))
    return 0 if outcome.replayed_first and not outcome.local_databases else 1


if __name__ == "__main__":
    sys.exit(main())
