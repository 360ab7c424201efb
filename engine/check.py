"""Parsed policy files of a region and its bases → the checked model, or every problem at once.

`check(layers)` runs an ordered list of named checks (OPA-style); each appends Diagnostics.
"""
from __future__ import annotations

import bisect
import datetime as dt
import difflib
from decimal import Decimal

import attrs

from engine import model, nodes, units
from engine.errors import Diagnostic, PolicyError
from engine.source import SourceFile, Span

DAY = dt.timedelta(days=1)
BUILTINS = {
    "age": ("年龄", units.parse_unit("岁")),
    "counted_years": ("累计缴费年限", units.parse_unit("年")),
    "continuous_years": ("连续缴费年限", units.parse_unit("年")),
    "balance_at_pension_start": ("领取时账户余额", units.parse_unit("元")),
    # history: the person's pension start (0 while no start is known)
    "age_at_pension_start": ("领取时年龄", units.parse_unit("岁")),
    "pension_start_year": ("领取起始年份", units.DIMENSIONLESS),
}
BUILTIN_ALIASES = {zh: name for name, (zh, _) in BUILTINS.items()}
BASES = ("age", "counted_years", "continuous_years", "age_at_pension_start")  # what a bonus table is looked up `by` or counted `per`
FUNCTIONS = {"max": "max", "min": "min", "round": "round", "member": "member", "属于": "member",
             "最大": "max", "最小": "min", "四舍五入": "round"}
LOWEST_TIER_WORDS = {"最低档次", "最低档", "lowest_tier", "lowest"}
DAIJIAO_WORDS = {"代缴对象", "代缴", "daijiao"}
ONLY_WORDS = {"仅限", "only", "适用"}
YES = {"是", "yes", "true"}
NO = {"否", "no", "false"}
KINDS_WITH_TABLE = {"tiers", "subsidy", "floor", "daijiao", "reward", "table"}
BANDED = {"bonus", "raise"}
CAPPABLE = {"tiers", "subsidy", "reward"}  # items paid per contribution year, which `at most N years` limits  # a single figure, or a table by band of a basis (`by age`)
INTERCHANGEABLE = {"value", "table"}  # a region may give by table what its base gives as one value
MONTHLY = units.parse_unit("元/月")
# `while …`: the status in which a component is paid (engine.mechanics.STATUSES), in either language
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


def _did_you_mean(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else None


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

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint))

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
                c.error("missing-region", "this file does not say which region it belongs to",
                        Span(f.name, 1, 1), f"start the file with `region {layer.region}`")
            for head in heads:
                if head.name != layer.region:
                    c.error("region-mismatch", f"the file is in the folder of '{layer.region}' but says "
                            f"'region {head.name}'", head.span, f"write `region {layer.region}`")
                if head.extends and head.extends not in known:
                    c.error("unknown-name", f"unknown base region '{head.extends}'", head.span,
                            _did_you_mean(head.extends, known) or "regions extend `national`")
                if layer.region == c.region and (head.labels.zh or head.extends) and c.region_node is None:
                    c.region_node = head


def check_sources(c: _Checker) -> None:
    for _, s in c.each(nodes.Source):
        if s.name in c.sources:
            c.error("duplicate-definition", f"source '{s.name}' is declared twice", s.span,
                    f"first declared at {c.sources[s.name].span}; cite that one")
            continue
        status = model.STATUS_NAMES.get(s.status or "")
        if status is None:
            span = s.status_span or s.span
            c.error("unknown-status", f"source '{s.name}' needs a status: law, seed, proposal or provisional",
                    span, _did_you_mean(s.status or "", model.STATUS_NAMES) or "add `status law` (or seed …)")
            status = "provisional"
        c.sources[s.name] = model.SourceDoc(s.name, s.labels.zh or s.name, s.number, s.issued, status, s.seed,
                                            s.span)


def check_declarations(c: _Checker) -> None:
    """Groups and facts: declared once in the chain (a region may add new ones)."""
    for _, g in c.each(nodes.Group):
        if g.name in c.groups:
            c.error("duplicate-definition", f"group '{g.name}' is declared twice", g.span,
                    f"first declared at {c.groups[g.name].span}")
            continue
        c.groups[g.name] = model.GroupDef(g.name, g.labels, g.required_key, g.choices, g.span)
        if g.labels.zh:
            c.aliases[g.labels.zh] = g.name
    for _, f in c.each(nodes.Fact):
        if f.name in c.facts and c.facts[f.name].span.file.split("/")[1:2] == f.span.file.split("/")[1:2]:
            c.error("duplicate-definition", f"fact '{f.name}' is declared twice", f.span,
                    f"first declared at {c.facts[f.name].span}")
        c.facts[f.name] = model.FactDef(f.name, f.labels, f.type, f.choices, f.required, f.required_unless,
                                        f.span)


