"""Parsed policy files of a region and its bases → the checked model, or every problem at once.

`check(layers)` runs an ordered list of named checks (OPA-style); each appends Diagnostics.
"""
from __future__ import annotations

import bisect
import datetime as dt
import difflib
from decimal import Decimal

import attrs

from engine.language import model, nodes, units
from engine.language.catalogue import Text, diagnostic, say
from engine.language.errors import Diagnostic, PolicyError
from engine.language.source import SourceFile, Span

DAY = dt.timedelta(days=1)
BUILTINS = {
    "age": ("年龄", units.parse_unit("岁")),
    "counted_years": ("累计缴费年限", units.parse_unit("年")),
    "continuous_years": ("连续缴费年限", units.parse_unit("年")),
    "regular_years": ("正常缴费年限", units.parse_unit("年")),  # counted years less back payments
    "balance_at_pension_start": ("领取时账户余额", units.parse_unit("元")),
    # history: the person's pension start (0 while no start is known)
    "age_at_pension_start": ("领取时年龄", units.parse_unit("岁")),
    "pension_start_year": ("领取起始年份", units.DIMENSIONLESS),
}
BUILTIN_ALIASES = {zh: name for name, (zh, _) in BUILTINS.items()}
# what a bonus or raise table is looked up `by`, or a bonus counted `per`
BASES = ("age", "counted_years", "continuous_years", "regular_years", "age_at_pension_start")
FUNCTIONS = {"max": "max", "min": "min", "round": "round", "member": "member", "属于": "member",
             "最大": "max", "最小": "min", "四舍五入": "round"}
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


@attrs.define
class Layer:
    """One region's parsed files, as handed to the checker."""

    region: str
    files: list[nodes.PolicyFile]
    sources: dict[str, SourceFile]


def check(layers: list[Layer]) -> model.Policy:
    """`layers` runs from the base (national) to the region being checked."""
    checker = _Checker(layers)
    for step in CHECKS:
        step(checker)
    if checker.diagnostics:
        raise PolicyError(_unique(checker.diagnostics))
    return checker.build()


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.span.file, d.span.line, d.span.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _unit_text(unit: units.Unit | None) -> Text:
    return Text(units.describe(unit), units.describe(unit, "en"))


def _did_you_mean(name: str, candidates) -> Text | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return say("did-you-mean", a=close[0]) if close else None


class _Checker:
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


def check_regions(c: _Checker) -> None:
    """Every file opens with `region <its folder>`; a region names an existing base."""
    known = {layer.region for layer in c.layers}
    for layer in c.layers:
        for f in layer.files:
            heads = [d for d in f.definitions if isinstance(d, nodes.Region)]
            if not heads:
                c.error("missing-region", "missing-region", Span(f.name, 1, 1), "missing-region.hint",
                        a=layer.region)
            for head in heads:
                if head.name != layer.region:
                    c.error("region-mismatch", "region-mismatch", head.span, "region-mismatch.hint", a=layer.region,
                            b=head.name)
                if head.extends and head.extends not in known:
                    c.error("unknown-name", "unknown-base", head.span,
                            _did_you_mean(head.extends, known) or "unknown-base.hint", a=head.extends)
                if layer.region == c.region and (head.labels.zh or head.extends) and c.region_node is None:
                    c.region_node = head


def check_sources(c: _Checker) -> None:
    for _, s in c.each(nodes.Source):
        if s.name in c.sources:
            c.error("duplicate-definition", "source-twice", s.span, "source-twice.hint", a=s.name,
                    b=c.sources[s.name].span)
            continue
        status = model.STATUS_NAMES.get(s.status or "")
        if status is None:
            span = s.status_span or s.span
            c.error("unknown-status", "source-status", span,
                    _did_you_mean(s.status or "", model.STATUS_NAMES) or "source-status.hint", a=s.name)
            status = "provisional"
        c.sources[s.name] = model.SourceDoc(s.name, s.labels.zh or s.name, s.number, s.issued, status, s.seed,
                                            s.span)


def check_declarations(c: _Checker) -> None:
    """Groups and facts: declared once in the chain (a region may add new ones)."""
    for _, g in c.each(nodes.Group):
        if g.name in c.groups:
            c.error("duplicate-definition", "group-twice", g.span, "group-twice.hint", a=g.name,
                    b=c.groups[g.name].span)
            continue
        c.groups[g.name] = model.GroupDef(g.name, g.labels, g.required_key, g.choices, g.span, g.choice_labels)
        if g.labels.zh:
            c.aliases[g.labels.zh] = g.name
    for _, f in c.each(nodes.Fact):
        if f.name in c.facts and c.facts[f.name].span.file.split("/")[1:2] == f.span.file.split("/")[1:2]:
            c.error("duplicate-definition", "fact-twice", f.span, "fact-twice.hint", a=f.name,
                    b=c.facts[f.name].span)
        c.facts[f.name] = model.FactDef(f.name, f.labels, f.type, f.choices, f.required, f.required_unless,
                                        f.span)


