"""Helpers for tests that run pytest in a subprocess on a fresh copy of the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_SKIP = shutil.ignore_patterns(".git", ".hypothesis", ".venv", "__pycache__", "*.egg-info", ".pytest_cache")


def copy_project(dest: Path) -> Path:
    """A fresh copy of the project (no example database, no caches) at `dest`."""
    shutil.copytree(ROOT, dest, ignore=_SKIP)
    return dest


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS_", "ALYS_", "PYTEST_"))}
    env.pop("CI", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(overrides)
    return env


def run_pytest(cwd: Path, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m pytest ARGS` in `cwd` with a clean environment plus `env`."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
