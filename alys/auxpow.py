"""app/src/auxpow.rs as the node codes it: the production (CoinbaseVout) check and PoW target.

Deviation from the secure rule, on in target `alys`: `auxpow-any-tx-commitment` (no index-0 or
coinbase check). Seeded mutants are guarded by `self.v.on(...)` with the id from the registry.

`check` takes where the header sits (`layout`: "output-script", the node's production CoinbaseVout
parser; "script-sig", its test-only CoinbaseVin parser; the old names "vout"/"vin" still work) and
the chain root's byte order in the coinbase (`root_order`: "internal" as Alys's pools write it,
"reversed" as Namecoin's vchRootHash has it).
"""

from __future__ import annotations

from typing import Any, Literal

from alys import codec
from alys.codec import AuxPowData, Branch, DecodeError, Header, Tx
from alys.variant import Variant

MAGIC = bytes.fromhex("fabe6d6d")
_U256 = (1 << 256) - 1
# Where the header sits, by name; "vout"/"vin" are the names the suite used before issue 14.
_LAYOUTS = {
    "output-script": "output-script",
    "vout": "output-script",
    "script-sig": "script-sig",
    "vin": "script-sig",
}


class AuxPowError(Exception):
    """auxpow.rs AuxPowError; subclasses carry the variant's name."""


class ParentHasChainId(AuxPowError):
    """AuxPowError::ParentHasChainId"""


class MerkleBranchTooLong(AuxPowError):
    """AuxPowError::MerkleBranchTooLong"""


class MerkleRootIncorrect(AuxPowError):
    """AuxPowError::MerkleRootIncorrect"""


class CoinbaseNoInputs(AuxPowError):
    """AuxPowError::CoinbaseNoInputs"""


class CoinbaseInvalidOutputs(AuxPowError):
    """AuxPowError::CoinbaseInvalidOutputs"""


class MissingHeader(AuxPowError):
    """AuxPowError::MissingHeader"""


class MultipleHeaders(AuxPowError):
    """AuxPowError::MultipleHeaders"""


class InvalidSlice(AuxPowError):
    """AuxPowError::InvalidSlice"""


class MissingMerkleRoot(AuxPowError):
    """AuxPowError::MissingMerkleRoot"""


class InvalidMerkleSize(AuxPowError):
    """AuxPowError::InvalidMerkleSize"""


class WrongIndex(AuxPowError):
    """AuxPowError::WrongIndex"""


# Only raised with `auxpow-any-tx-commitment` off: Namecoin's "not a generate" checks.
class CoinbaseNotFirst(AuxPowError):
    """AuxPowError::CoinbaseNotFirst"""


class NotACoinbase(AuxPowError):
    """AuxPowError::NotACoinbase"""