def check_blocks(c: _Checker) -> None:
    """Dated blocks: one per name per region, each version typed and cited."""
    for layer in c.layers:
        seen: dict[str, nodes.Block] = {}
        for _, b in ((layer, d) for f in layer.files for d in f.definitions if isinstance(d, nodes.Block)):
            name = c.aliases.get(b.name, b.name)
            if name in seen:
                c.error("duplicate-definition", f"'{b.name}' is defined twice in region '{layer.region}'", b.span,
                        f"first defined at {seen[name].span}; put every dated version under one definition")
                continue
            seen[name] = b
            base = c.definitions.get(name)
            if base and base[0].kind != b.kind and {base[0].kind, b.kind} != INTERCHANGEABLE:
                c.error("type-mismatch", f"'{b.name}' is a {base[0].kind} in the base region, not a {b.kind}",
                        b.span, f"write `{base[0].kind} {b.name}`")
                continue
            definition = _definition(c, layer.region, b, base[0] if base else None)
            c.definitions.setdefault(name, []).append(definition)
            if b.labels.zh:
                c.aliases.setdefault(b.labels.zh, name)


def _definition(c: _Checker, region: str, b: nodes.Block, base: model.Definition | None) -> model.Definition:
    unit_clause, paid, by, per, for_ = (b.clause(k) for k in ("unit", "paid_by", "by", "per", "for"))
    unit = unit_clause.args[0] if unit_clause else (base.unit if base else None)
    if unit is not None and unit not in units.NON_NUMERIC and units.parse_unit(unit) is None:
        c.error("unknown-unit", f"unknown unit '{unit}'", unit_clause.span,
                "use 元, 元/月, 元/年, 年, 月, 岁, %, date or yes_no")
    paid_by = None
    if paid:
        paid_by = model.LEVEL_NAMES.get(paid.args[0])
        if paid_by is None:
            c.error("unknown-name", f"unknown funding level '{paid.args[0]}'", paid.span,
                    _did_you_mean(paid.args[0], model.LEVEL_NAMES) or "use central, province, city or county")
    elif base:
        paid_by = base.paid_by
    keys: tuple[str, ...] = ()
    if b.kind == "table":
        keys = by.args if by else ()
        for key in keys:
            if key not in c.facts:
                c.error("unknown-name", f"unknown fact '{key}'", by.span, _did_you_mean(key, c.facts))
        if not keys:
            c.error("bad-table", f"table '{b.name}' must say which facts it is looked up by", b.span,
                    "add `by <fact>` (and a second fact for the columns), e.g. `by hukou.county, hukou.type`")
        by = None
    basis = by.args[0] if by else (per.args[0] if per else (base.basis if base else None))
    beyond = Decimal(per.args[1]) if per else (base.beyond if base and not by else None)
    if basis is not None and basis not in BASES and BUILTIN_ALIASES.get(basis) not in BASES:
        span = (by or per).span if (by or per) else b.span
        if BUILTIN_ALIASES.get(basis, basis) in BUILTINS:
            c.error("unknown-name", f"'{basis}' is not a basis a schedule can go by", span,
                    "use age, counted_years, continuous_years or age_at_pension_start")
        else:
            bases = list(BASES) + [zh for zh, name in BUILTIN_ALIASES.items() if name in BASES]
            c.error("unknown-name", f"unknown basis '{basis}'", span, _did_you_mean(basis, bases) or
                    "use age, counted_years, continuous_years or age_at_pension_start")
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
        c.error("bad-cap", f"a {b.kind} is not paid per contribution year, so it cannot be capped in years",
                clause.span, "cap a tiers, subsidy or reward block: the subsidy or reward it pays per year")
        return None
    if years != years.to_integral_value() or years <= 0:
        c.error("bad-cap", f"a cap of {clause.args[0]} years is not a positive whole number of years", clause.span,
                "write e.g. `at most 15 years` (最多 15 年)")
        return None
    return int(years)


