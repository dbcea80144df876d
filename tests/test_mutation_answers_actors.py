"""Answers to mutation survivors of the actor runtime (alys/actors/*.py, docs/mutation.md): each a
deterministic check through the interface (`targets.load("alys-fixed").actors`), on the suite's own
schedulers, of what the properties' generators never happen to pin down exactly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alys_pbt import targets
from alys_pbt.interface import Delayed, Envelope, Never, Priority, Progressive, Role, SupervisionPolicy, Task
from alys_pbt.models.machines.actors import CancellingScheduler, SuiteScheduler

pytestmark = pytest.mark.actors


@pytest.fixture(scope="module")
def actors() -> Any:
    return targets.load("alys-fixed").actors


def _log(system: Any, name: str) -> list[tuple[str, str, Any, str, float, int]]:
    return [(r.hook, r.sender, r.message, r.state, r.at, r.in_flight) for r in system.received(name)]


def test_a_role_logs_each_hook_with_its_sender_state_time_and_in_flight_count(actors: Any) -> None:
    """A role's log: its start (sender itself, state Starting, the time it started), then each message
    handled (the sender, the message, Running, the time it was handled, nothing in flight)."""
    clock = CancellingScheduler()
    clock.advance(2.5)
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0))
    assert _log(system, "a") == [("started", "a", None, "STARTING", 2.5, 0)]
    assert system.tell("a", [3.0, "slow"], sender="b") == "accepted"
    assert system.tell("a", "quick", sender="c") == "accepted"
    clock.run_until_idle()
    clock.advance(3.0)  # the slow message finishes at 5.5: only then is the next one taken
    clock.run_until_idle()
    assert _log(system, "a")[1:] == [
        ("handle", "b", [3.0, "slow"], "RUNNING", 2.5, 0),
        ("handle", "c", "quick", "RUNNING", 5.5, 0),
    ]


def test_a_log_read_back_is_a_copy(actors: Any) -> None:
    """`received(name)` hands a snapshot: what the caller does with it never changes the actor's log."""
    system = actors.system(CancellingScheduler())
    system.spawn("a", Role())
    first = system.received("a")
    first.clear()
    assert [r.hook for r in system.received("a")] == ["started"]


def test_a_count_role_answers_how_many_messages_it_has_handled_across_restarts(actors: Any) -> None:
    """reply "count": the messages handled so far, this one included and a panicking one too, across
    a restart; its start is not a message."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="count", panics_on=("boom",)))
    replies = [system.ask("a", m, timeout=100.0) for m in ("x", "boom", "y")]
    for _ in range(10):
        clock.run_until_idle()
        clock.advance(1.0)
    assert [r.value for r in replies] == [1, None, 3]
    assert type(replies[1].error).__name__ == "RuntimeError" and str(replies[1].error) == "panic"
    assert [r.hook for r in system.received("a")] == ["started", "handle", "handle", "started", "handle"]


def test_a_role_answers_its_sender_only_when_the_sender_is_an_actor(actors: Any) -> None:
    """answers_sender: on the message `on`, the actor tells its sender `answer`, as itself; a sender
    that is no actor ("outside") gets nothing and the message is handled all the same; another
    message gets no answer."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("asker", Role())
    system.spawn("b", Role(answers_sender=(("ping", "pong"), ("hi", "there"))))
    system.tell("b", "ping", sender="asker")
    system.tell("b", "ping", sender="outside")
    system.tell("b", "other", sender="asker")
    clock.run_until_idle()
    assert [(r.sender, r.message) for r in system.received("asker") if r.hook == "handle"] == [("b", "pong")]
    assert [r.message for r in system.received("b") if r.hook == "handle"] == ["ping", "ping", "other"]
    assert system.lookup("b").state.name == "RUNNING"


