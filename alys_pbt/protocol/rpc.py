"""One JSON-RPC 2.0 conversation with a server, one message per line (messages built and parsed by
tinyrpc). A call answers with its result, raises the implementation's named rejection, or raises
TargetFailure when the server misbehaves: dies, hangs past the per-call timeout, writes what is not
a JSON-RPC reply, or answers another request than the one asked. After a TargetFailure the server
is stopped and the next call starts a new one (the next example meets a fresh server)."""

from __future__ import annotations

import itertools
import json
import os
import re
from typing import Any

from tinyrpc.exc import RPCError, UnexpectedIDError
from tinyrpc.protocols.jsonrpc import JSONRPCErrorResponse, JSONRPCProtocol, JSONRPCSuccessResponse

from alys_pbt.protocol.methods import PROTOCOL_VERSION, REJECTED
from alys_pbt.protocol.transport import Channel, ChannelBroken, ExecChannel, TcpChannel

DEFAULT_TIMEOUT = 10.0  # seconds per call; ALYS_PBT_RPC_TIMEOUT or connect(timeout=) change it
START_TIMEOUT = 60.0  # seconds for a server to start and answer its hello (at least the per-call one)
EXCERPT = 300


# No reply of the protocol nests deeper than a few levels; a deeper one is garbage, judged before
# json parses it (its C parser recurses, and py_ecc raises the recursion limit past the C stack).
MAX_NESTING = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nesting(line: bytes) -> int:
    """How deep the line's arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _STRINGS.sub(b"", line).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class TargetFailure(BaseException):
    """The server under test misbehaved (crash, hang, garbage, an answer out of order).

    A BaseException, like pytest's own outcomes, so that no property's `verdict()` or
    `except Exception` takes it for the implementation's answer: it fails the test it happens in,
    as a failure of the target, whatever deviations that test is expected to show.
    """


class RemoteError(Exception):
    """Base of the rejections a server names; each is re-raised as a class of that name."""


_classes: dict[tuple[str, tuple[str, ...]], type[RemoteError]] = {}


def error_class(name: str, bases: tuple[str, ...] = ()) -> type[RemoteError]:
    """A class named `name` deriving from classes named `bases` (the properties compare names)."""
    key = (name, bases)
    if key not in _classes:
        parents = tuple(error_class(b) for b in bases if b != name) or (RemoteError,)
        _classes[key] = type(name, parents, {"__module__": "alys_pbt.protocol.remote"})
    return _classes[key]


def parse_spec(spec: str) -> tuple[str, str]:
    """('exec', command) or ('tcp', 'host:port')."""
    kind, _, rest = spec.partition(":")
    return kind, rest.strip()


def _excerpt(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"... ({len(text)} characters)"


class Connection:
    """Calls over one server at a time; a new server (or connection) after each failure."""

    def __init__(self, spec: str, *, timeout: float | None = None, cwd: str | None = None) -> None:
        self.spec = spec
        self.kind, self.address = parse_spec(spec)
        if self.kind not in ("exec", "tcp"):
            raise ValueError(f"not a protocol target: {spec!r}")
        env_timeout = os.environ.get("ALYS_PBT_RPC_TIMEOUT")
        self.timeout = timeout if timeout is not None else float(env_timeout or DEFAULT_TIMEOUT)
        self.cwd = cwd
        self.channel: Channel | None = None
        self.generation = 0  # bumped when a server is stopped: the handles it made are void
        self.hello: dict[str, Any] = {}
        self.restarts = 0
        self._ids = itertools.count(1)
        self._protocol = JSONRPCProtocol(id_generator=self._ids)
        self._released: list[int] = []

    # --- lifecycle -----------------------------------------------------------------------------
    def _open(self) -> Channel:
        if self.kind == "exec":
            return ExecChannel(self.address, cwd=self.cwd)
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit():
            raise ChannelBroken(f"tcp: expects HOST:PORT, got {self.address!r}")
        return TcpChannel(host, int(port), self.timeout)

    def start(self) -> dict[str, Any]:
        """Open the channel and shake hands; the handshake's result."""
        self.close()
        try:
            self.channel = self._open()
        except ChannelBroken as err:
            raise TargetFailure(f"target {self.spec!r}: {err}") from None
        self._protocol = JSONRPCProtocol(id_generator=self._ids)
        self._released.clear()
        hello = self.call(
            "hello", {"protocol": PROTOCOL_VERSION, "client": "alys-pbt"}, max(self.timeout, START_TIMEOUT)
        )
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL_VERSION:
            self._fail(
                f"its hello is not protocol {PROTOCOL_VERSION}: {_excerpt(json.dumps(hello))}", "hello"
            )
        self.hello = hello
        return self.hello

    def close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            self.generation += 1  # the handles of that server die with it
            channel.close()

    def ensure(self) -> None:
        if self.channel is None:
            self.restarts += 1
            self.start()

    # --- calls ---------------------------------------------------------------------------------
    def release(self, handle: int, generation: int) -> None:
        """Forget a handle (sent as one `release` notification before the next call)."""
        if generation == self.generation and self.channel is not None:
            self._released.append(handle)

    def call(self, method: str, params: dict[str, Any], timeout: float | None = None) -> Any:
        if self.channel is None:
            self.ensure()
        assert self.channel is not None
        channel = self.channel
        request = self._protocol.create_request(method, kwargs=params)
        wanted = request.unique_id
        try:
            if self._released:
                note = self._protocol.create_request(
                    "release", kwargs={"handles": self._released}, one_way=True
                )
                self._released = []
                channel.send(note.serialize())
            channel.send(request.serialize())
            line = channel.readline(self.timeout if timeout is None else timeout)
        except ChannelBroken as err:
            self._fail(str(err), method, params)
        if _nesting(line) > MAX_NESTING:  # json's C parser would recurse past the recursion limit
            self._fail(
                f"it answered with JSON nested past {MAX_NESTING} levels: {_excerpt(line)}", method, params
            )
        try:
            reply = self._protocol.parse_reply(line)
        except UnexpectedIDError:
            self._fail(
                f"it answered another request than {wanted!r} (out of order): {_excerpt(line)}",
                method,
                params,
            )
        except (RPCError, ValueError, TypeError, KeyError, AttributeError) as err:
            self._fail(
                f"it answered with what is not a JSON-RPC 2.0 reply ({err}): {_excerpt(line)}", method, params
            )
        if not isinstance(reply, (JSONRPCSuccessResponse, JSONRPCErrorResponse)):
            self._fail(f"it answered one request with a batch: {_excerpt(line)}", method, params)
        if reply.unique_id != wanted:
            self._fail(f"it answered request {reply.unique_id!r} when {wanted!r} was asked", method, params)
        if isinstance(reply, JSONRPCSuccessResponse):
            return reply.result
        data = getattr(reply, "data", None)
        if (
            reply._jsonrpc_error_code == REJECTED
            and isinstance(data, dict)
            and isinstance(data.get("name"), str)
        ):
            bases = data.get("bases", [])  # optional; [] when the error is of no broader kind
            if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
                self._fail(f"its error.data.bases is not a list of names: {_excerpt(line)}", method, params)
            raise error_class(data["name"], tuple(bases))(reply.error)
        self._fail(
            f"it answered with a protocol error {reply._jsonrpc_error_code} ({reply.error}"
            f"{'; ' + _excerpt(json.dumps(data)) if data is not None else ''})",
            method,
            params,
        )

    def _fail(self, what: str, method: str, params: dict[str, Any] | None = None) -> Any:
        """Stop the server and raise TargetFailure saying what it did, to which call, and its stderr."""
        channel = self.channel
        where = channel.describe() if channel is not None else self.spec
        tail = channel.stderr_tail().strip() if channel is not None else ""
        self.close()
        asked = f"{method} {_excerpt(json.dumps(params, default=str))}" if params is not None else method
        message = f"target {where} misbehaved: {what}\n  while answering: {asked}"
        if tail:
            message += "\n  the tail of its stderr:\n    " + "\n    ".join(tail.splitlines()[-20:])
        raise TargetFailure(message)
