"""Transaction decoding, fees and sender recovery as the node's execution stack gets them.

A second implementation beside models/evm.py, written the way alloy-rlp (reth) decodes: a typed
reader that reads one length header at a time and asks for exactly the type each field has, so a
list where a string belongs fails at once and nesting never goes deeper than the schema (no
recursion at all). Canonical forms as alloy-rlp and geth's rlp package require them:
* a single byte below 0x80 is never wrapped (`81 05`): alloy `NonCanonicalSingleByte`, geth ErrCanonSize;
* a length below 56 never takes the long form, a long length never starts with 0x00: alloy
  `NonCanonicalSize`/`LeadingZero`, geth ErrCanonSize;
* an integer has no leading zero byte (so 0 is `80`, never `00`): alloy `LeadingZero`, geth ErrCanonInt;
* an integer fits its type: u64 for nonce, gas and legacy v (reth decodes v as u64), U256 for
  the rest (alloy `Overflow`, geth "input string too long for uint64");
* a list's items end exactly where its header says, and nothing follows the transaction.
Public-key recovery through coincurve (libsecp256k1) instead of eth-keys.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import coincurve
from attrs import frozen
from eth_hash.auto import keccak

from alys.variant import Variant

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_TX_BYTES = 128 * 1024  # geth txMaxSize (4 slots of 32 KiB): nothing larger is decoded
SENDER_CACHE_SIZE = 4096  # recovered senders kept (libsecp256k1 recovery is the slow step)


class MalformedRlp(ValueError):
    pass


class BadSignature(ValueError):
    pass


class _Items:
    """The items of one RLP list (or of the whole input), read in order with their types."""

    def __init__(self, buf: bytes, at: int, end: int, lax: bool = False) -> None:
        self.buf, self.at, self.end, self.lax = buf, at, end, lax  # lax: the seeded leading-zero mutant

    def _header(self) -> tuple[bool, int, int]:
        """alloy-rlp Header::decode: (is a list, payload start, payload length), canonical only."""
        buf, at = self.buf, self.at
        if at >= self.end:
            raise MalformedRlp("a field is missing (the list ends early)")
        b = buf[at]
        if b < 0x80:
            self.at = at + 1
            return False, at, 1
        if b < 0xB8 or 0xC0 <= b < 0xF8:
            is_list, start, size = b >= 0xC0, at + 1, b - (0xC0 if b >= 0xC0 else 0x80)
            if not is_list and size == 1 and start < self.end and buf[start] < 0x80:
                raise MalformedRlp(f"byte {at}: a single byte below 0x80 wrapped as a string (non-canonical)")
        else:
            is_list = b >= 0xF8
            width = b - (0xF7 if is_list else 0xB7)
            start = at + 1 + width
            if start > self.end:
                raise MalformedRlp(f"byte {at}: the length of the length runs past the end")
            raw = buf[at + 1 : start]
            if raw[0] == 0:
                raise MalformedRlp(f"byte {at}: a length with a leading zero byte (non-canonical)")
            size = int.from_bytes(raw, "big")
            if size < 56:
                raise MalformedRlp(f"byte {at}: the long form for a length of {size} (non-canonical)")
        if start + size > self.end:
            raise MalformedRlp(f"byte {at}: an item of {size} bytes runs past its list")
        self.at = start + size
        return is_list, start, size

    def string(self, what: str) -> bytes:
        is_list, start, size = self._header()
        if is_list:
            raise MalformedRlp(f"{what}: a list where a string belongs")
        return self.buf[start : start + size]

    def uint(self, what: str, bits: int = 256) -> int:
        raw = self.string(what)
        if raw[:1] == b"\x00" and not self.lax:
            raise MalformedRlp(f"{what}: an integer with leading zeros (non-canonical)")
        if len(raw) * 8 > bits:
            raise MalformedRlp(f"{what}: {len(raw)} bytes do not fit a u{bits}")
        return int.from_bytes(raw, "big")

    def list(self, what: str) -> _Items:
        is_list, start, size = self._header()
        if not is_list:
            raise MalformedRlp(f"{what}: a string where a list belongs")
        return _Items(self.buf, start, start + size, self.lax)

    def done(self, what: str) -> None:
        if self.at != self.end:
            raise MalformedRlp(f"{what}: {self.end - self.at} bytes after the last field")


@frozen
class Decoded:
    """What the node reads from a transaction: fee fields, the signature, the signed digest."""

    kind: int  # 0 legacy, 2 EIP-1559
    gas: int
    gas_price: int  # legacy only
    max_priority_fee: int  # type 2 only
    max_fee: int  # type 2 only
    parity: int
    r: int
    s: int
    chain_id: int | None
    signed_fields: bytes  # the encoded fields the signature covers, before the chain-id suffix


def _uint_rlp(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return raw if len(raw) == 1 and raw[0] < 0x80 else _length(len(raw), 0x80) + raw


def _length(size: int, base: int) -> bytes:
    if size < 56:
        return bytes([base + size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([base + 55 + len(raw)]) + raw


def _address(items: _Items) -> None:
    if len(items.string("to")) not in (0, 20):
        raise MalformedRlp("`to` is neither empty nor 20 bytes")


def decode(raw: bytes, variant: Variant | None = None) -> Decoded:
    """The transaction's fields, or MalformedRlp (or BadSignature for a y parity above 1)."""
    # The seeded mutants' own guards (no shipped target carries either): pragma, their mutants are
    # equivalent by construction. decode(raw) without a variant is the secure rule.
    lax = variant is not None and variant.on("evm-rlp-accepts-leading-zeros")  # pragma: no mutate
    loose = variant is not None and variant.on("evm-tx-size-limit-off-by-one")  # pragma: no mutate
    if not raw or len(raw) > MAX_TX_BYTES + int(loose):
        raise MalformedRlp(f"{len(raw)} bytes: empty or over the {MAX_TX_BYTES}-byte limit")
    chain_id: int | None  # always set for type 2; None for a legacy transaction without EIP-155
    if raw[0] == 2:
        outer = _Items(raw, 1, len(raw), lax)
        fields = outer.list("type-2 transaction")
        outer.done("type-2 transaction")
        first = fields.at
        chain_id, _nonce = fields.uint("chain_id"), fields.uint("nonce", 64)
        tip, cap = fields.uint("max_priority_fee_per_gas"), fields.uint("max_fee_per_gas")
        gas = fields.uint("gas", 64)
        _address(fields)
        fields.uint("value"), fields.string("data")
        accesses = fields.list("access_list")
        while accesses.at < accesses.end:
            entry = accesses.list("access list entry")
            if len(entry.string("access list address")) != 20:
                raise MalformedRlp("an access list address is not 20 bytes")
            keys = entry.list("storage keys")
            while keys.at < keys.end:
                if len(keys.string("storage key")) != 32:
                    raise MalformedRlp("a storage key is not 32 bytes")
            entry.done("access list entry")
        signed = raw[first : fields.at]
        parity, r, s = fields.uint("y_parity"), fields.uint("r"), fields.uint("s")
        fields.done("type-2 transaction")
        if parity > 1:
            raise BadSignature(f"y parity {parity}")
        return Decoded(2, gas, 0, tip, cap, parity, r, s, chain_id, signed)
    if raw[0] >= 0xC0:
        outer = _Items(raw, 0, len(raw), lax)
        fields = outer.list("legacy transaction")
        outer.done("legacy transaction")
        first = fields.at
        fields.uint("nonce", 64)
        price, gas = fields.uint("gas_price"), fields.uint("gas", 64)
        _address(fields)
        fields.uint("value"), fields.string("data")
        signed = raw[first : fields.at]
        v, r, s = fields.uint("v", 64), fields.uint("r"), fields.uint("s")
        fields.done("legacy transaction")
        chain_id = (v - 35) // 2 if v >= 35 else None
        parity = v - 27 if chain_id is None else (v - 35) % 2
        return Decoded(0, gas, price, 0, 0, parity, r, s, chain_id, signed)
    raise MalformedRlp(f"unknown transaction type {raw[0]:#04x}")


