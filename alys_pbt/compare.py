"""Two runs' verdicts side by side: `python -m alys_pbt.compare IN.xml OVER.xml [--under properties/]`.

CI runs the property suite twice (issue 12, item 8): in-process on target `alys`, and over the
target protocol on `exec:'python -m alys.serve alys'`. Served, the port must give exactly the
in-process verdicts: every test passes, skips, fails or is an expected failure in both runs alike.
This reads both runs' JUnit XML (pytest's `--junitxml`) and prints every test whose outcome differs,
or that one run has and the other lacks; it exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from alys_pbt import deviations

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed")


def outcome(case: ET.Element) -> str:
    """What pytest's JUnit XML says of one testcase: passed, failed, error, skipped or xfailed."""
    for child in case:
        if child.tag == "failure":
            return "failed"
        if child.tag == "error":
            return "error"
        if child.tag == "skipped":
            return "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def verdicts(path: Path, under: str = "") -> dict[str, str]:
    """Test id (file::name, as pytest names it) -> outcome, for the tests whose file is under `under`."""
    found: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        parts = classname.split(".")
        # pytest's classname is the module's dotted path, then any class: find where the file ends
        for cut in range(len(parts), 0, -1):
            file = "/".join(parts[:cut]) + ".py"
            if Path(file).exists() or cut == 1:
                break
        test_id = "::".join([file, *parts[cut:], name])
        if test_id.startswith(under) and found.get(test_id, "passed") == "passed":
            found[test_id] = outcome(case)  # reported twice (call, then teardown): the failure counts
    return found


def by_chance(test_id: str, quirks: Iterable[str]) -> bool:
    """A quirk breaks this property only by chance (`Deviation.may_break`): it runs as a non-strict
    expected failure, passed or xfailed as the run's examples fall, so either verdict agrees."""
    return bool(deviations.quirks_that_may_break(test_id, quirks))


def differences(first: dict[str, str], second: dict[str, str], *, quirks: Iterable[str] = ()) -> list[str]:
    """One line per test whose verdict differs between the runs, or that only one run has. Under
    `quirks` (the target's), a property they break only by chance may pass in one run and xfail in
    the other."""
    quirks = tuple(quirks)
    lines = []
    for test_id in sorted(set(first) | set(second)):
        a, b = first.get(test_id, "absent"), second.get(test_id, "absent")
        if {a, b} == {"passed", "xfailed"} and by_chance(test_id, quirks):
            continue
        if a != b:
            lines.append(f"{test_id}: {a} in the first run, {b} in the second")
    return lines


def _quirks(variant: str) -> tuple[str, ...]:
    if variant == "alys":
        return tuple(deviations.QUIRK_IDS)
    return tuple(i for i in variant.removeprefix("alys-fixed").split("+") if i)


def summary(found: dict[str, str]) -> str:
    counts = {o: sum(v == o for v in found.values()) for o in OUTCOMES}
    return ", ".join(f"{n} {o}" for o, n in counts.items() if n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.compare", description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="JUnit XML of the first run (in-process)")
    parser.add_argument("second", type=Path, help="JUnit XML of the second run (over the protocol)")
    parser.add_argument("--under", default="", help="only tests whose file starts with this (properties/)")
    parser.add_argument(
        "--target",
        default="alys",
        help="the variant both runs drove (alys, alys-fixed, alys-fixed+ID...): a property its quirks "
        "break only by chance may pass in one run and xfail in the other (default alys)",
    )
    args = parser.parse_args(argv)
    first, second = verdicts(args.first, args.under), verdicts(args.second, args.under)
    print(f"first run: {summary(first)}")
    print(f"second run: {summary(second)}")
    if not first:
        print(f"no tests under {args.under!r} in {args.first}", file=sys.stderr)
        return 1
    lines = differences(first, second, quirks=_quirks(args.target))
    for line in lines:
        print(line)
    print(f"{len(lines)} tests differ" if lines else f"the same verdicts for all {len(first)} tests")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
