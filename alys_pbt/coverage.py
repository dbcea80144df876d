"""What each property or machine needs of a target, and what a run did not cover.

A property needs the components and methods its code reaches through `target.<component>` (or
`target.<component>.<method>`): read from its source, the helpers of its module it calls, and for a
machine the machine's class; plus what `@pytest.mark.requires("component[.method]", ...)` names.
A property parametrized by an AuxPoW corruption needs a layout the corruption applies to. The plugin
skips, before it runs, a property needing what the target lacks; anything the reading missed is
still caught when the property reaches it (alys_pbt/interface.py Missing).
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator
from typing import Any

import pytest

from alys_pbt.interface import COMPONENTS, METHODS, Coverage

REQUIRES = "requires"
_PART = re.compile(
    r"\b(?:target|targets\.current\(\))\s*\.\s*(" + "|".join(COMPONENTS) + r")\b(?:\s*\.\s*([A-Za-z_]\w*))?"
)
_cache: dict[int, frozenset[str]] = {}


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _reach(obj: Any, seen: set[int]) -> Iterator[Any]:
    """`obj` and the functions and classes of its own module it names, transitively."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    module = inspect.getmodule(obj)
    if module is None:
        return
    if inspect.isclass(obj):
        codes = [f.__code__ for f in vars(obj).values() if isinstance(f, types.FunctionType)]
        for base in obj.__mro__[1:]:
            if base.__module__ == obj.__module__ or base.__module__.startswith("alys_pbt."):
                yield from _reach(base, seen)
    else:
        fn = inspect.unwrap(obj)
        codes = [fn.__code__] if isinstance(fn, types.FunctionType) else []
        for wrapped in _wrapped(fn):  # a @st.composite keeps the function it was given in a closure
            yield from _reach(wrapped, seen)
    for code in codes:
        for name in set(_code_names(code)):
            value = getattr(module, name, None)
            if (inspect.isfunction(value) or inspect.isclass(value)) and _ours(value, module.__name__):
                yield from _reach(value, seen)


def _wrapped(fn: Any) -> Iterator[Any]:
    """The functions a function holds in its closure (a @st.composite keeps the one it was given
    there, under a wrapper generated from "<string>")."""
    if not isinstance(fn, types.FunctionType):
        return
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, types.FunctionType):
            yield value


def _ours(value: Any, module: str) -> bool:
    """Code of the test's own module or of the suite (strategies, machines), never a library's."""
    name = str(value.__module__)
    return name == module or name.startswith(("alys_pbt.", "properties."))


def _test_object(item: pytest.Item) -> Any:
    obj = getattr(item, "obj", None)
    machine = getattr(obj, "_hypothesis_state_machine_class", None)
    if machine is not None:
        return machine
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    return inner if inner is not None else obj


def read_needs(obj: Any) -> frozenset[str]:
    """The parts of the interface the code of `obj` (and what it calls in its module) reaches."""
    key = id(obj)
    if key not in _cache:
        parts = set()
        for reached in _reach(obj, set()):
            for component, method in _PART.findall(_source(reached)):
                parts.add(f"{component}.{method}" if method in METHODS[component] else component)
        _cache[key] = frozenset(parts)
    return _cache[key]


def needs(item: pytest.Item) -> list[str]:
    """What the item needs: the parts its markers name, then what its code reaches, sorted."""
    named = [str(part) for marker in item.iter_markers(REQUIRES) for part in marker.args]
    obj = _test_object(item)
    read = read_needs(obj) if obj is not None else frozenset()
    return sorted({*named, *read})


def _corruption_layouts(item: pytest.Item) -> tuple[str, ...]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    name = params.get("corruption")
    if not isinstance(name, str):
        return ()
    from alys_pbt.strategies.corruptions import BY_NAME

    corruption = BY_NAME.get(name)
    return tuple(corruption.layouts) if corruption is not None else ()


def uncovered(item: pytest.Item, coverage: Coverage) -> str | None:
    """The missing parts that keep the item from running on the target (all of them), or None."""
    parts = needs(item)
    lacking = [coverage.lacks(part) for part in parts if part.partition(".")[0] in COMPONENTS]
    if any(lacking):
        return ", ".join(dict.fromkeys(part for part in lacking if part))
    layouts = _corruption_layouts(item)
    checks_layouts = layouts and "auxpow" in {p.partition(".")[0] for p in parts}
    if checks_layouts and not any(coverage.supports("auxpow", "layouts", layout) for layout in layouts):
        supported = ", ".join(coverage.capabilities["auxpow"]["layouts"])
        return f"auxpow layout {' or '.join(layouts)} (it declares layouts {supported})"
    return None