def _group(c: _Checker, word: str, span: Span) -> str | None:
    name = c.aliases.get(word, word)
    if name in c.groups:
        return name
    c.error("unknown-name", f"unknown group '{word}'", span,
            _did_you_mean(word, list(c.groups) + [g.labels.zh for g in c.groups.values() if g.labels.zh]))
    return None


def _versions(c: _Checker, b: nodes.Block, unit: str | None) -> tuple[model.Version, ...]:
    out = []
    for v in b.versions:
        cite = _cite(c, v.citation, v.span, f"this version of '{b.name}'")
        condition = None
        if v.condition:
            condition = (v.condition.fact, v.condition.value)
            fact = c.facts.get(v.condition.fact)
            if fact is None:
                c.error("unknown-name", f"unknown fact '{v.condition.fact}'", v.condition.span,
                        _did_you_mean(v.condition.fact, c.facts))
            elif fact.choices and v.condition.value not in {ch for ch, _ in fact.choices}:
                c.error("unknown-name", f"'{v.condition.value}' is not a value of '{fact.name}'", v.condition.span,
                        "one of: " + ", ".join(ch for ch, _ in fact.choices))
        figure = _figure(c, b, v, unit)
        rows = _rows(c, b, v)
        start, end = v.period.start, v.period.end
        if start and end and end < start:
            c.error("bad-period", f"the period ends ({end}) before it starts ({start})", v.period.span,
                    "swap the dates or correct the year")
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


def _cite(c: _Checker, cit: nodes.Citation | None, span: Span, what: str) -> model.Cite | None:
    if cit is None:
        c.error("missing-citation", f"{what} cites no source", span,
                "end the line with `cite <source>`, naming a declared `source`")
        return None
    source = c.sources.get(cit.source)
    if source is None:
        c.error("unknown-name", f"unknown source '{cit.source}'", cit.span,
                _did_you_mean(cit.source, c.sources) or "declare it with `source <name> \"title\"`")
        return None
    status = source.status
    if cit.status:
        status = model.STATUS_NAMES.get(cit.status)
        if status is None:
            c.error("unknown-status", f"unknown status '{cit.status}'", cit.span,
                    _did_you_mean(cit.status, model.STATUS_NAMES) or "use provisional or proposal")
            status = "provisional"
    return model.Cite(source, status, cit.note, cit.span)


def _figure(c: _Checker, b: nodes.Block, v: nodes.Version, unit: str | None):
    atom = v.figure
    if v.step is not None and (atom is None or atom.kind != "BAND" or b.kind != "tiers"):
        c.error("bad-range", "a step belongs after a range of amounts", v.step.span,
                "write the range before it, e.g. `from 2024-01-01  1000-9000 step 100  cite …`")
    if b.kind == "tiers" and atom is not None and atom.kind == "BAND":
        return _amount_range(c, atom, v.step)
    if b.kind in KINDS_WITH_TABLE or (b.kind in BANDED and b.clause("by")) or b.kind == "early_start":
        if atom is not None:
            c.error("type-mismatch", f"a {b.kind} version takes a table, not a single figure", atom.span,
                    "put the figures in rows `| … |` under the version line")
        return None
    if atom is None:
        c.error("missing-figure", f"this version of '{b.name}' gives no figure", v.span,
                "write the figure after the dates, e.g. `from 2019-01-01  22.00  cite …`")
        return None
    return _typed_figure(c, atom, unit)


def _amount_range(c: _Checker, atom: nodes.Atom, step: nodes.Atom | None) -> model.AmountRange | None:
    parts = [p for p in atom.text.replace(" ", "").replace("–", "-").replace("~", "-").split("-") if p]
    if len(parts) != 2:
        c.error("bad-range", f"'{atom.text}' is not a range of amounts", atom.span,
                "write the lowest and the highest amount, both included, e.g. 1000-9000")
        return None
    low, high = Decimal(parts[0]), Decimal(parts[1])
    size = Decimal(step.text) if step is not None else Decimal("0.01")
    if high < low:
        c.error("bad-range", f"the range {atom.text} ends before it starts", atom.span, "write the smaller amount first")
        return None
    if size <= 0 or (high - low) % size:
        c.error("bad-range", f"the step {size.normalize():f} does not lead from {low} to {high}",
                step.span if step is not None else atom.span,
                "give a step that divides the range, e.g. `1000-9000 step 100`")
        return None
    return model.AmountRange(low, high, size)


