"""Replay a vector directory against a target: the manifest and every file's hash first, then each
file against its schema, then each case through its rule's `replay`.

A case passes when the target's verdict is the expected one: the same outputs, compared exactly as
JSON (`format.canonical`), or an exception whose class name is the expected error's (as
`alys_pbt.verdict.verdict` judges). A failing case tagged with a quirk the target declares is a
*known deviation*; any other failure counts against the target. Cases whose rule has no replay, or
whose component the target lacks, are skipped (and counted).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen, mutable

from alys_pbt.interface import Target
from alys_pbt.vectors.discovery import Family, rules_by_id
from alys_pbt.vectors.format import (
    FORMAT_VERSION,
    MANIFEST,
    IntegrityError,
    VectorError,
    canonical,
    content_hash,
    sha256,
)
from alys_pbt.vectors.rule import Rule
from alys_pbt.vectors.validation import validate_file, validate_manifest


@frozen
class VectorFile:
    path: str  # relative to the directory, as the manifest lists it
    rule_id: str
    document: dict[str, Any]


@frozen
class VectorSet:
    directory: Path
    manifest: dict[str, Any]
    files: tuple[VectorFile, ...]
    rules: dict[str, Rule]  # the suite's rules by id (a rule of a newer set may be missing)


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as err:  # RecursionError: nested past the parser's depth
        raise VectorError(f"{where}: cannot read it as JSON: {type(err).__name__}: {err}") from None


def load(directory: Path, families: list[Family]) -> VectorSet:
    """Read and check a vector directory: format version, manifest schema, every file's sha256 and
    the content hash (IntegrityError on any difference, added files included), every file's schema."""
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise VectorError(f"{directory} holds no {MANIFEST}: not a vector directory")
    manifest = _read_json(directory / MANIFEST, MANIFEST)
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise VectorError(
            f"{MANIFEST}: format version {version!r}; this runner reads version {FORMAT_VERSION}"
        )
    validate_manifest(manifest, MANIFEST)
    listed = [(entry["path"], rule["id"], entry) for rule in manifest["rules"] for entry in rule["files"]]
    digests: dict[str, str] = {}
    for path, _, entry in listed:
        if path in digests:
            raise IntegrityError(f"{MANIFEST} lists {path} twice")
        file = directory / path
        if not file.is_file():
            raise IntegrityError(f"{path} is listed in {MANIFEST} but missing")
        digest = sha256(file.read_bytes())
        if digest != entry["sha256"]:
            raise IntegrityError(f"{path} does not match its sha256 in {MANIFEST}: it was changed")
        digests[path] = digest
    expected_hash = "sha256:" + content_hash(digests.items())
    if manifest["content_hash"] != expected_hash:
        raise IntegrityError(f"{MANIFEST}: the content hash does not match the files it lists")
    extra = sorted(
        str(p.relative_to(directory))
        for p in directory.rglob("*.json")
        if p.name != MANIFEST or p.parent != directory
    )
    extra = [p for p in extra if p not in digests]
    if extra:
        raise IntegrityError(f"{extra[0]} is not listed in {MANIFEST} ({len(extra)} unlisted file(s))")
    rules = rules_by_id(families)
    files = []
    for path, rule_id, _ in listed:
        document = _read_json(directory / path, path)
        validate_file(document, rules.get(rule_id), path)
        if document["rule"] != rule_id:
            raise IntegrityError(f"{path} holds rule {document['rule']!r}, the manifest says {rule_id!r}")
        files.append(VectorFile(path, rule_id, document))
    return VectorSet(directory, manifest, tuple(files), rules)


@frozen
class Failure:
    path: str
    case: str
    expected: str
    got: str
    quirks: tuple[str, ...]

    def line(self) -> str:
        return f"{self.path} :: {self.case}: expected {self.expected}, got {self.got}"


@mutable
class RuleResult:
    rule: str
    passed: int = 0
    failures: list[Failure] = field(factory=list)  # failures that count against the target
    known: list[Failure] = field(factory=list)  # failures tagged with a quirk the target declares
    skipped: int = 0
    skip_reason: str | None = None
    tagged_passes: list[str] = field(factory=list)  # "path :: case" tagged with a declared quirk, yet passed

    @property
    def cases(self) -> int:
        return self.passed + len(self.failures) + len(self.known) + self.skipped

    def line(self) -> str:
        status = "FAIL" if self.failures else ("SKIP" if self.skipped == self.cases else "ok  ")
        parts = [f"{self.passed} passed", f"{len(self.failures)} failed"]
        if self.known:
            parts.append(f"{len(self.known)} known deviation")
        if self.skipped:
            parts.append(f"{self.skipped} skipped ({self.skip_reason})")
        text = f"{status} {self.rule:<40} {', '.join(parts)}"
        if self.failures:
            text += f"\n     first failure: {self.failures[0].line()}"
        elif self.known:
            first = self.known[0]
            text += f"\n     known deviation ({', '.join(first.quirks)}): {first.line()}"
        return text


