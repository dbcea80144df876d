"""Peg-ins and the fee split: what a block must mint (models/pegin.py, alys-rules.md §4.1-4.3).

`pegin/parse`: a Bitcoin transaction and the federation's scriptPubKey in; the amount of the first
output that pays the federation and the EVM address the first OP_RETURN names (20 raw bytes, or
40 hex digits with or without "0x") out, or NotAPegin.

`pegin/fee-split`: the fees a parent block accumulated (wei), the miner's fee recipient and the
federation's fee addresses in; the Gwei each address is owed out: 80% to the miner, the rest
evenly over the federation (integer division), each payment floored to Gwei, summed per address,
zero amounts left out.

No target method answers these directly, so both replay **through a minimal chain scenario**
(the `scenario` input, the format of chain/scenario): a chain whose last block lists the peg-in
(or pays the parent's fees with an AuxPoW header) and mints exactly what the reference owes. The
target's node imports the scenario's blocks (decoded by its own `decode_block`); the last import
either raises the target's own error (NotAPegin, or UnknownWithdrawal where the node owes something
else) or succeeds, and the outputs are then read from the mint the node accepted: a node takes a
block only when its withdrawals are exactly what it owes. Other clients may answer the rule's own
inputs directly and ignore `scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models import evm, pegin
from alys_pbt.models.bitcoin import OutPoint, Transaction, TxIn, TxOut
from alys_pbt.models.machines.chain import FEDERATION_SPK
from alys_pbt.strategies.blocks import pegin_transaction, pegin_transactions, relink
from alys_pbt.strategies.evm import evm_transactions
from alys_pbt.vectors.families.chain import (
    BIG_UINT,
    HEX,
    MINER,
    SCENARIO_SCHEMA,
    Scenario,
    _action,
    _object,
    builders,
    hex_of,
    is_utf8,
)
from alys_pbt.vectors.rule import (
    Case,
    Expected,
    Json,
    Outputs,
    Rule,
    from_hex,
    hex_bytes,
    sample,
    to_json_int,
)

UTF8_QUIRK = "chain-pegin-utf8-address-rejected"
REPEAT_QUIRK = "chain-withdrawals-extra-accepted"
__all__ = ["RULES"]


def run_to_last_block(target: Target, scenario: Mapping[str, Json]) -> Any:
    """Import the scenario's blocks into a fresh node of the target, the last one included (its
    error, if any, is the target's own); the last block as the target decoded it."""
    from alys_pbt.vectors.families.chain import bitcoin_from_json, spec_from_json

    chain = target.chain
    node = chain.node(
        spec_from_json(scenario["spec"]),
        chain.decode_block(from_hex(scenario["genesis"])),
        bitcoin_from_json(scenario["bitcoin"]),
        validator=scenario["validator"],
    )
    for step in scenario["steps"]:
        _action(node, chain, step)()
    return chain.decode_block(from_hex(scenario["steps"][-1]["block"]))


# --- pegin/parse ------------------------------------------------------------------------------------


def _op_return(payload: bytes) -> bytes:
    """OP_RETURN with one push of `payload` (a direct push below 76 bytes, else OP_PUSHDATA1)."""
    push = bytes([len(payload)]) if len(payload) < 0x4C else b"\x4c" + bytes([len(payload)])
    return b"\x6a" + push + payload


def _tx(outputs: list[TxOut], nonce: int) -> Transaction:
    prevout = OutPoint(nonce.to_bytes(32, "little"), 0)
    return Transaction(2, (TxIn(prevout, b"", 0xFFFFFFFD),), tuple(outputs), 0)


def node_rejects_utf8(tx: Transaction, federation_spk: bytes) -> bool:
    """Whether the node as coded (quirk chain-pegin-utf8-address-rejected) reads this peg-in's
    address as text and refuses what the secure rule takes: a raw 20-byte push that is valid UTF-8."""
    try:
        info = pegin.pegin_info(tx, federation_spk)
    except pegin.NotAPegin:
        return False
    for output in tx.outputs:
        script = output.script_pubkey
        if script[:1] == b"\x6a":
            pushes = pegin.script_pushes(script)
            if pushes and pegin.address_in(pushes[-1]) is not None:
                return len(pushes[-1]) == 20 and is_utf8(pushes[-1]) and info.evm_address == pushes[-1]
    return False


