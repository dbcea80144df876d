"""The suite's checks on its own code (issue 18, items 2 and 6): the direction of imports through
import-linter and the strict type check through mypy, each run on a mirror of the installed layout.

Both tools read packages from directories, so neither sees `alys_pbt.strategies` or `alys_pbt.models`,
which setuptools' editable finder maps onto the top-level strategies/ and models/ folders (pyproject
`[tool.setuptools.package-dir]`). Each check copies the sources into a temporary tree laid out as
installed (alys/, alys_pbt/ with strategies/ and models/ inside), runs the tool there with the
repository's own configuration (`[tool.importlinter]`, `[tool.mypy]`), and maps the paths it reports
back to the repository's files.

    python -m alys_pbt.checks imports   # the import contracts
    python -m alys_pbt.checks types     # mypy --strict
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Outcome(NamedTuple):
    """A tool's verdict: whether it passed and what it printed (paths mapped to the repository)."""

    passed: bool
    report: str


def installed_layout(root: Path = ROOT) -> dict[str, Path]:
    """Each top-level package and each remapped package, by import name, with the folder it comes from."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    layout = {name: root / name for name in setuptools["packages"] if "." not in name}
    layout.update({name: root / folder for name, folder in setuptools.get("package-dir", {}).items()})
    return layout


def mirror(root: Path, dest: Path) -> dict[str, str]:
    """Copy the Python sources under `root` into `dest` as they install; map mirror paths to repository
    paths (both relative, in POSIX form)."""
    origin: dict[str, str] = {}
    # Parents before children, so a remapped package lands inside its (already copied) parent.
    for name, folder in sorted(installed_layout(root).items(), key=lambda item: item[0].count(".")):
        target = dest.joinpath(*name.split("."))
        for source in sorted(folder.rglob("*.py")):
            if "__pycache__" in source.parts:
                continue
            inside = source.relative_to(folder)
            copy = target / inside
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
            origin[copy.relative_to(dest).as_posix()] = source.relative_to(root).as_posix()
    return origin


def unmirror(text: str, origin: dict[str, str]) -> str:
    """`text` with each mirror path replaced by the repository path it was copied from."""
    if not origin:
        return text
    pattern = re.compile("|".join(re.escape(path) for path in sorted(origin, key=len, reverse=True)))
    return pattern.sub(lambda match: origin[match.group(0)], text)


def _run(command: Sequence[str], tree: Path) -> subprocess.CompletedProcess[str]:
    # The tool runs in its own process, from the mirror: in this process `alys_pbt` is already
    # imported from the repository, and `importlib.util.find_spec` would answer with that copy.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(NO_COLOR="1", COLUMNS="200")  # plain text, one import chain per line
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)


def lint_imports(tree: Path, config: Path = ROOT / "pyproject.toml") -> Outcome:
    """import-linter's contracts (`[tool.importlinter]` in `config`) on the mirror `tree`."""
    result = _run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
            "--config",
            str(config),
            "--no-cache",
            "--no-logo",
        ],
        tree,
    )
    return Outcome(result.returncode == 0, result.stdout + result.stderr)


def typecheck(tree: Path, config: Path = ROOT / "pyproject.toml") -> Outcome:
    """mypy with `[tool.mypy]` of `config` on the mirror `tree` (its `packages` from there)."""
    result = _run([sys.executable, "-m", "mypy", "--config-file", str(config)], tree)
    return Outcome(result.returncode == 0, result.stdout + result.stderr)


def check(name: str, root: Path = ROOT) -> Outcome:
    """Run the check `name` ("imports" or "types") on a fresh mirror of `root`."""
    tool = {"imports": lint_imports, "types": typecheck}[name]
    with tempfile.TemporaryDirectory(prefix="alys-pbt-checks-") as tmp:
        tree = Path(tmp)
        origin = mirror(root, tree)
        passed, report = tool(tree, root / "pyproject.toml")
        return Outcome(passed, unmirror(report, origin))


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> int:
    names = list(argv) or ["imports", "types"]
    failed = False
    for name in names:
        passed, report = check(name)
        print(report.rstrip())
        failed |= not passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
