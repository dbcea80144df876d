"""State machines for the V2 actor runtime: mailbox ordering, supervision, message flows, and the
deterministic scheduler every other machine runs on.

Every machine drives the target's runtime through the `actors` component on a deterministic
scheduler: Hypothesis chooses each send, each processing step, each panic and each tick of
simulated time, so an interleaving that breaks a guarantee shrinks and replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from attrs import define
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from alys_pbt.aio import OwnedLoop
from alys_pbt.interface import Role, Task
from alys_pbt.models.actor_trees import TreeModel, TreePolicy
from alys_pbt.models.actors import MailboxModel, Msg, SchedulerModel, SupervisorModel
from alys_pbt.strategies import actors as actor_strategies
from alys_pbt.strategies.actors import PRIORITIES, SENDERS, supervision_policies

if TYPE_CHECKING:
    from alys_pbt.interface import Target


@define
class Message:
    """A message as the suite sends it into a mailbox (interface.Message); the mailbox stamps
    `queued_at`."""

    sender: str
    seq: int  # per-sender sequence number, from 1
    priority: int  # 0 Background .. 5 Emergency
    payload: Any = None
    queued_at: int = 0


# An actor that takes its messages and does nothing with them (the runtime counts them).
Idle = Role()


class SuiteScheduler:
    """The suite's deterministic scheduler (interface.Scheduler), on which the supervision and flow
    machines run the target's actor system: SchedulerModel's order, running the tasks it names.
    Hypothesis chooses each step and each tick of simulated time."""

    def __init__(self) -> None:
        self.model = SchedulerModel()
        self.tasks: dict[int, Callable[[], object]] = {}  # pending, by the id the model knows it by
        self.named = 0

    def _named(self, task: Callable[[], object]) -> int:
        self.named += 1
        self.tasks[self.named] = task
        return self.named

    def now(self) -> float:
        return self.model.time

    def call_soon(self, task: Callable[[], object]) -> None:
        self.model.call_soon(self._named(task))

    def call_later(self, delay: float, task: Callable[[], object]) -> object:
        self.model.call_later(delay, self._named(task))
        return None

    @property
    def ready(self) -> list[int]:
        return self.model.ready

    def step(self, index: int = 0) -> bool:
        """Run the ready task at `index`; False if none is ready."""
        task = self.model.take(index)
        if task is None:
            return False
        self.tasks.pop(task)()
        return True

    def advance(self, dt: float) -> None:
        self.model.advance(dt)

    def run_until_idle(self, limit: int = SchedulerModel.RUNAWAY_LIMIT) -> int:
        ran = 0
        while ran < limit and self.step():
            ran += 1
        return ran


class MailboxMachine(RuleBasedStateMachine):
    """One mailbox against the model: what is accepted, what is delivered next, what is dropped."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.actors = target.actors
        self.seq: dict[str, int] = {}
        self.delivered: list[Msg] = []
        self.acknowledged: list[Msg] = []  # accepted or blocked: the mailbox owes them delivery

    @initialize(capacity=st.integers(1, 12), policy=st.sampled_from(["reject", "drop-lowest", "block"]))
    def open_mailbox(self, capacity: int, policy: str) -> None:
        self.mailbox = self.actors.mailbox(capacity, policy)
        self.model = MailboxModel(capacity, policy)
        note(f"mailbox of {capacity}, policy {policy}")

    def _send(self, sender: str, priority: int) -> None:
        self.seq[sender] = self.seq.get(sender, 0) + 1
        msg = Msg(sender, self.seq[sender], priority)
        assert self.mailbox.backpressure().name == self.model.backpressure(), "backpressure state"
        expected = self.model.send(msg)
        try:
            got = self.mailbox.send(Message(sender, msg.seq, priority))
        except Exception as err:  # a typed error that says what is wrong (known by its name)
            if type(err).__name__ != "MailboxFull":
                raise
            got = "rejected"
            assert f"mailbox of {self.model.capacity} is full" in str(err), f"MailboxFull says {err!r}"
        note(f"send {sender}#{msg.seq} p{priority}: {got}")
        assert got == expected, f"mailbox answered {got}, a correct one {expected}"
        if got in ("accepted", "blocked"):
            self.acknowledged.append(msg)

    @rule(sender=st.sampled_from(SENDERS), priority=PRIORITIES)
    def send(self, sender: str, priority: int) -> None:
        self._send(sender, priority)

    @rule(sender=st.sampled_from(SENDERS), priority=PRIORITIES, extra=st.integers(1, 3))
    def fill_to_overflow(self, sender: str, priority: int, extra: int) -> None:
        while self.model.size() < self.model.capacity:
            self._send(sender, priority)
        for _ in range(extra):
            self._send(sender, priority)

    def _deliver_one(self) -> None:
        expected = self.model.deliver()
        envelope = self.mailbox.pop()
        got = None if envelope is None else Msg(envelope.sender, envelope.seq, int(envelope.priority))
        note(f"deliver: {got}")
        assert got == expected, f"delivered {got}, the model says {expected}"
        if got is not None:
            self.delivered.append(got)

    @rule()
    def process_one(self) -> None:
        self._deliver_one()

    @rule()
    def drain(self) -> None:
        expected = []
        while (msg := self.model.deliver()) is not None:
            expected.append(msg)
        got = [Msg(e.sender, e.seq, int(e.priority)) for e in self.mailbox.drain()]
        note(f"drain: {got}")
        assert got == expected, f"drained {got}, the model delivers {expected}"
        self.delivered.extend(got)
        self._deliver_one()  # and then nothing

    @invariant()
    def fifo_per_sender_within_a_priority(self) -> None:
        last: dict[tuple[str, int], int] = {}
        for msg in self.delivered:
            key = (msg.sender, msg.priority)
            assert msg.seq > last.get(key, 0), f"{msg} delivered after #{last[key]}"
            last[key] = msg.seq

    @invariant()
    def never_holds_more_than_its_capacity(self) -> None:
        assert len(self.mailbox) <= self.model.capacity, f"{len(self.mailbox)} > {self.model.capacity}"

    @invariant()
    def every_drop_is_reported(self) -> None:
        got = [Msg(e.sender, e.seq, int(e.priority)) for e in self.mailbox.dropped]
        assert got == self.model.dropped, f"reports {got} dropped, the policy dropped {self.model.dropped}"

    @invariant()
    def nothing_lost_but_what_the_policy_drops(self) -> None:
        held = len(self.mailbox) + len(self.mailbox.waiting)
        owed = (
            len(self.acknowledged)
            - len(self.delivered)
            - sum(1 for m in self.model.dropped if m in self.acknowledged)
        )
        assert held == owed, f"holds {held} messages, owes {owed}"


