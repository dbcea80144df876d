"""The target protocol's Invalid params error, one class for every component's server module
(alys/serve.py and alys/serve_{actors,sync,governance}.py): a parameter that is not of its type's
JSON form is the client's mistake (JSON-RPC -32602, the reason in `error.data`), never a rejection
by the implementation."""

from __future__ import annotations

from tinyrpc.protocols.jsonrpc import JSONRPCInvalidParamsError


class BadParams(JSONRPCInvalidParamsError):  # type: ignore[misc]  # tinyrpc has no type hints
    """A parameter that is not of its type's JSON form: Invalid params, the reason as its data."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.data = why
