"""Structure-aware bad input for the Bitcoin wire formats: transactions, headers, AuxPoW.

A valid object is laid out as its tree of fields (`fields_of`): fixed-width bytes and CompactSize
sizes (counts and lengths), in consensus order. A mutation changes the tree, not random bytes, and
`encode` writes it back:

* `non-minimal-size`: a size in a wider CompactSize form than it needs (0xfd/0xfe/0xff prefix);
* `huge-count`: a count or length far past the bytes present (2^32 inputs, MAX_SIZE + 1 branch
  hashes, 2^64 - 1 script bytes ...), or one past what is there;
* `segwit-flag`: the marker with flag 0, 2 or 0xff, the flag set with every witness empty (with
  inputs, and with none), the witness section dropped;
* `long-script`: a script far longer than standard (a valid encoding: consensus decoding does
  not limit script size), its length in the 0xfe form when it needs it;
* `truncate`: the encoding cut at a field boundary (or one byte into the field);
* `trailing`: bytes after the structure.

Every mutant is labelled with its class (`Malformed.how`), so a property can `event()` it and a
test can ask that each class is reached.
"""

from __future__ import annotations

from typing import Literal

import attrs
from attrs import frozen
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from alys_pbt.models.auxpow import AuxPow
from alys_pbt.models.bitcoin import MAX_SIZE, MAX_VEC_SIZE, BlockHeader, MerkleBranch, Transaction, TxIn
from alys_pbt.models.reprs import pretty_as_repr
from alys_pbt.strategies.auxpow import auxpows
from alys_pbt.strategies.bitcoin import block_headers, transactions

Kind = Literal["header", "transaction", "auxpow"]
KINDS: tuple[Kind, ...] = ("header", "transaction", "auxpow")
HOWS = ("non-minimal-size", "huge-count", "segwit-flag", "long-script", "truncate", "trailing")
# A header has no sizes, scripts or segwit flag: only cuts and trailing bytes apply to it.
APPLIES: dict[str, tuple[Kind, ...]] = {
    h: KINDS if h in ("truncate", "trailing") else ("transaction", "auxpow") for h in HOWS
}
# CompactSize prefixes and the widths they announce.
WIDTH = {0xFD: 2, 0xFE: 4, 0xFF: 8}
# Counts no honest encoding of a few hundred bytes can back: Bitcoin Core's MAX_SIZE and
# rust-bitcoin's MAX_VEC_SIZE on either side, 2^32 (an index that wraps u32), the largest u64.
HUGE = (MAX_SIZE, MAX_SIZE + 1, MAX_VEC_SIZE, MAX_VEC_SIZE + 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1)


@frozen
class Field:
    """One node of the wire tree: fixed bytes, or a CompactSize (`prefix` forces its form)."""

    label: str
    value: bytes | int
    prefix: int | None = None  # None: minimal; 0xfd/0xfe/0xff: that form, whatever the value

    @property
    def is_size(self) -> bool:
        return isinstance(self.value, int)

    def to_bytes(self) -> bytes:
        if isinstance(self.value, bytes):
            return self.value
        return compact_size(self.value, self.prefix)


@frozen
class Malformed:
    """Bytes given to a decoder, what they were made from, and how they were broken."""

    kind: Kind
    data: bytes
    how: str
    detail: str

    def __repr__(self) -> str:
        # Up to 200 bytes the data print whole, as Python that rebuilds the record; longer, the first
        # 100 bytes and the length (a huge count or a long script is what `detail` says it is).
        n = len(self.data)
        data = (
            f"bytes.fromhex({self.data.hex()!r})" if n <= 200 else f"<{n} bytes {self.data[:100].hex()}...>"
        )
        return f"Malformed(kind={self.kind!r}, data={data}, how={self.how!r}, detail={self.detail!r})"

    _repr_pretty_ = pretty_as_repr  # Hypothesis prints attrs records field by field otherwise


def compact_size(n: int, prefix: int | None = None) -> bytes:
    """CompactSize of n, minimal unless `prefix` forces a form (values are cut to that width)."""
    if prefix is None:
        prefix = 0 if n < 0xFD else 0xFD if n <= 0xFFFF else 0xFE if n <= 0xFFFF_FFFF else 0xFF
    if prefix == 0:
        return bytes([n])
    return bytes([prefix]) + (n % (1 << 8 * WIDTH[prefix])).to_bytes(WIDTH[prefix], "little")


def encode(fields: list[Field]) -> bytes:
    return b"".join(f.to_bytes() for f in fields)


