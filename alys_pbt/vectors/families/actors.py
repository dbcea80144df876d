"""Actor runtime vectors (crates/actor_system, alys-rules.md §6.3): what crosses the interface as
plain data.

* `actors/mailbox`: a mailbox of a capacity and an overflow policy fed sends (sender, sequence
  number, priority 0 Background .. 5 Emergency) and pops: each send's verdict, each pop's message,
  and the backpressure level after every step (models/actors.py MailboxModel);
* `actors/restart-delay`: the delay before restart number `attempt` under each restart strategy
  (models/actors.py restart_delay);
* `actors/supervision`: a supervised worker under a root, fed failures, messages and simulated time:
  after each step its restarts, whether it runs, its escalations and the messages it processed
  (models/actors.py SupervisorModel; the replay drives `system(scheduler)` on its own clock);
* `actors/shutdown-order`: the order in which a system stops a chain of actors that depend on one
  another (dependents first: the only order a chain allows).

A message crosses as any object with `sender`, `seq`, `priority` (an int, 0..5), `payload` and a
writable `queued_at` (the mailbox's arrival counter); a restart strategy as the interface's plain-data
strategy and policy classes (alys_pbt/interface.py: Never, Immediate, Delayed, ExponentialBackoff,
Progressive, SupervisionPolicy; a target reads them by variant name and fields), built from their
JSON fields; durations as decimal strings (the format has no floats). An actor is a role (interface
Role: data), here one that does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define
from hypothesis import strategies as st

from alys_pbt.interface import Role, Target
from alys_pbt.models import actors as ref
from alys_pbt.strategies.actors import PRIORITIES, SENDERS, restart_strategies
from alys_pbt.vectors.families.bls import obj
from alys_pbt.vectors.rule import Case, Expected, Json, Outputs, Rule, sample

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
    """The reference mailbox fed the steps, and the quirks that answer the run wrongly."""
    secure = _mailbox_run(ref.MailboxModel(capacity, policy), steps)
    quirky = _mailbox_run(_UnenforcedCapacity(capacity, policy), steps)
    return Expected.ok(**secure), ((CAPACITY_UNENFORCED,) if quirky != secure else ())


class _UnenforcedCapacity(ref.MailboxModel):
    """The mailbox as alys-rules.md §6.3 records the node's (quirk actors-capacity-unenforced: the
    semaphore permit is dropped, so under drop-lowest or block a full mailbox still enqueues). Used
    only to tag the runs it answers differently; the expected outputs are the reference's."""

    def send(self, msg: ref.Msg) -> ref.Verdict:
        if self.size() >= self.capacity and self.policy != "reject":
            self._enqueue(msg)
            return "accepted"
        return super().send(msg)


def _mailbox_run(model: ref.MailboxModel, steps: Sequence[Step]) -> dict[str, Json]:
    initial = model.backpressure()
    out: list[dict[str, Json]] = []
    for step in steps:
        if "send" in step:
            s = step["send"]
            out.append(
                {
                    "verdict": model.send(ref.Msg(s["sender"], s["seq"], s["priority"])),
                    "backpressure": model.backpressure(),
                }
            )
        else:
            msg = model.deliver()
            delivered = (
                None if msg is None else {"sender": msg.sender, "seq": msg.seq, "priority": msg.priority}
            )
            out.append({"delivered": delivered, "backpressure": model.backpressure()})
    return {"initial": initial, "steps": out}


