"""Real vectors: the node's own test coinbases (alys-rules.md §7), Bitcoin's genesis block, and
Bitcoin Core's compact-bits cases, checked on the reference, both builds of the port, and
python-bitcoinlib where it applies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import bitcoin.core as btc
import pytest
from hypothesis import find, settings

from alys_pbt import targets
from alys_pbt.models import auxpow as ref
from alys_pbt.models import retarget
from alys_pbt.models.bitcoin import (
    CORE_ONLY_RULES,
    NULL_OUTPOINT,
    BlockHeader,
    DecodeError,
    MerkleBranch,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    merkle_root,
    sha256d,
)
from alys_pbt.strategies.auxpow import auxpow_cases
from alys_pbt.verdict import verdict

MARATHON = bytes.fromhex(
    "010000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff2f03bd7e0c04721566652f7a7a616d78632f76649b3c094f135bf4b83108c14ea85f12edd2045a0075000000ffffffffffffffff039df4662700000000160014b6f3cfc20084e3b9f0d12b0e6f9da8fcbcf5a2d90000000000000000266a24aa21a9edb211480d24c30a0d4df77d79618af9f03c2bb0dced634e7b152af2247a9ca99c00000000000000002cfabe6d6da62edaca27060f885a1935a8f9f4401e65a6c9d936a5a9fb384a0b9fae07a983010000000000000001200000000000000000000000000000000000000000000000000000000000000000173d850d"
)
COORDINATE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff3c0349a00c04a29fb3652f4d41524120506f6f6c202876313232373233292f76649b3c094f135bf4b83108c14ea85f12e9a6e4aa00dd000000ffffffffffffffff037e27f826000000001976a9142fc701e2049ee4957b07134b6c1d771dd5a96b2188ac0000000000000000266a24aa21a9edd13261ee69d05e4d79610862cd3a6feb09b43a39c5d26cae63ca0a6501d87d4900000000000000002cfabe6d6daf39e487e7b11bf65932284dcb85290d874a76f00b3619cab549c551fed68f7a01000000000000006dc56f97"
)
GENESIS_HEADER = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
)
GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
)
BUILDS = ("alys", "alys-fixed")


def display(h: bytes) -> str:
    return h[::-1].hex()


def test_genesis_header_and_coinbase_hash_as_bitcoin_says() -> None:
    header = BlockHeader.from_bytes(GENESIS_HEADER)
    assert display(header.hash) == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    coinbase = Transaction.from_bytes(GENESIS_COINBASE)
    assert display(coinbase.txid) == "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    assert coinbase.txid == header.merkle_root and coinbase.is_coinbase
    assert ref.check_proof_of_work(header, 0x1D00FFFF)
    assert not ref.check_proof_of_work(header, 0x1B00FFFF)  # the hash is about 2^211


@pytest.mark.parametrize("raw", [MARATHON, COORDINATE], ids=["marathon-segwit", "coordinate-legacy"])
def test_real_coinbases_decode_round_trip_and_match_python_bitcoinlib(raw: bytes) -> None:
    tx = Transaction.from_bytes(raw)
    assert tx.to_bytes() == raw
    assert tx.is_coinbase and len(tx.outputs) == 3
    assert tx.txid == btc.CTransaction.deserialize(raw).GetTxid()
    for name in BUILDS:
        port = targets.load(name).auxpow
        assert port.encode_transaction(port.decode_transaction(raw)) == raw
        assert port.txid(port.decode_transaction(raw)) == tx.txid


@pytest.mark.parametrize(
    ("raw", "embedded"),
    [
        (MARATHON, "a62edaca27060f885a1935a8f9f4401e65a6c9d936a5a9fb384a0b9fae07a983"),
        (COORDINATE, "af39e487e7b11bf65932284dcb85290d874a76f00b3619cab549c551fed68f7a"),
    ],
)
def test_output_2_header_of_real_coinbases_is_found(raw: bytes, embedded: str) -> None:
    # §7: with an empty chain branch the aux hash is the chain root, i.e. the embedded bytes.
    tx = Transaction.from_bytes(raw)
    header = ref.find_header(tx, bytes.fromhex(embedded), "vout")
    assert (header.merkle_size, header.merkle_nonce) == (1, 0)
    with pytest.raises(ref.CoinbaseInvalidOutputs):  # another root, and no output 3 to fall back on
        ref.find_header(tx, bytes.fromhex(embedded)[::-1], "vout")


def _auxpow_over(coinbase: Transaction) -> ref.AuxPow:
    parent = BlockHeader(0x20000000, bytes(32), coinbase.txid, 0, 0x207FFFFF, 0)
    return ref.AuxPow(coinbase, bytes(32), MerkleBranch((), 0), MerkleBranch((), 0), parent)


@pytest.mark.parametrize("raw", [MARATHON, COORDINATE])
@pytest.mark.parametrize("name", BUILDS)
def test_real_coinbases_pass_the_check_on_both_builds(raw: bytes, name: str) -> None:
    coinbase = Transaction.from_bytes(raw)
    aux_hash = coinbase.outputs[2].script_pubkey[4:36]
    auxpow = _auxpow_over(coinbase)
    ref.check(auxpow, aux_hash, 727272)
    targets.load(name).auxpow.check(auxpow.to_bytes(), aux_hash, 727272)


def test_output_3_fallback_with_two_headers() -> None:
    # §7.3 should_decode_multiple_headers: output 2 commits to 0x00..., output 3 to 0x01...
    def mm(root: bytes) -> bytes:
        return ref.MergedMiningHeader(root, 1, 0).to_bytes()

    base = Transaction.from_bytes(COORDINATE)
    tx = Transaction(
        base.version, base.inputs, (*base.outputs[:2], TxOut(0, mm(bytes(32))), TxOut(0, mm(b"\x01" * 32))), 0
    )
    assert ref.find_header(tx, b"\x01" * 32, "vout").merkle_root == b"\x01" * 32
    auxpow = _auxpow_over(tx)
    for name in BUILDS:
        targets.load(name).auxpow.check(auxpow.to_bytes(), b"\x01" * 32, 121212)
    with pytest.raises(ref.MissingMerkleRoot):  # output 3's error is the one reported
        ref.check(auxpow, b"\x02" * 32, 121212)


def test_auxblock_rpc_target_for_regtest_bits() -> None:
    # §7.4: bits "207fffff" <-> _target 0000...ffff7f (the target's little-endian hex).
    target = ref.target_from_compact(0x207FFFFF)
    assert (
        target.to_bytes(32, "little").hex()
        == "0000000000000000000000000000000000000000000000000000000000ffff7f"
    )
    assert ref.compact_from_target(target) == 0x207FFFFF


@pytest.mark.parametrize(
    ("bits", "target"),
    [  # Bitcoin Core arith_uint256 tests (SetCompact), with rust-bitcoin's zero for the sign bit
        (0x00000000, 0),
        (0x00123456, 0),
        (0x01003456, 0),
        (0x01123456, 0x12),
        (0x02008000, 0x80),
        (0x05009234, 0x92340000),
        (0x04923456, 0),
        (0x04123456, 0x12345600),
        (0x20123456, 0x123456 << 232),
        (0x1D00FFFF, 0xFFFF << 208),
    ],
)
def test_compact_decoding_vectors(bits: int, target: int) -> None:
    assert ref.target_from_compact(bits) == target
    for name in BUILDS:
        assert targets.load(name).auxpow.target_from_compact(bits) == target


@pytest.mark.parametrize(
    ("target", "bits"), [(0x80, 0x02008000), (0x12345600, 0x04123456), (0, 0), (0xFFFF << 208, 0x1D00FFFF)]
)
def test_compact_encoding_vectors(target: int, bits: int) -> None:
    assert ref.compact_from_target(target) == bits


def test_repo_retarget_vectors_on_the_port_as_coded() -> None:
    # auxpow_miner.rs tests: PREV_BITS 0x1e21ffc0; 150000 blocks over spacing 100000 raises the
    # target, 50000 lowers it (as coded, 0.5 is clamped to 0.2).
    params = retarget.RetargetParams(1_200_000, 100_000, 20)
    chain = targets.load("alys").chain
    before = retarget.retarget_target_from_compact(0x1E21FFC0)
    assert (
        retarget.retarget_target_from_compact(chain.calculate_next_work_required(150_000, 0x1E21FFC0, params))
        > before
    )
    lowered = retarget.retarget_target_from_compact(
        chain.calculate_next_work_required(50_000, 0x1E21FFC0, params)
    )
    assert lowered == retarget.retarget_target_from_compact(ref.compact_from_target(before // 100 * 20))
    secure = retarget.retarget_target_from_compact(
        retarget.calculate_next_work_required(50_000, 0x1E21FFC0, params)
    )
    assert lowered < secure < before


def test_decode_errors_say_where_and_why() -> None:
    with pytest.raises(DecodeError, match="at byte 0: header version needs 4 bytes"):
        BlockHeader.from_bytes(b"")
    with pytest.raises(DecodeError, match="1 trailing bytes"):
        BlockHeader.from_bytes(GENESIS_HEADER + b"\x00")
    huge_count = (1).to_bytes(4, "little") + b"\xff" + (2**64 - 1).to_bytes(8, "little")
    with pytest.raises(DecodeError, match="claims 18446744073709551615 items"):
        Transaction.from_bytes(huge_count)
    with pytest.raises(DecodeError, match="non-minimal var-int"):
        Transaction.from_bytes((1).to_bytes(4, "little") + b"\xfd\x01\x00")
    with pytest.raises(DecodeError, match="unsupported segwit flag 2"):
        Transaction.from_bytes((1).to_bytes(4, "little") + b"\x00\x02")


def _proof() -> ref.AuxPow:
    """A small valid proof (the first the strategy builds)."""
    return find(auxpow_cases(max_height=1), lambda c: True, settings=settings(database=None)).auxpow


def _encodings() -> list[tuple[str, bytes]]:
    return [
        ("transaction", MARATHON),  # segwit: marker, flag, witness
        ("transaction", COORDINATE),
        ("transaction", GENESIS_COINBASE),
        ("header", GENESIS_HEADER),
        ("auxpow", _proof().to_bytes()),
    ]


def _port_decoder(port: Any, kind: str) -> Callable[[bytes], object]:
    return {
        "transaction": port.decode_transaction,
        "header": port.decode_header,
        "auxpow": port.decode_auxpow,
    }[kind]


@pytest.mark.parametrize("name", BUILDS)
def test_every_cut_of_a_real_encoding_is_a_decode_error_naming_what_is_missing(name: str) -> None:
    """Cut at every byte, not at a few drawn offsets: each prefix of real transactions, a header and a
    proof is refused with DecodeError, never an untyped exception (a length read exactly at the end
    of the data included); and bytes left over are refused with how many are left."""
    port = targets.load(name).auxpow
    for kind, data in _encodings():
        decode = _port_decoder(port, kind)
        for cut in range(len(data)):
            assert re.match(
                r"unexpected end of data|vector of \d+ items cannot fit", decode_error(decode, data[:cut])
            )
        assert decode_error(decode, data + b"\x00\x01\x02") == "data not consumed entirely: 3 bytes left"


def decode_error(decode: Callable[[bytes], object], data: bytes) -> str:
    """The message of the port's DecodeError on `data` (any other outcome fails the test); where it
    says decoding stopped (`at byte N`) and how much was left, it says so within the data."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the class is checked by name below
        decode(data)
    assert type(caught.value).__name__ == "DecodeError", f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value)
    for at in re.findall(r"at byte (-?\d+)", message):
        assert 0 <= int(at) <= len(data), f"{message!r}: past the end of {len(data)} bytes"
    for left in re.findall(r"(-?\d+) bytes left", message):
        assert 0 <= int(left) <= len(data), f"{message!r}: {len(data)} bytes in all"
    return message


