"""What every check shares: the words and builtins of the language, and the `Checker` that collects a region's
declarations and every diagnostic."""
from __future__ import annotations

import datetime as dt
import difflib

import attrs

from engine.language import model, nodes, units
from engine.language.builtins import BASES, BUILTIN_ALIASES, BUILTINS, FUNCTIONS  # noqa: F401 (the checks' words)
from engine.language.catalogue import Text, diagnostic, say
from engine.language.errors import Diagnostic
from engine.language.source import SourceFile, Span

DAY = dt.timedelta(days=1)
LOWEST_TIER_WORDS = {"最低档次", "最低档", "lowest_tier", "lowest"}
DAIJIAO_WORDS = {"代缴对象", "代缴", "daijiao"}
ONLY_WORDS = {"仅限", "only", "适用"}
YES = {"是", "yes", "true"}
NO = {"否", "no", "false"}
KINDS_WITH_TABLE = {"tiers", "subsidy", "floor", "daijiao", "reward", "table"}
BANDED = {"bonus", "raise"}  # a single figure, or a table by band of a basis (`by age`)
CAPPABLE = {"tiers", "subsidy", "reward"}  # items paid per contribution year, which `at most N years` limits
INTERCHANGEABLE = {"value", "table"}  # a region may give by table what its base gives as one value
MONTHLY = units.parse_unit("元/月")
# `while …`: the status in which a component is paid (engine.core.mechanics.STATUSES), in either language
WHILE_WORDS = {"receiving": "receiving", "领取期间": "receiving", "contributing": "contributing",
               "缴费期间": "contributing", "not_eligible": "not_eligible", "未符合领取条件": "not_eligible"}




def unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.span.file, d.span.line, d.span.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def unit_text(unit: units.Unit | None) -> Text:
    return Text(units.describe(unit), units.describe(unit, "en"))


def did_you_mean(name: str, candidates) -> Text | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return say("did-you-mean", a=close[0]) if close else None


@attrs.define
class Layer:
    """One region's parsed files, as handed to the checker."""

    region: str
    files: list[nodes.PolicyFile]
    sources: dict[str, SourceFile]


class Checker:
    def __init__(self, layers: list[Layer]):
        self.layers = layers
        self.region = layers[-1].region
        self.diagnostics: list[Diagnostic] = []
        self.region_node: nodes.Region | None = None
        self.sources: dict[str, model.SourceDoc] = {}
        self.groups: dict[str, model.GroupDef] = {}
        self.facts: dict[str, model.FactDef] = {}
        self.aliases: dict[str, str] = {}
        self.definitions: dict[str, list[model.Definition]] = {}
        self.formulas: dict[str, model.Formula] = {}
        self.components: list[str] = []
        self.formula_units: dict[str, units.Unit | None] = {}

    def error(self, code: str, key: str, span: Span, hint: str | Text | None = None, **args) -> None:
        """A diagnostic: the catalogue's text `key` (engine.language.catalogue.TEXTS) and hint (a key or a Text)."""
        self.diagnostics.append(diagnostic(code, key, span, hint, **args))

    def each(self, kind):
        for layer in self.layers:
            for f in layer.files:
                for d in f.definitions:
                    if isinstance(d, kind):
                        yield layer, d

    def build(self) -> model.Policy:
        files = {}
        for layer in self.layers:
            files.update(layer.sources)
        labels = self.region_node.labels if self.region_node else nodes.Labels()
        return model.Policy(
            region=self.region, labels=labels, chain=tuple(l.region for l in reversed(self.layers)),
            sources=self.sources, groups=self.groups, facts=self.facts,
            definitions={k: tuple(reversed(v)) for k, v in self.definitions.items()},
            formulas=self.formulas, components=tuple(self.components), aliases=self.aliases, files=files)