def mailbox_case(name: str, capacity: int, policy: str, steps: list[Step], note: str = "") -> Case:
    expected, quirks = expected_mailbox(capacity, policy, steps)
    return Case(
        name, {"capacity": capacity, "policy": policy, "steps": steps}, expected, quirks=quirks, note=note
    )


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
        for i, (capacity, policy, steps) in enumerate(
            sample(mailbox_runs(), seed_value=seed, n=max(n, 1))[:n]
        )
    ]
    every = _numbered([("chain", p) for p in range(6)])
    cases += [
        mailbox_case(
            "boundary-priority-order",
            8,
            "reject",
            [*every, POP, POP, POP, POP, POP, POP, POP],
            note="Emergency, Critical, High by priority; then Normal; then Low and Background by arrival",
        ),
        mailbox_case(
            "boundary-high-ties-oldest-first",
            8,
            "reject",
            [*_numbered([("chain", 3), ("engine", 3), ("sync", 3)]), POP, POP, POP],
        ),
        mailbox_case(
            "boundary-emergency-ties-oldest-first",
            8,
            "reject",
            [*_numbered([("engine", 5), ("chain", 5)]), POP, POP],
        ),
        mailbox_case(
            "boundary-normal-fifo",
            8,
            "reject",
            [*_numbered([("chain", 2), ("engine", 2), ("chain", 2)]), POP, POP, POP],
        ),
        mailbox_case(
            "boundary-low-and-background-by-arrival",
            8,
            "reject",
            [*_numbered([("chain", 1), ("engine", 0), ("chain", 0)]), POP, POP, POP],
        ),
        mailbox_case("boundary-pop-empty", 2, "reject", [POP, *_numbered([("chain", 2)]), POP, POP]),
    ]
    # Backpressure at, below and past each level: Warning from half, Critical from 80%, Blocked at capacity.
    for capacity in (1, 2, 4, 5, 10):
        fill = _numbered([("chain", 2)] * capacity)
        cases.append(
            mailbox_case(
                f"boundary-fill-{capacity}-then-drain", capacity, "reject", [*fill, *[POP] * capacity]
            )
        )
    # Overflow, under each policy.
    full3 = _numbered([("chain", 2), ("engine", 1), ("sync", 2)])
    cases += [
        mailbox_case(
            "boundary-reject-when-full",
            3,
            "reject",
            [*full3, send("network", 1, 5), POP, send("network", 2, 5)],
        ),
        mailbox_case(
            "boundary-block-when-full",
            3,
            "block",
            [*full3, send("network", 1, 4), send("network", 2, 0), POP, POP, POP, POP, POP, POP],
        ),
        mailbox_case(
            "boundary-drop-lowest-newcomer-loses",
            3,
            "drop-lowest",
            [*full3, send("network", 1, 1), send("network", 2, 0), *[POP] * 4],
        ),
        mailbox_case(
            "boundary-drop-lowest-evicts-the-lowest",
            3,
            "drop-lowest",
            [*full3, send("network", 1, 3), *[POP] * 4],
        ),
        mailbox_case(
            "boundary-drop-lowest-evicts-the-newest-of-equals",
            3,
            "drop-lowest",
            [*_numbered([("chain", 2), ("engine", 2), ("sync", 2)]), send("network", 1, 4), *[POP] * 4],
        ),
        mailbox_case(
            "boundary-capacity-one-reject", 1, "reject", [*_numbered([("chain", 2), ("chain", 5)]), POP, POP]
        ),
    ]
    cases.append(
        mailbox_case(
            f"quirk-{CAPACITY_UNENFORCED}",
            1,
            "drop-lowest",
            [*_numbered([("chain", 2), ("engine", 2)]), POP, POP],
            note="a full mailbox of 1 under drop-lowest: an "
            "equal-priority newcomer is dropped, the node enqueues it",
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


def replay_mailbox(target: Target, inputs: Mapping[str, Json]) -> Outputs:
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
    return {
        "kind": kind,
        **{f: seconds(getattr(strategy, f)) if f != "max_attempts" else getattr(strategy, f) for f in fields},
    }


def seconds(value: float) -> str:
    """A duration in seconds as the format carries it (it has no floats): the IEEE double's shortest
    round-trip decimal (Python's repr)."""
    return repr(float(value))


def strategy_from_json(data: Mapping[str, Json]) -> Any:
    from alys_pbt import interface as runtime  # the strategy types the actors component takes

    kind = data["kind"]
    args = {k: (v if k == "max_attempts" else float(v)) for k, v in data.items() if k != "kind"}
    if kind not in ("Never", "Immediate", "Delayed", "ExponentialBackoff", "Progressive"):
        raise ValueError(f"unknown restart strategy {kind!r}")
    return getattr(runtime, kind)(**args)


def delay_case(name: str, strategy: dict[str, Json], attempt: int) -> Case:
    delay = ref.restart_delay(strategy_from_json(strategy), attempt)
    return Case(
        name,
        {"strategy": strategy, "attempt": attempt},
        Expected.ok(delay=None if delay is None else seconds(delay)),
    )


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
        cases.append(
            delay_case(f"boundary-delayed-attempt-{attempt}", {"kind": "Delayed", "delay": "0.5"}, attempt)
        )
    return cases


def replay_restart_delay(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    delay = target.actors.restart_delay(strategy_from_json(inputs["strategy"]), inputs["attempt"])
    return {"delay": None if delay is None else seconds(delay)}


# --- shutdown order ---------------------------------------------------------------------------------
_Idle = Role()  # an actor that does nothing: shutdown order depends only on the dependencies


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
    names = st.lists(
        st.sampled_from(["storage", "engine", "chain", "bridge", "sync", "network", "peer", "miner"]),
        min_size=1,
        max_size=8,
        unique=True,
    )
    drawn = sample(
        names.flatmap(lambda chain: st.tuples(st.just(chain), st.permutations(chain))),
        seed_value=seed,
        n=max(n, 1),
    )[:n]
    cases = [shutdown_case(f"valid-{i:04d}", chain, spawn) for i, (chain, spawn) in enumerate(drawn)]
    cases += [
        shutdown_case("boundary-one-actor", ["storage"], ["storage"]),
        shutdown_case("boundary-two-actors", ["storage", "engine"], ["storage", "engine"]),
        shutdown_case(
            "boundary-v2-spine",
            ["storage", "engine", "chain", "bridge"],
            ["storage", "engine", "chain", "bridge"],
        ),
        # Names sorted against the dependencies: a name-ordered stop would be wrong.
        shutdown_case("boundary-names-against-dependencies", ["a", "b", "c", "d"], ["d", "c", "b", "a"]),
    ]
    return cases


def replay_shutdown_order(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    system = target.actors.system(_Clock())
    for actor in inputs["actors"]:
        system.spawn(actor["name"], _Idle, depends_on=tuple(actor["depends_on"]))
    return {"order": [str(a) for a in system.shutdown()]}


# --- supervision: failures and simulated time against the policy -----------------------------------
class SimClock:
    """A scheduler in simulated time (the interface's scheduler protocol: now, call_soon, call_later):
    after each step every ready task runs, oldest first; timers fall due as time advances."""

    def __init__(self) -> None:
        self.time = 0.0
        self.ready: list[Any] = []
        self.timers: list[tuple[float, int, Any]] = []

    def now(self) -> float:
        return self.time

    def call_soon(self, task: Any) -> None:
        self.ready.append(task)

    def call_later(self, delay: float, task: Any) -> None:
        self.timers.append((self.time + max(delay, 0.0), len(self.timers) + len(self.ready), task))
        self._release()

    def _release(self) -> None:
        due = sorted((t for t in self.timers if t[0] <= self.time), key=lambda t: (t[0], t[1]))
        self.timers = [t for t in self.timers if t[0] > self.time]
        self.ready.extend(task for _, _, task in due)

    def advance(self, dt: float) -> None:
        self.time += dt
        self._release()

    def run(self, limit: int = 100_000) -> None:
        for _ in range(limit):
            if not self.ready:
                return
            self.ready.pop(0)()
        raise RuntimeError(f"more than {limit} tasks ran in one step")


def policy_json(policy: Any) -> dict[str, Json]:
    return {
        "strategy": strategy_json(policy.strategy),
        "max_restarts": policy.max_restarts,
        "window": seconds(policy.window),
    }


def policy_from_json(data: Mapping[str, Json]) -> Any:
    from alys_pbt import interface as runtime  # the policy type spawn takes (see the module doc)

    return runtime.SupervisionPolicy(
        strategy=strategy_from_json(data["strategy"]),
        max_restarts=data["max_restarts"],
        window=float(data["window"]),
    )


FAIL: Step = {"fail": {}}


def advance(dt: float | str) -> Step:
    return {"advance": seconds(float(dt))}


def tell() -> Step:
    return {"tell": {}}


def expected_supervision(policy: Mapping[str, Json], steps: Sequence[Step]) -> Expected:
    """models/actors.py SupervisorModel fed the failures (a failure of a worker that is not running
    does nothing): after each step the restarts done, whether it runs, the escalations to its parent,
    and the messages it has processed (a message told while it is down waits in its mailbox)."""
    model = ref.SupervisorModel(
        strategy_from_json(policy["strategy"]), policy["max_restarts"], float(policy["window"])
    )
    now, down_for_good = 0.0, False
    told = processed = 0
    out: list[dict[str, Json]] = []

    def running() -> bool:
        return not down_for_good and all(t <= now for t in model.due)

    for step in steps:
        if "fail" in step:
            if running() and model.on_failure(now) is None:
                down_for_good = True
        elif "advance" in step:
            now += float(step["advance"])
        else:
            told += 1
        if running():
            processed = told
        out.append(
            {
                "restarts": model.restarts_done(now),
                "running": running(),
                "escalations": model.escalations,
                "processed": processed,
            }
        )
    return Expected.ok(steps=out)


def supervision_case(
    name: str, policy: dict[str, Json], steps: list[Step], quirks: tuple[str, ...] = (), note: str = ""
) -> Case:
    return Case(
        name,
        {"policy": policy, "steps": steps},
        expected_supervision(policy, steps),
        quirks=quirks,
        note=note,
    )


@st.composite
def supervision_runs(draw: st.DrawFn) -> tuple[Any, list[Step]]:
    from alys_pbt.strategies.actors import supervision_policies

    policy = draw(supervision_policies(), label="policy")
    steps = draw(
        st.lists(
            st.sampled_from([FAIL, tell()])
            | st.sampled_from([0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 70.0]).map(advance),
            min_size=1,
            max_size=16,
        ),
        label="steps",
    )
    return policy, steps


LIMIT = "actors-restart-limit-hardcoded"
NEVER_FIRE = "actors-delayed-restarts-never-fire"


def _supervision_quirks(policy: dict[str, Json], steps: list[Step]) -> tuple[str, ...]:
    """The quirks whose rule (alys-rules.md §6.3, the node's supervisor.rs) answers this run wrongly:
    the policy replayed with a hard-coded 3 restarts and no window, and with delayed restarts that
    never fire. Used to tag drawn runs only; the expected outputs are the reference's."""
    secure = expected_supervision(policy, steps).outputs
    tags = []
    if _quirky(policy, steps, limit=True, fire=True) != secure:
        tags.append(LIMIT)
    if _quirky(policy, steps, limit=False, fire=False) != secure:
        tags.append(NEVER_FIRE)
    both = _quirky(policy, steps, limit=True, fire=False) != secure
    if not both:
        return ()
    return tuple(tags) or (LIMIT, NEVER_FIRE)


def _quirky(policy: Mapping[str, Json], steps: Sequence[Step], *, limit: bool, fire: bool) -> dict[str, Json]:
    strategy = strategy_from_json(policy["strategy"])
    decided: list[float] = []
    due: list[float | None] = []  # None: a restart that never fires
    now, down_for_good = 0.0, False
    told = processed = 0
    out: list[dict[str, Json]] = []

    def running() -> bool:
        return not down_for_good and all(t is not None and t <= now for t in due)

    for step in steps:
        if "fail" in step:
            if running():
                window = [t for t in decided if now - t <= float(policy["window"])]
                allowed = len(decided) < 3 if limit else len(window) < policy["max_restarts"]
                delay = ref.restart_delay(strategy, len(decided))
                if not allowed or delay is None:
                    down_for_good = True
                else:
                    decided.append(now)
                    due.append(now + delay if fire or delay == 0 else None)
        elif "advance" in step:
            now += float(step["advance"])
        else:
            told += 1
        if running():
            processed = told
        restarts = sum(1 for t in due if t is not None and t <= now)
        escalations = 1 if down_for_good and not running() else 0
        out.append(
            {"restarts": restarts, "running": running(), "escalations": escalations, "processed": processed}
        )
    return {"steps": out}


def gen_supervision(seed: int, n: int) -> list[Case]:
    cases = []
    for i, (policy, steps) in enumerate(sample(supervision_runs(), seed_value=seed, n=max(n, 1))[:n]):
        p = policy_json(policy)
        cases.append(supervision_case(f"valid-{i:04d}", p, steps, quirks=_supervision_quirks(p, steps)))
    immediate = {"strategy": {"kind": "Immediate"}, "max_restarts": 5, "window": "60.0"}
    backoff = {
        "strategy": {"kind": "ExponentialBackoff", "initial": "0.1", "maximum": "30.0", "multiplier": "2.0"},
        "max_restarts": 5,
        "window": "60.0",
    }
    boundary = [
        ("boundary-max-restarts-reached", immediate, [FAIL] * 5),
        ("boundary-max-restarts-passed", immediate, [FAIL] * 6),
        (
            "boundary-window-passed",
            {**immediate, "max_restarts": 1, "window": "1.0"},
            [FAIL, advance(1.5), FAIL],
        ),
        (
            "boundary-window-not-passed",
            {**immediate, "max_restarts": 1, "window": "1.0"},
            [FAIL, advance(0.5), FAIL],
        ),
        (
            "boundary-backoff-first-delay",
            backoff,
            [FAIL, advance(0.05), advance(0.05), FAIL, advance(0.1), advance(0.1)],
        ),
        (
            "boundary-never-escalates-at-once",
            {**immediate, "strategy": {"kind": "Never"}},
            [FAIL, advance(1.0)],
        ),
        (
            "boundary-messages-wait-for-the-restart",
            {**immediate, "strategy": {"kind": "Delayed", "delay": "0.5"}},
            [tell(), FAIL, tell(), tell(), advance(0.5), tell()],
        ),
        (
            "boundary-progressive-gives-up",
            {
                **immediate,
                "strategy": {"kind": "Progressive", "initial": "0.2", "max_attempts": 2, "multiplier": "1.5"},
            },
            [FAIL, advance(0.2), FAIL, advance(0.3), FAIL],
        ),
    ]
    for name, policy, steps in boundary:
        cases.append(supervision_case(name, policy, steps, quirks=_supervision_quirks(policy, steps)))
    cases.append(
        supervision_case(
            f"quirk-{LIMIT}",
            immediate,
            [FAIL] * 4,
            quirks=(LIMIT,),
            note="max_restarts 5: the fourth failure restarts; the node escalates after 3",
        )
    )
    cases.append(
        supervision_case(
            f"quirk-{NEVER_FIRE}",
            {**immediate, "strategy": {"kind": "Delayed", "delay": "0.5"}},
            [FAIL, advance(1.0)],
            quirks=(NEVER_FIRE,),
            note="a Delayed(0.5 s) restart: running again a second later; the node never restarts it",
        )
    )
    return cases


def replay_supervision(target: Target, inputs: Mapping[str, Json]) -> Outputs:
    clock = SimClock()
    system = target.actors.system(clock)
    system.spawn("root", _Idle)
    system.spawn("worker", _Idle, supervision=policy_from_json(inputs["policy"]), parent="root")
    clock.run()
    out: list[dict[str, Json]] = []
    for step in inputs["steps"]:
        if "fail" in step:
            system.fail("worker")
        elif "advance" in step:
            clock.advance(float(step["advance"]))
        else:
            system.tell("worker", "work")
        clock.run()
        worker = system.lookup("worker")
        out.append(
            {
                "restarts": int(worker.restarts),
                "running": worker.state.name == "RUNNING",
                "escalations": system.lookup("root").escalations.count("worker"),
                "processed": len(worker.processed),
            }
        )
    return {"steps": out}


MESSAGE_SCHEMA = obj(
    sender={"type": "string"},
    seq={"type": "integer", "minimum": 1},
    priority={"type": "integer", "minimum": 0, "maximum": 5},
)
LEVEL: dict[str, Json] = {"enum": ["NORMAL", "WARNING", "CRITICAL", "BLOCKED"]}
SECONDS: dict[str, Json] = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$"}
NUMBER_OR_NULL: dict[str, Json] = {"oneOf": [SECONDS, {"type": "null"}]}
STRATEGY_SCHEMA: dict[str, Json] = {
    "oneOf": [
        obj(kind={"const": "Never"}),
        obj(kind={"const": "Immediate"}),
        obj(kind={"const": "Delayed"}, delay=SECONDS),
        obj(kind={"const": "ExponentialBackoff"}, initial=SECONDS, maximum=SECONDS, multiplier=SECONDS),
        obj(
            kind={"const": "Progressive"},
            initial=SECONDS,
            max_attempts={"type": "integer", "minimum": 0},
            multiplier=SECONDS,
        ),
    ]
}
POLICY_SCHEMA = obj(strategy=STRATEGY_SCHEMA, max_restarts={"type": "integer", "minimum": 0}, window=SECONDS)
SUPERVISION_STEP: dict[str, Json] = {"oneOf": [obj(fail=obj()), obj(advance=SECONDS), obj(tell=obj())]}
RULES: tuple[Rule, ...] = (
    Rule(
        "actors/mailbox",
        "a bounded priority mailbox: order by priority (FIFO "
        "among equals), backpressure levels, the overflow policy",
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
                        obj(
                            verdict={"enum": ["accepted", "rejected", "blocked", "dropped"]},
                            backpressure=LEVEL,
                        ),
                        obj(delivered={"oneOf": [MESSAGE_SCHEMA, {"type": "null"}]}, backpressure=LEVEL),
                    ]
                },
            },
        ),
        stateful=True,
    ),
    Rule(
        "actors/restart-delay",
        "the delay in seconds (a decimal string) before restart "
        "number `attempt` (from 0), or null when the strategy gives up",
        "node",
        f"{SUPERVISOR_RS} RestartStrategy (V2 design, alys-rules.md §6.3)",
        gen_restart_delay,
        replay=replay_restart_delay,
        component="actors",
        inputs_schema=obj(strategy=STRATEGY_SCHEMA, attempt={"type": "integer", "minimum": 0}),
        outputs_schema=obj(delay=NUMBER_OR_NULL),
    ),
    Rule(
        "actors/supervision",
        "a supervised worker's failures in simulated time: restarts after the "
        "strategy's delay, at most max_restarts per window, then escalation",
        "node",
        f"{SUPERVISOR_RS} handle_child_failure / should_restart_child (V2 design, alys-rules.md §6.3)",
        gen_supervision,
        replay=replay_supervision,
        component="actors",
        inputs_schema=obj(policy=POLICY_SCHEMA, steps={"type": "array", "items": SUPERVISION_STEP}),
        outputs_schema=obj(
            steps={
                "type": "array",
                "items": obj(
                    restarts={"type": "integer", "minimum": 0},
                    running={"type": "boolean"},
                    escalations={"type": "integer", "minimum": 0},
                    processed={"type": "integer", "minimum": 0},
                ),
            }
        ),
        stateful=True,
    ),
    Rule(
        "actors/shutdown-order",
        "ordered shutdown: an actor stops before everything it depends on (a chain has one such order)",
        "node",
        f"{SYSTEM_RS} shutdown (V2 design, alys-rules.md §6.3)",
        gen_shutdown_order,
        replay=replay_shutdown_order,
        component="actors",
        inputs_schema=obj(
            actors={
                "type": "array",
                "items": obj(
                    name={"type": "string"}, depends_on={"type": "array", "items": {"type": "string"}}
                ),
            }
        ),
        outputs_schema=obj(order={"type": "array", "items": {"type": "string"}}),
        stateful=True,
    ),
)

