"""The protocol tables of the `sync` component (CROSSING.md): the simulated network, the block and
checkpoint store and the sync engine, as handles; everything the suite does to them or reads from
them is a call with JSON values (alys_pbt/interface.py SyncComponent).

A file store's path is the suite's: the suite acts on that file itself (a crash's leftovers, bit
rot, a lost tail, another connection's lock), which works over `exec:` because the server runs on
the suite's machine (over `tcp:` to another host, only the in-memory store's properties hold).
A full sync's per-round trace (`engine.sync_rounds`) stands in for observers the engine would call:
the suite checks its between-rounds invariants on it.
"""

from __future__ import annotations

from alys_pbt.protocol.methods import GENESIS, NEW_NODE, NO_BITCOIN, SPEC, Method, Step, Type, _m

S = Step
H1 = "11" * 32
STATE = {"height": 1, "head": H1, "latest_pow": "22" * 32}
NETWORK = S("sync.network", {}, 1)
PEER = S("network.add_peer", {"network": 1, "name": "p", "chain": ["00", "01"]}, None)
MEM_STORE = S("sync.store", {"interval": 1, "retention": 2}, 1)
PUT = S(
    "store.put_block",
    {"store": 1, "height": 1, "block_hash": H1, "data": "0102", "state": STATE, "now": 0},
    None,
)
# An engine: a node (1), a network (2), a store (3), the engine (4).
ENGINE = (
    NEW_NODE,
    S("sync.network", {}, 2),
    S("sync.store", {"interval": 1, "retention": 2}, 3),
    S("sync.engine", {"node": 1, "network": 2, "store": 3}, 4),
)
REQUEST = {
    "sent": 0.0,
    "peer": "p",
    "start": 1,
    "count": 1,
    "ended": 0.05,
    "outcome": "answered",
    "blocks": ["01"],
}

STORE_ERRORS = (
    "StoreError",
    "DiskError",
    "StoreLocked",
    "StoreFull",
    "StoreIOError",
    "StoreInUse",
    "StoreCorrupt",
    "CorruptBlock",
    "LostAcknowledged",
    "MalformedCheckpointState",
)
ERRORS_SYNC: dict[str, str] = {
    "StoreError": "a store failure (the base of the names below; an OSError)",
    "DiskError": "an injected disk fault: the write failed (io-error) or was torn",
    "StoreLocked": "another connection holds the database's lock past the busy timeout",
    "StoreFull": "the disk is full (SQLITE_FULL)",
    "StoreIOError": "the disk failed a read or a write (SQLITE_IOERR)",
    "StoreInUse": "another store (another process) holds the file",
    "StoreCorrupt": "the database or its acknowledgement record is damaged or missing",
    "CorruptBlock": "an acknowledged block row does not match its digest or its hash, or no longer "
    'validates; the message begins "acknowledged block <height>:"',
    "LostAcknowledged": "acknowledged blocks are gone from the database (a lost tail, a hole)",
    "MalformedCheckpointState": "a checkpoint's state is not a JSON object within bounds",
    "PeerUnreachable": "the peer is disconnected, partitioned away or not linked to the node",
    "RequestTimedOut": "the response was lost or came after the 15 s request timeout",
    "NotTheNextBlock": "the block does not extend the node's head (sync imports in order)",
}

TYPES_SYNC: tuple[Type, ...] = (
    Type("str?[]", "an array of `str` or null", ["drop", None]),
    Type("int-pairs", "an array of `[int, int]` pairs", [[0, 2]]),
    Type(
        "sync-request",
        "one BlocksByRange request as the simulated wire saw it: "
        '`{"sent": float, "peer": str, "start": int, "count": int, "ended": float, "outcome": '
        '"answered" | "timed out" | "unreachable", "blocks": bytes[] (what came back)}`',
        REQUEST,
    ),
    Type("sync-request[]", "an array of `sync-request`", [REQUEST]),
    Type(
        "checkpoint",
        'a stored checkpoint: `{"height": int, "state": object (height, head, latest_pow) or null '
        '(what is stored is not an object), "verified": bool (its integrity hash verifies)}`',
        {"height": 1, "state": STATE, "verified": True},
    ),
    Type("checkpoint[]", "an array of `checkpoint`, oldest first", []),
    Type(
        "block-row",
        "a stored block row: `[int (height), bytes (block hash), bytes (wire form)]`",
        [1, H1, "0102"],
    ),
    Type("block-row[]", "an array of `block-row`, by height", []),
    Type(
        "sync-round",
        "one round of a full sync: `[str (its outcome), int (head height after it), int (finalized height)]`",
        ["progress", 1, 0],
    ),
    Type("sync-round[]", "an array of `sync-round`, in order", []),
    Type(
        "peer-standing?",
        'a peer\'s standing with the engine (§5.1): `{"failures": int, "backoff_until": float, '
        '"breaker_until": float}`, or null for a peer never judged',
        None,
    ),
)

