"""The checks that build the model from what is written: regions, sources, declarations, and each block's
definition, versions, figures and table rows."""
from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal

import attrs

from engine.language import model, nodes, units
from engine.language.catalogue import Text, say
from engine.language.check.checker import (
    BANDED,
    BASES,
    BUILTIN_ALIASES,
    BUILTINS,
    CAPPABLE,
    DAIJIAO_WORDS,
    DAY,
    INTERCHANGEABLE,
    KINDS_WITH_TABLE,
    LOWEST_TIER_WORDS,
    NO,
    ONLY_WORDS,
    YES,
    Checker,
    did_you_mean,
)
from engine.language.source import Span


def check_regions(c: Checker) -> None:
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
                            did_you_mean(head.extends, known) or "unknown-base.hint", a=head.extends)
                if layer.region == c.region and (head.labels.zh or head.extends) and c.region_node is None:
                    c.region_node = head


def check_sources(c: Checker) -> None:
    for _, s in c.each(nodes.Source):
        if s.name in c.sources:
            c.error("duplicate-definition", "source-twice", s.span, "source-twice.hint", a=s.name,
                    b=c.sources[s.name].span)
            continue
        status = model.STATUS_NAMES.get(s.status or "")
        if status is None:
            span = s.status_span or s.span
            c.error("unknown-status", "source-status", span,
                    did_you_mean(s.status or "", model.STATUS_NAMES) or "source-status.hint", a=s.name)
            status = "provisional"
        c.sources[s.name] = model.SourceDoc(s.name, s.labels.zh or s.name, s.number, s.issued, status, s.seed,
                                            s.span)


def check_declarations(c: Checker) -> None:
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


def check_blocks(c: Checker) -> None:
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


def _definition(c: Checker, region: str, b: nodes.Block, base: model.Definition | None) -> model.Definition:
    unit_clause, paid, by, per, for_ = (b.clause(k) for k in ("unit", "paid_by", "by", "per", "for"))
    unit = unit_clause.args[0] if unit_clause else (base.unit if base else None)
    if unit is not None and unit not in units.NON_NUMERIC and units.parse_unit(unit) is None:
        c.error("unknown-unit", "unknown-unit", unit_clause.span, "unknown-unit.hint", a=unit)
    paid_by = None
    if paid:
        paid_by = model.LEVEL_NAMES.get(paid.args[0])
        if paid_by is None:
            c.error("unknown-name", "unknown-level", paid.span,
                    did_you_mean(paid.args[0], model.LEVEL_NAMES) or "unknown-level.hint", a=paid.args[0])
    elif base:
        paid_by = base.paid_by
    keys: tuple[str, ...] = ()
    if b.kind == "table":
        keys = by.args if by else ()
        for key in keys:
            if key not in c.facts:
                c.error("unknown-name", "unknown-fact", by.span, did_you_mean(key, c.facts), a=key)
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
                    did_you_mean(basis, bases) or "unknown-basis.hint", a=basis)
    basis = BUILTIN_ALIASES.get(basis, basis)
    groups = tuple(group_of(c, g, for_.span) or g for g in for_.args) if for_ else (base.for_groups if base else ())
    versions = _versions(c, b, unit)
    return model.Definition(b.kind, c.aliases.get(b.name, b.name), b.labels if b.labels.zh else
                            (base.labels if base else b.labels), unit, paid_by, basis, beyond, groups,
                            versions, region, b.span, keys, _cap(c, b, base))


def _cap(c: Checker, b: nodes.Block, base: model.Definition | None) -> int | None:
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


def group_of(c: Checker, word: str, span: Span) -> str | None:
    name = c.aliases.get(word, word)
    if name in c.groups:
        return name
    c.error("unknown-name", "unknown-group", span,
            did_you_mean(word, list(c.groups) + [g.labels.zh for g in c.groups.values() if g.labels.zh]), a=word)
    return None


def _versions(c: Checker, b: nodes.Block, unit: str | None) -> tuple[model.Version, ...]:
    out = []
    for v in b.versions:
        cite = citation_of(c, v.citation, v.span, say("word.version", a=b.name))
        condition = None
        if v.condition:
            condition = (v.condition.fact, v.condition.value)
            fact = c.facts.get(v.condition.fact)
            if fact is None:
                c.error("unknown-name", "unknown-fact", v.condition.span,
                        did_you_mean(v.condition.fact, c.facts), a=v.condition.fact)
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


def citation_of(c: Checker, cit: nodes.Citation | None, span: Span, what: Text) -> model.Cite | None:
    if cit is None:
        c.error("missing-citation", "no-citation", span, "no-citation.hint", a=what)
        return None
    source = c.sources.get(cit.source)
    if source is None:
        c.error("unknown-name", "unknown-source", cit.span,
                did_you_mean(cit.source, c.sources) or "unknown-source.hint", a=cit.source)
        return None
    status = source.status
    if cit.status:
        status = model.STATUS_NAMES.get(cit.status)
        if status is None:
            c.error("unknown-status", "unknown-status", cit.span,
                    did_you_mean(cit.status, model.STATUS_NAMES) or "unknown-status.hint", a=cit.status)
            status = "provisional"
    return model.Cite(source, status, cit.note, cit.span)


def _figure(c: Checker, b: nodes.Block, v: nodes.Version, unit: str | None):
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


def _amount_range(c: Checker, atom: nodes.Atom, step: nodes.Atom | None) -> model.AmountRange | None:
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


def _typed_figure(c: Checker, atom: nodes.Atom, unit: str | None):
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


def _rows(c: Checker, b: nodes.Block, v: nodes.Version) -> tuple:
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


def _columns(c: Checker, b: nodes.Block, header: nodes.Row) -> list[str]:
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


def _number(c: Checker, cell: tuple[nodes.Atom, ...], span: Span, what: Text) -> Decimal | None:
    if not cell or (len(cell) == 1 and cell[0].kind == "DASH"):
        return Decimal(0)
    if len(cell) != 1 or cell[0].kind != "NUMBER":
        c.error("type-mismatch", "cell-not-number", cell[0].span if cell else span, "cell-not-number.hint", a=what,
                b=' '.join(a.text for a in cell))
        return None
    return Decimal(cell[0].text)


def _tier_row(c: Checker, row: nodes.Row, columns: list[str]):
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
                    c.error("unknown-name", "unknown-only", atom.span, did_you_mean(atom.text, list(DAIJIAO_WORDS) + [
                        g.labels.zh for g in c.groups.values() if g.labels.zh]) or "unknown-only.hint", a=atom.text)
    if tier is None:
        return None
    return model.TierRow(tier, tuple((l, subsidy[l]) for l in model.LEVELS if l in subsidy), only, row.span, band,
                         tuple(groups))


def _group_row(c: Checker, row: nodes.Row, columns: list[str]):
    key = row.cells[0]
    if not key:
        c.error("bad-table", "group-missing", row.span, "group-missing.hint")
        return None
    group = group_of(c, key[0].text, key[0].span)
    position = key[1].text if len(key) > 1 else None
    if group and position is not None:
        g = c.groups[group]
        if position not in g.choices:
            c.error("unknown-name", "not-a-key-value", key[1].span,
                    did_you_mean(position, g.choices) or "one-of-choice", a=position, b=g.required_key, c=group,
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


def _keyed_row(c: Checker, row: nodes.Row, columns: list[str], unit_clause: nodes.Clause | None):
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


def _band_row(c: Checker, row: nodes.Row, columns: list[str]):
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
