"""AuxPoW (merged mining) as Alys uses it: the secure reference rule.

Wire layout and checks follow `app/src/auxpow.rs` (alys-rules.md §1); where the node deviates from
Namecoin's CAuxPow::check, this module states the secure rule: the committed transaction must be
the parent block's coinbase. Every check raises an AuxPowError subclass named after the node's
error (or, for the added coinbase rules, after Namecoin's failure); each error class records where
its rule comes from (`origins`: the node's code with file, Namecoin, Bitcoin consensus, or the
suite's own hardening) and its message says so.

Where the header sits (`Layout`) and in which byte order it holds the chain root (`RootOrder`) are
two separate parameters: the node's production parser reads output 2's whole scriptPubKey
("output-script", Marathon's layout), its test-only parser the coinbase scriptSig ("script-sig",
where Namecoin puts it). Alys expects the root in internal byte order, Namecoin byte-reversed
(its vchRootHash; foreign-implementations.md), so a proof from Namecoin's own builder is accepted
with `layout="script-sig", root_order="reversed"` (`NAMECOIN`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from attrs import field, frozen

from alys_pbt.models.bitcoin import (
    BlockHeader,
    DecodeError,
    MerkleBranch,
    Origin,
    OriginKind,
    Reader,
    Transaction,
    origins_text,
    sha256d,
)
from alys_pbt.models.reprs import pretty_as_repr, short_bytes

MERGED_MINING_MAGIC = b"\xfa\xbemm"
MERGED_MINING_HEADER_LENGTH = 44
MAX_CHAIN_BRANCH_LENGTH = 30
U256_MAX = (1 << 256) - 1
Layout = Literal["output-script", "script-sig"]
LAYOUTS: tuple[Layout, ...] = ("output-script", "script-sig")
# The names the suite used before issue 14 (after the node's CoinbaseVout / CoinbaseVin parsers).
LAYOUT_ALIASES: dict[str, Layout] = {"vout": "output-script", "vin": "script-sig"}
RootOrder = Literal["internal", "reversed"]
ROOT_ORDERS: tuple[RootOrder, ...] = ("internal", "reversed")
NAMECOIN: tuple[Layout, RootOrder] = ("script-sig", "reversed")  # Namecoin Core's convention


def layout_of(name: str) -> Layout:
    """The layout a name (or an old alias, "vout"/"vin") stands for."""
    layout = LAYOUT_ALIASES.get(name, name)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {name!r}; expected one of {LAYOUTS} (or {tuple(LAYOUT_ALIASES)})")
    return layout


_NODE = "app/src/auxpow.rs"
_NMC = "namecoin-core src/auxpow.cpp CAuxPow::check"
NODE_CHECK = Origin("node", f"{_NODE} AuxPow::check")
NODE_VOUT = Origin("node", f"{_NODE} CoinbaseVout parser (production)")
NODE_VIN = Origin("node", f"{_NODE} CoinbaseVin parser (tests only)")
SUITE: OriginKind = "suite-hardening"


class AuxPowError(Exception):
    """An AuxPoW that a correct node must reject; `origins` says whose rule it is."""

    origins: tuple[Origin, ...] = ()

    def __init__(self, why: str = "") -> None:
        super().__init__(f"{why} [{origins_text(self.origins)}]")


class ParentHasChainId(AuxPowError):
    """The parent block's version carries our chain id."""

    origins = (NODE_CHECK, Origin("namecoin", f"{_NMC}: Aux POW parent has our chain ID (fStrictChainId)"))


class MerkleBranchTooLong(AuxPowError):
    """The chain merkle branch has more than 30 hashes."""

    origins = (NODE_CHECK, Origin("namecoin", f"{_NMC}: Aux POW chain merkle branch too long"))


class MerkleRootIncorrect(AuxPowError):
    """The coinbase branch does not lead to the parent header's merkle root."""

    origins = (NODE_CHECK, Origin("namecoin", f"{_NMC}: Aux POW merkle root incorrect"))