UNREACHABLE_QUIRKS: dict[str, str] = {}
UNREACHABLE: dict[str, str] = {
    "actors-timer-ties-newest-first": "the timer order is the port's own scheduler's (alys.actors.scheduler "
    "DeterministicScheduler); the interface's actors component takes a scheduler from the caller and "
    "offers none (ActorsPort.scheduler is outside alys_pbt/interface.py), so a replay runs on its own clock",
    "actors-idle-runs-past-limit": "run_until_idle belongs to the port's deterministic scheduler, which the "
    "interface does not offer (system(scheduler) takes the caller's)",
    # Seeded late in issue 14 by the mutation work; what they change is not yet in this family's rules.
    "actors-broadcast-drops-priority": "the priority a broadcast copy arrives with is seen only by a "
    "behaviour that records it; the format's actor rules hold mailboxes, restart delays, shutdown order "
    "and supervision, no behaviours (properties/test_actors.py kills it)",
    "actors-ask-refusal-unanswered": "an ask needs a behaviour that answers and a mailbox that refuses at "
    "the same time, on simulated time: no rule of this "
    "family has an ask (properties/test_actors.py kills it)",
    "actors-shutdown-cycle-left-running": "actors/shutdown-order holds chains, which have one order; a cycle "
    "has none, so its outcome (every actor stopped) needs another output than an order "
    "(properties/test_actors.py kills it)",
    # Issue 16 (chaos): each needs behaviours, simulated time or a runtime, which no rule here holds.
    "actors-memory-not-released": "the bytes a mailbox counts after deliveries: this family's mailbox "
    "rules carry no message sizes (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-memory-limit-off-by-one": "a message exactly filling a memory limit: this family's mailbox "
    "rules carry no message sizes (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-stalled-handler-hangs": "a handler that takes simulated time needs a behaviour and a clock: "
    "no rule here has either (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-handler-timeout-inclusive": "a handler that takes exactly the processing timeout needs a "
    "behaviour and a clock (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-slow-handler-overlaps": "one message at a time under a slow handler needs a behaviour and a "
    "clock (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-escalation-not-propagated": "actors/supervision holds one actor and its policy, not a tree "
    "(properties/test_actors_chaos.py TestSupervisionTree kills it)",
    "actors-cascade-one-level": "a grandchild running under a failed parent needs a tree of three levels; "
    "actors/supervision holds one actor (properties/test_actors_chaos.py TestSupervisionTree kills it)",
    "actors-route-overflow-silent": "a refused forward needs a route of handling actors, which no rule here "
    "holds (properties/test_actors_chaos.py TestPressure kills it)",
    "actors-ask-timer-left-pending": "a timer left pending shows only on a runtime's loop at teardown, not "
    "in data (properties/test_actors_chaos.py TestPressureOnAsyncio kills it)",
    # Seeded for the actor properties the mutation work added: each shows only inside a behaviour's
    # hooks, the lifecycle history or the scheduler's tasks, none of which this family's rules hold.
    "actors-started-sees-running": "the state a behaviour sees in its started() hook needs a behaviour "
    "that records it (properties/test_actors.py "
    "test_a_behaviour_sees_its_own_context_starting_then_running kills it)",
    "actors-escalation-unrecorded": "the lifecycle history is not an output of actors/supervision, which "
    "holds the decision only (properties/test_actors.py "
    "test_the_lifecycle_history_records_each_failure_and_what_the_supervisor_decided kills it)",
    "actors-failed-actor-scheduled": "the scheduler's task list is not in the interface's data; a replay "
    "sees only deliveries (properties/test_actors.py "
    "test_the_scheduler_holds_one_task_per_running_actor_with_mail_and_none_for_a_failed_one kills it)",
    "actors-spawn-replaces-taken-name": "no rule here spawns by name twice; the half-applied spawn shows in "
    "a lookup after the refusal (properties/test_actors.py "
    "test_an_unknown_actor_or_a_taken_name_is_refused_naming_it kills it)",
}
