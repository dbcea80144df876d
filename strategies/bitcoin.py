"""Strategies for Bitcoin consensus data: hashes, scripts, headers, transactions, merkle trees."""

from __future__ import annotations

from hypothesis import strategies as st

from alys_pbt.models.bitcoin import (
    NULL_OUTPOINT,
    BlockHeader,
    MerkleBranch,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    merkle_branch,
)

hashes = st.binary(min_size=32, max_size=32)
u32s = st.integers(0, 2**32 - 1)
i32s = st.integers(-(2**31), 2**31 - 1)
MAX_MONEY = 21_000_000 * 100_000_000


def scripts(*, min_size: int = 0, max_size: int = 80) -> st.SearchStrategy[bytes]:
    """Arbitrary script bytes (scripts are opaque to consensus decoding)."""
    return st.binary(min_size=min_size, max_size=max_size)


def block_headers(
    *, version: st.SearchStrategy[int] = i32s, bits: st.SearchStrategy[int] = u32s
) -> st.SearchStrategy[BlockHeader]:
    """80-byte block headers with every field drawn independently."""
    return st.builds(
        BlockHeader,
        version=version,
        prev_block=hashes,
        merkle_root=hashes,
        time=u32s,
        bits=bits,
        nonce=u32s,
    )


def witnesses(*, min_items: int = 1) -> st.SearchStrategy[tuple[bytes, ...]]:
    return st.lists(st.binary(max_size=72), min_size=min_items, max_size=4).map(tuple)


def tx_inputs(*, witness: bool = False) -> st.SearchStrategy[TxIn]:
    return st.builds(
        TxIn,
        prevout=st.builds(OutPoint, txid=hashes, vout=u32s),
        script_sig=scripts(max_size=110),
        sequence=u32s,
        witness=witnesses() if witness else st.just(()),
    )


def tx_outputs(*, script: st.SearchStrategy[bytes] | None = None) -> st.SearchStrategy[TxOut]:
    return st.builds(
        TxOut, value=st.integers(0, MAX_MONEY), script_pubkey=script if script is not None else scripts()
    )


@st.composite
def transactions(
    draw: st.DrawFn,
    *,
    segwit: bool | None = None,
    min_inputs: int = 1,
    max_inputs: int = 3,
    max_outputs: int = 4,
) -> Transaction:
    """Transactions, legacy or segwit (`segwit=None` draws either); zero inputs only if min_inputs=0."""
    use_witness = draw(st.booleans()) if segwit is None else segwit
    n_inputs = draw(st.integers(max(min_inputs, 1 if use_witness else 0), max(max_inputs, 1)))
    inputs = [draw(tx_inputs(witness=use_witness and draw(st.booleans()))) for _ in range(n_inputs)]
    if use_witness and not any(i.witness for i in inputs):
        first = inputs[0]
        inputs[0] = TxIn(first.prevout, first.script_sig, first.sequence, draw(witnesses()))
    return Transaction(
        version=draw(i32s),
        inputs=tuple(inputs),
        outputs=tuple(draw(st.lists(tx_outputs(), max_size=max_outputs))),
        lock_time=draw(u32s),
    )


@st.composite
def coinbase_transactions(
    draw: st.DrawFn,
    *,
    script_sig: st.SearchStrategy[bytes] | None = None,
    outputs: st.SearchStrategy[list[TxOut]] | None = None,
    segwit: bool | None = None,
) -> Transaction:
    """Coinbases: one input spending the null prevout (BIP34 height push first), any outputs.

    A segwit coinbase carries the 32-byte witness reserved value, as miners' coinbases do.
    """
    height = draw(st.integers(0, 2**23 - 1)).to_bytes(3, "little")
    sig = b"\x03" + height + draw(script_sig if script_sig is not None else scripts(max_size=60))
    use_witness = draw(st.booleans()) if segwit is None else segwit
    witness = (draw(hashes),) if use_witness else ()
    return Transaction(
        version=draw(st.sampled_from([1, 2])),
        inputs=(TxIn(NULL_OUTPOINT, sig, draw(u32s), witness),),
        outputs=tuple(
            draw(outputs if outputs is not None else st.lists(tx_outputs(), min_size=1, max_size=4))
        ),
        lock_time=draw(u32s),
    )


def merkle_trees(*, min_leaves: int = 1, max_leaves: int = 20) -> st.SearchStrategy[list[bytes]]:
    """The txid lists of blocks (distinct leaves; odd sizes exercise the duplicate-last rule)."""
    return st.lists(hashes, min_size=min_leaves, max_size=max_leaves, unique=True)


@st.composite
def merkle_proofs(
    draw: st.DrawFn, *, min_leaves: int = 1, max_leaves: int = 20
) -> tuple[list[bytes], int, MerkleBranch]:
    """(leaves, index, branch) such that branch.evaluate(leaves[index]) is the tree's root."""
    leaves = draw(merkle_trees(min_leaves=min_leaves, max_leaves=max_leaves))
    index = draw(st.integers(0, len(leaves) - 1))
    return leaves, index, merkle_branch(leaves, index)