def check_blocks(c: _Checker) -> None:
    """Dated blocks: one per name per region, each version typed and cited."""
    for layer in c.layers:
        seen: dict[str, nodes.Block] = {}
        for _, b in ((layer, d) for f in layer.files for d in f.definitions if isinstance(d, nodes.Block)):
            name = c.aliases.get(b.name, b.name)
            if name in seen:
                c.error("duplicate-definition", "block-twice", b.span, "block-twice.hint", a=b.name, b=layer.region,
                        c=seen[name].span)
                continue
            seen[name] = b
            base = c.definitions.get(name)
            if base and base[0].kind != b.kind and {base[0].kind, b.kind} != INTERCHANGEABLE:
                c.error("type-mismatch", "kind-differs", b.span, "kind-differs.hint", a=b.name, b=base[0].kind,
                        c=b.kind)
                continue
            definition = _definition(c, layer.region, b, base[0] if base else None)
            c.definitions.setdefault(name, []).append(definition)
            if b.labels.zh:
                c.aliases.setdefault(b.labels.zh, name)


def _definition(c: _Checker, region: str, b: nodes.Block, base: model.Definition | None) -> model.Definition:
    unit_clause, paid, by, per, for_ = (b.clause(k) for k in ("unit", "paid_by", "by", "per", "for"))
    unit = unit_clause.args[0] if unit_clause else (base.unit if base else None)
    if unit is not None and unit not in units.NON_NUMERIC and units.parse_unit(unit) is None:
        c.error("unknown-unit", "unknown-unit", unit_clause.span, "unknown-unit.hint", a=unit)
    paid_by = None
    if paid:
        paid_by = model.LEVEL_NAMES.get(paid.args[0])
        if paid_by is None:
            c.error("unknown-name", "unknown-level", paid.span,
                    _did_you_mean(paid.args[0], model.LEVEL_NAMES) or "unknown-level.hint", a=paid.args[0])
    elif base:
        paid_by = base.paid_by
    keys: tuple[str, ...] = ()
    if b.kind == "table":
        keys = by.args if by else ()
        for key in keys:
            if key not in c.facts:
                c.error("unknown-name", "unknown-fact", by.span, _did_you_mean(key, c.facts), a=key)
        if not keys:
            c.error("bad-table", "table-without-facts", b.span, "table-without-facts.hint", a=b.name)
        by = None
    basis = by.args[0] if by else (per.args[0] if per else (base.basis if base else None))
    beyond = Decimal(per.args[1]) if per else (base.beyond if base and not by else None)
    if basis is not None and basis not in BASES and BUILTIN_ALIASES.get(basis) not in BASES:
        span = (by or per).span if (by or per) else b.span
        if BUILTIN_ALIASES.get(basis, basis) in BUILTINS:
            c.error("unknown-name", "not-a-basis", span, "not-a-basis.hint", a=basis)
        else:
            bases = list(BASES) + [zh for zh, name in BUILTIN_ALIASES.items() if name in BASES]
            c.error("unknown-name", "unknown-basis", span,
                    _did_you_mean(basis, bases) or "unknown-basis.hint", a=basis)
    basis = BUILTIN_ALIASES.get(basis, basis)
    groups = tuple(_group(c, g, for_.span) or g for g in for_.args) if for_ else (base.for_groups if base else ())
    versions = _versions(c, b, unit)
    return model.Definition(b.kind, c.aliases.get(b.name, b.name), b.labels if b.labels.zh else
                            (base.labels if base else b.labels), unit, paid_by, basis, beyond, groups,
                            versions, region, b.span, keys, _cap(c, b, base))


def _cap(c: _Checker, b: nodes.Block, base: model.Definition | None) -> int | None:
    """`at most 15 years`: a positive whole number of years, on an item paid per contribution year."""
    clause = b.clause("cap")
    if clause is None:
        return base.cap if base else None
    years = Decimal(clause.args[0])
    if b.kind not in CAPPABLE:
        c.error("bad-cap", "cap-kind", clause.span, "cap-kind.hint", a=b.kind)
        return None
    if years != years.to_integral_value() or years <= 0:
        c.error("bad-cap", "cap-years", clause.span, "cap-years.hint", a=clause.args[0])
        return None
    return int(years)


def _group(c: _Checker, word: str, span: Span) -> str | None:
    name = c.aliases.get(word, word)
    if name in c.groups:
        return name
    c.error("unknown-name", "unknown-group", span,
            _did_you_mean(word, list(c.groups) + [g.labels.zh for g in c.groups.values() if g.labels.zh]), a=word)
    return None


