"""Properties of AuxPoW: encodings, the proof check, check_pow, compact bits and the PoW boundary."""

from __future__ import annotations

import bitcoin.core as btc
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.killing import kills
from alys_pbt.models import auxpow as ref
from alys_pbt.models.bitcoin import BlockHeader, Transaction, merkle_root
from alys_pbt.strategies.auxpow import AuxPowCase, auxpow_cases, auxpows, compact_bits, pow_probes
from alys_pbt.strategies.bitcoin import block_headers, hashes, merkle_trees, transactions, u32s
from alys_pbt.strategies.corruptions import BY_NAME, CATALOGUE, STRUCTURAL, corrupted_cases
from alys_pbt.verdict import verdict

pytestmark = pytest.mark.auxpow


# --- Encodings ---------------------------------------------------------------------------------

encodable = st.one_of(
    block_headers().map(lambda h: ("header", h.to_bytes())),
    transactions().map(lambda t: ("transaction", t.to_bytes())),
    auxpows(max_height=3).map(lambda a: ("auxpow", a.to_bytes())),
)
MODEL_DECODERS = {
    "header": BlockHeader.from_bytes,
    "transaction": Transaction.from_bytes,
    "auxpow": ref.AuxPow.from_bytes,
}


def target_round_trip(target: Target, kind: str, data: bytes) -> bytes:
    a = target.auxpow
    if kind == "header":
        return a.encode_header(a.decode_header(data))
    if kind == "transaction":
        return a.encode_transaction(a.decode_transaction(data))
    return a.encode_auxpow(a.decode_auxpow(data))


@kills("codec-drops-witness")
@pytest.mark.requires("auxpow.encode_header", "auxpow.encode_transaction", "auxpow.encode_auxpow")
@given(item=encodable)
def test_encodings_round_trip(target: Target, item: tuple[str, bytes]) -> None:
    """Consensus bytes decode and re-encode to themselves, in the reference and the target."""
    kind, data = item
    assert MODEL_DECODERS[kind](data).to_bytes() == data
    assert target_round_trip(target, kind, data) == data


# --- Differential against python-bitcoinlib --------------------------------------------------------


@kills("bitcoin-merkle-odd-promotes")
@given(header=block_headers(), tx=transactions(), txids=merkle_trees())
def test_hashes_match_python_bitcoinlib(
    target: Target, header: BlockHeader, tx: Transaction, txids: list[bytes]
) -> None:
    """Header hash, txid and merkle root agree across reference, target and python-bitcoinlib."""
    oracle_header = btc.CBlockHeader.deserialize(header.to_bytes()).GetHash()
    assert (
        header.hash
        == oracle_header
        == target.auxpow.header_hash(target.auxpow.decode_header(header.to_bytes()))
    )
    oracle_txid = btc.CTransaction.deserialize(tx.to_bytes()).GetTxid()
    assert tx.txid == oracle_txid == target.auxpow.txid(target.auxpow.decode_transaction(tx.to_bytes()))
    oracle_root = btc.CBlock.build_merkle_tree_from_txids(txids)[-1]
    assert merkle_root(txids) == oracle_root == target.auxpow.merkle_root(txids)


# --- The proof check --------------------------------------------------------------------------------


@kills(
    "auxpow-merkle-sides-swapped",
    "auxpow-expected-index-i32",
    "auxpow-branch-limit-off-by-one",
    "auxpow-no-output-3-fallback",
    "auxpow-root-order-ignored",
)
@given(case=auxpow_cases(max_height=30, root_order=st.sampled_from(ref.ROOT_ORDERS)))
def test_valid_proofs_are_accepted(target: Target, case: AuxPowCase) -> None:
    """Every proof built by the rules is accepted by the reference and by the target."""
    note(f"layout {case.layout}, chain branch of {len(case.auxpow.blockchain_branch.hashes)}")
    event("layout", case.layout)  # the distributions the report plots (alys_pbt/metrics.py)
    event("chain branch height", str(len(case.auxpow.blockchain_branch.hashes)))
    ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args())
    got = verdict(
        lambda: target.auxpow.check(case.auxpow.to_bytes(), case.aux_hash, case.chain_id, **case.check_args())
    )
    assert got == "ok", f"the target rejected a valid proof with {got}"


