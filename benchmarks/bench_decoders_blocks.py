"""The worst input per block and transaction decoder: time and peak memory (issue 14, item 5).

    .venv/bin/python benchmarks/bench_decoders_blocks.py

Each decoder (the reference's and the port's, for blocks and for transactions, and both fee
calculations) is run on a catalogue of hostile inputs at the limits (a 1 MiB block of one
transaction, 16,384 empty transactions, 65,536 arrays, nesting 5,000 deep, 4,301-digit decimals, a
10 MB block of 3.4 million empty transactions, 128 KiB transactions of 40,000 items or 5,000
nested lists). Time is the best of three runs without tracing; memory is tracemalloc's peak of one
more run. The target: every decoder's worst input under 100 ms and 50 MB.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgpack

import alys
from alys import evm as port_evm
from alys_pbt.models import blocks, evm
from alys_pbt.models.approvals import AggregateApproval
from alys_pbt.models.blocks import ConsensusBlock, ExecutionPayload, SignedConsensusBlock, Withdrawal

TIME_MS, MEMORY_MB = 100.0, 50.0
PORT = alys.build("alys-fixed")


def base_tree() -> list:
    payload = ExecutionPayload(
        b"\x01" * 32,
        b"\x02" * 20,
        b"\x03" * 32,
        b"\x04" * 32,
        bytes(256),
        b"\x05" * 32,
        7,
        30_000_000,
        21_000,
        35,
        b"",
        7,
        b"\x06" * 32,
        (),
        (Withdrawal(3, 0, b"\x0a" * 20, 10),),
    )
    signed = SignedConsensusBlock(
        ConsensusBlock(b"\x07" * 32, 7, None, payload), AggregateApproval((True,) + (False,) * 14, None)
    )
    return msgpack.unpackb(blocks.block_to_bytes(signed), raw=False)


def block_with(path: tuple[int, ...], value: object) -> bytes:
    tree = base_tree()
    node = tree
    for i in path[:-1]:
        node = node[i]
    node[path[-1]] = value
    return msgpack.packb(tree, use_bin_type=True)


def _fit(size: int) -> bytes:
    """A valid block of about `size` bytes: one transaction of zeros."""
    return block_with((0, 3, 13), ["0x" + "00" * ((size - 1300) // 2)])


def block_inputs() -> dict[str, bytes]:
    canonical = msgpack.packb(base_tree(), use_bin_type=True)
    witness_tx = [2, 0, [[[b"\x00" * 32, 0], b"", 0, [[255] * 60_000] * 8]], []]
    return {
        "1 MiB block, one transaction": _fit(blocks.MAX_BLOCK_BYTES),
        "16,384 empty transactions (the limit)": block_with((0, 3, 13), ["0x"] * blocks.MAX_TRANSACTIONS),
        "16,385 empty transactions": block_with((0, 3, 13), ["0x"] * (blocks.MAX_TRANSACTIONS + 1)),
        "10 MB of 3.4 million empty transactions": block_with((0, 3, 13), ["0x"] * 3_400_000),
        "1 MiB of 65,536-item arrays of empty arrays": block_with((0, 6), [[[]] * 16] * 55_000),
        "a peg-out with 480,000 witness bytes": block_with((0, 6), [witness_tx]),
        "65,536 peg-in pairs (over 1 MiB)": block_with((0, 4), [[b"\x00" * 32, b"\x00" * 32]] * 65_536),
        "15,000 peg-in pairs": block_with((0, 4), [[b"\x00" * 32, b"\x00" * 32]] * 15_000),
        "nesting 5,000 deep": canonical[:-1] + b"\x91" * 5000 + b"\x90",
        "a withdrawal index of 4,301 digits": block_with((0, 3, 14, 0, 0), "1" * 4301),
        "1 MiB of upper-case hex": block_with(
            (0, 3, 13), ["0x" + "AB" * ((blocks.MAX_BLOCK_BYTES - 1300) // 2)]
        ),
        "350,000 tiny strings in a map": block_with((0, 6), [{str(i): "ab" for i in range(16)}] * 20_000)[
            : blocks.MAX_BLOCK_BYTES
        ],
    }


def _length(size: int, base: int) -> bytes:
    if size < 56:
        return bytes([base + size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([base + 55 + len(raw)]) + raw


def transaction_inputs() -> dict[str, bytes]:
    nested = b"\xc0"
    for _ in range(5000):
        nested = _length(len(nested), 0xC0) + nested
    items = b"\x80" * 40_000
    many = _length(len(items), 0xC0) + items
    fields = b"\x80\x01\x82\x52\x08" + b"\x94" + b"\x35" * 20 + b"\x80"
    big_data = b"\xba" + (120_000).to_bytes(3, "big") + b"\xff" * 120_000
    return {
        "5,000 nested lists": nested,
        "a nonce of 5,000 nested lists": _length(len(nested) + 2, 0xC0) + nested + b"\x80\x80",
        "a list of 40,000 empty strings": many,
        "an access list of 40,000 items": b"\x02"
        + _length(len(many) + 30, 0xC0)
        + b"\x01\x80\x80\x01\x82\x52\x08\x80\x80\x80"
        + many
        + b"\x80" * 20,
        "120 KB of calldata": _length(len(fields) + len(big_data) + 3, 0xC0)
        + fields
        + big_data
        + b"\x25\x01\x01",
        "the fuzzer's cac1808080808080808080": bytes.fromhex("cac1808080808080808080"),
    }


def measure(decode: Callable[[bytes], object], data: bytes) -> tuple[float, float, str]:
    def once() -> str:
        try:
            decode(data)
        except Exception as err:  # noqa: BLE001 - the verdict is reported
            return type(err).__name__
        return "ok"

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        outcome = once()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    once()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best * 1000, peak / 2**20, outcome


def main() -> int:
    sys.setrecursionlimit(1000)  # the decoders must not need more than the default
    decoders: dict[str, tuple[Callable[[bytes], object], dict[str, bytes]]] = {
        "reference block_from_bytes": (blocks.block_from_bytes, block_inputs()),
        "port chain.decode_block": (PORT.chain.decode_block, block_inputs()),
        "reference evm.decode + sender": (lambda raw: evm.sender(evm.decode(raw)), transaction_inputs()),
        # the recovery itself: chain.transaction_sender memoizes, and a memo hit is not the worst case
        "port alys.evm.recover_sender": (
            lambda raw: port_evm.recover_sender(raw, PORT.variant),
            transaction_inputs(),
        ),
        "reference evm.block_fees": (lambda raw: evm.block_fees([raw], 7), transaction_inputs()),
        "port alys.evm.block_fees": (lambda raw: port_evm.block_fees([raw], 7), transaction_inputs()),
    }
    failed = 0
    for name, (decode, inputs) in decoders.items():
        print(f"\n{name}")
        rows = [(label, len(data), *measure(decode, data)) for label, data in inputs.items()]
        for label, size, ms, mb, outcome in rows:
            print(f"  {label:46} {size:>10,} B {ms:8.2f} ms {mb:7.2f} MB  {outcome}")
        worst_t = max(rows, key=lambda r: r[2])
        worst_m = max(rows, key=lambda r: r[3])
        ok = worst_t[2] < TIME_MS and worst_m[3] < MEMORY_MB
        failed += not ok
        print(
            f"  worst time {worst_t[2]:.2f} ms ({worst_t[0]}: "
            f"{worst_t[2] / TIME_MS:.0%} of {TIME_MS:.0f} ms), "
            f"worst memory {worst_m[3]:.2f} MB ({worst_m[0]}: "
            f"{worst_m[3] / MEMORY_MB:.0%} of {MEMORY_MB:.0f} MB)"
            f"  {'OK' if ok else 'OVER'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