def _versions(c: _Checker, b: nodes.Block, unit: str | None) -> tuple[model.Version, ...]:
    out = []
    for v in b.versions:
        cite = _cite(c, v.citation, v.span, say("word.version", a=b.name))
        condition = None
        if v.condition:
            condition = (v.condition.fact, v.condition.value)
            fact = c.facts.get(v.condition.fact)
            if fact is None:
                c.error("unknown-name", "unknown-fact", v.condition.span,
                        _did_you_mean(v.condition.fact, c.facts), a=v.condition.fact)
            elif fact.choices and v.condition.value not in {ch for ch, _ in fact.choices}:
                c.error("unknown-name", "not-a-value", v.condition.span, "one-of", a=v.condition.value, b=fact.name,
                        c=", ".join(ch for ch, _ in fact.choices))
        figure = _figure(c, b, v, unit)
        rows = _rows(c, b, v)
        start, end = v.period.start, v.period.end
        if start and end and end < start:
            c.error("bad-period", "period-reversed", v.period.span, "period-reversed.hint", a=end, b=start)
        if cite is not None:
            out.append(model.Version(c.aliases.get(b.name, b.name), start, end, condition, figure, rows, cite,
                                     v.span))
    return _close_periods(out)


def _close_periods(versions: list[model.Version]) -> tuple[model.Version, ...]:
    """A version without `until` runs until the day before the next one (same condition) starts."""
    starts: dict = {}
    for w in versions:
        if w.start:
            starts.setdefault(w.condition, set()).add(w.start)
    ordered = {condition: sorted(days) for condition, days in starts.items()}  # one sort per condition
    out = []
    for v in versions:
        if v.end is None and v.start:
            days = ordered.get(v.condition, [])
            i = bisect.bisect_right(days, v.start)
            if i < len(days):
                v = attrs.evolve(v, end=days[i] - DAY)
        out.append(v)
    return tuple(sorted(out, key=lambda v: (v.start or dt.date.min, str(v.condition))))


def _cite(c: _Checker, cit: nodes.Citation | None, span: Span, what: Text) -> model.Cite | None:
    if cit is None:
        c.error("missing-citation", "no-citation", span, "no-citation.hint", a=what)
        return None
    source = c.sources.get(cit.source)
    if source is None:
        c.error("unknown-name", "unknown-source", cit.span,
                _did_you_mean(cit.source, c.sources) or "unknown-source.hint", a=cit.source)
        return None
    status = source.status
    if cit.status:
        status = model.STATUS_NAMES.get(cit.status)
        if status is None:
            c.error("unknown-status", "unknown-status", cit.span,
                    _did_you_mean(cit.status, model.STATUS_NAMES) or "unknown-status.hint", a=cit.status)
            status = "provisional"
    return model.Cite(source, status, cit.note, cit.span)


def _figure(c: _Checker, b: nodes.Block, v: nodes.Version, unit: str | None):
    atom = v.figure
    if v.step is not None and (atom is None or atom.kind != "BAND" or b.kind != "tiers"):
        c.error("bad-range", "step-without-range", v.step.span, "step-without-range.hint")
    if b.kind == "tiers" and atom is not None and atom.kind == "BAND":
        return _amount_range(c, atom, v.step)
    if b.kind in KINDS_WITH_TABLE or (b.kind in BANDED and b.clause("by")) or b.kind == "early_start":
        if atom is not None:
            c.error("type-mismatch", "table-not-figure", atom.span, "table-not-figure.hint", a=b.kind)
        return None
    if atom is None:
        c.error("missing-figure", "no-figure", v.span, "no-figure.hint", a=b.name)
        return None
    return _typed_figure(c, atom, unit)


def _amount_range(c: _Checker, atom: nodes.Atom, step: nodes.Atom | None) -> model.AmountRange | None:
    parts = [p for p in atom.text.replace(" ", "").replace("–", "-").replace("~", "-").split("-") if p]
    if len(parts) != 2:
        c.error("bad-range", "not-a-range", atom.span, "not-a-range.hint", a=atom.text)
        return None
    low, high = Decimal(parts[0]), Decimal(parts[1])
    size = Decimal(step.text) if step is not None else Decimal("0.01")
    if high < low:
        c.error("bad-range", "range-reversed", atom.span, "range-reversed.hint", a=atom.text)
        return None
    if size <= 0 or (high - low) % size:
        c.error("bad-range", "step-divides", step.span if step is not None else atom.span, "step-divides.hint",
                a=size.normalize(), b=low, c=high)
        return None
    return model.AmountRange(low, high, size)


def _typed_figure(c: _Checker, atom: nodes.Atom, unit: str | None):
    if unit in ("date", "日期"):
        if atom.kind != "DATE":
            c.error("type-mismatch", "not-a-date", atom.span, "not-a-date.hint", a=atom.text)
            return None
        return dt.date.fromisoformat(atom.text)
    if unit in ("yes_no", "是否"):
        if atom.text not in YES | NO:
            c.error("type-mismatch", "not-yes-no", atom.span, "not-yes-no.hint", a=atom.text)
            return None
        return atom.text in YES
    if unit is not None and unit.split("/")[0] == "%":  # `%`, or a percentage per year `%/年`
        if atom.kind != "PERCENT":
            c.error("unit-mismatch", "not-a-percentage", atom.span, "not-a-percentage.hint", a=atom.text)
            return None
        return Decimal(atom.text[:-1]) / 100
    if atom.kind == "PERCENT":
        c.error("unit-mismatch", "percentage-not-unit", atom.span, "percentage-not-unit.hint", a=atom.text, b=unit)
        return None
    if atom.kind != "NUMBER":
        c.error("type-mismatch", "not-a-number", atom.span, "not-a-number.hint", a=atom.text, b=unit)
        return None
    return Decimal(atom.text)


