"""Target selection: `alys`, `alys-fixed`, `alys-fixed+ID[+ID...]`, or `package.module:object`.

`alys` carries every quirk of the port; `alys-fixed` none; `alys-fixed+ID` switches on the named
quirks or seeded mutants (the form the kill matrix uses). The chosen target is process-wide
(`current()`), so state machines, which take no fixtures, see the same one as properties.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from typing import Any

import alys
from alys_pbt import deviations, foreign
from alys_pbt.interface import COMPONENTS, Target, TargetError, TargetView, validate, view

DEFAULT = "alys"
BUILTIN = ("alys", "alys-fixed")
_current: list[Any] = []


def load(spec: str) -> Any:
    """Build and validate the target that `spec` names."""
    spec = spec.strip()
    if spec == "alys":
        target: Any = alys.build("alys", alys.QUIRKS)
    elif spec == "alys-fixed":
        target = alys.build("alys-fixed")
    elif spec.startswith("alys-fixed+"):
        ids = spec.removeprefix("alys-fixed+").split("+")
        unknown = [i for i in ids if i not in deviations.ALL]
        if unknown:
            raise TargetError(
                f"target {spec!r} names unknown deviations {unknown}; known: {sorted(deviations.ALL)}"
            )
        target = alys.build(spec, ids)
    elif spec.startswith(("exec:", "tcp:")):  # the target protocol (alys_pbt/protocol, docs/protocol.md)
        target = _protocol(spec)
    elif ":" in spec:
        target = _import(spec)
    else:
        raise TargetError(
            f"unknown target {spec!r}: expected one of {', '.join(BUILTIN)}, "
            "alys-fixed+DEVIATION[+...], or package.module:object"
        )
    if not any(hasattr(target, component) for component in COMPONENTS):
        raise TargetError(
            f"target {spec!r} is not a target: {_short(target)} has none of {', '.join(COMPONENTS)} "
            "(see alys_pbt/interface.py)"
        )
    validate(target, spec)
    own = foreign.load(target, spec)
    quirks = target.quirks
    if not isinstance(quirks, AbstractSet) or not all(isinstance(q, str) for q in quirks):
        raise TargetError(f"target {spec!r}: quirks must be a set of deviation ids, got {_short(quirks)}")
    unknown_quirks = set(quirks) - deviations.QUIRK_IDS - {d.id for d in own}
    if unknown_quirks:
        raise TargetError(f"target {spec!r} declares unknown quirks {sorted(unknown_quirks)}")
    return target


def prepare(target: Any, spec: str | None = None) -> TargetView:
    """The target as properties and machines see it (alys_pbt/interface.py TargetView): the parts
    it lacks skip what needs them, an unlisted exception is a crash, and `foreign` holds its own
    deviations (alys_pbt/foreign.py), all of which it carries (`quirks` stays the ids of ours)."""
    if isinstance(target, TargetView):
        return target
    spec = spec or target.name
    seen = view(target, spec)
    seen.foreign = foreign.load(target, spec)
    return seen


def _protocol(spec: str) -> Any:
    """A server of the target protocol, started (exec:) or reached (tcp:), after its handshake."""
    from alys_pbt.protocol import TargetFailure, connect

    try:
        return connect(spec)
    except TargetFailure as err:
        raise TargetError(" ".join(str(err).split())) from None


def _import(spec: str) -> Any:
    """The object `package.module:name` names; a factory (a callable, not itself a target) is called."""
    module_name, _, attr = spec.partition(":")
    if not module_name.strip() or not attr.strip() or ":" in attr:
        raise TargetError(f"target {spec!r}: expected package.module:object, with one ':' and both parts")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TargetError(f"target {spec!r}: cannot import {module_name!r}: {err}") from None
    except Exception as err:  # noqa: BLE001 - the module's own code failed on import: say so in one line
        raise TargetError(f"target {spec!r}: importing {module_name!r} raised {_one_line(err)}") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise TargetError(f"target {spec!r}: module {module_name!r} has no {attr!r}") from None
    if not callable(obj) or any(hasattr(obj, component) for component in COMPONENTS):
        return obj
    try:
        inspect.signature(obj).bind()
    except TypeError:
        raise TargetError(
            f"target {spec!r} is not a target: {_short(obj)} needs arguments, and a factory takes none"
        ) from None
    except ValueError:  # no signature to inspect (some builtins): calling it will tell
        pass
    try:
        return obj()
    except Exception as err:  # noqa: BLE001 - the factory's own failure, reported in one line
        raise TargetError(f"target {spec!r}: the factory {attr!r} raised {_one_line(err)}") from None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _short(obj: object) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def current() -> Target:
    """The target chosen for this run (`alys` if none was chosen)."""
    if not _current:
        _current.append(prepare(load(DEFAULT), DEFAULT))
    current: Target = _current[-1]
    return current


def select(target: Any) -> None:
    _current[:] = [target]


@contextlib.contextmanager
def using(target: Any) -> Iterator[Any]:
    """Make `target` current for the duration (the kill matrix runs mutants this way)."""
    _current.append(target)
    try:
        yield target
    finally:
        _current.pop()