# A count of inputs in each CompactSize width: one below the width's smallest value (non-minimal, as
# rust-bitcoin and Bitcoin Core refuse it) and the smallest value itself (minimal, then too many
# inputs for the bytes left).
VERSION = (1).to_bytes(4, "little")
COMPACT_SIZE_EDGES = [
    (b"\xfd" + (0xFC).to_bytes(2, "little"), "non-minimal varint"),
    (b"\xfd" + (0xFD).to_bytes(2, "little"), "vector of 253 items cannot fit"),
    (b"\xfe" + (0xFFFF).to_bytes(4, "little"), "non-minimal varint"),
    (b"\xfe" + (0x10000).to_bytes(4, "little"), "vector of 65536 items cannot fit"),
    (b"\xff" + (0xFFFF_FFFF).to_bytes(8, "little"), "non-minimal varint"),
    (b"\xff" + (1 << 32).to_bytes(8, "little"), "vector of 4294967296 items cannot fit"),
]


# Transactions whose vectors fill the bytes left as tightly as each item's smallest size allows:
# inputs with empty scripts (41 bytes each), outputs with empty scripts (9), witness items empty (1).
TIGHT = {
    "20 inputs, empty scriptSigs": Transaction(
        1, tuple(TxIn(OutPoint(bytes(32), i), b"", 0) for i in range(20)), (TxOut(0, b""),), 0
    ),
    "10 outputs, empty scripts": Transaction(
        1, (TxIn(OutPoint(bytes(32), 0), b"", 0),), tuple(TxOut(i, b"") for i in range(10)), 0
    ),
    "a witness of 10 empty items": Transaction(
        2, (TxIn(OutPoint(bytes(32), 0), b"", 0, (b"",) * 10),), (TxOut(0, b""),), 0
    ),
}