class CoinbaseNotFirst(AuxPowError):
    """The committed transaction is not at index 0 of the parent block (Namecoin: not a generate)."""

    # Namecoin evaluates the coinbase branch at index 0 whatever the mask says (src/auxpow.h: "the
    # index of the parent coinbase tx is always zero"); refusing a non-zero mask outright is ours.
    origins = (
        Origin("namecoin", f"{_NMC}: the coinbase branch is evaluated at index 0 (src/auxpow.h)"),
        Origin(SUITE, "a non-zero coinbase side mask is refused, not ignored"),
    )


class CoinbaseNoInputs(AuxPowError):
    """The committed transaction has no inputs."""

    origins = (Origin("namecoin", f"{_NMC}: Aux POW coinbase has no inputs"), NODE_VIN)


class NotACoinbase(AuxPowError):
    """The committed transaction is not a coinbase: not one input with a null prevout."""

    # Neither Namecoin nor the node looks at the prevout (foreign-implementations.md); a real parent
    # block's first transaction would be a coinbase (Bitcoin consensus CheckBlock), but nothing
    # validates the parent block, so this rule is the suite's.
    origins = (Origin(SUITE, "one input spending the null prevout; neither Namecoin's rule nor the node's"),)


class CoinbaseInvalidOutputs(AuxPowError):
    """The coinbase has no output 2 (or, falling back, no output 3) to hold the header."""

    origins = (NODE_VOUT,)


class MissingHeader(AuxPowError):
    """No merged-mining header where the layout puts it (length or magic wrong)."""

    origins = (NODE_VOUT, NODE_VIN)


class MultipleHeaders(AuxPowError):
    """The merged-mining magic appears more than once in the coinbase scriptSig."""

    origins = (NODE_VIN, Origin("namecoin", f"{_NMC}: Multiple merged mining headers in coinbase"))


class InvalidSlice(AuxPowError):
    """The merged-mining header is cut short."""

    origins = (NODE_VIN, Origin("namecoin", f"{_NMC}: Aux POW missing chain merkle tree size and nonce"))


class MissingMerkleRoot(AuxPowError):
    """The header's chain merkle root is not the root the chain branch yields."""

    origins = (
        NODE_CHECK,
        Origin("namecoin", f"{_NMC}: Aux POW missing chain merkle root in parent coinbase"),
    )


class InvalidMerkleSize(AuxPowError):
    """The header's merkle size is not 2^(chain branch length)."""

    origins = (
        NODE_CHECK,
        Origin("namecoin", f"{_NMC}: Aux POW merkle branch size does not match parent coinbase"),
    )


class WrongIndex(AuxPowError):
    """The chain branch's side mask is not the expected slot for this nonce and chain id."""

    origins = (NODE_CHECK, Origin("namecoin", f"{_NMC}: Aux POW wrong index (getExpectedIndex)"))


class PowRejected(Exception):
    """A chain-level rejection of an AuxPowHeader (chain.rs check_pow), before or around `check`."""

    origins: tuple[Origin, ...] = ()

    def __init__(self, why: str = "") -> None:
        super().__init__(f"{why} [{origins_text(self.origins)}]")


_FIELDS_UNCHECKED = "the node never compares the AuxPowHeader's own fields (app/src/chain.rs check_pow)"


class MissingAuxPow(PowRejected):
    """The header carries no AuxPoW (only genesis may)."""

    origins = (Origin("node", "app/src/chain.rs check_pow: auxpow missing"),)


class WrongChainId(PowRejected):
    """The header claims a chain id other than this chain's."""

    origins = (Origin(SUITE, _FIELDS_UNCHECKED),)


class WrongBits(PowRejected):
    """The header's bits differ from what retargeting requires."""

    origins = (Origin(SUITE, _FIELDS_UNCHECKED),)


class WrongHeight(PowRejected):
    """The header's height is not the last PoW block's height + 1."""

    origins = (Origin(SUITE, _FIELDS_UNCHECKED),)


class InvalidPow(PowRejected):
    """The parent Bitcoin header's hash exceeds the required target."""

    origins = (
        Origin("node", "app/src/chain.rs check_pow -> auxpow.rs check_proof_of_work"),
        Origin("bitcoin-consensus", "src/pow.cpp CheckProofOfWork: hash <= target"),
    )


