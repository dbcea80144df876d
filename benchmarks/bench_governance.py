"""Governance stream throughput: `python benchmarks/bench_governance.py [--messages N] [--target SPEC]`.

Messages per second through the real gRPC stream on loopback: the target's StreamActor (on the
target's actor runtime, driven by the suite's scheduler) sends status updates over one connection
to the suite's governance server, timed until the server has received them all; then the other
way, federation updates pushed by the server until the actor has forwarded them all to the chain
actor; and signature requests answered and handed back (a round trip each). One process, one core
of a shared machine: read the figures as a whole run, not against another machine's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys_pbt import targets
from alys_pbt.models.machines.governance import harnessed


def run(target_spec: str, messages: int) -> dict[str, float]:
    target = targets.load(target_spec)
    out: dict[str, float] = {}
    with harnessed(target, buffer_size=messages) as h:
        conn_id = h.connect()
        session = h.session(h.connection(conn_id))
        assert session is not None

        start = time.perf_counter()
        for i in range(messages):
            h.stream.send(conn_id, "status_update", f"m{i}", block_height=i)
            if i % 1000 == 999:  # within the actor's mailbox (5000, foundation/config.rs)
                h.scheduler.run_until_idle()
        h.scheduler.run_until_idle()
        sent = h.connection(conn_id).out_sequence
        h.server.wait(lambda: len(session.received) >= sent, timeout=600)
        out["node -> server, messages/s"] = messages / (time.perf_counter() - start)
        assert h.delivered(conn_id) == [f"m{i}" for i in range(messages)]

        start = time.perf_counter()
        for i in range(messages):
            h.server.push_update(session, i, ("m0",))
        while len(h.updates()) < messages:
            h.stream.wait_event(1.0)
            h.stream.pump()
            h.scheduler.run_until_idle()
        out["server -> node, messages/s"] = messages / (time.perf_counter() - start)
        assert [u.effective_height for u in h.updates()] == list(range(messages))

        rounds = max(1, messages // 10)
        start = time.perf_counter()
        for i in range(rounds):
            request_id = f"sig-{i}"
            h.stream.request_signatures(conn_id, request_id, "bridge", "00", (1,))
            h.scheduler.run_until_idle()
            h.server.wait(lambda: any(r.metadata.request_id == request_id for r in session.received[-2:]))
            h.server.answer(request_id, 3, session=session)
            while len(h.applied()) <= i:
                h.stream.wait_event(1.0)
                h.stream.pump()
                h.scheduler.run_until_idle()
        out["signature round trips/s"] = rounds / (time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--target", default="alys-fixed")
    args = parser.parse_args()
    for name, value in run(args.target, args.messages).items():
        print(f"{name:32s} {value:12,.0f}")


if __name__ == "__main__":
    main()
