"""BLS signatures in the IETF proof-of-possession ciphersuite Alys (via Lighthouse on blst) uses.

`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`: 48-byte compressed G1 public keys, 96-byte
compressed G2 signatures. The functions keep the draft's names (SkToPk, Sign, Verify, Aggregate,
FastAggregateVerify, AggregateVerify, PopProve, PopVerify, KeyValidate) over interchangeable
backends:

* `blst`: blst through pyblst (what the node signs with). pyblst offers curve operations only, so
  the suite composes each function on its strict point decoding (curve and subgroup checks),
  hash-to-G2, Miller loop and final exponentiation; KeyValidate rejects the identity key, and
  FastAggregateVerify runs it on the aggregate key too (CoreVerify), as the draft says.
* `py_ecc`: the readable pure-Python reference (about half a second per verification).
* `milagro`: milagro-bls-binding (Rust); it offers no proof-of-possession functions.
* `blspy`: Chia's blspy (C++), PopSchemeMPL.

Wrappers translate types only. They do not smooth over a library's behaviour on edge inputs: where
libraries disagree (bls-edge-cases.md), the differential properties must see it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from eth_typing import BLSPubkey, BLSSignature

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001  # the group order
DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
G1_GENERATOR = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
)
INFINITY_PK = b"\xc0" + bytes(47)
INFINITY_SIG = b"\xc0" + bytes(95)
OPERATIONS = (
    "SkToPk",
    "KeyValidate",
    "Sign",
    "Verify",
    "Aggregate",
    "FastAggregateVerify",
    "AggregateVerify",
    "PopProve",
    "PopVerify",
)


class BlsError(ValueError):
    """An input a non-verifying operation cannot use: secret key outside [1, r), bad signature bytes."""


class Unsupported(NotImplementedError):
    """The backend's library does not offer this operation."""


def _check_sk(sk: int) -> int:
    if not 1 <= sk < R:
        raise BlsError(f"secret key must be in [1, r), got {sk}")
    return sk


