"""The PoW part of app/src/chain.rs and the retarget of app/src/auxpow_miner.rs, as coded.

Quirks (on in target `alys`): `auxpow-check-pow-aborts`, `auxpow-header-fields-unchecked`,
`retarget-caps-low-ratio`, `retarget-ratio-one-truncates`, `retarget-zero-bits`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from alys.approvals import ApprovalsPort
from alys.auxpow import AuxPowError, AuxPowPort
from alys.codec import dsha
from alys.evm import SenderCache
from alys.node import Node
from alys.variant import NodePanic, Variant
from alys.wire import decode_block

_U256 = (1 << 256) - 1


class PowRejected(Exception):
    """A block's AuxPowHeader is rejected (chain.rs Error variants)."""


class InvalidPow(PowRejected):
    """chain.rs Error::InvalidPow"""


class MissingAuxPow(PowRejected):
    """chain.rs Error::MissingAuxPow"""


# Only raised with `auxpow-header-fields-unchecked` off:
class WrongChainId(PowRejected):
    """chain.rs Error::WrongChainId"""


class WrongBits(PowRejected):
    """chain.rs Error::WrongBits"""


class WrongHeight(PowRejected):
    """chain.rs Error::WrongHeight"""


class HeaderLike(Protocol):
    bits: int
    chain_id: int
    height: int
    auxpow: Any  # an object with to_bytes(), or None


class ContextLike(Protocol):  # read-only: node.py's PowContext is frozen
    @property
    def aggregate_hash(self) -> bytes: ...
    @property
    def bits(self) -> int: ...
    @property
    def chain_id(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def override(self) -> bool: ...


class ParamsLike(Protocol):
    pow_target_timespan: int
    pow_target_spacing: int
    max_pow_adjustment: int
    pow_no_retargeting: bool


class ChainPort:
    """The `chain` component of target `alys` (PoW finalization and retargeting so far)."""

    def __init__(self, variant: Variant, auxpow: AuxPowPort, approvals: ApprovalsPort) -> None:
        self.v, self.auxpow, self.approvals = variant, auxpow, approvals  # the node checks approvals with it
        self.senders = SenderCache(variant)  # one memo per node process

    def node(self, spec: Any, genesis: Any, bitcoin: Any, *, validator: bool = True) -> Node:
        """A node over `genesis` (its store is the node's persisted state; see alys/node.py), doing
        its PoW checks through this component."""
        return Node(self.v, self, self.approvals, spec, genesis, bitcoin, validator)

    def decode_block(self, data: bytes) -> Any:
        return decode_block(data, self.v)

    def transaction_sender(self, raw: bytes) -> bytes:
        """The signer, through the node's sender memo (alys/evm.py SenderCache)."""
        return self.senders.sender(raw)

    def aggregate_hash(self, block_hashes: list[bytes]) -> bytes:
        # Seeded mutants sit in `if` blocks of their own, kept out of mutation: no shipped target
        # runs what a mutation changes inside them (docs/mutation.md).
        if self.v.on("auxpow-aggregate-single-unhashed"):  # pragma: no mutate block  # noqa: SIM102
            if len(block_hashes) == 1:
                return block_hashes[0]
        return dsha(b"".join(block_hashes))

    def check_pow(self, header: HeaderLike, ctx: ContextLike) -> None:
        if header.auxpow is None:
            raise MissingAuxPow()
        chain_id = header.chain_id  # the node passes the header's own chain id to check()
        if not self.v.on("auxpow-header-fields-unchecked"):
            if header.chain_id != ctx.chain_id:
                raise WrongChainId()
            if header.bits != ctx.bits:
                raise WrongBits()
            if header.height != ctx.height:
                raise WrongHeight()
        raw = header.auxpow.to_bytes()
        # The node decodes the proof first (a malformed one fails here), then hashes its parent
        # header, an AuxPoW's last 80 bytes: read from the bytes, not from the component's own
        # decoded shape, so a borrowed chain judges whatever auxpow component it is given.
        self.auxpow.decode_auxpow(raw)
        parent = raw[-80:]
        if not (ctx.override or self.auxpow.check_proof_of_work(parent, ctx.bits)):
            raise InvalidPow()
        try:
            self.auxpow.check(raw, ctx.aggregate_hash, chain_id)
        except AuxPowError as err:
            if self.v.on("auxpow-check-pow-aborts"):
                raise NodePanic(f"called `Result::unwrap()` on an `Err` value: {type(err).__name__}") from err
            raise

    # --- auxpow_miner.rs ------------------------------------------------------------------------
    def get_next_work_required(
        self, last_pow_height: int, last_bits: int, params: ParamsLike, head_height: int
    ) -> int:
        diff = (head_height + 1 - last_pow_height) % (1 << 64) % (1 << 32)  # u64 wrap, `as u32`
        if params.pow_target_spacing == 0:
            raise NodePanic("attempt to divide by zero")
        interval = params.pow_target_timespan // params.pow_target_spacing
        if interval == 0:
            raise NodePanic("attempt to calculate the remainder with a divisor of zero")
        threshold = interval
        if self.v.on("retarget-fires-one-late"):  # pragma: no mutate block
            threshold = interval + 1
        if params.pow_no_retargeting or not (head_height % interval == 0 or diff > threshold):
            return last_bits
        return self.calculate_next_work_required(diff, last_bits, params)

    def calculate_next_work_required(self, diff: int, last_bits: int, params: ParamsLike) -> int:
        diff = diff or 1
        rounding = ROUND_HALF_EVEN
        if self.v.on("retarget-half-up-rounding"):  # pragma: no mutate block
            rounding = ROUND_HALF_UP
        ratio = (Decimal(diff) / Decimal(params.pow_target_spacing)).quantize(
            Decimal("0.01"), rounding=rounding
        )
        lower = Decimal(params.max_pow_adjustment) / 100
        upper = 1 + lower
        if ratio < 1:
            ratio = min(ratio, lower) if self.v.on("retarget-caps-low-ratio") else max(ratio, lower)
        elif ratio > 1:
            capped = min(ratio, upper)
            if self.v.on("retarget-no-upper-clamp"):  # pragma: no mutate block
                capped = ratio
            ratio = capped
        elif not self.v.on("retarget-ratio-one-truncates"):
            return last_bits
        percent = int(ratio * 100)
        if percent > 255:
            raise NodePanic("called `Option::unwrap()` on a `None` value (ratio*100 as u8)")
        if percent == 0 and not self.v.on("retarget-zero-bits"):
            percent = 1
        target = uint256_target_from_compact(last_bits)
        product = target // 100 * percent
        bounded = min(product, _U256)
        if self.v.on("retarget-product-wraps"):  # pragma: no mutate block
            bounded = product & _U256
        return self.auxpow.compact_from_target(bounded)


def uint256_target_from_compact(bits: int) -> int:
    """auxpow_miner.rs helper: like rust-bitcoin, but primitive-types U256 << 256+ gives 0."""
    exp = bits >> 24
    mant = (bits & 0xFFFFFF) >> (8 * (3 - exp)) if exp <= 3 else bits & 0xFFFFFF
    shift = 0 if exp <= 3 else 8 * (exp - 3)
    if mant > 0x7FFFFF or shift >= 256:
        return 0
    return (mant << shift) & _U256
