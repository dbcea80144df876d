"""Conformance vectors for AuxPoW: compact bits, proof of work, the expected index, `AuxPow::check`,
`check_pow` and the aggregate hash.

Expected verdicts come from `models/auxpow.py` (the secure rule). Valid proofs are drawn by
`strategies/auxpow.py` for each layout and root byte order; each entry of the corruption catalogue
(`strategies/corruptions.py`) gives one case per layout it applies to, with the origin of the rule it
breaks; the boundaries (a chain branch of 29/30/31 hashes, the header in output 3, the magic at
offset 0 of the scriptSig, merkle sizes around 2^h, every compact exponent and the sign bit) get
cases of their own. Namecoin's own proofs (namecoin-core's unit and functional tests) are accepted
under its convention (layout "script-sig", root order "reversed").

Quirk tags follow alys_pbt/deviations.py: `auxpow-any-tx-commitment` answers ok where the committed
transaction is not the parent's coinbase; `auxpow-check-pow-aborts` raises NodePanic where check_pow
must reject a structurally broken proof; `auxpow-header-fields-unchecked` accepts an AuxPowHeader
whose own bits, chain id or height are not what the chain requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from alys_pbt import deviations
from alys_pbt.interface import Target
from alys_pbt.models import auxpow as ref
from alys_pbt.models.auxpow import LAYOUTS, ROOT_ORDERS, AuxPow, AuxPowHeader, PowContext
from alys_pbt.models.bitcoin import (
    CORE_ONLY_RULES,
    NULL_OUTPOINT,
    BlockHeader,
    DecodeError,
    MerkleBranch,
    Origin,
    Reader,
    Transaction,
    TxIn,
    TxOut,
    sha256d,
)
from alys_pbt.strategies.auxpow import (
    EASY_BITS,
    EDGE_MANTISSAS,
    AuxPowCase,
    AuxPowRecipe,
    auxpow_cases,
    case_of,
    compact_bits,
    grind,
    pow_probes,
)
from alys_pbt.strategies.bitcoin import hashes, u32s
from alys_pbt.strategies.corruptions import CATALOGUE, Corruption
from alys_pbt.strategies.retarget import targets
from alys_pbt.vectors.families.bitcoin import (
    BIG_NAT,
    BOOL,
    COORDINATE,
    GENESIS_HEADER,
    HASH32,
    HEX,
    MARATHON,
    NAT,
    U32,
    array_of,
    draw,
    obj,
    reference_verdict,
    slug,
    unique_names,
)
from alys_pbt.vectors.rule import (
    Case,
    Expected,
    Json,
    Outputs,
    Rule,
    from_hex,
    from_json_int,
    hex_bytes,
    to_json_int,
)

ANY_TX = "auxpow-any-tx-commitment"
ABORTS = "auxpow-check-pow-aborts"
FIELDS = "auxpow-header-fields-unchecked"
# The errors the node's AuxPow::check never raises (no index-0 and no coinbase check: ANY_TX).
_COINBASE_ERRORS = frozenset({"CoinbaseNotFirst", "NotACoinbase", "CoinbaseNoInputs"})
_HEADER_ERRORS = frozenset({"WrongChainId", "WrongBits", "WrongHeight"})
_STRUCTURAL_ERRORS = frozenset(cls.__name__ for cls in ref.AuxPowError.__subclasses__())
_ORIGIN_OF_KIND = {
    "node": "node",
    "namecoin": "namecoin",
    "bitcoin-consensus": "bitcoin-consensus",
    "bitcoin-core": "bitcoin-consensus",
    "rust-bitcoin": "node",
    "ietf": "ietf",
    "suite-hardening": "suite-hardening",
}
NAMECOIN_CHAIN_ID = 1  # Namecoin's nAuxpowChainId
ALYS_CHAIN_ID = 727272  # testnet chain.json


def _origin(origins: tuple[Origin, ...]) -> tuple[str, str]:
    """The vector origin (first listed) and the full source text of a rule's origins."""
    return _ORIGIN_OF_KIND[origins[0].kind], "; ".join(str(o) for o in origins)


# --- Compact bits ----------------------------------------------------------------------------------

# Every exponent edge: 0..3 (the mantissa shifted down), 4 and 32..36 (up to and past 2^256), 255.
EDGE_EXPONENTS = (0, 1, 2, 3, 4, 5, 29, 32, 33, 34, 35, 36, 64, 255)
# Bitcoin Core's arith_uint256 SetCompact tests, with rust-bitcoin's zero for the sign bit.
CORE_COMPACT = (
    0x00000000,
    0x00123456,
    0x01003456,
    0x01123456,
    0x02008000,
    0x05009234,
    0x04923456,
    0x04123456,
    0x20123456,
    0x1D00FFFF,
    0x207FFFFF,
    0x1B0404CB,
)


def _target_case(name: str, bits: int, **extra: Any) -> Case:
    return Case(
        name,
        {"bits": bits},
        reference_verdict(lambda: {"target": to_json_int(ref.target_from_compact(bits))}),
        **extra,
    )


