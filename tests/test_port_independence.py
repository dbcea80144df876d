"""The port and the references share no code (issue 14, item 3): nothing under alys/ imports the
suite's references, strategies or machinery, at module level or inside a function, so a bug the
two share cannot hide behind the comparison."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

FORBIDDEN = ("models", "strategies", "alys_pbt", "properties", "tests")
PORT = sorted((ROOT / "alys").rglob("*.py"))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, anywhere in the file (lazy imports included), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside alys/
                continue
            found.append((node.lineno, node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_the_walker_sees_lazy_and_dynamic_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\n\ndef f():\n    from models import blocks\n    "
        "import importlib\n    importlib.import_module('strategies.evm')\n"
    )
    assert [m for _, m in imported_modules(probe)] == ["os", "models", "importlib", "strategies.evm"]


def test_the_port_has_modules_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PORT}
    assert {"alys/node.py", "alys/chain.py", "alys/evm.py", "alys/wire.py"} <= names


@pytest.mark.parametrize("path", PORT, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_port_module_imports_the_suite(path: Path) -> None:
    bad = [
        f"line {line}: {module}"
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports the suite: {bad}"
