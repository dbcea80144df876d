"""Properties of the V2 actor runtime: the state machines (models/machines/actors.py), many
concurrent senders, restart delays, ordered shutdown, the deterministic scheduler's runaway guard,
and the runtime on the production (asyncio) scheduler.

Everything reaches the target through the interface alone: actors are roles (interface.Role, data),
what they received is read back (`system.received`), and every task runs on the suite's own
scheduler (models/machines/actors.py), so each property runs over the target protocol as in-process."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from alys_pbt.interface import Delayed, Immediate, Never, Priority, Role, SupervisionPolicy, Target, Task
from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models import actors as ref
from alys_pbt.models.machines.actors import (
    CancellingScheduler,
    FlowsMachine,
    LoopScheduler,
    MailboxMachine,
    SchedulerMachine,
    SupervisionMachine,
)
from alys_pbt.strategies.actors import PanicCase, panic_cases, restart_strategies, topologies

pytestmark = pytest.mark.actors

TestMailbox = machine_test(
    kills("actors-ties-newest-first", "actors-normal-lifo", "actors-warning-off-by-one")(MailboxMachine)
)
TestSupervision = machine_test(
    kills("actors-restart-count-from-1", "actors-restart-loses-mailbox")(SupervisionMachine)
)
TestMessageFlows = machine_test(kills("actors-normal-lifo", "actors-restart-loses-mailbox")(FlowsMachine))
TestScheduler = machine_test(
    kills("actors-timer-ties-newest-first", "actors-idle-runs-past-limit")(SchedulerMachine)
)


@kills("actors-restart-count-from-1")
@given(strategy=restart_strategies, attempt=st.integers(0, 12))
def test_restart_delays_match_the_reference(target: Target, strategy: Any, attempt: int) -> None:
    """Never, Immediate, Delayed, ExponentialBackoff and Progressive give the designed delays."""
    assert target.actors.restart_delay(strategy, attempt) == ref.restart_delay(strategy, attempt)


@kills("actors-shutdown-forward-order")
@given(topology=topologies())
def test_shutdown_stops_dependents_before_their_dependencies(
    target: Target, topology: dict[str, tuple[str, ...]]
) -> None:
    """Ordered shutdown: an actor stops before every actor it depends on."""
    system = target.actors.system(CancellingScheduler())
    for name, deps in topology.items():
        system.spawn(name, Role(), depends_on=deps)
    order = system.shutdown()
    note(f"stop order {order}")
    assert sorted(order) == sorted(topology)
    for name, deps in topology.items():
        for dep in deps:
            assert order.index(name) < order.index(dep), f"{dep} stopped before its dependent {name}"
    assert order == ref.shutdown_order(topology), "among actors free to stop, the first in name order stops"


@kills("actors-normal-lifo")
@given(
    senders=st.integers(1000, 1200),
    per_sender=st.integers(2, 3),  # order within a sender needs two messages
    capacity=st.integers(16, 256),
    schedule_seed=st.integers(0, 2**32 - 1),
)
def test_a_thousand_concurrent_senders_deliver_exactly_once_in_order(
    target: Target, senders: int, per_sender: int, capacity: int, schedule_seed: int
) -> None:
    """1,000+ senders under a fair, Hypothesis-chosen interleaving: every message arrives once,
    in each sender's order, though the mailbox (block policy) is far smaller than the load."""
    schedule = random.Random(schedule_seed)  # seeded by Hypothesis: the interleaving replays
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    system.spawn("sink", Role(), capacity=capacity, policy="block")
    remaining = {f"s{i}": list(range(per_sender)) for i in range(senders)}

    def sender_task(name: str) -> None:
        verdict = system.tell("sink", remaining[name].pop(0), sender=name)
        assert verdict in ("accepted", "blocked"), verdict
        if remaining[name]:
            scheduler.call_soon(lambda: sender_task(name))

    for name in remaining:
        scheduler.call_soon(lambda n=name: sender_task(n))
    while scheduler.ready:
        scheduler.step(schedule.randrange(len(scheduler.ready)))
    received = [(r.sender, r.message) for r in system.received("sink") if r.hook == "handle"]
    assert len(received) == senders * per_sender
    by_sender: dict[str, list[Any]] = {}
    for sender, message in received:
        by_sender.setdefault(sender, []).append(message)
    assert all(messages == list(range(per_sender)) for messages in by_sender.values())


