"""The project as a fresh clone has it, copied elsewhere: for a run in another directory or on
another "host" (the replay and profile tests, the two-hosts demonstration)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# History, caches and work products, none of which a copy runs; a working machine's mutation tree
# alone is hundreds of MB, and copying it made each copy take seconds.
LEFT_OUT = (
    ".git",
    ".hypothesis",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    "htmlcov",
    ".mutation",
    "mutants",
    ".mypy_cache",
    ".ruff_cache",
    ".benchmarks",
    "ci-output",
    "known-failures.new",
)


def copy_project(dest: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """Copy the project to `dest` without LEFT_OUT (nor the names in `leave_out`), and return `dest`."""
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*LEFT_OUT, *leave_out))
    return dest