_net = ("network", "handle", "a network")
_peer = ("peer", "str", "a peer's name")
_store = ("store", "handle", "a store")
_engine = ("engine", "handle", "a sync engine")

METHODS_SYNC: tuple[Method, ...] = (
    _m(
        "sync.serve",
        [
            ("blocks", "bytes[]", "the canonical blocks a node holds, by height (head = the last)"),
            ("start", "int", "the first height asked for"),
            ("count", "int", "how many blocks"),
        ],
        "bytes[]",
        "BlocksByRange, the server side: the blocks start..min(start + min(count, 1024) - 1, head).",
        [S("sync.serve", {"blocks": ["00", "01", "02"], "start": 1, "count": 5}, ["01", "02"])],
    ),
    _m(
        "sync.network",
        [],
        "handle",
        "An empty simulated network, in simulated time from 0 (its methods: `network.*`).",
        [NETWORK],
    ),
    _m(
        "sync.store",
        [
            ("interval", "int", "a checkpoint every `interval` blocks"),
            ("retention", "int", "how many checkpoints are kept"),
            ("path", "str", "the database file (the suite's), or `:memory:`", ":memory:"),
            ("busy_timeout", "float", "seconds SQLite waits for another connection's lock", 5.0),
        ],
        "handle",
        "A block and checkpoint store (its methods: `store.*`). A file store holds its file "
        "exclusively and keeps what else it needs beside it (`<path>-*`); the suite acts on the "
        "files itself while the store is closed.",
        [MEM_STORE, S("sync.store", {"interval": 0, "retention": 2}, error="ValueError")],
        (*STORE_ERRORS, "ValueError"),
    ),
    _m(
        "sync.engine",
        [
            ("node", "handle", "a node (chain.node or sync.recover)"),
            ("network", "handle", "a network"),
            ("store", "handle", "a store"),
            ("batch", "int", "blocks per request, 1..1024", 1024),
        ],
        "handle",
        "A sync engine importing into the node from the network, persisting to the store (its "
        "methods: `engine.*`). Engines of one network share the peers' standing.",
        [*ENGINE, S("sync.engine", {"node": 1, "network": 2, "store": 3, "batch": 0}, error="ValueError")],
        ("ValueError",),
    ),
    _m(
        "sync.recover",
        [
            ("store", "handle", "the store a crashed node left"),
            ("spec", "chain-spec", "the chain's parameters"),
            ("genesis", "block", "the genesis block"),
            ("bitcoin", "bitcoin-view", "what the node's Bitcoin RPC answers"),
        ],
        "handle",
        "A node rebuilt from the store (the newest checkpoint that verifies, then the blocks after "
        "it validated again); a node handle (`node.*`). A store that lost or rotted acknowledged "
        "rows is refused with its typed error.",
        [
            MEM_STORE,
            S("sync.recover", {"store": 1, "spec": SPEC, "genesis": GENESIS, "bitcoin": NO_BITCOIN}, 2),
            S("node.head_height", {"node": 2}, 0),
        ],
        (*STORE_ERRORS, "DecodeError"),
        kind="node",
    ),
    # --- network ---
    _m(
        "network.add_peer",
        [
            _net,
            ("name", "str", "its name (a peer of that name is replaced)"),
            ("chain", "bytes[]", "the blocks it holds, by height (wire form, or any bytes)"),
            ("behaviour", "str", '"honest" | "lagging" | "fork" | "withholding" | "lying"', "honest"),
            ("lag", "int", "how many blocks a lagging peer serves behind its chain", 0),
            ("claimed", "int?", "the height a lying peer claims", None),
        ],
        "null",
        "A peer linked to the node, serving a copy of `chain`.",
        [
            NETWORK,
            PEER,
            S(
                "network.add_peer",
                {"network": 1, "name": "q", "chain": [], "behaviour": "evil"},
                error="ValueError",
            ),
        ],
        ("ValueError",),
    ),
    _m(
        "network.grow",
        [_net, _peer, ("blocks", "bytes[]", "the heights after the last it holds")],
        "null",
        "The peer's chain grows by these blocks.",
        [NETWORK, PEER, S("network.grow", {"network": 1, "peer": "p", "blocks": ["02"]}, None)],
        ("ValueError",),
    ),
    _m(
        "network.remove_peer",
        [_net, _peer],
        "null",
        "The peer leaves.",
        [
            NETWORK,
            PEER,
            S("network.remove_peer", {"network": 1, "peer": "p"}, None),
            S("network.remove_peer", {"network": 1, "peer": "p"}, error="ValueError"),
        ],
        ("ValueError",),
    ),
    _m(
        "network.peer_names",
        [_net],
        "str[]",
        "The peers' names, sorted.",
        [NETWORK, PEER, S("network.peer_names", {"network": 1}, ["p"])],
    ),
    _m(
        "network.queue_faults",
        [_net, _peer, ("faults", "str?[]", '"drop" | "duplicate" | "reorder" | "corrupt" | "delay" | null')],
        "null",
        "The peer's next responses meet these faults, one each, in order, after those already "
        "queued (null: that response gets through). drop: lost (the request times out after 15 s); "
        "duplicate: the first block twice; reorder: the first two swapped; corrupt: a byte of the "
        "first flipped; delay: 5 s more.",
        [
            NETWORK,
            PEER,
            S("network.queue_faults", {"network": 1, "peer": "p", "faults": ["drop", None]}, None),
            S("network.queue_faults", {"network": 1, "peer": "p", "faults": ["melt"]}, error="ValueError"),
        ],
        ("ValueError",),
    ),
    _m(
        "network.clear_faults",
        [_net],
        "null",
        "No fault is pending for any peer.",
        [NETWORK, S("network.clear_faults", {"network": 1}, None)],
    ),
    _m(
        "network.disconnect",
        [_net, _peer],
        "null",
        "The peer's link to the node goes down (until `heal`).",
        [
            NETWORK,
            PEER,
            S("network.disconnect", {"network": 1, "peer": "p"}, None),
            S("network.reachable", {"network": 1}, []),
        ],
    ),
    _m(
        "network.partition",
        [_net, _peer],
        "null",
        "The peer ends up on the other side of a partition (until `heal`).",
        [NETWORK, PEER, S("network.partition", {"network": 1, "peer": "p"}, None)],
    ),
    _m(
        "network.heal",
        [_net],
        "null",
        "Every peer reconnected and back on the node's side of every partition.",
        [
            NETWORK,
            PEER,
            S("network.disconnect", {"network": 1, "peer": "p"}, None),
            S("network.heal", {"network": 1}, None),
            S("network.reachable", {"network": 1}, ["p"]),
        ],
    ),
    _m(
        "network.set_latency",
        [_net, ("seconds", "float", "what each response takes (0.05 at first)")],
        "null",
        "Every response from now on takes this long (past the 15 s timeout, each is lost).",
        [NETWORK, S("network.set_latency", {"network": 1, "seconds": 1.0}, None)],
    ),
    _m(
        "network.advance",
        [_net, ("seconds", "float", "how far")],
        "null",
        "Simulated time moves on.",
        [
            NETWORK,
            S("network.advance", {"network": 1, "seconds": 2.5}, None),
            S("network.time", {"network": 1}, 2.5),
        ],
    ),
    _m(
        "network.time",
        [_net],
        "float",
        "The simulated time, in seconds.",
        [NETWORK, S("network.time", {"network": 1}, 0.0)],
        attribute=True,
    ),
    _m(
        "network.reachable",
        [_net],
        "str[]",
        "The peers with a live direct link to the node (BlocksByRange is a direct request), sorted.",
        [NETWORK, PEER, S("network.reachable", {"network": 1}, ["p"])],
    ),
    _m(
        "network.wire",
        [
            _net,
            ("topology", "str", '"mesh" | "ring" | "star" | "random"'),
            ("extra", "int-pairs", "a random graph's links beyond the ring, as index pairs", []),
        ],
        "null",
        "Relink the node and its peers (in name order, the node first) as a mesh, a ring, a star "
        "around the node, or a ring plus the `extra` links.",
        [
            NETWORK,
            PEER,
            S("network.wire", {"network": 1, "topology": "ring"}, None),
            S("network.wire", {"network": 1, "topology": "torus"}, error="ValueError"),
        ],
        ("ValueError",),
    ),
    _m(
        "network.blocks_by_range",
        [_net, _peer, ("start", "int", "the first height"), ("count", "int", "how many")],
        "bytes[]",
        "The node's BlocksByRange request to the peer, through the network's faults and latency "
        "(the clock moves by what it took); logged (`network.requests`).",
        [
            NETWORK,
            PEER,
            S("network.blocks_by_range", {"network": 1, "peer": "p", "start": 1, "count": 1}, ["01"]),
            S(
                "network.blocks_by_range",
                {"network": 1, "peer": "x", "start": 1, "count": 1},
                error="PeerUnreachable",
            ),
        ],
        ("PeerUnreachable", "RequestTimedOut"),
    ),
    _m(
        "network.requests",
        [_net, ("since", "int", "the number of the first wanted (0: all)", 0)],
        "sync-request[]",
        "The BlocksByRange requests from number `since` on, in the order sent.",
        [
            NETWORK,
            PEER,
            S("network.blocks_by_range", {"network": 1, "peer": "p", "start": 1, "count": 1}, ["01"]),
            S("network.requests", {"network": 1}, [REQUEST]),
            S("network.requests", {"network": 1, "since": 1}, []),
        ],
    ),
    # --- store ---
    _m(
        "store.put_block",
        [
            _store,
            ("height", "int", "the block's height"),
            ("block_hash", "bytes", "its hash"),
            ("data", "bytes", "its wire form"),
            ("state", "json", "the node's state after it (height, head, latest_pow), an object"),
            ("now", "int", "the time, in seconds, a checkpoint records"),
        ],
        "null",
        "Store a block (and a checkpoint at a multiple of the interval, pruning the oldest).",
        [MEM_STORE, PUT],
        STORE_ERRORS,
    ),
    _m(
        "store.stored_heights",
        [_store],
        "int[]",
        "The heights of the stored blocks, ascending.",
        [MEM_STORE, PUT, S("store.stored_heights", {"store": 1}, [1])],
        STORE_ERRORS,
    ),
    _m(
        "store.blocks_from",
        [_store, ("height", "int", "the lowest"), ("up_to", "int?", "the highest (null: all)", None)],
        "block-row[]",
        "The stored block rows from `height` (up to `up_to`).",
        [MEM_STORE, PUT, S("store.blocks_from", {"store": 1, "height": 1}, [[1, H1, "0102"]])],
        STORE_ERRORS,
    ),
    _m(
        "store.checkpoints",
        [_store],
        "checkpoint[]",
        "The checkpoints kept, oldest first.",
        [
            MEM_STORE,
            PUT,
            S("store.checkpoints", {"store": 1}, [{"height": 1, "state": STATE, "verified": True}]),
        ],
        STORE_ERRORS,
    ),
    _m(
        "store.corrupt_checkpoint",
        [_store, ("height", "int", "a kept checkpoint's height")],
        "null",
        "Bit rot, simulated: the checkpoint's state changes behind its integrity hash's back.",
        [
            MEM_STORE,
            PUT,
            S("store.corrupt_checkpoint", {"store": 1, "height": 1}, None),
            S(
                "store.checkpoints",
                {"store": 1},
                [{"height": 1, "state": {**STATE, "latest_pow": "00" * 32}, "verified": False}],
            ),
        ],
        (*STORE_ERRORS, "ValueError"),
    ),
    _m(
        "store.set_fault",
        [
            _store,
            ("at_write", "int?", "the store's write (counting from 1) that fails; null: none"),
            ("kind", "str", '"io-error" | "torn"', "io-error"),
        ],
        "null",
        "The fault model's disk fault: that write fails as `kind` (io-error: nothing reaches the "
        "disk; torn: what reached it is committed, then the process dies).",
        [
            MEM_STORE,
            S("store.set_fault", {"store": 1, "at_write": 1}, None),
            S("store.put_block", PUT.params, error="DiskError"),
        ],
        ("ValueError",),
    ),
    _m(
        "store.writes",
        [_store],
        "int",
        "How many writes the store has made.",
        [MEM_STORE, PUT, S("store.writes", {"store": 1}, 2)],
        attribute=True,
    ),
    _m(
        "store.inject_fault",
        [_store, ("name", "str", '"disk-full"')],
        "null",
        "disk-full: the next write needing a new page fails as on a full disk (StoreFull), until cleared.",
        [
            MEM_STORE,
            S("store.inject_fault", {"store": 1, "name": "disk-full"}, None),
            S("store.inject_fault", {"store": 1, "name": "meteor"}, error="ValueError"),
        ],
        ("ValueError",),
    ),
    _m(
        "store.clear_fault",
        [_store, ("name", "str", '"disk-full"')],
        "null",
        "The disk has room again.",
        [MEM_STORE, S("store.clear_fault", {"store": 1, "name": "disk-full"}, None)],
        ("ValueError",),
    ),
    _m(
        "store.close",
        [_store],
        "null",
        "Release the file (and its lock), as a process that exits or dies does.",
        [MEM_STORE, S("store.close", {"store": 1}, None)],
    ),
    # --- engine ---
    _m(
        "engine.import_block",
        [_engine, ("raw", "bytes", "a block's wire form")],
        "null",
        "Validate and import one block as the node's next, then store it; a store failure puts the "
        "node's head back and is the store's typed error.",
        [*ENGINE, S("engine.import_block", {"engine": 4, "raw": GENESIS}, error="NotTheNextBlock")],
        ("NotTheNextBlock", "DecodeError", *STORE_ERRORS),
    ),
    _m(
        "engine.round",
        [_engine],
        "str",
        'One request to the next available peer: "synced" | "progress" | "failed" | "idle".',
        [*ENGINE, S("engine.round", {"engine": 4}, "idle")],
        STORE_ERRORS,
    ),
    _m(
        "engine.sync",
        [_engine, ("max_rounds", "int", "the most rounds", 10_000)],
        "str",
        'Rounds until synced (every reachable peer answered short), waiting out backoffs: "synced" '
        '| "stalled".',
        [*ENGINE, S("engine.sync", {"engine": 4}, "stalled")],
        STORE_ERRORS,
    ),
    _m(
        "engine.sync_rounds",
        [_engine],
        "sync-round[]",
        "Each round of the last `engine.sync`: its outcome and the node's heights after it.",
        [
            *ENGINE,
            S("engine.sync", {"engine": 4, "max_rounds": 3}, "stalled"),
            S("engine.sync_rounds", {"engine": 4}, [["idle", 0, 0]]),
        ],
    ),
    _m(
        "engine.sync_parallel",
        [_engine, ("peers", "str[]", "the peers to ask"), ("target", "int", "the last height wanted")],
        "int",
        "Download heights head+1..target from several peers at once (disjoint ranges), then import "
        "them in order: how many were imported.",
        [*ENGINE, S("engine.sync_parallel", {"engine": 4, "peers": [], "target": 3}, 0)],
        STORE_ERRORS,
    ),
    _m(
        "engine.standing",
        [_engine, _peer],
        "peer-standing?",
        "The peer's standing with this engine (§5.1 retry policy), or null.",
        [*ENGINE, S("engine.standing", {"engine": 4, "peer": "p"}, None)],
    ),
    _m(
        "engine.acknowledged",
        [_engine],
        "int",
        "The highest height the store confirmed.",
        [*ENGINE, S("engine.acknowledged", {"engine": 4}, 0)],
        attribute=True,
    ),
    _m(
        "engine.batch",
        [_engine],
        "int",
        "Blocks per request.",
        [*ENGINE, S("engine.batch", {"engine": 4}, 1024)],
        attribute=True,
    ),
    _m(
        "engine.set_bitcoin",
        [_engine, ("bitcoin", "bitcoin-view", "the view from now on")],
        "null",
        "The engine's node's Bitcoin RPC answers this view from now on (as `node.set_bitcoin`): the "
        "client sends it before an engine call when the suite changed the view the node was made with.",
        [*ENGINE, S("engine.set_bitcoin", {"engine": 4, "bitcoin": NO_BITCOIN}, None)],
    ),
)
