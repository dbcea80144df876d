"""Valid-by-construction AuxPoW proofs, built from a recipe so corruptions can change one ingredient.

`build(recipe)` assembles the proof the way a merged-mining pool does: a chain merkle tree of size
2^h with the committed hash at the expected slot, the 44-byte header in the coinbase, the coinbase
at index 0 of a parent block, and a parent header ground (deterministically, nonce from 0) to meet
an easy target. A corruption edits the recipe; `build` then recomputes everything downstream, so
exactly one rule breaks.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
from attrs import frozen
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from alys_pbt.models.auxpow import (
    LAYOUTS,
    MERGED_MINING_MAGIC,
    AuxPow,
    AuxPowHeader,
    Layout,
    PowContext,
    RootOrder,
    chain_root_bytes,
    expected_index,
    hash_meets_target,
    layout_of,
    parent_chain_id,
    target_from_compact,
)
from alys_pbt.models.bitcoin import (
    NULL_OUTPOINT,
    BlockHeader,
    MerkleBranch,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    merkle_branch,
    merkle_levels,
    sha256d,
)
from alys_pbt.strategies.bitcoin import hashes, i32s, scripts, tx_outputs, u32s

EASY_BITS = 0x207FFFFF  # regtest: about half of all hashes meet it
ALYS_CHAIN_IDS = (727272, 121212)  # testnet chain.json, dev
MAX_GRIND = 1 << 20
FULL_TREE_MAX_HEIGHT = 5  # above this, siblings stand in for other chains' subtrees

InputKind = Literal["coinbase", "none", "spend"]
PowKind = Literal["meet", "miss"]


@frozen(repr=False)
class AuxPowRecipe:
    """Every ingredient of one merged-mined proof; `build` turns it into an AuxPow."""

    aux_hash: bytes
    chain_id: int
    layout: Layout = attrs.field(converter=layout_of)  # the old names "vout"/"vin" are accepted
    chain_siblings: tuple[bytes, ...]
    merkle_nonce: int
    bits: int
    parent_version: int
    parent_prev: bytes
    parent_time: int
    coinbase_version: int
    coinbase_sequence: int
    coinbase_lock_time: int
    script_sig_prefix: bytes  # vin: around the header; vout: the whole scriptSig
    script_sig_suffix: bytes
    payouts: tuple[TxOut, ...]  # vout: outputs 0 and 1; vin: all outputs
    extra_outputs: tuple[TxOut, ...]  # vout: after the header
    filler_script: bytes  # vout: output 2 when the header sits in output 3
    other_txids: tuple[bytes, ...]  # the parent block's other transactions
    witness_reserved: bytes | None = None
    header_slot: int = 2  # vout: which output holds the header (2, or 3 as the fallback)
    root_order: RootOrder = "internal"  # the chain root's byte order in the header (Namecoin: reversed)
    # Corruption knobs; the defaults build a valid proof.
    mask_xor: int = 0
    merkle_size: int | None = None
    magic: bytes = MERGED_MINING_MAGIC
    root_override: bytes | None = None
    header_prefix: bytes = b""
    header_suffix: bytes = b""
    header_cut: int = 0  # bytes cut off the header's end
    drop_header: bool = False
    inputs: InputKind = "coinbase"
    spent_prevout: bytes = bytes(32)
    extra_inputs: tuple[TxIn, ...] = ()  # inputs after the first (a coinbase has none)
    coinbase_position: int = 0
    tamper_parent_root: bool = False
    pow: PowKind = "meet"
    # Chain-level (check_pow) knobs.
    ctx_chain_id: int | None = None
    header_bits: int | None = None
    header_height_offset: int = 0
    omit_auxpow: bool = False
    required_height: int = 1

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints counterexamples with this: only what differs from a default, all-zero
        # byte strings as bytes(n), one field a line when the whole does not fit on one.
        with printer.group(0, "AuxPowRecipe(", ")"):
            with printer.indent(4):
                printer.breakable("")
                for n, part in enumerate(self._parts()):
                    if n:
                        printer.text(",")
                        printer.breakable()
                    printer.text(part)
            printer.breakable("")

    def _parts(self) -> list[str]:
        parts = []
        for a in attrs.fields(type(self)):
            value = getattr(self, a.name)
            if a.default is not attrs.NOTHING and value == a.default:
                continue
            parts.append(f"{a.name}={_short(value)}")
        return parts

    def __repr__(self) -> str:
        return f"AuxPowRecipe({', '.join(self._parts())})"

    @property
    def chain_branch(self) -> MerkleBranch:
        h = len(self.chain_siblings)
        mask = expected_index(self.merkle_nonce, self.chain_id, h) ^ self.mask_xor
        return MerkleBranch(self.chain_siblings, mask)


def _short(value: object) -> str:
    """A recipe's value as Python that rebuilds it: the recipe is what a failure is replayed from, so
    its outputs and inputs print whole (models/reprs.py shortens them in the records' own reprs)."""
    if isinstance(value, bytes) and value and not any(value):
        return f"bytes({len(value)})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, TxOut):
        return f"TxOut({value.value}, {_short(value.script_pubkey)})"
    if isinstance(value, OutPoint):
        return f"OutPoint({_short(value.txid)}, {value.vout})"
    if isinstance(value, TxIn):
        parts = [_short(value.prevout), _short(value.script_sig), str(value.sequence)]
        return f"TxIn({', '.join(parts + ([_short(value.witness)] if value.witness else []))})"
    return repr(value)


def _mm_header(r: AuxPowRecipe) -> bytes:
    root = r.root_override if r.root_override is not None else r.chain_branch.evaluate(r.aux_hash)
    root = chain_root_bytes(root, r.root_order)
    size = r.merkle_size if r.merkle_size is not None else 1 << len(r.chain_siblings)
    blob = r.magic + root + size.to_bytes(4, "little") + r.merkle_nonce.to_bytes(4, "little")
    return r.header_prefix + blob[: len(blob) - r.header_cut] + r.header_suffix


def _coinbase(r: AuxPowRecipe) -> Transaction:
    header = _mm_header(r)
    in_script_sig = r.layout == "script-sig"
    script_sig = r.script_sig_prefix + (header if in_script_sig else b"") + r.script_sig_suffix
    witness = (r.witness_reserved,) if r.witness_reserved is not None else ()
    prevout = NULL_OUTPOINT if r.inputs == "coinbase" else OutPoint(r.spent_prevout, 0)
    first = TxIn(prevout, script_sig, r.coinbase_sequence, witness)
    inputs = () if r.inputs == "none" else (first, *r.extra_inputs)
    if in_script_sig:
        outputs = r.payouts
    else:
        slots = list(r.payouts[:2])
        if not r.drop_header:
            if r.header_slot == 3:
                slots.append(TxOut(0, r.filler_script))
            slots.append(TxOut(0, header))
            slots += r.extra_outputs
        outputs = tuple(slots)
    return Transaction(r.coinbase_version, inputs, outputs, r.coinbase_lock_time)


def grind(header: BlockHeader, bits: int, *, meet: bool = True) -> BlockHeader:
    """The header with the first nonce from 0 whose hash meets (or misses) the target of `bits`."""
    for nonce in range(MAX_GRIND):
        candidate = attrs.evolve(header, nonce=nonce)
        if hash_meets_target(candidate.hash, bits) == meet:
            return candidate
    raise InvalidArgument(f"no nonce below {MAX_GRIND} {'meets' if meet else 'misses'} bits {bits:#010x}")


def build(r: AuxPowRecipe) -> AuxPow:
    """Assemble the proof a pool would produce from this recipe."""
    coinbase = _coinbase(r)
    leaves = list(r.other_txids)
    leaves.insert(r.coinbase_position, coinbase.txid)
    coinbase_branch = merkle_branch(leaves, r.coinbase_position)
    root = merkle_levels(leaves)[-1][0]
    if r.tamper_parent_root:
        root = sha256d(root)
    parent = grind(
        BlockHeader(r.parent_version, r.parent_prev, root, r.parent_time, r.bits, 0),
        r.bits,
        meet=r.pow == "meet",
    )
    return AuxPow(coinbase, parent.hash, coinbase_branch, r.chain_branch, parent)


@frozen(repr=False)
class AuxPowCase:
    """A proof with what it was built to prove: check(auxpow, aux_hash, chain_id, layout, root_order)."""

    recipe: AuxPowRecipe
    auxpow: AuxPow

    def __repr__(self) -> str:
        return f"case_of({self.recipe!r})"  # the proof is rebuilt from the recipe

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        with printer.group(0, "case_of(", ")"):
            printer.pretty(self.recipe)

    @property
    def aux_hash(self) -> bytes:
        return self.recipe.aux_hash

    @property
    def chain_id(self) -> int:
        return self.recipe.chain_id

    @property
    def layout(self) -> Layout:
        return self.recipe.layout

    @property
    def root_order(self) -> RootOrder:
        return self.recipe.root_order

    def check_args(self) -> dict[str, str]:
        """The keyword arguments of `check` for this proof: the layout, and a root order if not internal."""
        extra = {} if self.root_order == "internal" else {"root_order": self.root_order}
        return {"layout": self.layout, **extra}

    def pow_header(self) -> tuple[AuxPowHeader, PowContext]:
        """The AuxPowHeader a block would carry for this proof, and what the chain requires."""
        r = self.recipe
        ctx = PowContext(
            aggregate_hash=r.aux_hash,
            bits=r.bits,
            chain_id=r.ctx_chain_id if r.ctx_chain_id is not None else r.chain_id,
            height=r.required_height,
        )
        header = AuxPowHeader(
            range_start=r.parent_prev,
            range_end=r.aux_hash,
            bits=r.header_bits if r.header_bits is not None else r.bits,
            chain_id=r.chain_id,
            height=r.required_height + r.header_height_offset,
            auxpow=None if r.omit_auxpow else self.auxpow,
        )
        return header, ctx


def case_of(recipe: AuxPowRecipe) -> AuxPowCase:
    return AuxPowCase(recipe, build(recipe))


def _as_strategy(value: object, default: st.SearchStrategy) -> st.SearchStrategy:
    if value is None:
        return default
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


# What the target under test supports (its auxpow capabilities, alys_pbt/interface.py CAPABILITIES):
# the plugin narrows these for a target that declares less, so a proof it cannot take is never drawn
# (issue 12, item 2). A value a caller pins is drawn as pinned.
ALL_SUPPORTED: dict[str, tuple[str, ...]] = {"layouts": LAYOUTS, "root_orders": ("internal", "reversed")}
SUPPORTED: dict[str, tuple[str, ...]] = dict(ALL_SUPPORTED)


def _supported(value: object, default: tuple[str, ...], capability: str) -> st.SearchStrategy:
    """The drawn knob, among the values the target supports, unless pinned to one value (a target
    that supports everything draws exactly as before: the stored failures keep replaying)."""
    allowed = SUPPORTED[capability]
    if value is None:
        choices = [v for v in default if v in allowed] or list(allowed)
        return st.just(choices[0]) if len(choices) == 1 else st.sampled_from(choices)
    if not isinstance(value, st.SearchStrategy) or set(allowed) == set(ALL_SUPPORTED[capability]):
        return _as_strategy(value, st.nothing())
    ok = layout_of if capability == "layouts" else str
    return value.filter(lambda v: ok(v) in SUPPORTED[capability])


chain_ids = st.sampled_from(ALYS_CHAIN_IDS) | st.integers(0, 2**32 - 1)
no_magic = st.binary(max_size=24)


# The parent block's other transactions: only their txids matter, derived from one drawn seed.
_other_txids = st.builds(
    lambda seed, n: tuple(sha256d(seed + i.to_bytes(4, "little")) for i in range(n)),
    hashes,
    st.integers(0, 6),
)


@st.composite
def _siblings(draw: st.DrawFn, h: int) -> tuple[bytes, ...]:
    if h <= FULL_TREE_MAX_HEIGHT:
        # A real tree of other chains' hashes, derived from one drawn seed (few choices to draw
        # and shrink); our slot's leaf is replaced, so only the siblings matter.
        seed = draw(hashes)
        leaves = [sha256d(seed + i.to_bytes(4, "little")) for i in range(1 << h)]
        return merkle_branch(leaves, 0).hashes if h else ()
    return tuple(draw(st.lists(hashes, min_size=h, max_size=h)))


@st.composite
def auxpow_recipes(
    draw: st.DrawFn,
    *,
    commit: bytes | st.SearchStrategy[bytes] | None = None,
    chain_id: int | st.SearchStrategy[int] | None = None,
    bits: int | st.SearchStrategy[int] | None = None,
    layout: str | st.SearchStrategy[str] | None = None,
    root_order: RootOrder | st.SearchStrategy[RootOrder] | None = None,  # None: internal, if supported
    max_height: int = 8,
) -> AuxPowRecipe:
    """Recipes of valid proofs; each knob takes a value or a strategy (default: drawn)."""
    if not 0 <= max_height <= 30:
        raise InvalidArgument(f"max_height must be 0..30, got {max_height}")
    the_bits = draw(_as_strategy(bits, st.just(EASY_BITS)))
    if target_from_compact(the_bits) < 1 << 236:
        raise InvalidArgument(f"bits {the_bits:#010x} are too hard to grind for in a test")
    the_chain_id = draw(_as_strategy(chain_id, chain_ids))
    the_layout = layout_of(draw(_supported(layout, LAYOUTS, "layouts")))
    h = draw(st.integers(0, max_height) | st.just(max_height))  # the limit itself, often
    recipe = AuxPowRecipe(
        aux_hash=draw(_as_strategy(commit, hashes)),
        chain_id=the_chain_id,
        layout=the_layout,
        chain_siblings=draw(_siblings(h)),
        merkle_nonce=draw(u32s),
        bits=the_bits,
        parent_version=draw(i32s.filter(lambda v: (v & 0xFFFF_FFFF) // 65536 != the_chain_id)),
        parent_prev=draw(hashes),
        parent_time=draw(u32s),
        coinbase_version=draw(st.sampled_from([1, 2])),
        coinbase_sequence=draw(u32s),
        coinbase_lock_time=draw(u32s),
        # In the scriptSig layout the header may open the script (Namecoin's own builder puts it
        # at offset 0); otherwise a BIP34 height push comes first.
        script_sig_prefix=(
            b""
            if the_layout == "script-sig" and draw(st.booleans())
            else b"\x03" + draw(st.binary(min_size=3, max_size=3)) + draw(no_magic)
        ),
        script_sig_suffix=draw(no_magic),
        payouts=draw(
            st.tuples(tx_outputs(script=scripts(max_size=40)), tx_outputs(script=scripts(max_size=40)))
        ),
        extra_outputs=tuple(draw(st.lists(tx_outputs(), max_size=2))),
        filler_script=draw(scripts(max_size=43)),
        other_txids=draw(_other_txids),
        witness_reserved=draw(st.none() | hashes),
        header_slot=draw(st.sampled_from([2, 3])) if the_layout == "output-script" else 2,
        root_order=draw(_supported(root_order, ("internal",), "root_orders")),
        required_height=draw(st.integers(1, 2**32)),
    )
    # Random bytes around the header could spell the magic a second time (vin: MultipleHeaders).
    assume(_coinbase(recipe).inputs[0].script_sig.count(MERGED_MINING_MAGIC) == (the_layout == "script-sig"))
    return recipe


def auxpow_cases(**knobs: Any) -> st.SearchStrategy[AuxPowCase]:
    """Valid proofs with what they prove; takes the knobs of `auxpow_recipes`."""
    return auxpow_recipes(**knobs).map(case_of)


def auxpows(**knobs: object) -> st.SearchStrategy[AuxPow]:
    """Valid proofs (the AuxPow alone); takes the knobs of `auxpow_recipes`."""
    return auxpow_cases(**knobs).map(lambda case: case.auxpow)


# --- Compact bits and the PoW boundary ------------------------------------------------------------

# Mantissas at the sign bit and on either side of it, at the smallest and largest, and at the
# bytes a shift for exponents 0..3 keeps or drops.
EDGE_MANTISSAS = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFF, 0x800000, 0x800001, 0xFFFFFF)


@st.composite
def compact_bits(draw: st.DrawFn) -> int:
    """Compact bits probing every edge: exponents 0..3 (mantissa shifted down), 4..34 (up), 35 and
    above (past 2^256), mantissas at the sign bit 0x800000 and either side of it; or any u32."""
    if draw(st.integers(0, 3)) == 0:
        return draw(u32s)
    # Half the draws at an edge exponent, so a 100-example run meets each of them (issue 14).
    if draw(st.booleans()):
        exponent = draw(st.sampled_from([0, 1, 2, 3, 34, 35]))
    else:
        exponent = draw(st.integers(0, 34) | st.sampled_from([32, 33, 36, 255]) | st.integers(35, 255))
    mantissa = draw(
        st.sampled_from([0x800000, 0x7FFFFF, 0x800001])  # the sign bit alone, and either side of it
        | st.sampled_from(EDGE_MANTISSAS)
        | st.integers(0x800000, 0xFFFFFF)  # negative
        | st.integers(0, 0xFFFFFF)
    )
    return exponent << 24 | mantissa


@st.composite
def pow_probes(draw: st.DrawFn) -> tuple[bytes, int]:
    """(parent hash, bits) at the PoW boundary: the hash at the target, one either side, zero, or
    any; bits from `compact_bits()`, so a zero target (negative mantissa, exponent past 2^256) is often
    met."""
    bits = draw(compact_bits())
    target = target_from_compact(bits)
    top = (1 << 256) - 1
    value = draw(st.sampled_from([target, target - 1, target + 1, 0, 1, top]) | st.integers(0, top))
    return min(max(value, 0), top).to_bytes(32, "little"), bits


__all__ = [
    "EASY_BITS",
    "AuxPowCase",
    "AuxPowRecipe",
    "auxpow_cases",
    "auxpow_recipes",
    "auxpows",
    "build",
    "case_of",
    "compact_bits",
    "grind",
    "parent_chain_id",
    "pow_probes",
    "u32s",
]