@kills(
    "auxpow-no-output-3-fallback",
    "auxpow-branch-limit-31",
    "auxpow-coinbase-first-input-only",
    "auxpow-fallback-indexes-output-3",
    "auxpow-vin-magic-after-start",
    "auxpow-merkle-size-bit-length",
)
# The two corruption properties draw their case with st.data(): it depends on the corruption, a
# pytest parameter (the node ids the kill matrix and the known failures key on), which a @given
# argument cannot see. It prints as `Draw 1 (case): case_of(AuxPowRecipe(...))`, one field a line,
# and replays as printed (tests/test_counterexample_auxpow.py).
@pytest.mark.parametrize("corruption", STRUCTURAL)
@given(data=st.data())
def test_check_rejects_corruption(target: Target, corruption: str, data: st.DataObject) -> None:
    """A proof broken in one rule is rejected with that rule's error, by reference and target."""
    c = BY_NAME[corruption]
    case = data.draw(corrupted_cases(c, root_order=st.sampled_from(ref.ROOT_ORDERS)), label="case")
    note(f"rule: {c.describe()}")
    assert (
        verdict(lambda: ref.check(case.auxpow, case.aux_hash, case.chain_id, **case.check_args()))
        == c.expected
    )
    got = verdict(
        lambda: target.auxpow.check(case.auxpow.to_bytes(), case.aux_hash, case.chain_id, **case.check_args())
    )
    assert got == c.expected, f"target gave {got}, the reference raises {c.describe()}"


@kills("auxpow-no-output-3-fallback")
@pytest.mark.parametrize("corruption", [c.name for c in CATALOGUE if "output-script" in c.layouts])
@given(data=st.data())
def test_check_pow_rejects_corruption(target: Target, corruption: str, data: st.DataObject) -> None:
    """check_pow turns every broken proof or header into that rule's rejection, never a crash."""
    c = BY_NAME[corruption]
    header, ctx = data.draw(corrupted_cases(c, layout="output-script"), label="case").pow_header()
    note(f"rule: {c.describe()}")
    assert verdict(lambda: ref.check_pow(header, ctx)) == c.expected
    got = verdict(lambda: target.chain.check_pow(header, ctx))
    assert got == c.expected, f"target gave {got}, the reference raises {c.describe()}"


@kills("auxpow-no-output-3-fallback", "auxpow-merkle-sides-swapped")
@given(case=auxpow_cases(layout="output-script"))
def test_check_pow_accepts_valid_headers(target: Target, case: AuxPowCase) -> None:
    """A header carrying a valid proof, with the fields the chain requires, finalizes."""
    header, ctx = case.pow_header()
    ref.check_pow(header, ctx)
    got = verdict(lambda: target.chain.check_pow(header, ctx))
    assert got == "ok", f"the target rejected a valid header with {got}"


# --- Numbers: expected index, aggregate, compact bits, the PoW boundary -----------------------------


U32_EDGES = st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32 - 1]) | u32s


@kills("auxpow-expected-index-i32", "auxpow-expected-index-mod-off-by-one")
@given(nonce=U32_EDGES, chain_id=U32_EDGES, h=st.sampled_from([0, 1, 29, 30]) | st.integers(0, 30))
def test_expected_index_matches_reference(target: Target, nonce: int, chain_id: int, h: int) -> None:
    """The chain's slot in the merged-mining tree is Namecoin's getExpectedIndex: a slot of the tree
    (0 <= index < 2^h) for nonces and chain ids at the u32 and i32 edges, heights 0 to the limit 30."""
    index = target.auxpow.expected_index(nonce, chain_id, h)
    assert 0 <= index < 1 << h, f"slot {index} is outside a tree of 2^{h}"
    assert index == ref.expected_index(nonce, chain_id, h)


