"""The protocol client: the port served over exec: and tcp: answers as in-process, rejections arrive
by name, and a server that crashes, hangs, writes garbage or answers out of order is a failure of
the target (TargetFailure, quoting its stderr), after which the next call meets a fresh server."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import alys
from alys_pbt.models import blocks
from alys_pbt.models import bls as bls_models
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.pegin import FEDERATION_SPK
from alys_pbt.models.retarget import RetargetParams
from alys_pbt.protocol import RemoteTarget, TargetFailure, connect
from alys_pbt.protocol.rpc import RemoteError
from alys_pbt.strategies.approvals import Keyring
from alys_pbt.strategies.blocks import ChainBuilder

ROOT = Path(__file__).resolve().parent.parent
PORT = f"exec:{sys.executable} -m alys.serve"
HEADER = bytes.fromhex("01000000" + "00" * 32 + "11" * 32 + "29ab5f49ffff001d1dac2b7c")

# A server that is the port, except that on the method named in MISBEHAVE_ON it does what
# MISBEHAVE says (the first time only, unless MISBEHAVE_ALWAYS is set).
FAKE = textwrap.dedent(
    """
    import json, os, sys, time
    from alys import serve

    mode, method = os.environ["MISBEHAVE"], os.environ["MISBEHAVE_ON"]
    session = serve.Session("alys-fixed")
    protocol = serve.JSONRPCProtocol()
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if request.get("method") == method:
            print(f"about to misbehave: {mode}", file=sys.stderr, flush=True)
            if mode == "crash":
                print("Traceback: the server fell over", file=sys.stderr, flush=True)
                sys.exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                out.write(b"this is not json\\n"); out.flush(); continue
            if mode == "deep":
                out.write(b"[" * 200000 + b"\\n"); out.flush(); continue
            if mode == "not-utf8":
                out.write(b"\\xff\\xfe\\n"); out.flush(); continue
            if mode == "out-of-order":
                reply = {"jsonrpc": "2.0", "id": request["id"] + 1, "result": None}
                out.write(json.dumps(reply).encode() + b"\\n"); out.flush(); continue
            if mode == "protocol-error":
                reply = {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32603, "message": "oops"}}
                out.write(json.dumps(reply).encode() + b"\\n"); out.flush(); continue
            if mode == "wrong-type":
                reply = {"jsonrpc": "2.0", "id": request["id"], "result": "not hex at all"}
                out.write(json.dumps(reply).encode() + b"\\n"); out.flush(); continue
        reply = serve.answer(session, protocol, line)
        if reply is not None:
            out.write(reply + b"\\n"); out.flush()
    """
)


@pytest.fixture(scope="module")
def served() -> Iterator[RemoteTarget]:
    target = connect(f"{PORT} alys-fixed")
    yield target
    target.close()


def fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, on: str, timeout: float = 10.0
) -> RemoteTarget:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE)
    monkeypatch.setenv("MISBEHAVE", mode)
    monkeypatch.setenv("MISBEHAVE_ON", on)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return connect(f"exec:{sys.executable} {script}", timeout=timeout)


def test_the_served_port_answers_as_in_process(served: RemoteTarget) -> None:
    local = alys.build("alys-fixed")
    assert served.auxpow.header_hash(served.auxpow.decode_header(HEADER)) == local.auxpow.header_hash(
        local.auxpow.decode_header(HEADER)
    )
    assert served.auxpow.encode_header(served.auxpow.decode_header(HEADER)) == HEADER
    for bits in (0, 0x1D00FFFF, 0x04923456, 0x22000001, 0xFFFFFFFF):
        assert served.auxpow.target_from_compact(bits) == local.auxpow.target_from_compact(bits)
    big = (1 << 255) + 12345
    assert served.auxpow.compact_from_target(big) == local.auxpow.compact_from_target(big)
    assert served.approvals.required_approvals(7) == 5
    assert served.quirks == frozenset() and connect(f"{PORT} alys").quirks == alys.QUIRKS


def test_rejections_arrive_by_name_with_their_bases(served: RemoteTarget) -> None:
    with pytest.raises(RemoteError) as caught:
        served.auxpow.decode_header(b"\x01")
    assert type(caught.value).__name__ == "DecodeError"
    assert "ValueError" in [c.__name__ for c in type(caught.value).__mro__]


def test_a_candidate_cache_is_a_handle_driven_by_calls(served: RemoteTarget) -> None:
    cache = served.approvals.candidate_cache([bytes.fromhex("c0" + "00" * 47)])
    cache.insert_block(bytes(32), 1, 1)
    assert cache.accepted == [] and cache.accepted_approvals == []


def test_a_rejection_of_no_broader_kind_arrives_by_name(served: RemoteTarget) -> None:
    """An error whose `bases` is the empty list (NodePanic derives from nothing named) is the
    implementation's rejection, not a malformed reply (the client took `[]` for a missing list)."""
    with pytest.raises(RemoteError) as caught:
        served.chain.get_next_work_required(5, 0x1D00FFFF, RetargetParams(12000, 0, 20), 7)
    assert type(caught.value).__name__ == "NodePanic"