@pytest.mark.parametrize("name", BUILDS)
@pytest.mark.parametrize("what", TIGHT)
def test_counts_as_tight_as_the_smallest_items_allow_decode(name: str, what: str) -> None:
    """A count is refused only when its items cannot fit the bytes left at their smallest size: vectors
    of the smallest items, as many as fit, decode and encode back, in the port and the reference."""
    data = TIGHT[what].to_bytes()
    port = targets.load(name).auxpow
    assert port.encode_transaction(port.decode_transaction(data)) == data
    assert Transaction.from_bytes(data).to_bytes() == data


@pytest.mark.parametrize("name", BUILDS)
def test_a_count_one_past_what_fits_is_refused_before_any_item_is_read(name: str) -> None:
    """Just past the limit: one more input or output than the bytes left can hold at their smallest
    size is refused by the count itself (rust-bitcoin's allocation bound), naming the count."""
    port = targets.load(name).auxpow
    for what, at in (("20 inputs, empty scriptSigs", 4), ("10 outputs, empty scripts", 4 + 1 + 41)):
        data = bytearray(TIGHT[what].to_bytes())
        data[at] += 1
        n = data[at]
        assert decode_error(port.decode_transaction, bytes(data)).startswith(
            f"vector of {n} items cannot fit"
        )


