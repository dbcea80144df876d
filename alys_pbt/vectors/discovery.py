"""Find the rule families: every module of a package (by default `alys_pbt.vectors.families`)
that exports `RULES`, checked against the contract in `rule.py`. A family that fails to import is
an error naming it, never a silent skip."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from attrs import frozen

from alys_pbt import deviations
from alys_pbt.vectors.format import RULE_ID, FamilyError
from alys_pbt.vectors.rule import ORIGINS, Rule

PACKAGE = "alys_pbt.vectors.families"


@frozen
class Family:
    """One family module: its rules and the mutants it declares no vector can reach (with why)."""

    name: str
    module: str
    rules: tuple[Rule, ...]
    unreachable: dict[str, str]


def discover(package: str = PACKAGE) -> list[Family]:
    """Every family of `package`, in module-name order, each checked (FamilyError names the culprit)."""
    try:
        pkg = importlib.import_module(package)
    except Exception as err:  # noqa: BLE001 - reported in one line, naming the package
        raise FamilyError(
            f"cannot import the family package {package!r}: {type(err).__name__}: {err}"
        ) from None
    families: list[Family] = []
    seen: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a broken family is an error that names it
            raise FamilyError(
                f"family {info.name!r} ({name}) failed to import: {type(err).__name__}: {err}"
            ) from None
        family = _family(info.name, module)
        for rule in family.rules:
            if rule.id in seen:
                raise FamilyError(f"rule {rule.id!r} is defined by both {seen[rule.id]} and {name}")
            seen[rule.id] = name
        families.append(family)
    return families


def _family(name: str, module: ModuleType) -> Family:
    where = f"family {name!r} ({module.__name__})"
    rules = getattr(module, "RULES", None)
    if rules is None:
        raise FamilyError(f"{where} exports no RULES")
    if not isinstance(rules, (tuple, list)) or not all(isinstance(r, Rule) for r in rules):
        raise FamilyError(f"{where}: RULES must be a tuple of alys_pbt.vectors.rule.Rule")
    for rule in rules:
        _check_rule(rule, where)
    unreachable = getattr(module, "UNREACHABLE", {})
    if not isinstance(unreachable, dict):
        raise FamilyError(f"{where}: UNREACHABLE must be a dict mutant id -> reason")
    for mutant, reason in unreachable.items():
        if mutant not in deviations.MUTANT_IDS:
            raise FamilyError(f"{where}: UNREACHABLE names {mutant!r}, which is not a seeded mutant")
        if not isinstance(reason, str) or not reason.strip():
            raise FamilyError(f"{where}: UNREACHABLE[{mutant!r}] needs a reason")
    return Family(name, module.__name__, tuple(rules), dict(unreachable))


def _check_rule(rule: Rule, where: str) -> None:
    if not isinstance(rule.id, str) or not RULE_ID.match(rule.id):
        raise FamilyError(f"{where}: rule id {rule.id!r} is not '<family>/<rule>' in [a-z0-9-]")
    if rule.origin not in ORIGINS:
        raise FamilyError(f"{where}: rule {rule.id!r} has origin {rule.origin!r}, not one of {ORIGINS}")
    for attr in ("summary", "source"):
        value = getattr(rule, attr)
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            raise FamilyError(f"{where}: rule {rule.id!r} needs a one-line {attr}")
    if not callable(rule.generate) or (rule.replay is not None and not callable(rule.replay)):
        raise FamilyError(f"{where}: rule {rule.id!r}: generate (and replay, unless None) must be callable")


def rules_by_id(families: list[Family]) -> dict[str, Rule]:
    return {rule.id: rule for family in families for rule in family.rules}


def family_of(rule_id: str) -> str:
    return rule_id.split("/", 1)[0]