def _chain(n: int = 2) -> ChainBuilder:
    bls = bls_models.backend()
    keys = tuple(range(1, n + 1))
    keyring = Keyring(keys, tuple(bls.SkToPk(k) for k in keys))
    spec = ChainSpec(keyring.public_keys, (b"\x22" * 20,), FEDERATION_SPK, max_blocks_without_pow=3)
    return ChainBuilder(spec, keyring, bls)


def test_a_node_is_a_handle_and_keeps_its_bitcoin_view_in_step(served: RemoteTarget) -> None:
    """A served node imports what the port's own node imports, block by block (blocks as wire
    bytes), minting peg-ins the suite adds to the Bitcoin view after the node was made; a restarted
    node is a new handle over the same store and view; what it exposes has the in-process types."""
    builder = _chain()
    local = alys.build("alys-fixed").chain.node(builder.spec, builder.genesis, builder.bitcoin)
    node = served.chain.node(builder.spec, builder.genesis, builder.bitcoin, validator=True)
    for i in range(4):
        if i % 2:
            builder.add_pegin(10_000 + i, bytes([i]) * 20)  # the view changes under the node
        signed = builder.next_block(pow=i == 2)
        builder.accept(signed)
        local.process_block(signed)
        node.process_block(signed)
        assert node.head == local.head == builder.chain.head
    assert builder.chain.wallet and node.finalized_height == local.finalized_height >= 1
    restarted = node.restart()
    assert restarted._id() != node._id() and restarted.head == node.head
    assert isinstance(node.stored, set) and node.stored == local.stored
    assert node.by_height == local.by_height and node.latest_pow == local.latest_pow
    assert node.holds(signed) and restarted.holds(signed)
    builder.add_pegin(1, b"\x09" * 20)  # a restarted node reads the same, updated view
    pegged = builder.next_block()
    builder.accept(pegged)
    restarted.process_block(pegged)
    assert restarted.head == builder.chain.head
    with pytest.raises(RemoteError) as caught:
        restarted.process_block(pegged)
    assert type(caught.value).__name__ == "InvalidBlock"


def test_a_block_crosses_by_its_wire_form(served: RemoteTarget) -> None:
    """decode_block answers the server's own encoding of what it decoded, read back by the
    reference; non-canonical bytes are the server's DecodeError, as in-process."""
    builder = _chain(1)
    raw = blocks.block_to_bytes(builder.next_block(transactions=[b"\x01\x02"]))
    assert blocks.block_to_bytes(served.chain.decode_block(raw)) == raw
    with pytest.raises(RemoteError) as caught:
        served.chain.decode_block(raw + b"\x00")
    assert type(caught.value).__name__ == "DecodeError"
    with pytest.raises(RemoteError) as refused:  # a node's genesis is read with the same decoder
        served.chain.node(builder.spec, raw[:-1], builder.bitcoin)
    assert type(refused.value).__name__ == "DecodeError"


def test_tcp_reaches_a_running_server() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "alys.serve", "alys-fixed", "--tcp", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline().decode()
        port = int(line.rsplit(":", 1)[1])
        target = connect(f"tcp:127.0.0.1:{port}")
        assert target.auxpow.encode_header(target.auxpow.decode_header(HEADER)) == HEADER
        other = connect(f"tcp:127.0.0.1:{port}")  # a second session, its own handles
        assert other.auxpow.txid(other.auxpow.decode_transaction(bytes.fromhex(TX))).hex() == TXID
        target.close()
        other.close()
    finally:
        server.kill()
        server.wait()


TX = (
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0100ffffffff"
    "0100f2052a010000000000000000"
)
TXID = "75f41780e60f0d01f8dd68150bc703f32a3005bc3a283faffc14be6a70b6ff8a"


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("crash", "exited with status 3"),
        ("garbage", "not a JSON-RPC 2.0 reply"),
        ("deep", "nested past 64 levels"),
        ("not-utf8", "not a JSON-RPC 2.0 reply"),
        ("out-of-order", "out of order"),
        ("protocol-error", "protocol error -32603"),
        ("wrong-type", "where a handle was due"),
    ],
)
def test_a_misbehaving_server_is_a_target_failure_and_is_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, says: str
) -> None:
    """The call fails with TargetFailure (not an Exception: no verdict() takes it for an answer),
    naming what the server did, the call, and the tail of its stderr; the next call starts anew."""
    target = fake(tmp_path, monkeypatch, mode, "auxpow.decode_header")
    with pytest.raises(TargetFailure) as caught:
        target.auxpow.decode_header(HEADER)
    assert not isinstance(caught.value, Exception)
    message = str(caught.value)
    assert says in message
    assert "auxpow.decode_header" in message
    assert f"about to misbehave: {mode}" in message  # the tail of its stderr
    monkeypatch.setenv("MISBEHAVE_ON", "nothing")  # the restarted server behaves
    assert target.auxpow.merkle_root([bytes(32)]) == bytes(32)
    assert target.connection.restarts == 1