class SupervisionMachine(RuleBasedStateMachine):
    """One supervised worker under a root: panics, work and simulated time against the policy."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.actors = target.actors
        self.scheduler = SuiteScheduler()
        self.acknowledged = 0

    @initialize(policy=supervision_policies())
    def start_worker(self, policy: Any) -> None:
        self.system = self.actors.system(self.scheduler)
        self.system.spawn("root", Idle)
        self.system.spawn("worker", Idle, supervision=policy, parent="root", capacity=1000)
        self.model = SupervisorModel(policy.strategy, policy.max_restarts, policy.window)
        self.policy = policy
        note(f"policy {policy}")

    @property
    def worker(self) -> Any:
        return self.system.lookup("worker")

    @precondition(lambda self: self.worker.state.name == "RUNNING")
    @rule()
    def inject_panic(self) -> None:
        back_at = self.model.on_failure(self.scheduler.now())
        note(f"panic at {self.scheduler.now():.2f}: model restarts at {back_at}")
        self.system.fail("worker")
        self.scheduler.run_until_idle()  # what is due now (an immediate restart) happens now

    @rule(dt=st.sampled_from([0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 70.0]))
    def advance_time(self, dt: float) -> None:
        note(f"advance {dt} s")
        self.scheduler.advance(dt)
        self.scheduler.run_until_idle()

    @precondition(
        lambda self: (
            bool(self.model.decided_at)
            and self.model.decided_at[-1] + self.policy.window - 1e-6 > self.scheduler.now()
        )
    )
    @rule(edge=st.sampled_from([-1e-6, 0.0, 1e-6]))
    def advance_to_the_window_edge(self, edge: float) -> None:
        """Probe the restart window at its limit: just before, at and just after the moment the
        latest restart is `window` old (supervisor.rs counts a restart exactly `window` ago)."""
        dt = self.model.decided_at[-1] + self.policy.window + edge - self.scheduler.now()
        note(f"advance {dt} to the window's edge {edge:+}")
        self.scheduler.advance(dt)
        self.scheduler.run_until_idle()

    @rule(n=st.integers(1, 5))
    def send_work(self, n: int) -> None:
        note(f"send the worker {n} messages")
        for i in range(n):
            if self.system.tell("worker", i) in ("accepted", "blocked"):
                self.acknowledged += 1
        self.scheduler.run_until_idle()

    @invariant()
    def restarts_follow_the_policy(self) -> None:
        expected = self.model.restarts_done(self.scheduler.now())
        assert self.worker.restarts == expected, f"{self.worker.restarts} restarts, policy says {expected}"

    @invariant()
    def escalates_when_the_policy_says(self) -> None:
        got = self.system.lookup("root").escalations.count("worker")
        assert got == self.model.escalations, f"escalated {got} times, policy says {self.model.escalations}"

    @invariant()
    def every_escalation_says_why(self) -> None:
        said = [
            event.removeprefix("escalated: ")
            for _, event in self.worker.history
            if event.startswith("escalated")
        ]
        assert said == self.model.reasons, (
            f"escalations say {said}, the policy's reasons are {self.model.reasons}"
        )

    @precondition(
        lambda self: (
            bool(self.model.due)
            and self.model.escalations == 0
            and self.model.due[-1] <= self.scheduler.now()
            and len(self.model.due) == len(self.model.decided_at)
        )
    )
    @invariant()
    def running_again_once_the_delay_has_passed(self) -> None:
        assert self.worker.state.name == "RUNNING", f"worker is {self.worker.state.name}"

    @invariant()
    def no_acknowledged_message_is_lost(self) -> None:
        w = self.worker
        accounted = len(w.processed) + len(w.failed) + len(w.mailbox) + len(w.mailbox.waiting)
        assert accounted == self.acknowledged, f"{accounted} accounted for, {self.acknowledged} acknowledged"


class FlowsMachine(RuleBasedStateMachine):
    """Several actors exchanging tell, ask, broadcast and routed messages, with crashes between."""

    members = Bundle("actor")  # the actors' names

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.actors = target.actors
        self.scheduler = SuiteScheduler()
        self.received: dict[str, list[tuple[str, int, int, tuple[int, ...]]]] = {}
        self.asks: list[tuple[Any, tuple[int, ...], str]] = []
        self.accepted = 0
        self.crashes: dict[str, int] = {}

    @initialize(target=members, n=st.integers(2, 5))
    def start_actors(self, n: int) -> MultipleResults[str]:
        self.names = [f"a{i}" for i in range(n)]
        self.clocks = {name: [0] * n for name in self.names}
        self.seen = dict.fromkeys(self.names, 0)  # entries of each actor's log merged so far
        self.after: dict[str, list[tuple[int, ...]]] = {
            name: [] for name in self.names
        }  # its clock after each
        # Each actor records (sender, seq, vector clock) messages and answers an ask with how many it
        # has handled: its vector clock then is the merge of what its log shows (read back below).
        recorder = Role(reply="count")
        self.system = self.actors.system(self.scheduler)
        # The port's policy classes, through the strategies, until the interface has its own.
        policy = actor_strategies.SupervisionPolicy(
            actor_strategies.Immediate(), max_restarts=10**6, window=1.0
        )
        for name in self.names:
            self.system.spawn(name, recorder, supervision=policy, capacity=10_000)
        self.seq: dict[tuple[str, str], int] = {}
        note(f"{n} actors")
        return multiple(*self.names)

    def _merge_logs(self) -> None:
        """Each actor's vector clock: merged with each message it handled, and ticked (in its log's order)."""
        for name in self.names:
            log = [r for r in self.system.received(name) if r.hook == "handle"]
            mine, me = self.clocks[name], self.names.index(name)
            for entry in log[self.seen[name] :]:
                sender, seq, clock = entry.message
                for i, t in enumerate(clock):
                    mine[i] = max(mine[i], t)
                mine[me] += 1
                self.after[name].append(tuple(mine))
                self.received.setdefault(name, []).append((sender, seq, 0, tuple(clock)))
            self.seen[name] = len(log)

    def _stamp(self, sender: str, to: str) -> tuple[str, int, list[int]]:
        self._merge_logs()
        key = (sender, to)
        self.seq[key] = self.seq.get(key, 0) + 1
        if sender in self.clocks:
            self.clocks[sender][self.names.index(sender)] += 1
            clock = list(self.clocks[sender])
        else:
            clock = [0] * len(self.names)
        return sender, self.seq[key], clock

    def _tell(self, sender: str, to: str) -> None:
        if self.system.tell(to, list(self._stamp(sender, to)), sender=sender) == "accepted":
            self.accepted += 1

    @rule(sender=members, to=members)
    def tell(self, sender: str, to: str) -> None:
        note(f"{sender} tells {to}")
        self._tell(sender, to)

    @rule(sender=members, to=members)
    def ask(self, sender: str, to: str) -> None:
        stamp = self._stamp(sender, to)
        reply = self.system.ask(to, list(stamp), timeout=1e9, sender=sender)
        self.accepted += 1
        self.asks.append((reply, tuple(stamp[2]), to))
        note(f"{sender} asks {to}")

    @rule(sender=members)
    def broadcast(self, sender: str) -> None:
        _, seq, clock = self._stamp(sender, "*")  # one stream per broadcaster, FIFO at every receiver
        verdicts = self.system.broadcast([f"{sender}*", seq, clock], sender=sender)
        self.accepted += sum(v == "accepted" for v in verdicts.values())
        note(f"{sender} broadcasts #{seq}")

    @rule(hops=st.lists(members, min_size=2, max_size=5, unique=True))
    def route(self, hops: list[str]) -> None:
        _, seq, clock = self._stamp("route", "*")
        if self.system.route(hops, [f"route{seq}", 1, clock], sender="outside") == "accepted":
            self.accepted += len(hops)  # every hop handles it once
        note(f"route via {hops}")

    @precondition(lambda self: bool(self.scheduler.ready))
    @rule(index=st.integers(0, 9))
    def step(self, index: int) -> None:
        """Hypothesis picks which ready actor runs next (the last ready one, if fewer are)."""
        index = min(index, len(self.scheduler.ready) - 1)
        note(f"step {index}")
        self.scheduler.step(index)

    # At most three crashes per actor: restart limits are the supervision machine's business, and
    # this machine must not depend on them (target alys hard-codes a limit of 3). Crashes stop
    # once any actor has had three.
    @precondition(lambda self: all(c < 3 for c in self.crashes.values()))
    @rule(actor=members)
    def crash(self, actor: str) -> None:
        self.crashes[actor] = self.crashes.get(actor, 0) + 1
        note(f"{actor} crashes")
        self.system.fail(actor)

    @rule()
    def run_fairly(self) -> None:
        """A fair schedule: restarts fall due, every ready actor runs, until all is quiet."""
        note("run fairly until all is quiet")
        self.scheduler.advance(1.0)
        self.scheduler.run_until_idle()
        for name in self.names:
            cell = self.system.lookup(name)
            assert cell.state.name == "RUNNING", f"{name} is {cell.state.name} after a fair run"
            assert len(cell.mailbox) == 0, f"{name} still holds {len(cell.mailbox)} messages"
        handled = sum(
            len(self.system.lookup(n).processed) + len(self.system.lookup(n).failed) for n in self.names
        )
        assert handled == self.accepted, f"{handled} handled, {self.accepted} accepted: eventual delivery"

    @invariant()
    def fifo_per_sender_receiver_pair(self) -> None:
        self._merge_logs()
        for name, got in self.received.items():
            last: dict[str, int] = {}
            for sender, seq, _, _ in got:
                assert seq > last.get(sender, 0), f"{name} got {sender}#{seq} after #{last[sender]}"
                last[sender] = seq

    @invariant()
    def responses_happen_after_their_requests(self) -> None:
        self._merge_logs()
        for reply, request_clock, to in self.asks:
            if reply.done and reply.error is None:
                response = self.after[to][reply.value - 1]  # its clock once it had handled the ask
                assert len(response) == len(request_clock), f"a reply's clock of {len(response)} actors"
                assert all(r >= q for r, q in zip(response, request_clock, strict=True)), (
                    "reply before request"
                )
                assert response != request_clock, "the reply's clock did not move past the request's"


# What a task does when it runs: nothing, or schedule one more task (soon, or after a delay).
Then = tuple[str, float] | None
# The port's restart strategies a tree draws (through the strategies: issue 18.2's known entry).
PortStrategy = actor_strategies.Never | actor_strategies.Immediate | actor_strategies.Progressive
THEN: st.SearchStrategy[Then] = st.one_of(
    st.none(),
    st.tuples(st.just("soon"), st.just(0.0)),
    st.tuples(st.just("later"), st.sampled_from([-1.0, 0.0, 0.25, 1.0, 2.5])),
)
# Few distinct delays and steps, exact in binary, so that timers fall due together and on the dot.
DELAYS = st.sampled_from([-1.0, 0.0, 0.25, 0.5, 1.0, 2.5])
TICKS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0])


class SchedulerMachine(RuleBasedStateMachine):
    """The deterministic scheduler (the clock every actor machine trusts) against its model: which
    task runs at each step, when timers fall due, what the clock reads."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.port = target.actors.scheduler()  # tasks cross as data (interface.Task); it records `ran`
        self.model = SchedulerModel()
        self.expected: list[int] = []  # in the order the model runs them
        self.then: dict[int, tuple[str, float, int]] = {}  # task id -> (how, delay, follow-up id)
        self.tasks = 0

    def _new_task(self, then: Then) -> int:
        self.tasks += 1
        task = self.tasks
        if then is not None:
            self.tasks += 1
            self.then[task] = (then[0], then[1], self.tasks)
        return task

    def _port_task(self, task: int) -> Task:
        """The task as data: when it runs, the scheduler records its id and schedules its follow-up."""
        return Task(task, self.then.get(task))

    def _model_runs(self, task: int | None) -> None:
        if task is None:
            return
        self.expected.append(task)
        if task in self.then:
            how, delay, follow = self.then[task]
            if how == "soon":
                self.model.call_soon(follow)
            else:
                self.model.call_later(delay, follow)

    @rule(then=THEN)
    def call_soon(self, then: Then) -> None:
        task = self._new_task(then)
        note(f"call_soon task {task} (then {then})")
        self.port.call_soon(self._port_task(task))
        self.model.call_soon(task)

    @rule(delay=DELAYS, then=THEN)
    def call_later(self, delay: float, then: Then) -> None:
        task = self._new_task(then)
        note(f"call_later({delay}) task {task} (then {then}) at {self.model.time}")
        self.port.call_later(delay, self._port_task(task))
        self.model.call_later(delay, task)

    @rule()
    def step_oldest(self) -> None:
        task = self.model.take()
        note(f"step(): model runs {task}")
        assert self.port.step() is (task is not None), "step() says whether a task ran"
        self._model_runs(task)

    @rule(index=st.integers(0, 20))
    def step_at(self, index: int) -> None:
        task = self.model.take(index)
        note(f"step({index}): model runs {task}")
        assert self.port.step(index) is (task is not None), f"step({index}) says whether a task ran"
        self._model_runs(task)

    @rule(dt=TICKS)
    def advance(self, dt: float) -> None:
        note(f"advance({dt})")
        self.port.advance(dt)
        self.model.advance(dt)

    @rule(limit=st.one_of(st.none(), st.integers(0, 12)))
    def run_until_idle(self, limit: int | None) -> None:
        bound = SchedulerModel.RUNAWAY_LIMIT if limit is None else limit
        count = 0
        while self.model.ready and count < bound:
            self._model_runs(self.model.take())
            count += 1
        got = self.port.run_until_idle() if limit is None else self.port.run_until_idle(limit)
        note(f"run_until_idle({limit}): ran {got}, model {count}")
        assert got == count, f"run_until_idle({limit}) reports {got} steps, the model ran {count}"

    @invariant()
    def tasks_run_in_the_designed_order(self) -> None:
        ran = list(self.port.ran)
        assert ran == self.expected, f"ran {ran}, the model {self.expected}"

    @invariant()
    def nothing_ready_is_lost_or_invented(self) -> None:
        assert len(self.port.ready) == len(self.model.ready), (
            f"{len(self.port.ready)} ready, model {len(self.model.ready)}"
        )

    @invariant()
    def the_clock_reads_the_time_advanced(self) -> None:
        assert self.port.now() == self.model.time, (
            f"now() is {self.port.now()}, {self.model.time} was advanced"
        )

    @invariant()
    def the_next_timer_is_the_earliest_pending(self) -> None:
        assert self.port.next_timer() == self.model.next_timer(), f"next_timer() {self.port.next_timer()}"