def tx_fields(tx: Transaction, *, extended: bool | None = None, flag: int = 1) -> list[Field]:
    """The tree of a transaction as rust-bitcoin writes it (`extended` forces or drops the segwit form)."""
    segwit = tx.uses_segwit_encoding if extended is None else extended
    out = [Field("version", tx.version.to_bytes(4, "little", signed=True))]
    if segwit:
        out += [Field("segwit marker", b"\x00"), Field("segwit flag", bytes([flag]))]
    out.append(Field("input count", len(tx.inputs)))
    for i in tx.inputs:
        out += [
            Field("prevout", i.prevout.txid + i.prevout.vout.to_bytes(4, "little")),
            Field("script_sig length", len(i.script_sig)),
            Field("script_sig", i.script_sig),
            Field("sequence", i.sequence.to_bytes(4, "little")),
        ]
    out.append(Field("output count", len(tx.outputs)))
    for o in tx.outputs:
        out += [
            Field("value", o.value.to_bytes(8, "little")),
            Field("script_pubkey length", len(o.script_pubkey)),
            Field("script_pubkey", o.script_pubkey),
        ]
    if segwit:
        for i in tx.inputs:
            out.append(Field("witness items", len(i.witness)))
            for item in i.witness:
                out += [Field("witness item length", len(item)), Field("witness item", item)]
    out.append(Field("lock_time", tx.lock_time.to_bytes(4, "little")))
    return out


def header_fields(h: BlockHeader) -> list[Field]:
    raw = h.to_bytes()
    cuts = (
        ("version", 0, 4),
        ("prev_block", 4, 36),
        ("merkle_root", 36, 68),
        ("time", 68, 72),
        ("bits", 72, 76),
        ("nonce", 76, 80),
    )
    return [Field(label, raw[a:b]) for label, a, b in cuts]


def branch_fields(b: MerkleBranch, which: str) -> list[Field]:
    return [
        Field(f"{which} branch length", len(b.hashes)),
        *(Field(f"{which} branch hash", x) for x in b.hashes),
        Field(f"{which} side mask", b.side_mask.to_bytes(4, "little")),
    ]


def auxpow_fields(a: AuxPow, *, coinbase: list[Field] | None = None) -> list[Field]:
    return [
        *(coinbase if coinbase is not None else tx_fields(a.coinbase_txn)),
        Field("block_hash", a.block_hash),
        *branch_fields(a.coinbase_branch, "coinbase"),
        *branch_fields(a.blockchain_branch, "chain"),
        *header_fields(a.parent_block),
    ]


Value = BlockHeader | Transaction | AuxPow  # what each Kind decodes to


def fields_of(value: Value) -> list[Field]:
    if isinstance(value, BlockHeader):
        return header_fields(value)
    if isinstance(value, Transaction):
        return tx_fields(value)
    return auxpow_fields(value)


def _transaction_of(value: Value) -> Transaction:
    """The transaction a case breaks: the value itself, or an AuxPoW's coinbase."""
    if isinstance(value, BlockHeader):
        raise InvalidArgument("a block header holds no transaction")
    return value if isinstance(value, Transaction) else value.coinbase_txn


_VALID: dict[Kind, st.SearchStrategy[Value]] = {
    "header": block_headers(),
    "transaction": transactions(),
    "auxpow": auxpows(max_height=3),
}


def _sizes(fields: list[Field]) -> list[int]:
    return [n for n, f in enumerate(fields) if f.is_size]


def _non_minimal(draw: st.DrawFn, kind: Kind, fields: list[Field]) -> tuple[list[Field], str]:
    at = draw(st.sampled_from(_sizes(fields)))
    value = fields[at].value
    assert isinstance(value, int)
    wider = [p for p, w in WIDTH.items() if value < {2: 0xFD, 4: 0x1_0000, 8: 0x1_0000_0000}[w]]
    prefix = draw(st.sampled_from(wider))
    fields[at] = attrs.evolve(fields[at], prefix=prefix)
    return fields, f"{fields[at].label} {value} as {prefix:#x}"


def _huge_count(draw: st.DrawFn, kind: Kind, fields: list[Field]) -> tuple[list[Field], str]:
    at = draw(st.sampled_from(_sizes(fields)))
    value = fields[at].value
    assert isinstance(value, int)
    rest = len(encode(fields[at + 1 :]))
    past = st.sampled_from([value + 1, rest, rest + 1])  # one more than there is, what is left, one past it
    n = draw(st.sampled_from(HUGE) | past | st.integers(rest, 2**64 - 1))
    fields[at] = attrs.evolve(fields[at], value=n)
    return fields, f"{fields[at].label} {value} -> {n}"


