"""Imports run one way (issue 18, item 2): port <- nothing of ours; references <- strategies <- machines
<- properties. The contracts are import-linter's, in pyproject `[tool.importlinter]`; they run on a mirror
of the installed layout (`alys_pbt.checks`), since the tools read folders and the editable install maps
strategies/ and models/ into `alys_pbt`. Each contract is shown to break on an import planted the wrong
way."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from alys_pbt import checks
from tests.support import ROOT

CONTRACTS = [
    c["name"]
    for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
]


def contract(starting: str) -> str:
    [name] = [name for name in CONTRACTS if name.startswith(starting)]
    return name


def test_imports_run_one_way() -> None:
    passed, report = checks.check("imports")
    assert passed, report
    for name in CONTRACTS:
        assert f"{name} KEPT" in report, report
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in report


@pytest.mark.parametrize(
    "module",
    ["alys_pbt.strategies.auxpow", "alys_pbt.models.bitcoin", "alys_pbt.models.machines.chain", "alys.chain"],
)
def test_the_mirror_is_laid_out_as_installed(tmp_path: Path, module: str) -> None:
    origin = checks.mirror(ROOT, tmp_path)
    installed = Path(importlib.import_module(module).__file__ or "").resolve().relative_to(ROOT).as_posix()
    mirrored = module.replace(".", "/") + ".py"
    assert origin[mirrored] == installed
    assert (tmp_path / mirrored).read_bytes() == (ROOT / installed).read_bytes()


def test_the_references_contract_names_every_reference() -> None:
    """A reference module added to models/ and left out of the contract would escape it."""
    [references] = [
        c
        for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
        if c["name"].startswith("References")
    ]
    on_disk = {f"alys_pbt.models.{p.stem}" for p in (ROOT / "models").glob("*.py") if p.stem != "__init__"}
    listed = set(references["source_modules"])
    assert listed == on_disk, (
        f"add {sorted(on_disk - listed)}, drop {sorted(listed - on_disk)} in pyproject.toml"
    )


# (file in the repository, line planted at its end, contract it breaks, the import the report names)
WRONG_WAY = {
    "port imports the suite": (
        "alys/codec.py",
        "import alys_pbt.verdict",
        "The port (alys)",
        "alys.codec -> alys_pbt.verdict",
    ),
    "port modules in a cycle": (
        "alys/codec.py",
        "import alys.wire",
        "The port's modules",
        "No cycles are allowed in alys.",
    ),
    "reference imports a strategy, lazily": (
        "models/bitcoin.py",
        "def _probe() -> None:\n    from alys_pbt.strategies import evm",
        "References",
        "alys_pbt.models.bitcoin -> alys_pbt.strategies.evm",
    ),
    "reference imports the harness": (
        "models/retarget.py",
        "import alys_pbt.verdict",
        "References",
        "alys_pbt.models.retarget -> alys_pbt.verdict",
    ),
    "strategy imports a machine": (
        "strategies/evm.py",
        "from alys_pbt.models.machines import approvals",
        "Strategies",
        "alys_pbt.strategies.evm -> alys_pbt.models.machines.approvals",
    ),
    "strategy imports the port": (
        "strategies/bitcoin.py",
        "import alys.codec",
        "Strategies",
        "alys_pbt.strategies.bitcoin -> alys.codec",
    ),
    "machine imports the port": (
        "models/machines/chain.py",
        "import alys.wire",
        "Machines",
        "alys_pbt.models.machines.chain -> alys.wire",
    ),
}


@pytest.mark.parametrize("case", WRONG_WAY)
def test_an_import_the_wrong_way_breaks_its_contract(tmp_path: Path, case: str) -> None:
    path, planted, starting, named = WRONG_WAY[case]
    origin = checks.mirror(ROOT, tmp_path)
    [copy] = [tmp_path / mirrored for mirrored, source in origin.items() if source == path]
    copy.write_text(copy.read_text() + "\n\n" + planted + "\n")
    passed, report = checks.lint_imports(tmp_path)
    assert not passed
    broken = contract(starting)
    assert f"{broken} BROKEN" in report, report
    assert named in report, report