class AuxPowPort:
    """The `auxpow` component of target `alys`."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant

    # --- Bitcoin codec (rust-bitcoin) -------------------------------------------------------
    def decode_transaction(self, data: bytes) -> Tx:
        return codec.decode(data, self.v, codec.read_tx)

    def encode_transaction(self, tx: Tx) -> bytes:
        return codec.encode_tx(tx, self.v)

    def txid(self, tx: Tx) -> bytes:
        return codec.txid(tx, self.v)

    def decode_header(self, data: bytes) -> Header:
        return codec.decode(data, self.v, lambda c: Header(c.take(80)))

    def encode_header(self, header: Header) -> bytes:
        return header.raw

    def header_hash(self, header: Header) -> bytes:
        return codec.dsha(header.raw)

    def decode_auxpow(self, data: bytes) -> AuxPowData:
        return codec.decode(data, self.v, codec.read_auxpow)

    def encode_auxpow(self, auxpow: AuxPowData) -> bytes:
        return codec.encode_auxpow(auxpow, self.v)

    def merkle_root(self, txids: list[bytes]) -> bytes:
        return codec.merkle_root(list(txids), self.v)

    # --- Compact bits and PoW (rust-bitcoin Target) -------------------------------------------
    def target_from_compact(self, bits: int) -> int:
        exp = bits >> 24
        if exp <= 3:
            mant, shift = (bits & 0xFFFFFF) >> (8 * (3 - exp)), 0
        else:
            mant, shift = bits & 0xFFFFFF, 8 * (exp - 3)
        # Seeded mutants sit in `if` blocks of their own, kept out of mutation (`no mutate block`):
        # no shipped target runs what a mutation changes inside them (docs/mutation.md). Nested, not
        # `on(...) and cond`: a pragma on that line would hide the real mutant `and` -> `or`.
        if self.v.on("compact-sign-checked-before-shift"):  # noqa: SIM102  # pragma: no mutate block
            if bits & 0x800000:
                return 0  # Bitcoin Core's SetCompact order: the sign bit read before the shift
        largest = 0x7FFFFF  # a mantissa of 0x800000 and up is negative
        if self.v.on("compact-sign-bit-boundary"):  # pragma: no mutate block
            largest = 0x800000
        if mant > largest:
            return 0
        if self.v.on("compact-shift-saturates"):  # noqa: SIM102  # pragma: no mutate block
            if shift >= 256:
                return 0
        return (mant << (shift % 256)) & _U256  # U256 << is a wrapping shift

    def compact_from_target(self, target: int) -> int:
        size = (target.bit_length() + 7) // 8
        if self.v.on("compact-zero-target-size-one"):  # pragma: no mutate block
            size = max(size, 1)
        if size <= 3:
            compact = (target & 0xFFFF_FFFF_FFFF_FFFF) << (8 * (3 - size))
        else:
            compact = (target >> (8 * (size - 3))) & 0xFFFF_FFFF
        adjust = compact & 0x0080_0000
        if self.v.on("compact-no-sign-adjust"):  # pragma: no mutate block
            adjust = 0
        if adjust:
            compact >>= 8
            size += 1
        return (compact | size << 24) & 0xFFFF_FFFF

    def hash_meets_target(self, block_hash: bytes, bits: int) -> bool:
        order: Literal["little", "big"] = "little"
        if self.v.on("auxpow-pow-hash-big-endian"):  # pragma: no mutate block
            order = "big"
        value, target = int.from_bytes(block_hash, order), self.target_from_compact(bits)
        if self.v.on("auxpow-pow-zero-target-unlimited"):  # noqa: SIM102  # pragma: no mutate block
            if target == 0:
                return True  # a zero target read as "no target set"
        if self.v.on("auxpow-pow-strict-less"):  # pragma: no mutate block
            return value < target
        return value <= target

    def check_proof_of_work(self, header: bytes, bits: int) -> bool:
        return self.hash_meets_target(codec.dsha(header), bits)

    # --- AuxPow::check -------------------------------------------------------------------------
    def expected_index(self, nonce: int, chain_id: int, h: int) -> int:
        if self.v.on("auxpow-expected-index-i32"):  # pragma: no mutate block
            return _expected_index_c_int(nonce, chain_id, h)
        # u64 arithmetic, no wrap possible for h <= 30
        m = 1 << h
        if self.v.on("auxpow-expected-index-mod-off-by-one"):  # pragma: no mutate block
            m += 1
        rand = (nonce * 1103515245 + 12345) % m
        return ((rand + chain_id) * 1103515245 + 12345) % m

    def evaluate_branch(self, branch: Branch, leaf: bytes) -> bytes:
        acc = leaf
        for n, sibling in enumerate(branch.hashes):
            left = bool(branch.mask >> n & 1)
            if self.v.on("auxpow-merkle-sides-swapped"):  # pragma: no mutate block
                left = not left
            acc = codec.dsha(sibling + acc if left else acc + sibling)
        return acc

    def check(
        self,
        auxpow: bytes,
        aux_hash: bytes,
        chain_id: int,
        layout: str = "output-script",
        root_order: str = "internal",
    ) -> None:
        self.check_decoded(self.decode_auxpow(auxpow), aux_hash, chain_id, layout, root_order)

    def check_decoded(
        self, a: AuxPowData, aux_hash: bytes, chain_id: int, layout: str, root_order: str = "internal"
    ) -> None:
        if layout not in _LAYOUTS:
            raise ValueError(f"unknown coinbase layout {layout!r}; expected one of {sorted(_LAYOUTS)}")
        if root_order not in ("internal", "reversed"):
            raise ValueError(f"unknown root order {root_order!r}; expected 'internal' or 'reversed'")
        if (a.parent.version & 0xFFFF_FFFF) // 65536 == chain_id:
            raise ParentHasChainId()
        limit = 30
        if self.v.on("auxpow-branch-limit-off-by-one"):  # pragma: no mutate block
            limit = 29
        elif self.v.on("auxpow-branch-limit-31"):  # pragma: no mutate block
            limit = 31
        if len(a.chain_branch.hashes) > limit:
            raise MerkleBranchTooLong()
        vch_root = self.evaluate_branch(a.chain_branch, aux_hash)[::-1]
        if self.evaluate_branch(a.coinbase_branch, self.txid(a.coinbase)) != a.parent.merkle_root:
            raise MerkleRootIncorrect()
        if not self.v.on("auxpow-any-tx-commitment"):
            if a.coinbase_branch.mask != 0:
                raise CoinbaseNotFirst()
            if not a.coinbase.inputs:
                raise CoinbaseNoInputs()
            first = a.coinbase.inputs[0]
            several = len(a.coinbase.inputs) != 1
            if self.v.on("auxpow-coinbase-first-input-only"):  # pragma: no mutate block
                several = False
            if several or first.txid != bytes(32) or first.vout != 0xFFFF_FFFF:
                raise NotACoinbase()
        # auxpow.rs reverses the root and the coinbase bytes, so Alys's coinbase holds the root in
        # internal order; Namecoin reverses the root only (its coinbase holds it reversed).
        if self.v.on("auxpow-root-order-ignored"):  # pragma: no mutate block
            root_order = "internal"
        if root_order == "reversed":
            vch_root = vch_root[::-1]
        if _LAYOUTS[layout] == "output-script":
            root, size, nonce = self.find_header_vout(a.coinbase, vch_root)
        else:
            root, size, nonce = self.find_header_vin(a.coinbase, vch_root)
        if root != vch_root:
            raise MissingMerkleRoot()
        h = len(a.chain_branch.hashes)
        wrong_size = size != 1 << h
        if self.v.on("auxpow-merkle-size-bit-length"):  # pragma: no mutate block
            wrong_size = size.bit_length() != h + 1
        if wrong_size:
            raise InvalidMerkleSize()
        if a.chain_branch.mask != self.expected_index(nonce, chain_id, h):
            raise WrongIndex()

    @staticmethod
    def _parse_header(blob: bytes, vch_root: bytes) -> tuple[bytes, int, int]:
        if len(blob) != 44 or blob[:4] != MAGIC:
            raise MissingHeader()
        root = blob[4:36][::-1]  # reversed to compare with the reversed chain root
        if root != vch_root:
            raise MissingMerkleRoot()
        return root, int.from_bytes(blob[36:40], "little"), int.from_bytes(blob[40:44], "little")

    def find_header_vout(self, coinbase: Tx, vch_root: bytes) -> tuple[bytes, int, int]:
        outputs = coinbase.outputs
        if len(outputs) < 3:
            raise CoinbaseInvalidOutputs()
        try:
            return self._parse_header(outputs[2].script_pubkey, vch_root)
        except AuxPowError:
            no_fallback = len(outputs) < 4
            if self.v.on("auxpow-fallback-indexes-output-3"):  # pragma: no mutate block
                no_fallback = False  # then outputs[3] raises IndexError
            if self.v.on("auxpow-no-output-3-fallback"):  # pragma: no mutate block
                no_fallback = True
            if no_fallback:
                raise CoinbaseInvalidOutputs() from None
        return self._parse_header(outputs[3].script_pubkey, vch_root)

    def find_header_vin(self, coinbase: Tx, vch_root: bytes) -> tuple[bytes, int, int]:
        if not coinbase.inputs:
            raise CoinbaseNoInputs()
        script = coinbase.inputs[0].script_sig
        start = 0
        if self.v.on("auxpow-vin-magic-after-start"):  # pragma: no mutate block
            start = 1
        at = script.find(MAGIC, start)
        if at < 0:
            raise MissingHeader()
        if script.find(MAGIC, at + 1) >= 0:
            raise MultipleHeaders()
        if len(script) - at < 44:
            raise InvalidSlice()
        return self._parse_header(script[at : at + 44], vch_root)


def _expected_index_c_int(nonce: int, chain_id: int, h: int) -> int:  # pragma: no mutate block
    """Seeded bug: getExpectedIndex in signed 32-bit C arithmetic (wraps negative, % truncates)."""

    def i32(x: int) -> int:
        x &= 0xFFFF_FFFF
        return x - (1 << 32) if x >= 1 << 31 else x

    def c_mod(a: int, m: int) -> int:
        return a - m * int(a / m) if a >= 0 else -((-a) % m)

    m = 1 << h
    rand = c_mod(i32(nonce * 1103515245 + 12345), m)
    rand = c_mod(i32(i32(rand + chain_id) * 1103515245 + 12345), m)
    return rand & 0xFFFF_FFFF


ERRORS: dict[str, Any] = {cls.__name__: cls for cls in AuxPowError.__subclasses__()}
__all__ = ["AuxPowError", "AuxPowPort", "DecodeError"]
