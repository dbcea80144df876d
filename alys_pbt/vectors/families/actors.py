"""Actor runtime vectors (crates/actor_system, alys-rules.md §6.3): what crosses the interface as
plain data.

* `actors/mailbox`: a mailbox of a capacity and an overflow policy fed sends (sender, sequence
  number, priority 0 Background .. 5 Emergency) and pops: each send's verdict, each pop's message,
  and the backpressure level after every step (models/actors.py MailboxModel);
* `actors/restart-delay`: the delay before restart number `attempt` under each restart strategy
  (models/actors.py restart_delay);
* `actors/shutdown-order`: the order in which a system stops a chain of actors that depend on one
  another (dependents first: the only order a chain allows).

A message crosses as any object with `sender`, `seq`, `priority` (an int, 0..5), `payload` and a
writable `queued_at` (the mailbox's arrival counter); a restart strategy as the runtime's own
strategy classes (`alys.actors`, the types the interface's actors component takes: Never, Immediate,
Delayed, ExponentialBackoff, Progressive), built from their JSON fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define
from hypothesis import strategies as st

from alys_pbt.vectors.families.bls import obj
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, sample
from models import actors as ref
from strategies.actors import PRIORITIES, SENDERS, restart_strategies

MAILBOX_RS = "crates/actor_system/src/mailbox.rs"
SUPERVISOR_RS = "crates/actor_system/src/supervisor.rs"
SYSTEM_RS = "crates/actor_system/src/system.rs"
POLICIES = ("reject", "drop-lowest", "block")
CAPACITY_UNENFORCED = "actors-capacity-unenforced"


# --- the mailbox ------------------------------------------------------------------------------------
@define
class Envelope:
    """A message as it crosses into a mailbox: plain fields (the mailbox stamps `queued_at`)."""

    sender: str
    seq: int
    priority: int
    payload: Any = None
    queued_at: int = 0


Step = dict[str, Json]


def send(sender: str, seq: int, priority: int) -> Step:
    return {"send": {"sender": sender, "seq": seq, "priority": priority}}


POP: Step = {"pop": {}}


def expected_mailbox(capacity: int, policy: str, steps: Sequence[Step]) -> tuple[Expected, tuple[str, ...]]:
    """The reference mailbox fed the steps, and the quirks that answer the run wrongly: a send into a
    full mailbox under drop-lowest or block is enqueued anyway by the node (the permit is dropped)."""
    model = ref.MailboxModel(capacity, policy)
    out: list[dict[str, Json]] = []
    quirks: set[str] = set()
    for step in steps:
        if "send" in step:
            s = step["send"]
            if model.size() >= capacity and policy != "reject":
                quirks.add(CAPACITY_UNENFORCED)
            out.append({"verdict": model.send(ref.Msg(s["sender"], s["seq"], s["priority"])), "backpressure": model.backpressure()})
        else:
            msg = model.deliver()
            delivered = None if msg is None else {"sender": msg.sender, "seq": msg.seq, "priority": msg.priority}
            out.append({"delivered": delivered, "backpressure": model.backpressure()})
    return Expected.ok(initial=ref.MailboxModel(capacity, policy).backpressure(), steps=out), tuple(sorted(quirks))


def mailbox_case(name: str, capacity: int, policy: str, steps: list[Step], note: str = "") -> Case:
    expected, quirks = expected_mailbox(capacity, policy, steps)
    return Case(name, {"capacity": capacity, "policy": policy, "steps": steps}, expected, quirks=quirks, note=note)


@st.composite
def mailbox_runs(draw: st.DrawFn) -> tuple[int, str, list[Step]]:
    """A small mailbox, a policy, and 1-24 sends (numbered per sender) and pops."""
    capacity = draw(st.integers(1, 8), label="capacity")
    policy = draw(st.sampled_from(POLICIES), label="policy")
    seq: dict[str, int] = {}
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, 24), label="steps")):
        if draw(st.integers(0, 3), label="pop?") == 0:
            steps.append(POP)
            continue
        sender = draw(st.sampled_from(SENDERS[:3]), label="sender")
        seq[sender] = seq.get(sender, 0) + 1
        steps.append(send(sender, seq[sender], draw(PRIORITIES, label="priority")))
    return capacity, policy, steps


def _numbered(pairs: Sequence[tuple[str, int]]) -> list[Step]:
    seq: dict[str, int] = {}
    out = []
    for sender, priority in pairs:
        seq[sender] = seq.get(sender, 0) + 1
        out.append(send(sender, seq[sender], priority))
    return out


def gen_mailbox(seed: int, n: int) -> list[Case]:
    cases = [
        mailbox_case(f"valid-{i:04d}", capacity, policy, steps)
        for i, (capacity, policy, steps) in enumerate(sample(mailbox_runs(), seed_value=seed, n=max(n, 1))[:n])
    ]
    every = _numbered([("chain", p) for p in range(6)])
    cases += [
        mailbox_case("boundary-priority-order", 8, "reject", [*every, POP, POP, POP, POP, POP, POP, POP],
                     note="Emergency, Critical, High by priority; then Normal; then Low and Background by arrival"),
        mailbox_case("boundary-high-ties-oldest-first", 8, "reject", [*_numbered([("chain", 3), ("engine", 3), ("sync", 3)]), POP, POP, POP]),
        mailbox_case("boundary-emergency-ties-oldest-first", 8, "reject", [*_numbered([("engine", 5), ("chain", 5)]), POP, POP]),
        mailbox_case("boundary-normal-fifo", 8, "reject", [*_numbered([("chain", 2), ("engine", 2), ("chain", 2)]), POP, POP, POP]),
        mailbox_case("boundary-low-and-background-by-arrival", 8, "reject", [*_numbered([("chain", 1), ("engine", 0), ("chain", 0)]), POP, POP, POP]),
        mailbox_case("boundary-pop-empty", 2, "reject", [POP, *_numbered([("chain", 2)]), POP, POP]),
    ]
    # Backpressure at, below and past each level: Warning from half, Critical from 80%, Blocked at capacity.
    for capacity in (1, 2, 4, 5, 10):
        fill = _numbered([("chain", 2)] * capacity)
        cases.append(mailbox_case(f"boundary-fill-{capacity}-then-drain", capacity, "reject", [*fill, *[POP] * capacity]))
    # Overflow, under each policy.
    full3 = _numbered([("chain", 2), ("engine", 1), ("sync", 2)])
    cases += [
        mailbox_case("boundary-reject-when-full", 3, "reject", [*full3, send("network", 1, 5), POP, send("network", 2, 5)]),
        mailbox_case("boundary-block-when-full", 3, "block", [*full3, send("network", 1, 4), send("network", 2, 0), POP, POP, POP, POP, POP, POP]),
        mailbox_case("boundary-drop-lowest-newcomer-loses", 3, "drop-lowest", [*full3, send("network", 1, 1), send("network", 2, 0), *[POP] * 4]),
        mailbox_case("boundary-drop-lowest-evicts-the-lowest", 3, "drop-lowest", [*full3, send("network", 1, 3), *[POP] * 4]),
        mailbox_case(
            "boundary-drop-lowest-evicts-the-newest-of-equals",
            3,
            "drop-lowest",
            [*_numbered([("chain", 2), ("engine", 2), ("sync", 2)]), send("network", 1, 4), *[POP] * 4],
        ),
        mailbox_case("boundary-capacity-one-reject", 1, "reject", [*_numbered([("chain", 2), ("chain", 5)]), POP, POP]),
    ]
    cases.append(
        mailbox_case(
            f"quirk-{CAPACITY_UNENFORCED}",
            1,
            "drop-lowest",
            [*_numbered([("chain", 2), ("engine", 2)]), POP, POP],
            note="a full mailbox of 1 under drop-lowest: an equal-priority newcomer is dropped, the node enqueues it",
        )
    )
    cases.append(
        mailbox_case(
            f"quirk-{CAPACITY_UNENFORCED}-block",
            1,
            "block",
            [*_numbered([("chain", 2), ("engine", 2)]), POP, POP, POP],
            note="under block, the second sender waits; the node enqueues it past the capacity",
        )
    )
    return cases


def _message(envelope: Any) -> dict[str, Json] | None:
    if envelope is None:
        return None
    return {"sender": str(envelope.sender), "seq": int(envelope.seq), "priority": int(envelope.priority)}


def _level(mailbox: Any) -> str:
    level = mailbox.backpressure()
    return str(getattr(level, "name", level))


def replay_mailbox(target: Any, inputs: Mapping[str, Json]) -> Outputs:
    mailbox = target.actors.mailbox(inputs["capacity"], inputs["policy"])
    initial = _level(mailbox)
    out: list[dict[str, Json]] = []
    for step in inputs["steps"]:
        if "send" in step:
            s = step["send"]
            try:
                got = str(mailbox.send(Envelope(s["sender"], s["seq"], s["priority"])))
            except Exception as err:  # the reject policy's refusal is the typed MailboxFull
                if type(err).__name__ != "MailboxFull":
                    raise
                got = "rejected"
            out.append({"verdict": got, "backpressure": _level(mailbox)})
        else:
            out.append({"delivered": _message(mailbox.pop()), "backpressure": _level(mailbox)})
    return {"initial": initial, "steps": out}


# --- restart delays ---------------------------------------------------------------------------------
def strategy_json(strategy: Any) -> dict[str, Json]:
    kind = type(strategy).__name__
    fields = {
        "Never": (),
        "Immediate": (),
        "Delayed": ("delay",),
        "ExponentialBackoff": ("initial", "maximum", "multiplier"),
        "Progressive": ("initial", "max_attempts", "multiplier"),
    }[kind]
    return {"kind": kind, **{f: seconds(getattr(strategy, f)) if f != "max_attempts" else getattr(strategy, f) for f in fields}}


def seconds(value: float) -> str:
    """A duration in seconds as the format carries it (it has no floats): the IEEE double's shortest
    round-trip decimal (Python's repr)."""
    return repr(float(value))


def strategy_from_json(data: Mapping[str, Json]) -> Any:
    import alys.actors as runtime  # the strategy types the actors component takes (see the module doc)

    kind = data["kind"]
    args = {k: (v if k == "max_attempts" else float(v)) for k, v in data.items() if k != "kind"}
    if kind not in ("Never", "Immediate", "Delayed", "ExponentialBackoff", "Progressive"):
        raise ValueError(f"unknown restart strategy {kind!r}")
    return getattr(runtime, kind)(**args)


def delay_case(name: str, strategy: dict[str, Json], attempt: int) -> Case:
    delay = ref.restart_delay(strategy_from_json(strategy), attempt)
    return Case(name, {"strategy": strategy, "attempt": attempt}, Expected.ok(delay=None if delay is None else seconds(delay)))


def gen_restart_delay(seed: int, n: int) -> list[Case]:
    drawn = sample(st.tuples(restart_strategies, st.integers(0, 12)), seed_value=seed, n=max(n, 1))[:n]
    cases = [delay_case(f"valid-{i:04d}", strategy_json(s), a) for i, (s, a) in enumerate(drawn)]
    backoff = {"kind": "ExponentialBackoff", "initial": "0.1", "maximum": "30.0", "multiplier": "2.0"}
    for attempt in (0, 1, 2, 7, 8, 9, 40):  # 0.1 * 2^8 = 25.6 < 30 < 51.2: the cap from attempt 9
        cases.append(delay_case(f"boundary-backoff-attempt-{attempt}", backoff, attempt))
    progressive = {"kind": "Progressive", "initial": "0.2", "max_attempts": 3, "multiplier": "1.5"}
    for attempt in (0, 2, 3, 4):
        cases.append(delay_case(f"boundary-progressive-attempt-{attempt}", progressive, attempt))
    cases.append(delay_case("boundary-progressive-one-attempt", {**progressive, "max_attempts": 1}, 1))
    for attempt in (0, 5):
        cases.append(delay_case(f"boundary-never-attempt-{attempt}", {"kind": "Never"}, attempt))
        cases.append(delay_case(f"boundary-immediate-attempt-{attempt}", {"kind": "Immediate"}, attempt))
        cases.append(delay_case(f"boundary-delayed-attempt-{attempt}", {"kind": "Delayed", "delay": "0.5"}, attempt))
    return cases


def replay_restart_delay(target: Any, inputs: Mapping[str, Json]) -> Outputs:
    delay = target.actors.restart_delay(strategy_from_json(inputs["strategy"]), inputs["attempt"])
    return {"delay": None if delay is None else seconds(delay)}


# --- shutdown order ---------------------------------------------------------------------------------
class _Idle:
    """An actor that does nothing: shutdown order depends only on the dependencies."""

    def started(self, ctx: Any) -> None:
        del ctx

    def handle(self, message: Any, ctx: Any) -> None:
        del message, ctx


class _Clock:
    """A scheduler that never runs anything (nothing needs to run for a shutdown): time stays 0."""

    def __init__(self) -> None:
        self.tasks: list[Any] = []

    def now(self) -> float:
        return 0.0

    def call_soon(self, task: Any) -> None:
        self.tasks.append(task)

    def call_later(self, delay: float, task: Any) -> None:
        del delay
        self.tasks.append(task)


def shutdown_case(name: str, chain: Sequence[str], spawn_order: Sequence[str]) -> Case:
    """`chain[i]` depends on `chain[i - 1]`: the one order that stops dependents first is the chain
    reversed."""
    depends = {a: ([chain[i - 1]] if i else []) for i, a in enumerate(chain)}
    actors = [{"name": a, "depends_on": depends[a]} for a in spawn_order]
    return Case(name, {"actors": actors}, Expected.ok(order=list(reversed(chain))))


def gen_shutdown_order(seed: int, n: int) -> list[Case]:
    names = st.lists(st.sampled_from(["storage", "engine", "chain", "bridge", "sync", "network", "peer", "miner"]), min_size=1, max_size=8, unique=True)
    drawn = sample(names.flatmap(lambda chain: st.tuples(st.just(chain), st.permutations(chain))), seed_value=seed, n=max(n, 1))[:n]
    cases = [shutdown_case(f"valid-{i:04d}", chain, spawn) for i, (chain, spawn) in enumerate(drawn)]
    cases += [
        shutdown_case("boundary-one-actor", ["storage"], ["storage"]),
        shutdown_case("boundary-two-actors", ["storage", "engine"], ["storage", "engine"]),
        shutdown_case("boundary-v2-spine", ["storage", "engine", "chain", "bridge"], ["storage", "engine", "chain", "bridge"]),
        # Names sorted against the dependencies: a name-ordered stop would be wrong.
        shutdown_case("boundary-names-against-dependencies", ["a", "b", "c", "d"], ["d", "c", "b", "a"]),
    ]
    return cases


def replay_shutdown_order(target: Any, inputs: Mapping[str, Json]) -> Outputs:
    system = target.actors.system(_Clock())
    for actor in inputs["actors"]:
        system.spawn(actor["name"], _Idle, depends_on=tuple(actor["depends_on"]))
    return {"order": [str(a) for a in system.shutdown()]}


MESSAGE_SCHEMA = obj(sender={"type": "string"}, seq={"type": "integer", "minimum": 1}, priority={"type": "integer", "minimum": 0, "maximum": 5})
LEVEL: dict[str, Json] = {"enum": ["NORMAL", "WARNING", "CRITICAL", "BLOCKED"]}
SECONDS: dict[str, Json] = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$"}
NUMBER_OR_NULL: dict[str, Json] = {"oneOf": [SECONDS, {"type": "null"}]}
STRATEGY_SCHEMA: dict[str, Json] = {
    "oneOf": [
        obj(kind={"const": "Never"}),
        obj(kind={"const": "Immediate"}),
        obj(kind={"const": "Delayed"}, delay=SECONDS),
        obj(kind={"const": "ExponentialBackoff"}, initial=SECONDS, maximum=SECONDS, multiplier=SECONDS),
        obj(kind={"const": "Progressive"}, initial=SECONDS, max_attempts={"type": "integer", "minimum": 0}, multiplier=SECONDS),
    ]
}
RULES: tuple[Rule, ...] = (
    Rule(
        "actors/mailbox",
        "a bounded priority mailbox: order by priority (FIFO among equals), backpressure levels, the overflow policy",
        "node",
        f"{MAILBOX_RS} (V2 design, alys-rules.md §6.3)",
        gen_mailbox,
        replay=replay_mailbox,
        component="actors",
        inputs_schema=obj(
            capacity={"type": "integer", "minimum": 1},
            policy={"enum": list(POLICIES)},
            steps={"type": "array", "items": {"oneOf": [obj(send=MESSAGE_SCHEMA), obj(pop=obj())]}},
        ),
        outputs_schema=obj(
            initial=LEVEL,
            steps={
                "type": "array",
                "items": {
                    "oneOf": [
                        obj(verdict={"enum": ["accepted", "rejected", "blocked", "dropped"]}, backpressure=LEVEL),
                        obj(delivered={"oneOf": [MESSAGE_SCHEMA, {"type": "null"}]}, backpressure=LEVEL),
                    ]
                },
            },
        ),
        stateful=True,
    ),
    Rule(
        "actors/restart-delay",
        "the delay in seconds (a decimal string) before restart number `attempt` (from 0), or null when the strategy gives up",
        "node",
        f"{SUPERVISOR_RS} RestartStrategy (V2 design, alys-rules.md §6.3)",
        gen_restart_delay,
        replay=replay_restart_delay,
        component="actors",
        inputs_schema=obj(strategy=STRATEGY_SCHEMA, attempt={"type": "integer", "minimum": 0}),
        outputs_schema=obj(delay=NUMBER_OR_NULL),
    ),
    Rule(
        "actors/shutdown-order",
        "ordered shutdown: an actor stops before everything it depends on (a chain has one such order)",
        "node",
        f"{SYSTEM_RS} shutdown (V2 design, alys-rules.md §6.3)",
        gen_shutdown_order,
        replay=replay_shutdown_order,
        component="actors",
        inputs_schema=obj(actors={"type": "array", "items": obj(name={"type": "string"}, depends_on={"type": "array", "items": {"type": "string"}})}),
        outputs_schema=obj(order={"type": "array", "items": {"type": "string"}}),
        stateful=True,
    ),
)

_SYSTEM = (
    "lives in the actor system's failure handling: spawning supervised Behaviour objects, injected "
    "panics and a scheduler's simulated time, none of which crosses the interface as plain data "
    "(properties/test_actors.py TestSupervision drives it)"
)
UNREACHABLE_QUIRKS: dict[str, str] = {
    "actors-restart-limit-hardcoded": "the hard-coded 3-restart limit " + _SYSTEM + "; restart_delay itself is right",
    "actors-delayed-restarts-never-fire": "restarts that never fire " + _SYSTEM + "; restart_delay itself is right",
}
UNREACHABLE: dict[str, str] = {
    "actors-restart-loses-mailbox": "a restart that clears the mailbox " + _SYSTEM,
    "actors-timer-ties-newest-first": "the scheduler's timer order is the injected scheduler's own "
    "(alys.actors.scheduler DeterministicScheduler); the interface takes a scheduler, it offers none",
    "actors-idle-runs-past-limit": "run_until_idle belongs to the deterministic scheduler, which the "
    "interface does not offer (system(scheduler) takes one)",
}
