"""How the suite compares implementations, and judges a failure: by the name of what was raised."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hypothesis.errors import HypothesisException

ASSERTION = "AssertionError"  # how a verdict mismatch or a broken invariant surfaces


class TargetCrash(Exception):
    """A target's method raised an exception that is not one of the error names it may raise
    (alys_pbt/interface.py): a crash of the target, never a rejection."""

    def __init__(self, method: str, error: BaseException, allowed: tuple[str, ...] = ()) -> None:
        self.method, self.error = method, error
        listed = f" (its errors: {', '.join(allowed)})" if allowed else " (it lists no errors)"
        super().__init__(f"{method} crashed with {describe(error)}{listed}")


def verdict(action: Callable[[], object]) -> str:
    """'ok', or the class name of the exception `action` raised. Reference, port and any plugged-in
    target define their own error classes; the names are the contract (alys_pbt/interface.py). A
    crash of the target reads `TargetCrash(method: Name)`, which no expected verdict equals."""
    try:
        action()
    except TargetCrash as crash:
        return f"TargetCrash({crash.method}: {type(crash.error).__name__})"
    except Exception as err:  # noqa: BLE001 - the name is the verdict
        return type(err).__name__
    return "ok"


def describe(err: BaseException) -> str:
    """`Name: message` of a failure; an exception group lists its members."""
    members = getattr(err, "exceptions", None)
    if isinstance(err, BaseExceptionGroup) and members:
        return f"{type(err).__name__}[{', '.join(describe(e) for e in members)}]"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def strays(err: BaseException, allowed: Iterable[str] = (ASSERTION,)) -> list[BaseException]:
    """The failures in `err` that are not the property's own: [] when `err` is a registered failure.

    A failure is registered when its class, or a class it derives from, has one of the `allowed`
    names (by name, since a foreign target's crash classes are its own). Hypothesis raises an
    exception group when it finds several distinct failures: every member must be registered.
    Hypothesis's own errors (Flaky, a failed health check, Unsatisfiable, ...) never are: they say
    the property did not run as written, not that it failed.
    """
    if isinstance(err, HypothesisException):
        return [err]
    if isinstance(err, BaseExceptionGroup):
        return [stray for member in err.exceptions for stray in strays(member, allowed)]
    names = {cls.__name__ for cls in type(err).__mro__}
    return [] if names & set(allowed) else [err]


def is_registered(err: BaseException | None, allowed: Iterable[str] = (ASSERTION,)) -> bool:
    """Whether `err` is the property's own failure (see `strays`); no failure is not one."""
    return err is not None and not strays(err, allowed)
