"""Chain scenarios: a node fed block by block, with rollbacks between, against the reference chain.

Each case is a whole scenario (`stateful=True`): the chain's spec (the authorities' BLS public keys,
the federation's fee addresses and peg-in scriptPubKey, the PoW and Aura parameters), its genesis
block and every later block in their wire form (rmp_serde, models/blocks.py), what the node's
Bitcoin RPC answers (confirmations per Bitcoin block, the peg-in transactions in Bitcoin's
consensus serialization), whether the node is a validator, and the steps: a block to import or a
height to roll back to. The expected outputs are the state after each step as the reference chain
(models/chain.py) has it: the step's result ("ok" or the error's name), the head, its height and
the finalized height.

Replay puts a scenario to a target through `target.chain.node(spec, genesis, bitcoin, validator=)`,
each block decoded by the target's own `decode_block`, then `process_block` or `rollback` per step;
the result of a step is the class name of what the target raised (a decode error is a step result
too). Cases: valid scenarios drawn (blocks with EVM transactions and peg-ins, finalizing AuxPoW
blocks, fork blocks refused as old, rollbacks that keep finalization), one scenario per entry of
the block corruption catalogue (strategies/blocks.py CATALOGUE: grown until the corruption applies,
the corrupted block, then the next valid block, which shows a refused block changed nothing), the
boundaries (rollback to the finalizing block's height and one below it, blocks without PoW up to
the limit, 144 confirmations, 16 and 17 peg-in addresses in one block), and one regression vector
per quirk of the chain (`quirk-<id>`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import bls
from alys_pbt.models.bitcoin import Transaction
from alys_pbt.models.blocks import SignedConsensusBlock, block_from_bytes, block_to_bytes
from alys_pbt.models.chain import BitcoinView, Chain, ChainSpec
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.models.retarget import RetargetParams
from alys_pbt.strategies.approvals import Keyring, keyrings
from alys_pbt.strategies.blocks import BY_NAME, CATALOGUE, ChainBuilder, relink
from alys_pbt.strategies.evm import evm_transactions
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, T, from_hex, hex_bytes, sample
from alys_pbt.verdict import verdict

# --- JSON Schema fragments ----------------------------------------------------------------------------

HEX = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}


def hex_of(size: int) -> dict[str, Json]:
    return {"type": "string", "pattern": f"^0x[0-9a-f]{{{2 * size}}}$"}


U64 = {"type": "integer", "minimum": 0}
BIG_UINT = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}]}
ERROR_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def _object(properties: dict[str, Json], required: list[str] | None = None) -> dict[str, Json]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SPEC_SCHEMA = _object(
    {
        "authorities": {"type": "array", "items": hex_of(48)},
        "federation": {"type": "array", "items": hex_of(20), "minItems": 1},
        "federation_spk": HEX,
        "chain_id": U64,
        "bits": U64,
        "slot_duration_ms": {"type": "integer", "minimum": 1},
        "max_blocks_without_pow": U64,
        "retarget": _object(
            {
                "pow_target_timespan": U64,
                "pow_target_spacing": U64,
                "max_pow_adjustment": U64,
                "pow_no_retargeting": {"type": "boolean"},
            }
        ),
        "required_confirmations": U64,
    }
)
BITCOIN_SCHEMA = _object(
    {
        "confirmations": {
            "type": "array",
            "items": {"type": "array", "prefixItems": [hex_of(32), U64], "minItems": 2, "maxItems": 2},
        },
        "transactions": {"type": "array", "items": HEX},
    }
)
STEP_SCHEMA = {"oneOf": [_object({"block": HEX}), _object({"rollback": U64})]}
SCENARIO_PROPERTIES: dict[str, Json] = {
    "spec": SPEC_SCHEMA,
    "genesis": HEX,
    "bitcoin": BITCOIN_SCHEMA,
    "validator": {"type": "boolean"},
    "steps": {"type": "array", "items": STEP_SCHEMA, "minItems": 1},
}
SCENARIO_SCHEMA = _object(SCENARIO_PROPERTIES)
STATE_SCHEMA = _object(
    {
        "result": ERROR_NAME,  # "ok" or the error's name
        "head": hex_of(32),
        "head_height": U64,
        "finalized_height": U64,
    }
)
STATES_SCHEMA = _object({"steps": {"type": "array", "items": STATE_SCHEMA}})

# What the reference may answer for a step: anything else is a bug in the generator, not a vector.
CHAIN_ERRORS = frozenset(
    {
        "ProcessGenesis",
        "InvalidBlock",
        "MissingParent",
        "ExecutionHashChainIncontiguous",
        "SlotIsInFuture",
        "SlotAuthorNotFound",
        "WrongSlotAuthor",
        "NotEnoughApprovals",
        "BadSignature",
        "UnknownAuthority",
        "UnknownWithdrawal",
        "PegInAlreadyIncluded",
        "InsufficientConfirmations",
        "BitcoinBlockNotFound",
        "NotAPegin",
        "InvalidPowRange",
        "InvalidBlockRange",
        "MissingRequiredPow",
        "IllegalFinalization",
        "IllegalRollback",
        "InvalidPow",
        "MissingAuxPow",
        "WrongChainId",
        "WrongBits",
        "WrongHeight",
        "DecodeError",
    }
)
MINER = b"\x11" * 20  # ChainBuilder's default fee recipient; the drawn federation never holds it


# --- serialization of what a scenario needs -------------------------------------------------------


def spec_json(spec: ChainSpec) -> dict[str, Json]:
    r = spec.retarget
    return {
        "authorities": [hex_bytes(pk) for pk in spec.authorities],
        "federation": [hex_bytes(a) for a in spec.federation],
        "federation_spk": hex_bytes(spec.federation_spk),
        "chain_id": spec.chain_id,
        "bits": spec.bits,
        "slot_duration_ms": spec.slot_duration_ms,
        "max_blocks_without_pow": spec.max_blocks_without_pow,
        "retarget": {
            "pow_target_timespan": r.pow_target_timespan,
            "pow_target_spacing": r.pow_target_spacing,
            "max_pow_adjustment": r.max_pow_adjustment,
            "pow_no_retargeting": r.pow_no_retargeting,
        },
        "required_confirmations": spec.required_confirmations,
    }


def spec_from_json(d: Mapping[str, Json]) -> ChainSpec:
    r = d["retarget"]
    return ChainSpec(
        tuple(from_hex(pk) for pk in d["authorities"]),
        tuple(from_hex(a) for a in d["federation"]),
        from_hex(d["federation_spk"]),
        chain_id=d["chain_id"],
        bits=d["bits"],
        slot_duration_ms=d["slot_duration_ms"],
        max_blocks_without_pow=d["max_blocks_without_pow"],
        retarget=RetargetParams(
            r["pow_target_timespan"],
            r["pow_target_spacing"],
            r["max_pow_adjustment"],
            r["pow_no_retargeting"],
        ),
        required_confirmations=d["required_confirmations"],
    )


def bitcoin_json(view: BitcoinView) -> dict[str, Json]:
    return {
        "confirmations": [[hex_bytes(h), n] for h, n in sorted(view.confirmations.items())],
        "transactions": sorted(hex_bytes(tx.to_bytes()) for tx in view.transactions.values()),
    }


def bitcoin_from_json(d: Mapping[str, Json]) -> BitcoinView:
    """The Bitcoin RPC's answers; transactions are keyed by their txid (Bitcoin's sha256d)."""
    txs = [Transaction.from_bytes(from_hex(raw)) for raw in d["transactions"]]
    return BitcoinView({from_hex(h): n for h, n in d["confirmations"]}, {tx.txid: tx for tx in txs})


# --- building a scenario against the reference --------------------------------------------------


class Scenario:
    """Steps put to the reference chain in the builder, with the state after each."""

    def __init__(self, builder: ChainBuilder, *, validator: bool = True) -> None:
        self.builder, self.validator = builder, validator
        self.steps: list[dict[str, Json]] = []
        self.states: list[dict[str, Json]] = []
        self.quirks: set[str] = set()

    @property
    def chain(self) -> Any:
        return self.builder.chain

    def _record(self, step: dict[str, Json], result: str) -> str:
        if result != "ok" and result not in CHAIN_ERRORS:
            raise AssertionError(f"the reference chain raised {result} on {step}: a generator bug")
        c = self.chain
        self.steps.append(step)
        self.states.append(
            {
                "result": result,
                "head": hex_bytes(c.head),
                "head_height": c.head_height,
                "finalized_height": c.finalized_height,
            }
        )
        return result

    def block(self, signed: SignedConsensusBlock, expect: str | None = None) -> str:
        """Import `signed` into the reference; `expect`: the verdict the construction promises."""
        result = verdict(lambda: self.chain.process_block(signed))
        if result == "ok":
            minted = {txid for txid, _ in signed.message.pegins}
            self.builder.pending_pegins = [p for p in self.builder.pending_pegins if p[0] not in minted]
        if expect is not None and result != expect:
            raise AssertionError(f"the reference said {result} where the scenario promises {expect}")
        return self._record({"block": hex_bytes(block_to_bytes(signed))}, result)

    def next(self, *, pow: bool = False, **kwargs: Any) -> str:
        return self.block(self.builder.next_block(pow=pow, **kwargs), "ok")

    def rollback(self, height: int, expect: str | None = None) -> str:
        result = verdict(lambda: self.chain.rollback(height))
        if expect is not None and result != expect:
            raise AssertionError(f"the reference said {result} to a rollback to {height}, not {expect}")
        return self._record({"rollback": height}, result)

    def inputs(self) -> dict[str, Json]:
        b = self.builder
        return {
            "spec": spec_json(b.spec),
            "genesis": hex_bytes(block_to_bytes(b.genesis)),
            "bitcoin": bitcoin_json(b.bitcoin),
            "validator": self.validator,
            "steps": list(self.steps),
        }

    def case(self, name: str, *, quirks: tuple[str, ...] = (), note: str = "", **extra: Any) -> Case:
        return Case(
            name,
            self.inputs(),
            Expected.ok(steps=list(self.states)),
            quirks=tuple(sorted(set(quirks) | self.quirks)),
            note=note,
            **extra,
        )


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Raw 20-byte addresses the node as coded reads as text (quirk chain-pegin-utf8-address-rejected)
# are drawn only where a case is about that quirk.
raw_addresses = st.binary(min_size=20, max_size=20).filter(lambda a: not is_utf8(a))


@st.composite
def builders(
    draw: st.DrawFn,
    *,
    n: int | st.SearchStrategy[int] | None = None,
    max_without_pow: int | None = None,
) -> ChainBuilder:
    """A fresh chain: authorities with real BLS keys, 1-3 distinct fee addresses (never the miner's)."""
    backend = bls.backend()
    keyring: Keyring = draw(keyrings(backend, n=st.integers(1, 5) if n is None else n), label="authorities")
    federation = draw(
        st.lists(
            st.binary(min_size=20, max_size=20).filter(lambda a: a != MINER),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        label="federation",
    )
    limit = (
        max_without_pow
        if max_without_pow is not None
        else draw(st.integers(3, 8), label="max blocks without pow")
    )
    spec = ChainSpec(keyring.public_keys, tuple(federation), FEDERATION_SPK, max_blocks_without_pow=limit)
    return ChainBuilder(spec, keyring, backend)


def _maybe_pegin(draw: st.DrawFn, b: ChainBuilder) -> None:
    if draw(st.integers(0, 3), label="peg-in arrives") == 0:
        how = draw(st.sampled_from(["raw", "hex", "0xhex"]), label="address form")
        address = draw(
            raw_addresses if how == "raw" else st.binary(min_size=20, max_size=20), label="recipient"
        )
        b.add_pegin(draw(st.integers(1, 10**8), label="sats"), address, how=how)


def _transactions(draw: st.DrawFn) -> list[bytes]:
    return [t.to_bytes() for t in draw(st.lists(evm_transactions(), max_size=2), label="transactions")]


def _grow(draw: st.DrawFn, s: Scenario, *, pow: bool = False) -> None:
    """One valid block on the head (a finalizing one when asked and possible, or when due)."""
    c = s.chain
    due = c.head_height - c.finalized_height >= s.builder.spec.max_blocks_without_pow
    can_pow = c.head_height > c.finalized_height
    _maybe_pegin(draw, s.builder)
    s.next(
        pow=can_pow and (pow or due),
        transactions=_transactions(draw),
        slot_gap=draw(st.integers(1, 3), label="slot gap"),
    )


def _fork_block(draw: st.DrawFn, s: Scenario) -> None:
    """A valid block on an older canonical block: refused as old (InvalidBlock)."""
    c = s.chain
    depth = draw(st.integers(1, c.head_height), label="fork depth")
    parent_hash = c.canonical[c.head_height - depth]
    parent = c.block(parent_hash)
    block = s.builder.unsigned_next()
    block = relink(
        attrs.evolve(
            block,
            parent_hash=parent_hash,
            slot=parent.slot + 1,
            execution_payload=attrs.evolve(
                block.execution_payload,
                parent_hash=parent.execution_payload.block_hash,
                block_number=parent.height + 1,
                timestamp=(parent.slot + 1) * s.builder.spec.slot_duration_ms // 1000,
            ),
        )
    )
    s.block(s.builder.sign(block), "InvalidBlock")


@st.composite
def valid_scenarios(draw: st.DrawFn) -> Scenario:
    """Blocks, finalizing blocks, fork blocks and rollbacks that keep finalization, in any order."""
    s = Scenario(draw(builders(), label="chain"))
    for _ in range(draw(st.integers(1, 8), label="actions")):
        c = s.chain
        pow_height = c.block(c.latest_pow).height
        actions = ["block", "pow"]
        if c.head_height >= 1:
            actions.append("fork")
        if c.head_height > pow_height:
            actions.append("rollback")
        action = draw(st.sampled_from(actions), label="action")
        if action == "block":
            _grow(draw, s)
        elif action == "pow":
            _grow(draw, s, pow=True)
        elif action == "fork":
            _fork_block(draw, s)
        else:  # never below the finalizing block: the node as coded agrees there
            s.rollback(draw(st.integers(pow_height, c.head_height - 1), label="rollback to"), "ok")
    return s


def _prepare(draw: st.DrawFn, s: Scenario, name: str) -> None:
    """Grow the chain until `name` applies alone: a peg-in minted, a finalization, two blocks since."""
    b = s.builder
    b.add_pegin(draw(st.integers(1, 10**8), label="sats"), draw(raw_addresses, label="recipient"), how="raw")
    s.next(transactions=_transactions(draw))
    s.next(pow=True)
    s.next(transactions=_transactions(draw))
    s.next()
    corruption = BY_NAME[name]
    limit = b.spec.max_blocks_without_pow
    if name == "missing-required-pow":
        while not corruption.applicable(b):
            s.next()
    assert corruption.applicable(b), f"{name} does not apply to the grown chain"
    assert name == "missing-required-pow" or s.chain.head_height + 1 - s.chain.finalized_height <= limit


# Which quirk of the node as coded answers each catalogue entry wrongly (alys_pbt/deviations.py).
CORRUPTION_QUIRKS: dict[str, tuple[str, ...]] = {
    "wrong-slot-author": ("chain-slot-author-unchecked",),
    "unexpected-withdrawal": ("chain-withdrawals-extra-accepted",),
}


@st.composite
def corruption_scenarios(draw: st.DrawFn, name: str, *, validator: bool = True) -> Scenario:
    """A chain grown until `name` applies, the block with that one corruption, then the next valid block."""
    s = Scenario(draw(builders(n=st.integers(3, 5), max_without_pow=5), label="chain"), validator=validator)
    _prepare(draw, s, name)
    corruption = BY_NAME[name]
    s.block(corruption.apply(s.builder, draw), corruption.expected)
    c = s.chain
    s.next(pow=c.head_height > c.finalized_height and name == "missing-required-pow")
    return s


def _generate(seed: int, cases_per_rule: int) -> list[Case]:
    cases: list[Case] = []
    for i, s in enumerate(sample(valid_scenarios(), seed_value=seed, n=cases_per_rule)):
        cases.append(s.case(f"valid-{i:04d}"))
    for k, corruption in enumerate(CATALOGUE):
        (s,) = sample(corruption_scenarios(corruption.name), seed_value=seed + 1 + k, n=1)
        cases.append(
            s.case(
                f"corruption-{corruption.name}",
                quirks=CORRUPTION_QUIRKS.get(corruption.name, ()),
                note=f"{corruption.why}: {corruption.expected}, and the next valid block imports",
            )
        )
    cases += [build(seed) for build in BOUNDARIES + QUIRK_CASES]
    return cases


# --- boundaries ---------------------------------------------------------------------------------------


def _one(strategy: st.SearchStrategy[T], seed: int) -> T:
    (value,) = sample(strategy, seed_value=seed, n=1)
    return value


@st.composite
def _finalized_then_rollback(draw: st.DrawFn, below: bool) -> Scenario:
    s = Scenario(draw(builders(n=st.integers(1, 3), max_without_pow=5), label="chain"))
    s.next()
    s.next()
    s.next(pow=True)  # finalizes 1..2, carried at height 3
    s.next()
    s.next()
    pow_height = s.chain.block(s.chain.latest_pow).height
    s.rollback(pow_height - 1 if below else pow_height, "IllegalRollback" if below else "ok")
    s.next()  # the next block on whatever the head is
    return s


def boundary_rollback_to_the_finalizing_block(seed: int) -> Case:
    s = _one(_finalized_then_rollback(below=False), seed)
    return s.case(
        "boundary-rollback-to-the-finalizing-height",
        note="a rollback to the height of the latest PoW block is allowed",
    )


@st.composite
def _without_pow_to_the_limit(draw: st.DrawFn) -> Scenario:
    s = Scenario(draw(builders(n=st.integers(1, 3), max_without_pow=draw(st.integers(3, 6))), label="chain"))
    while s.chain.head_height < s.builder.spec.max_blocks_without_pow:
        s.next(transactions=_transactions(draw))
    s.block(s.builder.next_block(), "MissingRequiredPow")  # one past the limit
    s.next(pow=True)
    return s


def boundary_blocks_without_pow(seed: int) -> Case:
    return _one(_without_pow_to_the_limit(), seed).case(
        "boundary-max-blocks-without-pow", note="max_blocks_without_pow blocks pass, one more needs PoW"
    )


@st.composite
def _confirmations(draw: st.DrawFn) -> Scenario:
    s = Scenario(draw(builders(n=st.integers(1, 3)), label="chain"))
    b = s.builder
    b.add_pegin(
        draw(st.integers(1, 10**8)),
        draw(raw_addresses),
        how="raw",
        confirmations=b.spec.required_confirmations,
    )
    s.next()
    s.block(BY_NAME["shallow-pegin"].apply(b, draw), "InsufficientConfirmations")  # one confirmation fewer
    return s


def boundary_confirmations(seed: int) -> Case:
    return _one(_confirmations(), seed).case(
        "boundary-pegin-confirmations", note="144 confirmations mint, 143 are refused"
    )


@st.composite
def _pegin_addresses(draw: st.DrawFn, count: int) -> Scenario:
    s = Scenario(draw(builders(n=st.integers(1, 3)), label="chain"))
    addresses = draw(st.lists(raw_addresses, min_size=count, max_size=count, unique=True), label="recipients")
    for address in addresses:
        s.builder.add_pegin(draw(st.integers(1, 10**8)), address, how="raw")
    s.next()  # at most 16 addresses are minted (MAINNET_MAX_WITHDRAWALS); later ones are passed over
    s.next()
    return s


def boundary_pegin_addresses_16(seed: int) -> Case:
    return _one(_pegin_addresses(16), seed).case(
        "boundary-pegin-addresses-16", note="16 addresses: all minted"
    )


def boundary_pegin_addresses_17(seed: int) -> Case:
    return _one(_pegin_addresses(17), seed).case(
        "boundary-pegin-addresses-17",
        note="17 addresses: the first 16 minted, the 17th listed and not minted",
    )


@st.composite
def _slots_at_the_drift_limit(draw: st.DrawFn, slot_ms: int, timestamp: int | None = None) -> Scenario:
    """Slots one past and at the drift limit; `timestamp`: the last two blocks' (then the last)."""
    drawn = draw(builders(n=st.integers(1, 3)), label="chain")
    b = ChainBuilder(attrs.evolve(drawn.spec, slot_duration_ms=slot_ms), drawn.keyring, drawn.bls)
    s = Scenario(b)
    s.next()
    for past, expect in ((1, "SlotIsInFuture"), (0, "ok")):
        block = b.unsigned_next()
        if timestamp is not None:
            payload = attrs.evolve(block.execution_payload, timestamp=timestamp)
            block = attrs.evolve(block, execution_payload=payload)
        ts = block.execution_payload.timestamp
        limit = max(ts * 1000 // slot_ms, ts * 1000 // 3000) + 1  # the larger of the two drift bounds
        s.block(b.sign(attrs.evolve(block, slot=limit + past)), expect)
    if timestamp is None:
        s.next()
    return s


def boundary_slot_drift_2000(seed: int) -> Case:
    return _one(_slots_at_the_drift_limit(2000), seed).case(
        "boundary-slot-drift-2000ms",
        note="2 s slots: a slot one past now + 1 is refused, now + 1 itself is taken",
    )


def boundary_slot_drift_5000(seed: int) -> Case:
    return _one(_slots_at_the_drift_limit(5000), seed).case(
        "boundary-slot-drift-5000ms",
        note="5 s slots: the 3 s bound is the larger; a slot past its + 1 is refused, at it taken",
    )


def boundary_slot_drift_far_timestamp(seed: int) -> Case:
    # ts * 1000 past 2^53: the bound is exact integer arithmetic (a float division rounds it).
    return _one(_slots_at_the_drift_limit(2000, timestamp=9_805_429_753_300_564_932), seed).case(
        "boundary-slot-drift-far-timestamp",
        note="a timestamp near 2^63: the drift bound in integers, a slot at it taken, one past refused",
    )


@st.composite
def _two_faults(draw: st.DrawFn) -> Scenario:
    """A block that misses a withdrawal and carries an aggregate over another message: the signature
    is checked first (the slot-author check verifies the aggregate before withdrawals are looked at)."""
    s = Scenario(draw(builders(n=st.integers(3, 5), max_without_pow=5), label="chain"))
    _prepare(draw, s, "missing-withdrawal")
    b = s.builder
    other = b.sign(b.unsigned_next())  # the valid next block: same slot and signers, another root
    bad = BY_NAME["missing-withdrawal"].apply(b, draw)
    s.block(attrs.evolve(bad, signature=other.signature), "BadSignature")
    s.next()
    return s


@st.composite
def _padded_and_unverified(draw: st.DrawFn) -> Scenario:
    """A block approved by enough authorities, plus a bit past the federation, with an aggregate over
    another message: the bit past the federation is the verdict (UnknownAuthority), not the aggregate."""
    s = Scenario(draw(builders(n=st.integers(1, 5)), label="chain"))
    s.next()
    b = s.builder
    block = b.unsigned_next()
    valid = b.sign(block)
    n = b.keyring.n
    bits = tuple(True if i == n else bit for i, bit in enumerate(valid.signature.bits))
    other = b.sign(attrs.evolve(block, slot=block.slot + n)).signature.signature  # the same author
    s.block(attrs.evolve(valid, signature=attrs.evolve(valid.signature, bits=bits, signature=other)))
    s.next()
    return s


@st.composite
def _padded_and_missing_withdrawal(draw: st.DrawFn) -> Scenario:
    """A block that misses a withdrawal and sets a bit past the federation over a valid aggregate: the
    bit is refused in the author check (our hardening, placed as models/chain.py places it), before
    withdrawals are looked at."""
    s = Scenario(draw(builders(n=st.integers(3, 5), max_without_pow=5), label="chain"))
    _prepare(draw, s, "missing-withdrawal")
    b = s.builder
    bad = BY_NAME["missing-withdrawal"].apply(b, draw)
    n = b.keyring.n
    bits = tuple(True if i == n else bit for i, bit in enumerate(bad.signature.bits))
    s.block(attrs.evolve(bad, signature=attrs.evolve(bad.signature, bits=bits)), "UnknownAuthority")
    s.next()
    return s


def corruption_padded_bit_before_withdrawals(seed: int) -> Case:
    return _one(_padded_and_missing_withdrawal(), seed).case(
        "corruption-padded-bit-and-missing-withdrawal",
        quirks=("approvals-padded-bits-count",),
        note="two faults in one block: the bit past the federation, found first, is the verdict",
    )


def corruption_padded_bit_and_bad_aggregate(seed: int) -> Case:
    return _one(_padded_and_unverified(), seed).case(
        "corruption-padded-bit-and-bad-aggregate",
        quirks=("approvals-padded-bits-count",),
        note="a bit past the federation is refused before the aggregate is judged",
    )


def corruption_bad_signature_before_withdrawals(seed: int) -> Case:
    return _one(_two_faults(), seed).case(
        "corruption-bad-aggregate-and-missing-withdrawal",
        note="two faults in one block: the aggregate's, found first, is the verdict",
    )


def boundary_slot_drift_far_timestamp_5000(seed: int) -> Case:
    # The 3 s bound decides with 5 s slots: past 2^53 it too is exact integer arithmetic.
    return _one(_slots_at_the_drift_limit(5000, timestamp=15_957_585_649_591_036_275), seed).case(
        "boundary-slot-drift-far-timestamp-5000ms",
        note="a timestamp near 2^64 with 5 s slots: the 3 s drift bound in integers",
    )


BOUNDARIES: tuple[Callable[[int], Case], ...] = (
    boundary_rollback_to_the_finalizing_block,
    boundary_blocks_without_pow,
    boundary_confirmations,
    boundary_pegin_addresses_16,
    boundary_pegin_addresses_17,
    boundary_slot_drift_2000,
    boundary_slot_drift_5000,
    boundary_slot_drift_far_timestamp,
    boundary_slot_drift_far_timestamp_5000,
    corruption_bad_signature_before_withdrawals,
    corruption_padded_bit_and_bad_aggregate,
    corruption_padded_bit_before_withdrawals,
)


# --- one regression vector per quirk ------------------------------------------------------------------


def quirk_rollback(seed: int) -> Case:
    s = _one(_finalized_then_rollback(below=True), seed)
    return s.case(
        "quirk-chain-rollback-undoes-finalization",
        quirks=("chain-rollback-undoes-finalization",),
        note="a rollback below the latest PoW block is refused: the finalized height never drops",
        origin="suite-hardening",
        source="models/chain.py Chain.rollback (app/src/chain.rs rollback_head has no finality check)",
    )


def quirk_slot_author(seed: int) -> Case:
    s = _one(corruption_scenarios("wrong-slot-author"), seed)
    return s.case(
        "quirk-chain-slot-author-unchecked",
        quirks=("chain-slot-author-unchecked",),
        note="a block the slot's author did not sign is refused",
        source="app/src/aura.rs check_signed_by_author (the check is commented out as coded)",
    )


def quirk_extra_withdrawal(seed: int) -> Case:
    s = _one(corruption_scenarios("unexpected-withdrawal"), seed)
    return s.case(
        "quirk-chain-withdrawals-extra-accepted",
        quirks=("chain-withdrawals-extra-accepted",),
        note="a withdrawal nothing owes is refused",
        source="app/src/chain.rs check_withdrawals (only missing withdrawals fail as coded)",
    )


def quirk_full_node(seed: int) -> Case:
    s = _one(corruption_scenarios("missing-withdrawal", validator=False), seed)
    return s.case(
        "quirk-chain-full-nodes-skip-withdrawals",
        quirks=("chain-full-nodes-skip-withdrawals",),
        note="a full node refuses a block that does not mint a peg-in, as a validator does",
        origin="suite-hardening",
        source="app/src/chain.rs process_block (withdrawals checked only when is_validator)",
    )


@st.composite
def _full_node_extra(draw: st.DrawFn) -> Scenario:
    return draw(corruption_scenarios("unexpected-withdrawal", validator=False))


def full_node_extra_withdrawal(seed: int) -> Case:
    # Either quirk alone makes the node take the block: tagged with both.
    return _one(_full_node_extra(), seed).case(
        "corruption-unexpected-withdrawal-full-node",
        quirks=("chain-full-nodes-skip-withdrawals", "chain-withdrawals-extra-accepted"),
        note="a full node refuses an unexpected withdrawal as a validator does",
    )


QUIRK_CASES: tuple[Callable[[int], Case], ...] = (
    quirk_rollback,
    quirk_slot_author,
    quirk_extra_withdrawal,
    quirk_full_node,
    full_node_extra_withdrawal,
)


# --- replay -------------------------------------------------------------------------------------------


def _action(node: Any, chain: Any, step: Mapping[str, Json]) -> Callable[[], object]:
    """The step as a call to the target: a block through its own decoder, or a rollback."""
    if "block" in step:
        raw = from_hex(step["block"])
        return lambda: node.process_block(chain.decode_block(raw))
    height = step["rollback"]
    return lambda: node.rollback(height)


def run_scenario(target: Target, inputs: Mapping[str, Json]) -> list[dict[str, Json]]:
    """The state after each step of the scenario, as the target's node has it."""
    chain = target.chain
    genesis = chain.decode_block(from_hex(inputs["genesis"]))
    node = chain.node(
        spec_from_json(inputs["spec"]),
        genesis,
        bitcoin_from_json(inputs["bitcoin"]),
        validator=inputs["validator"],
    )
    states: list[dict[str, Json]] = []
    for step in inputs["steps"]:
        result = verdict(_action(node, chain, step))
        states.append(
            {
                "result": result,
                "head": hex_bytes(node.head),
                "head_height": node.head_height,
                "finalized_height": node.finalized_height,
            }
        )
    return states


def reference_states(inputs: Mapping[str, Json]) -> list[dict[str, Json]]:
    """The state after each step as the reference chain has it, from the serialized scenario alone
    (blocks read by the reference decoder): what the expected outputs must be."""
    chain = Chain(
        spec_from_json(inputs["spec"]),
        block_from_bytes(from_hex(inputs["genesis"])),
        bls.backend(),
        bitcoin_from_json(inputs["bitcoin"]),
    )
    states: list[dict[str, Json]] = []
    for step in inputs["steps"]:
        if "block" in step:
            signed = block_from_bytes(from_hex(step["block"]))
            result = verdict(lambda: chain.process_block(signed))
        else:
            result = verdict(lambda: chain.rollback(step["rollback"]))
        states.append(
            {
                "result": result,
                "head": hex_bytes(chain.head),
                "head_height": chain.head_height,
                "finalized_height": chain.finalized_height,
            }
        )
    return states


def replay(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    return {"steps": run_scenario(target, inputs)}


RULES: tuple[Rule, ...] = (
    Rule(
        id="chain/scenario",
        summary="a node fed blocks (wire form) and rollbacks: result, head, head height and finalized height "
        "after each step",
        origin="node",
        source="app/src/chain.rs Chain::process_block, check_withdrawals, check_pow, rollback_head; "
        "app/src/aura.rs "
        "check_signed_by_author (alys-rules.md §2.3-2.4, §3.3, §4.2-4.3); secure rule: models/chain.py",
        generate=_generate,
        replay=replay,
        component="chain",
        inputs_schema=SCENARIO_SCHEMA,
        outputs_schema=STATES_SCHEMA,
        stateful=True,
    ),
)

__all__ = ["RULES", "SCENARIO_PROPERTIES", "Scenario", "builders", "run_scenario", "spec_json"]