@pytest.mark.parametrize("name", BUILDS)
def test_segwit_flag_errors_say_which_rule(name: str) -> None:
    """An unknown segwit flag names the flag; a flag with no witnesses says so (rust-bitcoin's words)."""
    port = targets.load(name).auxpow
    flag_2 = VERSION + b"\x00\x02" + bytes(8)
    assert decode_error(port.decode_transaction, flag_2) == "unsupported segwit flag 2"
    empty = Transaction(1, (TxIn(OutPoint(bytes(32), 0), b"", 0, (b"x",)),), (TxOut(0, b""),), 0).to_bytes()
    no_witness = empty[:-7] + b"\x00" + empty[-4:]  # the one witness stack (01 01 78) emptied
    assert decode_error(port.decode_transaction, no_witness) == "witness flag set but no witnesses present"


@pytest.mark.parametrize("name", BUILDS)
def test_compact_sizes_at_and_just_below_each_width_s_smallest_value(name: str) -> None:
    """Each CompactSize width at its smallest value is minimal (and then read as a count), one below it
    is non-minimal: the limit probed on both sides in all three widths, in the node's decoder."""
    port = targets.load(name).auxpow
    for size, says in COMPACT_SIZE_EDGES:
        assert decode_error(port.decode_transaction, VERSION + size + bytes(8)).startswith(says), size.hex()


@pytest.mark.parametrize("name", BUILDS)
def test_a_chain_branch_longer_than_the_limit_decodes_and_the_check_refuses_it(name: str) -> None:
    """The decoder bounds a count by the bytes left (32 a hash), not by the check's limit: a chain
    branch of 31 or of 100 hashes decodes to itself, and the check refuses it as too long."""
    proof = _proof()
    port = targets.load(name).auxpow
    for n in (31, 100):
        long = attrs.evolve(
            proof, blockchain_branch=MerkleBranch(tuple(bytes([i]) * 32 for i in range(n)), 0)
        )
        data = long.to_bytes()
        assert port.encode_auxpow(port.decode_auxpow(data)) == data == ref.AuxPow.from_bytes(data).to_bytes()
        assert verdict(lambda: port.check(data, bytes(32), 727272)) == "MerkleBranchTooLong"


# --- Issue 14: Namecoin's convention, rule origins, and the decoders' strictness ------------------

