"""Generate a vector directory: one file per rule (one per scenario for a stateful rule) and a
manifest, deterministic for a seed and version, bounded in bytes and files, written atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import hypothesis

from alys_pbt import deviations
from alys_pbt.vectors.discovery import PACKAGE, Family, discover
from alys_pbt.vectors.format import (
    CASE_NAME,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    ERROR_NAME,
    FORMAT_VERSION,
    MANIFEST,
    BoundsError,
    RuleError,
    SchemaError,
    VectorError,
    canonical,
    check_json,
    content_hash,
    dumps,
    sha256,
)
from alys_pbt.vectors.rule import ORIGINS, Case, Rule
from alys_pbt.vectors.validation import validate_file, validate_manifest

DEFAULT_SEED = 0
DEFAULT_CASES_PER_RULE = 5


def case_json(rule: Rule, case: Case) -> dict[str, Any]:
    """A case as the format writes it, checked: name, JSON values, verdict, origin, quirk ids."""
    where = f"rule {rule.id!r} case {case.name!r}"
    if not isinstance(case, Case):
        raise RuleError(f"rule {rule.id!r}: generate returned {type(case).__name__}, not a Case")
    if not isinstance(case.name, str) or not CASE_NAME.match(case.name):
        raise RuleError(f"{where}: the name must match {CASE_NAME.pattern}")
    if not isinstance(case.inputs, dict):
        raise RuleError(f"{where}: inputs must be a JSON object")
    check_json(case.inputs, f"{where} inputs")
    expected = case.expected
    if expected.verdict == "ok":
        if not isinstance(expected.outputs, dict):
            raise RuleError(f"{where}: an ok verdict's outputs must be a JSON object")
        check_json(expected.outputs, f"{where} outputs")
    elif expected.verdict == "error":
        if not isinstance(expected.error, str) or not ERROR_NAME.match(expected.error):
            raise RuleError(f"{where}: the expected error must be a class name, got {expected.error!r}")
    else:
        raise RuleError(f"{where}: verdict {expected.verdict!r} is neither 'ok' nor 'error'")
    origin = case.origin or rule.origin
    if origin not in ORIGINS:
        raise RuleError(f"{where}: origin {origin!r} is not one of {ORIGINS}")
    unknown = sorted(set(case.quirks) - deviations.QUIRK_IDS)
    if unknown:
        raise RuleError(f"{where}: {unknown} are not quirk ids of alys_pbt.deviations.QUIRKS")
    if len(set(case.quirks)) != len(case.quirks):
        raise RuleError(f"{where}: a quirk is tagged twice")
    return {
        "name": case.name,
        "inputs": case.inputs,
        "expected": expected.to_json(),
        "origin": origin,
        "source": case.source or rule.source,
        "quirks": sorted(case.quirks),
        "note": case.note,
    }


def rule_files(rule: Rule, seed: int, cases_per_rule: int) -> list[tuple[str, dict[str, Any]]]:
    """(relative path, document) of each file `rule` writes."""
    try:
        cases = rule.generate(seed, cases_per_rule)
    except VectorError:
        raise
    except Exception as err:  # the rule's own failure, named in one line
        raise RuleError(f"rule {rule.id!r}: generate raised {type(err).__name__}: {err}") from err
    if not cases:
        raise RuleError(f"rule {rule.id!r}: generate returned no cases")
    entries = [case_json(rule, case) for case in cases]
    names = Counter(e["name"] for e in entries)
    twice = sorted(n for n, k in names.items() if k > 1)
    if twice:
        raise RuleError(f"rule {rule.id!r}: case names {twice[:5]} are not unique")
    header = {
        "format_version": FORMAT_VERSION,
        "rule": rule.id,
        "summary": rule.summary,
        "origin": rule.origin,
        "source": rule.source,
        "component": rule.component,
        "stateful": rule.stateful,
    }
    family, name = rule.id.split("/", 1)
    entries = json.loads(canonical(entries))  # tuples become lists, as a reader of the file sees them
    if not rule.stateful:
        return [(f"{family}/{name}.json", {**header, "cases": entries})]
    # A scenario per file: a client can run, diff and cite one scenario at a time.
    return [(f"{family}/{name}/{e['name']}.json", {**header, "cases": [e]}) for e in entries]


def selected(families: Iterable[Family], only: str | None) -> list[Rule]:
    return [rule for family in families for rule in family.rules if not only or only in rule.id]


def build(
    families: list[Family],
    *,
    seed: int = DEFAULT_SEED,
    cases_per_rule: int = DEFAULT_CASES_PER_RULE,
    only: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    validate: bool = True,
) -> dict[str, bytes]:
    """Every file of the set (relative path -> bytes), the manifest included; BoundsError as soon
    as the files would pass `max_bytes` or `max_files` (nothing is written)."""
    if seed < 0 or cases_per_rule < 0:
        raise VectorError("--seed and --cases-per-rule must not be negative")
    rules = selected(families, only)
    if not rules:
        raise VectorError(
            f"no rule matches --only {only!r}" if only else "no rules found: no family exports RULES"
        )
    files: dict[str, bytes] = {}
    manifest_rules: list[dict[str, Any]] = []
    tagged: Counter[str] = Counter()
    total = 0
    for rule in rules:
        entries = []
        for path, document in rule_files(rule, seed, cases_per_rule):
            if validate:
                validate_file(document, rule, f"rule {rule.id!r} file {path}")
            data = dumps(document)
            total += len(data)
            if len(files) + 2 > max_files:  # the manifest is a file too
                raise BoundsError(
                    f"the set would exceed {max_files} files (at rule {rule.id!r}); raise --max-files"
                )
            if total > max_bytes:
                raise BoundsError(
                    f"the set would exceed {max_bytes} bytes (at rule {rule.id!r}, {path}); raise --max-bytes"
                )
            if path in files:
                raise RuleError(f"rule {rule.id!r}: two files at {path}")
            files[path] = data
            tagged.update(q for case in document["cases"] for q in case["quirks"])
            entries.append(
                {"path": path, "cases": len(document["cases"]), "bytes": len(data), "sha256": sha256(data)}
            )
        manifest_rules.append(
            {
                "id": rule.id,
                "origin": rule.origin,
                "component": rule.component,
                "stateful": rule.stateful,
                "cases": sum(e["cases"] for e in entries),
                "files": entries,
            }
        )
    manifest = {
        "format_version": FORMAT_VERSION,
        "generator": {"alys_pbt": _version("alys-pbt"), "hypothesis": hypothesis.__version__},
        "seed": seed,
        "cases_per_rule": cases_per_rule,
        "only": only or None,
        "rules": manifest_rules,
        "quirks": dict(sorted(tagged.items())),
        "file_count": len(files),
        "byte_count": total,
        "content_hash": "sha256:" + content_hash((p, sha256(d)) for p, d in files.items()),
    }
    validate_manifest(manifest, MANIFEST)
    data = dumps(manifest)
    if total + len(data) > max_bytes:
        raise BoundsError(f"the set would exceed {max_bytes} bytes with its manifest; raise --max-bytes")
    files[MANIFEST] = data
    return files


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def is_vector_set(directory: Path) -> bool:
    return (directory / MANIFEST).is_file()


def write(files: dict[str, bytes], out: Path, *, overwrite: bool = False) -> None:
    """Write the set into `out` atomically: built beside it, then renamed into place. `out` must be
    absent or empty, or (with `overwrite`) a previous vector set, which is replaced."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise VectorError(f"{out} exists and is not a directory")
        if any(out.iterdir()) and not (overwrite and is_vector_set(out)):
            hint = " (pass --overwrite to replace it)" if is_vector_set(out) else ""
            raise VectorError(f"{out} is not empty{hint}")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for path, data in sorted(files.items()):
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def generate(
    out: Path,
    *,
    package: str = PACKAGE,
    overwrite: bool = False,
    **options: Any,
) -> dict[str, bytes]:
    """Discover the families of `package`, build the set and write it to `out`."""
    files = build(discover(package), **options)
    write(files, out, overwrite=overwrite)
    return files


__all__ = [
    "DEFAULT_CASES_PER_RULE",
    "DEFAULT_SEED",
    "SchemaError",
    "build",
    "generate",
    "rule_files",
    "write",
]