def _generate_target_from_compact(seed: int, n: int) -> list[Case]:
    cases = [_target_case(f"valid-{i:04d}", b) for i, b in enumerate(draw(compact_bits(), seed, "bits", n=n))]
    seen = set()
    for e in EDGE_EXPONENTS:
        for m in (0x800000, 0x7FFFFF, 0x800001, 0x000001, 0x008000, 0x000080, 0x123456):
            bits = e << 24 | m
            seen.add(bits)
            cases.append(_target_case(f"boundary-exp-{e}-mant-{m:06x}", bits))
    for m in EDGE_MANTISSAS:
        if 3 << 24 | m not in seen:
            cases.append(_target_case(f"boundary-exp-3-mant-{m:06x}", 3 << 24 | m))
    for bits in CORE_COMPACT:
        if bits not in seen:
            cases.append(
                _target_case(
                    f"boundary-core-{bits:08x}", bits, source="Bitcoin Core src/test/arith_uint256_tests.cpp"
                )
            )
    cases.append(_target_case("boundary-ffffffff", 0xFFFF_FFFF))
    return unique_names(cases)


def _compact_case(name: str, target: int) -> Case:
    return Case(
        name,
        {"target": to_json_int(target)},
        reference_verdict(lambda: {"bits": ref.compact_from_target(target)}),
    )


def _generate_compact_from_target(seed: int, n: int) -> list[Case]:
    cases = [
        _compact_case(f"valid-{i:04d}", t)
        for i, t in enumerate(draw(targets(min_target=0), seed, "targets", n=n))
    ]
    edges = {
        "zero": 0,
        "one": 1,
        "0x7f": 0x7F,
        "0x80": 0x80,
        "0xff": 0xFF,
        "0x7fff": 0x7FFF,
        "0x8000": 0x8000,
        "0x7fffff": 0x7FFFFF,
        "0x800000": 0x800000,
        "0xffffff": 0xFFFFFF,
        "0x1000000": 0x1000000,
        "0x12345600": 0x12345600,
        "bitcoin-limit": 0xFFFF << 208,
        "regtest-limit": 0x7FFFFF << 232,
        "2^255": 1 << 255,
        "2^256-1": (1 << 256) - 1,
    }
    for k in range(33):  # each byte length, at its top with the sign bit set and clear
        edges[f"2^{8 * k}-1"] = (1 << 8 * k) - 1 if k else 0
        if k:
            edges[f"0x80-at-byte-{k}"] = 0x80 << 8 * (k - 1)
    seen: set[int] = set()
    for label, t in edges.items():
        if t not in seen:
            seen.add(t)
            cases.append(_compact_case(f"boundary-{slug(label)}", t))
    return unique_names(cases)


def _replay_target(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"target": to_json_int(target.auxpow.target_from_compact(inputs["bits"]))}


def _replay_compact(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"bits": target.auxpow.compact_from_target(from_json_int(inputs["target"]))}


# --- Proof of work ---------------------------------------------------------------------------------


def _meets_case(name: str, block_hash: bytes, bits: int) -> Case:
    return Case(
        name,
        {"hash": hex_bytes(block_hash), "bits": bits},
        reference_verdict(lambda: {"meets": ref.hash_meets_target(block_hash, bits)}),
    )


def _le(n: int) -> bytes:
    return n.to_bytes(32, "little")


def _generate_hash_meets_target(seed: int, n: int) -> list[Case]:
    cases = [
        _meets_case(f"valid-{i:04d}", h, b)
        for i, (h, b) in enumerate(draw(pow_probes(), seed, "probes", n=n))
    ]
    top = (1 << 256) - 1
    for bits in (EASY_BITS, 0x1D00FFFF, 0x1B0404CB, 0x03123456, 0x01120000, 0x22000001):
        t = ref.target_from_compact(bits)
        for label, value in (("at", t), ("below", t - 1), ("above", t + 1)):
            cases.append(
                _meets_case(f"boundary-{bits:08x}-{label}-target", _le(min(max(value, 0), top)), bits)
            )
    # A zero target (a negative mantissa, or a shift past 2^256): only the zero hash meets it.
    for bits in (0x04800000, 0x00000000, 0x23000001):
        cases.append(_meets_case(f"boundary-zero-target-{bits:08x}-zero-hash", bytes(32), bits))
        cases.append(_meets_case(f"boundary-zero-target-{bits:08x}-hash-1", _le(1), bits))
    cases.append(_meets_case("boundary-all-ones-hash-easy", _le(top), EASY_BITS))
    cases.append(_meets_case("boundary-small-le-large-be", _le(1 << 248), 0x1D00FFFF))  # 2^248 LE, 1 BE
    cases.append(_meets_case("boundary-large-le-small-be", _le(1), 0x03000001))  # 1 LE, 2^248 BE
    return unique_names(cases)


def _pow_case(name: str, header: bytes, bits: int, **extra: Any) -> Case:
    return Case(
        name,
        {"header": hex_bytes(header), "bits": bits},
        reference_verdict(lambda: {"meets": ref.check_proof_of_work(BlockHeader.from_bytes(header), bits)}),
        **extra,
    )


@st.composite
def _ground_headers(draw_: st.DrawFn, *, meet: bool) -> BlockHeader:
    header = BlockHeader(
        draw_(st.integers(1, 2**31 - 1)), draw_(hashes), draw_(hashes), draw_(u32s), EASY_BITS, 0
    )
    return grind(header, EASY_BITS, meet=meet)


