"""Hypothesis profiles for alys-pbt, registered in one place.

* dev: the default on a laptop; fast feedback.
* ci: deterministic, prints reproduction blobs, keeps the example database, no deadline.
* nightly: random, 10x the examples of ci, longer state machines; runs `slow` tests.
* debug: verbose, few examples.

Two traps in Hypothesis this module avoids. (1) Setting CI makes Hypothesis load its built-in `ci`
profile (which has no database), and a profile registered without a parent inherits from whatever
is loaded; every profile here names Hypothesis's `default` as its parent. (2) In Hypothesis,
`derandomize=True` implies `database=None`, and so does a forced seed; `ci` therefore stays
`derandomize=False` and the plugin gives each test a fixed seed derived from its node id
(`DETERMINISTIC`), which keeps the database, so a re-run replays a stored failure first.

The example budget (`--examples N`, env ALYS_PBT_EXAMPLES) is applied here, when the profile is
loaded: the profile's `max_examples` becomes N, and its state machines' `stateful_step_count` is
scaled by the square root of the same ratio (the work of a machine is examples x steps; nightly's
10x examples with 4x steps is the precedent), so a 1,000- or 10,000-example run is one option away.
A property that sets its own smaller budget (`@settings(max_examples=3)`) is scaled by the ratio
too, by the plugin (`scaled_examples`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis.database import ExampleDatabase

CI_EXAMPLES = 100
BUDGETS = {"dev": 50, "ci": CI_EXAMPLES, "nightly": 10 * CI_EXAMPLES, "debug": 10}  # max_examples
NAMES = ("dev", "ci", "nightly", "debug")
DETERMINISTIC = frozenset({"ci"})
RUNS_SLOW = frozenset({"nightly"})


class UnknownProfile(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown Hypothesis profile {name!r}; valid profiles: {', '.join(NAMES)}")


class BadBudget(ValueError):
    def __init__(self, value: str) -> None:
        super().__init__(f"--examples / ALYS_PBT_EXAMPLES must be a positive integer, got {value!r}")


def budget(value: str | int | None) -> int | None:
    """The example budget an option or environment value names (None: the profile's own)."""
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadBudget(str(value)) from None
    if n < 1:
        raise BadBudget(str(value))
    return n


def scaled_examples(own: int, ratio: float) -> int:
    """A property's own max_examples under a budget `ratio` times the profile's (at least 1)."""
    return max(1, round(own * ratio))


def scaled_steps(steps: int, ratio: float) -> int:
    """A state machine's step count under a budget `ratio` times the profile's (at least 1)."""
    return max(1, round(steps * math.sqrt(ratio)))


def choose(env: Mapping[str, str] = os.environ, requested: str | None = None) -> str:
    """The profile to load: `requested`, else HYPOTHESIS_PROFILE, else `ci` under CI, else `dev`."""
    name = requested or env.get("HYPOTHESIS_PROFILE") or ("ci" if env.get("CI") else "dev")
    if name not in NAMES:
        raise UnknownProfile(name)
    return name


def register(database: ExampleDatabase | None) -> None:
    """Register every profile over `database` (parent: Hypothesis's defaults, never its `ci`)."""
    base = settings.get_profile("default")
    common = {"database": database, "deadline": None, "print_blob": True}
    settings.register_profile("dev", base, max_examples=BUDGETS["dev"], **common)
    settings.register_profile(
        "ci",
        base,
        max_examples=BUDGETS["ci"],
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow],
        **common,
    )
    settings.register_profile(
        "nightly",
        base,
        max_examples=BUDGETS["nightly"],
        stateful_step_count=200,
        suppress_health_check=[HealthCheck.too_slow],
        **common,
    )
    settings.register_profile(
        "debug",
        base,
        max_examples=BUDGETS["debug"],
        verbosity=Verbosity.verbose,
        **common,
    )


def load(name: str, database: ExampleDatabase | None, examples: int | None = None) -> settings:
    """Register the profiles, and load `name`, with its budget scaled to `examples` if given."""
    register(database)
    if examples is not None:
        base = settings.get_profile(name)
        steps = scaled_steps(base.stateful_step_count, ratio(name, examples))
        settings.register_profile(name, base, max_examples=examples, stateful_step_count=steps)
    settings.load_profile(name)
    return settings.get_profile(name)


def ratio(name: str, examples: int | None) -> float:
    """How much the budget `examples` scales profile `name`'s own (1.0: no budget given)."""
    return 1.0 if examples is None else examples / BUDGETS[name]