def test_takes_item_reads_the_duration_only_from_a_list_message(actors: Any) -> None:
    """takes_item: a list message takes `message[item]` seconds; any other message takes no time
    (a string is not read as a list of characters), and a duration of 0 is no slow handler."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=1))
    replies = [system.ask("a", m, timeout=50.0) for m in ("x2", ["x", 0], ["y", 4], ["z", 0.5])]
    clock.run_until_idle()
    assert [r.done for r in replies] == [True, True, False, False]
    assert [r.value for r in replies[:2]] == ["x2", ["x", 0]]
    assert len(system.lookup("a").in_flight) == 1
    clock.advance(4.0)
    clock.run_until_idle()
    assert replies[2].value == ["y", 4] and not replies[3].done  # half a second is time taken too
    clock.advance(0.5)
    clock.run_until_idle()
    assert replies[3].value == ["z", 0.5] and not system.lookup("a").in_flight
    assert system.lookup("a").state.name == "RUNNING"


def test_the_runtimes_scheduler_runs_tasks_given_as_data(actors: Any) -> None:
    """The runtime's own scheduler (tasks as data): a task records its id when it runs, then runs
    its follow-up soon or after its delay, or runs again `repeat` more times; nothing else."""
    s = actors.scheduler()
    s.call_soon(Task(1, then=("later", 2.0, 7)))
    s.call_soon(Task(2, repeat=2))
    s.call_soon(Task(3, then=("soon", 3.0, 4)))  # "soon": the delay given is not waited for
    assert len(s.ready) == 3
    assert s.run_until_idle() == 6
    assert s.ran == [1, 2, 3, 2, 4, 2]
    assert s.next_timer() == 2.0
    s.advance(1.5)
    assert not s.ready and s.now() == 1.5
    s.advance(0.5)
    assert len(s.ready) == 1
    assert s.step() is True and s.step() is False
    assert s.ran == [1, 2, 3, 2, 4, 2, 7]
    assert s.next_timer() is None


def test_the_runtimes_scheduler_runs_a_later_task_once_at_its_delay(actors: Any) -> None:
    """A task given with call_later runs at its delay, with its own follow-up, and a plain task with
    no follow-up and no repeat runs once."""
    s = actors.scheduler()
    s.call_later(1.0, Task(5, then=("later", 0.5, 6)))
    s.call_later(1.0, Task(8))
    s.advance(1.0)
    assert s.run_until_idle() == 2
    assert s.ran == [5, 8] and s.next_timer() == 1.5
    s.advance(0.5)
    assert s.run_until_idle() == 1 and s.ran == [5, 8, 6]
    assert s.run_until_idle() == 0


def _env(sender: str, seq: int, priority: Priority) -> Envelope:
    return Envelope(sender, seq, int(priority), f"{sender}{seq}")


def test_queued_lists_the_messages_in_the_order_they_are_delivered(actors: Any) -> None:
    """Mailbox.queued: urgent ones first (higher first, older first among equals), then Normal in
    arrival order, then Low and Background in arrival order; exactly the order pop() delivers."""
    mailbox = actors.mailbox(16, "reject")
    sent = [
        _env("a", 1, Priority.LOW),
        _env("a", 2, Priority.NORMAL),
        _env("b", 1, Priority.HIGH),
        _env("a", 3, Priority.EMERGENCY),
        _env("b", 2, Priority.NORMAL),
        _env("c", 1, Priority.HIGH),
        _env("c", 2, Priority.BACKGROUND),
        _env("d", 1, Priority.CRITICAL),
    ]
    for envelope in sent:
        assert mailbox.send(envelope) == "accepted"
    queued = [e.payload for e in mailbox.queued]
    assert queued == ["a3", "d1", "b1", "c1", "a2", "b2", "a1", "c2"]
    assert [e.payload for e in mailbox.queued] == queued, "reading queued changes nothing"
    assert [mailbox.pop().payload for _ in sent] == queued


def test_the_asyncio_scheduler_runs_on_the_loop_it_is_given(actors: Any) -> None:
    """actors.asyncio_scheduler(loop): the production scheduler on the caller's own loop (its clock,
    its tasks), not on whatever loop asyncio would pick."""
    loop = asyncio.new_event_loop()
    try:
        scheduler = actors.asyncio_scheduler(loop)
        ran: list[str] = []
        scheduler.call_soon(lambda: ran.append("soon"))
        scheduler.call_later(0.0, lambda: ran.append("later"))
        loop.run_until_complete(asyncio.sleep(0.01))
        assert ran == ["soon", "later"]
        assert abs(scheduler.now() - loop.time()) < 1.0
    finally:
        loop.close()


def test_an_injected_panic_fails_the_message_in_flight_with_its_reason(actors: Any) -> None:
    """fail(name) while a slow handler is in flight: that message fails, its ask answered at once
    with the injected panic (a RuntimeError, "injected panic" unless another reason is given), and
    its timer never answers it again."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0), supervision=None)
    system.spawn("b", Role(reply="echo", takes_item=0))
    first = system.ask("a", [10.0], timeout=100.0)
    second = system.ask("b", [10.0], timeout=100.0)
    clock.run_until_idle()
    assert not first.done and len(system.lookup("a").in_flight) == 1
    system.fail("a")
    system.fail("b", "chosen reason")
    for reply, text in ((first, "injected panic"), (second, "chosen reason")):
        assert reply.done and reply.value is None
        assert type(reply.error).__name__ == "RuntimeError" and str(reply.error) == text, repr(reply.error)
    assert [e.payload.payload for e in system.lookup("a").failed] == [[10.0]]
    assert not system.lookup("a").in_flight