def _generate_check_proof_of_work(seed: int, n: int) -> list[Case]:
    cases = []
    for meet in (True, False):
        for i, h in enumerate(draw(_ground_headers(meet=meet), seed, "pow", meet, n=n)):
            cases.append(_pow_case(f"valid-{'meets' if meet else 'misses'}-{i:04d}", h.to_bytes(), EASY_BITS))
    genesis = "Bitcoin block 0 (hash about 2^212)"
    for bits in (0x1D00FFFF, 0x1B00FFFF, 0x1C00FFFF, 0x1B7FFFFF):
        cases.append(
            _pow_case(
                f"boundary-bitcoin-genesis-{bits:08x}",
                GENESIS_HEADER,
                bits,
                origin="bitcoin-consensus",
                source=genesis,
            )
        )
    # The genesis header's hash as a compact target (rounded down, so just below it): misses; one up: meets.
    g = ref.target_from_compact(ref.compact_from_target(int.from_bytes(sha256d(GENESIS_HEADER), "little")))
    bits = ref.compact_from_target(g)
    cases.append(_pow_case("boundary-genesis-hash-compact", GENESIS_HEADER, bits))
    cases.append(_pow_case("boundary-genesis-hash-compact-plus-1", GENESIS_HEADER, bits + 1))
    cases.append(_pow_case("boundary-zero-target", GENESIS_HEADER, 0x1D800000))
    return unique_names(cases)


def _replay_meets(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"meets": target.auxpow.hash_meets_target(from_hex(inputs["hash"]), inputs["bits"])}


def _replay_pow(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"meets": target.auxpow.check_proof_of_work(from_hex(inputs["header"]), inputs["bits"])}


# --- The expected index ----------------------------------------------------------------------------


def _index_case(name: str, nonce: int, chain_id: int, h: int) -> Case:
    return Case(
        name,
        {"nonce": nonce, "chain_id": chain_id, "h": h},
        reference_verdict(lambda: {"index": ref.expected_index(nonce, chain_id, h)}),
    )


def _generate_expected_index(seed: int, n: int) -> list[Case]:
    drawn = draw(st.tuples(u32s, u32s, st.integers(0, 30)), seed, "index", n=n)
    cases = [_index_case(f"valid-{i:04d}", *t) for i, t in enumerate(drawn)]
    # Every height 0..30, with the largest nonce and chain id (u32 products wrap a C int), small ones,
    # and Namecoin's chain id 1 with the nonce its unit tests use.
    for h in range(31):
        cases.append(_index_case(f"boundary-h{h}-max", 2**32 - 1, 2**32 - 1, h))
        cases.append(_index_case(f"boundary-h{h}-alys", 0x8000_0000 + h, ALYS_CHAIN_ID, h))
        cases.append(_index_case(f"boundary-h{h}-namecoin", 7, NAMECOIN_CHAIN_ID, h))
    return unique_names(cases)


def _replay_index(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"index": target.auxpow.expected_index(inputs["nonce"], inputs["chain_id"], inputs["h"])}


# --- AuxPow::check ---------------------------------------------------------------------------------

# A small valid proof to edit (the quirk regression vectors start from it): an empty chain branch,
# no other transactions in the parent block, a BIP34 height push as the scriptSig.
BASE = AuxPowRecipe(
    aux_hash=sha256d(b"alys aux block"),
    chain_id=ALYS_CHAIN_ID,
    layout="output-script",
    chain_siblings=(),
    merkle_nonce=0,
    bits=EASY_BITS,
    parent_version=0x2000_0000,  # chain id 0x2000
    parent_prev=bytes(32),
    parent_time=0,
    coinbase_version=1,
    coinbase_sequence=0xFFFF_FFFF,
    coinbase_lock_time=0,
    script_sig_prefix=b"\x03\x01\x00\x00",
    script_sig_suffix=b"",
    payouts=(TxOut(0, b"\x51"), TxOut(0, b"\x51")),
    extra_outputs=(),
    filler_script=b"",
    other_txids=(sha256d(b"another transaction"),),
)


def _siblings(h: int) -> tuple[bytes, ...]:
    return tuple(sha256d(i.to_bytes(4, "little")) for i in range(h))


def _check_inputs(case: AuxPowCase) -> dict[str, Json]:
    return {
        "auxpow": hex_bytes(case.auxpow.to_bytes()),
        "aux_hash": hex_bytes(case.aux_hash),
        "chain_id": case.chain_id,
        "layout": case.layout,
        "root_order": case.root_order,
    }


def decode_auxpow(data: bytes) -> AuxPow:
    """The reference's decoding of AuxPoW bytes, as the node's decoder (rust-bitcoin) reads them: a
    coinbase without inputs, in the extended form rust-bitcoin writes for it, is read, although
    Bitcoin Core refuses that form (models/bitcoin.py CORE_ONLY_RULES); only the catalogue's
    `coinbase-without-inputs` builds one, to reach the check's CoinbaseNoInputs."""
    try:
        return AuxPow.from_bytes(data)
    except DecodeError as err:
        if err.rule not in CORE_ONLY_RULES:
            raise
    r = Reader(data, "auxpow")
    version = r.i32("tx version")
    if (r.u8("input count"), r.u8("segwit flag"), r.count("input count", 41)) != (0, 1, 0):
        raise DecodeError("auxpow", r.pos, "not a transaction without inputs")
    outputs = tuple(
        TxOut(r.u64("output value"), r.var_bytes("output script")) for _ in range(r.count("output count", 9))
    )
    coinbase = Transaction(version, (), outputs, r.u32("tx lock_time"))
    auxpow = AuxPow(
        coinbase,
        r.take(32, "auxpow block_hash"),
        MerkleBranch.read(r),
        MerkleBranch.read(r),
        BlockHeader.read(r),
    )
    r.finish()
    return auxpow


