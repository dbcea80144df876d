"""EVM transactions in an Alys payload: legacy (EIP-155) and EIP-1559, RLP-encoded, secp256k1-signed.

Encoding with `rlp` (pyrlp), keccak from `eth-hash`, signing with `cryptography` (deterministic
RFC 6979 ECDSA, normalized to low s as EIP-2 requires), sender recovery with `eth-keys`. None of
this is our own cryptography or encoder. Bad bytes and bad signatures raise typed errors.

Decoding is at least as strict as the strictest Ethereum client (geth's rlp package, reth's
alloy-rlp), one rule per check, read item by item with pyrlp's `consume_length_prefix` (which
refuses a wrapped single byte, a long form below 56 and a length with a leading zero: geth
ErrCanonSize, alloy NonCanonicalSingleByte/NonCanonicalSize/LeadingZero) and typed by the
transaction's schema, so nesting never goes deeper than the schema and nothing recurses:
* a list where a string belongs, or a string where a list belongs: geth "rlp: expected input
  string or byte" / "expected input list", alloy UnexpectedList/UnexpectedString;
* an integer with a leading zero byte (so 0 is `80`, never `00`): geth ErrCanonInt, alloy LeadingZero;
* an integer wider than its type: u64 for nonce and gas (geth, alloy), u64 for legacy v (reth's
  signature decoding), 256 bits for the rest (alloy U256 Overflow; geth's pool refuses fee caps
  above 256 bits);
* items that overrun their list or the input, and anything after the transaction: geth
  ErrValueTooLarge / "input contains more than one value", alloy InputTooShort / UnexpectedLength.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from attrs import field, frozen
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from eth_hash.auto import keccak
from eth_keys.main import lazy_key_api as keys  # what `from eth_keys import keys` gives
from rlp.sedes import Binary, CountableList, List, big_endian_int, binary

from alys_pbt.models.hexrepr import pretty_as_repr, short_hex, short_hex_items

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_TX_BYTES = 128 * 1024  # geth's txMaxSize: bounds what we even try to decode
address = Binary.fixed_length(20, allow_empty=True)
access_list = CountableList(List([Binary.fixed_length(20), CountableList(Binary.fixed_length(32))]))
ACCESS_LIST = access_list  # the sedes, under a name no record field shadows


class TransactionError(ValueError):
    """An EVM transaction a node must refuse."""


class MalformedRlp(TransactionError):
    """The bytes are not a well-formed transaction encoding."""


class BadSignature(TransactionError):
    """r or s out of range, s in the upper half (EIP-2), or no public key recovers."""


@frozen
class LegacyTransaction:
    nonce: int
    gas_price: int
    gas: int
    to: bytes = field(repr=short_hex)  # 20 bytes, or empty for a contract creation
    value: int
    data: bytes = field(repr=short_hex)
    v: int
    r: int
    s: int
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr

    FIELDS = (big_endian_int, big_endian_int, big_endian_int, address, big_endian_int, binary)

    @property
    def chain_id(self) -> int | None:
        return (self.v - 35) // 2 if self.v >= 35 else None

    def signing_hash(self) -> bytes:
        head = [self.nonce, self.gas_price, self.gas, self.to, self.value, self.data]
        if self.chain_id is None:
            return keccak(rlp.encode(head, sedes=List(self.FIELDS)))
        return keccak(
            rlp.encode(
                [*head, self.chain_id, 0, 0],
                sedes=List([*self.FIELDS, big_endian_int, big_endian_int, big_endian_int]),
            )
        )

    @property
    def y_parity(self) -> int:
        return self.v - 27 if self.chain_id is None else (self.v - 35) % 2

    def to_bytes(self) -> bytes:
        fields = [
            self.nonce,
            self.gas_price,
            self.gas,
            self.to,
            self.value,
            self.data,
            self.v,
            self.r,
            self.s,
        ]
        encoded: bytes = rlp.encode(
            fields, sedes=List([*self.FIELDS, big_endian_int, big_endian_int, big_endian_int])
        )
        return encoded


@frozen
class DynamicFeeTransaction:
    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    gas: int
    to: bytes = field(repr=short_hex)
    value: int
    data: bytes = field(repr=short_hex)
    access_list: tuple[tuple[bytes, tuple[bytes, ...]], ...] = field(repr=short_hex_items)
    y_parity: int
    r: int
    s: int
    _repr_pretty_ = pretty_as_repr  # Hypothesis prints the short repr

    TYPE = 2
    FIELDS = (big_endian_int,) * 5 + (address, big_endian_int, binary, ACCESS_LIST)

    def _payload(self) -> list[Any]:
        return [
            self.chain_id,
            self.nonce,
            self.max_priority_fee_per_gas,
            self.max_fee_per_gas,
            self.gas,
            self.to,
            self.value,
            self.data,
            [[a, list(k)] for a, k in self.access_list],
        ]

    def signing_hash(self) -> bytes:
        return keccak(bytes([self.TYPE]) + rlp.encode(self._payload(), sedes=List(self.FIELDS)))

    def to_bytes(self) -> bytes:
        sedes = List([*self.FIELDS, big_endian_int, big_endian_int, big_endian_int])
        encoded: bytes = rlp.encode([*self._payload(), self.y_parity, self.r, self.s], sedes=sedes)
        return bytes([self.TYPE]) + encoded


EvmTransaction = LegacyTransaction | DynamicFeeTransaction


class _Fields:
    """The items of one RLP list, read in order, each as the type the schema gives it."""

    def __init__(self, data: bytes, start: int, end: int, what: str) -> None:
        self.data, self.at, self.end, self.what = data, start, end, what

    def _next(self, name: str) -> tuple[type, int, int]:
        if self.at >= self.end:
            raise MalformedRlp(f"{self.what}: {name} is missing")
        try:
            _, kind, length, start = rlp.codec.consume_length_prefix(self.data, self.at)
        except IndexError:
            raise MalformedRlp(f"{self.what}: {name}: the length prefix is cut off") from None
        except rlp.exceptions.DecodingError as err:
            raise MalformedRlp(f"{self.what}: {name}: non-canonical length prefix ({err})") from None
        if start + length > self.end:
            raise MalformedRlp(f"{self.what}: {name} runs past its list")
        self.at = start + length
        return kind, start, length

    def string(self, name: str) -> bytes:
        kind, start, length = self._next(name)
        if kind is not bytes:
            raise MalformedRlp(f"{self.what}: {name} is a list where a string belongs")
        return self.data[start : start + length]

    def integer(self, name: str, bits: int = 256) -> int:
        raw = self.string(name)
        if raw[:1] == b"\x00":
            raise MalformedRlp(f"{self.what}: {name} has leading zero bytes (non-canonical integer)")
        if len(raw) * 8 > bits:
            raise MalformedRlp(f"{self.what}: {name} of {len(raw)} bytes does not fit {bits} bits")
        return int.from_bytes(raw, "big")

    def sized(self, name: str, sizes: tuple[int, ...]) -> bytes:
        raw = self.string(name)
        if len(raw) not in sizes:
            expected = " or ".join(map(str, sizes))
            raise MalformedRlp(f"{self.what}: {name} is {len(raw)} bytes, expected {expected}")
        return raw

    def items(self, name: str) -> _Fields:
        kind, start, length = self._next(name)
        if kind is not list:
            raise MalformedRlp(f"{self.what}: {name} is a string where a list belongs")
        return _Fields(self.data, start, start + length, name)

    def more(self) -> bool:
        return self.at < self.end

    def finish(self) -> None:
        if self.more():
            raise MalformedRlp(f"{self.what}: {self.end - self.at} bytes after the last field")


def _access_list(fields: _Fields) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    entries, accesses = [], fields.items("access_list")
    while accesses.more():
        entry = accesses.items("access list entry")
        address_ = entry.sized("address", (20,))
        keys, slots = entry.items("storage keys"), []
        while keys.more():
            slots.append(keys.sized("storage key", (32,)))
        entry.finish()
        entries.append((address_, tuple(slots)))
    return tuple(entries)


def decode(data: bytes) -> EvmTransaction:
    """A legacy (RLP list) or EIP-1559 (0x02 || RLP) transaction, or MalformedRlp saying why."""
    if len(data) > MAX_TX_BYTES:
        raise MalformedRlp(f"{len(data)} bytes is over the {MAX_TX_BYTES}-byte limit")
    if not data:
        raise MalformedRlp("empty transaction")
    if data[0] == DynamicFeeTransaction.TYPE:
        envelope = _Fields(data, 1, len(data), "EIP-1559 transaction")
        f = envelope.items("EIP-1559 transaction")
        envelope.finish()
        tx: EvmTransaction = DynamicFeeTransaction(
            f.integer("chain_id"),
            f.integer("nonce", 64),
            f.integer("max_priority_fee_per_gas"),
            f.integer("max_fee_per_gas"),
            f.integer("gas", 64),
            f.sized("to", (0, 20)),
            f.integer("value"),
            f.string("data"),
            _access_list(f),
            f.integer("y_parity"),
            f.integer("r"),
            f.integer("s"),
        )
        f.finish()
        if tx.y_parity not in (0, 1):
            raise BadSignature(f"y parity {tx.y_parity}")
        return tx
    if data[0] >= 0xC0:
        envelope = _Fields(data, 0, len(data), "legacy transaction")
        f = envelope.items("legacy transaction")
        envelope.finish()
        tx = LegacyTransaction(
            f.integer("nonce", 64),
            f.integer("gas_price"),
            f.integer("gas", 64),
            f.sized("to", (0, 20)),
            f.integer("value"),
            f.string("data"),
            f.integer("v", 64),
            f.integer("r"),
            f.integer("s"),
        )
        f.finish()
        return tx
    raise MalformedRlp(f"unknown transaction type {data[0]:#04x}")


def _normalize(r: int, s: int) -> tuple[int, int]:
    return (r, s) if s <= SECP256K1_N // 2 else (r, SECP256K1_N - s)


def sign(tx: EvmTransaction, secret: int) -> EvmTransaction:
    """`tx` signed by `secret` (deterministic ECDSA, low s, the matching recovery id)."""
    key = ec.derive_private_key(secret, ec.SECP256K1())
    digest = tx.signing_hash()
    der = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True))
    r, s = _normalize(*utils.decode_dss_signature(der))
    expected = address_of(secret)
    for parity in (0, 1):
        candidate = _with_signature(tx, parity, r, s)
        if sender(candidate) == expected:
            return candidate
    raise AssertionError("no recovery id reproduces the signer")  # impossible for a valid signature


def _with_signature(tx: EvmTransaction, parity: int, r: int, s: int) -> EvmTransaction:
    import attrs

    if isinstance(tx, DynamicFeeTransaction):
        return attrs.evolve(tx, y_parity=parity, r=r, s=s)
    v = parity + (27 if tx.chain_id is None else 35 + 2 * tx.chain_id)
    return attrs.evolve(tx, v=v, r=r, s=s)


def with_chain_id(tx: LegacyTransaction, chain_id: int) -> LegacyTransaction:
    """An unsigned EIP-155 legacy transaction for `chain_id` (v set, r = s = 0)."""
    import attrs

    return attrs.evolve(tx, v=35 + 2 * chain_id, r=0, s=0)


def sender(tx: EvmTransaction) -> bytes:
    """The 20-byte address that signed `tx`, or BadSignature."""
    if not (0 < tx.r < SECP256K1_N and 0 < tx.s <= SECP256K1_N // 2):
        raise BadSignature(f"r or s out of range (EIP-2 low s): r={tx.r:#x} s={tx.s:#x}")
    if tx.y_parity not in (0, 1):
        raise BadSignature(f"recovery id {tx.y_parity}")
    try:
        signature = keys.Signature(vrs=(tx.y_parity, tx.r, tx.s))
        public = signature.recover_public_key_from_msg_hash(tx.signing_hash())
    except Exception as err:  # noqa: BLE001 - eth-keys raises BadSignature/ValidationError variants
        raise BadSignature(f"no public key recovers: {err}") from None
    return public.to_canonical_address()


def address_of(secret: int) -> bytes:
    return keys.PrivateKey(secret.to_bytes(32, "big")).public_key.to_canonical_address()


def effective_tip(tx: EvmTransaction, base_fee: int) -> int:
    """Wei per gas the fee recipient earns: min(tip cap, fee cap - base fee); legacy: gas price."""
    if isinstance(tx, DynamicFeeTransaction):
        return max(min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee), 0)
    return max(tx.gas_price - base_fee, 0)


def block_fees(transactions: Sequence[bytes], base_fee: int) -> int:
    """The simulated execution layer's fees for a payload: every transaction uses all its gas."""
    total = 0
    for raw in transactions:
        try:
            tx = decode(raw)
        except TransactionError:
            continue  # the EL would have refused it; it earns nothing
        total += tx.gas * effective_tip(tx, base_fee)
    return total