# --- issue 16: the missing chaos, on both runtimes ---------------------------------------------------


class SuiteTimer:
    """A call_later of the suite's scheduler; `cancel()` and it never runs (asyncio's contract)."""

    def __init__(self, scheduler: CancellingScheduler, task: int) -> None:
        self.scheduler, self.task = scheduler, task

    def cancel(self) -> None:
        self.scheduler.cancelled.add(self.task)


class CancellingScheduler(SuiteScheduler):
    """The suite's scheduler with timers that can be cancelled and a count of what is pending, and
    time that passes timer by timer (each timer runs at its own time, as on asyncio)."""

    cancellable = True  # its timers can be cancelled (a remote runtime is told so: the relay)

    def __init__(self) -> None:
        super().__init__()
        self.cancelled: set[int] = set()

    def call_later(self, delay: float, task: Callable[[], object]) -> SuiteTimer:
        named = self._named(task)
        self.model.call_later(delay, named)
        return SuiteTimer(self, named)

    def step(self, index: int = 0) -> bool:
        task = self.model.take(index)
        if task is None:
            return False
        run = self.tasks.pop(task)
        if task in self.cancelled:
            self.cancelled.discard(task)
        else:
            run()
        return True

    def advance_through(self, dt: float) -> None:
        """`dt` seconds pass: each timer due meanwhile falls due at its time, and what it makes
        ready runs then."""
        end = self.model.time + dt
        while (due := self.model.next_timer()) is not None and due <= end:
            self.model.time = max(self.model.time, due)
            self.model.advance(0.0)
            self.run_until_idle()
        self.model.time = end
        self.model.advance(0.0)
        self.run_until_idle()

    def leftovers(self) -> list[str]:
        timers = [f"timer due at {due:g}" for due, _, t in self.model.timers if t not in self.cancelled]
        return timers + [f"ready task {t}" for t in self.model.ready if t not in self.cancelled]