@given(timeout=st.floats(0.01, 100.0))
@kills("actors-restart-loses-mailbox")
def test_an_ask_of_a_crashed_actor_times_out_in_simulated_time_or_is_answered_after_restart(
    target: Target, timeout: float
) -> None:
    """An ask queued before a crash is answered once the actor restarts (it was acknowledged);
    an ask nobody can answer times out when simulated time passes its deadline."""
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    system.spawn(
        "echo", Role(reply="echo"), supervision=SupervisionPolicy(Delayed(0.5), max_restarts=5, window=60.0)
    )
    system.fail("echo")
    reply = system.ask("echo", "ping", timeout=timeout)
    scheduler.run_until_idle()
    assert not reply.done  # the actor is down: nothing answers yet
    scheduler.advance(min(timeout, 0.5) if timeout < 0.5 else 0.5)
    scheduler.run_until_idle()
    if timeout <= 0.5:
        assert reply.done and type(reply.error).__name__ == "AskTimeout"
    else:
        assert reply.done and reply.value == "ping", reply


@kills("actors-restart-loses-mailbox", "actors-normal-lifo")
@given(case=panic_cases(max_size=40))
def test_panics_at_chosen_messages_lose_nothing_else(target: Target, case: PanicCase) -> None:
    """A worker that panics on chosen messages and restarts immediately still handles every other
    message, once, in per-sender order within each priority; the panicking ones are recorded. The
    runtime numbers each sender's envelopes to the worker 1, 2, 3... (its `seq`), and the recorded
    envelopes are exactly the handled and the panicking messages."""
    messages, poison = case.messages, case.poison
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    system.spawn(
        "worker",
        _worker(case),
        capacity=len(messages),
        supervision=SupervisionPolicy(Immediate(), 10**6, 1.0),
    )
    for index, m in enumerate(messages):
        assert system.tell("worker", _message(index, m), sender=m.sender, priority=Priority(m.priority)) == (
            "accepted"
        )
        if index in case.runs_after:
            scheduler.run_until_idle()
    scheduler.run_until_idle()
    handled = _handled(system, poison)
    worker = system.lookup("worker")
    expected = sorted((m.sender, m.priority, m.seq) for i, m in enumerate(messages) if i not in poison)
    # One assertion for what was handled and what panicked: one failure, however it goes wrong.
    assert (len(worker.failed), sorted(handled)) == (len(poison), expected), f"worker is {worker.state.name}"
    last: dict[tuple[str, int], int] = {}
    for sender, priority, seq in handled:
        assert seq > last.get((sender, priority), 0), f"{sender}#{seq} (p{priority}) out of order"
        last[(sender, priority)] = seq
    # The envelopes: the strategy numbers each sender's messages from 1, as the runtime must.
    stamped = [(e.sender, e.seq, e.payload[0]) for e in worker.processed + worker.failed]
    assert sorted(stamped) == sorted((m.sender, m.seq, i) for i, m in enumerate(messages)), "envelope seq"
    assert sorted(e.payload[0] for e in worker.failed) == sorted(poison), "the failed envelopes"


@kills("actors-idle-runs-past-limit")
@given(offset=st.sampled_from([-1, 0, 1]))
def test_run_until_idle_stops_a_runaway_task_at_its_default_limit(target: Target, offset: int) -> None:
    """A task that reschedules itself a million times, less one, or plus one: run_until_idle()
    runs it up to the default limit of 1,000,000 steps and no further, and says how many ran."""
    scheduler = target.actors.scheduler()
    # One task that, each time it runs, schedules itself again: in all, limit + offset runs.
    scheduler.call_soon(Task(1, repeat=ref.SchedulerModel.RUNAWAY_LIMIT + offset - 1))
    ran = scheduler.run_until_idle()
    expected = min(ref.SchedulerModel.RUNAWAY_LIMIT, ref.SchedulerModel.RUNAWAY_LIMIT + offset)
    assert ran == expected, f"ran {ran} steps, the limit allows {expected}"
    assert len(scheduler.ready) == (1 if offset > 0 else 0), "the task past the limit is still ready"


def _message(index: int, m: Any) -> list[Any]:
    """A message of a panic case, as JSON: its index, then its sender, priority and sequence number."""
    return [index, m.sender, int(m.priority), m.seq]


