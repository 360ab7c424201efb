"""The PERSON of contract.md, read and validated against a region's declared facts.

Wrong JSON types are `malformed` (400 at the API); well-formed but invalid values are not (422);
every offending field is named by its JSON pointer, all at once.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from decimal import Decimal
from typing import NamedTuple

import attrs

from engine.core.memo import Memo
from engine.core.prepared import prepare
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidInput, InvalidPerson, pointer
from engine.language.model import Policy
from engine.language.text import Text

# The PERSON's shape, defined once: this reader, the column path and the JSON Schema (web/schema.py) use it.
# yuan: at most 12 digits before the point and two after, no sign, no exponent (a larger figure is no pension's).
# Matched whole (fullmatch: "100.00\n" is not money); `^…$` so that JSON Schema can carry the same pattern.
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONEY = re.compile(MONEY_PATTERN)
DATE = re.compile(DATE_PATTERN)
KINDS = ("regular", "back_payment")
GROUP_KEYS = ("id", "from", "to")
GROUP_REQUIRED = ("id", "from")
# field → kind of value: "integer", "money", "date" or a tuple of allowed words
CONTRIBUTION_FIELDS = {"year": "integer", "tier": "money", "kind": KINDS, "date": "date", "collective": "money"}
CONTRIBUTION_REQUIRED = ("year", "tier", "kind")
CONTRIBUTION_KEYS = set(CONTRIBUTION_FIELDS)
OPENING_FIELDS = {"amount": "money", "as_of": "date"}
OPENING_KEYS = set(OPENING_FIELDS)
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
FIRST_YEAR, LAST_YEAR = EARLIEST.year, LATEST.year


@attrs.frozen
class Membership:
    group: str
    start: dt.date
    end: dt.date | None
    position: str | None
    index: int

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Record(NamedTuple):
    """One contribution record as submitted; `index` is its place in the request list.

    A named tuple, not an attrs class: one is made for every record read, and a tuple is made in a third of the
    time (`_record`, tuple.__new__ without the Python-level constructor)."""

    index: int
    year: int
    tier: Decimal
    kind: str
    date: dt.date | None
    collective: Decimal


@attrs.frozen
class Person:
    id: str | None
    birth_date: dt.date
    death_date: dt.date | None
    hukou: dict[str, str]
    scheme_start_date: dt.date | None
    pension_start_date: dt.date | None
    groups: tuple[Membership, ...]
    contributions: tuple[Record, ...]
    opening_balance: tuple[Decimal, dt.date] | None
    facts: dict[str, object]

    def fact(self, name: str):
        if name.startswith("hukou."):
            return self.hukou.get(name.split(".", 1)[1])
        return self.facts.get(name)

    def groups_on(self, day: dt.date) -> list[Membership]:
        return [g for g in self.groups if g.holds(day)]

    @classmethod
    def probe(cls, facts: dict, groups: tuple[str, ...]) -> "Person":
        """A stand-in with only what a lookup reads: hukou facts and the groups held (a population back end
        looks figures up once for everyone who shares them)."""
        hukou = {k.split(".", 1)[-1]: v for k, v in facts.items() if v is not None}
        members = tuple(Membership(g, EARLIEST, None, None, i) for i, g in enumerate(groups))
        return cls(None, EARLIEST, None, hukou, None, None, members, (), None, {})


def read_as_of(value: object, at: str = "/as_of") -> dt.date:
    if not isinstance(value, str):
        raise InvalidInput(say("person.as-of-type"), [FieldError(at, say("person.as-of-expected"))], malformed=True)
    errors: list[FieldError] = []
    day = _date(value, at, errors)
    if errors:
        raise InvalidInput(say("person.as-of-invalid"), errors)
    return day


def read_person(policy: Policy, data: object, as_of: dt.date, at: str = "/person") -> Person:
    reader = _Reader(policy, at)
    person = reader.read(data, as_of)
    if reader.type_errors:
        raise InvalidPerson(say("person.wrong-types"), reader.type_errors, malformed=True)
    if reader.errors:
        raise InvalidPerson(say("person.invalid"), reader.errors)
    return person


class LazyPointer:
    """A JSON pointer not yet written out (str() writes it)."""

    __slots__ = ("prefix", "parts")

    def __init__(self, prefix: str, parts: tuple):
        self.prefix, self.parts = prefix, parts

    def __str__(self) -> str:
        return self.prefix + pointer(*self.parts)


class _Reader:
    def __init__(self, policy: Policy, at: str):
        self.policy = policy
        self.shape = _shape(policy)
        self.at = at
        self.errors: list[FieldError] = []
        self.type_errors: list[FieldError] = []

    def ptr(self, *parts) -> "LazyPointer":
        # Built for every field read but needed only for an error: the text is made when a FieldError is.
        return LazyPointer(self.at, parts)

    def typed(self, value, types, where: str, expected: str) -> bool:
        """Whether `value` has one of `types`; a type error if not (`expected`: a key of the catalogue's
        `expect.*` texts)."""
        if value is None:
            return False
        types = types if isinstance(types, tuple) else (types,)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            self.type_errors.append(FieldError(where, say("person.expected", expected=say(expected),
                                                           got=_json_type(value))))
            return False
        return True

    def read(self, data, as_of: dt.date) -> Person | None:
        if not isinstance(data, dict):
            self.type_errors.append(FieldError(self.at, say("person.expected", expected=say("expect.json-object"),
                                                             got=_json_type(data))))
            return None
        self.unknown_keys(data)
        facts = self.simple_facts(data)
        birth = facts.get("birth_date")
        if "birth_date" not in facts and data.get("birth_date") is None:
            self.errors.append(FieldError(self.ptr("birth_date"), say("person.birth-required")))
        if birth and birth > as_of:
            self.errors.append(FieldError(self.ptr("birth_date"), say("person.birth-after-as-of", birth=birth,
                                                                       as_of=as_of)))
        death = facts.get("death_date")
        if death and birth and death < birth:
            self.errors.append(FieldError(self.ptr("death_date"), say("person.death-before-birth", death=death,
                                                                       birth=birth)))
        hukou = self.hukou(data.get("hukou"))
        groups = self.groups(data.get("groups"))
        records = self.contributions(data.get("contributions"))
        opening = self.opening(data.get("opening_balance"), as_of)
        if self.errors or self.type_errors or birth is None:
            return None
        return Person(facts.get("id"), birth, death, hukou, facts.get("scheme_start_date"),
                      facts.get("pension_start_date"), tuple(groups), tuple(records), opening, facts)

    def unknown_keys(self, data: dict) -> None:
        top = self.shape.top
        for key in data:
            if key not in top:
                self.errors.append(FieldError(self.ptr(key), say("person.unknown-fact", key=key,
                                                                 suggest=_suggest(key, top))))

    def simple_facts(self, data: dict) -> dict:
        out = {}
        for name, fact in self.shape.simple:
            value = data.get(name)
            if value is None:
                if fact.required and name != "birth_date":
                    self.errors.append(FieldError(self.ptr(name), say("person.required", name=name)))
                continue
            where = self.ptr(name)
            if fact.type == "date":
                day = _plain_date(value)  # a valid date string, read before; anything else is checked below
                if day is not None:
                    out[name] = day
                elif self.typed(value, str, where, "expect.date"):
                    day = _date(value, where, self.errors)
                    if day:
                        out[name] = day
            elif fact.type == "money":
                amount = self.money(value, where)
                if amount is not None:
                    out[name] = amount
            elif self.typed(value, str, where, "expect.string"):
                if fact.choices and value not in self.shape.choices[fact.name]:
                    self.errors.append(FieldError(where, say("person.not-one-of", value=value,
                                                             choices=", ".join(c for c, _ in fact.choices))))
                else:
                    out[name] = value
        return out

    def hukou(self, value) -> dict[str, str]:
        if value is None:
            return {}
        if not self.typed(value, dict, self.ptr("hukou"), "expect.hukou"):
            return {}
        declared = self.shape.hukou
        out = {}
        for key, v in value.items():
            where = self.ptr("hukou", key)
            fact = declared.get(key)
            if fact is None:
                self.errors.append(FieldError(where, say("person.unknown-fact", key=f"hukou.{key}",
                                                         suggest=_suggest(key, declared))))
            elif v is None:
                continue
            elif self.typed(v, str, where, "expect.string"):
                if fact.choices and v not in self.shape.choices[fact.name]:
                    self.errors.append(FieldError(where, say("person.not-one-of", value=v,
                                                             choices=", ".join(c for c, _ in fact.choices))))
                else:
                    out[key] = v
        return out

    def groups(self, value) -> list[Membership]:
        if value is None or not self.typed(value, list, self.ptr("groups"), "expect.groups"):
            return []
        out = []
        for i, item in enumerate(value):
            if not self.typed(item, dict, self.ptr("groups", i), "expect.group"):
                if item is None:
                    self.type_errors.append(FieldError(self.ptr("groups", i), _got_null()))
                continue
            membership = self.group(i, item)
            if membership:
                out.append(membership)
        return out

    def group(self, i: int, item: dict) -> Membership | None:
        gid = item.get("id")
        definition = None
        if gid is None:
            self.errors.append(FieldError(self.ptr("groups", i, "id"), say("person.group-id-required")))
        elif self.typed(gid, str, self.ptr("groups", i, "id"), "expect.group-id"):
            definition = self.policy.groups.get(gid)
            if definition is None:
                self.errors.append(FieldError(self.ptr("groups", i, "id"), say(
                    "person.unknown-group", gid=gid, suggest=_suggest(gid, self.policy.groups))))
        allowed = set(GROUP_KEYS) | ({definition.required_key} if definition and definition.required_key else set())
        for key in item:
            if key not in allowed:
                self.errors.append(FieldError(self.ptr("groups", i, key), say("person.unknown-key", key=key,
                                                                              suggest=NO_SUGGESTION)))
        start = self.date_field(item, "from", ("groups", i), required=True)
        end = self.date_field(item, "to", ("groups", i))
        if start and end and end < start:
            self.errors.append(FieldError(self.ptr("groups", i, "to"), say("person.to-before-from", end=end,
                                                                            start=start)))
        position = None
        if definition and definition.required_key:
            key = definition.required_key
            position = item.get(key)
            where = self.ptr("groups", i, key)
            if position is None:
                self.errors.append(FieldError(where, say("person.group-needs", gid=gid, key=key,
                                                         choices=", ".join(definition.choices))))
            elif self.typed(position, str, where, "expect.string") and position not in definition.choices:
                self.errors.append(FieldError(where, say("person.not-one-of", value=position,
                                                         choices=", ".join(definition.choices))))
        if definition is None or start is None:
            return None
        return Membership(definition.name, start, end, position, i)

    def contributions(self, value) -> list[Record]:
        if value is None or not self.typed(value, list, self.ptr("contributions"), "expect.records"):
            return []
        out = []
        for i, item in enumerate(value):
            record = _plain_record(i, item)
            if record is not None:  # well formed and valid: what the checks below would make of it
                out.append(record)
                continue
            where = ("contributions", i)
            if item is None or not self.typed(item, dict, self.ptr(*where), "expect.record"):
                if item is None:
                    self.type_errors.append(FieldError(self.ptr(*where), _got_null()))
                continue
            for key in item:
                if key not in CONTRIBUTION_KEYS:
                    self.errors.append(FieldError(self.ptr(*where, key), say(
                        "person.unknown-key", key=key, suggest=_suggest(key, CONTRIBUTION_KEYS))))
            year = item.get("year")
            if year is None:
                self.errors.append(FieldError(self.ptr(*where, "year"), say("person.year-required")))
            elif self.typed(year, int, self.ptr(*where, "year"), "expect.integer") and not FIRST_YEAR <= year <= LAST_YEAR:
                self.errors.append(FieldError(self.ptr(*where, "year"), say(
                    "person.year-range", year=year, first=FIRST_YEAR, last=LAST_YEAR)))
                year = None
            tier = item.get("tier")
            if tier is None:
                self.errors.append(FieldError(self.ptr(*where, "tier"), say("person.tier-required")))
            else:
                tier = self.money(tier, self.ptr(*where, "tier"))
            kind = item.get("kind")
            if kind is None:
                self.errors.append(FieldError(self.ptr(*where, "kind"), say("person.kind-required")))
            elif self.typed(kind, str, self.ptr(*where, "kind"), "expect.string") and kind not in KINDS:
                self.errors.append(FieldError(self.ptr(*where, "kind"), say("person.kind-invalid", kind=kind)))
                kind = None
            date = self.date_field(item, "date", where)
            collective = item.get("collective")
            collective = Decimal(0) if collective is None else self.money(collective, self.ptr(*where, "collective"))
            if isinstance(year, int) and not isinstance(year, bool) and tier is not None and kind in KINDS \
                    and collective is not None:
                out.append(Record(i, year, tier, kind, date, collective))
        return out

    def opening(self, value, as_of: dt.date) -> tuple[Decimal, dt.date] | None:
        where = ("opening_balance",)
        if value is None or not self.typed(value, dict, self.ptr(*where), "expect.opening"):
            return None
        for key in value:
            if key not in OPENING_KEYS:
                self.errors.append(FieldError(self.ptr(*where, key), say("person.unknown-key", key=key,
                                                                         suggest=NO_SUGGESTION)))
        amount = value.get("amount")
        if amount is None:
            self.errors.append(FieldError(self.ptr(*where, "amount"), say("person.required", name="amount")))
        else:
            amount = self.money(amount, self.ptr(*where, "amount"))
        day = self.date_field(value, "as_of", where, required=True)
        if day and (day.month, day.day) != (12, 31):
            self.errors.append(FieldError(self.ptr(*where, "as_of"), say("person.opening-not-year-end", day=day)))
        elif day and day > as_of:
            self.errors.append(FieldError(self.ptr(*where, "as_of"), say("person.opening-after-as-of", day=day,
                                                                          as_of=as_of)))
        if amount is None or day is None:
            return None
        return (amount, day)

    def date_field(self, item: dict, key: str, where: tuple, required: bool = False) -> dt.date | None:
        value = item.get(key)
        at = self.ptr(*where, key)
        if value is None:
            if required:
                self.errors.append(FieldError(at, say("person.date-required", key=key)))
            return None
        if not self.typed(value, str, at, "expect.date"):
            return None
        return _date(value, at, self.errors)

    def money(self, value, where: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            self.type_errors.append(FieldError(where, say("person.money-type", got=_json_type(value))))
            return None
        text = str(value)
        if isinstance(value, float):
            text = repr(value)
        if "e" in text.lower():
            self.errors.append(FieldError(where, say("person.money-exponent", text=text)))
            return None
        if text.startswith("-"):
            self.errors.append(FieldError(where, say("person.money-negative", text=text)))
            return None
        if not MONEY.fullmatch(text):
            self.errors.append(FieldError(where, say("person.money-invalid", text=text[:40])))
            return None
        return Decimal(text)


def _plain_record(i: int, item) -> Record | None:
    """The record `item` is when every field is present or absent as allowed and of the plain JSON type, with a
    valid value (a string tier and collective, an integer year in range, a known kind, a valid date string);
    None otherwise, for `_Reader.contributions` to read it field by field and name every problem."""
    if type(item) is not dict or not item.keys() <= CONTRIBUTION_KEYS:
        return None
    get = item.get
    year, tier, kind = get("year"), get("tier"), get("kind")
    if type(year) is not int or not FIRST_YEAR <= year <= LAST_YEAR or type(tier) is not str \
            or (kind != "regular" and kind != "back_payment"):
        return None
    tier = _MONEY_READ.get(tier) or _plain_money(tier)  # read before (0 is read again: it is falsy)
    if tier is None:
        return None
    date = get("date")
    if date is not None:
        date = (_DATES_READ.get(date) if type(date) is str else None) or _plain_date(date)
        if date is None:
            return None
    collective = get("collective")
    if collective is None:
        collective = NO_COLLECTIVE
    else:
        collective = _plain_money(collective)
        if collective is None:
            return None
    return _record(Record, (i, year, tier, kind, date, collective))


_record = tuple.__new__
NO_COLLECTIVE = Decimal(0)
# Texts read before and what they were: records repeat the same few tiers and dates, and reading them again
# costs a pattern match and a parse each. The same text gives the same object, so the price memo's keys
# (engine.core.pricing) compare by identity. Bounded: the oldest entry goes first.
_MONEY_READ = Memo()
_DATES_READ = Memo()


def _plain_money(text) -> Decimal | None:
    """The amount a valid money string names (as `_Reader.money` reads it); None for anything it would refuse."""
    if type(text) is not str:
        return None
    amount = _MONEY_READ.get(text)
    if amount is None:
        if not MONEY.fullmatch(text):
            return None
        amount = Decimal(text)
        _MONEY_READ.put(text, amount)
    return amount


def _plain_date(text) -> dt.date | None:
    """The day a valid date string names (as `_date` reads it); None for anything `_date` would refuse."""
    if type(text) is not str:
        return None
    day = _DATES_READ.get(text)
    if day is None:
        if not DATE.fullmatch(text):
            return None
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return None
        if not EARLIEST <= day <= LATEST:
            return None
        _DATES_READ.put(text, day)
    return day


@attrs.frozen
class _Shape:
    """What the reader asks of a region's declared facts for every person, worked out once per policy version."""

    top: frozenset  # the keys a PERSON may have
    simple: tuple  # (name, fact) of the facts read directly from the PERSON's own keys
    hukou: dict  # hukou key → fact
    choices: dict  # fact name → the values it allows (facts with choices)


