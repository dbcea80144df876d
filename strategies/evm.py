"""EVM transactions with realistic fields, signed for real (deterministic secp256k1)."""

from __future__ import annotations

from hypothesis import strategies as st

from alys_pbt.models import evm

GWEI = 10**9
secp256k1_secrets = st.integers(1, evm.SECP256K1_N - 1)
addresses = st.binary(min_size=20, max_size=20)
# Chain ids at every byte-width edge of their RLP integer (0 is the empty string, 1..0x7f a single
# byte, 0x80 the first with a length header, then each byte boundary), and any up to the largest a
# legacy transaction's u64 `v` carries (v = 2 * chain_id + 36 at most): the EIP-155 signing digest
# re-encodes the chain id, so a leading-zero or single-byte slip there changes the signer.
CHAIN_ID_EDGES = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 121212, 2**32, (2**64 - 37) // 2)
chain_ids = st.sampled_from(CHAIN_ID_EDGES) | st.integers(0, (2**64 - 37) // 2)


# EIP-2930 access lists: none (most transactions), or a few addresses with 0-2 storage keys each.
access_lists = st.just(()) | st.lists(
    st.tuples(addresses, st.lists(st.binary(min_size=32, max_size=32), max_size=2).map(tuple)), max_size=3
).map(tuple)


@st.composite
def evm_transactions(
    draw: st.DrawFn, *, chain_id: int | st.SearchStrategy[int] = 121212, signed: bool = True
) -> evm.EvmTransaction:
    """Legacy (EIP-155) or EIP-1559 transfers and calls: nonces below 1,000, gas 21,000 to 10M,
    fees of 1-100 gwei, values up to 100 ether, calldata under 1 KiB, access lists on EIP-1559 ones;
    `chain_id` fixed (Alys's) or drawn (`chain_ids`)."""
    if isinstance(chain_id, st.SearchStrategy):
        chain_id = draw(chain_id, label="chain id")
    nonce = draw(st.integers(0, 999))
    gas = draw(st.sampled_from([21_000]) | st.integers(21_000, 10_000_000))
    to = draw(addresses | st.just(b""))
    value = draw(st.integers(0, 100 * 10**18))
    data = draw(st.binary(max_size=1024))
    if draw(st.booleans()):
        tx: evm.EvmTransaction = evm.with_chain_id(
            evm.LegacyTransaction(nonce, draw(st.integers(1, 100)) * GWEI, gas, to, value, data, 0, 0, 0),
            chain_id,
        )
    else:
        tip = draw(st.integers(0, 10)) * GWEI
        tx = evm.DynamicFeeTransaction(
            chain_id,
            nonce,
            tip,
            tip + draw(st.integers(1, 100)) * GWEI,
            gas,
            to,
            value,
            data,
            draw(access_lists, label="access list"),
            0,
            0,
            0,
        )
    return evm.sign(tx, draw(secp256k1_secrets)) if signed else tx