def _parse_case(
    name: str, tx: Transaction, seed: int, *, note: str = "", quirks: tuple[str, ...] = ()
) -> Case:
    """The case: the reference's parse, and a one-block chain that lists the peg-in and mints it."""
    try:
        info = pegin.pegin_info(tx, FEDERATION_SPK)
        expected = Expected.ok(amount_sats=to_json_int(info.amount), evm_address=hex_bytes(info.evm_address))
    except pegin.NotAPegin:
        info, expected = None, Expected.raises("NotAPegin")
    if info is not None and info.amount == 0:
        raise AssertionError("a zero-sat peg-in mints nothing: the scenario could not show its address")
    (builder,) = sample(builders(n=1), seed_value=seed, n=1)
    s = Scenario(builder)
    btc_block = bytes(31) + b"\x01"
    builder.bitcoin.confirmations[btc_block] = builder.spec.required_confirmations
    builder.bitcoin.transactions[tx.txid] = tx
    if info is not None:
        builder.pending_pegins.append((tx.txid, btc_block))
        s.next()
    else:  # listed without a mint: the node must refuse it as no peg-in
        block = relink(attrs.evolve(builder.unsigned_next(), pegins=((tx.txid, btc_block),)))
        s.block(builder.sign(block), "NotAPegin")
    tags = set(quirks) | ({UTF8_QUIRK} if node_rejects_utf8(tx, FEDERATION_SPK) else set())
    return Case(
        name,
        {
            "transaction": hex_bytes(tx.to_bytes()),
            "federation_spk": hex_bytes(FEDERATION_SPK),
            "scenario": s.inputs(),
        },
        expected,
        quirks=tuple(sorted(tags)),
        note=note,
    )


def _parse_boundaries(seed: int) -> list[Case]:
    fed, address = FEDERATION_SPK, bytes.fromhex("5a" * 10 + "c3" * 10)  # not UTF-8: the quirk stays out
    hex40 = address.hex().encode()
    other = b"\x51\x20" + bytes(32)
    pay = TxOut(123_456, fed)
    shapes: list[tuple[str, list[TxOut], str]] = [
        ("raw-20-bytes", [pay, TxOut(0, _op_return(address))], "20 raw bytes name the recipient"),
        ("hex-40-digits", [pay, TxOut(0, _op_return(hex40))], "40 hex digits as ASCII"),
        ("0x-hex", [pay, TxOut(0, _op_return(b"0x" + hex40))], "0x and 40 hex digits"),
        ("upper-case-hex", [pay, TxOut(0, _op_return(hex40.upper()))], "hex digits in upper case are hex"),
        ("hex-39-digits", [pay, TxOut(0, _op_return(hex40[:39]))], "39 digits name nothing"),
        ("hex-41-digits", [pay, TxOut(0, _op_return(hex40 + b"0"))], "41 digits name nothing"),
        ("0X-prefix", [pay, TxOut(0, _op_return(b"0X" + hex40))], "only a lowercase 0x prefix"),
        ("raw-19-bytes", [pay, TxOut(0, _op_return(address[:19]))], "19 raw bytes name nothing"),
        ("raw-21-bytes", [pay, TxOut(0, _op_return(address + b"\xc3"))], "21 raw bytes name nothing"),
        ("pushdata1", [pay, TxOut(0, b"\x6a\x4c\x28" + hex40)], "the hex pushed with OP_PUSHDATA1"),
        ("no-op-return", [pay], "no OP_RETURN"),
        (
            "no-federation-output",
            [TxOut(123_456, other), TxOut(0, _op_return(address))],
            "nothing pays the federation",
        ),
        (
            "op-return-not-only-pushes",
            [pay, TxOut(0, b"\x6a\x51" + _op_return(address)[1:])],
            "OP_1 in the OP_RETURN",
        ),
        (
            "second-op-return-names-it",
            [pay, TxOut(0, _op_return(b"hello")), TxOut(0, _op_return(address))],
            "the first OP_RETURN that names an address counts",
        ),
        (
            "first-federation-output-counts",
            [TxOut(0, _op_return(address)), TxOut(7, fed), TxOut(9, fed)],
            "the amount of the first output paying the federation",
        ),
        ("pushdata2", [pay, TxOut(0, b"\x6a\x4d\x28\x00" + hex40)], "the hex pushed with OP_PUSHDATA2"),
        # The direct pushes at their bounds (opcodes 1 and 75), before the push that names it.
        (
            "one-byte-push-first",
            [pay, TxOut(0, b"\x6a\x01\x07" + _op_return(address)[1:])],
            "a push of 1 byte, then the address: the last push counts",
        ),
        (
            "75-byte-push-first",
            [pay, TxOut(0, b"\x6a\x4b" + bytes(75) + _op_return(address)[1:])],
            "a push of 75 bytes, then the address: the last push counts",
        ),
        (
            "push-past-the-end",
            [pay, TxOut(0, b"\x6a\x15" + address)],
            "a push of 21 bytes with 20 left names nothing",
        ),
        (
            "op-0-first",
            [pay, TxOut(0, b"\x6a\x00" + _op_return(address)[1:])],
            "OP_0, then the address",
        ),
        ("pushdata1-cut", [pay, TxOut(0, b"\x6a\x4c")], "OP_PUSHDATA1 without its length names nothing"),
        (
            "pushdata2-cut",
            [pay, TxOut(0, b"\x6a\x4d\x28")],
            "OP_PUSHDATA2 with half its length names nothing",
        ),
        (
            "op-1-then-pushes",
            [pay, TxOut(0, b"\x6a\x51\x00\x00" + _op_return(address)[1:])],
            "OP_1 is no push, whatever bytes follow it",
        ),
        # Outputs before the OP_RETURN that names it: none of them may end the search or name it.
        (
            "p2wpkh-output-first",
            [pay, TxOut(1_000, b"\x00\x14" + bytes(range(20))), TxOut(0, _op_return(address))],
            "a P2WPKH output's 20-byte push is no OP_RETURN",
        ),
        (
            "empty-script-first",
            [pay, TxOut(0, b""), TxOut(0, _op_return(address))],
            "an empty script is skipped",
        ),
        (
            "op-return-ending-in-no-push-first",
            [pay, TxOut(0, b"\x6a\x51"), TxOut(0, _op_return(address))],
            "an OP_RETURN whose last element is no push is skipped",
        ),
        (
            "op-return-not-utf8-first",
            [pay, TxOut(0, _op_return(b"\xff\xfe\xfd")), TxOut(0, _op_return(address))],
            "an OP_RETURN of 3 bytes that are not UTF-8 is skipped",
        ),
    ]
    cases = [
        _parse_case(f"boundary-{name}", _tx(outputs, seed + i), seed + i, note=note)
        for i, (name, outputs, note) in enumerate(shapes)
    ]
    text = b"alys-pegin-recipient"  # 20 printable ASCII bytes: valid UTF-8, not 40 hex digits
    cases.append(
        _parse_case(
            f"quirk-{UTF8_QUIRK}",
            pegin_transaction(fed, 50_000, text, how="raw", nonce=seed),
            seed,
            note="a raw 20-byte address whose bytes are printable ASCII still names the recipient",
            quirks=(UTF8_QUIRK,),
        )
    )
    return cases


