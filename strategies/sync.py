"""Strategies for sync: canonical chains that grow, peer behaviours, network faults and
topologies, and the unapproved blocks a Byzantine peer serves."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import overload

import attrs
from hypothesis import strategies as st

from alys_pbt.fixture_cache import cached as cached_fixture
from alys_pbt.models import approvals, auxpow, bitcoin, blocks, bls, chain, evm, pegin, retarget, sync
from alys_pbt.models.blocks import block_from_bytes, block_to_bytes
from alys_pbt.models.chain import ChainSpec
from alys_pbt.models.pegin import FEDERATION_SPK  # peg-ins are not the point here
from alys_pbt.models.sync import Canonical
from alys_pbt.strategies import approvals as st_approvals
from alys_pbt.strategies import auxpow as st_auxpow
from alys_pbt.strategies import bitcoin as st_bitcoin
from alys_pbt.strategies import blocks as st_blocks
from alys_pbt.strategies.approvals import keyrings
from alys_pbt.strategies.blocks import ChainBuilder

BEHAVIOURS = ("honest", "lagging", "fork", "withholding", "lying")
NETWORK_FAULTS = ("disconnect", "partition", "drop", "duplicate", "reorder", "corrupt", "delay")
TOPOLOGIES = ("mesh", "ring", "star", "random")

# The modules whose code builds a canonical chain: an edit to any of them builds cached chains afresh.
CHAIN_CODE = (
    *(approvals, auxpow, bitcoin, blocks, bls, chain, evm, pegin, retarget, sync),
    *(st_auxpow, st_bitcoin, st_blocks, st_approvals, sys.modules[__name__]),
)


@st.composite
def canonical_chains(
    draw: st.DrawFn,
    *,
    length: int | st.SearchStrategy[int] = st.integers(0, 6),
    authorities: int | st.SearchStrategy[int] = st.integers(1, 4),
    cached: bool = False,
) -> Canonical:
    """A canonical chain of `length` signed blocks after genesis, PoW at least every 4 blocks.

    `cached`: build it once per (keyring, length) and code, kept on disk (alys_pbt.fixture_cache);
    each draw gets its own copy. For long chains (10,000 blocks take ~18 s to build)."""
    b = bls.backend()
    keyring = draw(keyrings(b, n=authorities), label="authorities")
    k = draw(length if isinstance(length, st.SearchStrategy) else st.just(length), label="length")

    def build() -> Canonical:
        spec = ChainSpec(keyring.public_keys, (b"\xaa" * 20,), FEDERATION_SPK, max_blocks_without_pow=4)
        canonical = Canonical(ChainBuilder(spec, keyring, b))
        canonical.extend(k)
        return canonical

    if not cached:
        return build()
    params = (b.name, keyring.secret_keys, k)
    return cached_fixture("canonical-chain", params, build, code=CHAIN_CODE, shared=(b,))


# Registered here, not in the package's __init__: importing models.sync costs the EVM libraries, and
# importing one strategy module must cost only what it uses.
st.register_type_strategy(Canonical, canonical_chains())


def peer_behaviours() -> st.SearchStrategy[str]:
    """How a simulated peer serves: honestly, behind, from an unapproved fork, withholding, or lying about
    its height."""
    return st.sampled_from(BEHAVIOURS)


def network_faults() -> st.SearchStrategy[str]:
    """A fault on one peer's link: cut off (disconnect, partition) or one response dropped, duplicated,
    reordered, corrupted or delayed."""
    return st.sampled_from(NETWORK_FAULTS)


def network_topologies() -> st.SearchStrategy[str]:
    """How the node and its peers are wired: which peers the node can ask directly."""
    return st.sampled_from(TOPOLOGIES)


def unapproved(raw: bytes) -> bytes:
    """The block with its aggregate signature stripped: what a peer on an unapproved fork serves.
    A correct node rejects it (BadSignature: the approvals' bits claim signers no signature backs)."""
    signed = block_from_bytes(raw)
    return block_to_bytes(attrs.evolve(signed, signature=attrs.evolve(signed.signature, signature=None)))


class ForkView(Sequence[bytes]):
    """A fork peer's chain: the canonical blocks below `cut`, then unapproved copies of every
    canonical block above it, growing as the canonical chain grows."""

    def __init__(self, canonical: list[bytes], cut: int) -> None:
        self.canonical, self.cut = canonical, cut
        self.forged: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self.canonical)

    def _at(self, height: int) -> bytes:
        if height < self.cut:
            return self.canonical[height]
        if height not in self.forged:
            self.forged[height] = unapproved(self.canonical[height])
        return self.forged[height]

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self._at(h) for h in range(*index.indices(len(self)))]
        return self._at(range(len(self))[index])


# Real faults of the block store (issue 14): what a disk, SQLite and a second process do to it.
# locked: another connection holds a write lock past the busy timeout; disk-full: SQLite's page
# limit is reached (SQLITE_FULL); bit-rot: a byte of a stored row flips; truncation: the file (or
# its write-ahead log) loses its last page; second-writer: another process opens the store and
# writes. The injected io-error and torn write stay (DiskFaults).
STORE_FAULTS = ("locked", "disk-full", "bit-rot", "truncation", "second-writer")
DISK_FAULTS = ("io-error", "torn")


