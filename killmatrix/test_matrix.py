"""The kill matrix, one item per (deviation, property, seed): run it through `python -m alys_pbt.killmatrix`.

Not in pytest's testpaths (the default run covers each pair once, in tests/test_kill_matrix.py);
the items are parametrized by `alys_pbt.killmatrix_plugin` (`-p alys_pbt.killmatrix_plugin`,
options --kill-seeds, --kill-only, --kill-shrink).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alys_pbt.killmatrix_plugin import MatrixItem, check


def test_killed_by_the_registered_failure(
    kill_run: MatrixItem, record_property: Callable[[str, object], None], pytestconfig: pytest.Config
) -> None:
    assert check(kill_run, record_property, serve=pytestconfig.getoption("kill_serve")).killed
