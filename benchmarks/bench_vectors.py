"""Conformance vectors, generate vs replay:
`python benchmarks/bench_vectors.py [--cases-per-rule 5] [--seed 0] [--target alys-fixed]`.

Generates the default vector set (every family, the default seed) into a temporary directory and
replays it on a target, in-process, timing each phase: generation (rules drawing their cases and
computing verdicts from the references, schema validation, writing), loading (manifest, hashes and
schemas checked) and replay. Prints the file count and size, and the per-family figures, side by
side. One run, one core; read the figures within a run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from attrs import evolve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alys_pbt import targets
from alys_pbt.vectors import generate, runner
from alys_pbt.vectors.discovery import discover, family_of
from alys_pbt.vectors.format import MANIFEST


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases-per-rule", type=int, default=generate.DEFAULT_CASES_PER_RULE)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--target", default="alys-fixed")
    args = parser.parse_args()
    families = discover()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vectors"
        start = time.perf_counter()  # first, cold: the headline figures
        files = generate.generate(out, seed=args.seed, cases_per_rule=args.cases_per_rule)
        generation = time.perf_counter() - start
        start = time.perf_counter()
        vectors = runner.load(out, families)
        loading = time.perf_counter() - start
        target = targets.load(args.target)
        start = time.perf_counter()
        report = runner.replay(vectors, target)
        replay = time.perf_counter() - start

    # Per family (warm caches; a fresh target each): where the time goes.
    gen_seconds: dict[str, float] = defaultdict(float)
    replay_seconds: dict[str, float] = {}
    results: dict[str, list[runner.RuleResult]] = {}
    for family in families:
        start = time.perf_counter()
        for rule in family.rules:
            generate.rule_files(rule, args.seed, args.cases_per_rule)
        gen_seconds[family.name] = time.perf_counter() - start
        part = [f for f in vectors.files if family_of(f.rule_id) == family.name]
        fresh = targets.load(args.target)
        start = time.perf_counter()
        results[family.name] = runner.replay(evolve(vectors, files=tuple(part)), fresh).results
        replay_seconds[family.name] = time.perf_counter() - start

    size = sum(len(d) for d in files.values())
    cases = sum(r.cases for r in report.results)
    print(f"default set: seed {args.seed}, {args.cases_per_rule} cases per rule, target {args.target}")
    print(
        f"files {len(files)} (manifest included), {size:,} bytes, {len(vectors.rules)} rules, {cases} cases"
    )
    print(f"{'phase':<44} {'seconds':>8}")
    print(f"{'generate (draw, verdicts, validate, write)':<44} {generation:>8.2f}")
    print(f"{'load (manifest, hashes, schemas)':<44} {loading:>8.2f}")
    print(f"{'replay on ' + args.target:<44} {replay:>8.2f}")
    print(
        f"replay: {report.passed} passed, {len(report.failures)} failed, "
        f"{len(report.known)} known deviation, "
        f"{sum(r.skipped for r in report.results)} skipped"
    )
    print()
    sizes: dict[str, int] = defaultdict(int)
    for path, data in files.items():
        sizes[path.split("/", 1)[0]] += len(data)
    print(
        f"{'family':<12} {'rules':>5} {'cases':>6} {'skipped':>7} {'bytes':>11} "
        f"{'generate s':>11} {'replay s':>9}"
    )
    for family in families:
        name, rows = family.name, results[family.name]
        print(
            f"{name:<12} {len(family.rules):>5} {sum(r.cases for r in rows):>6} "
            f"{sum(r.skipped for r in rows):>7} "
            f"{sizes[name]:>11,} {gen_seconds[name]:>11.2f} {replay_seconds[name]:>9.2f}"
        )
    assert MANIFEST in files


if __name__ == "__main__":
    main()