@frozen
class MergedMiningHeader:
    """The 44-byte commitment: magic, chain merkle root (internal order), size, nonce."""

    merkle_root: bytes = field(repr=short_bytes)
    merkle_size: int
    merkle_nonce: int
    magic: bytes = field(default=MERGED_MINING_MAGIC, repr=short_bytes)

    _repr_pretty_ = pretty_as_repr

    def to_bytes(self) -> bytes:
        return (
            self.magic
            + self.merkle_root
            + self.merkle_size.to_bytes(4, "little")
            + self.merkle_nonce.to_bytes(4, "little")
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> MergedMiningHeader:
        """Parse exactly 44 bytes; raises MissingHeader on a wrong length or magic."""
        if len(blob) != MERGED_MINING_HEADER_LENGTH:
            raise MissingHeader(f"merged-mining header is {len(blob)} bytes, not 44")
        if blob[:4] != MERGED_MINING_MAGIC:
            raise MissingHeader(f"merged-mining magic is {blob[:4].hex()}, not fabe6d6d")
        return cls(
            merkle_root=blob[4:36],
            merkle_size=int.from_bytes(blob[36:40], "little"),
            merkle_nonce=int.from_bytes(blob[40:44], "little"),
        )


@frozen
class AuxPow:
    """Namecoin's CAuxPow wire layout, as Alys decodes it with rust-bitcoin."""

    coinbase_txn: Transaction
    block_hash: bytes = field(repr=short_bytes)  # never checked by the node ("not needed")
    coinbase_branch: MerkleBranch
    blockchain_branch: MerkleBranch
    parent_block: BlockHeader

    _repr_pretty_ = pretty_as_repr

    def to_bytes(self) -> bytes:
        return (
            self.coinbase_txn.to_bytes()
            + self.block_hash
            + self.coinbase_branch.to_bytes()
            + self.blockchain_branch.to_bytes()
            + self.parent_block.to_bytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AuxPow:
        r = Reader(data, "auxpow")
        auxpow = cls(
            coinbase_txn=Transaction.read(r),
            block_hash=r.take(32, "auxpow block_hash"),
            coinbase_branch=MerkleBranch.read(r),
            blockchain_branch=MerkleBranch.read(r),
            parent_block=BlockHeader.read(r),
        )
        r.finish()
        return auxpow


def expected_index(nonce: int, chain_id: int, h: int) -> int:
    """The chain's slot in a merged-mining tree of height h (Namecoin's getExpectedIndex)."""
    m = 1 << h
    r = (nonce * 1103515245 + 12345) % m
    return ((r + chain_id) * 1103515245 + 12345) % m


def parent_chain_id(header: BlockHeader) -> int:
    """The chain id a parent header's version carries: version as u32, divided by 65536."""
    return (header.version & 0xFFFF_FFFF) // 65536


def target_from_compact(bits: int) -> int:
    """rust-bitcoin 0.30 Target::from_compact: mantissa > 0x7fffff is 0; the shift wraps mod 256."""
    exponent = bits >> 24
    if exponent <= 3:
        mantissa, shift = (bits & 0xFF_FFFF) >> (8 * (3 - exponent)), 0
    else:
        mantissa, shift = bits & 0xFF_FFFF, 8 * (exponent - 3)
    if mantissa > 0x7F_FFFF:
        return 0
    return (mantissa << (shift & 0xFF)) & U256_MAX


def compact_from_target(target: int) -> int:
    """Bitcoin's GetCompact: the largest compact value not above `target` (lossy)."""
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = (target & 0xFFFF_FFFF_FFFF_FFFF) << (8 * (3 - size))
    else:
        compact = (target >> (8 * (size - 3))) & 0xFFFF_FFFF
    if compact & 0x0080_0000:
        compact >>= 8
        size += 1
    return compact | size << 24


def hash_meets_target(block_hash: bytes, bits: int) -> bool:
    """The hash, read as a little-endian integer, is at most the target (rust-bitcoin is_met_by)."""
    return int.from_bytes(block_hash, "little") <= target_from_compact(bits)


def check_proof_of_work(header: BlockHeader, bits: int) -> bool:
    """The parent header meets the target that `bits` encodes."""
    return hash_meets_target(header.hash, bits)


def aggregate_hash(block_hashes: Sequence[bytes]) -> bytes:
    """What a miner commits to: sha256d of the block hashes, oldest first (one block is hashed too)."""
    if not block_hashes:
        raise ValueError("an aggregate needs at least one block hash")
    return sha256d(b"".join(block_hashes))


def chain_root_bytes(chain_root: bytes, root_order: RootOrder) -> bytes:
    """The 32 bytes a coinbase holds for `chain_root` (internal order) under `root_order`."""
    if root_order == "internal":
        return chain_root  # Alys: createauxblock's hex, verbatim (alys-rules.md §1.2)
    if root_order == "reversed":
        return chain_root[::-1]  # Namecoin: vchRootHash, the root reversed ("correct endian")
    raise ValueError(f"unknown root order {root_order!r}; expected one of {ROOT_ORDERS}")


def find_header(
    coinbase: Transaction, chain_root: bytes, layout: str, root_order: RootOrder = "internal"
) -> MergedMiningHeader:
    """Locate the merged-mining header committing to `chain_root` where `layout` puts it."""
    held = chain_root_bytes(chain_root, root_order)
    if layout_of(layout) == "output-script":
        return _find_header_in_outputs(coinbase, held)
    return _find_header_in_script_sig(coinbase, held)


def _find_header_in_outputs(coinbase: Transaction, chain_root: bytes) -> MergedMiningHeader:
    # Marathon's layout, the node's production parser: the whole scriptPubKey of output 2 is the
    # header; if it is not (or commits elsewhere), output 3 is tried and *its* error is the answer.
    if len(coinbase.outputs) <= 2:
        raise CoinbaseInvalidOutputs(f"coinbase has {len(coinbase.outputs)} outputs, no output 2")
    try:
        return _header_in(coinbase.outputs[2].script_pubkey, chain_root)
    except AuxPowError:
        if len(coinbase.outputs) <= 3:
            raise CoinbaseInvalidOutputs("output 2 holds no header and there is no output 3") from None
    return _header_in(coinbase.outputs[3].script_pubkey, chain_root)


def _header_in(script: bytes, chain_root: bytes) -> MergedMiningHeader:
    header = MergedMiningHeader.from_bytes(script)
    if header.merkle_root != chain_root:
        raise MissingMerkleRoot("header commits to another chain merkle root")
    return header


def _find_header_in_script_sig(coinbase: Transaction, chain_root: bytes) -> MergedMiningHeader:
    # The node's CoinbaseVin parser (Namecoin's position): the header sits in the coinbase
    # scriptSig, exactly once.
    if not coinbase.inputs:
        raise CoinbaseNoInputs("coinbase has no input to carry a scriptSig")
    script = coinbase.inputs[0].script_sig
    at = script.find(MERGED_MINING_MAGIC)
    if at < 0:
        raise MissingHeader("no merged-mining magic in the coinbase scriptSig")
    if script.find(MERGED_MINING_MAGIC, at + 1) >= 0:
        raise MultipleHeaders("merged-mining magic appears twice in the coinbase scriptSig")
    blob = script[at : at + MERGED_MINING_HEADER_LENGTH]
    if len(blob) < MERGED_MINING_HEADER_LENGTH:
        raise InvalidSlice(f"merged-mining header cut at {len(blob)} of 44 bytes")
    return _header_in(blob, chain_root)


def check(
    auxpow: AuxPow,
    aux_hash: bytes,
    chain_id: int,
    layout: str = "output-script",
    root_order: RootOrder = "internal",
) -> None:
    """Accept `auxpow` as proof of work on `aux_hash` for `chain_id`, or raise why not."""
    if parent_chain_id(auxpow.parent_block) == chain_id:
        raise ParentHasChainId(f"parent block version carries chain id {chain_id}")
    chain_branch = auxpow.blockchain_branch
    if len(chain_branch.hashes) > MAX_CHAIN_BRANCH_LENGTH:
        raise MerkleBranchTooLong(f"chain branch has {len(chain_branch.hashes)} hashes, max 30")
    chain_root = chain_branch.evaluate(aux_hash)
    coinbase = auxpow.coinbase_txn
    if auxpow.coinbase_branch.evaluate(coinbase.txid) != auxpow.parent_block.merkle_root:
        raise MerkleRootIncorrect("coinbase is not in the parent block")
    # Secure rule (Namecoin CAuxPow::check), absent from the node: the commitment must be the
    # parent's coinbase, or any transaction in any Bitcoin block could carry it.
    if auxpow.coinbase_branch.side_mask != 0:
        raise CoinbaseNotFirst(f"committed tx is at index {auxpow.coinbase_branch.side_mask}, not 0")
    if not coinbase.inputs:
        raise CoinbaseNoInputs("committed tx has no inputs")
    if not coinbase.is_coinbase:
        raise NotACoinbase(
            f"committed tx has {len(coinbase.inputs)} inputs, the first spending "
            f"{coinbase.inputs[0].prevout.txid.hex()}:{coinbase.inputs[0].prevout.vout}"
        )
    # find_header already compares the root; the node's second comparison cannot fail.
    header = find_header(coinbase, chain_root, layout, root_order)
    h = len(chain_branch.hashes)
    if header.merkle_size != 1 << h:
        raise InvalidMerkleSize(f"merkle size {header.merkle_size} is not 2^{h}")
    if chain_branch.side_mask != expected_index(header.merkle_nonce, chain_id, h):
        raise WrongIndex(
            f"side mask {chain_branch.side_mask} is not slot "
            f"{expected_index(header.merkle_nonce, chain_id, h)} for nonce {header.merkle_nonce}"
        )


@frozen
class AuxPowHeader:
    """What a block carries to finalize a range (block.rs AuxPowHeader)."""

    range_start: bytes = field(repr=short_bytes)
    range_end: bytes = field(repr=short_bytes)
    bits: int
    chain_id: int
    height: int
    auxpow: AuxPow | None
    fee_recipient: bytes = field(default=bytes(20), repr=short_bytes)

    _repr_pretty_ = pretty_as_repr


@frozen
class PowContext:
    """What the chain requires of an AuxPowHeader when check_pow runs (chain.rs check_pow)."""

    aggregate_hash: bytes = field(repr=short_bytes)  # over the range the header claims, oldest first
    bits: int  # get_next_work_required at the current head
    chain_id: int  # the chain spec's chain id
    height: int  # the latest PoW block's height + 1
    override: bool = False  # historical: skip the target for block_number <= 533683

    _repr_pretty_ = pretty_as_repr


def check_pow(header: AuxPowHeader, ctx: PowContext) -> None:
    """Accept `header` as finalizing its range under `ctx`, or raise why not (secure rule)."""
    if header.auxpow is None:
        raise MissingAuxPow("header carries no auxpow")
    # Secure rule: the header's own fields must be what the chain requires; the node never compares.
    if header.chain_id != ctx.chain_id:
        raise WrongChainId(f"header chain id {header.chain_id}, chain requires {ctx.chain_id}")
    if header.bits != ctx.bits:
        raise WrongBits(f"header bits {header.bits:#010x}, chain requires {ctx.bits:#010x}")
    if header.height != ctx.height:
        raise WrongHeight(f"header height {header.height}, chain requires {ctx.height}")
    if not ctx.override and not check_proof_of_work(header.auxpow.parent_block, ctx.bits):
        raise InvalidPow(f"parent hash above the target of bits {ctx.bits:#010x}")
    check(header.auxpow, ctx.aggregate_hash, ctx.chain_id)


__all__ = [
    "LAYOUTS",
    "NAMECOIN",
    "ROOT_ORDERS",
    "AuxPow",
    "AuxPowError",
    "AuxPowHeader",
    "DecodeError",
    "MergedMiningHeader",
    "PowContext",
    "PowRejected",
    "aggregate_hash",
    "check",
    "check_pow",
    "check_proof_of_work",
    "compact_from_target",
    "expected_index",
    "layout_of",
    "target_from_compact",
]
