"""Sync vectors: the BlocksByRange server and the block store's checkpoints, as plain data.

* `sync/serve`: the canonical blocks by height and a request (start, count): the blocks a correct
  server answers, start .. min(start + min(count, 1024) - 1, head), none past the head (app/src/chain.rs
  get_blocks, alys-rules.md §5.1; the 1,024 limit is the node's). The server does not decode a block:
  the vectors' blocks are short distinct byte strings, the height big-endian, so that a request at
  1,024 and 1,025 blocks stays small.
* `sync/store`: a store with a checkpoint interval and retention fed blocks in height order, with
  disk faults between them: after each step, whether the store took the block, which blocks it holds,
  which checkpoints exist (the newest `retention` multiples of `interval`, models/sync.py
  expected_checkpoints) and whether each verifies. A store refuses a write all or nothing (nothing
  of a refused block stays) with a typed OSError (alys_pbt/interface.py SyncComponent); a refusal
  is recorded as "StoreError" when typed, else by its class name.
* `sync/engine`: a node (the chain family's spec, genesis and Bitcoin view) syncing from one peer that
  serves the canonical chain, with faults between the steps (a corrupted or reordered answer, a
  write the store refuses, a rotted checkpoint, a restart through recovery): after each step, the
  step's result and the node's head, head height and latest-PoW block. The secure rules: a bad
  block from a peer costs the node nothing (the node as coded rolls back one block: quirk
  sync-error-rolls-back), a refused write leaves the head where the store is, recovery holds every
  acknowledged block, and a sync reaches the peer's tip whatever height the peer claims.

The retry policy shows as rounds that ask nobody: a round within a backoff or while the breaker is
open leaves the node where it is (waits keep well clear of every deadline). File-backed stores,
second writers and the network's own latency do not cross as plain data: UNREACHABLE says, mutant by
mutant, why no vector here can catch them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from alys_pbt.interface import Target
from alys_pbt.models.sync import RetryClock, expected_checkpoints, is_a
from alys_pbt.vectors.families.bls import HEX, HEX_LIST, obj
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, from_hex, hex_bytes, sample

MAX_REQUEST_BLOCKS = 1024  # the node's BlocksByRange limit (app/src/chain.rs, alys-rules.md §5.1)
LOOP_INDEX = "sync-serve-loop-index"
STORE_ERROR = "StoreError"  # any typed OSError (interface: "every store failure is a typed OSError")


# --- the range server -------------------------------------------------------------------------------
def chain_of(head: int) -> list[bytes]:
    """Blocks 0..head: each its height, big-endian, in two bytes (a server never decodes them)."""
    return [h.to_bytes(2, "big") for h in range(head + 1)]


def served(blocks: Sequence[bytes], start: int, count: int) -> list[bytes]:
    """BlocksByRange(start, count): the blocks start .. min(start + min(count, 1024) - 1, head)."""
    head = len(blocks) - 1
    count = min(count, MAX_REQUEST_BLOCKS)
    return list(blocks[start : min(start + count - 1, head) + 1])


def loop_index_answers_wrongly(head: int, start: int, count: int) -> bool:
    """Whether the node's get_blocks (quirk sync-serve-loop-index, alys-rules.md §5.1: it breaks on the
    loop index i > head, not the height, and answers the head for heights past it) differs here: when
    some height it walks, start + i for i < min(count, 1024, head + 1), lies past the head."""
    walked = min(count, MAX_REQUEST_BLOCKS, head + 1)
    return walked > 0 and start + walked - 1 > head


def serve_case(name: str, head: int, start: int, count: int, note: str = "", quirk: bool = False) -> Case:
    blocks = chain_of(head)
    tagged = loop_index_answers_wrongly(head, start, count)
    assert tagged or not quirk, f"{name}: the quirk's regression vector must be one it answers wrongly"
    return Case(
        name,
        {"blocks": [hex_bytes(b) for b in blocks], "start": start, "count": count},
        Expected.ok(blocks=[hex_bytes(b) for b in served(blocks, start, count)]),
        quirks=(LOOP_INDEX,) if tagged else (),
        note=note,
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, int, int]:
    head = draw(st.integers(0, 40), label="head")
    start = draw(st.integers(0, head + 3), label="start")
    count = draw(st.integers(0, head + 5), label="count")
    return head, start, count


def gen_serve(seed: int, n: int) -> list[Case]:
    cases = [
        serve_case(f"valid-{i:04d}", *r)
        for i, r in enumerate(sample(requests(), seed_value=seed, n=max(n, 1))[:n])
    ]
    cases += [
        serve_case("boundary-count-0", 10, 0, 0),
        serve_case("boundary-count-1", 10, 0, 1),
        serve_case("boundary-genesis-only", 0, 0, 5),
        serve_case("boundary-from-genesis-to-head", 10, 0, 11),
        serve_case("boundary-from-genesis-past-head", 10, 0, 12),
        serve_case("boundary-start-at-head", 10, 10, 1),
        serve_case("boundary-start-at-head-count-2", 10, 10, 2),
        serve_case("boundary-start-just-past-head", 10, 11, 1),
        serve_case("boundary-start-far-past-head", 10, 50, 5),
        serve_case("boundary-middle-to-head", 10, 4, 7),
        serve_case("boundary-middle-past-head", 10, 4, 8),
    ]
    long = MAX_REQUEST_BLOCKS + 40  # a head past the limit
    for count in (MAX_REQUEST_BLOCKS - 1, MAX_REQUEST_BLOCKS, MAX_REQUEST_BLOCKS + 1, 5000):
        cases.append(serve_case(f"boundary-count-{count}-from-genesis", long, 0, count))
        cases.append(serve_case(f"boundary-count-{count}-from-1", long, 1, count))
    cases.append(serve_case("boundary-count-1025-head-1024", MAX_REQUEST_BLOCKS, 0, MAX_REQUEST_BLOCKS + 1))
    cases.append(
        serve_case(
            f"quirk-{LOOP_INDEX}",
            3,
            2,
            4,
            note="heights 2..5 asked of a node at 3: it answers 2, 3, 3, 3",
            quirk=True,
        )
    )
    return cases


def replay_serve(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    blocks = [from_hex(b) for b in inputs["blocks"]]
    return {
        "blocks": [hex_bytes(bytes(b)) for b in target.sync.serve(blocks, inputs["start"], inputs["count"])]
    }


# --- the store's checkpoints --------------------------------------------------------------------------
Step = dict[str, Json]
BIG = 9000  # bytes: a block that needs new database pages (so a full disk refuses it)


def put(height: int, size: int = 16) -> Step:
    data = hashlib.sha256(b"alys-pbt/vectors/sync/block/%d" % height).digest() * (size // 32 + 1)
    return {
        "put_block": {
            "height": height,
            "hash": hex_bytes(hashlib.sha256(b"alys-pbt/vectors/sync/hash/%d" % height).digest()),
            "data": hex_bytes(data[:size]),
            "state": {"height": height, "head": hashlib.sha256(b"head/%d" % height).hexdigest()},
            "now": 1_700_000_000 + height,
        }
    }


def expected_store(interval: int, retention: int, steps: Sequence[Step]) -> Expected:
    """The store's guarantee fed the steps: a block is taken unless its write fails (then nothing of
    it stays), checkpoints are the newest `retention` multiples of `interval` up to the stored top."""
    stored: list[int] = []
    fail_at: int | None = None  # the write (counted from the store's first) that fails
    writes = 0
    full = False
    out = []
    for step in steps:
        result = "ok"
        if "put_block" in step:
            s = step["put_block"]
            height = s["height"]
            due = height > 0 and height % interval == 0
            # A block row, then (when due) its checkpoint row: the writes the fault counts.
            mine = [writes + 1] + ([writes + 2] if due else [])
            failed = fail_at in mine
            refused = full and len(from_hex(s["data"])) >= BIG  # its first write needs a new page
            writes = fail_at if fail_at is not None and failed else mine[0] if refused else mine[-1]
            if failed or refused:
                result = STORE_ERROR
            elif height not in stored:
                stored.append(height)
        elif "fail_write" in step:
            fail_at = writes + step["fail_write"]["after"]
        elif "fill_disk" in step:
            full = True
        else:
            full = False
        top = max(stored, default=0)
        assert stored == list(range(1, top + 1)), "the scenarios store heights in order"
        checkpoints = expected_checkpoints(top, interval, retention)
        out.append(
            {
                "result": result,
                "stored": list(stored),
                "checkpoints": checkpoints,
                "verified": [True] * len(checkpoints),
            }
        )
    return Expected.ok(steps=out)


def store_case(name: str, interval: int, retention: int, steps: list[Step], note: str = "") -> Case:
    return Case(
        name,
        {"interval": interval, "retention": retention, "steps": steps},
        expected_store(interval, retention, steps),
        note=note,
    )


def gen_store(seed: int, n: int) -> list[Case]:
    drawn = sample(
        st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 24)), seed_value=seed, n=max(n, 1)
    )[:n]
    cases = [
        store_case(f"valid-{i:04d}", interval, retention, [put(h) for h in range(1, blocks + 1)])
        for i, (interval, retention, blocks) in enumerate(drawn)
    ]
    cases += [
        store_case("boundary-interval-1-retention-1", 1, 1, [put(h) for h in range(1, 5)]),
        store_case("boundary-just-below-first-checkpoint", 5, 2, [put(h) for h in range(1, 5)]),
        store_case("boundary-at-first-checkpoint", 5, 2, [put(h) for h in range(1, 6)]),
        store_case("boundary-retention-reached", 3, 2, [put(h) for h in range(1, 7)]),
        store_case("boundary-retention-passed", 3, 2, [put(h) for h in range(1, 10)]),
        store_case("boundary-retention-passed-by-two", 2, 3, [put(h) for h in range(1, 11)]),
        store_case(
            "corruption-io-error-on-a-plain-block",
            3,
            2,
            [put(1), {"fail_write": {"after": 1}}, put(2), put(2), put(3)],
            note="the block's only write fails: nothing of block 2 is stored; it is stored when put again",
        ),
        store_case(
            "corruption-io-error-on-the-checkpoint-write",
            2,
            2,
            [put(1), {"fail_write": {"after": 2}}, put(2), put(2), put(3), put(4)],
            note="block 2 is due a checkpoint: a block row and a checkpoint row in one atomic write; "
            "the second fails, so neither stays (no checkpoint without its block)",
        ),
        store_case(
            "corruption-io-error-on-the-block-write-of-a-checkpoint",
            2,
            2,
            [put(1), {"fail_write": {"after": 1}}, put(2), put(2)],
        ),
        store_case(
            "corruption-disk-full",
            2,
            2,
            [put(1), {"fill_disk": {}}, put(2, BIG), {"free_disk": {}}, put(2, BIG), put(3)],
            note="a full disk (SQLite's page limit at the pages in use) "
            "refuses a block with a typed error, not SQLite's own",
        ),
    ]
    return cases


def replay_store(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    store = target.sync.store(interval=inputs["interval"], retention=inputs["retention"])
    out = []
    try:
        for step in inputs["steps"]:
            result = "ok"
            if "put_block" in step:
                s = step["put_block"]
                try:
                    store.put_block(
                        s["height"], from_hex(s["hash"]), from_hex(s["data"]), dict(s["state"]), s["now"]
                    )
                except Exception as err:
                    if not is_a(err, "OSError") or type(err).__name__ == "OSError":
                        raise
                    result = STORE_ERROR
            elif "fail_write" in step:
                store.set_fault(store.writes + step["fail_write"]["after"], "io-error")
            elif "fill_disk" in step:
                store.inject_fault("disk-full")
            else:
                store.clear_fault("disk-full")
            checkpoints = list(store.checkpoints())
            out.append(
                {
                    "result": result,
                    "stored": [int(h) for h in store.stored_heights()],
                    "checkpoints": [int(cp.height) for cp in checkpoints],
                    "verified": [bool(cp.verified) for cp in checkpoints],
                }
            )
    finally:
        store.close()
    return {"steps": out}


# --- the sync engine: a node, one peer, a store, faults between ------------------------------------
ENGINE_PEER = "peer"


def engine_state(canonical: Any, height: int) -> dict[str, Json]:
    state = canonical.states[height]
    return {
        "head_height": state["height"],
        "head": "0x" + state["head"],
        "latest_pow": "0x" + state["latest_pow"],
    }


class EngineScenario:
    """Steps for a node syncing from one peer that serves the canonical chain, with what the secure
    rules say after each (models/sync.py Canonical's state per height): a round asks the peer for
    head + 1 onwards (one batch of 1,024 covers these chains) and imports what it gets; a bad block
    from the peer costs the node nothing; a block the store refuses leaves the head where the store
    is; recovery holds every block the store acknowledged; a peer's claimed height decides nothing."""

    def __init__(self, canonical: Any, *, behaviour: str = "honest", claimed: int | None = None) -> None:
        self.canonical = canonical
        self.peer = {"behaviour": behaviour, "claimed": claimed}
        self.steps: list[Step] = []
        self.states: list[dict[str, Json]] = []
        self.height = 0  # the node's head as the secure rules have it
        self.acknowledged = 0
        self.responses: list[str] = []  # the peer's next answers' faults, in order
        self.refusal = False  # the store refuses the next write
        self.now = 0.0  # simulated time: the waits, and 15 s for each answer that never came
        self.clock = RetryClock()  # models/sync.py: the node's backoff and circuit breaker (§5.1)
        self.not_before = 0.0
        self.tags: set[str] = set()

    def _record(self, step: Step, result: str = "ok") -> EngineScenario:
        self.steps.append(step)
        self.states.append({"result": result, **engine_state(self.canonical, self.height)})
        return self

    def import_to(self, height: int) -> EngineScenario:
        self.height = self.acknowledged = height
        return self._record({"import": {"up_to": height}})

    def faults(self, *responses: str) -> EngineScenario:
        self.responses = list(responses)
        return self._record({"faults": {"responses": list(responses)}})

    def fail_write(self) -> EngineScenario:
        self.refusal = True
        return self._record({"fail_write": {"after": 1}})

    def wait(self, seconds: float = 2.0) -> EngineScenario:
        """Simulated time passes. Waits keep at least 0.5 s from every backoff and breaker deadline,
        so an answer's own latency (well under that) never decides a vector."""
        self.now += seconds
        return self._record({"wait": repr(float(seconds))})

    def round(self, *, parallel: bool = False) -> EngineScenario:
        step: Step = {"sync_parallel": {"target": self.canonical.tip}} if parallel else {"round": {}}
        if not parallel and self.now < self.not_before:  # backed off, or the breaker is open: nobody is asked
            return self._record(step)
        fault = self.responses.pop(0) if self.responses else None
        if fault == "drop":  # no answer within the 15 s request timeout: the peer's failure
            self.now += 15.0
            self.not_before = self.clock.after(self.now, True)
            return self._record(step)
        if fault in ("corrupt", "reorder"):  # the answer's first block is bad: nothing changes
            self.not_before = self.clock.after(self.now, True)
            if self.height >= 1:
                self.tags.add(ROLLS_BACK)  # as coded: rollback_head(head - 1)
            return self._record(step)
        self.not_before = self.clock.after(
            self.now, False
        )  # a good answer (a store refusal is not the peer's fault)
        if self.refusal:  # the store refuses the first block: its error, and the head stays with the store
            self.refusal = False
            return self._record(step, STORE_ERROR)
        if self.height >= 1 and not parallel:
            # Jointly (deviations.py sync-error-rolls-back): the range server's quirk answers copies of
            # the tip past it, each an error that, as coded, rolls the node back one block.
            self.tags |= {ROLLS_BACK, LOOP_INDEX}
        self.height = self.acknowledged = self.canonical.tip
        return self._record(step)

    def corrupt_checkpoint(self, height: int) -> EngineScenario:
        return self._record({"corrupt_checkpoint": {"height": height}})

    def recover(self) -> EngineScenario:
        self.height = self.acknowledged
        return self._record({"recover": {}})

    def inputs(self) -> dict[str, Json]:
        from alys_pbt.vectors.families.chain import bitcoin_json, spec_json

        b = self.canonical.builder
        return {
            "spec": spec_json(b.spec),
            "genesis": hex_bytes(self.canonical.wire[0]),
            "bitcoin": bitcoin_json(b.bitcoin),
            "chain": [hex_bytes(w) for w in self.canonical.wire],
            "peer": self.peer,
            "store": {"interval": 2, "retention": 3},
            "steps": list(self.steps),
        }

    def case(self, name: str, quirks: tuple[str, ...] = (), note: str = "") -> Case:
        tags = tuple(sorted(self.tags | set(quirks)))
        return Case(name, self.inputs(), Expected.ok(steps=list(self.states)), quirks=tags, note=note)


ROLLS_BACK = "sync-error-rolls-back"


@st.composite
def engine_runs(draw: st.DrawFn) -> tuple[Any, int, str | None]:
    """A canonical chain, the height the node has reached, and the fault (if any) of the first answer."""
    from alys_pbt.strategies.sync import canonical_chains

    canonical = draw(
        canonical_chains(length=st.integers(3, 7), authorities=st.integers(1, 3)), label="canonical chain"
    )
    k = draw(st.integers(1, canonical.tip - 2), label="imported")
    fault = draw(st.sampled_from([None, "corrupt", "reorder"]), label="fault")
    return canonical, k, fault


def gen_engine(seed: int, n: int) -> list[Case]:
    from alys_pbt.strategies.sync import canonical_chains

    cases = []
    for i, (canonical, k, fault) in enumerate(sample(engine_runs(), seed_value=seed, n=max(n, 1))[:n]):
        s = EngineScenario(canonical).import_to(k)
        if fault:
            s.faults(fault).round().wait()
        cases.append(s.round().case(f"valid-{i:04d}"))
    (c,) = sample(canonical_chains(length=6, authorities=2), seed_value=seed + 1, n=1)
    tip = c.tip
    cases += [
        EngineScenario(c)
        .round()
        .wait()
        .round()
        .case(
            "boundary-from-genesis",
            note="from genesis to the tip in one batch; a round at the tip changes nothing",
        ),
        EngineScenario(c).import_to(tip).round().case("boundary-already-at-the-tip"),
        EngineScenario(c)
        .import_to(2)
        .faults("corrupt")
        .round()
        .wait()
        .round()
        .case(
            "corruption-corrupt-block-from-the-peer",
            note="a corrupted answer: the node keeps its head (the node as coded rolls it back one block)",
        ),
        EngineScenario(c)
        .import_to(2)
        .faults("reorder")
        .round()
        .wait()
        .round()
        .case("corruption-reordered-answer"),
        EngineScenario(c)
        .import_to(2)
        .faults("drop")
        .round()
        .wait()
        .round()
        .case(
            "corruption-dropped-answer",
            note="a request that times out is the peer's failure, not a bad block: nothing to roll back",
        ),
        EngineScenario(c)
        .import_to(2)
        .faults("corrupt")
        .round()
        .round()
        .wait()
        .round()
        .case(
            "boundary-backoff-after-a-failure",
            note="a round within the 1 s backoff asks nobody; after it, the peer is asked",
        ),
        EngineScenario(c)
        .import_to(2)
        .faults("corrupt", "corrupt", "corrupt")
        .round()
        .wait(2)
        .round()
        .wait(3)
        .round()
        .wait(5)
        .round()
        .wait(60)
        .round()
        .case(
            "boundary-breaker-opens-after-three-failures",
            note="three failures in a row open the breaker for 60 s: a "
            "round 5 s later asks nobody though the 4 s backoff is over",
        ),
        EngineScenario(c)
        .import_to(2)
        .faults("drop")
        .round()
        .wait(2)
        .fail_write()
        .round()
        .faults("drop", "drop")
        .round()
        .wait(3)
        .round()
        .wait(3)
        .round()
        .case(
            "boundary-a-good-answer-ends-the-run-of-failures",
            note="a failure, a good answer (the store's refusal is not the peer's fault), two failures: "
            "the breaker stays shut, so the peer is asked after the 2 s backoff",
        ),
        EngineScenario(c, behaviour="lying", claimed=0)
        .import_to(2)
        .round()
        .case(
            "boundary-peer-claims-a-lower-height",
            note="a peer's claimed height never ends the sync: its blocks do",
        ),
        EngineScenario(c)
        .import_to(2)
        .fail_write()
        .round()
        .round()
        .case(
            "corruption-store-refuses-a-synced-block",
            note="the store's error, and the head stays with the store",
        ),
        EngineScenario(c)
        .import_to(2)
        .fail_write()
        .round(parallel=True)
        .round(parallel=True)
        .case(
            "corruption-store-refuses-a-block-of-a-parallel-download",
        ),
        EngineScenario(c).import_to(tip).recover().case("boundary-recover-at-the-tip"),
        EngineScenario(c)
        .import_to(tip)
        .corrupt_checkpoint(tip - tip % 2)
        .recover()
        .case(
            "corruption-newest-checkpoint-rotted",
            note="recovery skips a checkpoint whose integrity hash "
            "fails and validates the blocks after an older one",
        ),
        EngineScenario(c)
        .import_to(1)
        .faults("corrupt")
        .round()
        .case(
            f"quirk-{ROLLS_BACK}",
            quirks=(ROLLS_BACK,),
            note="a node at height 1 sent a corrupted block: it "
            "stays at 1; as coded it rolls back to genesis",
        ),
    ]
    return cases


def replay_engine(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    from alys_pbt.vectors.families.chain import bitcoin_from_json, spec_from_json

    chain = target.chain
    spec, bitcoin = spec_from_json(inputs["spec"]), bitcoin_from_json(inputs["bitcoin"])
    genesis = chain.decode_block(from_hex(inputs["genesis"]))
    wire = [from_hex(w) for w in inputs["chain"]]
    network = target.sync.network()
    peer = inputs["peer"]
    network.add_peer(ENGINE_PEER, wire, peer["behaviour"], claimed=peer["claimed"])
    store = target.sync.store(interval=inputs["store"]["interval"], retention=inputs["store"]["retention"])
    node = chain.node(spec, genesis, bitcoin)
    engine = target.sync.engine(node, network, store)
    out: list[dict[str, Json]] = []
    try:
        for step in inputs["steps"]:
            result = "ok"
            try:
                if "import" in step:
                    for h in range(node.head_height + 1, step["import"]["up_to"] + 1):
                        engine.import_block(wire[h])
                elif "faults" in step:
                    network.clear_faults()  # these responses, in place of any still pending
                    network.queue_faults(ENGINE_PEER, list(step["faults"]["responses"]))
                elif "round" in step:
                    engine.round()
                elif "wait" in step:
                    network.advance(float(step["wait"]))
                elif "sync_parallel" in step:
                    engine.sync_parallel([ENGINE_PEER], step["sync_parallel"]["target"])
                elif "fail_write" in step:
                    store.set_fault(store.writes + step["fail_write"]["after"], "io-error")
                elif "corrupt_checkpoint" in step:
                    store.corrupt_checkpoint(step["corrupt_checkpoint"]["height"])
                else:
                    node = target.sync.recover(store, spec, genesis, bitcoin)
                    engine = target.sync.engine(node, network, store)
            except Exception as err:
                if not is_a(err, "OSError") or type(err).__name__ == "OSError":
                    raise
                result = STORE_ERROR
            out.append(
                {
                    "result": result,
                    "head_height": int(node.head_height),
                    "head": hex_bytes(node.head),
                    "latest_pow": hex_bytes(node.latest_pow),
                }
            )
    finally:
        store.close()
    return {"steps": out}


HEIGHTS: dict[str, Json] = {"type": "array", "items": {"type": "integer", "minimum": 0}}
STORE_STEP: dict[str, Json] = {
    "oneOf": [
        obj(
            put_block=obj(
                height={"type": "integer", "minimum": 1},
                hash=HEX,
                data=HEX,
                state={"type": "object"},
                now={"type": "integer", "minimum": 0},
            )
        ),
        obj(fail_write=obj(after={"type": "integer", "minimum": 1})),
        obj(fill_disk=obj()),
        obj(free_disk=obj()),
    ]
}
ENGINE_STEP: dict[str, Json] = {
    "oneOf": [
        obj(**{"import": obj(up_to={"type": "integer", "minimum": 0})}),
        obj(
            faults=obj(
                responses={
                    "type": "array",
                    "items": {"enum": ["drop", "duplicate", "reorder", "corrupt", "delay"]},
                }
            )
        ),
        obj(round=obj()),
        obj(wait={"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}),
        obj(sync_parallel=obj(target={"type": "integer", "minimum": 0})),
        obj(fail_write=obj(after={"type": "integer", "minimum": 1})),
        obj(corrupt_checkpoint=obj(height={"type": "integer", "minimum": 1})),
        obj(recover=obj()),
    ]
}
RULES: tuple[Rule, ...] = (
    Rule(
        "sync/serve",
        "BlocksByRange(start, count): the canonical blocks start .. min(start + min(count, 1024) - 1, head)",
        "node",
        "app/src/chain.rs get_blocks (alys-rules.md §5.1; the node breaks on the loop index: quirk "
        f"{LOOP_INDEX}; the secure rule walks heights)",
        gen_serve,
        replay=replay_serve,
        component="sync",
        inputs_schema=obj(
            blocks=HEX_LIST, start={"type": "integer", "minimum": 0}, count={"type": "integer", "minimum": 0}
        ),
        outputs_schema=obj(blocks=HEX_LIST),
    ),
    Rule(
        "sync/store",
        "the store keeps the newest `retention` checkpoints at "
        "multiples of `interval`; a refused write leaves nothing",
        "suite-hardening",
        "v2 checkpoints (alys-rules.md §5.2) and the store's "
        "guarantee per fault (README, Sync and checkpoints); "
        "models/sync.py expected_checkpoints",
        gen_store,
        replay=replay_store,
        component="sync",
        inputs_schema=obj(
            interval={"type": "integer", "minimum": 1},
            retention={"type": "integer", "minimum": 1},
            steps={"type": "array", "items": STORE_STEP},
        ),
        outputs_schema=obj(
            steps={
                "type": "array",
                "items": obj(
                    result={"type": "string"},
                    stored=HEIGHTS,
                    checkpoints=HEIGHTS,
                    verified={"type": "array", "items": {"type": "boolean"}},
                ),
            }
        ),
        stateful=True,
    ),
    Rule(
        "sync/engine",
        "a node syncing from a peer: a bad block costs it nothing, a refused "
        "write leaves the head with the store, recovery keeps what was acknowledged",
        "suite-hardening",
        "app/src/chain.rs sync (alys-rules.md §5.1: the node rolls back on any import error: quirk "
        f"{ROLLS_BACK}); the store's guarantee per fault "
        "(README, Sync and checkpoints); models/sync.py Canonical",
        gen_engine,
        replay=replay_engine,
        component="sync",
        inputs_schema=obj(
            spec={"type": "object"},
            genesis=HEX,
            bitcoin={"type": "object"},
            chain=HEX_LIST,
            peer=obj(
                behaviour={"enum": ["honest", "lagging", "fork", "withholding", "lying"]},
                claimed={"type": ["integer", "null"]},
            ),
            store=obj(
                interval={"type": "integer", "minimum": 1}, retention={"type": "integer", "minimum": 1}
            ),
            steps={"type": "array", "items": ENGINE_STEP},
        ),
        outputs_schema=obj(
            steps={
                "type": "array",
                "items": obj(
                    result={"type": "string"},
                    head_height={"type": "integer", "minimum": 0},
                    head=HEX,
                    latest_pow=HEX,
                ),
            }
        ),
        stateful=True,
    ),
)

UNREACHABLE_QUIRKS: dict[str, str] = {}
UNREACHABLE: dict[str, str] = {
    "sync-timeout-inclusive": "a response at exactly the 15 s timeout needs a latency of exactly 15 s; the "
    "interface's faults add 5 s ('delay') or drop the answer, and the base latency is the port's",
    "sync-parallel-swallows-store-errors": "only a store error other than an injected I/O fault (DiskError, "
    "always raised) is swallowed: a full disk or a lock; where a full disk first refuses one of a chain's "
    "blocks depends on SQLite's page layout, which no vector can fix, and a lock needs a second connection "
    "to a file",
    "store-recovery-deletes-acknowledged": "recovery cuts the store back only at a row that fails to "
    "validate: a row rotted on disk, which needs a file-backed store changed behind SQLite",
    "store-rows-unverified": "a row that rots on disk is found when a file-backed store is opened again: "
    "it needs a file and bytes changed behind SQLite, not data a vector can hold",
    "store-tail-loss-unchecked": "a file that lost its tail (synchronous=NORMAL, a missing acknowledgement "
    "record) shows only when a file-backed store is reopened after a crash",
    "store-shared-writer": "a second process or connection opening "
    "the same store file: a vector holds no file",
    # Issue 16: two engines on one node, and parallel downloads; the engine rounds here are one engine's.
    "sync-health-per-engine": "two syncs of one node at once: this family's engine rounds drive one engine "
    "(properties/test_sync_chaos.py TestSyncUnderFaults kills it)",
    "sync-parallel-bad-block-uncharged": "a parallel download's peer standing afterwards: this family's "
    "engine rounds are sequential (properties/test_sync_chaos.py TestSyncUnderFaults kills it)",
    "sync-parallel-ignores-backoff": "a parallel download while a peer is in backoff: this family's engine "
    "rounds are sequential (properties/test_sync_chaos.py TestSyncUnderFaults kills it)",
}