def _rows(c: _Checker, b: nodes.Block, v: nodes.Version) -> tuple:
    if b.kind not in KINDS_WITH_TABLE and not (b.kind in BANDED and b.clause("by")):
        if v.rows:
            c.error("type-mismatch", "figure-not-table", v.rows[0].span, "figure-not-table.hint", a=b.kind)
        return ()
    if len(v.rows) < 2:
        c.error("bad-table", "table-too-short", v.span, "table-too-short.hint", a=b.name)
        return ()
    header, body = v.rows[0], v.rows[1:]
    reader = {"tiers": _tier_row, "subsidy": _tier_row, "daijiao": _group_row, "reward": _group_row,
              "table": lambda c, row, cols: _keyed_row(c, row, cols, b.clause("unit"))}
    columns = _columns(c, b, header)
    rows = []
    for row in body:
        if len(row.cells) != len(header.cells):
            c.error("bad-table", "row-width", row.span, "row-width.hint", a=len(row.cells), b=len(header.cells))
            continue
        built = reader.get(b.kind, _band_row)(c, row, columns)
        if built is not None:
            rows.append(built)
    return tuple(rows)


def _columns(c: _Checker, b: nodes.Block, header: nodes.Row) -> list[str]:
    """What each column holds: 'key' (first), a funding level, 'only', or 'amount'."""
    out = ["key"]
    for cell in header.cells[1:]:
        words = [a.text for a in cell]
        level = next((model.LEVEL_NAMES[w] for w in words if w in model.LEVEL_NAMES), None)
        if level:
            out.append(level)
        elif any(w in ONLY_WORDS for w in words):
            out.append("only")
        elif b.kind == "table":
            out.append("col:" + " ".join(words))
        elif b.kind in ("tiers", "subsidy", "reward"):
            span = cell[0].span if cell else header.span
            c.error("bad-table", "unknown-column", span, "unknown-column.hint", a=' '.join(words))
            out.append("unknown")
        else:
            out.append("amount")
    return out


def _number(c: _Checker, cell: tuple[nodes.Atom, ...], span: Span, what: Text) -> Decimal | None:
    if not cell or (len(cell) == 1 and cell[0].kind == "DASH"):
        return Decimal(0)
    if len(cell) != 1 or cell[0].kind != "NUMBER":
        c.error("type-mismatch", "cell-not-number", cell[0].span if cell else span, "cell-not-number.hint", a=what,
                b=' '.join(a.text for a in cell))
        return None
    return Decimal(cell[0].text)


def _tier_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    band = len(key) == 1 and key[0].kind == "BAND" and key[0].text.endswith("+")
    if len(key) == 1 and key[0].kind == "BAND" and not band:
        c.error("type-mismatch", "tier-is-range", key[0].span, "tier-is-range.hint", a=key[0].text)
        return None
    tier = Decimal(key[0].text[:-1]) if band else _number(c, key, row.span, say("word.tier"))
    subsidy, only, groups = {}, False, []
    for col, cell in zip(columns[1:], row.cells[1:]):
        if col in model.LEVELS:
            amount = _number(c, cell, row.span, say("word.subsidy"))
            if amount is None:
                return None
            subsidy[col] = subsidy.get(col, Decimal(0)) + amount
        elif col == "only":  # 代缴对象 (has a 代缴 amount) and/or groups: the tier is open only to them
            for atom in (a for a in cell if a.kind != "DASH"):
                if atom.text in DAIJIAO_WORDS:
                    only = True
                elif c.aliases.get(atom.text, atom.text) in c.groups:
                    groups.append(c.aliases.get(atom.text, atom.text))
                else:
                    c.error("unknown-name", "unknown-only", atom.span, _did_you_mean(atom.text, list(DAIJIAO_WORDS) + [
                        g.labels.zh for g in c.groups.values() if g.labels.zh]) or "unknown-only.hint", a=atom.text)
    if tier is None:
        return None
    return model.TierRow(tier, tuple((l, subsidy[l]) for l in model.LEVELS if l in subsidy), only, row.span, band,
                         tuple(groups))