def _segwit_flag(draw: st.DrawFn, value: Value) -> tuple[list[Field], str]:
    tx = _transaction_of(value)
    what = draw(st.sampled_from(["flag", "empty-witnesses", "no-inputs", "witness-dropped"]))
    if what == "flag":
        flag = draw(st.sampled_from([0, 2, 0xFF]) | st.integers(2, 255))
        coinbase = tx_fields(tx, extended=True, flag=flag)
        detail = f"segwit flag {flag}"
    elif what == "empty-witnesses":
        bare = attrs.evolve(tx, inputs=tuple(TxIn(i.prevout, i.script_sig, i.sequence) for i in tx.inputs))
        coinbase, detail = tx_fields(bare, extended=True), "flag set, every witness empty"
    elif what == "no-inputs":
        coinbase, detail = tx_fields(attrs.evolve(tx, inputs=()), extended=True), "flag set, no inputs"
    else:
        coinbase = [f for f in tx_fields(tx, extended=True) if not f.label.startswith("witness")]
        detail = "flag set, witness section dropped"
    if not isinstance(value, AuxPow):
        return coinbase, detail
    return auxpow_fields(value, coinbase=coinbase), detail


def _long_script(draw: st.DrawFn, value: Value) -> tuple[list[Field], str]:
    tx = _transaction_of(value)
    # The CompactSize form boundaries, a script past every standardness limit, and rust-bitcoin's
    # MAX_VEC_SIZE on both sides (4,000,000 bytes decode; one more is OversizedVectorAllocation).
    size = draw(
        st.sampled_from([0xFC, 0xFD, 0xFFFF, 0x1_0000, 10_001])
        | st.integers(0, 70_000)
        | st.sampled_from([MAX_VEC_SIZE - 1, MAX_VEC_SIZE, MAX_VEC_SIZE + 1])
    )
    script = draw(st.binary(min_size=2, max_size=2)) * (size // 2) + b"\x51" * (size % 2)
    if bool(tx.outputs) and draw(st.booleans()):
        n = draw(st.integers(0, len(tx.outputs) - 1))
        outputs = list(tx.outputs)
        outputs[n] = attrs.evolve(outputs[n], script_pubkey=script)
        tx, detail = attrs.evolve(tx, outputs=tuple(outputs)), f"output {n} script of {size} bytes"
    else:
        inputs = list(tx.inputs)
        inputs[0] = attrs.evolve(inputs[0], script_sig=script)
        tx, detail = attrs.evolve(tx, inputs=tuple(inputs)), f"input 0 scriptSig of {size} bytes"
    if not isinstance(value, AuxPow):
        return tx_fields(tx), detail
    return auxpow_fields(attrs.evolve(value, coinbase_txn=tx)), detail


@st.composite
def malformed_bitcoin(
    draw: st.DrawFn, *, kinds: tuple[Kind, ...] = KINDS, hows: tuple[str, ...] = HOWS
) -> Malformed:
    """Bitcoin wire bytes broken in their structure (see the module docstring), labelled."""
    pairs = [(h, k) for h in hows for k in kinds if k in APPLIES[h]]
    if not pairs:
        raise InvalidArgument(f"none of {hows} applies to {kinds}")
    how, kind = draw(st.sampled_from(pairs))
    value = draw(_VALID[kind])
    fields = fields_of(value)
    if how == "non-minimal-size":
        fields, detail = _non_minimal(draw, kind, fields)
    elif how == "huge-count":
        fields, detail = _huge_count(draw, kind, fields)
    elif how == "segwit-flag":
        fields, detail = _segwit_flag(draw, value)
    elif how == "long-script":
        fields, detail = _long_script(draw, value)
    elif how == "truncate":
        at = draw(st.integers(0, len(fields) - 1))
        into = draw(st.sampled_from([0, 1]))  # at the boundary, or one byte into the field
        cut = encode(fields[:at]) + fields[at].to_bytes()[:into]
        return Malformed(kind, cut, how, f"cut before {fields[at].label} (+{into})")
    else:
        extra = draw(st.binary(min_size=1, max_size=8))
        return Malformed(kind, encode(fields) + extra, "trailing", "bytes after the end")
    return Malformed(kind, encode(fields), how, detail)


__all__ = [
    "HOWS",
    "HUGE",
    "KINDS",
    "Field",
    "Malformed",
    "auxpow_fields",
    "compact_size",
    "encode",
    "fields_of",
    "header_fields",
    "malformed_bitcoin",
    "tx_fields",
]
