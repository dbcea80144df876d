"""The worst input per Bitcoin decoder: `python benchmarks/bench_decoders_bitcoin.py [--examples 300]`.

Every decoder (the reference's transaction, header and AuxPoW decoders; the port's
`decode_transaction`, `decode_header`, `decode_auxpow` and `check`) is fed the same inputs:
structure-aware corruptions drawn from `strategies.malformed_bitcoin` and a fixed set of
adversarial inputs (counts of 2^32 and 2^64 - 1 with no bytes behind them, a 4,000,000-byte
script, the most inputs, outputs, witness items and branch hashes that `--budget` bytes can hold:
100 kB by default, Bitcoin Core's largest standard transaction, MAX_STANDARD_TX_WEIGHT / 4). Per
decoder it prints the slowest input (best of three runs) and the largest peak of traced memory
(tracemalloc), and fails (exit 1) when a worst case exceeds 100 ms or 50 MB. Decoding time is
linear in the number of elements: many one-byte elements are the slowest bytes to decode.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings

from alys_pbt import targets
from alys_pbt.models import auxpow as ref
from alys_pbt.models.bitcoin import MAX_SIZE, BlockHeader, Transaction
from alys_pbt.strategies.malformed_bitcoin import Malformed, compact_size, malformed_bitcoin

LIMIT_SECONDS = 0.100
LIMIT_BYTES = 50 * 1024 * 1024
BUDGET = 100_000  # default bytes of one adversarial input made of many small elements

V1 = (1).to_bytes(4, "little")
NULL_INPUT = bytes(32) + b"\xff" * 4 + b"\x00" + b"\xff" * 4  # 41 bytes, the smallest input
EMPTY_OUTPUT = bytes(8) + b"\x00"  # 9 bytes
HEADER = bytes(80)


def _tx(inputs: int, outputs: int, *, script: bytes = b"", witness_items: int = 0) -> bytes:
    segwit = witness_items > 0
    body = V1 + (b"\x00\x01" if segwit else b"")
    body += compact_size(inputs) + NULL_INPUT * (inputs - 1)
    body += bytes(32) + b"\xff" * 4 + compact_size(len(script)) + script + b"\xff" * 4
    body += compact_size(outputs) + EMPTY_OUTPUT * outputs
    if segwit:
        body += compact_size(witness_items) + b"\x00" * witness_items + b"\x00" * (inputs - 1)
    return body + bytes(4)


def _auxpow(coinbase: bytes, chain_hashes: int = 0, coinbase_hashes: int = 0) -> bytes:
    return (
        coinbase
        + bytes(32)
        + compact_size(coinbase_hashes)
        + bytes(32) * coinbase_hashes
        + bytes(4)
        + compact_size(chain_hashes)
        + bytes(32) * chain_hashes
        + bytes(4)
        + HEADER
    )


def adversarial(budget: int = BUDGET) -> list[Malformed]:
    """Hand-made worst cases: huge claims with nothing behind them, and the most elements `budget` holds."""
    small = _tx(1, 1)
    cases = [
        ("transaction", V1 + b"\xff" + (2**64 - 1).to_bytes(8, "little"), "2^64 - 1 inputs claimed"),
        (
            "transaction",
            V1 + b"\xfe" + (MAX_SIZE).to_bytes(4, "little") + NULL_INPUT,
            "MAX_SIZE inputs claimed",
        ),
        (
            "transaction",
            V1 + b"\x01" + bytes(36) + b"\xff" + (2**32).to_bytes(8, "little"),
            "2^32-byte script claimed",
        ),
        ("transaction", _tx(1, 1, script=b"\x51" * 4_000_000), "a 4,000,000-byte script (valid)"),
        ("transaction", _tx(1, 1, script=b"\x51" * 4_000_001), "a 4,000,001-byte script"),
        ("transaction", _tx(budget // 41, 1), f"{budget // 41} inputs (valid)"),
        ("transaction", _tx(1, budget // 9), f"{budget // 9} outputs (valid)"),
        ("transaction", _tx(1, 1, witness_items=budget), f"{budget} empty witness items (valid)"),
        ("transaction", _tx(1, 1, witness_items=budget)[:-5], f"{budget} witness items, cut short"),
        ("auxpow", _auxpow(small, chain_hashes=budget // 32), f"{budget // 32} chain branch hashes"),
        ("auxpow", _auxpow(small, coinbase_hashes=budget // 32), f"{budget // 32} coinbase branch hashes"),
        ("auxpow", small + bytes(32) + b"\xff" + (2**32).to_bytes(8, "little"), "2^32 branch hashes claimed"),
        ("auxpow", _auxpow(_tx(budget // 41, 1)), f"coinbase of {budget // 41} inputs"),
        ("header", HEADER + b"\x00" * budget, f"a header and {budget} bytes behind it"),
    ]
    return [Malformed(kind, data, "adversarial", what) for kind, data, what in cases]  # type: ignore[arg-type]


def generated(n: int) -> list[Malformed]:
    found: list[Malformed] = []

    @settings(
        max_examples=n,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(malformed_bitcoin())
    def collect(bad: Malformed) -> None:
        found.append(bad)

    collect()
    return found


def decoders() -> dict[str, tuple[str, Callable[[bytes], object]]]:
    port = targets.load("alys").auxpow
    return {
        "reference Transaction.from_bytes": ("transaction", Transaction.from_bytes),
        "reference BlockHeader.from_bytes": ("header", BlockHeader.from_bytes),
        "reference AuxPow.from_bytes": ("auxpow", ref.AuxPow.from_bytes),
        "port decode_transaction": ("transaction", port.decode_transaction),
        "port decode_header": ("header", port.decode_header),
        "port decode_auxpow": ("auxpow", port.decode_auxpow),
        "port check": ("auxpow", lambda data: port.check(data, bytes(32), 727272)),
    }


def run(fn: Callable[[bytes], object], data: bytes) -> str:
    try:
        fn(data)
    except Exception as err:  # noqa: BLE001 - the outcome is reported by name
        return type(err).__name__
    return "ok"


def measure(fn: Callable[[bytes], object], data: bytes) -> tuple[float, int, str]:
    """(best of three seconds, peak traced bytes, outcome) of one decode."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        outcome = run(fn, data)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    run(fn, data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak, outcome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=300, help="generated corruptions (default 300)")
    parser.add_argument(
        "--budget", type=int, default=BUDGET, help="bytes of the many-element inputs (100000)"
    )
    args = parser.parse_args()
    hand = adversarial(args.budget)
    inputs = hand + generated(args.examples)
    print(
        f"{len(inputs)} inputs ({len(inputs) - len(hand)} generated, {len(hand)} hand-made up to "
        f"{args.budget} bytes of elements); limits {LIMIT_SECONDS * 1000:.0f} ms, {LIMIT_BYTES >> 20} MB"
    )
    print(
        f"{'decoder':<34} {'n':>4} {'worst ms':>9}  {'slowest input':<44} "
        f"{'worst MB':>8}  {'largest input':<44} outcome"
    )
    over = 0
    for name, (kind, fn) in decoders().items():
        rows = [(bad, *measure(fn, bad.data)) for bad in inputs if bad.kind == kind]
        slow = max(rows, key=lambda r: r[1])
        big = max(rows, key=lambda r: r[2])
        crashed = [r for r in rows if r[3] not in ("ok", "DecodeError") and not name.endswith("check")]
        over += slow[1] > LIMIT_SECONDS or big[2] > LIMIT_BYTES or bool(crashed)
        print(
            f"{name:<34} {len(rows):>4} {slow[1] * 1000:>9.2f}  "
            f"{slow[0].detail[:44]:<44} {big[2] / 2**20:>8.2f}  "
            f"{big[0].detail[:44]:<44} {slow[3]}"
        )
        for r in crashed:
            print(f"    untyped {r[3]} on {r[0]!r}")
    print("all within the limits" if not over else f"{over} decoders over a limit")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