def _typed_figure(c: _Checker, atom: nodes.Atom, unit: str | None):
    if unit in ("date", "日期"):
        if atom.kind != "DATE":
            c.error("type-mismatch", f"'{atom.text}' is not a date, but this value is a date", atom.span,
                    "write a date like 2011-07-01")
            return None
        return dt.date.fromisoformat(atom.text)
    if unit in ("yes_no", "是否"):
        if atom.text not in YES | NO:
            c.error("type-mismatch", f"'{atom.text}' is not yes/no", atom.span, "write 是 or 否 (yes or no)")
            return None
        return atom.text in YES
    if unit == "%":
        if atom.kind != "PERCENT":
            c.error("unit-mismatch", f"'{atom.text}' is not a percentage", atom.span, "write e.g. 2.75%")
            return None
        return Decimal(atom.text[:-1]) / 100
    if atom.kind == "PERCENT":
        c.error("unit-mismatch", f"'{atom.text}' is a percentage, but this value is in {unit}", atom.span,
                "write a plain figure, or declare the value with `: %`")
        return None
    if atom.kind != "NUMBER":
        c.error("type-mismatch", f"'{atom.text}' is not a number", atom.span, f"write a figure in {unit}")
        return None
    return Decimal(atom.text)


def _rows(c: _Checker, b: nodes.Block, v: nodes.Version) -> tuple:
    if b.kind not in KINDS_WITH_TABLE and not (b.kind in BANDED and b.clause("by")):
        if v.rows:
            c.error("type-mismatch", f"a {b.kind} with a single figure takes no table", v.rows[0].span,
                    "remove the rows, or give the block a `by` clause")
        return ()
    if len(v.rows) < 2:
        c.error("bad-table", f"this version of '{b.name}' needs a header row and at least one row", v.span,
                "add rows like `| 档次 | 省 |` then `| 100 | 30 |`")
        return ()
    header, body = v.rows[0], v.rows[1:]
    reader = {"tiers": _tier_row, "subsidy": _tier_row, "daijiao": _group_row, "reward": _group_row,
              "table": lambda c, row, cols: _keyed_row(c, row, cols, b.clause("unit"))}
    columns = _columns(c, b, header)
    rows = []
    for row in body:
        if len(row.cells) != len(header.cells):
            c.error("bad-table", f"this row has {len(row.cells)} columns, the header has {len(header.cells)}",
                    row.span, "give every row as many '|' cells as the header")
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
            c.error("bad-table", f"unknown column '{' '.join(words)}'", span,
                    "columns are funding levels (中央 省 市 县 / central province city county) or 仅限 (only)")
            out.append("unknown")
        else:
            out.append("amount")
    return out


def _number(c: _Checker, cell: tuple[nodes.Atom, ...], span: Span, what: str) -> Decimal | None:
    if not cell or (len(cell) == 1 and cell[0].kind == "DASH"):
        return Decimal(0)
    if len(cell) != 1 or cell[0].kind != "NUMBER":
        c.error("type-mismatch", f"{what} must be a number, not '{' '.join(a.text for a in cell)}'",
                cell[0].span if cell else span, "write a figure like 30 or 30.00, or '-' for none")
        return None
    return Decimal(cell[0].text)


def _tier_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    band = len(key) == 1 and key[0].kind == "BAND" and key[0].text.endswith("+")
    if len(key) == 1 and key[0].kind == "BAND" and not band:
        c.error("type-mismatch", f"a tier must be one amount, not the range '{key[0].text}'", key[0].span,
                "for a free amount within a range, give the range on the version line "
                "(`from 2024-01-01  1000-9000  cite …`) and key each band by its lowest amount (`| 2000+ | 90 |`)")
        return None
    tier = Decimal(key[0].text[:-1]) if band else _number(c, key, row.span, "a tier")
    subsidy, only = {}, False
    for col, cell in zip(columns[1:], row.cells[1:]):
        if col in model.LEVELS:
            amount = _number(c, cell, row.span, "a subsidy")
            if amount is None:
                return None
            subsidy[col] = subsidy.get(col, Decimal(0)) + amount
        elif col == "only":
            words = {a.text for a in cell if a.kind != "DASH"}
            if words and not words <= DAIJIAO_WORDS:
                c.error("unknown-name", f"'{' '.join(words)}' is not a group this column knows", cell[0].span,
                        "write 代缴对象 (tier open only to people with a 代缴 amount) or '-'")
            only = bool(words)
    if tier is None:
        return None
    return model.TierRow(tier, tuple((l, subsidy[l]) for l in model.LEVELS if l in subsidy), only, row.span, band)