def _group_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    if not key:
        c.error("bad-table", "group-missing", row.span, "group-missing.hint")
        return None
    group = _group(c, key[0].text, key[0].span)
    position = key[1].text if len(key) > 1 else None
    if group and position is not None:
        g = c.groups[group]
        if position not in g.choices:
            c.error("unknown-name", "not-a-key-value", key[1].span,
                    _did_you_mean(position, g.choices) or "one-of-choice", a=position, b=g.required_key, c=group,
                    d=", ".join(g.choices))
    amount, by_level, share = None, {}, None
    for col, cell in zip(columns[1:], row.cells[1:]):
        if col == "amount":
            if len(cell) == 1 and cell[0].text in LOWEST_TIER_WORDS:
                amount = None
            elif cell and cell[0].kind == "PERCENT" and all(a.text in LOWEST_TIER_WORDS for a in cell[1:]):
                share = Decimal(cell[0].text[:-1]) / 100  # `50%` or `50% 最低档次`: a share of the lowest tier
                if not 0 < share <= 1:
                    c.error("unit-mismatch", "share-range", cell[0].span, "share-range.hint", a=cell[0].text)
            else:
                amount = _number(c, cell, row.span, say("word.amount"))
        elif col in model.LEVELS:
            value = _number(c, cell, row.span, say("word.amount"))
            by_level[col] = by_level.get(col, Decimal(0)) + (value or 0)
    if by_level:
        amount = sum(by_level.values(), Decimal(0))
    if group is None:
        return None
    return model.GroupRow(group, position, amount, tuple((l, by_level[l]) for l in model.LEVELS if l in by_level),
                          row.span, share)


def _keyed_row(c: _Checker, row: nodes.Row, columns: list[str], unit_clause: nodes.Clause | None):
    key = row.cells[0]
    if len(key) != 1:
        c.error("bad-table", "key-cell", key[0].span if key else row.span, "key-cell.hint")
        return None
    unit = unit_clause.args[0] if unit_clause else None
    values = []
    for col, cell in zip(columns[1:], row.cells[1:]):
        if len(cell) != 1:
            c.error("bad-table", "one-figure-cell", cell[0].span if cell else row.span, "one-figure-cell.hint")
            return None
        figure = _typed_figure(c, cell[0], unit)
        if figure is None:
            return None
        values.append((col.removeprefix("col:"), figure))
    return model.KeyedRow(key[0].text, tuple(values), row.span)


def _band_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    if len(key) != 1 or key[0].kind not in ("BAND", "NUMBER"):
        c.error("bad-table", "not-a-band", key[0].span if key else row.span, "not-a-band.hint",
                a=' '.join(a.text for a in key))
        return None
    text = key[0].text.replace(" ", "")
    if text.endswith("+"):
        low, high = Decimal(text[:-1]), None
    elif key[0].kind == "NUMBER":
        low = high = Decimal(text)
    else:
        parts = [p for p in text.replace("–", "-").replace("~", "-").split("-") if p]
        low, high = Decimal(parts[0]), Decimal(parts[1])
        if high < low:
            c.error("bad-table", "band-reversed", key[0].span, "band-reversed.hint", a=text)
    amount = _number(c, row.cells[1], row.span, say("word.figure")) if len(row.cells) > 1 else None
    return None if amount is None else model.BandRow(low, high, amount, row.span)


def check_periods(c: _Checker) -> None:
    """Versions of one definition (for the same persons) neither overlap nor leave gaps.

    A sweep in date order (n log n: a value may have thousands of versions); each version that starts while
    an earlier one is still in force is reported once, naming the earlier one that ends last.
    """
    for layers in c.definitions.values():
        for d in layers:
            versions = [v for v in d.versions if v.start]
            conditions = {v.condition for v in versions}
            for condition in conditions if conditions != {None} else {None}:
                # the persons a condition covers also see the versions for everyone (no condition)
                group = sorted((v for v in versions if v.condition in (condition, None)),
                               key=lambda v: (v.start, id(v)))
                if condition is not None and not any(v.condition == condition for v in group):
                    continue
                _sweep(c, d, group, report_both_unconditioned=condition is None or len(conditions) == 1)
            same = {}
            for v in versions:
                same.setdefault(v.condition, []).append(v)
            same = {}
            for v in versions:
                same.setdefault(v.condition, []).append(v)
            for group in same.values():
                group.sort(key=lambda v: v.start)
                for a, b in zip(group, group[1:]):
                    if a.end is not None and a.end + DAY < b.start:
                        c.error("gapped-periods", "gap", b.span, "gap.hint", a=d.name, b=a.end + DAY,
                                c=b.start - DAY)


def _sweep(c: _Checker, d: model.Definition, group: list, report_both_unconditioned: bool) -> None:
    latest = None  # the earlier version still in force that ends last
    for b in group:
        if latest is not None and (report_both_unconditioned or b.condition is not None or
                                   latest.condition is not None):
            if latest.start == b.start:
                c.error("overlapping-periods", "same-start", b.span, "same-start.hint", a=d.name, b=b.start)
            elif latest.end is None or latest.end >= b.start:
                c.error("overlapping-periods", "overlap", b.span, "overlap.hint", a=d.name, b=b.start,
                        c=latest.start, d=latest.end, e=b.start - DAY)
        if latest is None or b.end is None or (latest.end is not None and b.end >= latest.end) or \
                (latest.end is not None and latest.end < b.start):
            latest = b


