"""State machines for the V2 actor runtime: mailbox ordering, supervision, message flows, and the
deterministic scheduler every other machine runs on.

Every machine drives the target's runtime through the `actors` component on a deterministic
scheduler: Hypothesis chooses each send, each processing step, each panic and each tick of
simulated time, so an interleaving that breaks a guarantee shrinks and replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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

from alys_pbt.interface import Behaviour
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


class Idle(Behaviour):
    """An actor that takes its messages and does nothing with them (the port counts them)."""

    def started(self, ctx: Any) -> None:
        pass

    def handle(self, message: Any, ctx: Any) -> Any:
        return None


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

    def call_later(self, delay: float, task: Callable[[], object]) -> None:
        self.model.call_later(delay, self._named(task))

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
        self.asks: list[tuple[Any, tuple[int, ...]]] = []
        self.accepted = 0
        self.crashes: dict[str, int] = {}

    @initialize(target=members, n=st.integers(2, 5))
    def start_actors(self, n: int) -> MultipleResults[str]:
        machine = self
        self.names = [f"a{i}" for i in range(n)]
        self.clocks = {name: [0] * n for name in self.names}

        class Recorder(Idle):
            def handle(self, message: Any, ctx: Any) -> Any:
                sender, seq, clock = message
                me = machine.names.index(ctx.name)
                mine = machine.clocks[ctx.name]
                for i, t in enumerate(clock):
                    mine[i] = max(mine[i], t)
                mine[me] += 1
                machine.received.setdefault(ctx.name, []).append((sender, seq, 0, tuple(clock)))
                return tuple(mine)

        self.system = self.actors.system(self.scheduler)
        # The port's policy classes, through the strategies, until the interface has its own.
        policy = actor_strategies.SupervisionPolicy(
            actor_strategies.Immediate(), max_restarts=10**6, window=1.0
        )
        for name in self.names:
            self.system.spawn(name, Recorder, supervision=policy, capacity=10_000)
        self.seq: dict[tuple[str, str], int] = {}
        note(f"{n} actors")
        return multiple(*self.names)

    def _stamp(self, sender: str, to: str) -> tuple[str, int, tuple[int, ...]]:
        key = (sender, to)
        self.seq[key] = self.seq.get(key, 0) + 1
        if sender in self.clocks:
            self.clocks[sender][self.names.index(sender)] += 1
            clock = tuple(self.clocks[sender])
        else:
            clock = tuple([0] * len(self.names))
        return sender, self.seq[key], clock

    def _tell(self, sender: str, to: str) -> None:
        if self.system.tell(to, self._stamp(sender, to), sender=sender) == "accepted":
            self.accepted += 1

    @rule(sender=members, to=members)
    def tell(self, sender: str, to: str) -> None:
        note(f"{sender} tells {to}")
        self._tell(sender, to)

    @rule(sender=members, to=members)
    def ask(self, sender: str, to: str) -> None:
        stamp = self._stamp(sender, to)
        reply = self.system.ask(to, stamp, timeout=1e9, sender=sender)
        self.accepted += 1
        self.asks.append((reply, stamp[2]))
        note(f"{sender} asks {to}")

    @rule(sender=members)
    def broadcast(self, sender: str) -> None:
        _, seq, clock = self._stamp(sender, "*")  # one stream per broadcaster, FIFO at every receiver
        verdicts = self.system.broadcast((f"{sender}*", seq, clock), sender=sender)
        self.accepted += sum(v == "accepted" for v in verdicts.values())
        note(f"{sender} broadcasts #{seq}")

    @rule(hops=st.lists(members, min_size=2, max_size=5, unique=True))
    def route(self, hops: list[str]) -> None:
        _, seq, clock = self._stamp("route", "*")
        if self.system.route(hops, (f"route{seq}", 1, clock), sender="outside") == "accepted":
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
        for name, got in self.received.items():
            last: dict[str, int] = {}
            for sender, seq, _, _ in got:
                assert seq > last.get(sender, 0), f"{name} got {sender}#{seq} after #{last[sender]}"
                last[sender] = seq

    @invariant()
    def responses_happen_after_their_requests(self) -> None:
        for reply, request_clock in self.asks:
            if reply.done and reply.error is None:
                response = reply.value
                assert len(response) == len(request_clock), f"a reply's clock of {len(response)} actors"
                assert all(r >= q for r, q in zip(response, request_clock, strict=True)), (
                    "reply before request"
                )
                assert response != request_clock, "the reply's clock did not move past the request's"


# What a task does when it runs: nothing, or schedule one more task (soon, or after a delay).
Then = tuple[str, float] | None
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
        self.port = target.actors.scheduler()
        self.model = SchedulerModel()
        self.ran: list[int] = []  # task ids in the order the scheduler ran them
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

    def _port_task(self, task: int) -> Any:
        def run() -> None:
            self.ran.append(task)
            if task in self.then:
                how, delay, follow = self.then[task]
                if how == "soon":
                    self.port.call_soon(self._port_task(follow))
                else:
                    self.port.call_later(delay, self._port_task(follow))

        return run

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
        assert self.ran == self.expected, f"ran {self.ran}, the model {self.expected}"

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
