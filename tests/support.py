"""Helpers for tests that run pytest in a subprocess: on a fresh copy of the project, or (with
pytester) a small session of fixture files under the project's plugin."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def inner_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str
) -> pytest.RunResult:
    """A small pytest session in `pytester.path`, in a subprocess (the plugin's state is process-wide),
    with the alys-pbt plugin of this project, a clean environment plus `env`, and the dev profile."""
    for name in list(os.environ):
        if name.startswith(("HYPOTHESIS_", "ALYS_", "PYTEST_")) or name == "CI":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this project's alys_pbt and tests.fixtures
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    plugin = ("-p", "alys_pbt.plugin", "-p", "no:cacheprovider")
    return pytester.runpytest_subprocess(*plugin, *args, timeout=300)