def test_a_stalled_handler_fails_its_message_at_the_timeout_naming_itself(actors: Any) -> None:
    """A handler that would take longer than the processing timeout fails at the timeout: its ask is
    answered with HandlerTimeout naming the actor and the timeout; one that takes exactly the
    timeout finishes."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0), processing_timeout=5.0)
    system.spawn("b", Role(reply="echo", takes_item=0), processing_timeout=5.0)
    stalled = system.ask("a", [7.0], timeout=100.0)
    exact = system.ask("b", [5.0], timeout=100.0)
    clock.run_until_idle()
    clock.advance(4.5)
    clock.run_until_idle()
    assert not stalled.done and not exact.done
    clock.advance(0.5)
    clock.run_until_idle()
    assert stalled.done and stalled.value is None
    assert type(stalled.error).__name__ == "HandlerTimeout", repr(stalled.error)
    assert str(stalled.error) == "a's handler took longer than 5.0s"
    assert system.lookup("a").state.name != "RUNNING"
    assert exact.done and exact.error is None and exact.value == [5.0]


def test_a_cancelled_timer_of_the_runtimes_scheduler_never_runs_nor_counts(actors: Any) -> None:
    """The runtime's scheduler: a timer cancelled before it falls due never runs, is not pending,
    and the next timer is the first one not cancelled."""
    s = actors.scheduler()
    first = s.call_later(1.0, Task(1))
    s.call_later(2.0, Task(2))
    s.call_later(2.0, Task(3))
    assert s.pending() == 3
    first.cancel()
    assert s.pending() == 2
    assert s.next_timer() == 2.0
    s.advance(2.0)
    assert s.run_until_idle() == 2
    assert s.ran == [2, 3] and s.pending() == 0


def test_a_message_routed_or_told_without_a_size_takes_no_bytes(actors: Any) -> None:
    """tell, ask and route default to a size of 0 bytes: under a memory limit they hold nothing; an
    ask of a given size holds it, as a tell does, up to the limit and not past it."""
    system = actors.system(CancellingScheduler())  # never stepped: everything stays queued
    system.spawn("a", Role(), max_bytes=10)
    assert system.route(["a"], "routed") == "accepted"
    assert system.tell("a", "told") == "accepted"
    system.ask("a", "asked", timeout=1.0)
    assert system.lookup("a").mailbox.held_bytes == 0
    system.ask("a", "sized", timeout=1.0, size=3)
    assert system.lookup("a").mailbox.held_bytes == 3
    assert system.tell("a", "rest", size=7) == "accepted"
    assert system.lookup("a").mailbox.held_bytes == 10
    assert system.tell("a", "over", size=1) == "rejected"


def test_a_forward_the_next_hop_refuses_is_a_dead_letter_naming_hop_message_verdict_and_forwarder(
    actors: Any,
) -> None:
    """Along a route, a forward the next hop rejects (full), drops (drop-lowest, nothing lower to
    evict) or cannot find is a dead letter (to, payload, verdict, by); an accepted forward is none,
    and it carries its size and comes from the hop that forwarded it."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role())
    system.spawn("full", Role(), capacity=1)
    system.spawn("dl", Role(), capacity=1, policy="drop-lowest")
    system.spawn("open", Role(), max_bytes=100)
    assert system.tell("full", "filler") == "accepted"
    assert system.tell("dl", "filler") == "accepted"
    for hops, message in ((["a", "full"], "m1"), (["a", "dl"], "m2"), (["a", "ghost"], "m3")):
        assert system.route(hops, message) == "accepted"
    assert system.route(["a", "open", "ghost"], "m4", size=7) == "accepted"
    for _ in range(4):  # only a's tasks: the hops it forwards to hold what they were given
        assert clock.step(len(clock.ready) - 1)
    assert [(d.to, d.payload, d.verdict, d.by) for d in system.dead_letters] == [
        ("full", "m1", "rejected", "a"),
        ("dl", "m2", "dropped", "a"),
        ("ghost", "m3", "not found", "a"),
    ]
    assert system.lookup("open").mailbox.held_bytes == 7
    clock.run_until_idle()
    assert [(r.sender, r.message) for r in system.received("open") if r.hook == "handle"] == [("a", "m4")]
    assert [(d.to, d.payload, d.verdict, d.by) for d in system.dead_letters][3:] == [
        ("ghost", "m4", "not found", "open")
    ]


