"""A versioned, ordered channel rule set read from a data file.

The first rule whose condition holds names the channel. Every condition can say
why it held, so ``leadroi channels explain`` shows the exact reason for a channel.

Format (JSON, or YAML for user files)::

    {"version": "...", "patterns": {"paid": "^(...)$"},
     "rules": [{"name": "paid_search", "channel": "Paid Search",
                "all": [{"field": "source_category", "equals": "search"},
                        {"field": "medium", "matches": "@paid"}]}],
     "fallback_channel": "Unassigned"}

A condition is ``{"field": F, OP: VALUE}`` with OP one of equals, in, matches,
contains, starts_with, ends_with; or a group ``{"any": [...]}`` / ``{"all": [...]}``.
``@name`` in ``matches`` refers to ``patterns``. Values are compared after trimming
and lower-casing, so the rules are case-insensitive by construction.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from streams.channels.errors import InvalidRuleSet
from streams.channels.referrers import read_data_text

DEFAULT_RULES_FILE = "channel_rules.json"
FIELDS = (
    "source",
    "medium",
    "campaign",
    "term",
    "content",
    "source_category",
    "touch_kind",
    "click_id",
    "referrer_host",
)
OPERATORS = ("equals", "in", "matches", "contains", "starts_with", "ends_with")


class Node(Protocol):
    def reason(self, fields: Mapping[str, str]) -> str | None:
        """Why the condition holds for ``fields``, or None when it does not."""


@dataclass(frozen=True)
class Leaf:
    field: str
    operator: str
    operand: str | frozenset[str] | re.Pattern[str]
    shown: str

    def reason(self, fields: Mapping[str, str]) -> str | None:
        value = fields.get(self.field, "")
        if not self._holds(value):
            return None
        return f"{self.field} {value!r} {self.shown}"

    def _holds(self, value: str) -> bool:
        operand = self.operand
        if isinstance(operand, re.Pattern):
            return operand.fullmatch(value) is not None
        if isinstance(operand, frozenset):
            return value in operand
        if self.operator == "equals":
            return value == operand
        if self.operator == "contains":
            return operand in value
        if self.operator == "starts_with":
            return value.startswith(operand)
        return value.endswith(operand)


@dataclass(frozen=True)
class Group:
    every: bool
    parts: tuple[Node, ...]

    def reason(self, fields: Mapping[str, str]) -> str | None:
        if not self.every:
            return next((r for p in self.parts if (r := p.reason(fields))), None)

        reasons: list[str] = []
        for part in self.parts:
            found = part.reason(fields)
            if found is None:
                return None
            reasons.append(found)
        return " and ".join(reasons)


@dataclass(frozen=True)
class Rule:
    name: str
    channel: str
    condition: Node


@dataclass(frozen=True)
class Match:
    rule: str
    channel: str
    why: str


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    fallback_channel: str
    inferred_click_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    recorded_click_ids: tuple[str, ...] = ()
    exclusions: dict[str, frozenset[str]] = field(default_factory=dict)

    def match(self, fields: Mapping[str, str]) -> Match:
        for rule in self.rules:
            why = rule.condition.reason(fields)
            if why is not None:
                return Match(rule.name, rule.channel, why)
        return Match("fallback", self.fallback_channel, "no rule matched")

    @property
    def click_id_names(self) -> tuple[str, ...]:
        return (*self.inferred_click_ids, *self.recorded_click_ids)


class _Parser:
    def __init__(self, origin: str, patterns: Mapping[str, str]) -> None:
        self.origin = origin
        self.patterns = patterns

    def fail(self, where: str, value: object, expected: str) -> InvalidRuleSet:
        return InvalidRuleSet(
            f"{self.origin}: {where}: got {value!r}; expected {expected}"
        )

    def node(self, raw: object, where: str) -> Node:
        if not isinstance(raw, Mapping):
            raise self.fail(where, raw, "an object with 'field' or 'any'/'all'")
        groups = [key for key in ("any", "all") if key in raw]
        if groups:
            return self.group(raw, groups[0], where)
        return self.leaf(raw, where)

    def group(self, raw: Mapping[str, Any], key: str, where: str) -> Group:
        parts = raw[key]
        if not isinstance(parts, list) or not parts:
            raise self.fail(f"{where}.{key}", parts, "a non-empty list of conditions")
        nodes = tuple(self.node(p, f"{where}.{key}[{i}]") for i, p in enumerate(parts))
        return Group(key == "all", nodes)

    def leaf(self, raw: Mapping[str, Any], where: str) -> Leaf:
        name = raw.get("field")
        if name not in FIELDS:
            raise self.fail(f"{where}.field", name, f"one of {', '.join(FIELDS)}")
        operators = [op for op in OPERATORS if op in raw]
        if len(operators) != 1:
            raise self.fail(where, dict(raw), f"exactly one of {', '.join(OPERATORS)}")

        operator = operators[0]
        value = raw[operator]
        if operator == "in":
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise self.fail(f"{where}.in", value, "a list of strings")
            members = frozenset(v.strip().lower() for v in value)
            return Leaf(name, operator, members, f"is one of {sorted(members)}")
        if not isinstance(value, str):
            raise self.fail(f"{where}.{operator}", value, "a string")
        if operator == "matches":
            return self.pattern(name, value, where)
        text = value.strip().lower()
        return Leaf(name, operator, text, f"{operator.replace('_', ' ')} {text!r}")

    def pattern(self, name: str, value: str, where: str) -> Leaf:
        label = value.removeprefix("@") if value.startswith("@") else ""
        if label and label not in self.patterns:
            known = ", ".join(self.patterns) or "none"
            raise self.fail(f"{where}.matches", value, f"a pattern name ({known})")
        source = self.patterns[label] if label else value
        try:
            compiled = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise self.fail(
                f"{where}.matches", source, f"a valid regex ({exc})"
            ) from exc
        shown = f"matches {source}" + (f" ({label} pattern)" if label else "")
        return Leaf(name, "matches", compiled, shown)


def _strings(raw: object, where: str, parser: _Parser) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise parser.fail(where, raw, "a list of strings")
    return tuple(v.strip().lower() for v in raw)


def _click_ids(
    raw: object, parser: _Parser
) -> tuple[dict[str, tuple[str, str]], tuple[str, ...]]:
    if raw is None:
        return {}, ()
    if not isinstance(raw, Mapping):
        raise parser.fail("click_ids", raw, "an object with 'inferred' and 'recorded'")
    inferred: dict[str, tuple[str, str]] = {}
    for name, target in (raw.get("inferred") or {}).items():
        if not isinstance(target, Mapping) or not {"source", "medium"} <= set(target):
            raise parser.fail(f"click_ids.inferred.{name}", target, "source and medium")
        inferred[str(name).lower()] = (str(target["source"]), str(target["medium"]))
    return inferred, _strings(raw.get("recorded", []), "click_ids.recorded", parser)


def parse_ruleset(raw: object, origin: str) -> RuleSet:
    """Check and compile a rule set; raise InvalidRuleSet naming the bad part."""
    parser = _Parser(origin, {})
    if not isinstance(raw, Mapping):
        raise parser.fail("top level", type(raw).__name__, "an object")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise parser.fail("version", version, "a non-empty string")
    patterns = raw.get("patterns") or {}
    if not isinstance(patterns, Mapping):
        raise parser.fail("patterns", patterns, "an object of name → regex")
    parser = _Parser(origin, {str(k): str(v) for k, v in patterns.items()})

    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise parser.fail("rules", rules_raw, "a non-empty list")
    rules: list[Rule] = []
    for index, rule in enumerate(rules_raw):
        where = f"rules[{index}]"
        if not isinstance(rule, Mapping):
            raise parser.fail(where, rule, "an object")
        name, channel = rule.get("name"), rule.get("channel")
        if not isinstance(name, str) or not isinstance(channel, str) or not channel:
            raise parser.fail(where, dict(rule), "string 'name' and 'channel'")
        rules.append(Rule(name, channel, parser.node(rule, where)))

    inferred, recorded = _click_ids(raw.get("click_ids"), parser)
    exclusions_raw = raw.get("referral_exclusions") or {}
    if not isinstance(exclusions_raw, Mapping):
        raise parser.fail("referral_exclusions", exclusions_raw, "an object of lists")
    exclusions = {
        kind: frozenset(_strings(hosts, f"referral_exclusions.{kind}", parser))
        for kind, hosts in exclusions_raw.items()
    }
    return RuleSet(
        version.strip(),
        tuple(rules),
        str(raw.get("fallback_channel") or "Unassigned"),
        inferred,
        recorded,
        exclusions,
    )


def parse_ruleset_text(text: str, origin: str) -> RuleSet:
    try:
        raw = json.loads(text) if origin.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidRuleSet(f"{origin}: not valid JSON or YAML ({exc})") from exc
    return parse_ruleset(raw, origin)


@functools.cache
def default_ruleset() -> RuleSet:
    return parse_ruleset_text(read_data_text(DEFAULT_RULES_FILE), DEFAULT_RULES_FILE)


def load_ruleset(path: str | Path) -> RuleSet:
    """A user rule file (JSON or YAML) that replaces the shipped rule set."""
    target = Path(path)
    try:
        text = target.read_text("utf-8")
    except OSError as exc:
        raise InvalidRuleSet(f"{target}: cannot be read ({exc})") from exc
    return parse_ruleset_text(text, str(target))