class LoopScheduler:
    """interface.Scheduler over an asyncio loop, for a target whose actors component has no
    asyncio_scheduler of its own."""

    cancellable = True  # asyncio's timer handles can be cancelled

    def __init__(self, loop: Any) -> None:
        self.loop = loop

    def now(self) -> float:
        return float(self.loop.time())

    def call_soon(self, task: Callable[[], object]) -> Any:
        return self.loop.call_soon(task)

    def call_later(self, delay: float, task: Callable[[], object]) -> Any:
        return self.loop.call_later(delay, task)


class DeterministicRuntime:
    """The actor system on the suite's deterministic scheduler: Hypothesis picks every step."""

    name = "deterministic"

    def __init__(self, target: Target) -> None:
        self.clock = CancellingScheduler()
        self.scheduler: Any = self.clock

    def now(self) -> float:
        return self.clock.now()

    def step(self, index: int) -> bool:
        return self.clock.step(min(index, max(len(self.clock.ready) - 1, 0)))

    def settle(self) -> None:
        self.clock.run_until_idle()

    def advance(self, dt: float) -> None:
        self.clock.advance_through(dt)

    def close(self, shutdown: Callable[[], object]) -> None:
        shutdown()
        self.settle()
        leaked = self.clock.leftovers()
        assert not leaked, "left pending at teardown: " + "; ".join(leaked)