def test_an_escalation_stops_the_subtree_answering_its_asks_and_recording_why(actors: Any) -> None:
    """An actor whose strategy gives up escalates: its children, down with it at its failure (a
    child's message in flight failed then, its ask answered with ActorStopped "<child> went down
    with <parent>"), stay down: stopped, as the child's history says."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("p", Role(), supervision=SupervisionPolicy(strategy=Never()))
    system.spawn("c", Role(reply="echo", takes_item=0), parent="p")
    reply = system.ask("c", [10.0], timeout=100.0)
    clock.run_until_idle()
    clock.advance(1.0)
    system.fail("p")
    assert reply.done and reply.value is None
    assert type(reply.error).__name__ == "ActorStopped" and str(reply.error) == "c went down with p"
    child = system.lookup("c")
    assert child.state.name == "STOPPED" and not child.in_flight
    assert child.history[-2:] == [(1.0, "down with p"), (1.0, "stopped with p")]
    assert system.lookup("p").history[-1] == (1.0, "escalated: the strategy gives up")


def test_shutdown_answers_every_ask_in_flight_or_queued_and_keeps_the_queued_as_unhandled(
    actors: Any,
) -> None:
    """Shutdown leaves nothing pending: the message in flight and every queued ask are answered with
    ActorStopped "<name> stopped"; what was still queued is kept as unhandled, in delivery order."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0))
    in_flight = system.ask("a", [10.0], timeout=100.0)
    clock.run_until_idle()
    queued = system.ask("a", ["q", 0], timeout=100.0)
    system.tell("a", "told")
    assert system.shutdown() == ["a"]
    for reply in (in_flight, queued):
        assert reply.done and reply.value is None
        assert type(reply.error).__name__ == "ActorStopped" and str(reply.error) == "a stopped"
    unhandled = system.lookup("a").unhandled
    assert len(unhandled) == 2 and unhandled[1].payload == "told"
    assert unhandled[0].payload.payload == ["q", 0]


