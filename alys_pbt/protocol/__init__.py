"""The language-neutral target protocol: `--target exec:'COMMAND ARGS'` runs an implementation as a
child process speaking JSON-RPC 2.0 over stdin/stdout, one message per line; `--target tcp:HOST:PORT`
connects to one already running. The specification is docs/protocol.md, generated from
alys_pbt/protocol/methods.py (`python -m alys_pbt.protocol docs`).
"""

from __future__ import annotations

import atexit
from typing import Any

from alys_pbt.protocol.rpc import Connection, RemoteError, TargetFailure
from alys_pbt.protocol.target import RemoteTarget

PREFIXES = ("exec:", "tcp:")


def is_protocol_spec(spec: str) -> bool:
    return spec.strip().startswith(PREFIXES)


def connect(spec: str, *, timeout: float | None = None, cwd: str | None = None) -> RemoteTarget:
    """Start (exec:) or reach (tcp:) the server and shake hands; TargetFailure if it cannot."""
    connection = Connection(spec.strip(), timeout=timeout, cwd=cwd)
    atexit.register(connection.close)  # the child ends with the run (it also ends on stdin's EOF)
    hello = connection.start()
    _check_hello(connection, hello)
    return RemoteTarget(connection, hello)


def _check_hello(connection: Connection, hello: dict[str, Any]) -> None:
    components = hello.get("components")
    if not isinstance(components, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
        for k, v in components.items()
    ):
        connection._fail("its hello has no components object (name -> list of method names)", "hello")
    for key in ("quirks", "deviations"):
        if not isinstance(hello.get(key, []), list):
            connection._fail(f"its hello's {key} is not a list", "hello")
    if not isinstance(hello.get("capabilities", {}), dict):
        connection._fail("its hello's capabilities is not an object", "hello")


__all__ = ["Connection", "RemoteError", "RemoteTarget", "TargetFailure", "connect", "is_protocol_spec"]