def check_raises(c: _Checker) -> None:
    """A raise happens on a date (no `always`) and goes by the age on that date (`by age`) or is one figure."""
    for layers in c.definitions.values():
        for d in layers:
            if d.kind != "raise":
                continue
            if d.basis not in (None, "age"):
                c.error("type-mismatch", "raise-basis", d.span, "raise-basis.hint", a=d.basis)
            if d.beyond is not None:
                c.error("type-mismatch", "raise-per-year", d.span, "raise-per-year.hint")
            for v in d.versions:
                if v.start is None:
                    c.error("bad-period", "raise-always", v.span, "raise-always.hint")


def check_tables(c: _Checker) -> None:
    """Tier tables: no duplicate tier, subsidies never fall as tiers rise; bands neither overlap nor gap."""
    for layers in c.definitions.values():
        for d in layers:
            for v in d.versions:
                if d.kind in ("tiers", "subsidy"):
                    _check_tier_rows(c, d, v)
                elif v.rows and isinstance(v.rows[0], model.BandRow):
                    _check_bands(c, d, v)


def _check_range(c: _Checker, d: model.Definition, v: model.Version) -> None:
    """A range table: every row a band `N+`, the first at the range's lowest amount, none beyond its highest;
    a table of exact tiers has no bands (a subsidy table may be banded on its own)."""
    span = v.rows[0].span if v.rows else v.span
    if isinstance(v.figure, model.AmountRange):
        r = v.figure
        for row in v.rows:
            if not row.band:
                c.error("bad-range", "range-exact-tier", row.span, "range-exact-tier.hint", a=row.tier)
            elif not r.admits(row.tier):
                c.error("bad-range", "band-outside-range", row.span, "band-outside-range.hint", a=row.tier,
                        b=r.text())
        lows = sorted(row.tier for row in v.rows if row.band)
        if lows and lows[0] != r.low:
            c.error("gapped-bands", "range-first-band", span, "range-first-band.hint", a=r.low, b=lows[0])
    elif d.kind == "tiers" and any(row.band for row in v.rows) and not any(
            x.code == "bad-range" and x.span.file == v.span.file and x.span.line == v.span.line for x in c.diagnostics):
        c.error("bad-range", "bands-without-range", v.span, "bands-without-range.hint")
    elif len({row.band for row in v.rows}) > 1:
        c.error("bad-range", "mixed-bands", span, "mixed-bands.hint")


def _check_tier_rows(c: _Checker, d: model.Definition, v: model.Version) -> None:
    _check_range(c, d, v)
    seen = {}
    previous = None
    for row in sorted(v.rows, key=lambda r: r.tier):
        if row.tier in seen:
            c.error("duplicate-tier", "tier-twice", row.span, "tier-twice.hint", a=row.tier, b=d.name,
                    c=seen[row.tier].span.line)
            continue
        seen[row.tier] = row
        total = sum((a for _, a in row.subsidy), Decimal(0))
        if previous is not None and total < previous[1]:
            c.error("falling-subsidy", "subsidy-falls", row.span, "subsidy-falls.hint", a=row.tier, b=total,
                    c=previous[0], d=previous[1])
        previous = (row.tier, total)


def _check_bands(c: _Checker, d: model.Definition, v: model.Version) -> None:
    rows = sorted(v.rows, key=lambda r: r.low)
    for a, b in zip(rows, rows[1:]):
        if a.high is None or a.high >= b.low:
            c.error("overlapping-bands", "bands-overlap", b.span, "bands-overlap.hint", a=b.low, b=a.low,
                    c=b.low - 1)
        elif a.high + 1 < b.low:
            gap = f"{a.high + 1}" if a.high + 1 == b.low - 1 else f"{a.high + 1} to {b.low - 1}"
            c.error("gapped-bands", "band-gap", b.span, "band-gap.hint", a=gap, b=a.high + 1)


def check_floors(c: _Checker) -> None:
    """Every tier table version pays at least the subsidy floors in force during its period."""
    floors = [v for name, layers in c.definitions.items() for d in layers if d.kind == "floor" for v in d.versions]
    for layers in c.definitions.values():
        for d in layers:
            if d.kind != "tiers":
                continue
            for v in d.versions:
                for f in floors:
                    if not _overlaps(v, f):
                        continue
                    for row in v.rows:
                        local = sum((a for l, a in row.subsidy if l != "central"), Decimal(0))
                        for amount in _amounts_to_check(v, row, f.rows):
                            floor = next((b.amount for b in f.rows if b.contains(amount)), None)
                            if floor is not None and local < floor:
                                c.error("below-floor", "below-floor", row.span, "below-floor.hint", a=amount,
                                        b=local, c=floor, d=f.start, e=f.span)
                                break


def _amounts_to_check(v: model.Version, row: model.TierRow, floor_rows) -> list[Decimal]:
    """A tier itself; for a band, its lowest amount and every amount in it where a floor band starts."""
    if not row.band or not isinstance(v.figure, model.AmountRange):
        return [row.tier]
    above = [r.tier for r in v.rows if r.tier > row.tier]
    top = min(above) if above else v.figure.high + Decimal("0.01")
    return [row.tier] + [b.low for b in floor_rows if row.tier < b.low < top]


