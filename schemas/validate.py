"""Validators built from the JSON Schemas in ``schemas/json``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from schemas.errors import InvalidEvent, Problem

KINDS = ("touch", "identify", "call", "stage", "deal", "spend")
SCHEMA_VERSION = 1


def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("schemas").joinpath(f"json/{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validators() -> dict[str, Draft202012Validator]:
    envelope = load_schema("envelope")
    registry: Registry[Any] = Registry().with_resource(
        envelope["$id"], Resource.from_contents(envelope)
    )
    return {
        kind: Draft202012Validator(load_schema(kind), registry=registry)
        for kind in KINDS
    }


def _field_of(error: ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        return ".".join(p for p in (path, missing[0] if missing else "") if p)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        return ".".join(p for p in (path, extra[0] if extra else "") if p)
    return path or "(event)"


def _reason_of(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.validator_value:
        options = []
        for option in error.validator_value:
            if isinstance(option, dict) and "required" in option:
                options.append("+".join(option["required"]))
        if options and error.validator == "anyOf":
            return f"needs at least one of: {', '.join(options)}"
        if options:
            return f"needs exactly one of: {', '.join(options)}"
        if "description" in error.schema:
            shown = str(error.instance)[:60]
            return f"{shown!r} is not valid; expected {error.schema['description']}"
    if error.validator == "pattern":
        shown = str(error.instance)[:60]
        expected = error.schema.get("description", error.validator_value)
        return f"{shown!r} is not in the expected format ({expected})"
    if error.validator == "additionalProperties":
        return "unknown field"
    return str(error.message)[:300]


def problems_of(event: Any) -> list[Problem]:
    """Everything wrong with one event, each naming its field; empty when valid."""
    if not isinstance(event, dict):
        return [
            Problem("(event)", f"expected a JSON object, got {type(event).__name__}")
        ]

    kind = event.get("type")
    if kind not in KINDS:
        expected = ", ".join(KINDS)
        return [
            Problem(
                "type", f"{kind!r} is not an event type; expected one of {expected}"
            )
        ]

    errors = sorted(_validators()[kind].iter_errors(event), key=lambda e: e.path)
    seen: set[tuple[str, str]] = set()
    problems = []
    for error in errors:
        problem = Problem(_field_of(error), _reason_of(error))
        if (problem.field, problem.reason) not in seen:
            seen.add((problem.field, problem.reason))
            problems.append(problem)
    return problems


def check_event(event: Any) -> dict[str, Any]:
    """Return the event when it keeps its contract; raise InvalidEvent otherwise."""
    problems = problems_of(event)
    if problems:
        raise InvalidEvent(problems)
    assert isinstance(event, dict)
    return event