def test_on_a_scheduler_whose_timers_cannot_be_cancelled_shutdown_still_stops_everything(actors: Any) -> None:
    """A scheduler may hand back no timer handle (interface.Scheduler: None is never cancelled): an
    actor with a slow handler's timer and a restart timer pending still stops, answering its ask."""
    clock = SuiteScheduler()  # call_later returns None
    system = actors.system(clock)
    system.spawn("slow", Role(reply="echo", takes_item=0))
    system.spawn("down", Role(), supervision=SupervisionPolicy())
    reply = system.ask("slow", [10.0], timeout=100.0)
    clock.run_until_idle()
    system.fail("down")  # its restart waits on a timer (exponential backoff)
    assert system.lookup("down").state.name == "RECOVERING"
    assert sorted(system.shutdown()) == ["down", "slow"]
    assert type(reply.error).__name__ == "ActorStopped" and str(reply.error) == "slow stopped"
    # The timers could not be cancelled: they fire, and find nothing to finish and nothing to restart.
    clock.advance(100.0)
    clock.run_until_idle()
    assert [system.lookup(n).state.name for n in ("down", "slow")] == ["STOPPED", "STOPPED"]
    assert [r.hook for r in system.received("down")] == ["started"]
    assert reply.error is not None and str(reply.error) == "slow stopped"


def test_run_until_idle_stops_at_the_limit_it_is_given_and_says_how_many_ran(actors: Any) -> None:
    """run_until_idle(limit): a task that runs again and again runs exactly `limit` times, the next
    run left ready; one that needs exactly `limit` runs finishes; the count returned is what ran."""
    s = actors.scheduler()
    s.call_soon(Task(1, repeat=10))  # 11 runs in all
    assert s.run_until_idle(5) == 5 and len(s.ready) == 1
    assert s.run_until_idle(6) == 6 and not s.ready
    s.call_soon(Task(2, repeat=4))  # 5 runs
    assert s.run_until_idle(5) == 5 and not s.ready
    assert s.ran == [1] * 11 + [2] * 5
    assert s.run_until_idle(5) == 0


def test_a_step_of_the_runtimes_scheduler_runs_the_oldest_ready_task_unless_told_which(actors: Any) -> None:
    """step() runs the oldest ready task; step(i) the i-th (modulo how many are ready)."""
    s = actors.scheduler()
    for ident in (10, 11, 12):
        s.call_soon(Task(ident))
    assert s.step() and s.ran == [10]
    assert s.step(3) and s.ran == [10, 12]  # 3 mod the 2 ready: the second
    assert s.step() and s.ran == [10, 12, 11]
    assert not s.step()


def test_an_actor_keeps_only_its_pending_timers_even_when_a_stale_one_fires(actors: Any) -> None:
    """An actor's timers are kept until they fire, so that failing or stopping cancels them: one that
    fired is forgotten; and on a scheduler that cannot cancel, a timer the actor dropped (a slow
    handler's, when the actor failed) still fires, and takes nothing of the actor's current timers
    with it (its restart timer stays, and the restart comes)."""
    clock = SuiteScheduler()  # call_later returns None: nothing is ever cancelled
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0), supervision=SupervisionPolicy(strategy=Delayed(50.0)))
    done = system.ask("a", [1.0], timeout=100.0)
    clock.run_until_idle()
    assert len(system.lookup("a").timers) == 1
    clock.advance(1.0)
    clock.run_until_idle()
    assert done.value == [1.0] and system.lookup("a").timers == {}
    dropped = system.ask("a", [10.0], timeout=100.0)
    clock.run_until_idle()
    system.fail("a")  # at 1.0: the handler's timer (due at 11.0) is dropped, a restart timer (51.0) kept
    assert type(dropped.error).__name__ == "RuntimeError"
    assert len(system.lookup("a").timers) == 1
    clock.advance(10.0)
    clock.run_until_idle()  # the dropped timer fires
    assert len(system.lookup("a").timers) == 1 and system.lookup("a").state.name == "RECOVERING"
    clock.advance(40.0)
    clock.run_until_idle()
    assert system.lookup("a").state.name == "RUNNING" and system.lookup("a").timers == {}
    assert [r.hook for r in system.received("a")] == ["started", "handle", "handle", "started"]