def _overlaps(a: model.Version, b: model.Version) -> bool:
    a0, a1 = a.start or dt.date.min, a.end or dt.date.max
    b0, b1 = b.start or dt.date.min, b.end or dt.date.max
    return a0 <= b1 and b0 <= a1


def check_formulas(c: _Checker) -> None:
    """Components and lets: a region overrides by name; citations, names, units, cycles."""
    for layer, f in c.each(nodes.Component):
        existing = c.formulas.get(f.name)
        if existing and existing.region == layer.region:
            c.error("duplicate-definition", "formula-twice", f.span, "formula-twice.hint", a=f.name, b=layer.region,
                    c=existing.span)
            continue
        if f.name in c.definitions:
            c.error("duplicate-definition", "formula-name-taken", f.span, "formula-name-taken.hint", a=f.name,
                    b=c.definitions[f.name][0].kind)
            continue
        cite = _cite(c, f.citation, f.span, say("word.formula", a=f.kind, b=f.name))
        paid_by = model.LEVEL_NAMES.get(f.paid_by) if f.paid_by else None
        if f.paid_by and paid_by is None:
            c.error("unknown-name", "unknown-level", f.paid_by_span or f.span,
                    _did_you_mean(f.paid_by, model.LEVEL_NAMES) or "unknown-level.hint", a=f.paid_by)
        paid_while = WHILE_WORDS.get(f.paid_while)
        if paid_while is None:
            c.error("unknown-name", "unknown-state", f.while_span or f.span,
                    _did_you_mean(f.paid_while, WHILE_WORDS) or "unknown-state.hint", a=f.paid_while)
        start, end = (f.period.start, f.period.end) if f.period else (None, None)
        if start and end and end < start:
            c.error("bad-period", "period-reversed", f.period.span, "period-reversed.hint", a=end, b=start)
        c.formulas[f.name] = model.Formula(f.kind, f.name, f.labels, f.expr, cite, f.when, paid_while or "receiving",
                                           paid_by,
                                           layer.region, f.span, start, end)
        if f.kind == "component" and f.name not in c.components:
            c.components.append(f.name)
        if f.labels.zh:
            c.aliases[f.labels.zh] = f.name
    for name in _formula_order(c):
        formula = c.formulas[name]
        unit = _unit_of(c, formula.expr)
        c.formula_units[name] = unit
        if formula.kind == "component" and unit is not None and unit != MONTHLY:
            c.error("unit-mismatch", "component-unit", formula.span, "component-unit.hint", a=name,
                    b=_unit_text(unit))
        if formula.when is not None:
            _unit_of(c, formula.when)


def _references(c: _Checker, expr: nodes.Expr) -> list[nodes.Ref]:
    match expr:
        case nodes.Ref():
            return [expr]
        case nodes.Call(function=fn) if FUNCTIONS.get(fn) == "member":
            return []
        case nodes.Call(args=args):
            return [r for a in args for r in _references(c, a)]
        case nodes.Binary(left=l, right=r):
            return _references(c, l) + _references(c, r)
        case nodes.Unary(operand=o):
            return _references(c, o)
    return []


def _formula_order(c: _Checker) -> list[str]:
    """Formulas in dependency order; a cycle is reported once, at each formula on it."""
    order, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            f = c.formulas[name]
            c.error("cycle", "cycle", f.span, "cycle.hint", a=" → ".join(cycle))
            return
        state[name] = "active"
        f = c.formulas[name]
        deps = [f.expr] + ([f.when] if f.when is not None else [])
        for expr in deps:
            for ref in _references(c, expr):
                target = c.aliases.get(ref.name, ref.name)
                if target in c.formulas:
                    visit(target, path + [name])
        state[name] = "done"
        order.append(name)

    for name in list(c.formulas):
        visit(name, [])
    return order


def _unit_of(c: _Checker, expr: nodes.Expr) -> units.Unit | None:
    """The unit of an expression, reporting unknown names and unit mismatches; None = unknown/boolean."""
    match expr:
        case nodes.Number():
            return units.DIMENSIONLESS
        case nodes.Ref():
            return _ref_unit(c, expr)
        case nodes.Call(function=fn, args=args):
            return _call_unit(c, expr, FUNCTIONS.get(fn), args)
        case nodes.Unary(op="-", operand=o):
            return _unit_of(c, o)
        case nodes.Unary(operand=o):
            _unit_of(c, o)
            return None
        case nodes.Binary(op="==" | "!=") if _fact_test(c, expr) is not None:
            return None  # `hukou.type == rural`: true or false
        case nodes.Binary(op=op, left=l, right=r):
            lu, ru = _unit_of(c, l), _unit_of(c, r)
            if op in ("and", "or"):
                return None
            if op in ("+", "-") and any(isinstance(side, nodes.Number) and side.percent and other != units.DIMENSIONLESS
                                        for side, other in ((l, ru), (r, lu))):
                c.error("unit-mismatch", "percentage-added", expr.span, "percentage-added.hint", a=op)
                return None
            if lu is None or ru is None:
                return None
            if op in ("*", "/"):
                return units.multiply(lu, ru, 1 if op == "*" else -1)
            if lu != ru and lu != units.DIMENSIONLESS and ru != units.DIMENSIONLESS:
                c.error("unit-mismatch", "units-differ", expr.span, "units-differ.hint", a=_unit_text(lu),
                        b=_unit_text(ru), c=op)
                return None
            if op in ("+", "-"):
                return lu if lu != units.DIMENSIONLESS else ru
            return None
    return None