def _digest(tx: Decoded, variant: Variant) -> bytes:
    if tx.kind == 2:
        return keccak(b"\x02" + _length(len(tx.signed_fields), 0xC0) + tx.signed_fields)
    body = tx.signed_fields
    ignores_chain_id = variant.on("evm-legacy-ignores-chain-id")  # pragma: no mutate (a seeded mutant)
    if tx.chain_id is not None and not ignores_chain_id:
        body += _uint_rlp(tx.chain_id) + b"\x80\x80"  # EIP-155: chain id, 0, 0
    return keccak(_length(len(body), 0xC0) + body)


def recover_sender(raw: bytes, variant: Variant) -> bytes:
    """The signer's 20-byte address, or MalformedRlp / BadSignature (no memo)."""
    tx = decode(raw, variant)  # pragma: no mutate (the variant only switches seeded mutants there)
    high_s_ok = variant.on("evm-accepts-high-s")  # pragma: no mutate (a seeded mutant's guard)
    r, s, parity = tx.r, tx.s, tx.parity
    if not (0 < r < N and 0 < s < N and (high_s_ok or s <= N // 2)) or parity not in (0, 1):
        raise BadSignature("r, s or recovery id out of range")
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([parity]), _digest(tx, variant), hasher=None
        )
    except Exception as err:  # noqa: BLE001 - libsecp256k1 refuses in its own words
        raise BadSignature(str(err)) from None
    return keccak(key.format(compressed=False)[1:])[12:]


class SenderCache:
    """Recovered senders, memoized by the transaction hash (keccak of all of its bytes, signature
    included: two signatures over one payload are two transactions with two senders)."""

    def __init__(self, variant: Variant, size: int = SENDER_CACHE_SIZE) -> None:
        self.v, self.size = variant, size
        self.entries: OrderedDict[bytes, bytes] = OrderedDict()

    def _key(self, raw: bytes) -> bytes:
        if self.v.on("evm-sender-cache-key-omits-signature"):  # pragma: no mutate block (a seeded mutant)
            try:  # keyed by the digest the signature covers: the signature itself is left out
                return _digest(decode(raw), self.v)
            except ValueError:
                return keccak(raw)
        return keccak(raw)

    def sender(self, raw: bytes) -> bytes:
        key = self._key(raw)
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        address = recover_sender(raw, self.v)  # errors are not memoized
        self.entries[key] = address
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return address


def transaction_sender(raw: bytes, variant: Variant) -> bytes:
    """The signer's 20-byte address, or MalformedRlp / BadSignature."""
    return recover_sender(raw, variant)


def block_fees(transactions: Sequence[bytes], base_fee: int) -> int:
    """The execution layer's fees for a payload (the suite's simulated EL: each transaction uses all
    its gas and pays its effective tip); a transaction the EL would refuse earns nothing."""
    total = 0
    for raw in transactions:
        try:
            tx = decode(raw)
        except (MalformedRlp, BadSignature):
            continue
        tip = min(tx.max_priority_fee, tx.max_fee - base_fee) if tx.kind == 2 else tx.gas_price - base_fee
        total += tx.gas * max(tip, 0)
    return total
