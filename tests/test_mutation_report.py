"""Mutation testing as one of the suite's own checks (issue 14): the report in docs/mutation.md is
complete (every module of alys/ measured or excused), consistent (every surviving mutant shown
equivalent or left open with the property that should answer it, by name and diff) and rendered
from the recorded results, never written by hand; and the driver really runs mutmut."""

from __future__ import annotations

from pathlib import Path

import pytest

from alys_pbt import mutation

# The modules that reached the aim of 95%: a regression below it fails. (supervision.py stands at
# 93.6% with three open survivors, system.py is being measured: docs/mutation.md.)
AT_95_PERCENT = ("alys/actors/mailbox.py", "alys/actors/scheduler.py")


def test_every_module_is_measured_or_excused_and_every_survivor_is_accounted_for() -> None:
    found = mutation.problems(
        mutation.load_results(), mutation.load_accounts(), mutation.load_not_run(), mutation.modules()
    )
    assert not found, "\n".join(found)


def test_the_committed_report_is_the_one_the_results_render() -> None:
    expected = mutation.render(mutation.load_results(), mutation.load_accounts(), mutation.load_not_run())
    assert mutation.REPORT.read_text() == expected, (
        "docs/mutation.md is stale: run `python -m alys_pbt.mutation report`"
    )


@pytest.mark.parametrize("module", AT_95_PERCENT)
def test_the_actor_runtime_scores_at_least_95_percent(module: str) -> None:
    results = mutation.load_results()
    if module not in results:  # the completeness test requires the reason in docs/mutation-open.toml
        pytest.skip(f"{module} not measured yet: {mutation.load_not_run()[module]}")
    r = mutation.row(module, results[module], mutation.load_accounts())
    assert r.score is not None and r.score >= 0.95, f"{module}: {r}"


def _record(statuses: dict[str, str], survivors: dict[str, list[str]]) -> dict[str, object]:
    return {"mutants": statuses, "survivors": survivors, "killed_on": {}, "commit": "x", "dirty": False}


def test_the_score_excludes_equivalent_mutants_and_counts_untested_ones_as_survivors() -> None:
    statuses = {
        "m.f__mutmut_1": "killed",
        "m.f__mutmut_2": "timeout",
        "m.f__mutmut_3": "survived",
        "m.f__mutmut_4": "no tests",
        "m.f__mutmut_5": "survived",
        "m.f__mutmut_6": "skipped",
    }
    diffs = {
        name: [f"-    x = {i}", f"+    x = {i + 1}"]
        for i, name in enumerate(statuses)
        if statuses[name] in mutation.SURVIVED
    }
    accounts = [
        mutation.Account("equivalent", "alys/m.py", "m.f__mutmut_5", tuple(diffs["m.f__mutmut_5"]), "same")
    ]
    r = mutation.row("alys/m.py", _record(statuses, diffs), accounts)
    assert (r.total, r.killed, r.survived, r.equivalent, r.skipped) == (6, 2, 3, 1, 1)
    assert r.score == 2 / 4  # killed over mutants less the equivalent and the skipped one


def test_the_check_names_every_gap_it_is_meant_to_find() -> None:
    """It can fail: an unexcused module, an unaccounted survivor, an account whose diff no longer
    matches, an account of no survivor, an account without its reason."""
    survivors = {"m.f__mutmut_1": ["-    a", "+    b"], "m.f__mutmut_2": ["-    c", "+    d"]}
    results = {
        "alys/m.py": _record({n: "survived" for n in survivors} | {"m.f__mutmut_3": "killed"}, survivors)
    }
    accounts = [
        mutation.Account("open", "alys/m.py", "m.f__mutmut_2", ("-    c", "+    e"), "test_x"),
        mutation.Account("equivalent", "alys/m.py", "m.f__mutmut_3", ("-    e", "+    f"), ""),
    ]
    found = "\n".join(
        mutation.problems(results, accounts, {"alys/n.py": "  "}, ["alys/m.py", "alys/n.py", "alys/o.py"])
    )
    for gap in (
        "alys/n.py: neither measured nor listed as not run",
        "alys/o.py: neither measured nor listed as not run",
        "m.f__mutmut_1 (alys/m.py) survived and is neither shown equivalent nor open",
        "m.f__mutmut_2: the account's diff is not the survivor's",
        "m.f__mutmut_3: equivalent without why it is equivalent",
        "m.f__mutmut_3: accounted for (equivalent) but not a recorded survivor",
    ):
        assert gap in found, f"{gap!r} not reported in:\n{found}"


def test_every_module_has_tests_that_answer_it() -> None:
    for module in mutation.modules():
        if module in mutation.load_not_run():
            continue
        for test in mutation.tests_for(module):
            assert (mutation.ROOT / test.partition("::")[0]).is_file(), f"{module}: {test} does not exist"


def test_a_real_mutmut_run_kills_a_known_bad_mutant_and_spares_a_no_op(tmp_path: Path) -> None:
    """mutmut on alys/actors/supervision.py against one fast property, through the driver: the
    Immediate strategy's delay of 0.0 made 1.0 is killed on alys-fixed (pass 1); a mutant inside
    the seeded mutant `actors-restart-count-from-1`'s branch (off in every shipped target)
    survives both passes; functions that property never calls count as untested survivors."""
    module = "alys/actors/supervision.py"
    record = mutation.run_module(
        module, tests=["properties/test_actors.py::test_restart_delays_match_the_reference"], work=tmp_path
    )
    scratch = next(tmp_path.iterdir())
    every = mutation.diffs(scratch, module, record["mutants"])
    by_diff = {tuple(d): name for name, d in every.items()}
    bad = by_diff[("-        return 0.0", "+        return 1.0")]
    assert record["mutants"][bad] == "killed" and record["killed_on"][bad] == "alys-fixed"
    no_op = by_diff[("-        attempt += 1", "+        attempt = 1")]
    assert record["mutants"][no_op] == "survived" and no_op in record["survivors"]
    assert record["passes"] == ["alys-fixed", "alys"]
    untested = [n for n in record["mutants"] if "Supervisorǁon_failure" in n]
    assert untested and all(record["mutants"][n] == "no tests" for n in untested)
    assert record["source_sha256"] == mutation.sha256(mutation.ROOT / module)


@pytest.mark.slow
def test_a_full_run_of_the_scheduler_reproduces_its_recorded_result(tmp_path: Path) -> None:
    """The recorded figures are what the command gives: the scheduler (about 10 minutes at one
    child) mutated again kills and spares the same mutants (a timeout counts as a kill)."""
    module = "alys/actors/scheduler.py"
    recorded = mutation.load_results()[module]
    if recorded["source_sha256"] != mutation.sha256(mutation.ROOT / module):
        pytest.skip(f"{module} changed since it was measured: run `python -m alys_pbt.mutation run {module}`")
    record = mutation.run_module(module, work=tmp_path)

    def killed(r: dict[str, object]) -> dict[str, bool]:
        return {name: status in mutation.KILLED for name, status in r["mutants"].items()}  # type: ignore[attr-defined]

    assert killed(record) == killed(recorded)
