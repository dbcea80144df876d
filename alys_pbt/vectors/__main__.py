"""Conformance vectors (docs/vectors.md):

    python -m alys_pbt.vectors generate --out DIR [--seed S] [--cases-per-rule N] [--only TEXT]
    python -m alys_pbt.vectors run DIR --target SPEC [--strict] [--only TEXT]
    python -m alys_pbt.vectors docs [--check]

`run` exits 0 when every replayed case passed or failed only as a known deviation (a case tagged
with a quirk the target itself declares: target `alys` carries the node's quirks on purpose), 1 when
any other case failed (with --strict: when any case failed), 2 when the set or the target cannot be
used (tampered or invalid files, unknown target): always with one line saying why.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from alys_pbt.interface import TargetError
from alys_pbt.vectors import docs, generate, runner
from alys_pbt.vectors.discovery import PACKAGE, discover
from alys_pbt.vectors.format import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, VectorError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alys_pbt.vectors",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a vector directory")
    gen.add_argument("--out", required=True, type=Path, help="the directory to write (absent or empty)")
    gen.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="default %(default)s")
    gen.add_argument(
        "--cases-per-rule",
        type=int,
        default=generate.DEFAULT_CASES_PER_RULE,
        help="valid cases per rule (default %(default)s)",
    )
    gen.add_argument("--only", default=None, help="only the rules whose id contains TEXT")
    gen.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="refuse a larger set (default %(default)s)"
    )
    gen.add_argument(
        "--max-files", type=int, default=DEFAULT_MAX_FILES, help="refuse more files (default %(default)s)"
    )
    gen.add_argument("--overwrite", action="store_true", help="replace DIR if it holds a previous vector set")
    gen.add_argument(
        "--families", default=PACKAGE, help=argparse.SUPPRESS
    )  # another package of families (tests)
    run = commands.add_parser("run", help="replay a vector directory against a target")
    run.add_argument("directory", type=Path)
    run.add_argument(
        "--target", required=True, help="alys, alys-fixed, alys-fixed+ID[+ID...] or package.module:object"
    )
    run.add_argument("--strict", action="store_true", help="count known deviations as failures too")
    run.add_argument("--only", default=None, help="only the rules whose id contains TEXT")
    run.add_argument("--families", default=PACKAGE, help=argparse.SUPPRESS)
    doc = commands.add_parser(
        "docs", help="regenerate the examples of docs/vectors.md from the real generator"
    )
    doc.add_argument(
        "--check", action="store_true", help="exit 1 if docs/vectors.md is stale instead of writing it"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            start = time.perf_counter()
            files = generate.generate(
                args.out,
                package=args.families,
                overwrite=args.overwrite,
                seed=args.seed,
                cases_per_rule=args.cases_per_rule,
                only=args.only,
                max_bytes=args.max_bytes,
                max_files=args.max_files,
            )
            size = sum(len(d) for d in files.values())
            print(
                f"wrote {len(files)} files, {size:,} bytes, to {args.out} "
                f"in {time.perf_counter() - start:.1f} s"
            )
            return 0
        if args.command == "run":
            from alys_pbt import targets  # the port is imported only to replay

            target = targets.load(args.target)
            vectors = runner.load(args.directory, discover(args.families))
            report = runner.replay(vectors, target, name=args.target, only=args.only)
            for result in report.results:
                print(result.line())
            print(report.summary())
            return report.exit_code(strict=args.strict)
        stale = docs.update(check=args.check)
        if args.check:
            print(
                f"{docs.DOC} is stale: run python -m alys_pbt.vectors docs"
                if stale
                else f"{docs.DOC} is current"
            )
            return int(stale)
        print(f"{docs.DOC} {'updated' if stale else 'already current'}")
        return 0
    except (VectorError, TargetError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