def _group_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    if not key:
        c.error("bad-table", "the group is missing", row.span, "write the group, e.g. 低保对象")
        return None
    group = _group(c, key[0].text, key[0].span)
    position = key[1].text if len(key) > 1 else None
    if group and position is not None:
        g = c.groups[group]
        if position not in g.choices:
            c.error("unknown-name", f"'{position}' is not a {g.required_key} of '{group}'", key[1].span,
                    _did_you_mean(position, g.choices) or ", ".join(g.choices))
    amount, by_level, share = None, {}, None
    for col, cell in zip(columns[1:], row.cells[1:]):
        if col == "amount":
            if len(cell) == 1 and cell[0].text in LOWEST_TIER_WORDS:
                amount = None
            elif cell and cell[0].kind == "PERCENT" and all(a.text in LOWEST_TIER_WORDS for a in cell[1:]):
                share = Decimal(cell[0].text[:-1]) / 100  # `50%` or `50% 最低档次`: a share of the lowest tier
                if not 0 < share <= 1:
                    c.error("unit-mismatch", f"{cell[0].text} of the lowest tier is not a share", cell[0].span,
                            "write a percentage above 0% and at most 100%")
            else:
                amount = _number(c, cell, row.span, "an amount")
        elif col in model.LEVELS:
            value = _number(c, cell, row.span, "an amount")
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
        c.error("bad-table", "the first cell of a row names its key, e.g. 红塔", key[0].span if key else row.span,
                "write one word in the first cell")
        return None
    unit = unit_clause.args[0] if unit_clause else None
    values = []
    for col, cell in zip(columns[1:], row.cells[1:]):
        if len(cell) != 1:
            c.error("bad-table", "each cell holds one figure", cell[0].span if cell else row.span,
                    "write one figure per cell")
            return None
        figure = _typed_figure(c, cell[0], unit)
        if figure is None:
            return None
        values.append((col.removeprefix("col:"), figure))
    return model.KeyedRow(key[0].text, tuple(values), row.span)