def _worker(case: PanicCase) -> Role:
    """A worker that panics on the case's poison messages and answers every other ask with it."""
    return Role(reply="echo", panics_on=tuple(_message(i, case.messages[i]) for i in sorted(case.poison)))


def _handled(system: Any, poison: Any) -> list[tuple[str, int, int]]:
    """(sender, priority, seq) of each message the worker handled without panicking, in order."""
    return [
        (r.message[1], r.message[2], r.message[3])
        for r in system.received("worker")
        if r.hook == "handle" and r.message[0] not in poison
    ]


def _idle(system: Any, names: list[str]) -> bool:
    """Nothing left to do now: no actor is scheduled or waiting for its restart."""
    cells = [system.lookup(name) for name in names]
    return all(not cell.scheduled and cell.state.name != "RECOVERING" for cell in cells)


@kills("actors-restart-loses-mailbox", "actors-normal-lifo")
@given(case=panic_cases(max_size=30))
def test_on_the_asyncio_scheduler_panics_lose_nothing_and_every_ask_is_answered(
    target: Target, case: PanicCase
) -> None:
    """On the production scheduler (a real asyncio loop, only zero delays, so nothing waits on the
    wall clock): a worker that panics at chosen messages and restarts immediately handles every
    other message once, in per-sender order within each priority, and answers every ask, with
    its value or its panic. The loop is the suite's own asyncio driver (the target's runtime
    schedules on it through the interface's scheduler protocol)."""
    messages, poison = case.messages, case.poison  # the worker runs only when the loop turns
    loop = asyncio.new_event_loop()
    try:
        system = target.actors.system(LoopScheduler(loop))
        system.spawn(
            "worker",
            _worker(case),
            capacity=len(messages),
            supervision=SupervisionPolicy(Immediate(), 10**6, 1.0),
        )
        replies = {}
        for index, m in enumerate(messages):
            if m.ask:  # an hour: the loop is closed long before, so no ask may time out
                replies[index] = system.ask(
                    "worker",
                    _message(index, m),
                    timeout=3600.0,
                    sender=m.sender,
                    priority=Priority(m.priority),
                )
            else:
                assert (
                    system.tell("worker", _message(index, m), sender=m.sender, priority=Priority(m.priority))
                    == "accepted"
                )

        async def settle() -> int:
            turns = 0
            while not _idle(system, ["worker"]) and turns < 10 * len(messages) + 10:
                await asyncio.sleep(0)  # one turn of the loop: no wall-clock wait
                turns += 1
            return turns

        turns = loop.run_until_complete(settle())
    finally:
        loop.close()
    handled = _handled(system, poison)
    note(f"settled after {turns} turns; handled {handled}")
    worker = system.lookup("worker")
    expected = sorted((m.sender, m.priority, m.seq) for i, m in enumerate(messages) if i not in poison)
    # One assertion for settling, what was handled and what panicked: one failure, however it goes wrong.
    assert (_idle(system, ["worker"]), len(worker.failed), sorted(handled)) == (
        True,
        len(poison),
        expected,
    ), f"worker is {worker.state.name}: every message but the panicking ones is handled once"
    last: dict[tuple[str, int], int] = {}
    for sender, priority, seq in handled:
        assert seq > last.get((sender, priority), 0), f"{sender}#{seq} (p{priority}) out of order"
        last[(sender, priority)] = seq
    for index, reply in replies.items():
        assert reply.done, f"ask {index} was never answered"
        if index in poison:  # the worker's panic (interface.Role: a RuntimeError saying "panic")
            assert type(reply.error).__name__ == "RuntimeError" and str(reply.error) == "panic", reply
        else:
            assert reply.error is None and reply.value == _message(index, messages[index]), reply


