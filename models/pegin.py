"""Peg-ins and minting (crates/federation, app/src/chain.rs, alys-rules.md §4.1–4.3): secure rule.

The federation address is P2TR with the BIP341 NUMS internal key (key path disabled) and one
tapleaf `<pk0> CHECKSIG <pk1> CHECKSIGADD ... <t> GREATERTHANOREQUAL`, t = ceil(2n/3). A peg-in
pays it and names the EVM recipient in an OP_RETURN: 20 raw bytes, or the 40 hex digits as ASCII
with or without "0x". Minting uses Capella withdrawals: 1 sat = 10 Gwei.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

import coincurve
from attrs import field, frozen

from alys_pbt.models.bitcoin import Transaction, varint
from alys_pbt.models.hexrepr import pretty_as_repr, short_hex

NUMS = bytes.fromhex("50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0")
GWEI_PER_SAT = 10
MAX_PEGIN_ADDRESSES = 16  # MAINNET_MAX_WITHDRAWALS
REQUIRED_CONFIRMATIONS = 144
OP_RETURN, OP_CHECKSIG, OP_CHECKSIGADD, OP_GREATERTHANOREQUAL = 0x6A, 0xAC, 0xBA, 0xA2


class PegInError(ValueError):
    """A peg-in a validator must refuse."""


class NotAPegin(PegInError):
    """No federation output, or no OP_RETURN that names an EVM address."""


def tagged_hash(tag: str, data: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def _push(data: bytes) -> bytes:
    assert len(data) < 0x4C
    return bytes([len(data)]) + data


def federation_tapscript(xonly_keys: Sequence[bytes]) -> bytes:
    threshold = (2 * len(xonly_keys) + 2) // 3
    script = b""
    for i, key in enumerate(xonly_keys):
        script += _push(key) + bytes([OP_CHECKSIG if i == 0 else OP_CHECKSIGADD])
    return script + bytes([0x50 + threshold, OP_GREATERTHANOREQUAL])


def federation_script_pubkey(xonly_keys: Sequence[bytes]) -> bytes:
    """The P2TR scriptPubKey of the federation: OP_1 <tweaked NUMS key>."""
    script = federation_tapscript(xonly_keys)
    leaf = tagged_hash("TapLeaf", bytes([0xC0]) + varint(len(script)) + script)
    tweak = tagged_hash("TapTweak", NUMS + leaf)
    output_key = coincurve.PublicKeyXOnly(NUMS)
    output_key.tweak_add(tweak)
    return b"\x51\x20" + output_key.format()


def script_pushes(script: bytes) -> list[bytes] | None:
    """The data pushes of a script made only of pushes after its first byte; None otherwise."""
    pushes, i = [], 1
    while i < len(script):
        op = script[i]
        if 0 < op < 0x4C:
            size, i = op, i + 1
        elif op == 0x4C and i + 1 < len(script):
            size, i = script[i + 1], i + 2
        elif op == 0x4D and i + 2 < len(script):
            size, i = int.from_bytes(script[i + 1 : i + 3], "little"), i + 3
        else:
            return None
        if i + size > len(script):
            return None
        pushes.append(script[i : i + size])
        i += size
    return pushes


_HEX_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")


def address_in(payload: bytes) -> bytes | None:
    """The EVM address a peg-in OP_RETURN payload names: 20 raw bytes, or 40 hex digits (0x optional)."""
    if len(payload) == 20:
        return payload
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError:
        return None
    return bytes.fromhex(text[-40:]) if _HEX_ADDRESS.fullmatch(text) else None


@frozen
class PegIn:
    amount: int  # satoshis
    evm_address: bytes = field(repr=short_hex)
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr


def pegin_info(tx: Transaction, federation_spk: bytes) -> PegIn:
    """Amount of the first federation output, recipient from the first OP_RETURN that names one."""
    amount = next((o.value for o in tx.outputs if o.script_pubkey == federation_spk), None)
    if amount is None:
        raise NotAPegin("no output pays the federation")
    for output in tx.outputs:
        script = output.script_pubkey
        if script[:1] == bytes([OP_RETURN]):
            pushes = script_pushes(script)
            if pushes:
                address = address_in(pushes[-1])
                if address is not None:
                    return PegIn(amount, address)
    raise NotAPegin("no OP_RETURN names an EVM address")


def merge_pegins(pegins: Iterable[tuple[bytes, PegIn]]) -> tuple[list[bytes], dict[bytes, int]]:
    """fill_pegins: the txids a block includes and the sats per address, at most 16 addresses
    (later peg-ins to an address already included still merge)."""
    included: list[bytes] = []
    per_address: dict[bytes, int] = {}
    for txid, pegin in pegins:
        if pegin.evm_address not in per_address and len(per_address) == MAX_PEGIN_ADDRESSES:
            continue
        per_address[pegin.evm_address] = per_address.get(pegin.evm_address, 0) + pegin.amount
        included.append(txid)
    return included, per_address


def fee_split(fees_wei: int, miner: bytes, federation: Sequence[bytes]) -> list[tuple[bytes, int]]:
    """The parent's accumulated fees: 80% to the miner, the rest evenly over the federation
    (integer division; the remainder is not minted). Amounts in wei."""
    if fees_wei == 0:
        return []
    to_miner = fees_wei * 80 // 100
    each = (fees_wei - to_miner) // len(federation)
    return [(miner, to_miner)] + [(address, each) for address in federation]


def expected_withdrawals(
    fee_payments: Iterable[tuple[bytes, int]], pegins_sats: dict[bytes, int]
) -> dict[bytes, int]:
    """Gwei owed per address: fee payments (wei, floored to Gwei) plus peg-ins, summed per address."""
    owed: dict[bytes, int] = {}
    for address, wei in fee_payments:
        owed[address] = owed.get(address, 0) + wei // 10**9
    for address, sats in pegins_sats.items():
        owed[address] = owed.get(address, 0) + sats * GWEI_PER_SAT
    return owed


# The federation of the chains the suite builds (secret keys 1, 2 and 3, as x-only keys): one
# definition for the strategies, machines, properties and vectors; peg-ins to it are valid.
FEDERATION_XONLY = tuple(
    coincurve.PublicKey.from_valid_secret((i + 1).to_bytes(32, "big")).format()[1:] for i in range(3)
)
FEDERATION_SPK = federation_script_pubkey(FEDERATION_XONLY)