class AsyncioRuntime:
    """The actor system on the production scheduler: a real asyncio loop, on simulated time, owned
    by the test (alys_pbt/aio.py OwnedLoop), which checks at teardown that nothing leaked. The
    loop's own order decides each turn (Hypothesis chooses only when it turns)."""

    name = "asyncio"

    def __init__(self, target: Target) -> None:
        self.owned = OwnedLoop()
        self.scheduler = LoopScheduler(self.owned.loop)  # the suite's own asyncio driver, for any target

    def now(self) -> float:
        return self.owned.now()

    def step(self, index: int) -> bool:
        return self.owned.turn()

    def settle(self) -> None:
        self.owned.settle()

    def advance(self, dt: float) -> None:
        self.owned.advance(dt)

    def close(self, shutdown: Callable[[], object]) -> None:
        self.owned.close(shutdown)


Runtime = DeterministicRuntime | AsyncioRuntime
DURATIONS = st.sampled_from([0.0, 0.25, 1.0, 1.25, 5.0])  # the processing timeout is 1.0: at, below, past
TIMEOUT = 1.0
ACTOR_NAMES = [f"a{i}" for i in range(8)]


class _RuntimeMachine(RuleBasedStateMachine):
    """A machine whose actor system runs on `runtime` ("deterministic" or "asyncio"); at teardown
    the system shuts down and the runtime asserts that nothing was left pending."""

    runtime = "deterministic"

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.actors = target.actors
        self.rt: Runtime = (AsyncioRuntime if self.runtime == "asyncio" else DeterministicRuntime)(target)
        self.system: Any = self.actors.system(self.rt.scheduler)
        self.replies: list[tuple[Any, float, str]] = []  # (reply, deadline, to)

    def teardown(self) -> None:
        self.rt.close(self.system.shutdown)
        unanswered = [to for reply, _, to in self.replies if not reply.done]
        assert not unanswered, f"asks of {unanswered} never answered, not even at shutdown"

    @rule(dt=st.sampled_from([0.25, 0.5, 1.0, 2.5]))
    def advance_time(self, dt: float) -> None:
        note(f"advance {dt} s ({self.rt.name})")
        self.rt.advance(dt)

    @invariant()
    def every_ask_is_answered_by_its_deadline(self) -> None:
        now = self.rt.now()
        late = [to for reply, deadline, to in self.replies if deadline <= now and not reply.done]
        assert not late, f"asks of {late} past their timeout and unanswered at {now:g}"