@kills("actors-broadcast-drops-priority")
@given(
    n=st.integers(2, 4),
    priority=st.sampled_from(list(range(6))),
    payload=st.integers(-(2**53), 2**53),  # a JSON number every implementation reads exactly
    sender=st.one_of(st.none(), st.sampled_from(["actor0", "actor1", "bridge"])),
)
def test_tell_ask_broadcast_and_route_deliver_sender_priority_and_payload(
    target: Target, n: int, priority: int, payload: int, sender: str | None
) -> None:
    """Whatever the way in, each recipient handles the payload from the stated sender (from
    "outside" when none is stated) at the stated priority; an ask is answered with the handler's
    value; a broadcast reaches every actor but its sender; a route reaches each hop in turn (each
    hop's sender is the hop before)."""
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    names = [f"actor{i}" for i in range(n)]
    for name in names:
        system.spawn(name, Role(reply="echo"))
    via = {} if sender is None else {"sender": sender}
    expected_sender = "outside" if sender is None else sender
    p = Priority(priority)
    read = dict.fromkeys(names, 0)

    def delivered(expected: list[tuple[str, str, Any]], how: str) -> None:
        scheduler.run_until_idle()
        seen = []
        for name in names:
            log = [r for r in system.received(name) if r.hook == "handle"]
            seen += [(name, r.sender, r.message) for r in log[read[name] :]]
            read[name] = len(log)
        note(f"{how}: {seen}")
        assert sorted(seen) == sorted(expected), f"{how} delivered {seen}, expected {expected}"
        for recipient, _, _ in expected:
            assert system.lookup(recipient).processed[-1].priority == p or how == "route", (
                f"{how}: priority lost"
            )

    assert system.tell("actor1", payload, priority=p, **via) == "accepted"
    delivered([("actor1", expected_sender, payload)], "tell")
    reply = system.ask("actor0", payload, timeout=10.0, priority=p, **via)
    delivered([("actor0", expected_sender, payload)], "ask")
    assert reply.done and reply.error is None and reply.value == payload, reply
    verdicts = system.broadcast(payload, priority=p, **via)
    others = [name for name in names if name != expected_sender]
    assert verdicts == {name: "accepted" for name in others}, verdicts
    delivered([(name, expected_sender, payload) for name in others], "broadcast")
    hops = list(reversed(names))
    assert system.route(hops, payload, **via) == "accepted"
    delivered(
        [(hop, expected_sender if i == 0 else hops[i - 1], payload) for i, hop in enumerate(hops)], "route"
    )


@kills("actors-ask-refusal-unanswered")
@given(policy=st.sampled_from(["reject", "drop-lowest"]), timeout=st.sampled_from([0.5, 1.0, 30.0]))
def test_an_ask_the_mailbox_refuses_fails_at_once_and_a_late_one_times_out_naming_itself(
    target: Target, policy: str, timeout: float
) -> None:
    """An ask that a full mailbox refuses (rejected, or dropped as the lowest priority) is answered
    at once with MailboxFull naming the verdict, and stays so when its deadline passes; an ask
    nobody handles times out at its deadline with an AskTimeout naming the actor and the timeout."""
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    system.spawn("busy", Role(), capacity=1, policy=policy)
    assert system.tell("busy", "first", priority=Priority.HIGH) == "accepted"  # never processed: no step runs
    refused = system.ask("busy", "second", timeout=timeout, priority=Priority.BACKGROUND)
    verdict = "rejected" if policy == "reject" else "dropped"
    assert refused.done and type(refused.error).__name__ == "MailboxFull", refused
    assert str(refused.error) == verdict, f"MailboxFull says {refused.error!r}, the verdict was {verdict}"
    system.spawn("silent", Role(), supervision=SupervisionPolicy(Never()))
    system.fail("silent")  # down for good: its policy never restarts it
    late = system.ask("silent", "ping", timeout=timeout)
    scheduler.advance(timeout)
    scheduler.run_until_idle()
    assert type(refused.error).__name__ == "MailboxFull", "a refused ask's answer changed at its deadline"
    assert late.done and type(late.error).__name__ == "AskTimeout", late
    assert str(late.error) == f"silent did not answer in {timeout}s", f"AskTimeout says {late.error!r}"