def test_a_restart_brings_back_the_children_it_took_down_and_no_other(actors: Any) -> None:
    """A parent's restart starts again the children that went down with it; a child spawned while
    the parent was down, that then failed on its own, waits for its own restart."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("p", Role(), supervision=SupervisionPolicy(strategy=Delayed(5.0)))
    system.spawn("old", Role(), parent="p")
    system.fail("p")
    assert system.lookup("old").state.name == "RECOVERING"
    system.spawn("new", Role(), parent="p", supervision=SupervisionPolicy(strategy=Delayed(50.0)))
    system.fail("new")
    clock.advance(5.0)
    clock.run_until_idle()
    assert system.lookup("p").state.name == "RUNNING"
    assert (system.lookup("old").state.name, system.lookup("old").cascades) == ("RUNNING", 1)
    assert (system.lookup("new").state.name, system.lookup("new").cascades) == ("RECOVERING", 0)
    clock.advance(50.0)
    clock.run_until_idle()
    assert (system.lookup("new").state.name, system.lookup("new").restarts) == ("RUNNING", 1)


def test_a_task_scheduled_before_its_actor_failed_handles_nothing_until_the_restart(actors: Any) -> None:
    """The task that would have handled a message runs after its actor failed: it handles nothing;
    the message waits in the mailbox and is handled, by the restarted actor, after the restart."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(), supervision=SupervisionPolicy(strategy=Delayed(5.0)))
    system.tell("a", "m")
    system.fail("a")
    clock.run_until_idle()
    assert [r.hook for r in system.received("a")] == ["started"]
    assert len(system.lookup("a").mailbox) == 1
    clock.advance(5.0)
    clock.run_until_idle()
    assert [(r.hook, r.message, r.state, r.at) for r in system.received("a")][1:] == [
        ("started", None, "STARTING", 5.0),
        ("handle", "m", "RUNNING", 5.0),
    ]


def test_the_default_processing_timeout_is_30_seconds(actors: Any) -> None:
    """An actor spawned without a processing timeout has MailboxConfig::default's 30 s: a handler of
    30.5 s stalls and fails at 30 s, one of exactly 30 s finishes."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("a", Role(reply="echo", takes_item=0))
    system.spawn("b", Role(reply="echo", takes_item=0))
    stalled, exact = system.ask("a", [30.5], timeout=100.0), system.ask("b", [30.0], timeout=100.0)
    clock.run_until_idle()
    clock.advance(30.0)
    clock.run_until_idle()
    assert str(stalled.error) == "a's handler took longer than 30.0s"
    assert exact.value == [30.0] and exact.error is None


def test_an_escalation_fails_a_running_parent_with_the_childs_reason_and_leaves_a_down_one_be(
    actors: Any,
) -> None:
    """A child whose strategy gives up escalates to its parent: a running parent fails with
    Escalated("<child> escalated: <reason>"), which answers the parent's own message in flight; a
    parent that is down already (waiting for its restart) records the escalation and is not failed
    again."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("p", Role(reply="echo", takes_item=0), supervision=SupervisionPolicy(strategy=Delayed(5.0)))
    system.spawn("c", Role(), parent="p", supervision=SupervisionPolicy(strategy=Never()))
    busy = system.ask("p", [10.0], timeout=100.0)
    clock.run_until_idle()
    system.fail("c")
    assert (
        type(busy.error).__name__ == "Escalated" and str(busy.error) == "c escalated: the strategy gives up"
    )
    assert system.lookup("p").escalations == ["c"]
    assert [event for _, event in system.lookup("p").history] == ["running", "failed", "restart in 5.0"]
    system.spawn("late", Role(), parent="p", supervision=SupervisionPolicy(strategy=Never()))
    system.fail("late")  # p is down, waiting for its restart
    assert system.lookup("p").escalations == ["c", "late"]
    assert [event for _, event in system.lookup("p").history] == ["running", "failed", "restart in 5.0"]
    assert system.lookup("p").state.name == "RECOVERING"


def test_a_message_that_does_not_say_its_size_takes_no_bytes(actors: Any) -> None:
    """A mailbox counts the bytes a message says it takes; an Envelope that says nothing takes none."""
    mailbox = actors.mailbox(4, "reject")
    assert mailbox.send(_env("a", 1, Priority.NORMAL)) == "accepted"
    assert mailbox.held_bytes == 0
    assert mailbox.pop() is not None and mailbox.held_bytes == 0


