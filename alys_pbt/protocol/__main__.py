"""`python -m alys_pbt.protocol docs [--check]` writes (or checks) docs/protocol.md;
`python -m alys_pbt.protocol examples [COMMAND]` replays its example exchanges against a server."""

from __future__ import annotations

import argparse
import sys

from alys_pbt.protocol import docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alys_pbt.protocol")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("docs", help="write docs/protocol.md from the protocol's tables")
    cmd.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    ex = sub.add_parser("examples", help="replay every example exchange against a server")
    ex.add_argument("server", nargs="?", default=docs.PORT_SERVER, help="the command that starts it")
    args = parser.parse_args(argv)
    if args.command == "examples":
        problems = docs.replay(args.server)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems" if problems else "every example holds")
        return 1 if problems else 0
    text = docs.render()
    if args.check:
        if not docs.DOCS.exists() or docs.DOCS.read_text() != text:
            print(f"{docs.DOCS} is stale: run `python -m alys_pbt.protocol docs`", file=sys.stderr)
            return 1
        print(f"{docs.DOCS} is current")
        return 0
    docs.DOCS.write_text(text)
    print(f"wrote {docs.DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
