"""Known answers and structure for blocks: Aura, keys, the signing root, peg-ins and fees."""

from __future__ import annotations

import hashlib

import attrs
import coincurve
import msgpack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from alys_pbt.models import blocks, evm, pegin
from alys_pbt.models.bitcoin import Transaction, TxOut
from alys_pbt.strategies.blocks import pegin_transaction

# --- §7.5 and §7.6 ------------------------------------------------------------------------------------


def test_aura_slot_and_author_vectors() -> None:
    slot = blocks.slot_from_timestamp(1703256299459, 5000)
    assert slot == 340651259
    assert blocks.slot_author(slot, [1, 2, 3, 4, 5, 6]) == 6


def test_secp256k1_key_1_in_cryptography_coincurve_and_eth_keys() -> None:
    expected = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    key = ec.derive_private_key(1, ec.SECP256K1()).public_key()
    assert (
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint).hex()
        == expected
    )
    assert coincurve.PublicKey.from_valid_secret((1).to_bytes(32, "big")).format().hex() == expected
    assert evm.address_of(1).hex() == "7e5f4552091a69125d5dfcb7b8c2659029395bdf"


def test_our_signatures_are_libsecp256k1_signatures() -> None:
    tx = evm.with_chain_id(evm.LegacyTransaction(9, 20 * 10**9, 21000, b"\x35" * 20, 10**18, b"", 0, 0, 0), 1)
    signed = evm.sign(tx, 1)
    reference = coincurve.PrivateKey((1).to_bytes(32, "big")).sign_recoverable(tx.signing_hash(), hasher=None)
    assert (signed.r, signed.s, signed.y_parity) == (
        int.from_bytes(reference[:32], "big"),
        int.from_bytes(reference[32:64], "big"),
        reference[64],
    )
    assert signed.v == 37  # EIP-155 with chain id 1


# --- the signing root's structure (§2.2; no repository vector fixes the bytes) ----------------------


def test_tree_hash_merkle_root_cases() -> None:
    assert blocks.merkle_root(b"") == bytes(32)
    assert blocks.merkle_root(b"\x01\x02") == b"\x01\x02" + bytes(30)  # one chunk: padded, not hashed
    a, b = b"a" * 32, b"b" * 32
    assert blocks.merkle_root(a + b) == hashlib.sha256(a + b).digest()
    c = b"c" * 5
    left, right = hashlib.sha256(a + b).digest(), hashlib.sha256(c.ljust(32, b"\0") + bytes(32)).digest()
    assert blocks.merkle_root(a + b + c) == hashlib.sha256(left + right).digest()  # padded to 4 leaves


def _block() -> blocks.ConsensusBlock:
    payload = blocks.ExecutionPayload(
        b"\x01" * 32,
        b"\x02" * 20,
        b"\x03" * 32,
        b"\x04" * 32,
        bytes(256),
        b"\x05" * 32,
        7,
        30_000_000,
        21_000,
        35,
        b"",
        7,
        b"\x06" * 32,
    )
    return blocks.ConsensusBlock(b"\x07" * 32, 7, None, payload)


def test_block_serializes_as_a_seven_array_in_declaration_order() -> None:
    value = msgpack.unpackb(blocks.to_msgpack(_block()), raw=False)
    assert len(value) == 7 and value[0] == "0x" + "07" * 32 and value[1] == 7 and value[2] is None
    payload = value[3]
    assert len(payload) == 15 and payload[6] == "7" and payload[11] == "7"  # quoted u64 / u256
    assert payload[0] == "0x" + "01" * 32 and payload[4] == "0x" + "00" * 256


def test_the_signing_root_is_the_merkle_root_of_the_msgpack_bytes() -> None:
    block = _block()
    assert block.signing_root() == blocks.merkle_root(blocks.to_msgpack(block))
    assert attrs.evolve(block, slot=8).signing_root() != block.signing_root()


# --- peg-ins and fees (§4.1–4.3) -----------------------------------------------------------------------

FED = pegin.federation_script_pubkey(
    [coincurve.PublicKey.from_valid_secret((i + 1).to_bytes(32, "big")).format()[1:] for i in range(3)]
)


def test_federation_output_is_p2tr_with_a_2_of_3_tapscript() -> None:
    keys = [bytes([i]) * 32 for i in range(1, 4)]
    script = pegin.federation_tapscript(keys)
    assert (
        script[0] == 32 and script[33] == 0xAC and script[67] == 0xBA and script[-2:] == bytes([0x52, 0xA2])
    )
    assert FED[:2] == b"\x51\x20" and len(FED) == 34
    assert (
        len(pegin.federation_tapscript([bytes([i]) * 32 for i in range(1, 16)])) > 253
    )  # a real CompactSize


@pytest.mark.parametrize("how", ["raw", "hex", "0xhex"])
def test_pegin_address_forms(how: str) -> None:
    address = b"A" * 20  # valid UTF-8 raw bytes: the secure rule accepts them too
    assert pegin.pegin_info(pegin_transaction(FED, 5000, address, how=how), FED) == pegin.PegIn(5000, address)


def test_first_federation_output_and_first_parsable_op_return_win() -> None:
    tx = pegin_transaction(FED, 100, b"\x01" * 20)
    tx = attrs.evolve(
        tx,
        outputs=(
            TxOut(0, b"\x6a\x03abc"),
            tx.outputs[0],
            TxOut(7, FED),
            tx.outputs[1],
            TxOut(0, b"\x6a\x14" + b"\x02" * 20),
        ),
    )
    assert pegin.pegin_info(tx, FED) == pegin.PegIn(100, b"\x01" * 20)
    with pytest.raises(pegin.NotAPegin):
        pegin.pegin_info(Transaction(2, (), (TxOut(5, b"\x51"),), 0), FED)


def test_pegins_merge_per_address_up_to_16_addresses() -> None:
    pegins = [(bytes([i]) * 32, pegin.PegIn(10, bytes([i % 17]) * 20)) for i in range(20)]
    included, per_address = pegin.merge_pegins(pegins)
    assert len(per_address) == 16
    assert per_address[bytes([0]) * 20] == 20  # 0 and 17 share an address; 17 is still merged
    assert bytes([16]) * 32 not in included


def test_fee_split_80_20_with_integer_division_and_sats_to_gwei() -> None:
    split = pegin.fee_split(1000, b"m" * 20, [b"a" * 20, b"b" * 20, b"c" * 20])
    assert split == [(b"m" * 20, 800), (b"a" * 20, 66), (b"b" * 20, 66), (b"c" * 20, 66)]  # 2 wei unminted
    assert pegin.fee_split(0, b"m" * 20, [b"a" * 20]) == []
    assert pegin.expected_withdrawals([], {b"x" * 20: 3}) == {b"x" * 20: 30}  # 1 sat = 10 Gwei