@mutable
class Report:
    target: str
    declared: frozenset[str]
    results: list[RuleResult] = field(factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.results for f in r.failures]

    @property
    def known(self) -> list[Failure]:
        return [f for r in self.results for f in r.known]

    def exit_code(self, strict: bool = False) -> int:
        """1 when a case failed that no quirk the target declares explains (with strict, any failure)."""
        return int(bool(self.failures) or (strict and bool(self.known)))

    def summary(self) -> str:
        skipped: dict[str, int] = {}
        for r in self.results:
            if r.skipped:
                skipped[r.skip_reason or "?"] = skipped.get(r.skip_reason or "?", 0) + r.skipped
        quirks = sorted({q for f in self.known for q in f.quirks if q in self.declared})
        lines = [
            f"target {self.target}: {len(self.results)} rules, {sum(r.cases for r in self.results)} cases",
            f"  passed:          {self.passed}",
            f"  failed:          {len(self.failures)}"
            + (f" (first: {self.failures[0].line()})" if self.failures else ""),
            f"  known deviation: {len(self.known)}"
            + (
                f" (failed, tagged with quirks the target declares: {', '.join(quirks)})"
                if self.known
                else ""
            ),
            f"  skipped:         {sum(skipped.values())}"
            + (
                " (" + "; ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items())) + ")"
                if skipped
                else ""
            ),
        ]
        tagged = [t for r in self.results for t in r.tagged_passes]
        if tagged:
            lines.append(
                f"  note: {len(tagged)} case(s) tagged with a declared quirk passed anyway "
                f"(first: {tagged[0]})"
            )
        return "\n".join(lines)


def _expected_text(expected: Mapping[str, Any]) -> str:
    if expected["verdict"] == "ok":
        return "ok " + _short(canonical(expected["outputs"]))
    return f"error {expected['error']}"


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def judge(rule: Rule, target: Target, case: Mapping[str, Any]) -> str | None:
    """None when the target answers `case` as expected, else what it answered instead."""
    assert rule.replay is not None
    expected = case["expected"]
    try:
        outputs = rule.replay(target, case["inputs"])
    except Exception as err:  # noqa: BLE001 - the class name is the verdict (alys_pbt.verdict)
        name = type(err).__name__
        if expected["verdict"] == "error" and name == expected["error"]:
            return None
        return f"error {name}: {_short(str(err), 120)}" if str(err).strip() else f"error {name}"
    try:
        got = canonical(outputs)
    except (TypeError, ValueError) as err:
        return f"outputs that are not JSON ({err})"
    if expected["verdict"] == "ok":
        if got == canonical(expected["outputs"]):
            return None
        return "ok " + _short(got) + _difference(expected["outputs"], json.loads(got))
    return "ok " + _short(got)


def _difference(want: Any, got: Any, path: str = "$") -> str:
    """Where two JSON values first differ, for a failure line whose outputs are too long to show."""
    if type(want) is not type(got):
        return f" (at {path}: expected {_short(canonical(want), 60)}, got {_short(canonical(got), 60)})"
    if isinstance(want, dict):
        for key in sorted(set(want) | set(got)):
            if key not in want or key not in got:
                return f" (at {path}: key {key!r} {'missing' if key in want else 'unexpected'})"
            if canonical(want[key]) != canonical(got[key]):
                return _difference(want[key], got[key], f"{path}.{key}")
    if isinstance(want, list):
        for i, (a, b) in enumerate(zip(want, got, strict=False)):
            if canonical(a) != canonical(b):
                return _difference(a, b, f"{path}[{i}]")
        if len(want) != len(got):
            return f" (at {path}: {len(want)} items expected, got {len(got)})"
    return f" (at {path}: expected {_short(canonical(want), 60)}, got {_short(canonical(got), 60)})"


def replay(
    vectors: VectorSet,
    target: Target,
    *,
    name: str | None = None,
    only: str | None = None,
    stop_at_first_failure: bool = False,
) -> Report:
    """Put every case of `vectors` to `target`; with `stop_at_first_failure`, stop at the first
    failure that counts against it (the vector kill matrix needs only one)."""
    declared = frozenset(getattr(target, "quirks", ()) or ())
    report = Report(name or str(getattr(target, "name", target)), declared)
    by_rule: dict[str, RuleResult] = {}
    for file in vectors.files:
        if only and only not in file.rule_id:
            continue
        result = by_rule.get(file.rule_id)
        if result is None:
            result = by_rule[file.rule_id] = RuleResult(file.rule_id)
            report.results.append(result)
        rule = vectors.rules.get(file.rule_id)
        cases = file.document["cases"]
        reason = None
        if rule is None:
            reason = "rule unknown to this suite"
        elif rule.replay is None:
            reason = "no replay"
        elif rule.component and not hasattr(target, rule.component):
            reason = f"target lacks component {rule.component}"
        if reason:
            result.skipped += len(cases)
            result.skip_reason = reason
            continue
        assert rule is not None
        for case in cases:
            got = judge(rule, target, case)
            quirks = tuple(case["quirks"])
            if got is None:
                result.passed += 1
                if declared & set(quirks):
                    result.tagged_passes.append(f"{file.path} :: {case['name']}")
                continue
            failure = Failure(file.path, case["name"], _expected_text(case["expected"]), got, quirks)
            if declared & set(quirks):
                result.known.append(failure)
            else:
                result.failures.append(failure)
                if stop_at_first_failure:
                    return report
    return report