def _check_expected(inputs: Mapping[str, Json]) -> Expected:
    def run() -> Outputs:
        auxpow = decode_auxpow(from_hex(inputs["auxpow"]))
        ref.check(
            auxpow, from_hex(inputs["aux_hash"]), inputs["chain_id"], inputs["layout"], inputs["root_order"]
        )
        return {}

    return reference_verdict(run)


def _check_quirks(expected: Expected, layout: str) -> tuple[str, ...]:
    """The node's check has no coinbase rule: where one decides, it accepts (in the scriptSig layout,
    a coinbase without inputs still has no scriptSig to hold the header: CoinbaseNoInputs there too)."""
    if expected.error in ("CoinbaseNotFirst", "NotACoinbase"):
        return (ANY_TX,)
    if expected.error == "CoinbaseNoInputs" and layout == "output-script":
        return (ANY_TX,)
    return ()


def _check_case(name: str, case: AuxPowCase, **extra: Any) -> Case:
    inputs = _check_inputs(case)
    expected = _check_expected(inputs)
    return Case(name, inputs, expected, quirks=_check_quirks(expected, case.layout), **extra)


def _corrupt(corruption: Corruption, recipe: AuxPowRecipe, seed: int, *label: object) -> AuxPowCase:
    """`corruption` applied to a fixed recipe, its draws seeded by the label."""
    return draw(
        st.composite(lambda d: case_of(corruption.apply(d, recipe)))(),
        seed,
        "corrupt",
        corruption.name,
        *label,
    )[0]


def _namecoin_proof(h: int, nonce: int, parent_chain_id: int) -> tuple[bytes, bytes]:
    """A proof built as namecoin-core's unit tests build one (src/test/auxpow_tests.cpp CAuxpowBuilder):
    chain branch uint256(0..h-1) at getExpectedIndex's slot, the root written reversed after the magic,
    pushed in the scriptSig after `2809 2013 OP_2`; the coinbase alone in a version-5 parent block."""
    aux_hash = (12345).to_bytes(32, "little")  # the unit test's hashAux
    branch = MerkleBranch(
        tuple(i.to_bytes(32, "little") for i in range(h)), ref.expected_index(nonce, NAMECOIN_CHAIN_ID, h)
    )
    root = branch.evaluate(aux_hash)
    data = ref.MERGED_MINING_MAGIC + root[::-1] + (1 << h).to_bytes(4, "little") + nonce.to_bytes(4, "little")
    script = bytes.fromhex("02f90a02dd0752") + bytes([len(data)]) + data
    coinbase = Transaction(2, (TxIn(NULL_OUTPOINT, script, 0xFFFF_FFFF),), (), 0)
    parent = BlockHeader(5 | parent_chain_id << 16, bytes(32), coinbase.txid, 0, 0, 0)
    return AuxPow(coinbase, bytes(32), MerkleBranch((), 0), branch, parent).to_bytes(), aux_hash


def _namecoin_functional_proof() -> tuple[bytes, bytes]:
    """test/functional/test_framework/auxpow.py constructAuxpow: the magic at offset 0, the block hash
    as getauxblock shows it (reversed), size 1, nonce 0, a coinbase without outputs."""
    aux_hash = sha256d(b"an aux block")
    script = ref.MERGED_MINING_MAGIC + aux_hash[::-1] + (1).to_bytes(4, "little") + bytes(4)
    coinbase = Transaction(1, (TxIn(NULL_OUTPOINT, script, 0xFFFF_FFFF),), (), 0)
    parent = BlockHeader(1, bytes(32), coinbase.txid, 0, 0, 0)
    return AuxPow(
        coinbase, parent.hash, MerkleBranch((), 0), MerkleBranch((), 0), parent
    ).to_bytes(), aux_hash


def _raw_check_case(
    name: str, auxpow: bytes, aux_hash: bytes, chain_id: int, layout: str, root_order: str, **extra: Any
) -> Case:
    inputs = {
        "auxpow": hex_bytes(auxpow),
        "aux_hash": hex_bytes(aux_hash),
        "chain_id": chain_id,
        "layout": layout,
        "root_order": root_order,
    }
    expected = _check_expected(inputs)
    return Case(name, inputs, expected, quirks=_check_quirks(expected, layout), **extra)


def _over_real_coinbase(raw: bytes) -> tuple[bytes, bytes]:
    coinbase = Transaction.from_bytes(raw)
    parent = BlockHeader(0x20000000, bytes(32), coinbase.txid, 0, EASY_BITS, 0)
    auxpow = AuxPow(coinbase, bytes(32), MerkleBranch((), 0), MerkleBranch((), 0), parent)
    return auxpow.to_bytes(), coinbase.outputs[2].script_pubkey[4:36]