def _generate_parse(seed: int, cases_per_rule: int) -> list[Case]:
    drawn = sample(pegin_transactions(FEDERATION_SPK), seed_value=seed, n=cases_per_rule)
    cases = [_parse_case(f"valid-{i:04d}", tx, seed + 1000 + i) for i, (tx, _) in enumerate(drawn)]
    return cases + _parse_boundaries(seed + 2000)


def replay_parse(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    block = run_to_last_block(target, inputs["scenario"])
    (minted,) = block.message.execution_payload.withdrawals
    return {
        "amount_sats": to_json_int(minted.amount // pegin.GWEI_PER_SAT),
        "evm_address": hex_bytes(minted.address),
    }


# --- pegin/fee-split ----------------------------------------------------------------------------------


def owed(fees_wei: int, miner: bytes, federation: tuple[bytes, ...]) -> list[dict[str, Json]]:
    """The reference's mint for a parent's fees: Gwei per address, zero amounts left out."""
    per_address = pegin.expected_withdrawals(pegin.fee_split(fees_wei, miner, federation), {})
    return [{"address": hex_bytes(a), "gwei": to_json_int(v)} for a, v in sorted(per_address.items()) if v]


def _fee_transaction(fees_wei: int, seed: int) -> bytes:
    """A signed legacy transaction that earns exactly `fees_wei` (gas x (gas price - base fee 7))."""
    tx = evm.with_chain_id(evm.LegacyTransaction(0, 8, fees_wei, b"\x35" * 20, 0, b"", 0, 0, 0), 121212)
    return evm.sign(tx, 1 + seed % 1000).to_bytes()


def _fee_case(
    name: str,
    seed: int,
    *,
    transactions: list[bytes],
    federation: tuple[bytes, ...] | None = None,
    miner: bytes = MINER,
    note: str = "",
) -> Case:
    (builder,) = sample(builders(n=1), seed_value=seed, n=1)
    if federation is not None:
        builder.spec = attrs.evolve(builder.spec, federation=federation)
        builder.chain.spec = builder.spec
    spec = builder.spec
    s = Scenario(builder)
    s.next(transactions=transactions)
    fees = builder.chain.fees[builder.chain.head]
    if fees != evm.block_fees(transactions, 7):
        raise AssertionError("the parent's fees are not its transactions' fees: a generator bug")
    s.next(pow=True, fee_recipient=miner)
    expected = owed(fees, miner, spec.federation)
    # The node as coded collects the split into a map: a miner who is also a federation member is
    # owed only its federation share, which changes the verdict when both shares are whole Gwei.
    split = pegin.fee_split(fees, miner, spec.federation)
    both = miner in spec.federation and all(wei // 10**9 for _, wei in split[:2])
    quirks = (REPEAT_QUIRK,) if both else ()
    return Case(
        name,
        {
            "fees_wei": to_json_int(fees),
            "miner": hex_bytes(miner),
            "federation": [hex_bytes(a) for a in spec.federation],
            "scenario": s.inputs(),
        },
        Expected.ok(withdrawals=expected),
        quirks=quirks,
        note=note,
        origin="suite-hardening" if quirks else None,
        source="a repeated address is owed the sum (the node's map keeps the last, alys-rules.md §4.3)"
        if quirks
        else None,
    )


def _generate_fees(seed: int, cases_per_rule: int) -> list[Case]:
    cases = []
    drawn = sample(st.lists(evm_transactions(), min_size=1, max_size=3), seed_value=seed, n=cases_per_rule)
    for i, txs in enumerate(drawn):
        cases.append(_fee_case(f"valid-{i:04d}", seed + 3000 + i, transactions=[t.to_bytes() for t in txs]))
    a, b, c = (bytes([0xA0 + k]) * 20 for k in range(3))
    gwei = 10**9
    shapes: list[tuple[str, int, tuple[bytes, ...], bytes, str]] = [
        ("no-fees", 0, (a,), MINER, "no fees: nothing is minted"),
        ("one-wei", 1, (a, b), MINER, "80% of 1 wei is 0: nothing is minted"),
        (
            "shares-below-one-gwei",
            5 * gwei - 1,
            (a, b, c),
            MINER,
            "each federation share under 1 Gwei floors to 0",
        ),
        ("share-exactly-one-gwei", 5 * gwei, (a,), MINER, "the share is exactly 1 Gwei"),
        ("share-one-wei-past-a-gwei", 5 * gwei + 5, (a,), MINER, "1 Gwei and 1 wei floors to 1 Gwei"),
        (
            "remainder-not-minted",
            10 * gwei + 7,
            (a, b, c),
            MINER,
            "the share's remainder over 3 is not minted",
        ),
        (
            "miner-is-a-federation-member",
            70 * gwei + 3,
            (a, b),
            b,
            "the miner's address is owed both its shares",
        ),
    ]
    for k, (name, fees, federation, miner, note) in enumerate(shapes):
        signed = [_fee_transaction(fees, seed + k)] if fees else []
        cases.append(
            _fee_case(
                f"boundary-{name}",
                seed + 4000 + k,
                transactions=signed,
                federation=federation,
                miner=miner,
                note=note,
            )
        )
    return cases


def replay_fees(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    block = run_to_last_block(target, inputs["scenario"])
    paid: dict[bytes, int] = {}
    for w in block.message.execution_payload.withdrawals:
        paid[w.address] = paid.get(w.address, 0) + w.amount
    return {
        "withdrawals": [
            {"address": hex_bytes(a), "gwei": to_json_int(v)} for a, v in sorted(paid.items()) if v
        ]
    }


RULES: tuple[Rule, ...] = (
    Rule(
        id="pegin/parse",
        summary="a peg-in's amount (first output paying the federation) and recipient (first OP_RETURN "
        "naming one)",
        origin="node",
        source="crates/federation/src/lib.rs Bridge::pegin_info (alys-rules.md §4.2); replayed through "
        "app/src/chain.rs process_block / check_withdrawals",
        generate=_generate_parse,
        replay=replay_parse,
        component="chain",
        inputs_schema=_object({"transaction": HEX, "federation_spk": HEX, "scenario": SCENARIO_SCHEMA}),
        outputs_schema=_object({"amount_sats": BIG_UINT, "evm_address": hex_of(20)}),
    ),
    Rule(
        id="pegin/fee-split",
        summary="the parent's fees minted by an AuxPoW block: 80% to the miner, the rest evenly over the "
        "federation, floored to Gwei, summed per address",
        origin="node",
        source="app/src/chain.rs check_withdrawals / split_fees (alys-rules.md §4.3); a repeated address is "
        "owed the sum (suite hardening)",
        generate=_generate_fees,
        replay=replay_fees,
        component="chain",
        inputs_schema=_object(
            {
                "fees_wei": BIG_UINT,
                "miner": hex_of(20),
                "federation": {"type": "array", "items": hex_of(20), "minItems": 1},
                "scenario": SCENARIO_SCHEMA,
            }
        ),
        outputs_schema=_object(
            {"withdrawals": {"type": "array", "items": _object({"address": hex_of(20), "gwei": BIG_UINT})}}
        ),
    ),
)