@attrs.frozen
class BitFlip:
    """One bit of one field of a stored row flips: `position` in [0, 1) of the field's length."""

    field: str
    position: float
    bit: int


def store_faults() -> st.SearchStrategy[str]:
    """A real fault of the store: a lock held by another connection, a full disk, bit rot, a lost
    file tail, or a second process writing to it."""
    return st.sampled_from(STORE_FAULTS)


def disk_faults() -> st.SearchStrategy[str]:
    """An injected fault on one write: an I/O error, or a torn write (the process dies mid-row)."""
    return st.sampled_from(DISK_FAULTS)


def bit_flips(*, fields: Sequence[str] = ("data", "data", "data", "digest")) -> st.SearchStrategy[BitFlip]:
    """Where a row rots: a field of the row (repeat a field to weight it: a block's data is ~1,200
    bytes, its digest 32), a position in it, a bit."""
    return st.builds(
        BitFlip,
        st.sampled_from(tuple(fields)),
        st.floats(0, 1, exclude_max=True, allow_nan=False) | st.sampled_from([0.0, 0.5, 0.999]),
        st.integers(0, 7),
    )


# --- case records: the dependent draws of one property, printed short --------------------------------
MEMO_REUSES = ("another message", "other keys", "the same block")


@attrs.frozen
class MemoCase:
    """A block of the canonical chain that reuses what the memo saw: its signature over another
    message, its message and signature under `other` keys, or itself."""

    canonical: Canonical
    height: int  # the block reused, 1..tip
    reuse: str  # one of MEMO_REUSES
    other: tuple[bytes, ...]  # another federation's public keys, as many as the chain's

    def __repr__(self) -> str:
        keys = " ".join(k[:4].hex() for k in self.other)
        return f"MemoCase({self.canonical!r}, block {self.height}, {self.reuse}; other keys {keys})"


@st.composite
def memo_cases(draw: st.DrawFn, *, length: st.SearchStrategy[int] = st.integers(1, 5)) -> MemoCase:
    """A canonical chain, a block of it, how it is reused, and another federation of its size."""
    canonical = draw(canonical_chains(length=length), label="canonical chain")
    height = draw(st.integers(1, canonical.tip), label="height")
    reuse = draw(st.sampled_from(MEMO_REUSES), label="reuse")
    other = draw(keyrings(bls.backend(), n=canonical.builder.keyring.n), label="another federation")
    return MemoCase(canonical, height, reuse, tuple(other.public_keys))


@attrs.frozen
class PeerPlan:
    """One simulated peer: how it serves, where its fork starts, what happens to its next answers."""

    name: str
    behaviour: str  # one of BEHAVIOURS
    fork_at: int  # fork peers: the first unapproved height (1..tip); others: 0
    faults: tuple[str | None, ...]  # per next answer: None (it gets through) or a network fault


@attrs.frozen
class RetryCase:
    """A canonical chain, peers that misbehave and fail, and the node's batch size."""

    canonical: Canonical
    peers: tuple[PeerPlan, ...]
    batch: int


def fault_patterns(*, faults: Sequence[str]) -> st.SearchStrategy[list[str | None]]:
    """A peer's next answers: any run of faults and clean answers, or, as often, a failure, one or more
    clean answers, then a failure again: the pattern that tells a run of failures that ends on a good
    answer (the backoff starts over) from one that never ends (whichever seed a run uses)."""
    fault = st.sampled_from(tuple(faults))
    again = st.tuples(fault, st.integers(1, 3), fault).map(lambda t: [t[0], *[None] * t[1], t[2]])
    return st.lists(st.none() | fault, max_size=8) | again


@st.composite
def retry_cases(
    draw: st.DrawFn,
    *,
    length: st.SearchStrategy[int] = st.integers(1, 10),
    max_peers: int = 3,
    faults: Sequence[str] = ("drop", "delay", "corrupt", "reorder"),
    batch: st.SearchStrategy[int] = st.integers(1, 3),
) -> RetryCase:
    """Peers of every behaviour (a fork from any height), each with faults on its next answers.
    No "duplicate" by default: a repeated block is harmless, except as the node codes it
    (sync-error-rolls-back)."""
    canonical = draw(canonical_chains(length=length), label="canonical chain")
    # Half the time a lone peer: only then must it be asked again exactly when the policy allows,
    # which is what tells a backoff that never resets or starts late from a correct one.
    count = draw(st.just(1) | st.integers(1, max_peers), label="peers")
    kinds = draw(st.lists(peer_behaviours(), min_size=count, max_size=count), label="behaviours")
    peers = tuple(
        PeerPlan(
            f"p{i}-{kind}",
            kind,
            draw(st.integers(1, canonical.tip), label=f"p{i} forks at") if kind == "fork" else 0,
            tuple(draw(fault_patterns(faults=faults), label=f"faults of p{i}-{kind}")),
        )
        for i, kind in enumerate(kinds)
    )
    return RetryCase(canonical, peers, draw(batch, label="batch"))
