"""The "one example per family" section of docs/vectors.md, rendered from the real generator
(`python -m alys_pbt.vectors docs`; tests/test_vectors.py fails when the file is stale)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alys_pbt.vectors.discovery import PACKAGE, Family, discover
from alys_pbt.vectors.format import canonical
from alys_pbt.vectors.generate import DEFAULT_SEED, rule_files

ROOT = Path(__file__).resolve().parents[2]
DOC = Path("docs/vectors.md")
BEGIN = "<!-- BEGIN GENERATED EXAMPLES (python -m alys_pbt.vectors docs) -->"
END = "<!-- END GENERATED EXAMPLES -->"
ELIDE = 72  # hex longer than this is shortened in the examples (never in the files)


def _elide(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) > ELIDE:
        return f"{value[:40]}...(elided, {(len(value) - 2) // 2} bytes)"
    if isinstance(value, list):
        shown = [_elide(v) for v in value[:4]]
        return shown + ([f"...({len(value) - 4} more)"] if len(value) > 4 else [])
    if isinstance(value, dict):
        return {k: _elide(v) for k, v in value.items()}
    return value


FILE_ORDER = ("format_version", "rule", "summary", "origin", "source", "component", "stateful", "cases")
CASE_ORDER = ("name", "inputs", "expected", "origin", "source", "quirks", "note")


def _ordered(value: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """The fields in reading order (the files themselves sort their keys)."""
    return {key: value[key] for key in order if key in value} | {
        k: v for k, v in sorted(value.items()) if k not in order
    }


def example(family: Family) -> str:
    """A family's first rule as a file holding its smallest ok case and its smallest error case."""
    rule = family.rules[0]
    path, document = rule_files(rule, DEFAULT_SEED, 1)[0]
    cases = document["cases"]
    picks = []
    for verdict in ("ok", "error"):
        of_kind = [c for c in cases if c["expected"]["verdict"] == verdict]
        if of_kind:
            picks.append(min(of_kind, key=lambda c: (len(canonical(c)), c["name"])))
    shown_cases = [_ordered(_elide(c), CASE_ORDER) for c in picks]
    for c in shown_cases:
        c["expected"] = _ordered(c["expected"], ("verdict", "outputs", "error"))
    shown = _ordered({**document, "cases": shown_cases}, FILE_ORDER)
    others = len(cases) - len(picks)
    body = json.dumps(shown, indent=1, separators=(",", ": "), ensure_ascii=False)
    more = f" ({others} more case{'s' if others != 1 else ''} in the file)" if others else ""
    return (
        f"### {family.name}\n\n`{path}`: {rule.summary}{more}. {len(family.rules)} rule"
        f"{'s' if len(family.rules) != 1 else ''} in the family: "
        + ", ".join(f"`{r.id}`" for r in family.rules)
        + f".\n\n```json\n{body}\n```\n"
    )


def render(package: str = PACKAGE) -> str:
    families = [f for f in discover(package) if f.rules]
    if not families:
        return "(No rule family exists yet.)\n"
    return "\n".join(example(f) for f in families)


def section(text: str) -> str:
    """The generated part of the document `text`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOC} lacks the markers {BEGIN!r} ... {END!r}")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def update(*, check: bool = False, root: Path = ROOT) -> bool:
    """Whether docs/vectors.md was stale; unless `check`, rewrite its generated section."""
    path = root / DOC
    text = path.read_text(encoding="utf-8")
    fresh = render()
    if section(text) == fresh:
        return False
    if not check:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        path.write_text(f"{head}{BEGIN}\n\n{fresh}\n{END}{tail}", encoding="utf-8")
    return True
