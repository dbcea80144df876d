"""The two ways to reach a server: a child process over its stdin/stdout (`exec:`), or a TCP
connection (`tcp:`). Both carry one JSON-RPC message per line, and both read with a deadline, so a
server that hangs costs one per-call timeout, never the run."""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import socket
import subprocess
import tempfile
import time
from typing import IO

STDERR_TAIL = 4000  # bytes of the server's stderr a failure quotes
MAX_LINE = 64 << 20  # a reply longer than this is garbage, not a reply


class ChannelBroken(Exception):
    """The channel cannot carry the call: the server died, hung, or closed the connection."""


class Channel:
    """One line out, one line in, with a deadline; subclasses say where the bytes go."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def send(self, line: bytes) -> None:
        raise NotImplementedError

    def _read_some(self, timeout: float) -> bytes:
        """Some bytes (b"" at end of stream), or raise ChannelBroken after `timeout` seconds."""
        raise NotImplementedError

    def readline(self, timeout: float) -> bytes:
        """The next line without its newline, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > MAX_LINE:
                raise ChannelBroken(f"the server wrote more than {MAX_LINE} bytes without a newline")
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelBroken(f"no answer within {timeout:g} s (per-call timeout)")
            chunk = self._read_some(left)
            if not chunk:
                raise ChannelBroken("the server closed its output (end of stream)")
            self._buffer += chunk

    def stderr_tail(self) -> str:
        return ""

    def close(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class ExecChannel(Channel):
    """A child process started from a command line; its stderr goes to a file we quote from."""

    def __init__(self, command: str, cwd: str | None = None) -> None:
        super().__init__()
        self.command = command
        argv = shlex.split(command)
        if not argv:
            raise ChannelBroken("exec: needs a command")
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the child
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=cwd,
                bufsize=0,
            )
        except OSError as err:
            self._stderr.close()
            raise ChannelBroken(f"cannot start {command!r}: {err}") from None
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in, self._out = self.process.stdin, self.process.stdout
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._out, selectors.EVENT_READ)

    def send(self, line: bytes) -> None:
        try:
            self._in.write(line + b"\n")
        except (BrokenPipeError, OSError) as err:
            raise ChannelBroken(f"cannot write to the server: {err}{self._exit_status()}") from None

    def _read_some(self, timeout: float) -> bytes:
        if not self._selector.select(timeout):
            raise ChannelBroken(f"no answer within the per-call timeout{self._exit_status()}")
        chunk = os.read(self._out.fileno(), 1 << 16)
        if not chunk:
            raise ChannelBroken(f"the server closed its output{self._exit_status()}")
        return chunk

    def _exit_status(self) -> str:
        try:
            code = self.process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            return ""
        return f" (it exited with status {code})"

    def stderr_tail(self) -> str:
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - STDERR_TAIL))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        for stream in (self._in, self._out):
            with contextlib.suppress(OSError):
                stream.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._selector.close()
        self._stderr.close()

    def describe(self) -> str:
        return f"exec:{self.command} (pid {self.process.pid})"


class TcpChannel(Channel):
    """A connection to a server that is already running (its stderr is its own business)."""

    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        super().__init__()
        self.host, self.port = host, port
        try:
            self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as err:
            raise ChannelBroken(f"cannot connect to {host}:{port}: {err}") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, line: bytes) -> None:
        try:
            self.sock.sendall(line + b"\n")
        except OSError as err:
            raise ChannelBroken(f"cannot write to {self.host}:{self.port}: {err}") from None

    def _read_some(self, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1 << 16)
        except TimeoutError:
            raise ChannelBroken("no answer within the per-call timeout") from None
        except OSError as err:
            raise ChannelBroken(f"the connection failed: {err}") from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def describe(self) -> str:
        return f"tcp:{self.host}:{self.port}"