NAMECOIN_CHAIN_ID = 1  # Namecoin's nAuxpowChainId


def _namecoin_proof(aux_hash: bytes, h: int, nonce: int, parent_chain_id: int) -> tuple[ref.AuxPow, bytes]:
    """A proof built the way namecoin-core's own unit tests build one (src/test/auxpow_tests.cpp,
    CAuxpowBuilder): a chain branch of h hashes uint256(0..h-1) at getExpectedIndex's slot, the root
    written *reversed* after the magic (buildAuxpowChain returns the root "with reversed endian"),
    size 2^h and the nonce little-endian, pushed in the scriptSig after `2809 2013 OP_2`; the
    coinbase alone in a parent block of base version 5 and chain id `parent_chain_id`."""
    index = ref.expected_index(nonce, NAMECOIN_CHAIN_ID, h)
    branch = MerkleBranch(tuple(i.to_bytes(32, "little") for i in range(h)), index)
    root = branch.evaluate(aux_hash)
    data = ref.MERGED_MINING_MAGIC + root[::-1] + (1 << h).to_bytes(4, "little") + nonce.to_bytes(4, "little")
    script = (
        bytes.fromhex("02f90a02dd0752") + bytes([len(data)]) + data
    )  # CScript() << 2809 << 2013 << OP_2 << data
    coinbase = Transaction(2, (TxIn(NULL_OUTPOINT, script, 0xFFFF_FFFF),), (), 0)
    parent = BlockHeader(5 | parent_chain_id << 16, bytes(32), coinbase.txid, 0, 0, 0)
    return ref.AuxPow(coinbase, bytes(32), MerkleBranch((), 0), branch, parent), root


@pytest.mark.parametrize("h", [1, 3, 30])
def test_a_namecoin_built_proof_is_accepted_under_namecoins_convention(h: int) -> None:
    aux_hash = (12345).to_bytes(32, "little")  # the unit test's hashAux, uint256(12345)
    auxpow, _root = _namecoin_proof(aux_hash, h, nonce=7, parent_chain_id=42)
    assert auxpow.coinbase_txn.inputs[0].script_sig[8:12] == ref.MERGED_MINING_MAGIC
    ref.check(auxpow, aux_hash, NAMECOIN_CHAIN_ID, *ref.NAMECOIN)
    for name in BUILDS:
        targets.load(name).auxpow.check(
            auxpow.to_bytes(), aux_hash, NAMECOIN_CHAIN_ID, "script-sig", "reversed"
        )
    # Alys's own order rejects it, and reversing the aux hash alone does not help with a branch.
    for order_of_aux in (aux_hash, aux_hash[::-1]):
        with pytest.raises(ref.MissingMerkleRoot):
            ref.check(auxpow, order_of_aux, NAMECOIN_CHAIN_ID, "script-sig", "internal")
        for name in BUILDS:
            with pytest.raises(Exception) as err:  # noqa: PT011 - the port's own error classes
                targets.load(name).auxpow.check(auxpow.to_bytes(), order_of_aux, NAMECOIN_CHAIN_ID, "vin")
            assert type(err.value).__name__ in ("MissingMerkleRoot", "WrongIndex", "InvalidMerkleSize")


def test_namecoins_functional_test_framework_proof_is_accepted_under_namecoins_convention() -> None:
    # test/functional/test_framework/auxpow.py constructAuxpow: magic at offset 0 of the scriptSig,
    # then the block hash as getauxblock gives it (display hex, i.e. the internal bytes reversed),
    # size 1, nonce 0; a version-1 coinbase with no outputs; an empty chain branch.
    aux_hash = sha256d(b"an aux block")
    script = ref.MERGED_MINING_MAGIC + aux_hash[::-1] + (1).to_bytes(4, "little") + bytes(4)
    coinbase = Transaction(1, (TxIn(NULL_OUTPOINT, script, 0xFFFF_FFFF),), (), 0)
    parent = BlockHeader(1, bytes(32), coinbase.txid, 0, 0, 0)
    auxpow = ref.AuxPow(coinbase, parent.hash, MerkleBranch((), 0), MerkleBranch((), 0), parent)
    ref.check(auxpow, aux_hash, NAMECOIN_CHAIN_ID, layout="script-sig", root_order="reversed")
    for name in BUILDS:
        targets.load(name).auxpow.check(
            auxpow.to_bytes(), aux_hash, NAMECOIN_CHAIN_ID, "script-sig", "reversed"
        )
    with pytest.raises(ref.MissingMerkleRoot):
        ref.check(auxpow, aux_hash, NAMECOIN_CHAIN_ID, layout="vin")  # the old name: Alys's order


