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
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis.database import ExampleDatabase

CI_EXAMPLES = 100
NAMES = ("dev", "ci", "nightly", "debug")
DETERMINISTIC = frozenset({"ci"})
RUNS_SLOW = frozenset({"nightly"})


class UnknownProfile(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown Hypothesis profile {name!r}; valid profiles: {', '.join(NAMES)}")


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
    settings.register_profile("dev", base, max_examples=50, **common)  # type: ignore[arg-type]
    settings.register_profile(
        "ci",
        base,
        max_examples=CI_EXAMPLES,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow],
        **common,  # type: ignore[arg-type]
    )
    settings.register_profile(
        "nightly",
        base,
        max_examples=10 * CI_EXAMPLES,
        stateful_step_count=200,
        suppress_health_check=[HealthCheck.too_slow],
        **common,  # type: ignore[arg-type]
    )
    settings.register_profile(
        "debug", base, max_examples=10, verbosity=Verbosity.verbose, **common  # type: ignore[arg-type]
    )


def load(name: str, database: ExampleDatabase | None) -> settings:
    register(database)
    settings.load_profile(name)
    return settings.get_profile(name)