def fact_test(facts: dict, aliases: dict, expr: nodes.Binary) -> tuple[str, str, nodes.Ref] | None:
    """(fact, value as written, the value's node) of `fact == value` / `value == fact`, else None."""
    for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if isinstance(side, nodes.Ref) and side.name in facts and side.name not in aliases:
            value = other.name if isinstance(other, nodes.Ref) else (
                f"{other.value.normalize():f}" if isinstance(other, nodes.Number) else None)
            return side.name, value, other
    return None


def fact_value(fact: model.FactDef, written: str) -> str | None:
    """The canonical value of a fact as written (a choice by its name or its Chinese label), or None."""
    if not fact.choices:
        return written
    return next((name for name, zh in fact.choices if written in (name, zh)), None)


def _fact_test(c: _Checker, expr: nodes.Binary):
    found = fact_test(c.facts, c.aliases, expr)
    if found is None:
        return None
    name, written, node = found
    fact = c.facts[name]
    if fact.type not in ("text", "choice", "文本") or not name.startswith("hukou."):
        c.error("type-mismatch", "fact-not-comparable", expr.span, "fact-not-comparable.hint", a=name)
    elif written is None or fact_value(fact, written) is None:
        choices = ", ".join(ch + (f" ({zh})" if zh else "") for ch, zh in fact.choices)
        c.error("unknown-name", "not-a-value", node.span, "compare-with" if choices else "compare-with-word",
                a=written or "…", b=name, c=choices)
    return found


def _ref_unit(c: _Checker, ref: nodes.Ref) -> units.Unit | None:
    name = c.aliases.get(ref.name, BUILTIN_ALIASES.get(ref.name, ref.name))
    if name in c.facts and name not in c.formulas and name not in c.definitions:
        c.error("type-mismatch", "fact-alone", ref.span, "fact-alone.hint", a=ref.name,
                b=(c.facts[name].choices or (('红塔', None),))[0][0])
        return None
    if name in BUILTINS:
        return BUILTINS[name][1]
    if name in c.formulas:
        return c.formula_units.get(name)
    if name in c.definitions:
        d = c.definitions[name][-1]
        if d.kind in BANDED:
            return MONTHLY
        if d.kind != "value":
            c.error("type-mismatch", "table-in-formula", ref.span, "table-in-formula.hint", a=ref.name, b=d.kind)
            return None
        return units.parse_unit(d.unit) if d.unit else None
    candidates = list(c.formulas) + list(c.definitions) + list(BUILTINS) + list(BUILTIN_ALIASES) + \
        [a for a in c.aliases]
    c.error("unknown-name", "unknown-ref", ref.span,
            _did_you_mean(ref.name, candidates) or "unknown-ref.hint", a=ref.name)
    return None


def _call_unit(c: _Checker, call: nodes.Call, fn: str | None, args) -> units.Unit | None:
    if fn is None:
        c.error("unknown-name", "unknown-function", call.span,
                _did_you_mean(call.function, FUNCTIONS) or "unknown-function.hint", a=call.function)
        return None
    if fn == "member":
        if len(args) != 1 or not isinstance(args[0], nodes.Ref):
            c.error("type-mismatch", "member-args", call.span, "member-args.hint")
        else:
            _group(c, args[0].name, args[0].span)
        return None
    arg_units = [_unit_of(c, a) for a in args]
    if fn == "round":
        if len(args) != 1:
            c.error("type-mismatch", "round-args", call.span, "round-args.hint")
        return arg_units[0] if arg_units else None
    if len(args) < 2:
        c.error("type-mismatch", "min-max-args", call.span, "min-max-args.hint", a=fn)
    known = [u for u in arg_units if u not in (None, units.DIMENSIONLESS)]
    if any(u != known[0] for u in known):
        c.error("unit-mismatch", "mixed-units", call.span, "mixed-units.hint", a=fn,
                b=Text("、".join(units.describe(u) for u in known),
                       " and ".join(units.describe(u, "en") for u in known)))
        return None
    return known[0] if known else units.DIMENSIONLESS


CHECKS = (check_regions, check_sources, check_declarations, check_blocks, check_periods, check_raises, check_tables,
          check_floors, check_formulas)