def _shape(policy: Policy) -> _Shape:
    """The reader's shape of the region's declared facts, kept in the policy version's `Prepared`."""
    prepared = prepare(policy)
    shape = prepared.person_shape
    if shape is None:
        facts = policy.facts
        shape = prepared.person_shape = _Shape(
            frozenset(name.split(".")[0] for name in facts),
            tuple((name, f) for name, f in facts.items()
                  if "." not in name and f.type not in ("groups", "contributions", "opening_balance")),
            {name.split(".", 1)[1]: f for name, f in facts.items() if name.startswith("hukou.")},
            {f.name: frozenset(c for c, _ in f.choices) for f in facts.values() if f.choices})
    return shape


def _date(text: str, where: str, errors: list[FieldError]) -> dt.date | None:
    if not DATE.fullmatch(text):
        errors.append(FieldError(where, say("person.date-format", text=text)))
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(where, say("person.date-calendar", text=text)))
        return None
    if not EARLIEST <= day <= LATEST:
        errors.append(FieldError(where, say("person.date-range", text=text, earliest=EARLIEST, latest=LATEST)))
        return None
    return day


NO_SUGGESTION = Text("", "")


def _json_type(value) -> Text:
    if value is None:
        return say("json.null")
    if isinstance(value, bool):
        return say("json.boolean")
    if isinstance(value, (int, float, Decimal)):
        return say("json.number")
    if isinstance(value, str):
        return say("json.string")
    if isinstance(value, list):
        return say("json.list")
    return say("json.object")


def _got_null() -> Text:
    return say("person.expected", expected=say("expect.object"), got=say("json.null"))


def _suggest(word: str, candidates) -> Text:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return say("person.suggest", a=close[0]) if close else NO_SUGGESTION
