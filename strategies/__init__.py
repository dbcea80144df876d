"""Hypothesis strategies for alys-pbt; importing the package registers type strategies, so
`st.from_type(AuxPow)` and friends draw valid protocol data."""

from hypothesis import strategies as st

from alys_pbt.models.auxpow import AuxPow
from alys_pbt.models.bitcoin import BlockHeader, MerkleBranch, Transaction
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies.auxpow import auxpows
from alys_pbt.strategies.bitcoin import block_headers, merkle_proofs, transactions
from alys_pbt.strategies.sync import canonical_chains

st.register_type_strategy(BlockHeader, block_headers())
st.register_type_strategy(Transaction, transactions())
st.register_type_strategy(MerkleBranch, merkle_proofs().map(lambda proof: proof[2]))
st.register_type_strategy(AuxPow, auxpows())
st.register_type_strategy(Canonical, canonical_chains())
