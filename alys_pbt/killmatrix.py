"""Print the kill matrix, ETNA-style: `python -m alys_pbt.killmatrix [--seeds 10] [--only TEXT]`.

For each declared (deviation, property) pair: how many of the seeds killed it within the ci budget,
the median number of test cases and seconds to the first failure, and the size (lines) of the
shrunk counterexample. Mutants come from `@kills`, quirks from the registry's `breaks`. Only the
property's own failure counts as a kill (`Deviation.fails_with`); any other exception is printed
under the pair's row, named.
"""

from __future__ import annotations

import argparse
import sys

from alys_pbt import database, deviations, profiles
from alys_pbt.killing import declared_pairs, measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per pair (default 10)")
    parser.add_argument("--only", default="", help="only pairs whose deviation or property contains this")
    args = parser.parse_args(argv)
    profiles.load("ci", database.build())
    pairs = [p for p in declared_pairs() if args.only in p.deviation or args.only in p.function]
    header = f"{'deviation':<34} {'kind':<6} {'property':<52} {'killed':>7} {'examples':>9} {'seconds':>8} {'shrunk':>6}"
    print(header)
    print("-" * len(header))
    survivors = 0
    for pair in pairs:
        row = measure(pair, seeds=args.seeds)
        survivors += row.kills < row.seeds
        print(
            f"{'+'.join((*pair.jointly, pair.deviation)):<34} {deviations.get(pair.deviation).kind:<6} "
            f"{pair.function.split('::', 1)[1]:<52} {row.kills:>3}/{row.seeds:<3} "
            f"{row.median_examples:>9.1f} {row.median_seconds:>8.3f} {row.shrunk_size:>6}",
            flush=True,
        )
        for error in row.errors:  # an exception that is not the property's own failure is no kill
            print(f"    not the registered failure ({' or '.join(pair.fails_with)}): {error}", flush=True)
    print(f"\n{len(pairs)} pairs, {survivors} not killed on every seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
