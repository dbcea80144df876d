"""Hypothesis strategies for alys-pbt; importing the package registers type strategies, so
`st.from_type(AuxPow)` and friends draw valid protocol data."""

from hypothesis import strategies as st

from models.auxpow import AuxPow
from models.bitcoin import BlockHeader, MerkleBranch, Transaction
from strategies.auxpow import auxpows
from strategies.bitcoin import block_headers, merkle_proofs, transactions
from models.sync import Canonical
from strategies.sync import canonical_chains

st.register_type_strategy(BlockHeader, block_headers())
st.register_type_strategy(Transaction, transactions())
st.register_type_strategy(MerkleBranch, merkle_proofs().map(lambda proof: proof[2]))
st.register_type_strategy(AuxPow, auxpows())
st.register_type_strategy(Canonical, canonical_chains())