@kills("auxpow-aggregate-single-unhashed")
@given(block_hashes=st.lists(hashes, min_size=1, max_size=8))
def test_aggregate_hash_matches_reference(target: Target, block_hashes: list[bytes]) -> None:
    """A miner commits to sha256d of the range's block hashes, even for a range of one."""
    assert target.chain.aggregate_hash(block_hashes) == ref.aggregate_hash(block_hashes)


@kills("compact-zero-target-size-one")
@given(
    t=st.sampled_from([0, 1, 0x7F, 0x80, 0x7FFFFF, 0x800000, 2**255, 2**256 - 1])
    | st.integers(0, 2**256 - 1)
    | st.integers(0, 2**24)
)
def test_compact_encoding_matches_reference(target: Target, t: int) -> None:
    """GetCompact of any target, zero and the sign-bit edges included, is the reference's."""
    assert target.auxpow.compact_from_target(t) == ref.compact_from_target(t)


@kills("compact-no-sign-adjust")
@given(t=st.integers(0, 2**256 - 1) | st.integers(0, 2**24))
def test_compact_round_trip_within_precision(target: Target, t: int) -> None:
    """Compact encoding never rounds a target up, loses under 2^-15 of it, and is stable."""
    bits = target.auxpow.compact_from_target(t)
    back = target.auxpow.target_from_compact(bits)
    note(f"{t:#x} -> {bits:#010x} -> {back:#x}")
    assert back <= t
    assert t - back < max(t >> 15, 1)
    assert target.auxpow.compact_from_target(back) == bits


@kills("compact-shift-saturates", "compact-sign-bit-boundary", "compact-sign-checked-before-shift")
@given(bits=compact_bits() | st.integers(0x22000000, 0xFF7FFFFF))
def test_compact_decoding_matches_reference(target: Target, bits: int) -> None:
    """Bits decode as rust-bitcoin decodes them: negative mantissas (0x800000 and up) to 0, exponents
    0..3 shifting the mantissa down, exponents 3..34 up, and bigger shifts wrapping."""
    note(f"bits {bits:#010x}: exponent {bits >> 24}, mantissa {bits & 0xFFFFFF:#08x}")
    got = verdict(lambda: target.auxpow.target_from_compact(bits))
    assert got == "ok", f"the target crashed with {got}"
    assert target.auxpow.target_from_compact(bits) == ref.target_from_compact(bits)


@kills("auxpow-pow-zero-target-unlimited", "auxpow-pow-strict-less")
@given(probe=pow_probes())
def test_pow_verdict_at_the_boundary_matches_reference(target: Target, probe: tuple[bytes, int]) -> None:
    """At the target, one either side of it, and against a zero target: the verdict is the reference's."""
    block_hash, bits = probe
    note(
        f"bits {bits:#010x} (target {ref.target_from_compact(bits):#x}), "
        f"hash {int.from_bytes(block_hash, 'little'):#x}"
    )
    assert target.auxpow.hash_meets_target(block_hash, bits) == ref.hash_meets_target(block_hash, bits)


@kills("auxpow-pow-strict-less")
@given(bits=u32s.map(lambda b: b & 0xFF7FFFFF).filter(lambda b: 0 < ref.target_from_compact(b) < 2**256 - 1))
def test_hash_exactly_at_target_meets_it(target: Target, bits: int) -> None:
    """A hash equal to the target meets it (<=); one above does not."""
    t = ref.target_from_compact(bits)
    assert target.auxpow.hash_meets_target(t.to_bytes(32, "little"), bits)
    assert not target.auxpow.hash_meets_target((t + 1).to_bytes(32, "little"), bits)


@kills("auxpow-pow-hash-big-endian")
@given(header=block_headers(), bits=u32s | st.sampled_from([0x207FFFFF, 0x2100FFFF, 0x1F7FFFFF]))
def test_proof_of_work_matches_reference(target: Target, header: BlockHeader, bits: int) -> None:
    """Any header, any bits: the target's PoW verdict is the reference's."""
    expected = ref.check_proof_of_work(header, bits)
    assert target.auxpow.check_proof_of_work(header.to_bytes(), bits) == expected