def _band_row(c: _Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    if len(key) != 1 or key[0].kind not in ("BAND", "NUMBER"):
        c.error("bad-table", f"'{' '.join(a.text for a in key)}' is not a band", key[0].span if key else row.span,
                "write a band like 65-69, 80+ or a single number")
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
            c.error("bad-table", f"the band {text} ends before it starts", key[0].span, "write the smaller number first")
    amount = _number(c, row.cells[1], row.span, "a figure") if len(row.cells) > 1 else None
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
                        c.error("gapped-periods", f"no version of '{d.name}' is in force from {a.end + DAY} to "
                                f"{b.start - DAY}", b.span,
                                f"extend the earlier version `until {b.start - DAY}` or start this one on "
                                f"{a.end + DAY}")


def _sweep(c: _Checker, d: model.Definition, group: list, report_both_unconditioned: bool) -> None:
    latest = None  # the earlier version still in force that ends last
    for b in group:
        if latest is not None and (report_both_unconditioned or b.condition is not None or
                                   latest.condition is not None):
            if latest.start == b.start:
                c.error("overlapping-periods", f"two versions of '{d.name}' start on {b.start}", b.span,
                        "remove one, or give them different dates")
            elif latest.end is None or latest.end >= b.start:
                c.error("overlapping-periods", f"this version of '{d.name}' starts {b.start}, while the "
                        f"version from {latest.start} is still in force (until {latest.end})", b.span,
                        f"end the earlier version on {b.start - DAY} or start this one later")
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
                c.error("type-mismatch", f"a raise goes by the age on its date, not by '{d.basis}'", d.span,
                        "write `by age`, or give one figure per raise")
            if d.beyond is not None:
                c.error("type-mismatch", "a raise is an amount (or a table by age), not an amount per year",
                        d.span, "remove `per … beyond …`; each raise is one version with its date")
            for v in d.versions:
                if v.start is None:
                    c.error("bad-period", "a raise happens on a date; `always` has none", v.span,
                            "write the date it takes effect, e.g. `from 2023-01-01  37.00  cite …`")


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
                c.error("bad-range", f"in a range of amounts, tier {row.tier} must be a band", row.span,
                        f"key each band by its lowest amount, e.g. `| {row.tier}+ |`")
            elif not r.admits(row.tier):
                c.error("bad-range", f"the band {row.tier}+ lies outside the range {r.text()}", row.span,
                        "start every band at an amount the range admits")
        lows = sorted(row.tier for row in v.rows if row.band)
        if lows and lows[0] != r.low:
            c.error("gapped-bands", f"no band covers the amounts from {r.low} up to {lows[0]}", span,
                    f"start the first band at the range's lowest amount: `| {r.low}+ |`")
    elif d.kind == "tiers" and any(row.band for row in v.rows) and not any(
            x.code == "bad-range" and x.span.file == v.span.file and x.span.line == v.span.line for x in c.diagnostics):
        c.error("bad-range", "bands of amounts need the range they divide", v.span,
                "give the range on the version line, e.g. `from 2024-01-01  1000-9000  cite …`")
    elif len({row.band for row in v.rows}) > 1:
        c.error("bad-range", "a table mixes exact tiers and bands", span, "key every row by a tier, or every row by a band `N+`")


def _check_tier_rows(c: _Checker, d: model.Definition, v: model.Version) -> None:
    _check_range(c, d, v)
    seen = {}
    previous = None
    for row in sorted(v.rows, key=lambda r: r.tier):
        if row.tier in seen:
            c.error("duplicate-tier", f"tier {row.tier} appears twice in '{d.name}'", row.span,
                    f"first at line {seen[row.tier].span.line}; keep one row per tier")
            continue
        seen[row.tier] = row
        total = sum((a for _, a in row.subsidy), Decimal(0))
        if previous is not None and total < previous[1]:
            c.error("falling-subsidy", f"the subsidy of tier {row.tier} ({total}) is lower than that of tier "
                    f"{previous[0]} ({previous[1]})", row.span, "a higher tier must get at least the same subsidy")
        previous = (row.tier, total)


def _check_bands(c: _Checker, d: model.Definition, v: model.Version) -> None:
    rows = sorted(v.rows, key=lambda r: r.low)
    for a, b in zip(rows, rows[1:]):
        if a.high is None or a.high >= b.low:
            c.error("overlapping-bands", f"the band starting at {b.low} overlaps the band starting at {a.low}",
                    b.span, f"end the earlier band at {b.low - 1}")
        elif a.high + 1 < b.low:
            gap = f"{a.high + 1}" if a.high + 1 == b.low - 1 else f"{a.high + 1} to {b.low - 1}"
            c.error("gapped-bands", f"no band covers {gap}", b.span,
                    f"start this band at {a.high + 1}")


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
                                c.error("below-floor", f"tier {amount} gets a local subsidy of {local}, below the "
                                        f"national floor of {floor} in force from {f.start}", row.span,
                                        f"raise it to at least {floor} (floor at {f.span})")
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
            c.error("duplicate-definition", f"'{f.name}' is defined twice in region '{layer.region}'", f.span,
                    f"first defined at {existing.span}")
            continue
        if f.name in c.definitions:
            c.error("duplicate-definition", f"'{f.name}' is already the name of a {c.definitions[f.name][0].kind}",
                    f.span, "give the formula another name")
            continue
        cite = _cite(c, f.citation, f.span, f"{f.kind} '{f.name}'")
        paid_by = model.LEVEL_NAMES.get(f.paid_by) if f.paid_by else None
        if f.paid_by and paid_by is None:
            c.error("unknown-name", f"unknown funding level '{f.paid_by}'", f.paid_by_span or f.span,
                    _did_you_mean(f.paid_by, model.LEVEL_NAMES) or "use central, province, city or county")
        paid_while = WHILE_WORDS.get(f.paid_while)
        if paid_while is None:
            c.error("unknown-name", f"unknown state '{f.paid_while}'", f.while_span or f.span,
                    _did_you_mean(f.paid_while, WHILE_WORDS) or "write `while contributing` (paid while "
                    "contributing), `while not_eligible` (paid to those not eligible for the pension) or leave the "
                    "line out (paid while receiving)")
        start, end = (f.period.start, f.period.end) if f.period else (None, None)
        if start and end and end < start:
            c.error("bad-period", f"the period ends ({end}) before it starts ({start})", f.period.span,
                    "swap the dates or correct the year")
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
            c.error("unit-mismatch", f"component '{name}' is in {units.describe(unit)}, but a monthly pension "
                    "component must be in 元/月", formula.span, "divide by a number of months, or use a 元/月 value")
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
            c.error("cycle", "these formulas depend on each other: " + " → ".join(cycle), f.span,
                    "break the loop: one of them must not use the other")
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
                c.error("unit-mismatch", f"a percentage cannot be added to or taken from an amount with '{op}'",
                        expr.span, "a percentage multiplies: write e.g. `central_basic_pension × 10%` "
                        "(or `a × (1 + 10%)` for a rise)")
                return None
            if lu is None or ru is None:
                return None
            if op in ("*", "/"):
                return units.multiply(lu, ru, 1 if op == "*" else -1)
            if lu != ru and lu != units.DIMENSIONLESS and ru != units.DIMENSIONLESS:
                c.error("unit-mismatch", f"cannot combine {units.describe(lu)} and {units.describe(ru)} with '{op}'",
                        expr.span, "both sides must be in the same unit (元/月 with 元/月, 年 with 年)")
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
        c.error("type-mismatch", f"the fact '{name}' cannot be compared in a formula", expr.span,
                "formulas compare the person's hukou facts (hukou.type, hukou.county); dates and amounts have "
                "builtins such as age and counted_years")
    elif written is None or fact_value(fact, written) is None:
        choices = ", ".join(ch + (f" ({zh})" if zh else "") for ch, zh in fact.choices)
        c.error("unknown-name", f"'{written or '…'}' is not a value of '{name}'", node.span,
                f"compare with one of: {choices}" if choices else "compare with a word, e.g. 红塔")
    return found


def _ref_unit(c: _Checker, ref: nodes.Ref) -> units.Unit | None:
    name = c.aliases.get(ref.name, BUILTIN_ALIASES.get(ref.name, ref.name))
    if name in c.facts and name not in c.formulas and name not in c.definitions:
        c.error("type-mismatch", f"'{ref.name}' is a fact of the person; a formula can only compare it with "
                "one of its values", ref.span, f"write e.g. `when {ref.name} == "
                f"{(c.facts[name].choices or (('红塔', None),))[0][0]}`; for ages and years use age, counted_years")
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
            c.error("type-mismatch", f"'{ref.name}' is a {d.kind} table and cannot be used in a formula", ref.span,
                    "use a value, a bonus, a component or a let")
            return None
        return units.parse_unit(d.unit) if d.unit else None
    candidates = list(c.formulas) + list(c.definitions) + list(BUILTINS) + list(BUILTIN_ALIASES) + \
        [a for a in c.aliases]
    c.error("unknown-name", f"unknown name '{ref.name}'", ref.span,
            _did_you_mean(ref.name, candidates) or "define it with `value`, `let` or `component`")
    return None


def _call_unit(c: _Checker, call: nodes.Call, fn: str | None, args) -> units.Unit | None:
    if fn is None:
        c.error("unknown-name", f"unknown function '{call.function}'", call.span,
                _did_you_mean(call.function, FUNCTIONS) or "functions: max, min, round, member")
        return None
    if fn == "member":
        if len(args) != 1 or not isinstance(args[0], nodes.Ref):
            c.error("type-mismatch", "member(…) takes one group name", call.span, "write e.g. member(低保对象)")
        else:
            _group(c, args[0].name, args[0].span)
        return None
    arg_units = [_unit_of(c, a) for a in args]
    if fn == "round":
        if len(args) != 1:
            c.error("type-mismatch", "round(…) takes one amount; it rounds half-up to 0.01 yuan", call.span,
                    "write round(amount)")
        return arg_units[0] if arg_units else None
    if len(args) < 2:
        c.error("type-mismatch", f"{fn}(…) takes at least two values", call.span, f"write {fn}(a, b)")
    known = [u for u in arg_units if u not in (None, units.DIMENSIONLESS)]
    if any(u != known[0] for u in known):
        c.error("unit-mismatch", f"{fn}(…) mixes " + " and ".join(units.describe(u) for u in known), call.span,
                "give every argument the same unit")
        return None
    return known[0] if known else units.DIMENSIONLESS


CHECKS = (check_regions, check_sources, check_declarations, check_blocks, check_periods, check_raises, check_tables,
          check_floors, check_formulas)
