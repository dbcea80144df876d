"""Interrupt the two-hosts demonstration N times and count the runs that left anything behind.

Each run starts `scripts/two_hosts.py`, waits for its second line (the hosts, Redis and both workers
are up; the first pytest session is about to start), waits `i * step` seconds, sends SIGTERM, and
lists what is left of it as tests/test_two_hosts.py does. Needs root and `ip netns`, like the
demonstration. Usage: python scripts/two_hosts_interruptions.py [RUNS] [STEP_SECONDS]
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_two_hosts import _left_behind  # noqa: E402  (the test's own account of "left behind")


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 60
    step = float(argv[1]) if len(argv) > 1 else 0.0
    left_in = 0
    for i in range(runs):
        demo = subprocess.Popen(
            [sys.executable, "-u", str(ROOT / "scripts" / "two_hosts.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert demo.stdout is not None
        lines = [demo.stdout.readline().strip() for _ in range(2)]
        if not lines[1].startswith("Redis at"):
            demo.communicate(timeout=60)
            print(f"the demonstration cannot run here (exit {demo.returncode})", file=sys.stderr)
            return 2
        time.sleep(i * step)  # a measurement of the script, not a property: wall-clock delays are the point
        demo.send_signal(signal.SIGTERM)
        demo.communicate(timeout=60)
        left = _left_behind(lines[0])
        if left:
            left_in += 1
            print(f"run {i} (SIGTERM {i * step * 1000:.1f} ms after the second line): {left}")
    print(f"left something behind in {left_in} of {runs} interrupted runs")
    return 1 if left_in else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
