"""Hypothesis strategies for alys-pbt. Importing the package registers type strategies, so
`st.from_type(AuxPow)` and friends draw valid protocol data; each is built, importing its module,
only when first resolved, so importing one strategy module costs only what that module uses.
(`Canonical`, whose module costs the EVM libraries, is registered by strategies/sync.py.)"""

from collections.abc import Callable
from importlib import import_module
from typing import Any

from hypothesis import strategies as st

from alys_pbt.models.auxpow import AuxPow
from alys_pbt.models.bitcoin import BlockHeader, MerkleBranch, Transaction


def _lazily(
    module: str, build: Callable[[Any], st.SearchStrategy[Any]]
) -> Callable[[type], st.SearchStrategy[Any]]:
    """A type's strategy, built from `alys_pbt.strategies.<module>` when Hypothesis first asks."""
    return lambda _type: build(import_module(f"{__name__}.{module}"))


st.register_type_strategy(BlockHeader, _lazily("bitcoin", lambda m: m.block_headers()))
st.register_type_strategy(Transaction, _lazily("bitcoin", lambda m: m.transactions()))
st.register_type_strategy(MerkleBranch, _lazily("bitcoin", lambda m: m.merkle_proofs().map(lambda p: p[2])))
st.register_type_strategy(AuxPow, _lazily("auxpow", lambda m: m.auxpows()))
