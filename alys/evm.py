"""Transaction decoding and sender recovery as the node's stack gets it (RLP, libsecp256k1).

A second implementation beside models/evm.py: generic RLP decoding with canonical-integer
checks, and public-key recovery through coincurve (libsecp256k1) instead of eth-keys.
"""

from __future__ import annotations

import coincurve
import rlp
from eth_hash.auto import keccak

from alys.variant import Variant

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class MalformedRlp(ValueError):
    pass


class BadSignature(ValueError):
    pass


def _int(b: object) -> int:
    if not isinstance(b, bytes) or (b[:1] == b"\x00"):
        raise MalformedRlp("integer field is a list or has leading zeros")
    return int.from_bytes(b, "big")


def transaction_sender(raw: bytes, variant: Variant) -> bytes:
    """The signer's 20-byte address, or MalformedRlp / BadSignature."""
    if not raw or len(raw) > 128 * 1024:
        raise MalformedRlp("empty or oversized")
    try:
        if raw[0] == 2:
            fields = rlp.decode(raw[1:], strict=True)
            if not isinstance(fields, list) or len(fields) != 12:
                raise MalformedRlp("a type-2 transaction has 12 fields")
            parity, r, s = (_int(x) for x in fields[9:])
            digest = keccak(b"\x02" + rlp.encode(fields[:9]))
        elif raw[0] >= 0xC0:
            fields = rlp.decode(raw, strict=True)
            if not isinstance(fields, list) or len(fields) != 9:
                raise MalformedRlp("a legacy transaction has 9 fields")
            v, r, s = (_int(x) for x in fields[6:])
            chain_id = (v - 35) // 2 if v >= 35 else None
            if chain_id is None or variant.on("evm-legacy-ignores-chain-id"):
                digest = keccak(rlp.encode(fields[:6]))
            else:
                digest = keccak(rlp.encode(fields[:6] + [chain_id, 0, 0]))
            parity = v - 27 if chain_id is None else (v - 35) % 2
        else:
            raise MalformedRlp(f"unknown type {raw[0]:#04x}")
        to_index, list_index = (5, 8) if raw[0] == 2 else (3, None)
        for i, f in enumerate(fields):
            if i != list_index and isinstance(f, list):
                raise MalformedRlp("a scalar field is a list")
        if len(fields[to_index]) not in (0, 20):
            raise MalformedRlp("`to` is neither empty nor 20 bytes")
        for numeric in [i for i in range(len(fields) - 3) if i not in (to_index, to_index + 2, list_index)]:
            _int(fields[numeric])
        if list_index is not None:
            accesses = fields[list_index]
            if not isinstance(accesses, list) or any(
                not isinstance(e, list) or len(e) != 2 or not isinstance(e[0], bytes) or len(e[0]) != 20
                or not isinstance(e[1], list) or any(not isinstance(k, bytes) or len(k) != 32 for k in e[1])
                for e in accesses
            ):
                raise MalformedRlp("malformed access list")
    except (rlp.exceptions.DecodingError, rlp.exceptions.DeserializationError) as err:
        raise MalformedRlp(str(err)) from None
    high_s_ok = variant.on("evm-accepts-high-s")
    if not (0 < r < N and 0 < s < N and (high_s_ok or s <= N // 2)) or parity not in (0, 1):
        raise BadSignature("r, s or recovery id out of range")
    try:
        key = coincurve.PublicKey.from_signature_and_message(r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([parity]), digest, hasher=None)
    except Exception as err:  # libsecp256k1 refuses
        raise BadSignature(str(err)) from None
    return keccak(key.format(compressed=False)[1:])[12:]