def test_layouts_keep_their_old_names() -> None:
    assert ref.layout_of("vout") == "output-script" and ref.layout_of("vin") == "script-sig"
    with pytest.raises(ValueError, match="unknown layout"):
        ref.layout_of("namecoin")


@pytest.mark.parametrize("name", BUILDS)
def test_an_unknown_layout_or_root_order_is_a_value_error_naming_it_and_the_choices(name: str) -> None:
    """Bad arguments to the check get one clear, typed error that names the bad value and what
    would be valid (the guide's rule for bad input), whatever the proof."""
    port = targets.load(name).auxpow
    case = find(auxpow_cases(max_height=1), lambda c: True, settings=settings(database=None))
    args = (case.auxpow.to_bytes(), case.aux_hash, case.chain_id)
    with pytest.raises(
        ValueError, match=r"unknown coinbase layout 'coinbase'.*'output-script'.*'script-sig'"
    ):
        port.check(*args, "coinbase")
    with pytest.raises(ValueError, match=r"unknown root order 'display'.*'internal'.*'reversed'"):
        port.check(*args, "output-script", "display")


@pytest.mark.parametrize("name", BUILDS)
def test_the_merkle_root_of_no_transactions_is_a_value_error_saying_so(name: str) -> None:
    """A block has at least its coinbase: no txids is bad input, refused with a typed error that says
    what is missing (rust-bitcoin's bitcoin_merkle_root returns None there), never an IndexError."""
    with pytest.raises(ValueError, match=r"^no transactions$"):
        targets.load(name).auxpow.merkle_root([])
    with pytest.raises(ValueError, match="at least one leaf"):
        merkle_root([])


def test_rule_origins_are_recorded_and_said() -> None:
    assert {o.kind for o in ref.NotACoinbase.origins} == {"suite-hardening"}
    assert "suite-hardening" in str(ref.NotACoinbase("two inputs"))
    assert {o.kind for o in ref.WrongIndex.origins} == {"node", "namecoin"}
    assert "app/src/auxpow.rs" in str(ref.WrongIndex("x")) and "auxpow.cpp" in str(ref.WrongIndex("x"))
    assert {o.kind for o in ref.CoinbaseInvalidOutputs.origins} == {"node"}
    assert {o.kind for o in ref.WrongBits.origins} == {"suite-hardening"}
    assert "bitcoin-consensus" in {o.kind for o in ref.InvalidPow.origins}


V1 = (1).to_bytes(4, "little")
LEGACY = Transaction(1, (TxIn(NULL_OUTPOINT, b"\x51", 0xFFFF_FFFF),), (TxOut(0, b""),), 0)
_IN = bytes(32) + b"\xff" * 4 + b"\x01\x51" + b"\xff" * 4  # the input above
_OUT = bytes(8) + b"\x00"