class SupervisionTreeMachine(_RuntimeMachine):
    """A supervision tree three or more levels deep: panics and injected faults anywhere, each
    actor's policy deciding restart or escalation, failures cascading down to descendants and
    escalations climbing to the root, with work in every mailbox, against the tree reference."""

    @initialize(
        extra=st.lists(st.integers(-1, 6), max_size=5),
        policies=st.lists(
            st.tuples(
                st.sampled_from(["never", "immediate", "progressive"]),
                st.integers(0, 3),
                st.sampled_from(["escalate", "escalate", "stop"]),
            ),
            min_size=8,
            max_size=8,
        ),
    )
    def grow_the_tree(
        self, extra: list[int], policies: list[tuple[str, int, Literal["escalate", "stop"]]]
    ) -> None:
        # a0 <- a1 <- a2 always (three levels); each further actor under an earlier one, or a root.
        parents: dict[str, str | None] = {"a0": None, "a1": "a0", "a2": "a1"}
        for i, p in enumerate(extra, start=3):
            parents[f"a{i}"] = None if p < 0 else f"a{p % i}"
        made = {}
        for name, (strategy, attempts, escalation) in zip(parents, policies, strict=False):
            made[name] = TreePolicy(strategy, attempts, 3, escalation)
            # Three restarts in a window longer than any run: the node's hard-coded limit agrees.
            by_name: dict[str, PortStrategy] = {
                "never": actor_strategies.Never(),
                "immediate": actor_strategies.Immediate(),
                "progressive": actor_strategies.Progressive(0.0, attempts, 1.0),
            }
            port_strategy = by_name[strategy]
            self.system.spawn(
                name,
                PANICS_ON_CUE,
                supervision=actor_strategies.SupervisionPolicy(port_strategy, 3, 1e9, escalation),
                parent=parents[name],
                capacity=50,
            )
        self.model = TreeModel(parents, made)
        self.names = list(parents)
        self.acknowledged = dict.fromkeys(self.names, 0)
        note(f"tree {parents} ({self.rt.name}); policies {made}")

    def _cell(self, name: str) -> Any:
        return self.system.lookup(name)

    def _settled(self) -> None:
        self.rt.settle()
        self.model.settle()

    @precondition(lambda self: any(self._cell(n).state.name == "RUNNING" for n in self.names))
    @rule(data=st.data())
    def inject_panic(self, data: st.DataObject) -> None:
        running = [n for n in self.names if self._cell(n).state.name == "RUNNING"]
        name = data.draw(st.sampled_from(running), label="actor")
        note(f"{name} panics")
        self.system.fail(name)
        self.model.fail(name)
        self._settled()

    @precondition(lambda self: any(self._cell(n).state.name == "RUNNING" for n in self.names))
    @rule(data=st.data(), after=st.integers(0, 3))
    def a_handler_panics(self, data: st.DataObject, after: int) -> None:
        """A message whose handler panics, with `after` messages queued behind it: they wait
        through the restart (or the cascade) and are handled once the actor runs again."""
        running = [n for n in self.names if self._cell(n).state.name == "RUNNING"]
        name = data.draw(st.sampled_from(running), label="actor")
        note(f"{name} is sent a message that panics, then {after} more")
        verdicts = [self.system.tell(name, PANIC), *(self.system.tell(name, i) for i in range(after))]
        self.acknowledged[name] += sum(v in ("accepted", "blocked") for v in verdicts)
        if verdicts[0] in ("accepted", "blocked"):
            self.model.fail(name)
        self._settled()

    @rule(name=st.sampled_from(ACTOR_NAMES), n=st.integers(1, 4))
    def send_work(self, name: str, n: int) -> None:
        if name not in self.names:
            return
        verdicts = [self.system.tell(name, i) for i in range(n)]
        self.acknowledged[name] += sum(v in ("accepted", "blocked") for v in verdicts)
        note(f"{n} messages to {name}: {verdicts}")
        self._settled()

    @rule(name=st.sampled_from(ACTOR_NAMES))
    def ask(self, name: str) -> None:
        if name not in self.names:
            return
        reply = self.system.ask(name, "ping", timeout=2.0)
        self.replies.append((reply, self.rt.now() + 2.0, name))
        if not reply.done or reply.error is None:
            self.acknowledged[name] += 1
        note(f"ask {name}")
        self._settled()

    @invariant()
    def every_actor_is_in_the_state_its_policies_say(self) -> None:
        got = {n: self._cell(n).state.name for n in self.names}
        assert got == self.model.state, f"states {got}, the tree's policies say {self.model.state}"

    @invariant()
    def escalations_climb_one_level_at_a_time(self) -> None:
        got = {n: list(self._cell(n).escalations) for n in self.names}
        assert got == self.model.escalations, f"escalations {got}, expected {self.model.escalations}"
        assert list(self.system.escalated) == self.model.top, (
            f"escalated past the top: {self.system.escalated}, expected {self.model.top}"
        )

    @invariant()
    def restarts_bring_back_exactly_the_subtree_that_went_down(self) -> None:
        got = {n: (self._cell(n).restarts, self._cell(n).cascades) for n in self.names}
        expected = {n: (self.model.restarts[n], self.model.cascades[n]) for n in self.names}
        assert got == expected, f"(restarts, cascades) {got}, expected {expected}"

    @invariant()
    def no_actor_runs_while_an_ancestor_is_down(self) -> None:
        for name in self.names:
            if self._cell(name).state.name == "RUNNING":
                down = [a for a in self.model.ancestors(name) if self._cell(a).state.name != "RUNNING"]
                assert not down, f"{name} runs while its ancestors {down} are down"

    @invariant()
    def no_acknowledged_message_is_lost_in_a_cascade(self) -> None:
        for name in self.names:
            c = self._cell(name)
            held = (
                len(c.processed) + len(c.failed) + len(c.mailbox) + len(c.mailbox.waiting) + len(c.in_flight)
            )
            assert held == self.acknowledged[name], (
                f"{name} accounts for {held}, {self.acknowledged[name]} acked"
            )

    @invariant()
    def a_running_actor_has_handled_its_mail(self) -> None:
        for name in self.names:
            c = self._cell(name)
            if c.state.name == "RUNNING":
                assert len(c.mailbox) == 0, f"{name} runs with {len(c.mailbox)} messages unhandled"