class Backend:
    """The IETF API; subclasses map it onto one library. Signing is memoized per (sk, message)."""

    name = "abstract"
    offers: frozenset[str] = frozenset(OPERATIONS)

    def __init__(self) -> None:
        self.Sign = functools.lru_cache(maxsize=65536)(self._sign)
        self.SkToPk = functools.lru_cache(maxsize=4096)(self._sk_to_pk)

    def __repr__(self) -> str:
        return f"<bls backend {self.name}>"

    def _sk_to_pk(self, sk: int) -> bytes:
        raise Unsupported(f"{self.name} SkToPk")

    def _sign(self, sk: int, message: bytes) -> bytes:
        raise Unsupported(f"{self.name} Sign")

    def KeyValidate(self, pk: bytes) -> bool:
        raise Unsupported(f"{self.name} KeyValidate")

    def Verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        raise Unsupported(f"{self.name} Verify")

    def Aggregate(self, signatures: Sequence[bytes]) -> bytes:
        raise Unsupported(f"{self.name} Aggregate")

    def FastAggregateVerify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        raise Unsupported(f"{self.name} FastAggregateVerify")

    def AggregateVerify(self, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
        raise Unsupported(f"{self.name} AggregateVerify")

    def PopProve(self, sk: int) -> bytes:
        raise Unsupported(f"{self.name} PopProve")

    def PopVerify(self, pk: bytes, proof: bytes) -> bool:
        raise Unsupported(f"{self.name} PopVerify")


class Blst(Backend):
    """blst via pyblst, the draft's algorithms composed on its curve operations."""

    name = "blst"

    def __init__(self) -> None:
        super().__init__()
        import pyblst

        self._b = pyblst
        self._g1 = pyblst.BlstP1Element.uncompress(G1_GENERATOR)

    def _point(self, cls: Any, data: bytes) -> Any | None:
        try:
            return cls.uncompress(bytes(data))
        except (ValueError, TypeError):
            return None  # bad encoding, not on the curve, or not in the subgroup

    def _pk_point(self, pk: bytes) -> Any | None:
        # KeyValidate: a valid encoding of a subgroup point that is not the identity.
        if bytes(pk) == INFINITY_PK:
            return None
        return self._point(self._b.BlstP1Element, pk)

    def _sig_point(self, sig: bytes) -> Any | None:
        return self._point(self._b.BlstP2Element, sig)

    def _hash(self, message: bytes, dst: bytes = DST) -> Any:
        return self._b.BlstP2Element.hash_to_group(bytes(message), dst)

    def _core_verify(self, pk: Any, message: bytes, sig: Any, dst: bytes = DST) -> bool:
        b = self._b
        return bool(b.final_verify(b.miller_loop(pk, self._hash(message, dst)), b.miller_loop(self._g1, sig)))

    def _sk_to_pk(self, sk: int) -> bytes:
        return bytes(self._g1.scalar_mul(_check_sk(sk)).compress())

    def _sign(self, sk: int, message: bytes) -> bytes:
        return bytes(self._hash(message).scalar_mul(_check_sk(sk)).compress())

    def KeyValidate(self, pk: bytes) -> bool:
        return self._pk_point(pk) is not None

    def Verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        p, s = self._pk_point(pk), self._sig_point(signature)
        return p is not None and s is not None and self._core_verify(p, message, s)

    def Aggregate(self, signatures: Sequence[bytes]) -> bytes:
        if not signatures:
            raise BlsError("Aggregate needs at least one signature")
        total: Any = None
        for sig in signatures:
            point = self._sig_point(sig)
            if point is None:
                raise BlsError(f"not a valid G2 signature: {bytes(sig)[:8].hex()}...")
            total = point if total is None else total + point
        return bytes(total.compress())

    def _aggregate_pk(self, pks: Sequence[bytes]) -> Any | None:
        # FastAggregateVerify sums the keys and hands the sum to CoreVerify, whose first check is
        # KeyValidate(PK) (draft-irtf-cfrg-bls-signature-05 §2.7, §3.3.4): an aggregate key equal
        # to the identity is INVALID even when every key is valid (secret keys 1 and r - 1).
        total = None
        for pk in pks:
            point = self._pk_point(pk)
            if point is None:
                return None
            total = point if total is None else total + point
        if total is None or total == self._b.BlstP1Element():
            return None
        return total

    def FastAggregateVerify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        if not pks:
            return False
        agg, sig = self._aggregate_pk(pks), self._sig_point(signature)
        return agg is not None and sig is not None and self._core_verify(agg, message, sig)

    def AggregateVerify(self, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
        if not pks or len(pks) != len(messages):
            return False
        sig = self._sig_point(signature)
        if sig is None:
            return False
        product = None
        for pk, message in zip(pks, messages, strict=True):
            point = self._pk_point(pk)
            if point is None:
                return False
            term = self._b.miller_loop(point, self._hash(message))
            product = term if product is None else product * term
        return bool(self._b.final_verify(product, self._b.miller_loop(self._g1, sig)))

    def PopProve(self, sk: int) -> bytes:
        return bytes(self._hash(self.SkToPk(sk), POP_DST).scalar_mul(_check_sk(sk)).compress())

    def PopVerify(self, pk: bytes, proof: bytes) -> bool:
        p, s = self._pk_point(pk), self._sig_point(proof)
        return p is not None and s is not None and self._core_verify(p, bytes(pk), s, POP_DST)


class PyEcc(Backend):
    """py_ecc's G2ProofOfPossession, the readable reference."""

    name = "py_ecc"

    def __init__(self) -> None:
        super().__init__()
        from py_ecc.bls.ciphersuites import G2ProofOfPossession

        self._s = G2ProofOfPossession

    def _sk_to_pk(self, sk: int) -> bytes:
        return bytes(self._s.SkToPk(sk))

    def _sign(self, sk: int, message: bytes) -> bytes:
        return bytes(self._s.Sign(sk, message))

    # py_ecc types keys and signatures as eth_typing's NewTypes over bytes.
    def KeyValidate(self, pk: bytes) -> bool:
        return bool(self._s.KeyValidate(BLSPubkey(pk)))

    def Verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        return bool(self._s.Verify(BLSPubkey(pk), message, BLSSignature(signature)))

    def Aggregate(self, signatures: Sequence[bytes]) -> bytes:
        return bytes(self._s.Aggregate([BLSSignature(s) for s in signatures]))

    def FastAggregateVerify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        keys = [BLSPubkey(k) for k in pks]
        return bool(self._s.FastAggregateVerify(keys, message, BLSSignature(signature)))

    def AggregateVerify(self, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
        keys = [BLSPubkey(k) for k in pks]
        return bool(self._s.AggregateVerify(keys, list(messages), BLSSignature(signature)))

    def PopProve(self, sk: int) -> bytes:
        return bytes(self._s.PopProve(sk))

    def PopVerify(self, pk: bytes, proof: bytes) -> bool:
        return bool(self._s.PopVerify(BLSPubkey(pk), BLSSignature(proof)))


class Milagro(Backend):
    """milagro-bls-binding (secret keys as 32 big-endian bytes); no proof-of-possession API."""

    name = "milagro"
    offers = frozenset(OPERATIONS) - {"PopProve", "PopVerify", "KeyValidate"}

    def __init__(self) -> None:
        super().__init__()
        import milagro_bls_binding

        self._m = milagro_bls_binding

    def _sk_to_pk(self, sk: int) -> bytes:
        return bytes(self._m.SkToPk(sk.to_bytes(32, "big")))

    def _sign(self, sk: int, message: bytes) -> bytes:
        return bytes(self._m.Sign(sk.to_bytes(32, "big"), message))

    def Verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        return bool(self._m.Verify(pk, message, signature))

    def Aggregate(self, signatures: Sequence[bytes]) -> bytes:
        return bytes(self._m.Aggregate(list(signatures)))

    def FastAggregateVerify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        return bool(self._m.FastAggregateVerify(list(pks), message, signature))

    def AggregateVerify(self, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
        return bool(self._m.AggregateVerify(list(pks), list(messages), signature))


class Blspy(Backend):
    """Chia's blspy PopSchemeMPL; it raises on bytes it cannot decode."""

    name = "blspy"

    def __init__(self) -> None:
        super().__init__()
        import blspy

        self._b = blspy
        self._s = blspy.PopSchemeMPL

    def _key(self, sk: int) -> Any:
        return self._b.PrivateKey.from_bytes(sk.to_bytes(32, "big"))

    def _g1(self, pk: bytes) -> Any:
        return self._b.G1Element.from_bytes(bytes(pk))

    def _g2(self, sig: bytes) -> Any:
        return self._b.G2Element.from_bytes(bytes(sig))

    def _sk_to_pk(self, sk: int) -> bytes:
        return bytes(self._key(sk).get_g1())

    def _sign(self, sk: int, message: bytes) -> bytes:
        return bytes(self._s.sign(self._key(sk), message))

    def KeyValidate(self, pk: bytes) -> bool:
        return bool(self._g1(pk).is_valid())

    def Verify(self, pk: bytes, message: bytes, signature: bytes) -> bool:
        return bool(self._s.verify(self._g1(pk), message, self._g2(signature)))

    def Aggregate(self, signatures: Sequence[bytes]) -> bytes:
        return bytes(self._s.aggregate([self._g2(s) for s in signatures]))

    def FastAggregateVerify(self, pks: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        return bool(self._s.fast_aggregate_verify([self._g1(p) for p in pks], message, self._g2(signature)))

    def AggregateVerify(self, pks: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
        return bool(self._s.aggregate_verify([self._g1(p) for p in pks], list(messages), self._g2(signature)))

    def PopProve(self, sk: int) -> bytes:
        return bytes(self._s.pop_prove(self._key(sk)))

    def PopVerify(self, pk: bytes, proof: bytes) -> bool:
        return bool(self._s.pop_verify(self._g1(pk), self._g2(proof)))


FACTORIES: dict[str, Callable[[], Backend]] = {
    "blst": Blst,
    "py_ecc": PyEcc,
    "milagro": Milagro,
    "blspy": Blspy,
}
DEFAULT = "blst"
REFERENCE = "py_ecc"


class UnknownBackend(KeyError):
    def __str__(self) -> str:
        return f"unknown BLS backend {self.args[0]!r}; available: {', '.join(FACTORIES)}"


_chosen = [DEFAULT]


def choose(name: str) -> Backend:
    """Make `name` the backend `backend()` returns (the suite's --bls-backend)."""
    chosen = backend(name)
    _chosen[0] = name
    return chosen


def backend(name: str | None = None) -> Backend:
    """The (shared, memoizing) backend called `name`, or the chosen one."""
    return _backend(name or _chosen[0])


@functools.cache
def _backend(name: str) -> Backend:
    try:
        factory = FACTORIES[name]
    except KeyError:
        raise UnknownBackend(name) from None
    return factory()
