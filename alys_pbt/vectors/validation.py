"""The JSON Schemas of the format (kept in `alys_pbt/vectors/schemas/`, draft 2020-12) and validation
with the `jsonschema` library. A rule's `inputs_schema` and `outputs_schema` replace the generic
`$defs/inputs` and `$defs/outputs` of the file schema, so each file is validated exactly."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError

from alys_pbt.vectors.format import SchemaError
from alys_pbt.vectors.rule import Rule

FILE_SCHEMA = "vector-file.schema.json"
MANIFEST_SCHEMA = "manifest.schema.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """One of the schemas shipped in the package."""
    text = resources.files("alys_pbt.vectors").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


def file_schema(rule: Rule | None) -> dict[str, Any]:
    """The file schema with `rule`'s inputs and outputs fragments merged in (generic for None)."""
    schema = copy.deepcopy(load_schema(FILE_SCHEMA))
    if rule is None:
        return schema
    schema["properties"]["rule"] = {"const": rule.id}
    schema["properties"]["stateful"] = {"const": rule.stateful}
    for part, fragment in (("inputs", rule.inputs_schema), ("outputs", rule.outputs_schema)):
        if fragment:
            # Its own $id makes the fragment a resource of its own: a "#/$defs/..." inside it
            # resolves within the fragment, not within the file schema it is embedded in.
            embedded = copy.deepcopy(fragment)
            embedded.setdefault("$id", f"urn:alys-vectors:{rule.id}:{part}")
            schema["$defs"][part] = embedded
    return schema


@functools.cache
def _validator(rule_id: str | None, schema_text: str) -> Draft202012Validator:
    schema = json.loads(schema_text)
    try:
        Draft202012Validator.check_schema(schema)
    except JsonSchemaError as err:
        raise SchemaError(
            f"the schema of rule {rule_id!r} is not a valid JSON Schema: {err.message}"
        ) from None
    return Draft202012Validator(schema)


def validator_for(rule: Rule | None) -> Draft202012Validator:
    schema = file_schema(rule)
    return _validator(rule.id if rule else None, json.dumps(schema, sort_keys=True))


def problems(validator: Draft202012Validator, document: Any, limit: int = 3) -> list[str]:
    """Up to `limit` validation errors, each as 'at <json path>: <message>' (shortened)."""
    out = []
    for err in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        while err.context:  # a oneOf/anyOf failure: say which part of the best candidate is wrong
            err = max(err.context, key=lambda e: len(e.absolute_path))
        message = err.message if len(err.message) <= 160 else err.message[:157] + "..."
        out.append(f"at {err.json_path}: {message}")
        if len(out) >= limit:
            break
    return out


def validate_file(document: Any, rule: Rule | None, where: str) -> None:
    """Raise SchemaError (one line) unless `document` is a valid vector file for `rule`."""
    found = problems(validator_for(rule), document)
    if found:
        raise SchemaError(f"{where} does not validate against its schema: {'; '.join(found)}")


def validate_manifest(document: Any, where: str) -> None:
    found = problems(_validator(None, json.dumps(load_schema(MANIFEST_SCHEMA), sort_keys=True)), document)
    if found:
        raise SchemaError(f"{where} does not validate against manifest.schema.json: {'; '.join(found)}")
