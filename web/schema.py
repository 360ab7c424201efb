"""JSON Schema of the PERSON for one region, derived from the region's declared facts and groups."""
from __future__ import annotations

from engine.core import (
    CONTRIBUTION_FIELDS,
    CONTRIBUTION_REQUIRED,
    DATE_PATTERN,
    FIRST_YEAR,
    GROUP_REQUIRED,
    LAST_YEAR,
    MONEY_PATTERN,
    OPENING_FIELDS,
)
from engine.language import Policy

MONEY = {"oneOf": [{"type": "string", "pattern": MONEY_PATTERN}, {"type": "number", "minimum": 0}],
         "description": "yuan, ≥ 0, at most two decimals, e.g. \"300.00\""}
DATE = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def person_schema(policy: Policy) -> dict:
    properties: dict = {}
    required = []
    hukou: dict = {}
    for name, fact in policy.facts.items():
        if name.startswith("hukou."):
            hukou[name.split(".", 1)[1]] = _fact_schema(fact)
            continue
        if fact.type == "groups":
            properties[name] = _nullable({"type": "array", "items": _group_schema(policy)})
        elif fact.type == "contributions":
            properties[name] = _nullable({"type": "array", "items": CONTRIBUTION})
        elif fact.type == "opening_balance":
            properties[name] = _nullable(OPENING)
        else:
            properties[name] = _fact_schema(fact) if fact.required else _nullable(_fact_schema(fact))
        if fact.required:
            required.append(name)
    properties["hukou"] = _nullable({"type": "object", "additionalProperties": False,
                                     "properties": {k: _nullable(v) for k, v in hukou.items()}})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"PERSON ({policy.region})", "type": "object", "additionalProperties": False,
            "properties": properties, "required": required}


def _fact_schema(fact) -> dict:
    label = fact.labels.zh or fact.name
    if fact.choices:
        return {"type": "string", "enum": [c for c, _ in fact.choices], "description": label}
    if fact.type == "date":
        return {**DATE, "description": label}
    if fact.type == "money":
        return {**MONEY, "description": label}
    return {"type": "string", "description": label}


def _group_schema(policy: Policy) -> dict:
    props = {"id": {"type": "string", "enum": sorted(policy.groups)}, "from": DATE, "to": _nullable(DATE)}
    required = list(GROUP_REQUIRED)
    for g in policy.groups.values():
        if g.required_key:
            props[g.required_key] = _nullable({"type": "string", "enum": list(g.choices)})
    return {"type": "object", "additionalProperties": False, "properties": props, "required": required}


def _value(kind) -> dict:
    if isinstance(kind, tuple):
        return {"type": "string", "enum": list(kind)}
    return {"integer": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}, "money": MONEY,
            "date": DATE}[kind]


def _object(fields: dict, required: tuple) -> dict:
    return {"type": "object", "additionalProperties": False, "required": list(required),
            "properties": {k: _value(v) if k in required else _nullable(_value(v)) for k, v in fields.items()}}


CONTRIBUTION = _object(CONTRIBUTION_FIELDS, CONTRIBUTION_REQUIRED)
OPENING = _object(OPENING_FIELDS, tuple(OPENING_FIELDS))
