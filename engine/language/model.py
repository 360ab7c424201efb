"""The checked model of one region: definitions resolved, typed and layered on their base.

Built by `engine.language.check`; read by `engine.core.one_person`. Expression subtrees are reused from
`engine.language.nodes`.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from decimal import Decimal

import attrs

from engine.language import nodes
from engine.language.source import SourceFile, Span

LEVELS = ("central", "province", "city", "county")
LEVEL_NAMES = {
    "central": "central", "中央": "central",
    "province": "province", "省": "province", "省级": "province", "自治区": "province",
    "city": "city", "市": "city", "市级": "city",
    "county": "county", "县": "county", "县级": "county", "区县": "county",
}
LEVEL_LABELS = {"central": "中央", "province": "省级", "city": "市级", "county": "县级"}
STATUS_NAMES = {
    "law": "law", "法规": "law", "seed": "seed", "种子": "seed", "文献": "seed",
    "proposal": "proposal", "建议值": "proposal", "provisional": "provisional", "暂定值": "provisional",
}
STATUS_LABELS = {"law": "法规", "seed": "文献", "proposal": "建议值", "provisional": "暂定值"}
UNCONFIRMED = ("proposal", "provisional")


@attrs.frozen
class SourceDoc:
    name: str
    title: str
    number: str | None
    issued: dt.date | None
    status: str
    seed: str | None
    span: Span

    @property
    def text(self) -> str:
        head = f"{self.number}《{self.title}》" if self.number else f"《{self.title}》"
        return head + (f"（种子文献 {self.seed}）" if self.seed else "")


@attrs.frozen
class Cite:
    """A resolved citation: the source, the status of the figure it backs, a note."""

    source: SourceDoc
    status: str
    note: str | None
    span: Span

    @property
    def text(self) -> str:
        return self.source.text + (f"；{self.note}" if self.note else "")


@attrs.frozen
class TierRow:
    """A tier (or, in a range table, the band of amounts from `tier` up to the next band) and its subsidy."""

    tier: Decimal
    subsidy: tuple[tuple[str, Decimal], ...]  # (level, amount) in LEVELS order
    only_daijiao: bool
    span: Span
    band: bool = False  # keyed `2000+`: every amount from here up to the next band
    only_groups: tuple[str, ...] = ()  # `仅限 低保对象 特困人员`: open only to members (or, with only_daijiao, 代缴)

    def open_to(self, daijiao: bool, held: frozenset) -> bool:
        """Whether a person with (or without) a 代缴 amount, holding these groups, may choose this tier."""
        if not self.only_daijiao and not self.only_groups:
            return True
        return (self.only_daijiao and daijiao) or not held.isdisjoint(self.only_groups)


@attrs.frozen
class AmountRange:
    """`1000-9000 step 100` on a tier table's version line: any amount from `low` to `high` (both included)
    that is a whole number of `step`s above `low` (a fen when no step is stated)."""

    low: Decimal
    high: Decimal
    step: Decimal

    def admits(self, amount: Decimal) -> bool:
        return self.low <= amount <= self.high and (amount - self.low) % self.step == 0

    def text(self) -> str:
        step = f" step {self.step.normalize():f}" if self.step != Decimal("0.01") else ""
        return f"{self.low:.2f}–{self.high:.2f}{step}"

    __str__ = text


def band_of(rows, amount: Decimal):
    """The row of the band `amount` falls in (rows keyed by their lowest amount), or None below the first."""
    found = None
    for row in rows:
        if row.tier <= amount and (found is None or row.tier > found.tier):
            found = row
    return found


@attrs.frozen
class GroupRow:
    """A row keyed by group (代缴 or reward): amount None means "the lowest tier", or `share` of it (50%)."""

    group: str
    position: str | None
    amount: Decimal | None
    by_level: tuple[tuple[str, Decimal], ...]
    span: Span
    share: Decimal | None = None


@attrs.frozen
class KeyedRow:
    """A row of a `table … by fact1, fact2`: the key (fact1's value) and a figure per column (fact2's values)."""

    key: str
    values: tuple[tuple[str, object], ...]
    span: Span


@attrs.frozen
class BandRow:
    """A band `low-high` (both included) or `low+`, with its figure."""

    low: Decimal
    high: Decimal | None
    amount: Decimal
    span: Span

    def contains(self, x: Decimal) -> bool:
        return x >= self.low and (self.high is None or x <= self.high)


class Dated:
    """Shared by anything with an inclusive `start`–`end` period (None = open)."""

    start: dt.date | None
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @property
    def in_force(self) -> dict:
        """The period as the explanation carries it (one shared dict per period: read it, do not change it)."""
        key = (self.start, self.end)
        period = _PERIODS.get(key)
        if period is None:
            period = _PERIODS[key] = {"from": self.start.isoformat() if self.start else None,
                                      "to": self.end.isoformat() if self.end else None}
        return period


_PERIODS: dict[tuple, dict] = {}


@attrs.frozen
class Version:
    """One dated version of a definition, as the evaluator reads it."""

    name: str
    start: dt.date | None
    end: dt.date | None
    condition: tuple[str, str] | None
    figure: object  # Decimal, date, bool or None
    rows: tuple
    cite: Cite
    span: Span

    covers = Dated.covers
    in_force = Dated.in_force


@attrs.frozen
class Definition:
    """A dated block of one layer: kind, unit, who pays, and its versions in date order."""

    kind: str
    name: str
    labels: nodes.Labels
    unit: str | None
    paid_by: str | None
    basis: str | None  # `by age` / `by continuous_years` / `per counted_years`
    beyond: Decimal | None
    for_groups: tuple[str, ...]
    versions: tuple[Version, ...]
    region: str
    span: Span
    keys: tuple[str, ...] = ()
    cap: int | None = None  # paid for at most this many years (the first in year order that earn it)

    def label(self, lang: str = "zh") -> str:
        return (self.labels.en if lang == "en" else self.labels.zh) or self.labels.zh or self.name


@attrs.frozen
class Formula:
    """A component of the monthly pension or a `let` helper, resolved."""

    kind: str
    name: str
    labels: nodes.Labels
    expr: nodes.Expr
    cite: Cite | None
    when: nodes.Expr | None
    paid_while: str
    paid_by: str | None
    region: str
    span: Span
    start: dt.date | None = None
    end: dt.date | None = None

    def label(self, lang: str = "zh") -> str:
        return (self.labels.en if lang == "en" else self.labels.zh) or self.labels.zh or self.name

    covers = Dated.covers
    in_force = Dated.in_force


@attrs.frozen
class GroupDef:
    name: str
    labels: nodes.Labels
    required_key: str | None
    choices: tuple[str, ...]
    span: Span
    choice_labels: tuple[tuple[str, str | None], ...] = ()

    def choice_label(self, value: str, lang: str = "zh") -> str:
        """A choice as a caseworker reads it: its label and the value (书记/主任 secretary), or the value alone."""
        label = dict(self.choice_labels).get(value)
        return value if lang == "en" or not label else f"{label} {value}"


@attrs.frozen
class FactDef:
    name: str
    labels: nodes.Labels
    type: str
    choices: tuple[tuple[str, str | None], ...]
    required: bool
    required_unless: str | None
    span: Span


@attrs.frozen
class Policy:
    """Everything the evaluator needs for one region, layered on its bases.

    A value: what the checker built, and what is derived from it once, as it is built (`digest`, the names of each
    kind, when each definition's versions in force change, each raise's dated versions). The bounded memos an
    evaluation keeps for a policy version live beside it, in engine.core.prepared."""

    region: str
    labels: nodes.Labels
    chain: tuple[str, ...]  # this region first, then its bases
    sources: dict[str, SourceDoc]
    groups: dict[str, GroupDef]
    facts: dict[str, FactDef]
    definitions: dict[str, tuple[Definition, ...]]  # most specific layer first
    formulas: dict[str, Formula]  # components and lets, merged by name
    components: tuple[str, ...]  # component names in pension order
    aliases: dict[str, str]  # Chinese label → name
    files: dict[str, SourceFile]
    # derived, once
    digest: str = attrs.field(init=False, eq=False, repr=False)  # the policy version
    kinds: dict[str, tuple[str, ...]] = attrs.field(init=False, eq=False, repr=False)  # kind → definition names
    # name → (the days on which its versions in force change, the versions in force from each of them): between two
    # of them the same versions are in force
    timeline: dict[str, tuple[tuple[dt.date, ...], tuple[tuple[Version, ...], ...]]] = \
        attrs.field(init=False, eq=False, repr=False)
    raises: dict[str, tuple[Version, ...]] = attrs.field(init=False, eq=False, repr=False)  # `events` of each raise
    layers: dict[int, tuple[Version, Definition]] = attrs.field(init=False, eq=False, repr=False)  # by version's id

    def __attrs_post_init__(self):
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].text.encode() + b"\0")
        kinds: dict[str, list[str]] = {}
        for name, layers in self.definitions.items():
            kinds.setdefault(layers[0].kind, []).append(name)
        object.__setattr__(self, "digest", "sha256:" + h.hexdigest())
        object.__setattr__(self, "kinds", {kind: tuple(names) for kind, names in kinds.items()})
        object.__setattr__(self, "timeline", {name: self._timeline(name) for name in self.definitions})
        object.__setattr__(self, "raises", {name: self._events(name) for name in self.kinds.get("raise", ())})
        object.__setattr__(self, "layers", {id(v): (v, layer) for layers in self.definitions.values()
                                            for layer in layers for v in layer.versions})

    def _timeline(self, name: str) -> tuple[tuple[dt.date, ...], tuple[tuple[Version, ...], ...]]:
        days = sorted({d for layer in self.definitions[name] for v in layer.versions
                       for d in (v.start, v.end + dt.timedelta(days=1) if v.end and v.end < dt.date.max else None)
                       if d is not None})
        # in force before the first change day (from dt.date.min), then from each change day on
        found = [tuple(self._versions_at(name, day)) for day in [dt.date.min, *days]]
        return tuple(days), tuple(found)

    def names_of_kind(self, kind: str) -> tuple[str, ...]:
        """Definition names of one kind (e.g. every `reward`)."""
        return self.kinds.get(kind, ())

    def resolve(self, name: str) -> str:
        return self.aliases.get(name, name)

    def definition(self, name: str) -> Definition | None:
        layers = self.definitions.get(self.resolve(name))
        return layers[0] if layers else None

    def versions_at(self, name: str, day: dt.date) -> tuple[Version, ...]:
        """The versions in force on `day`: the most specific layer that covers the day wins.

        代缴 tables are not inherited: a region pays only the 代缴 amounts it states (domain.md: "The full lowest
        tier is the amount of region `national` only"), so a region without a 代缴 table pays none.
        """
        timeline = self.timeline.get(name) or self.timeline.get(self.resolve(name))
        if timeline is None:
            return []
        days, found = timeline
        return found[bisect.bisect_right(days, day)]

    def _versions_at(self, name: str, day: dt.date) -> list[Version]:
        layers = self.definitions.get(self.resolve(name), ())
        if layers and layers[0].kind == "daijiao":
            layers = [layer for layer in layers[:1] if layer.region == self.region]
        for layer in layers:
            found = [v for v in layer.versions if v.covers(day)]
            if found:
                return found
        return []

    def events(self, name: str) -> tuple[Version, ...]:
        """The dated versions of a `raise`, each one raise from its start: a region's raise replaces its
        base's on the days the region's versions cover (as for any dated block)."""
        found = self.raises.get(name)
        return found if found is not None else self._events(name)

    def _events(self, name: str) -> tuple[Version, ...]:
        return tuple(sorted((v for v in self.all_versions(name) if v.start is not None and
                             any(w is v for w in self.versions_at(name, v.start))), key=lambda v: v.start))

    def layer_of(self, version: Version) -> Definition | None:
        """The layer (the region's block, or a base's) the version comes from."""
        found = self.layers.get(id(version))
        return found[1] if found is not None and found[0] is version else None

    def all_versions(self, name: str) -> list[Version]:
        return [v for layer in self.definitions.get(self.resolve(name), ()) for v in layer.versions]

    def group_label(self, group: str, lang: str = "zh") -> str:
        g = self.groups.get(group)
        if g is None:
            return group
        return (g.labels.en if lang == "en" else g.labels.zh) or group
