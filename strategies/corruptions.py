"""The AuxPoW corruption catalogue: build a valid recipe, break one rule, expect one error.

Each entry is an `InvalidCase` (strategies/invalid.py): the rule it breaks, the error the reference
raises (by class name, as in models/auxpow.py), whose rule that is (its `origins`, those the
reference's error records: the node's code with file, Namecoin, Bitcoin consensus, or the suite's
own hardening: a node that follows its own code need not raise a suite-hardening error), the
layouts it applies to, the quirks that let it through, and its level:
  * "structure": AuxPow::check rejects it (and so does check_pow, since the proof meets the target);
  * "pow": only the target check (check_pow) rejects it;
  * "header": only the chain's comparison of the AuxPowHeader's own fields rejects it.
Where the vout parser's fallback decides which error surfaces, the corruption moves the header to
output 3 so the error is the header's own (the node reports output 3's error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs
from hypothesis import strategies as st

from alys_pbt.models import auxpow as ref
from alys_pbt.models.auxpow import LAYOUTS, MERGED_MINING_MAGIC, Layout
from alys_pbt.models.bitcoin import OutPoint, TxIn
from alys_pbt.strategies.auxpow import AuxPowCase, AuxPowRecipe, auxpow_recipes, case_of
from alys_pbt.strategies.bitcoin import hashes, u32s
from alys_pbt.strategies.invalid import Exposure, InvalidCase, by_name

OUTPUT: tuple[Layout, ...] = ("output-script",)
SCRIPT_SIG: tuple[Layout, ...] = ("script-sig",)

Level = Literal["structure", "pow", "header"]
Apply = Callable[[st.DrawFn, AuxPowRecipe], AuxPowRecipe]
Corruption = InvalidCase  # the records of this catalogue

# The entry points a property drives: AuxPow::check alone, or the chain's check_pow around it.
CHECK, CHECK_POW = "check", "check_pow"
# app/src/chain.rs check_pow: auxpow.check(...).unwrap(): any structural failure of a proof that
# meets the target aborts the node, so every structural corruption exposes it through check_pow.
_ABORTS = Exposure("auxpow-check-pow-aborts", via=(CHECK_POW,))
# app/src/auxpow.rs AuxPow::check never asks that the committed transaction be the coinbase.
_ANY_TX = "auxpow-any-tx-commitment"
# app/src/chain.rs check_pow never compares the AuxPowHeader's own fields with the chain's.
_FIELDS = "auxpow-header-fields-unchecked"


def _case(
    name: str,
    expected: str,
    rule: str,
    apply: Apply,
    *,
    layouts: tuple[Layout, ...] = LAYOUTS,
    level: Level = "structure",
    exposes: tuple[str | Exposure, ...] = (),
) -> InvalidCase:
    """An AuxPoW corruption; its origins are those the reference's error records."""
    return InvalidCase(
        name,
        expected,
        rule,
        getattr(ref, expected).origins,
        apply,
        "auxpow",
        applies_to=layouts,
        level=level,
        exposes=(*exposes, _ABORTS) if level == "structure" else exposes,
    )


def _evolve(**changes: Any) -> Apply:
    return lambda _draw, r: attrs.evolve(r, **changes)


def _at_output_3(**changes: Any) -> Apply:
    return lambda _draw, r: attrs.evolve(r, header_slot=3 if r.layout == "output-script" else 2, **changes)


