"""JSON Schema of the PERSON for one region, derived from the region's declared facts and groups."""
from __future__ import annotations

from engine.model import Policy

MONEY = {"oneOf": [{"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"}, {"type": "number", "minimum": 0}],
         "description": "yuan, ≥ 0, at most two decimals, e.g. \"300.00\""}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date"}


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
    for g in policy.groups.values():
        if g.required_key:
            props[g.required_key] = _nullable({"type": "string", "enum": list(g.choices)})
    return {"type": "object", "additionalProperties": False, "properties": props, "required": ["id", "from"]}


CONTRIBUTION = {
    "type": "object", "additionalProperties": False, "required": ["year", "tier", "kind"],
    "properties": {"year": {"type": "integer", "minimum": 1900, "maximum": 2100}, "tier": MONEY,
                   "kind": {"type": "string", "enum": ["regular", "back_payment"]},
                   "date": _nullable(DATE), "collective": _nullable(MONEY)},
}
OPENING = {"type": "object", "additionalProperties": False, "required": ["amount", "as_of"],
           "properties": {"amount": MONEY, "as_of": DATE}}