@st.composite
def cyclic_topologies(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    """A dependency DAG with back edges added, so that some actors depend on each other in a cycle."""
    topology = dict(draw(topologies()))
    names = sorted(topology)
    for _ in range(draw(st.integers(1, 3))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if a != b:
            topology[a] = tuple(dict.fromkeys((*topology[a], b)))
            topology[b] = tuple(dict.fromkeys((*topology[b], a)))
    return topology


@kills("actors-shutdown-cycle-left-running")
@given(topology=cyclic_topologies())
def test_shutdown_stops_every_actor_once_even_on_a_dependency_cycle(
    target: Target, topology: dict[str, tuple[str, ...]]
) -> None:
    """Shutdown ends with every actor stopped exactly once, also when dependencies form a cycle
    (the cycle is broken in name order), and an actor outside every cycle still stops before
    what it depends on."""
    system = target.actors.system(CancellingScheduler())
    for name, deps in topology.items():  # depends_on may name an actor spawned later: cycles can be built
        system.spawn(name, Role(), depends_on=deps)
    order = system.shutdown()
    note(f"stop order {order}")
    assert sorted(order) == sorted(topology), f"stopped {order}"
    assert all(system.lookup(name).state.name == "STOPPED" for name in topology), "an actor is not stopped"
    assert order == ref.shutdown_order(topology), "one at a time, in name order among those free to stop"


# --- the runtime's own contracts: contexts, lifecycle history, scheduling, names, defaults ---------


@kills("actors-started-sees-running")
@given(
    names=st.lists(
        st.sampled_from(["chain", "engine", "sync", "bridge"]), min_size=1, max_size=3, unique=True
    ),
    sender=st.sampled_from(["outside", "network", "chain"]),
    panics=st.integers(0, 2),
)
def test_a_behaviour_sees_its_own_context_starting_then_running(
    target: Target, names: list[str], sender: str, panics: int
) -> None:
    """started() runs with the actor Starting, as the actor itself, on every (re)start; handle()
    runs with it Running, for the message's sender, and can answer through its system (a ping from
    an actor is answered with a pong told back to that actor)."""
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    probe = Role(panics_on=("panic",), answers_sender=(("ping", "pong"),))
    for name in names:
        system.spawn(name, probe, supervision=SupervisionPolicy(Immediate(), 10, 60.0))
    read = dict.fromkeys(names, 0)

    def seen() -> dict[str, list[tuple[str, str, str]]]:
        """Each actor's hooks since the last look: (hook, sender, lifecycle state)."""
        out = {}
        for name in names:
            log = system.received(name)
            out[name] = [(r.hook, r.sender, r.state) for r in log[read[name] :]]
            read[name] = len(log)
        return out

    assert seen() == {name: [("started", name, "STARTING")] for name in names}
    first, last = names[0], names[-1]
    for _ in range(panics):
        system.tell(first, "panic", sender=sender)
        scheduler.run_until_idle()
    restarts = [("handle", sender, "RUNNING"), ("started", first, "STARTING")] * panics
    assert seen() == {name: restarts if name == first else [] for name in names}
    system.tell(first, "ping", sender=last)
    scheduler.run_until_idle()
    expected: dict[str, list[tuple[str, str, str]]] = {name: [] for name in names}
    expected[first].append(("handle", last, "RUNNING"))  # the ping
    expected[last].append(("handle", first, "RUNNING"))  # its pong, told by the first actor
    assert seen() == expected, "a ping is handled, and its pong comes back through the actor's system"


@kills("actors-escalation-unrecorded")
@given(
    strategy=st.sampled_from(["Immediate", "Never"]),
    failures=st.integers(0, 5),
    parent=st.sampled_from([None, "supervisor", "absent"]),
)
def test_the_lifecycle_history_records_each_failure_and_what_the_supervisor_decided(
    target: Target, strategy: str, failures: int, parent: str | None
) -> None:
    """An actor's history: running when spawned; then, per failure, failed and either its restart
    (restart in 0.0, then running again) or its escalation with the reason, as the reference
    supervisor decides (three restarts in the window, so the node's hard-coded limit agrees). An
    escalation reaches a parent that is an actor, and one whose parent is not an actor is no error."""
    kind = {"Immediate": Immediate, "Never": Never}[strategy]
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    if parent == "supervisor":
        system.spawn("supervisor", Role())
    system.spawn("child", Role(), supervision=SupervisionPolicy(kind(), 3, 60.0), parent=parent)
    model = ref.SupervisorModel(kind(), 3, 60.0)
    expected: list[tuple[float, str]] = [(0.0, "running")]
    for i in range(failures):
        scheduler.advance(0.5)
        now = scheduler.now()
        system.fail("child")
        scheduler.run_until_idle()
        if system.lookup("child").state.name == "FAILED" and expected[-1][1].startswith("escalated"):
            break  # down for good: a later panic has nothing to fail
        expected.append((now, "failed"))
        due = model.on_failure(now)
        if due is None:
            expected.append((now, f"escalated: {model.reasons[-1]}"))
        else:
            expected += [(now, "restart in 0.0"), (now, "running")]
        note(f"failure {i + 1} at {now}: {expected[-1]}")
    child = system.lookup("child")
    assert child.history == expected, f"history {child.history}"
    escalated = model.escalations > 0
    assert child.state.name == ("FAILED" if escalated else "RUNNING")
    if parent == "supervisor":
        assert system.lookup("supervisor").escalations == (["child"] if escalated else [])


@kills("actors-failed-actor-scheduled")
@given(
    plan=st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=5),
)
def test_the_scheduler_holds_one_task_per_running_actor_with_mail_and_none_for_a_failed_one(
    target: Target, plan: list[tuple[bool, int]]
) -> None:
    """Messages told to actors that have not run yet: exactly one task is ready per Running actor
    with mail, none for an actor with an empty mailbox, none for a failed one (its supervisor
    never restarts it)."""
    scheduler = CancellingScheduler()
    system = target.actors.system(scheduler)
    for i, (failed, _) in enumerate(plan):
        system.spawn(f"a{i}", Role(), supervision=SupervisionPolicy(Never()))
        if failed:
            system.fail(f"a{i}")
    for i, (_, count) in enumerate(plan):
        for k in range(count):
            system.tell(f"a{i}", k)
    expected = sum(1 for failed, count in plan if not failed and count)
    assert len(scheduler.ready) == expected, f"{len(scheduler.ready)} tasks ready, {expected} actors to run"
    scheduler.run_until_idle()
    for i, (failed, count) in enumerate(plan):
        cell = system.lookup(f"a{i}")
        assert (len(cell.processed), len(cell.mailbox)) == ((0, count) if failed else (count, 0)), f"a{i}"


@kills("actors-spawn-replaces-taken-name")
@given(
    name=st.text(st.characters(codec="ascii"), min_size=1, max_size=8),
    way=st.sampled_from(["lookup", "tell", "ask", "spawn twice"]),
)
def test_an_unknown_actor_or_a_taken_name_is_refused_naming_it(target: Target, name: str, way: str) -> None:
    """Looking up, telling or asking an actor that does not exist raises ActorNotFound naming it;
    spawning a name that is taken raises ValueError naming it and leaves the first actor as it was
    (its mailbox of the default 1,000, holding what it was told)."""
    system = target.actors.system(CancellingScheduler())
    system.spawn("first", Role())
    if way == "spawn twice":
        if name != "first":
            system.spawn(name, Role())
        system.tell(name, "kept")
        with pytest.raises(Exception) as refused:  # noqa: PT011 - a rejection is known by its name
            system.spawn(name, Role(), capacity=1)
        assert type(refused.value).__name__ == "ValueError", repr(refused.value)
        assert "already exists" in str(refused.value) and repr(name) in str(refused.value), str(refused.value)
        after = system.lookup(name)
        assert (after.mailbox.capacity, len(after.mailbox)) == (1000, 1), "the first actor was replaced"
        return
    if name == "first":
        return
    ways = {
        "lookup": lambda: system.lookup(name),
        "tell": lambda: system.tell(name, "hello"),
        "ask": lambda: system.ask(name, "hello", timeout=1.0),
    }
    with pytest.raises(Exception) as refused:  # noqa: PT011 - a rejection is known by its name
        ways[way]()
    assert type(refused.value).__name__ == "ActorNotFound" and refused.value.args == (name,), repr(
        refused.value
    )


@kills("actors-capacity-off-by-one")
@given(offset=st.sampled_from([-1, 0, 1]))
def test_a_mailbox_spawned_with_the_defaults_holds_1000_and_rejects_the_next(
    target: Target, offset: int
) -> None:
    """An actor spawned with the defaults has a mailbox of 1,000 (MailboxConfig::default) that
    rejects on full: 999, 1,000 and 1,001 messages, the last refused only past the capacity."""
    system = target.actors.system(CancellingScheduler())  # never stepped: nothing is processed
    system.spawn("actor", Role())
    verdicts = [system.tell("actor", i) for i in range(1000 + offset)]
    assert verdicts == ["accepted"] * min(1000, 1000 + offset) + ["rejected"] * max(0, offset)
    assert len(system.lookup("actor").mailbox) == min(1000, 1000 + offset)
