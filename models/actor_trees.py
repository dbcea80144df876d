"""Reference for supervision trees of any depth (issue 16; the V2 design, alys-rules.md §6.3:
SupervisionPolicy with EscalateToParent, restart strategies, a supervisor per actor).

Plain: a dictionary of states, replayed failure by failure. The rules, as the V2 design has them
and the suite hardens them where the design is silent:
* an actor that fails takes its descendants down with it (they wait, their mail kept) [hardening:
  a child never runs under a parent that is down];
* its own supervisor decides: restart (the restart budget of the window checked first, then the
  strategy, as supervisor.rs does), or escalate;
* a restart brings the actor back and, with it, every descendant its failure took down;
* an escalation stops everything under the actor for good; with escalation "stop" the actor stops
  too; with "escalate" (EscalateToParent, the default) it stays failed and its parent fails in turn
  (if running), whose own policy decides, up to the top of the tree [hardening: one level at a time].
Restarts here are immediate (delay 0): a restart happens when the runtime next runs what is ready.
"""

from __future__ import annotations

from attrs import frozen

RUNNING, RECOVERING, FAILED, STOPPED = "RUNNING", "RECOVERING", "FAILED", "STOPPED"


@frozen
class TreePolicy:
    """One actor's supervision: "never", "immediate" or "progressive" (delay 0, gives up after
    `attempts` restarts), at most `max_restarts` restarts in the window, and its escalation."""

    strategy: str
    attempts: int
    max_restarts: int
    escalation: str  # "escalate" | "stop"


class TreeModel:
    """A supervision tree: each actor's state, restarts, and the escalations each parent received."""

    def __init__(self, parents: dict[str, str | None], policies: dict[str, TreePolicy]) -> None:
        self.parents, self.policies = parents, policies
        self.state = dict.fromkeys(parents, RUNNING)
        self.suspended_by: dict[str, str | None] = dict.fromkeys(parents)
        self.granted = dict.fromkeys(parents, 0)  # restarts the supervisor granted
        self.restarts = dict.fromkeys(parents, 0)  # restarts that happened
        self.cascades = dict.fromkeys(parents, 0)  # started again with an ancestor
        self.escalations: dict[str, list[str]] = {n: [] for n in parents}  # children that escalated
        self.top: list[str] = []  # escalated with no parent to take it
        self.pending: list[str] = []  # restarts due when the runtime next runs

    def descendants(self, name: str) -> list[str]:
        """Top-down, each level in the order the actors were made."""
        out, level = [], [name]
        while level:
            level = [n for n in self.parents if self.parents[n] in level]
            out += level
        return out

    def ancestors(self, name: str) -> list[str]:
        out, parent = [], self.parents[name]
        while parent is not None:
            out.append(parent)
            parent = self.parents[parent]
        return out

    def fail(self, name: str) -> None:
        """`name` fails (a panic, a stalled handler, an injected fault, or a child's escalation)."""
        if self.state[name] != RUNNING:
            return
        self.state[name] = FAILED
        for below in self.descendants(name):
            if self.state[below] in (RUNNING, RECOVERING):
                self.state[below], self.suspended_by[below] = RECOVERING, name
        policy = self.policies[name]
        over_budget = self.granted[name] >= policy.max_restarts
        gives_up = policy.strategy == "never" or (
            policy.strategy == "progressive" and self.granted[name] >= policy.attempts
        )
        if over_budget or gives_up:
            for below in self.descendants(name):
                if self.state[below] not in (FAILED, STOPPED):
                    self.state[below], self.suspended_by[below] = STOPPED, None
            if policy.escalation == "stop":
                self.state[name] = STOPPED
                return
            parent = self.parents[name]
            if parent is None:
                self.top.append(name)
                return
            self.escalations[parent].append(name)
            self.fail(parent)
            return
        self.granted[name] += 1
        self.state[name] = RECOVERING
        self.pending.append(name)

    def settle(self) -> None:
        """The runtime runs what is ready: the immediate restarts, each bringing its subtree back."""
        pending, self.pending = self.pending, []
        for name in pending:
            if self.state[name] != RECOVERING or self.suspended_by[name] is not None:
                continue
            self.state[name] = RUNNING
            self.restarts[name] += 1
            for below in self.descendants(name):
                if self.suspended_by[below] == name and self.state[below] == RECOVERING:
                    self.state[below], self.suspended_by[below] = RUNNING, None
                    self.cascades[below] += 1
