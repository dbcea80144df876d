"""The target protocol's tables: every method with its parameters, result, errors and an example
exchange, and every type that crosses the wire with its JSON form.

The client (alys_pbt/protocol/target.py) marshals calls from these tables and docs/protocol.md is
generated from them (`python -m alys_pbt.protocol docs`); tests/test_protocol_docs.py fails when
the document is stale and replays every example exchange against `python -m alys.serve alys-fixed`,
so neither can drift from what the client sends and the port answers.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from alys_pbt.interface import CHAIN_ERRORS, CHECK_POW, NODE_PANIC

PROTOCOL_VERSION = 1
REJECTED = -32000  # JSON-RPC error code of a typed rejection (the name is in error.data.name)

_REQUIRED = object()


@frozen
class Type:
    """A type that crosses the wire: its name in the tables, its JSON form, and an example."""

    name: str
    json: str
    example: Any


@frozen
class Param:
    name: str
    type: str
    doc: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@frozen
class Step:
    """One request and its answer in an example exchange: a result, or an error name."""

    method: str
    params: dict[str, Any]
    result: Any = None
    error: str | None = None


@frozen
class Method:
    """One protocol method: `component.name`, or `kind.name` on a handle of that kind."""

    name: str
    params: tuple[Param, ...]
    result: str
    doc: str
    example: tuple[Step, ...]
    errors: tuple[str, ...] = ()
    optional: bool = False  # the server may leave it out of `hello` (the interface's optional methods)
    attribute: bool = False  # the suite reads it as an attribute of the handle's object, not a call
    kind: str = ""  # the kind of handle a `handle` result names (default: the method's short name)
    reads_view: bool = False  # the server reads the node's Bitcoin view: the client sends it first if changed

    @property
    def made(self) -> str:
        """The kind of handle this method's result names."""
        return self.kind or self.short

    @property
    def component(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short(self) -> str:
        return self.name.rpartition(".")[2]


# --- chain examples (checked by the replay, tests/test_protocol_docs.py) ---
GENESIS = (  # the wire form of a genesis block (slot 0, parent 0, no proof)
    "9297d9423078"
    + "30" * 64
    + "0097d9423078"
    + "30" * 64
    + "d9423078"
    + "30" * 64
    + "ce207fffffce0001d97c00c0d92a3078"
    + "30" * 40
    + "9fd9423078"
    + "30" * 64
    + "d92a3078"
    + "30" * 36
    + "64656164d9423078"
    + "30" * 64
    + "d9423078"
    + "30" * 64
    + "da02023078"
    + "30" * 512
    + "d9423078"
    + "30" * 64
    + "a130a83330303030303030a130a130a23078a137d9423078373637653431326630323038316361373237613235"
    + "36356663353632373339356364643765373763346462343363353661366365366266666531333136633938909090"
    + "c09092a6307830303830d9c23078"
    + "30" * 192
)
GENESIS_HASH = "b8b586df939c060d3b55b6581b2f30846c1d8e2ebf8ffe945029ee05f34802a8"
AUTHORITY = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
FEDERATION_SPK = "51202486b11832f304190b5660614c2bb2bdb8159c1652a78685a2545cdfd25e684e"
EVM_TX = (  # an EIP-1559 transaction signed by the key of address ba2e40...
    "02f8718301d97c568502540be40085199c82cc0083054b0494f6041d3c687e4a34fa2f093f57efbfc4e6e2456b818480c0"
    "01a098682685a2eed8421e53a1b3b459dd5efb6d78bdd45915ba8e841ce7f238012aa065fd70a437e454c17deb49b3a9b9"
    "3153d9398e797664600bb9e131a27c999493"
)
RETARGET = {
    "pow_target_timespan": 12000,
    "pow_target_spacing": 1000,
    "max_pow_adjustment": 20,
    "pow_no_retargeting": False,
}
SPEC: dict[str, Any] = {
    "authorities": [AUTHORITY],
    "federation": ["22" * 20],
    "federation_spk": FEDERATION_SPK,
    "chain_id": 121212,
    "bits": 0x207FFFFF,
    "slot_duration_ms": 5000,
    "max_blocks_without_pow": 3,
    "retarget": {**RETARGET, "pow_no_retargeting": True},
    "required_confirmations": 144,
}
NO_BITCOIN: dict[str, list[Any]] = {"confirmations": [], "transactions": []}
NEW_NODE: Step = Step("chain.node", {"spec": SPEC, "genesis": GENESIS, "bitcoin": NO_BITCOIN}, 1)


# --- Types --------------------------------------------------------------------------------------

TYPES: dict[str, Type] = {
    t.name: t
    for t in (
        Type("bytes", 'a string of lowercase hex digits, two per byte (`""` is no bytes)', "00ff10"),
        Type("bytes[]", "an array of `bytes`", ["00ff", "10"]),
        Type("int", "a JSON integer (every int here fits in 53 bits)", 486604799),
        Type("bigint", "a non-negative integer of any size as a string of decimal digits", "65535"),
        Type("bool", "`true` or `false`", True),
        Type("bool[]", "an array of `bool`", [True, False]),
        Type("str", "a JSON string", "output-script"),
        Type("null", "`null`: the call returns nothing", None),
        Type(
            "handle",
            "a positive JSON integer naming an object the server keeps (a decoded value or a stateful "
            "object) until the client releases it; the method's text says what kind of object. A handle "
            "is valid only on the connection (the process, for `exec:`) that made it",
            1,
        ),
        Type(
            "individual-approval",
            "one authority's approval of a block (gossip ApproveBlock): "
            '`{"signature": bytes (96, compressed G2), "authority_index": int}`',
            {"signature": "c0" + "00" * 95, "authority_index": 0},
        ),
        Type(
            "aggregate-approval",
            "a block's aggregate approval: "
            '`{"bits": bool[] (exactly 15, bit i for authority i), "signature": bytes (96) or null}`'
            " (null: the empty aggregate)",
            {"bits": [False] * 15, "signature": None},
        ),
        Type(
            "accepted-approval",
            "what a candidate cache accepted a block with: `[bool[] (15 bits), bytes or null]`",
            [[False] * 15, None],
        ),
        Type("handle[]", "an array of `handle`", [1, 2]),
        Type("accepted-approval[]", "an array of `accepted-approval`", []),
        Type("hello", "an object: see the method `hello`", {}),
        Type(
            "block",
            "a signed consensus block in its wire form (what BlocksByRange, gossip and storage carry: "
            "rmp_serde's MessagePack of SignedConsensusBlock, docs/target-interface.md and "
            "models/blocks.py), as `bytes`. A server decodes it with its own decoder; a block the "
            "server cannot decode is its rejection `DecodeError`",
            GENESIS[:24] + "...",
        ),
        Type(
            "bytes-set",
            "an array of distinct `bytes`, in any order (a set)",
            ["00ff"],
        ),
        Type(
            "height-map",
            "the node's height index: an array of `[int, bytes]` pairs (height, block hash), one per height",
            [[0, "00" * 32]],
        ),
        Type(
            "retarget-params",
            'Bitcoin consensus parameters (chain.json): `{"pow_target_timespan": int, '
            '"pow_target_spacing": int, "max_pow_adjustment": int (percent), "pow_no_retargeting": bool}`',
            {
                "pow_target_timespan": 12000,
                "pow_target_spacing": 1000,
                "max_pow_adjustment": 20,
                "pow_no_retargeting": True,
            },
        ),
        Type(
            "chain-spec",
            'a chain\'s parameters: `{"authorities": bytes[] (48-byte BLS keys, in index order), '
            '"federation": bytes[] (20-byte EVM fee addresses), "federation_spk": bytes (the peg-in '
            'scriptPubKey), "chain_id": int, "bits": int, "slot_duration_ms": int, '
            '"max_blocks_without_pow": int, "retarget": retarget-params, "required_confirmations": int}`',
            SPEC,
        ),
        Type(
            "bitcoin-view",
            "what the node's Bitcoin RPC answers: "
            '`{"confirmations": [[bytes (block hash), int], ...], "transactions": [[bytes (txid), '
            "bytes (the transaction, consensus encoding)], ...]}`",
            {"confirmations": [], "transactions": []},
        ),
        Type(
            "auxpow-header",
            "what a block carries to finalize a range (block.rs AuxPowHeader): "
            '`{"range_start": bytes, "range_end": bytes, "bits": int, "chain_id": int, "height": int, '
            '"auxpow": bytes (an AuxPow, consensus encoding) or null, "fee_recipient": bytes (20)}`',
            {
                "range_start": "00" * 32,
                "range_end": "00" * 32,
                "bits": 545259519,
                "chain_id": 121212,
                "height": 1,
                "auxpow": None,
                "fee_recipient": "00" * 20,
            },
        ),
        Type(
            "pow-context",
            "what the chain requires of an AuxPowHeader when check_pow runs: "
            '`{"aggregate_hash": bytes (32), "bits": int, "chain_id": int, "height": int, "override": bool}`',
            {
                "aggregate_hash": "00" * 32,
                "bits": 545259519,
                "chain_id": 121212,
                "height": 1,
                "override": False,
            },
        ),
    )
}

# --- Error names ----------------------------------------------------------------------------------

DECODE = ("DecodeError",)
AUXPOW_CHECK = (
    "DecodeError",
    "ParentHasChainId",
    "MerkleBranchTooLong",
    "MerkleRootIncorrect",
    "CoinbaseNotFirst",
    "CoinbaseNoInputs",
    "NotACoinbase",
    "CoinbaseInvalidOutputs",
    "MissingHeader",
    "MultipleHeaders",
    "InvalidSlice",
    "MissingMerkleRoot",
    "InvalidMerkleSize",
    "WrongIndex",
    "ValueError",
)
ERRORS: dict[str, str] = {
    "DecodeError": "the bytes are not one value of the type (truncated, trailing bytes, bad length)",
    "ParentHasChainId": "the parent block's version carries our chain id",
    "MerkleBranchTooLong": "the chain merkle branch has more than 30 hashes",
    "MerkleRootIncorrect": "the coinbase branch does not lead to the parent header's merkle root",
    "CoinbaseNotFirst": "the coinbase branch's index is not 0",
    "CoinbaseNoInputs": "the coinbase has no inputs",
    "NotACoinbase": "the first transaction does not spend the null outpoint with one input",
    "CoinbaseInvalidOutputs": "no output 2 or 3 to hold the merged-mining header (output-script layout)",
    "MissingHeader": "no merged-mining header (magic fabe6d6d and 40 bytes) where the layout puts it",
    "MultipleHeaders": "more than one merged-mining header (script-sig layout)",
    "InvalidSlice": "the merged-mining header is cut short",
    "MissingMerkleRoot": "the header's chain root is not the root the chain branch leads to",
    "InvalidMerkleSize": "the header's merkle size is not 2 to the chain branch's length",
    "WrongIndex": "the chain branch's index is not the one the nonce and chain id select",
    "ValueError": "a parameter is outside its domain (an unknown layout or root order)",
    "UnknownAuthority": "an authority index, or an aggregate bit, beyond the federation",
    "InvalidSignature": "an individual approval's signature does not verify",
    "BadSignature": "an aggregate signature that does not decode or does not verify",
    "TooManyAuthorities": "a federation larger than the 15-bit approval list",
    **CHAIN_ERRORS,
    **NODE_PANIC,
}
NODE_ERRORS = ("DecodeError", *CHAIN_ERRORS, *NODE_PANIC)
CHECK_POW_ERRORS = {**CHECK_POW, **NODE_PANIC}

# --- Methods -------------------------------------------------------------------------------------

H = "00" * 32
TX = (
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0100ffffffff"
    "0100f2052a010000000000000000"
)
HEADER = "01000000" + "00" * 32 + "11" * 32 + "29ab5f49ffff001d1dac2b7c"
# A proof that the port accepts for aux hash 00..00 and chain id 1 (checked by the docs test).
AUXPOW_EXAMPLE = (  # a proof for aux hash 00..00 and chain id 727272, output-script layout
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff04030000000000"
    "00000300000000000000000000000000000000000000000000000000002cfabe6d6d0000000000000000000000000000"
    "000000000000000000000000000000000000010000000000000000000000ca62f43faf763c33582d7e97f76c0e522fc3"
    "d4fd619fd34a497cca621acada7500000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000dcbd17465d7ec977fdfd5a836be93fa571f422b6107fcf8294810e82e9a479d500000000"
    "ffff7f2002000000"
)
CHAIN_ID = 727272


def _m(
    name: str,
    params: list[tuple[str, str, str] | tuple[str, str, str, Any]],
    result: str,
    doc: str,
    example: list[Step],
    errors: tuple[str, ...] = (),
    optional: bool = False,
    attribute: bool = False,
    kind: str = "",
    reads_view: bool = False,
) -> Method:
    return Method(
        name,
        tuple(Param(*p) for p in params),
        result,
        doc,
        tuple(example),
        errors,
        optional,
        attribute,
        kind,
        reads_view,
    )


S = Step
HELLO_RESULT = {
    "protocol": 1,
    "name": "alys-fixed",
    "components": {"auxpow": ["check", "decode_auxpow", "..."]},
    "capabilities": {"auxpow": {"layouts": ["output-script", "script-sig"], "root_orders": ["internal"]}},
    "quirks": [],
    "deviations": [],
}

METHODS: tuple[Method, ...] = (
    # --- the session ---
    _m(
        "hello",
        [
            ("protocol", "int", "the protocol version the client speaks (1)"),
            ("client", "str", "who is asking, for the server's log"),
        ],
        "hello",
        "The first request on every connection. The result says what the server offers: `protocol` "
        "(1), `name` (of the implementation), `components` (component name -> the names of the "
        "methods it implements, without the component prefix: a component left out is absent, an "
        "optional method left out is absent), `capabilities` (component -> what it supports; "
        "for `auxpow`: `layouts`, a subset of `output-script` and `script-sig`, and `root_orders`, "
        "a subset of `internal` and `reversed`), `quirks` (ids of the suite's registry of known "
        "deviations the implementation carries) and `deviations` (its own known deviations, held as "
        'strict expected failures: objects `{"id", "summary", "breaks": [pytest node-id patterns, '
        'fnmatch]}`, optionally `"requires"`, `"jointly"`, `"fails_with"` and `"source"`, as '
        "docs/target-interface.md describes them).",
        [S("hello", {"protocol": 1, "client": "alys-pbt"}, HELLO_RESULT)],
    ),
    _m(
        "release",
        [("handles", "handle[]", "handles the client no longer uses")],
        "null",
        "A notification (no `id`, no answer): the server may forget these handles. The client sends "
        "it before a request, for the objects it has dropped since the last one.",
        [],
    ),
    # --- auxpow ---
    _m(
        "auxpow.decode_transaction",
        [("data", "bytes", "a Bitcoin transaction, consensus encoding (segwit or not)")],
        "handle",
        "Decode a transaction; the handle names the decoded transaction.",
        [
            S("auxpow.decode_transaction", {"data": TX}, 1),
            S("auxpow.decode_transaction", {"data": "01"}, error="DecodeError"),
        ],
        DECODE,
    ),
    _m(
        "auxpow.encode_transaction",
        [("tx", "handle", "a transaction from decode_transaction")],
        "bytes",
        "The consensus encoding of a decoded transaction (with its witness, if any).",
        [S("auxpow.decode_transaction", {"data": TX}, 1), S("auxpow.encode_transaction", {"tx": 1}, TX)],
        optional=True,
    ),
    _m(
        "auxpow.txid",
        [("tx", "handle", "a transaction from decode_transaction")],
        "bytes",
        "The txid (sha256d of the encoding without witness), internal byte order.",
        [
            S("auxpow.decode_transaction", {"data": TX}, 1),
            S("auxpow.txid", {"tx": 1}, "75f41780e60f0d01f8dd68150bc703f32a3005bc3a283faffc14be6a70b6ff8a"),
        ],
    ),
    _m(
        "auxpow.decode_header",
        [("data", "bytes", "an 80-byte Bitcoin block header")],
        "handle",
        "Decode a block header.",
        [
            S("auxpow.decode_header", {"data": HEADER}, 1),
            S("auxpow.decode_header", {"data": "00"}, error="DecodeError"),
        ],
        DECODE,
    ),
    _m(
        "auxpow.encode_header",
        [("header", "handle", "a header from decode_header")],
        "bytes",
        "The 80 bytes of a decoded header.",
        [S("auxpow.decode_header", {"data": HEADER}, 1), S("auxpow.encode_header", {"header": 1}, HEADER)],
        optional=True,
    ),
    _m(
        "auxpow.header_hash",
        [("header", "handle", "a header from decode_header")],
        "bytes",
        "sha256d of the header, internal byte order.",
        [
            S("auxpow.decode_header", {"data": HEADER}, 1),
            S(
                "auxpow.header_hash",
                {"header": 1},
                "d7ded7b5ee7d12c7c169ca29483fa5ba3d269cd7dde28fec74dbfd8da25b5ed3",
            ),
        ],
    ),
    _m(
        "auxpow.decode_auxpow",
        [
            (
                "data",
                "bytes",
                "an AuxPow: coinbase tx, parent hash, coinbase branch, chain branch, parent header",
            )
        ],
        "handle",
        "Decode an AuxPow (the merged-mining proof).",
        [
            S("auxpow.decode_auxpow", {"data": AUXPOW_EXAMPLE}, 1),
            S("auxpow.decode_auxpow", {"data": ""}, error="DecodeError"),
        ],
        DECODE,
    ),
    _m(
        "auxpow.encode_auxpow",
        [("auxpow", "handle", "an AuxPow from decode_auxpow")],
        "bytes",
        "The consensus encoding of a decoded AuxPow.",
        [
            S("auxpow.decode_auxpow", {"data": AUXPOW_EXAMPLE}, 1),
            S("auxpow.encode_auxpow", {"auxpow": 1}, AUXPOW_EXAMPLE),
        ],
        optional=True,
    ),
    _m(
        "auxpow.merkle_root",
        [("txids", "bytes[]", "32-byte txids, internal byte order (at least one)")],
        "bytes",
        "Bitcoin's merkle root of the txids (an odd level pairs its last hash with itself).",
        [S("auxpow.merkle_root", {"txids": [H]}, H)],
    ),
    _m(
        "auxpow.target_from_compact",
        [("bits", "int", "a compact target (nBits), 0..2^32-1")],
        "bigint",
        "The 256-bit target the compact form means (0 for a negative or overflowing one).",
        [S("auxpow.target_from_compact", {"bits": 0x1D00FFFF}, str(0xFFFF << 208))],
    ),
    _m(
        "auxpow.compact_from_target",
        [("target", "bigint", "a target below 2^256")],
        "int",
        "The compact form of a target.",
        [S("auxpow.compact_from_target", {"target": str(0xFFFF << 208)}, 0x1D00FFFF)],
    ),
    _m(
        "auxpow.hash_meets_target",
        [("block_hash", "bytes", "a 32-byte hash, internal byte order"), ("bits", "int", "a compact target")],
        "bool",
        "Whether the hash, read as a little-endian 256-bit number, is at most the target.",
        [S("auxpow.hash_meets_target", {"block_hash": H, "bits": 0x1D00FFFF}, True)],
    ),
    _m(
        "auxpow.check_proof_of_work",
        [("header", "bytes", "an 80-byte header"), ("bits", "int", "a compact target")],
        "bool",
        "Whether the header's sha256d meets the target.",
        [S("auxpow.check_proof_of_work", {"header": HEADER, "bits": 0x1D00FFFF}, False)],
    ),
    _m(
        "auxpow.expected_index",
        [
            ("nonce", "int", "the merged-mining header's nonce (u32)"),
            ("chain_id", "int", "the chain id (u32)"),
            ("h", "int", "the chain branch's length, 0..30"),
        ],
        "int",
        "The chain branch index the nonce and chain id select (Namecoin's getExpectedIndex).",
        [S("auxpow.expected_index", {"nonce": 0, "chain_id": 1, "h": 3}, 3)],
    ),
    _m(
        "auxpow.check",
        [
            ("auxpow", "bytes", "an AuxPow, consensus encoding"),
            ("aux_hash", "bytes", "the 32-byte hash the proof must commit to"),
            ("chain_id", "int", "our chain id"),
            (
                "layout",
                "str",
                "`output-script` or `script-sig`: where the merged-mining header sits",
                "output-script",
            ),
            (
                "root_order",
                "str",
                "`internal` (Alys) or `reversed` (Namecoin): the chain root's byte order",
                "internal",
            ),
        ],
        "null",
        "AuxPow::check: `null` if the proof is valid, else the first rule it breaks, in this order: "
        "decoding, ParentHasChainId, MerkleBranchTooLong, MerkleRootIncorrect, the coinbase checks, "
        "the merged-mining header, MissingMerkleRoot, InvalidMerkleSize, WrongIndex.",
        [
            S("auxpow.check", {"auxpow": AUXPOW_EXAMPLE, "aux_hash": H, "chain_id": CHAIN_ID}, None),
            S(
                "auxpow.check",
                {"auxpow": AUXPOW_EXAMPLE, "aux_hash": "11" * 32, "chain_id": CHAIN_ID},
                error="CoinbaseInvalidOutputs",
            ),
        ],
        AUXPOW_CHECK,
    ),
    # --- approvals ---
    _m(
        "approvals.verify",
        [
            ("pk", "bytes", "a 48-byte compressed G1 public key"),
            ("message", "bytes", "the signed message (a block's signing root)"),
            ("signature", "bytes", "a 96-byte compressed G2 signature"),
        ],
        "bool",
        "BLS Verify (IETF POP suite); false for a key or signature that does not decode.",
        [S("approvals.verify", {"pk": "c0" + "00" * 47, "message": H, "signature": "c0" + "00" * 95}, False)],
    ),
    _m(
        "approvals.fast_aggregate_verify",
        [
            ("pks", "bytes[]", "48-byte public keys"),
            ("message", "bytes", "the message"),
            ("signature", "bytes", "a 96-byte aggregate signature"),
        ],
        "bool",
        "BLS FastAggregateVerify.",
        [
            S(
                "approvals.fast_aggregate_verify",
                {"pks": [], "message": H, "signature": "c0" + "00" * 95},
                False,
            )
        ],
    ),
    _m(
        "approvals.required_approvals",
        [("n", "int", "the federation's size")],
        "int",
        "How many approvals a block needs (two thirds, rounded up).",
        [S("approvals.required_approvals", {"n": 3}, 2)],
    ),
    _m(
        "approvals.check_individual",
        [
            ("approval", "individual-approval", "the approval"),
            ("authorities", "bytes[]", "the federation's public keys, in index order"),
            ("message", "bytes", "the block's signing root"),
        ],
        "null",
        "`null` if the approval is by a known authority and verifies.",
        [
            S(
                "approvals.check_individual",
                {
                    "approval": {"signature": "c0" + "00" * 95, "authority_index": 1},
                    "authorities": [],
                    "message": H,
                },
                error="UnknownAuthority",
            )
        ],
        ("UnknownAuthority", "InvalidSignature"),
    ),
    _m(
        "approvals.majority_approved",
        [
            ("approval", "aggregate-approval", "the block's aggregate approval"),
            ("authorities", "bytes[]", "the federation's public keys"),
            ("message", "bytes", "the block's signing root"),
        ],
        "bool",
        "true if enough authorities approved and the aggregate verifies; false for not yet.",
        [
            S(
                "approvals.majority_approved",
                {
                    "approval": {"bits": [False] * 15, "signature": None},
                    "authorities": ["c0" + "00" * 47],
                    "message": H,
                },
                False,
            )
        ],
        ("BadSignature", "UnknownAuthority", "TooManyAuthorities"),
    ),
    _m(
        "approvals.candidate_cache",
        [("authorities", "bytes[]", "the federation's public keys")],
        "handle",
        "A new, empty block candidate cache (its methods: `candidate_cache.*`).",
        [S("approvals.candidate_cache", {"authorities": ["c0" + "00" * 47]}, 1)],
        ("TooManyAuthorities",),
    ),
    _m(
        "candidate_cache.insert_block",
        [
            ("cache", "handle", "a candidate cache"),
            ("block_hash", "bytes", "the block's signing root"),
            ("height", "int", "its height"),
            ("slot", "int", "its slot"),
        ],
        "null",
        "A block arrives.",
        [
            S("approvals.candidate_cache", {"authorities": ["c0" + "00" * 47]}, 1),
            S("candidate_cache.insert_block", {"cache": 1, "block_hash": H, "height": 1, "slot": 1}, None),
        ],
    ),
    _m(
        "candidate_cache.add_approval",
        [
            ("cache", "handle", "a candidate cache"),
            ("block_hash", "bytes", "the approved block's signing root"),
            ("approval", "individual-approval", "the approval"),
        ],
        "null",
        "An approval arrives (before or after its block).",
        [
            S("approvals.candidate_cache", {"authorities": ["c0" + "00" * 47]}, 1),
            S(
                "candidate_cache.add_approval",
                {
                    "cache": 1,
                    "block_hash": H,
                    "approval": {"signature": "c0" + "00" * 95, "authority_index": 3},
                },
                error="UnknownAuthority",
            ),
        ],
        ("UnknownAuthority", "InvalidSignature", "BadSignature"),
    ),
    _m(
        "candidate_cache.accepted",
        [("cache", "handle", "a candidate cache")],
        "bytes[]",
        "The signing roots of the blocks accepted, in order.",
        [
            S("approvals.candidate_cache", {"authorities": ["c0" + "00" * 47]}, 1),
            S("candidate_cache.accepted", {"cache": 1}, []),
        ],
        attribute=True,
    ),
    _m(
        "candidate_cache.accepted_approvals",
        [("cache", "handle", "a candidate cache")],
        "accepted-approval[]",
        "For each accepted block, the aggregate it was accepted with.",
        [
            S("approvals.candidate_cache", {"authorities": ["c0" + "00" * 47]}, 1),
            S("candidate_cache.accepted_approvals", {"cache": 1}, []),
        ],
        attribute=True,
    ),
    # --- chain ---
    _m(
        "chain.aggregate_hash",
        [("block_hashes", "bytes[]", "the range's block hashes, oldest first")],
        "bytes",
        "What a miner commits to: sha256d over the concatenated block hashes.",
        [
            S(
                "chain.aggregate_hash",
                {"block_hashes": [H]},
                "2b32db6c2c0a6235fb1397e8225ea85e0f0e6e8c7b126d0016ccbde0e667151e",
            )
        ],
    ),
    _m(
        "chain.check_pow",
        [
            ("header", "auxpow-header", "the AuxPowHeader a block carries"),
            ("ctx", "pow-context", "what the chain requires of it"),
        ],
        "null",
        "chain.rs check_pow: `null` if the header finalizes its range under `ctx`; else MissingAuxPow, "
        "the header's fields against `ctx` (WrongChainId, WrongBits, WrongHeight), InvalidPow (the "
        "parent header misses `bits`, unless `override`), then AuxPow::check's errors.",
        [
            S(
                "chain.check_pow",
                {
                    "header": TYPES["auxpow-header"].example,
                    "ctx": TYPES["pow-context"].example,
                },
                error="MissingAuxPow",
            )
        ],
        tuple(CHECK_POW_ERRORS),
    ),
    _m(
        "chain.get_next_work_required",
        [
            ("last_pow_height", "int", "the height of the latest PoW block"),
            ("last_bits", "int", "its bits"),
            ("params", "retarget-params", "the chain's consensus parameters"),
            ("head_height", "int", "the head's height"),
        ],
        "int",
        "auxpow_miner.rs get_next_work_required: the bits the next AuxPoW must meet.",
        [
            S(
                "chain.get_next_work_required",
                {"last_pow_height": 5, "last_bits": 0x1D00FFFF, "params": RETARGET, "head_height": 7},
                0x1D00FFFF,
            ),
            S(
                "chain.get_next_work_required",
                {
                    "last_pow_height": 5,
                    "last_bits": 0x1D00FFFF,
                    "params": {**RETARGET, "pow_target_spacing": 0},
                    "head_height": 7,
                },
                error="NodePanic",
            ),
        ],
        ("NodePanic",),
    ),
    _m(
        "chain.calculate_next_work_required",
        [
            ("diff", "int", "the gap in blocks since the latest PoW block"),
            ("last_bits", "int", "its bits"),
            ("params", "retarget-params", "the chain's consensus parameters"),
        ],
        "int",
        "auxpow_miner.rs calculate_next_work_required: retargeting for a gap of `diff` blocks.",
        [
            S(
                "chain.calculate_next_work_required",
                {"diff": 1000, "last_bits": 0x1D00FFFF, "params": RETARGET},
                0x1D00FFFF,
            )
        ],
        ("NodePanic",),
    ),
    _m(
        "chain.node",
        [
            ("spec", "chain-spec", "the chain's parameters"),
            ("genesis", "block", "the genesis block"),
            ("bitcoin", "bitcoin-view", "what the node's Bitcoin RPC answers, for now"),
            ("validator", "bool", "a validator (else a full node)", True),
        ],
        "handle",
        "A new node over the genesis block (its methods: `node.*`). The Bitcoin view changes as the "
        "suite mines peg-ins: before a call that reads it the client sends the new one "
        "(`node.set_bitcoin`).",
        [
            NEW_NODE,
            S("chain.node", {"spec": SPEC, "genesis": "00", "bitcoin": NO_BITCOIN}, error="DecodeError"),
        ],
        ("DecodeError",),
    ),
    _m(
        "chain.decode_block",
        [("data", "block", "a block's wire bytes, canonical or not (sent as given)")],
        "block",
        "The server's own decoding of the wire form, answered as the server's own encoding of what it "
        "decoded (the suite reads that back with the reference's decoder and compares it with what "
        "it sent): only the one canonical form of a block decodes.",
        [
            S("chain.decode_block", {"data": GENESIS}, GENESIS),
            S("chain.decode_block", {"data": GENESIS + "00"}, error="DecodeError"),
        ],
        ("DecodeError",),
    ),
    _m(
        "chain.transaction_sender",
        [("raw", "bytes", "an EVM transaction (legacy RLP or EIP-2718 typed)")],
        "bytes",
        "The 20-byte address its signature recovers to.",
        [
            S("chain.transaction_sender", {"raw": EVM_TX}, "ba2e4022aa3f5239847639c69aee909eb56f7b43"),
            S("chain.transaction_sender", {"raw": "c0"}, error="MalformedRlp"),
        ],
        ("MalformedRlp", "BadSignature"),
    ),
    _m(
        "node.process_block",
        [("node", "handle", "a node"), ("block", "block", "the block")],
        "null",
        "process_block: import the block as the new head, or reject it with the first rule it breaks "
        "(all or nothing: a rejected block changes nothing the node exposes).",
        [NEW_NODE, S("node.process_block", {"node": 1, "block": GENESIS}, error="ProcessGenesis")],
        NODE_ERRORS,
        reads_view=True,
    ),
    _m(
        "node.set_bitcoin",
        [("node", "handle", "a node"), ("bitcoin", "bitcoin-view", "the view from now on")],
        "null",
        "The node's Bitcoin RPC answers this view from now on (shared with the nodes restarted from it).",
        [
            NEW_NODE,
            S(
                "node.set_bitcoin",
                {"node": 1, "bitcoin": {"confirmations": [["11" * 32, 144]], "transactions": []}},
                None,
            ),
        ],
    ),
    _m(
        "node.rollback",
        [("node", "handle", "a node"), ("height", "int", "the height to roll the head back to")],
        "null",
        "Roll the head back to `height` (a no-op at or above the head); IllegalRollback below the "
        "latest PoW block.",
        [NEW_NODE, S("node.rollback", {"node": 1, "height": 0}, None)],
        ("IllegalRollback", "NodePanic"),
    ),
    _m(
        "node.restart",
        [("node", "handle", "a node")],
        "handle",
        "A new node process over the same store (what the node persisted); the old handle stays valid.",
        [NEW_NODE, S("node.restart", {"node": 1}, 2)],
        kind="node",
    ),
    _m(
        "node.head",
        [("node", "handle", "a node")],
        "bytes",
        "The head's block hash.",
        [NEW_NODE, S("node.head", {"node": 1}, GENESIS_HASH)],
        attribute=True,
    ),
    _m(
        "node.head_height",
        [("node", "handle", "a node")],
        "int",
        "The head's height.",
        [NEW_NODE, S("node.head_height", {"node": 1}, 0)],
        attribute=True,
    ),
    _m(
        "node.finalized_height",
        [("node", "handle", "a node")],
        "int",
        "The height of the last block finalized by AuxPoW.",
        [NEW_NODE, S("node.finalized_height", {"node": 1}, 0)],
        attribute=True,
    ),
    _m(
        "node.latest_pow",
        [("node", "handle", "a node")],
        "bytes",
        "The hash of the latest block carrying an AuxPoW header (genesis at first).",
        [NEW_NODE, S("node.latest_pow", {"node": 1}, GENESIS_HASH)],
        attribute=True,
    ),
    _m(
        "node.stored",
        [("node", "handle", "a node")],
        "bytes-set",
        "The hashes of every block the node stores.",
        [NEW_NODE, S("node.stored", {"node": 1}, [GENESIS_HASH])],
        attribute=True,
    ),
    _m(
        "node.by_height",
        [("node", "handle", "a node")],
        "height-map",
        "The canonical chain's height index.",
        [NEW_NODE, S("node.by_height", {"node": 1}, [[0, GENESIS_HASH]])],
        attribute=True,
    ),
    _m(
        "node.holds",
        [("node", "handle", "a node"), ("signed", "block", "a block")],
        "bool",
        "Whether this very block is on the node's canonical chain.",
        [NEW_NODE, S("node.holds", {"node": 1, "signed": GENESIS}, True)],
        ("DecodeError",),
    ),
    _m(
        "node.rollback_head",
        [("node", "handle", "a node"), ("height", "int", "the height")],
        "null",
        "rollback_head as coded: the head back to `height`, with no finality check (for sync).",
        [NEW_NODE, S("node.rollback_head", {"node": 1, "height": 0}, None)],
    ),
    _m(
        "node.import_trusted",
        [("node", "handle", "a node"), ("signed", "block", "a block a verified checkpoint vouches for")],
        "null",
        "Recovery: import the block without validating it.",
        [NEW_NODE, S("node.import_trusted", {"node": 1, "signed": GENESIS}, None)],
        ("DecodeError",),
        reads_view=True,
    ),
    _m(
        "node.restore_pointer",
        [("node", "handle", "a node"), ("latest_pow", "bytes", "a block hash the store holds")],
        "null",
        "Recovery: set the latest-PoW pointer as the checkpoint recorded it.",
        [
            NEW_NODE,
            S("node.restore_pointer", {"node": 1, "latest_pow": GENESIS_HASH}, None),
            S("node.restore_pointer", {"node": 1, "latest_pow": H}, error="ValueError"),
        ],
        ("ValueError",),
    ),
)

BY_NAME: dict[str, Method] = {m.name: m for m in METHODS}
SESSION = ("hello", "release")


def component_methods(component: str) -> list[Method]:
    return [m for m in METHODS if m.component == component]


def for_docs() -> dict[str, Any]:
    """The tables as plain data (for tests that compare against the interface)."""
    return {m.name: {"params": [p.name for p in m.params], "result": m.result} for m in METHODS}


# --- components whose tables live in modules of their own (CROSSING.md): one import line each, and
# the component's names added to the tuples below.
from alys_pbt.protocol.methods_actors import ERRORS_ACTORS, METHODS_ACTORS, TYPES_ACTORS  # noqa: E402
from alys_pbt.protocol.methods_governance import (  # noqa: E402
    ERRORS_GOVERNANCE,
    METHODS_GOVERNANCE,
    TYPES_GOVERNANCE,
)
from alys_pbt.protocol.methods_sync import ERRORS_SYNC, METHODS_SYNC, TYPES_SYNC  # noqa: E402

METHODS = (*METHODS, *METHODS_ACTORS, *METHODS_GOVERNANCE, *METHODS_SYNC)
TYPES.update({t.name: t for t in (*TYPES_ACTORS, *TYPES_GOVERNANCE, *TYPES_SYNC)})
ERRORS.update({**ERRORS_ACTORS, **ERRORS_GOVERNANCE, **ERRORS_SYNC})
BY_NAME.update({m.name: m for m in METHODS})
