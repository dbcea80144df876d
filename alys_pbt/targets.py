"""Target selection: `alys`, `alys-fixed`, `alys-fixed+ID[+ID...]`, or `package.module:object`.

`alys` carries every quirk of the port; `alys-fixed` none; `alys-fixed+ID` switches on the named
quirks or seeded mutants (the form the kill matrix uses). The chosen target is process-wide
(`current()`), so state machines, which take no fixtures, see the same one as properties.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import alys
from alys_pbt import deviations
from alys_pbt.interface import TargetError, validate

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
    elif ":" in spec:
        target = _import(spec)
    else:
        raise TargetError(
            f"unknown target {spec!r}: expected one of {', '.join(BUILTIN)}, "
            "alys-fixed+DEVIATION[+...], or package.module:object"
        )
    validate(target, spec)
    unknown_quirks = set(target.quirks) - deviations.QUIRK_IDS
    if unknown_quirks:
        raise TargetError(f"target {spec!r} declares unknown quirks {sorted(unknown_quirks)}")
    return target


def _import(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TargetError(f"target {spec!r}: cannot import {module_name!r}: {err}") from err
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise TargetError(f"target {spec!r}: module {module_name!r} has no {attr!r}") from None
    return obj() if callable(obj) and not hasattr(obj, "auxpow") else obj


def current() -> Any:
    """The target chosen for this run (`alys` if none was chosen)."""
    if not _current:
        _current.append(load(DEFAULT))
    return _current[-1]


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