def test_a_hanging_server_costs_one_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = fake(tmp_path, monkeypatch, "hang", "auxpow.merkle_root", timeout=0.5)
    with pytest.raises(TargetFailure, match="no answer within the per-call timeout"):
        target.auxpow.merkle_root([bytes(32)])
    monkeypatch.setenv("MISBEHAVE_ON", "nothing")
    assert target.auxpow.merkle_root([bytes(32)]) == bytes(32)


def test_a_handle_from_a_dead_server_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = fake(tmp_path, monkeypatch, "crash", "auxpow.txid")
    tx = target.auxpow.decode_transaction(bytes.fromhex(TX))
    with pytest.raises(TargetFailure):
        target.auxpow.txid(tx)
    with pytest.raises(TargetFailure, match="since been restarted"):
        target.auxpow.txid(tx)


def test_a_server_that_cannot_start_is_refused_at_start_up() -> None:
    with pytest.raises(TargetFailure, match="cannot start"):
        connect("exec:/nonexistent/server --flag")
    with pytest.raises(TargetFailure, match=r"closed its output|exited"):
        connect(f"exec:{sys.executable} -c pass")


def test_released_handles_are_forgotten_by_the_server(served: RemoteTarget) -> None:
    import gc

    header = served.auxpow.decode_header(HEADER)
    number = header._handle
    del header
    gc.collect()
    served.auxpow.merkle_root([bytes(32)])  # carries the release notification
    with pytest.raises(TargetFailure, match="not a live header handle"):
        served.connection.call("auxpow.header_hash", {"header": number})


def test_in_a_run_a_crash_fails_even_a_property_expected_to_fail(tmp_path: Path) -> None:
    """A property that target `alys` is expected to fail (a strict xfail) still fails, as a failure
    of the target, when the server crashes: never an XFAIL (a pass), never an error of the suite."""
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE.replace('serve.Session("alys-fixed")', 'serve.Session("alys")'))
    node = "properties/test_auxpow.py::test_check_rejects_corruption[commitment-in-non-coinbase]"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfE",
            node,
            "--target",
            f"exec:{sys.executable} {script}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **_env(),
            "MISBEHAVE": "crash",
            "MISBEHAVE_ON": "auxpow.check",
            "PYTHONPATH": str(ROOT),
            "HYPOTHESIS_PROFILE": "dev",
        },
    )
    tail = run.stdout[-3000:]
    assert run.returncode == 1, tail
    assert (
        "1 failed" in tail and "xfail" not in tail.splitlines()[-1] and "error" not in tail.splitlines()[-1]
    ), tail
    assert "TargetFailure" in run.stdout and "the server fell over" in run.stdout, tail


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("ALYS_", "PYTEST_"))}


def test_the_server_answers_malformed_request_lines_with_a_parse_error_in_bounded_memory() -> None:
    """Bytes that are not UTF-8, nesting past any request's depth, and a line past the size bound
    each get JSON-RPC's Parse error, and the next request is answered: never a crash of the server."""
    import io

    from alys.serve import PARSE_ERROR, Session, request_lines, serve_stream

    good = (
        b'{"jsonrpc": "2.0", "id": 7, "method": "auxpow.merkle_root", "params": {"txids": ["'
        + b"00" * 32
        + b'"]}}'
    )
    lines = [b"\xff\xfe\n", b"[" * 200_000 + b"\n", b"1" * 100 + b"\n", good + b"\n"]
    out = io.BytesIO()
    serve_stream(Session("alys-fixed"), io.BytesIO(b"".join(lines)), out)
    replies = out.getvalue().splitlines()
    assert replies[:2] == [PARSE_ERROR, PARSE_ERROR]
    assert json.loads(replies[-1])["id"] == 7 and "result" in json.loads(replies[-1])
    # A line past the bound is never held whole: it is read in pieces of the bound and refused.
    assert len(good) < 200
    long = io.BytesIO(b"x" * 5000 + b"\n" + good + b"\n")
    assert list(request_lines(long, limit=200)) == [None, good + b"\n"]
