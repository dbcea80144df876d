"""Lighthouse's `bls` crate on blst, as the node links it (crypto/bls/src/impls/blst.rs).

Public keys deserialize strictly and refuse the identity (blst key validation); signatures are
group-checked when verified; an "empty" aggregate (None) or an empty key list never verifies.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class BlsDecodeError(ValueError):
    """bls::Error::BlstError(BLST_BAD_ENCODING | POINT_NOT_ON_CURVE | POINT_NOT_IN_GROUP | PK_IS_INFINITY)."""


class LighthouseBls:
    def __init__(self, variant: Variant) -> None:
        self.v = variant

    def public_key(self, data: bytes) -> Any:
        try:
            point = pyblst.BlstP1Element.uncompress(bytes(data))
        except (ValueError, TypeError) as err:
            raise BlsDecodeError(str(err)) from None
        if point == _IDENTITY_G1 and not self.v.on("bls-accepts-infinity-key"):
            raise BlsDecodeError("BLST_PK_IS_INFINITY")
        return point

    def signature(self, data: bytes) -> Any:
        try:
            return pyblst.BlstP2Element.uncompress(bytes(data))
        except (ValueError, TypeError) as err:
            raise BlsDecodeError(str(err)) from None

    def _verify(self, pk: Any, message: bytes, sig: Any) -> bool:
        dst = WRONG_DST if self.v.on("bls-wrong-dst") else DST
        h = pyblst.BlstP2Element.hash_to_group(bytes(message), dst)
        return bool(pyblst.final_verify(pyblst.miller_loop(pk, h), pyblst.miller_loop(_G1, sig)))

    def verify(self, pk: bytes, message: bytes, sig: bytes) -> bool:
        try:
            return self._verify(self.public_key(pk), message, self.signature(sig))
        except BlsDecodeError:
            return False

    def fast_aggregate_verify(self, pks: Sequence[bytes], message: bytes, sig: Any | None) -> bool:
        if sig is None or not pks:
            return False
        try:
            points = [self.public_key(pk) for pk in pks]
        except BlsDecodeError:
            return False
        total = points[0]
        for point in points[1:]:
            total = total + point
        return self._verify(total, message, sig)
