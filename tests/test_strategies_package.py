"""The strategies package (issue 18, item 1): importing one strategy module costs only what it uses,
and the type strategies the package registers still draw valid protocol data."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys_pbt.models.auxpow import AuxPow
from alys_pbt.models.bitcoin import BlockHeader, MerkleBranch, Transaction
from alys_pbt.models.sync import Canonical
from tests.support import ROOT

UNUSED_BY_BITCOIN = (
    "alys_pbt.strategies.auxpow",
    "alys_pbt.strategies.approvals",
    "alys_pbt.strategies.blocks",
    "alys_pbt.strategies.sync",
    "alys_pbt.models.chain",
    "alys_pbt.models.sync",
    "py_ecc",
)


def test_importing_the_bitcoin_strategies_imports_no_other_strategy_module() -> None:
    code = (
        "import sys\n"
        "import alys_pbt.strategies.bitcoin\n"
        f"print(sorted(m for m in sys.modules if m in {UNUSED_BY_BITCOIN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize(
    "cls", [BlockHeader, Transaction, MerkleBranch, AuxPow, Canonical], ids=lambda c: c.__name__
)
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_the_registered_type_strategies_draw_their_type(cls: type, data: st.DataObject) -> None:
    import alys_pbt.strategies
    import alys_pbt.strategies.sync  # noqa: F401 - registers Canonical's

    assert isinstance(data.draw(st.from_type(cls)), cls)


def test_a_record_type_prints_as_a_type_and_a_record_as_its_short_form() -> None:
    """Hypothesis calls any callable `_repr_pretty_` it finds on what it prints, a class too (a test
    parametrized by a record type prints the type, as observability does for every example)."""
    from hypothesis.vendor.pretty import pretty

    from alys_pbt.models.bitcoin import BlockHeader

    assert pretty(BlockHeader) == "alys_pbt.models.bitcoin.BlockHeader"
    header = BlockHeader.from_bytes(bytes(80))
    assert pretty(header) == repr(header)