def _wrong_index(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    if not r.chain_siblings:
        r = attrs.evolve(r, chain_siblings=(draw(hashes),))
    return attrs.evolve(r, mask_xor=1 << draw(st.integers(0, len(r.chain_siblings) - 1)))


def _bit_above_height(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(r, mask_xor=1 << draw(st.integers(len(r.chain_siblings), 31)))


def _branch_of_31(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    extra = draw(st.lists(hashes, min_size=31 - len(r.chain_siblings), max_size=31 - len(r.chain_siblings)))
    return attrs.evolve(r, chain_siblings=r.chain_siblings + tuple(extra))


def _size_not_power(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    # The limit probed on both sides (2^h - 1, 2^h + 1, the next and previous powers), or any u32.
    size = 1 << len(r.chain_siblings)
    near = st.sampled_from([size - 1, size + 1, size << 1, size >> 1, 0, size | 1 << 31])
    return attrs.evolve(r, merkle_size=draw((near | u32s).filter(lambda s: s != size and 0 <= s < 1 << 32)))


def _wrong_magic(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    magic = draw(st.binary(min_size=4, max_size=4).filter(lambda m: m != MERGED_MINING_MAGIC))
    return _at_output_3(magic=magic)(draw, r)


def _root_mismatch(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    root = draw(hashes.filter(lambda h: h != r.chain_branch.evaluate(r.aux_hash)))
    return _at_output_3(root_override=root)(draw, r)


def _in_non_coinbase(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    # A pool-independent transaction somewhere in a Bitcoin block carries our commitment.
    others = r.other_txids or (draw(hashes),)
    return attrs.evolve(
        r,
        other_txids=others,
        coinbase_position=draw(st.integers(1, len(others))),
        inputs="spend",
        spent_prevout=draw(hashes),
    )


def _real_prevout(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(r, inputs="spend", spent_prevout=draw(hashes))


def _several_inputs(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    # The null-prevout input first, then more: Bitcoin's IsCoinBase wants exactly one input.
    extra = TxIn(OutPoint(draw(hashes), draw(u32s)), draw(st.binary(max_size=8)), draw(u32s))
    return attrs.evolve(r, extra_inputs=(extra, *draw(st.lists(st.just(extra), max_size=1))))


def _broken_header_of_three(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    # Output 2 of exactly three outputs holds a bad header: no output 3 to fall back on.
    magic = draw(st.binary(min_size=4, max_size=4).filter(lambda m: m != MERGED_MINING_MAGIC))
    return attrs.evolve(r, header_slot=2, extra_outputs=(), magic=magic)


def _parent_has_our_chain_id(_draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(r, chain_id=(r.parent_version & 0xFFFF_FFFF) // 65536)


def _header_cut_short(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(r, header_cut=draw(st.integers(1, 40)), script_sig_suffix=b"")


def _second_magic(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(
        r, script_sig_suffix=r.script_sig_suffix + MERGED_MINING_MAGIC + draw(st.binary(max_size=8))
    )


def _header_bits(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    return attrs.evolve(r, header_bits=draw(u32s.filter(lambda b: b != r.bits)))


def _header_chain_id(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    # The proof is mined for another chain id (another slot of the merged-mining tree).
    other = draw(u32s.filter(lambda c: c != r.chain_id and c != parent_chain_id_of(r)))
    return attrs.evolve(r, chain_id=other, ctx_chain_id=r.chain_id)


def parent_chain_id_of(r: AuxPowRecipe) -> int:
    return (r.parent_version & 0xFFFF_FFFF) // 65536


def _header_height(draw: st.DrawFn, r: AuxPowRecipe) -> AuxPowRecipe:
    offset = draw(st.integers(-r.required_height, 2**16).filter(lambda o: o != 0))
    return attrs.evolve(r, header_height_offset=offset)


CATALOGUE: tuple[InvalidCase, ...] = (
    _case(
        "wrong-index", "WrongIndex", "the chain slot must be expected_index(nonce, chain_id, h)", _wrong_index
    ),
    _case(
        "index-bit-above-height",
        "WrongIndex",
        "a mask bit above the branch height changes the slot, not the root",
        _bit_above_height,
    ),
    _case("branch-of-31", "MerkleBranchTooLong", "a chain branch has at most 30 hashes", _branch_of_31),
    _case("merkle-size-not-2^h", "InvalidMerkleSize", "the header's merkle size is 2^h", _size_not_power),
    _case("wrong-magic", "MissingHeader", "the header starts with fabe6d6d", _wrong_magic),
    _case(
        "header-script-43-bytes",
        "MissingHeader",
        "the header output script is exactly 44 bytes",
        _at_output_3(header_cut=1),
        layouts=OUTPUT,
    ),
    _case(
        "header-script-45-bytes",
        "MissingHeader",
        "the header output script is exactly 44 bytes",
        _at_output_3(header_suffix=b"\x00"),
        layouts=OUTPUT,
    ),
    _case(
        "header-in-op-return",
        "MissingHeader",
        "the header is the bare script, not an OP_RETURN push",
        _at_output_3(header_prefix=b"\x6a\x2c"),
        layouts=OUTPUT,
    ),
    _case(
        "root-mismatch",
        "MissingMerkleRoot",
        "the header commits to the root the chain branch yields",
        _root_mismatch,
    ),
    _case(
        "coinbase-not-in-parent-block",
        "MerkleRootIncorrect",
        "the coinbase branch leads to the parent's merkle root",
        _evolve(tamper_parent_root=True),
    ),
    _case(
        "commitment-in-non-coinbase",
        "CoinbaseNotFirst",
        "the commitment is in the parent's coinbase, index 0",
        _in_non_coinbase,
        exposes=(_ANY_TX,),
    ),
    _case(
        "coinbase-without-inputs",
        "CoinbaseNoInputs",
        "a coinbase has an input",
        _evolve(inputs="none"),
        exposes=(_ANY_TX,),
    ),
    _case(
        "coinbase-with-real-prevout",
        "NotACoinbase",
        "a coinbase spends the null prevout",
        _real_prevout,
        exposes=(_ANY_TX,),
    ),
    _case(
        "coinbase-with-several-inputs",
        "NotACoinbase",
        "a coinbase has exactly one input",
        _several_inputs,
        exposes=(_ANY_TX,),
    ),
    _case(
        "parent-has-our-chain-id",
        "ParentHasChainId",
        "the parent chain must not carry our chain id",
        _parent_has_our_chain_id,
    ),
    _case(
        "no-output-2",
        "CoinbaseInvalidOutputs",
        "the output-script layout needs an output 2",
        _evolve(drop_header=True),
        layouts=OUTPUT,
    ),
    _case(
        "header-broken-in-output-2-of-3",
        "CoinbaseInvalidOutputs",
        "a bad header in output 2 with no output 3 to fall back on",
        _broken_header_of_three,
        layouts=OUTPUT,
    ),
    _case(
        "multiple-headers",
        "MultipleHeaders",
        "the magic appears once in the scriptSig",
        _second_magic,
        layouts=SCRIPT_SIG,
    ),
    _case(
        "header-cut-short",
        "InvalidSlice",
        "the scriptSig holds all 44 header bytes",
        _header_cut_short,
        layouts=SCRIPT_SIG,
    ),
    _case(
        "insufficient-pow",
        "InvalidPow",
        "the parent hash is at most the target",
        _evolve(pow="miss"),
        layouts=OUTPUT,
        level="pow",
    ),
    _case(
        "header-bits-mismatch",
        "WrongBits",
        "the header's bits are what retargeting requires",
        _header_bits,
        layouts=OUTPUT,
        level="header",
        exposes=(_FIELDS,),
    ),
    _case(
        "header-chain-id-mismatch",
        "WrongChainId",
        "the header's chain id is this chain's",
        _header_chain_id,
        layouts=OUTPUT,
        level="header",
        exposes=(_FIELDS,),
    ),
    _case(
        "header-without-auxpow",
        "MissingAuxPow",
        "only genesis may carry an AuxPowHeader without a proof",
        _evolve(omit_auxpow=True),
        layouts=OUTPUT,
        level="header",
    ),
    _case(
        "header-height-mismatch",
        "WrongHeight",
        "the header's height is the last PoW height + 1",
        _header_height,
        layouts=OUTPUT,
        level="header",
        exposes=(_FIELDS,),
    ),
)

BY_NAME: dict[str, InvalidCase] = by_name(CATALOGUE)
STRUCTURAL: tuple[str, ...] = tuple(c.name for c in CATALOGUE if c.level == "structure")


@st.composite
def corrupted_cases(draw: st.DrawFn, /, corruption: InvalidCase | str, **knobs: Any) -> AuxPowCase:
    """A valid proof with exactly this corruption applied (layout drawn from those it applies to)."""
    c = BY_NAME[corruption] if isinstance(corruption, str) else corruption
    knobs.setdefault("layout", st.sampled_from(c.layouts))
    recipe = draw(auxpow_recipes(**knobs))
    return case_of(c.apply(draw, recipe))


__all__ = ["BY_NAME", "CATALOGUE", "CHECK", "CHECK_POW", "STRUCTURAL", "Corruption", "corrupted_cases"]