PANIC = {"panic": "on cue"}  # a message whose handler panics
PANICS_ON_CUE = Role(reply="echo", panics_on=(PANIC,))


class PressureMachine(_RuntimeMachine):
    """Resource pressure along a routing chain: mailboxes bounded in messages and in bytes, slow
    handlers and stalled ones (past the processing timeout), messages routed hop to hop so that an
    overflow downstream meets traffic from upstream; nothing held past a bound, nothing lost."""

    @initialize(
        hops=st.integers(2, 4),
        capacities=st.lists(st.integers(1, 4), min_size=4, max_size=4),
        limits=st.lists(st.one_of(st.none(), st.integers(2, 12)), min_size=4, max_size=4),
    )
    def build_the_chain(self, hops: int, capacities: list[int], limits: list[int | None]) -> None:
        self.hops = [f"h{i}" for i in range(hops)]
        self.limits = dict(zip(self.hops, limits, strict=False))
        self.sizes: dict[int, int] = {}  # message id -> bytes
        self.durations: dict[int, float] = {}
        self.acked: dict[str, set[int]] = {h: set() for h in self.hops}
        self.routed: set[int] = set()
        self.next_id = 0

        # Each message is [id, seconds]: the worker takes that long to handle it (simulated time).
        worker = Role(reply="echo", takes_item=1)
        policy = actor_strategies.SupervisionPolicy(actor_strategies.Immediate(), 3, 1e9)
        for hop, capacity in zip(self.hops, capacities, strict=False):
            self.system.spawn(
                hop,
                worker,
                capacity=capacity,
                max_bytes=self.limits[hop],
                processing_timeout=TIMEOUT,
                supervision=policy,
            )
        note(f"chain {self.hops} ({self.rt.name}): capacities {capacities}, byte limits {limits}")

    @staticmethod
    def _id(envelope: Any) -> int:
        payload = envelope.payload
        while hasattr(payload, "payload"):  # an ask's or a route's wrapper
            payload = payload.payload
        return int(payload[0])

    def _started(self, hop: str) -> list[tuple[int, float, int]]:
        """What the hop took up, from its log: (id, when, how many were in flight then)."""
        return [
            (int(r.message[0]), float(r.at), int(r.in_flight))
            for r in self.system.received(hop)
            if r.hook == "handle"
        ]

    def _new(self, size: int, duration: float) -> int:
        self.next_id += 1
        self.sizes[self.next_id], self.durations[self.next_id] = size, duration
        return self.next_id

    def _queued(self, hop: str) -> list[int]:
        c = self.system.lookup(hop)
        gone = {self._id(e) for e in c.processed + c.failed + c.in_flight + c.unhandled}
        return [i for i in self.acked[hop] if i not in gone]

    def _expected(self, hop: str, size: int) -> str:
        c, limit = self.system.lookup(hop), self.limits[hop]
        held = sum(self.sizes[i] for i in self._queued(hop))
        if limit is not None and held + size > limit:
            return "rejected"
        return "rejected" if len(c.mailbox) >= c.mailbox.capacity else "accepted"

    def _send(self, hop: str, size: int, duration: float) -> str:
        ident = self._new(size, duration)
        expected = self._expected(hop, size)
        got: str = self.system.tell(hop, [ident, duration], size=size)
        note(f"send #{ident} ({size} B, {duration} s) to {hop}: {got}")
        assert got == expected, f"{hop} answered {got} to {size} bytes, a correct mailbox {expected}"
        if got == "accepted":
            self.acked[hop].add(ident)
        return got

    @rule(hop=st.integers(0, 3), size=st.integers(0, 6), duration=DURATIONS)
    def send(self, hop: int, size: int, duration: float) -> None:
        self._send(self.hops[hop % len(self.hops)], size, duration)

    @rule(hop=st.integers(0, 3), offset=st.sampled_from([-1, 0, 1]), duration=DURATIONS)
    def fill_memory_to_the_limit(self, hop: int, offset: int, duration: float) -> None:
        """A message just below, exactly at and just past what the memory limit leaves free."""
        name = self.hops[hop % len(self.hops)]
        limit = self.limits[name]
        if limit is None:
            return
        room = limit - sum(self.sizes[i] for i in self._queued(name))
        self._send(name, max(room + offset, 0), duration)

    @rule(size=st.integers(0, 4), duration=DURATIONS)
    def route_along_the_chain(self, size: int, duration: float) -> None:
        ident = self._new(size, duration)
        expected = self._expected(self.hops[0], size)
        got = self.system.route(self.hops, [ident, duration], size=size)
        note(f"route #{ident} ({size} B, {duration} s) along {self.hops}: {got}")
        assert got == expected, f"{self.hops[0]} answered {got}, a correct mailbox {expected}"
        if got == "accepted":
            self.acked[self.hops[0]].add(ident)
            self.routed.add(ident)

    @rule(hop=st.integers(0, 3), duration=DURATIONS)
    def ask(self, hop: int, duration: float) -> None:
        name = self.hops[hop % len(self.hops)]
        ident = self._new(0, duration)
        reply = self.system.ask(name, [ident, duration], timeout=3.0)
        self.replies.append((reply, self.rt.now() + 3.0, name))
        if not reply.done:
            self.acked[name].add(ident)
        note(f"ask #{ident} ({duration} s) of {name}")

    @rule(index=st.integers(0, 9))
    def step(self, index: int) -> None:
        note(f"step {index}" if self.rt.step(index) else "nothing ready")

    @rule()
    def settle(self) -> None:
        self.rt.settle()

    def _forwarded(self) -> None:
        """Each hop's forward of a routed message is owed to the next hop, or is a dead letter."""
        dead = {(d.to, int(d.payload[0])) for d in self.system.dead_letters}
        for i, hop in enumerate(self.hops[:-1]):
            nxt = self.hops[i + 1]
            for e in self.system.lookup(hop).processed:
                ident = self._id(e)
                if ident in self.routed and (nxt, ident) not in dead:
                    self.acked[nxt].add(ident)

    @invariant()
    def handles_one_message_at_a_time(self) -> None:
        for hop in self.hops:
            for ident, _, in_flight in self._started(hop):
                assert not in_flight, f"{hop} took {ident} while {in_flight} were in flight"

    @invariant()
    def every_handler_ends_by_its_deadline_or_its_timeout(self) -> None:
        now = self.rt.now()
        for hop in self.hops:
            c = self.system.lookup(hop)
            done = {self._id(e) for e in c.processed + c.failed}
            for ident, at, _ in self._started(hop):
                if at + min(self.durations[ident], TIMEOUT) <= now:
                    assert ident in done, f"{hop} still handling #{ident} at {now:g} (from {at:g})"

    @invariant()
    def a_stalled_handler_fails_at_its_timeout_and_a_slow_one_completes(self) -> None:
        for hop in self.hops:
            c = self.system.lookup(hop)
            for e in c.processed:
                assert self.durations[self._id(e)] <= TIMEOUT, f"{hop} completed a stalled #{self._id(e)}"
            for e in c.failed:
                assert self.durations[self._id(e)] > TIMEOUT, (
                    f"{hop} failed #{self._id(e)} within its timeout"
                )

    @invariant()
    def memory_held_is_what_is_queued_and_never_past_the_limit(self) -> None:
        for hop in self.hops:
            c, limit = self.system.lookup(hop), self.limits[hop]
            queued = sum(self.sizes[self._id(e)] for e in self._mail(c))
            assert c.mailbox.held_bytes == queued, (
                f"{hop} counts {c.mailbox.held_bytes} bytes, holds {queued}"
            )
            assert limit is None or queued <= limit, f"{hop} holds {queued} bytes, limit {limit}"

    @staticmethod
    def _mail(cell: Any) -> list[Any]:
        mailbox = cell.mailbox
        return list(mailbox.queued) + list(mailbox.waiting)

    @invariant()
    def no_message_is_lost_along_the_route(self) -> None:
        """Every message a hop acknowledged (sent to it, or forwarded by the hop before) is queued,
        in flight, handled or failed there; a forward the next hop refused is a dead letter."""
        self._forwarded()
        for hop in self.hops:
            c = self.system.lookup(hop)
            there = {self._id(e) for e in c.processed + c.failed + c.in_flight + c.unhandled + self._mail(c)}
            lost = sorted(self.acked[hop] - there)
            assert not lost, f"{hop} lost {lost}: neither queued, handled nor a dead letter"


class SupervisionTreeOnAsyncio(SupervisionTreeMachine):
    """The same tree, on the production (asyncio) runtime."""

    runtime = "asyncio"


class PressureOnAsyncio(PressureMachine):
    """The same pressure, on the production (asyncio) runtime."""

    runtime = "asyncio"