def test_progressive_restart_delays_grow_by_the_multiplier_until_the_attempts_run_out(actors: Any) -> None:
    """Progressive: initial * multiplier ** attempt for each attempt below max_attempts, then None."""
    strategy = Progressive(initial=0.5, max_attempts=4, multiplier=3.0)
    assert [actors.restart_delay(strategy, a) for a in range(5)] == [0.5, 1.5, 4.5, 13.5, None]


def test_a_restart_strategy_of_no_known_kind_is_a_type_error_naming_it(actors: Any) -> None:
    """restart_delay of something that is no restart strategy raises TypeError naming its kind."""

    class Sometimes:
        pass

    with pytest.raises(TypeError, match=r"^not a restart strategy: Sometimes$"):
        actors.restart_delay(Sometimes(), 0)


def test_a_message_over_the_memory_limit_is_refused_and_recorded_as_dropped(actors: Any) -> None:
    """A message that would take a mailbox past its memory limit is refused ("rejected") and kept in
    the mailbox's record of what it dropped; one that exactly fills the limit is accepted."""
    system = actors.system(CancellingScheduler())
    system.spawn("a", Role(), max_bytes=5)
    assert system.tell("a", "big", size=6) == "rejected"
    assert system.tell("a", "fits", size=5) == "accepted"
    assert [e.payload for e in system.lookup("a").mailbox.dropped] == ["big"]
    assert system.lookup("a").mailbox.held_bytes == 5


@pytest.mark.parametrize(("spec", "second"), [("alys", "accepted"), ("alys-fixed", "blocked")])
def test_the_targets_variant_reaches_the_mailboxes_its_system_spawns(spec: str, second: str) -> None:
    """An actor's mailbox carries its system's variant: on target alys the quirk
    actors-capacity-unenforced lets a full blocking mailbox enqueue all the same; on alys-fixed the
    sender waits."""
    system = targets.load(spec).actors.system(CancellingScheduler())
    system.spawn("a", Role(), capacity=1, policy="block")
    assert [system.tell("a", "first"), system.tell("a", "second")] == ["accepted", second]


def test_a_blocked_senders_bytes_count_while_it_waits_and_an_evicted_messages_bytes_are_freed(
    actors: Any,
) -> None:
    """Under a memory limit: a sender blocked on a full mailbox holds its message's bytes while it
    waits (so the limit bounds the waiting too), released when it is delivered; a message evicted
    by drop-lowest frees its bytes for the one that takes its place."""
    clock = CancellingScheduler()
    system = actors.system(clock)
    system.spawn("b", Role(), capacity=1, policy="block", max_bytes=10)
    assert [system.tell("b", "x", size=3), system.tell("b", "y", size=4)] == ["accepted", "blocked"]
    assert system.lookup("b").mailbox.held_bytes == 7
    assert system.tell("b", "z", size=4) == "rejected"  # 11 bytes would be past the limit
    system.spawn("d", Role(), capacity=1, policy="drop-lowest", max_bytes=10)
    assert system.tell("d", "low", size=3, priority=Priority.LOW) == "accepted"
    assert system.tell("d", "high", size=4, priority=Priority.HIGH) == "accepted"
    assert [e.payload for e in system.lookup("d").mailbox.dropped] == ["low"]
    assert system.lookup("d").mailbox.held_bytes == 4
    clock.run_until_idle()
    assert [r.message for r in system.received("b") if r.hook == "handle"] == ["x", "y"]
    assert system.lookup("b").mailbox.held_bytes == 0 and system.lookup("d").mailbox.held_bytes == 0


def test_run_until_idle_stops_a_runaway_task_at_exactly_the_default_limit(actors: Any) -> None:
    """The default guard: a task that would run 1,000,001 times runs 1,000,000 times under
    run_until_idle() with no limit given, and its next run is still ready (one case of the property
    test_run_until_idle_stops_a_runaway_task_at_its_default_limit, cheap enough to map to mutation)."""
    s = actors.scheduler()
    s.call_soon(Task(1, repeat=1_000_000))
    assert s.run_until_idle() == 1_000_000
    assert len(s.ready) == 1