def _generate_check(seed: int, n: int) -> list[Case]:
    cases: list[Case] = []
    per = max((n + 3) // 4, 2)  # the first draw is the simplest proof: at least one more per combination
    for layout in LAYOUTS:
        for order in ROOT_ORDERS:
            for i, valid in enumerate(
                draw(
                    auxpow_cases(layout=layout, root_order=order, max_height=6),
                    seed,
                    "valid",
                    layout,
                    order,
                    n=per,
                )
            ):
                cases.append(_check_case(f"valid-{layout}-{order}-{i:04d}", valid))
    # One case per catalogue entry AuxPow::check rejects, for each layout it applies to.
    for c in CATALOGUE:
        if c.level != "structure":
            continue
        origin, source = _origin(c.origins)
        for where in c.layouts:
            from alys_pbt.strategies.corruptions import corrupted_cases

            got = draw(corrupted_cases(c, layout=where, max_height=4), seed, "catalogue", c.name, where)[0]
            cases.append(
                _check_case(
                    f"corruption-{slug(c.name)}-{where}", got, origin=origin, source=source, note=c.why
                )
            )
    # Boundaries.
    vin = attrs.evolve(BASE, layout="script-sig")
    for label, recipe in (
        ("branch-29", attrs.evolve(BASE, chain_siblings=_siblings(29))),
        ("branch-30", attrs.evolve(BASE, chain_siblings=_siblings(30))),
        ("branch-31", attrs.evolve(BASE, chain_siblings=_siblings(31))),
        ("branch-30-script-sig", attrs.evolve(vin, chain_siblings=_siblings(30))),
        ("branch-31-script-sig", attrs.evolve(vin, chain_siblings=_siblings(31))),
        ("header-in-output-3", attrs.evolve(BASE, header_slot=3, filler_script=b"\x6a")),
        ("header-in-output-2-of-4", attrs.evolve(BASE, extra_outputs=(TxOut(1, b"\x51"),))),
        ("script-sig-header-at-offset-0", attrs.evolve(vin, script_sig_prefix=b"")),
        ("script-sig-header-at-end", attrs.evolve(vin, script_sig_suffix=b"")),
        (
            "reversed-root-output-script",
            attrs.evolve(BASE, root_order="reversed", chain_siblings=_siblings(2)),
        ),
        ("reversed-root-script-sig", attrs.evolve(vin, root_order="reversed", chain_siblings=_siblings(2))),
        # The parent's chain id is its version as u32 over 65536: one below, one above and equal to
        # ours, and the top chain id, whose version is negative as an i32.
        ("parent-chain-id-one-below", attrs.evolve(BASE, chain_id=0x1234, parent_version=0x1233 << 16 | 5)),
        ("parent-chain-id-one-above", attrs.evolve(BASE, chain_id=0x1234, parent_version=0x1235 << 16)),
        ("parent-chain-id-equal", attrs.evolve(BASE, chain_id=0x1234, parent_version=0x1234 << 16 | 0xFFFF)),
        ("parent-chain-id-equal-top", attrs.evolve(BASE, chain_id=0xFFFF, parent_version=-(1 << 16))),
        ("chain-id-0", attrs.evolve(BASE, chain_id=0, chain_siblings=_siblings(3))),
        (
            "chain-id-max",
            attrs.evolve(BASE, chain_id=2**32 - 1, chain_siblings=_siblings(3), merkle_nonce=2**32 - 1),
        ),
        ("coinbase-at-index-0-of-7", attrs.evolve(BASE, other_txids=_siblings(6))),
    ):
        cases.append(_check_case(f"boundary-{label}", case_of(recipe)))
    h = 3
    for label, size in (
        ("one-below-2-pow-h", (1 << h) - 1),
        ("one-above-2-pow-h", (1 << h) + 1),
        ("2-pow-h-plus-1", 1 << (h + 1)),
        ("2-pow-h-minus-1", 1 << (h - 1)),
        ("zero", 0),
        ("2-pow-h-with-bit-31", 1 << h | 1 << 31),
    ):
        recipe = attrs.evolve(BASE, chain_siblings=_siblings(h), merkle_size=size)
        cases.append(_check_case(f"boundary-merkle-size-{slug(label)}", case_of(recipe)))
    # Each slot of a tree of height 2 (the expected one passes, the others are WrongIndex).
    for xor in range(4):
        recipe = attrs.evolve(BASE, chain_siblings=_siblings(2), mask_xor=xor)
        cases.append(_check_case(f"boundary-slot-xor-{xor}", case_of(recipe)))
    # A proof for Namecoin's order, checked in Alys's (the root is then not found).
    reversed_ = case_of(attrs.evolve(vin, root_order="reversed", chain_siblings=_siblings(2)))
    raw, aux = reversed_.auxpow.to_bytes(), reversed_.aux_hash
    cases.append(
        _raw_check_case(
            "boundary-reversed-root-checked-internal", raw, aux, ALYS_CHAIN_ID, "script-sig", "internal"
        )
    )
    internal = case_of(attrs.evolve(vin, chain_siblings=_siblings(2)))
    cases.append(
        _raw_check_case(
            "boundary-internal-root-checked-reversed",
            internal.auxpow.to_bytes(),
            internal.aux_hash,
            ALYS_CHAIN_ID,
            "script-sig",
            "reversed",
        )
    )
    # Real pool coinbases (alys-rules.md §7) and Namecoin's own proofs.
    for label, coinbase in (("marathon", MARATHON), ("coordinate", COORDINATE)):
        raw, aux = _over_real_coinbase(coinbase)
        cases.append(
            _raw_check_case(
                f"boundary-real-coinbase-{label}",
                raw,
                aux,
                ALYS_CHAIN_ID,
                "output-script",
                "internal",
                source="alys-rules.md §7: pool coinbases from the node's tests",
            )
        )
    nmc = "namecoin-core src/test/auxpow_tests.cpp CAuxpowBuilder"
    for h_ in (0, 1, 3, 30):
        raw, aux = _namecoin_proof(h_, 7, 42)
        cases.append(
            _raw_check_case(
                f"boundary-namecoin-unit-h{h_}",
                raw,
                aux,
                NAMECOIN_CHAIN_ID,
                "script-sig",
                "reversed",
                origin="namecoin",
                source=nmc,
            )
        )
    raw, aux = _namecoin_proof(3, 7, NAMECOIN_CHAIN_ID)
    cases.append(
        _raw_check_case(
            "boundary-namecoin-unit-parent-has-chain-id",
            raw,
            aux,
            NAMECOIN_CHAIN_ID,
            "script-sig",
            "reversed",
            origin="namecoin",
            source=nmc,
        )
    )
    raw, aux = _namecoin_functional_proof()
    functional = "namecoin-core test/functional/test_framework/auxpow.py constructAuxpow"
    cases.append(
        _raw_check_case(
            "boundary-namecoin-functional",
            raw,
            aux,
            NAMECOIN_CHAIN_ID,
            "script-sig",
            "reversed",
            origin="namecoin",
            source=functional,
        )
    )
    cases.append(
        _raw_check_case(
            "boundary-namecoin-functional-alys-order",
            raw,
            aux,
            NAMECOIN_CHAIN_ID,
            "script-sig",
            "internal",
            origin="namecoin",
            source=functional,
        )
    )
    # Bytes that do not decode.
    cases.append(
        _raw_check_case(
            "boundary-empty-bytes", b"", BASE.aux_hash, ALYS_CHAIN_ID, "output-script", "internal"
        )
    )
    base = case_of(BASE).auxpow.to_bytes()
    cases.append(
        _raw_check_case(
            "boundary-trailing-byte",
            base + b"\x00",
            BASE.aux_hash,
            ALYS_CHAIN_ID,
            "output-script",
            "internal",
        )
    )
    cases.append(
        _raw_check_case(
            "boundary-parent-cut", base[:-1], BASE.aux_hash, ALYS_CHAIN_ID, "output-script", "internal"
        )
    )
    # The quirk's regression vector: a commitment in the parent block's second transaction.
    corruption = next(c for c in CATALOGUE if c.name == "commitment-in-non-coinbase")
    origin, source = _origin(corruption.origins)
    cases.append(
        _check_case(
            f"quirk-{ANY_TX}",
            _corrupt(corruption, BASE, seed, "quirk"),
            origin=origin,
            source=f"{source}; the quirk: {deviations.get(ANY_TX).source}",
            note="the commitment sits in a non-coinbase transaction of the parent block",
        )
    )
    return unique_names(cases)


def _replay_check(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    target.auxpow.check(
        from_hex(inputs["auxpow"]),
        from_hex(inputs["aux_hash"]),
        inputs["chain_id"],
        inputs["layout"],
        inputs["root_order"],
    )
    return {}


# --- check_pow -------------------------------------------------------------------------------------

HEADER_SCHEMA = obj(
    {
        "range_start": HASH32,
        "range_end": HASH32,
        "bits": U32,
        "chain_id": U32,
        "height": NAT,
        "auxpow": {"oneOf": [HEX, {"type": "null"}]},
        "fee_recipient": {"type": "string", "pattern": "^0x[0-9a-f]{40}$"},
    }
)
CONTEXT_SCHEMA = obj(
    {"aggregate_hash": HASH32, "bits": U32, "chain_id": U32, "height": NAT, "override": BOOL}
)


def _pow_inputs(header: AuxPowHeader, ctx: PowContext) -> dict[str, Json]:
    return {
        "header": {
            "range_start": hex_bytes(header.range_start),
            "range_end": hex_bytes(header.range_end),
            "bits": header.bits,
            "chain_id": header.chain_id,
            "height": header.height,
            "auxpow": None if header.auxpow is None else hex_bytes(header.auxpow.to_bytes()),
            "fee_recipient": hex_bytes(header.fee_recipient),
        },
        "context": {
            "aggregate_hash": hex_bytes(ctx.aggregate_hash),
            "bits": ctx.bits,
            "chain_id": ctx.chain_id,
            "height": ctx.height,
            "override": ctx.override,
        },
    }


def pow_objects(inputs: Mapping[str, Json]) -> tuple[AuxPowHeader, PowContext]:
    """The model objects check_pow takes (alys_pbt/interface.py), rebuilt from a vector's inputs."""
    h, c = inputs["header"], inputs["context"]
    header = AuxPowHeader(
        range_start=from_hex(h["range_start"]),
        range_end=from_hex(h["range_end"]),
        bits=h["bits"],
        chain_id=h["chain_id"],
        height=h["height"],
        auxpow=None if h["auxpow"] is None else decode_auxpow(from_hex(h["auxpow"])),
        fee_recipient=from_hex(h["fee_recipient"]),
    )
    ctx = PowContext(from_hex(c["aggregate_hash"]), c["bits"], c["chain_id"], c["height"], c["override"])
    return header, ctx


def _check_pow_quirks(expected: Expected) -> tuple[str, ...]:
    """A structural rejection is a NodePanic as coded (ABORTS), or an accept where the node has no
    coinbase rule (ANY_TX, output-script layout); a header-field rejection is an accept (FIELDS)."""
    if expected.error in _COINBASE_ERRORS:
        return (ANY_TX, ABORTS)
    if expected.error in _STRUCTURAL_ERRORS:
        return (ABORTS,)
    if expected.error in _HEADER_ERRORS:
        return (FIELDS,)
    return ()


def _pow_header_case(name: str, header: AuxPowHeader, ctx: PowContext, **extra: Any) -> Case:
    inputs = _pow_inputs(header, ctx)

    def run() -> Outputs:
        ref.check_pow(*pow_objects(inputs))
        return {}

    expected = reference_verdict(run)
    return Case(name, inputs, expected, quirks=_check_pow_quirks(expected), **extra)


def _generate_check_pow(seed: int, n: int) -> list[Case]:
    cases: list[Case] = []
    # check_pow runs the production layout (output-script) and Alys's root order.
    drawn = draw(auxpow_cases(layout="output-script", max_height=5), seed, "valid", n=n)
    for i, valid in enumerate(drawn):
        cases.append(_pow_header_case(f"valid-{i:04d}", *valid.pow_header()))
    for c in CATALOGUE:
        if "output-script" not in c.layouts:
            continue
        from alys_pbt.strategies.corruptions import corrupted_cases

        got = draw(corrupted_cases(c, layout="output-script", max_height=4), seed, "catalogue", c.name)[0]
        origin, source = _origin(c.origins)
        cases.append(
            _pow_header_case(
                f"corruption-{slug(c.name)}", *got.pow_header(), origin=origin, source=source, note=c.why
            )
        )
    # The historical override skips only the target (block_number <= 533683): a miss passes, a
    # structural fault does not.
    miss_header, miss_ctx = case_of(attrs.evolve(BASE, pow="miss")).pow_header()
    cases.append(
        _pow_header_case("boundary-override-skips-target", miss_header, attrs.evolve(miss_ctx, override=True))
    )
    cases.append(_pow_header_case("boundary-no-override-target-missed", miss_header, miss_ctx))
    bad_header, bad_ctx = case_of(attrs.evolve(BASE, chain_siblings=_siblings(2), mask_xor=1)).pow_header()
    cases.append(
        _pow_header_case(
            "boundary-override-keeps-structure", bad_header, attrs.evolve(bad_ctx, override=True)
        )
    )
    header, ctx = case_of(attrs.evolve(BASE, chain_siblings=_siblings(30))).pow_header()
    cases.append(_pow_header_case("boundary-branch-30", header, ctx))
    header, ctx = case_of(attrs.evolve(BASE, chain_siblings=_siblings(31))).pow_header()
    cases.append(_pow_header_case("boundary-branch-31", header, ctx))
    header, ctx = case_of(BASE).pow_header()
    cases.append(
        _pow_header_case("boundary-height-one-below", attrs.evolve(header, height=ctx.height - 1), ctx)
    )
    cases.append(
        _pow_header_case("boundary-height-one-above", attrs.evolve(header, height=ctx.height + 1), ctx)
    )
    # The quirks' regression vectors, each from the small proof BASE.
    by_name = {c.name: c for c in CATALOGUE}
    for quirk, name, why in (
        (ABORTS, "wrong-index", "a proof that meets the target but sits at the wrong slot"),
        (FIELDS, "header-bits-mismatch", "the header claims bits the chain does not require"),
    ):
        c = by_name[name]
        origin, source = _origin(c.origins)
        got = _corrupt(c, BASE, seed, "quirk", quirk)
        cases.append(
            _pow_header_case(
                f"quirk-{quirk}",
                *got.pow_header(),
                origin=origin,
                source=f"{source}; the quirk: {deviations.get(quirk).source}",
                note=why,
            )
        )
    return unique_names(cases)


def _replay_check_pow(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    target.chain.check_pow(*pow_objects(inputs))
    return {}


# --- The aggregate hash ----------------------------------------------------------------------------


def _aggregate_case(name: str, block_hashes: list[bytes]) -> Case:
    return Case(
        name,
        {"block_hashes": [hex_bytes(h) for h in block_hashes]},
        reference_verdict(lambda: {"hash": hex_bytes(ref.aggregate_hash(block_hashes))}),
    )


def _generate_aggregate(seed: int, n: int) -> list[Case]:
    drawn = draw(st.lists(hashes, min_size=1, max_size=12), seed, "ranges", n=n)
    cases = [_aggregate_case(f"valid-{i:04d}", hs) for i, hs in enumerate(drawn)]
    for k in (1, 2, 3, 64):
        cases.append(_aggregate_case(f"boundary-{k}-blocks", list(_siblings(k))))
    cases.append(_aggregate_case("boundary-1-zero-block", [bytes(32)]))
    cases.append(_aggregate_case("boundary-repeated-block", [bytes(32), bytes(32)]))
    return unique_names(cases)


def _replay_aggregate(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"hash": hex_bytes(target.chain.aggregate_hash([from_hex(h) for h in inputs["block_hashes"]]))}


_AUXPOW_RS = "app/src/auxpow.rs"
CHECK_INPUTS = obj(
    {
        "auxpow": HEX,
        "aux_hash": HASH32,
        "chain_id": U32,
        "layout": {"enum": list(LAYOUTS)},
        "root_order": {"enum": list(ROOT_ORDERS)},
    }
)
EMPTY = obj({})

RULES: tuple[Rule, ...] = (
    Rule(
        id="auxpow/target-from-compact",
        summary="compact bits to a 256-bit target (a mantissa above 0x7fffff is 0; the shift wraps mod 256)",
        origin="node",
        source=f"{_AUXPOW_RS} via rust-bitcoin 0.30 Target::from_compact",
        generate=_generate_target_from_compact,
        replay=_replay_target,
        component="auxpow",
        inputs_schema=obj({"bits": U32}),
        outputs_schema=obj({"target": BIG_NAT}),
    ),
    Rule(
        id="auxpow/compact-from-target",
        summary="a 256-bit target to compact bits (GetCompact: the largest compact value not above it)",
        origin="bitcoin-consensus",
        source="Bitcoin Core src/arith_uint256.cpp GetCompact; rust-bitcoin 0.30 CompactTarget::from_target",
        generate=_generate_compact_from_target,
        replay=_replay_compact,
        component="auxpow",
        inputs_schema=obj({"target": BIG_NAT}),
        outputs_schema=obj({"bits": U32}),
    ),
    Rule(
        id="auxpow/hash-meets-target",
        summary="a block hash, read little-endian, meets the target of bits when it is at most the target",
        origin="bitcoin-consensus",
        source="Bitcoin Core src/pow.cpp CheckProofOfWork; rust-bitcoin 0.30 Target::is_met_by",
        generate=_generate_hash_meets_target,
        replay=_replay_meets,
        component="auxpow",
        inputs_schema=obj({"hash": HASH32, "bits": U32}),
        outputs_schema=obj({"meets": BOOL}),
    ),
    Rule(
        id="auxpow/check-proof-of-work",
        summary="an 80-byte parent header's sha256d meets the target of bits",
        origin="node",
        source=f"{_AUXPOW_RS} check_proof_of_work",
        generate=_generate_check_proof_of_work,
        replay=_replay_pow,
        component="auxpow",
        inputs_schema=obj({"header": {"type": "string", "pattern": "^0x[0-9a-f]{160}$"}, "bits": U32}),
        outputs_schema=obj({"meets": BOOL}),
    ),
    Rule(
        id="auxpow/expected-index",
        summary="the chain's slot in a merged-mining tree of height h, from the nonce and chain id",
        origin="namecoin",
        source="namecoin-core src/auxpow.cpp CAuxPow::getExpectedIndex; app/src/auxpow.rs get_expected_index",
        generate=_generate_expected_index,
        replay=_replay_index,
        component="auxpow",
        inputs_schema=obj(
            {"nonce": U32, "chain_id": U32, "h": {"type": "integer", "minimum": 0, "maximum": 30}}
        ),
        outputs_schema=obj({"index": U32}),
    ),
    Rule(
        id="auxpow/check",
        summary="AuxPow::check: the proof commits to the aux hash for the chain id, in the parent's coinbase",
        origin="node",
        source=f"{_AUXPOW_RS} AuxPow::check; namecoin-core src/auxpow.cpp CAuxPow::check",
        generate=_generate_check,
        replay=_replay_check,
        component="auxpow",
        inputs_schema=CHECK_INPUTS,
        outputs_schema=EMPTY,
    ),
    Rule(
        id="auxpow/check-pow",
        summary="check_pow: an AuxPowHeader finalizes its range (its "
        "fields as required, the target met, the proof valid)",
        origin="node",
        source="app/src/chain.rs check_pow",
        generate=_generate_check_pow,
        replay=_replay_check_pow,
        component="chain",
        inputs_schema=obj({"header": HEADER_SCHEMA, "context": CONTEXT_SCHEMA}),
        outputs_schema=EMPTY,
    ),
    Rule(
        id="auxpow/aggregate-hash",
        summary="the hash a miner commits to: sha256d of the range's "
        "block hashes, oldest first (one block is hashed too)",
        origin="node",
        source="app/src/auxpow_miner.rs AuxPowMiner (aggregate "
        "of the range's signing roots); alys-rules.md §1.1",
        generate=_generate_aggregate,
        replay=_replay_aggregate,
        component="chain",
        inputs_schema=obj({"block_hashes": array_of(HASH32, min_items=1)}),
        outputs_schema=obj({"hash": HASH32}),
    ),
)

UNREACHABLE: dict[str, str] = {}
