"""The policy's figures as they apply to one person, and the ledger of unconfirmed figures used.

Both back ends read figures through a `Lookup`: the scalar back end for each person, the
population back end once for each distinct set of facts (a "probe" person).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.core.money import Amount, fmt
from engine.core.person import Person
from engine.core.prepared import Prepared, prepare
from engine.language import model
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidInput, InvalidPerson, pointer
from engine.language.text import Text


class Uses:
    """Every proposal/provisional figure (or rule) used, and the output fields it reached.

    Keyed by policy line; the machine-facing text is stable across languages (English label,
    canonical figure), as contract.md's `uses_unconfirmed` is.
    """

    __slots__ = ("policy", "prepared", "entries")  # read on every figure used (no instance dict to search)

    def __init__(self, policy: model.Policy):
        self.policy, self.prepared = policy, prepare(policy)
        self.entries: dict[tuple, dict] = {}

    def use(self, version: model.Version, fields: str | set, figure: str | None = None) -> tuple:
        span = version.span
        key = (span.file, span.line)
        if version.cite.status in model.UNCONFIRMED:
            entry = self.entries.get(key)
            if entry is None:  # the first use of a line names it (the text, a pure function of the policy
                value, text_zh = _use_texts(self.prepared, version, key, figure)  # version, is built once)
                entry = self.entries[key] = {
                    "value": value, "text_zh": text_zh, "status": version.cite.status, "used_by": set(),
                    "file": span.file, "line": span.line}
            if isinstance(fields, str):
                entry["used_by"].add(fields)
            else:
                entry["used_by"].update(fields)
        return key

    def use_formula(self, formula: model.Formula, field: str) -> None:
        """A formula whose rule itself is a proposal or provisional (e.g. a top-up rule)."""
        entry = self.entries.setdefault((formula.span.file, formula.span.line), {
            "value": f"{self.policy.region} {formula.label('en')} rule",
            "text_zh": f"{formula.label('zh')}（规则）",
            "status": formula.cite.status,
            "used_by": set(), "file": formula.span.file, "line": formula.span.line})
        entry["used_by"].add(field)

    def attach(self, keys, fields: str | set) -> None:
        entries = self.entries
        if not entries or not fields:  # nothing unconfirmed used yet, or no field to add
            return
        for key in keys:
            entry = entries.get(key)
            if entry is not None:
                if isinstance(fields, str):
                    entry["used_by"].add(fields)
                else:
                    entry["used_by"].update(fields)

    def listed(self) -> list[dict]:
        # by (file, line), the entries' keys (unique: the sort never compares the entries themselves)
        return [u for _, u in sorted(self.entries.items()) if u["used_by"]]


def _use_texts(prepared: Prepared, version: model.Version, key: tuple, figure: str | None) -> tuple[str, str]:
    """(machine-facing text, Chinese text) of an unconfirmed line used with `figure` (its own figure when None):
    a pure function of the policy version, kept in its prepared memo."""
    memo, policy = prepared.use_texts, prepared.policy
    found = memo.get((key, version.name, figure))
    if found is None:
        definition = policy.definition(version.name)
        label = definition.label("en") if definition else version.name
        region = definition.region if definition else policy.region
        shown = figure if figure is not None else figure_text(version)
        found = (f"{region} {label} {shown}".strip(),
                 f"{definition.label('zh') if definition else version.name} "
                 f"{figure if figure is not None else figure_text(version, 'zh')}".strip())
        memo.put((key, version.name, figure), found)
    return found




class Lookup:
    """Versions and figures for one person: `for hukou.type = …` versions, table cells by the person's facts.

    A fact a version or a cell needs and the person lacks is the person's problem (InvalidPerson), unless the
    lookup is given a `missing` list: then the fact is added to it and nothing is found (the column back end's
    probe persons, whose persons the one-person back end then answers with the problem)."""

    __slots__ = ("policy", "person", "lang", "missing")  # read on every figure looked up (no instance dict to search)

    def __init__(self, policy: model.Policy, person: Person, lang: str = "zh", missing: list[str] | None = None):
        self.policy, self.person, self.lang, self.missing = policy, person, lang, missing

    def label(self, name: str) -> str:
        d = self.policy.definition(name)
        return d.label(self.lang) if d else name

    def labels(self, name: str) -> Text:
        """The name's label in both languages (for a problem's text)."""
        d = self.policy.definition(name)
        return _labels(d) if d else Text(name, name)

    def value(self, name: str, day: dt.date) -> model.Version | None:
        """The version in force on `day` that applies to this person; InvalidPerson when a fact it needs is missing."""
        found = self.policy.versions_at(name, day)
        if len(found) == 1 and found[0].condition is None:
            return found[0]
        matching = [v for v in found if v.condition is None or self.person.fact(v.condition[0]) == v.condition[1]]
        if matching:
            return matching[0]
        missing = sorted({v.condition[0] for v in found if v.condition and self.person.fact(v.condition[0]) is None})
        if missing and self.missing is not None:
            self.missing.extend(missing)
        elif missing:
            label = self.labels(name)
            raise InvalidPerson(say("fact.needed", label=label), [
                FieldError(pointer("person", *fact.split(".")), say("fact.depends", fact=fact, label=label, day=day))
                for fact in missing])
        return None

    def rule(self, name: str, day: dt.date) -> model.Version:
        """The version on `day`, or the first one there is (a rule the explanation cites)."""
        return self.value(name, day) or next(iter(self.policy.all_versions(name)))

    def constant(self, name: str, day: dt.date) -> Decimal:
        version = self.value(name, day) or next(iter(self.policy.all_versions(name)), None)
        if version is None:
            raise InvalidInput(say("policy.undefined", name=name))
        return version.figure

    def figure(self, version: model.Version):
        """A version's figure; for a table, the cell for this person's facts (InvalidPerson when one is missing)."""
        layer = self.policy.layer_of(version)
        if not layer or not layer.keys:
            return version.figure
        key_fact = layer.keys[0]
        key = self.person.fact(key_fact)
        keys = [r.key for r in version.rows]
        if (key is None or key not in keys) and self.missing is not None:
            self.missing.append(key_fact)
            return None
        if key is None or key not in keys:
            hint = say("fact.or-scheme-start") if version.name == "scheme_start" else Text("", "")
            choices = "、".join(keys)
            detail = say("fact.key-required", fact=key_fact, choices=choices, hint=hint) if key is None else \
                say("fact.key-not-one-of", fact=key_fact, key=key, choices=choices, hint=hint)
            raise InvalidPerson(say("fact.table-needs", label=_labels(layer), fact=key_fact), [FieldError(
                pointer("person", *key_fact.split(".")), detail)])
        row = next(r for r in version.rows if r.key == key)
        figures = {f for _, f in row.values}
        if len(figures) == 1:
            return figures.pop()
        column_fact = layer.keys[1] if len(layer.keys) > 1 else None
        column = self.person.fact(column_fact) if column_fact else None
        match = next((f for c, f in row.values if c == column), None)
        if match is None and self.missing is not None:
            self.missing.append(column_fact)
            return None
        if match is None:
            raise InvalidPerson(say("fact.table-needs", label=_labels(layer), fact=column_fact), [FieldError(
                pointer("person", *str(column_fact).split(".")), say(
                    "fact.column-decides", fact=column_fact, key=key, label=_labels(layer),
                    cells=", ".join(f"{c} {show(f)}" for c, f in row.values)))])
        return match

    def scheme_start(self, as_of: dt.date) -> tuple[dt.date, model.Version | None]:
        """The person's scheme start: given as a fact, or the policy's (a table by county and hukou type)."""
        if self.person.scheme_start_date:
            return self.person.scheme_start_date, None
        version = self.rule("scheme_start", as_of)
        return self.figure(version), version


def _labels(definition) -> Text:
    return Text(definition.label("zh"), definition.label("en"))


def show(figure) -> str:
    """A figure as the explanation shows it."""
    if isinstance(figure, Amount):
        return fmt(figure.total)
    if isinstance(figure, Decimal):
        return f"{figure.normalize():f}"
    if isinstance(figure, dt.date):
        return figure.isoformat()
    return str(figure)


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def figure_text(version: model.Version, lang: str = "en") -> str:
    f = version.figure
    if isinstance(f, dt.date):
        return f.isoformat()
    if isinstance(f, bool):  # the machine-facing value says yes/no; the Chinese text 是/否
        return ("是" if f else "否") if lang == "zh" else ("yes" if f else "no")
    if isinstance(f, Decimal):
        return percent(f) if version.name == "interest_rate" else f"{f}"
    start = version.start.isoformat() if version.start else ""
    if lang == "zh":
        return f"（{start} 起）" if start else ""
    return f"(from {start})" if start else ""
