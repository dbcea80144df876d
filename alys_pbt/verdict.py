"""How the suite compares implementations: by the name of what they raise."""

from __future__ import annotations

from collections.abc import Callable


def verdict(action: Callable[[], object]) -> str:
    """'ok', or the class name of the exception `action` raised. Reference, port and any plugged-in
    target define their own error classes; the names are the contract (alys_pbt/interface.py)."""
    try:
        action()
    except Exception as err:  # noqa: BLE001 - the name is the verdict
        return type(err).__name__
    return "ok"