@pytest.mark.parametrize(
    ("data", "rule", "kinds"),
    [
        # Bitcoin Core ReadCompactSize "non-canonical ReadCompactSize()", rust-bitcoin NonMinimalVarInt
        (
            V1 + b"\xfd\x01\x00" + _IN + b"\x01" + _OUT + bytes(4),
            "non-canonical-compact-size",
            {"bitcoin-core", "rust-bitcoin"},
        ),
        (
            V1 + b"\x01" + _IN + b"\xfe\x01\x00\x00\x00" + _OUT + bytes(4),
            "non-canonical-compact-size",
            {"bitcoin-core", "rust-bitcoin"},
        ),
        (
            V1 + b"\x01" + bytes(32) + b"\xff" * 4 + b"\xff\x01" + bytes(7) + b"\x51",
            "non-canonical-compact-size",
            {"bitcoin-core", "rust-bitcoin"},
        ),
        # Core: "ReadCompactSize(): size too large" above MAX_SIZE, whatever follows
        (V1 + b"\xfe\x01\x00\x00\x02" + _IN, "size-too-large", {"bitcoin-core"}),
        (V1 + b"\xff" + (2**32).to_bytes(8, "little"), "size-too-large", {"bitcoin-core"}),
        # MAX_SIZE itself is allowed by the range check; the bytes are not there
        (V1 + b"\xfe\x00\x00\x00\x02" + _IN, "count-exceeds-data", {"bitcoin-core", "rust-bitcoin"}),
        # rust-bitcoin: a script of more than MAX_VEC_SIZE bytes is OversizedVectorAllocation
        (
            V1 + b"\x01" + bytes(32) + b"\xff" * 4 + b"\xfe" + (4_000_001).to_bytes(4, "little"),
            "oversized-vector",
            {"rust-bitcoin"},
        ),
        # Core "Unknown transaction optional data", rust-bitcoin UnsupportedSegwitFlag
        (
            V1 + b"\x00\x02\x01" + _IN + b"\x01" + _OUT + b"\x00" + bytes(4),
            "unknown-segwit-flag",
            {"bitcoin-core", "rust-bitcoin"},
        ),
        # Core "Superfluous witness record"; rust-bitcoin only with inputs
        (
            V1 + b"\x00\x01\x01" + _IN + b"\x01" + _OUT + b"\x00" + bytes(4),
            "superfluous-witness",
            {"bitcoin-core", "rust-bitcoin"},
        ),
        (V1 + b"\x00\x01\x00\x01" + _OUT + bytes(4), "superfluous-witness-no-inputs", {"bitcoin-core"}),
        (LEGACY.to_bytes() + b"\x00", "trailing-bytes", {"bitcoin-core", "rust-bitcoin"}),
        (LEGACY.to_bytes()[:-1], "truncated", {"bitcoin-core", "rust-bitcoin"}),
    ],
    ids=[
        "fd-for-1",
        "fe-for-1",
        "ff-script-length",
        "count-max-size-plus-1",
        "count-2^32",
        "count-max-size",
        "script-over-max-vec",
        "flag-2",
        "superfluous-witness",
        "superfluous-no-inputs",
        "trailing",
        "truncated",
    ],
)
def test_transaction_decoding_is_as_strict_as_bitcoin_core(data: bytes, rule: str, kinds: set[str]) -> None:
    assert LEGACY.to_bytes()[4:] == b"\x01" + _IN + b"\x01" + _OUT + bytes(4)
    with pytest.raises(DecodeError) as err:
        Transaction.from_bytes(data)
    assert err.value.rule == rule
    assert {o.kind for o in err.value.origins} == kinds
    assert rule in str(err.value)
    for name in BUILDS:
        port = targets.load(name).auxpow
        if rule in CORE_ONLY_RULES:  # rust-bitcoin reads it: the port must give the correct value
            assert port.encode_transaction(port.decode_transaction(data)) == data
        else:
            with pytest.raises(Exception) as got:  # noqa: PT011 - the port's own DecodeError class
                port.decode_transaction(data)
            assert type(got.value).__name__ == "DecodeError"


def test_branch_of_2_to_the_32_hashes_is_refused_by_every_auxpow_decoder() -> None:
    valid = _auxpow_over(Transaction.from_bytes(COORDINATE)).to_bytes()
    at = len(COORDINATE) + 32 + 5  # after the coinbase, block hash and coinbase branch (0 hashes, mask)
    assert valid[at] == 0  # the chain branch's length
    bad = valid[:at] + b"\xff" + (2**32).to_bytes(8, "little") + valid[at + 1 :]
    with pytest.raises(DecodeError, match="size-too-large"):
        ref.AuxPow.from_bytes(bad)
    for name in BUILDS:
        with pytest.raises(Exception) as got:  # noqa: PT011
            targets.load(name).auxpow.check(bad, bytes(32), 727272)
        assert type(got.value).__name__ == "DecodeError"


def test_retarget_rules_record_their_origin() -> None:
    kinds = {rule: {o.kind for o in origins} for rule, origins in retarget.RULE_ORIGINS.items()}
    # The three places the secure reference departs from auxpow_miner.rs are the suite's hardening.
    for rule in ("lower-floor", "ratio-one-keeps-bits", "no-zero-target"):
        assert "suite-hardening" in kinds[rule] and "node" not in kinds[rule]
    for rule in ("fires-at-interval", "ratio-rounding", "upper-clamp", "target-decoding"):
        assert kinds[rule] == {"node"}
    assert "auxpow_miner.rs" in retarget.origin_of("upper-clamp")
