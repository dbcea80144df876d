"""Lighthouse's `bls` crate on blst, as the node links it (crypto/bls/src/impls/blst.rs).

Public keys deserialize strictly and refuse the identity (blst key validation); signatures are
group-checked when verified; an "empty" aggregate (None) or an empty key list never verifies; an
aggregate key that sums to the identity never verifies (blst's pairing aggregation refuses an
infinite public key with BLST_PK_IS_INFINITY: blst `min_pk::Signature::fast_aggregate_verify`
-> `aggregate_verify` -> `blst_pairing_chk_n_aggr_pk_in_g1`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pyblst

from alys.variant import Variant

DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
WRONG_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"  # the basic scheme's: a seeded bug
_G1 = pyblst.BlstP1Element.uncompress(
    bytes.fromhex(
        "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
    )
)
_IDENTITY_G1 = pyblst.BlstP1Element()
# Decoding (with its subgroup check) is a pure function of the bytes; authorities' keys and a
# block's aggregate recur, so decoded points are memoized.
_uncompress_p1 = lru_cache(maxsize=4096)(pyblst.BlstP1Element.uncompress)
_uncompress_p2 = lru_cache(maxsize=256)(pyblst.BlstP2Element.uncompress)


class BlsDecodeError(ValueError):
    """bls::Error::BlstError(BLST_BAD_ENCODING | POINT_NOT_ON_CURVE | POINT_NOT_IN_GROUP | PK_IS_INFINITY)."""


class LighthouseBls:
    def __init__(self, variant: Variant, cache_size: int = 4096) -> None:
        self.v = variant
        self.check_signatures = True  # benchmarks only: False skips signature decoding and pairings
        # The node checks a block's aggregate twice (the slot-author check and majority_approved);
        # a bounded memo of FastAggregateVerify answers makes the second check free. Verification is
        # a pure function of (keys, message, signature), so this changes speed, never an answer.
        self.cache_size = cache_size
        self._verified: OrderedDict[tuple[tuple[bytes, ...], bytes, bytes], bool] = OrderedDict()

    def public_key(self, data: bytes) -> Any:
        try:
            point = _uncompress_p1(bytes(data))
        except (ValueError, TypeError) as err:
            raise BlsDecodeError(str(err)) from None
        if point == _IDENTITY_G1:
            # Seeded mutants sit in `if` blocks of their own, kept out of mutation: no shipped target
            # runs what a mutation changes inside them (docs/mutation.md).
            if self.v.on("bls-accepts-infinity-key"):  # pragma: no mutate block
                return point
            raise BlsDecodeError("BLST_PK_IS_INFINITY")
        return point

    def signature(self, data: bytes) -> Any:
        if not self.check_signatures:
            return bytes(data)
        try:
            return _uncompress_p2(bytes(data))
        except (ValueError, TypeError) as err:
            raise BlsDecodeError(str(err)) from None

    def _verify(self, pk: Any, message: bytes, sig: Any) -> bool:
        if not self.check_signatures:
            return True
        dst = DST
        if self.v.on("bls-wrong-dst"):  # pragma: no mutate block
            dst = WRONG_DST
        h = pyblst.BlstP2Element.hash_to_group(bytes(message), dst)
        return bool(pyblst.final_verify(pyblst.miller_loop(pk, h), pyblst.miller_loop(_G1, sig)))

    def verify(self, pk: bytes, message: bytes, sig: bytes) -> bool:
        try:
            return self._verify(self.public_key(pk), message, self.signature(sig))
        except BlsDecodeError:
            if self.v.on("bls-verify-raises-on-malformed"):  # pragma: no mutate block
                raise  # as blspy does: an undecodable input escapes instead of answering False
            return False

    def fast_aggregate_verify(self, pks: Sequence[bytes], message: bytes, sig: Any | None) -> bool:
        if sig is None or not pks:
            return False
        if not self.check_signatures:
            return True
        if not self.cache_size:
            return self._fast_aggregate_verify(pks, message, sig)
        key = self._memo_key(pks, message, sig)
        if key in self._verified:
            self._verified.move_to_end(key)
            return self._verified[key]
        answer = self._verified[key] = self._fast_aggregate_verify(pks, message, sig)
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return answer

    def _memo_key(
        self, pks: Sequence[bytes], message: bytes, sig: Any
    ) -> tuple[tuple[bytes, ...], bytes, bytes]:
        # The answer depends on all three inputs, so the key holds all three, byte for byte.
        keys = tuple(bytes(pk) for pk in pks)
        if self.v.on("bls-memo-ignores-message"):  # pragma: no mutate block
            return keys, b"", sig.compress()
        if self.v.on("bls-memo-ignores-keys"):  # pragma: no mutate block
            return (), bytes(message), sig.compress()
        if self.v.on("bls-memo-ignores-signature"):  # pragma: no mutate block
            return keys, bytes(message), b""
        return keys, bytes(message), sig.compress()

    def _fast_aggregate_verify(self, pks: Sequence[bytes], message: bytes, sig: Any) -> bool:
        try:
            points = [self._aggregated_key(pk) for pk in pks]
        except BlsDecodeError:
            return False
        total = points[0]
        for point in points[1:]:
            total = total + point
        infinite = total == _IDENTITY_G1
        if self.v.on("bls-accepts-identity-aggregate-key"):  # pragma: no mutate block
            infinite = False
        if infinite:
            return False  # BLST_PK_IS_INFINITY from the pairing aggregation
        return self._verify(total, message, sig)

    def _aggregated_key(self, data: bytes) -> Any:
        if self.v.on("bls-fast-aggregate-accepts-infinity-key"):  # pragma: no mutate block
            try:  # decoded without key validation, as blspy's fast_aggregate_verify does
                return _uncompress_p1(bytes(data))
            except (ValueError, TypeError) as err:
                raise BlsDecodeError(str(err)) from None
        return self.public_key(data)
