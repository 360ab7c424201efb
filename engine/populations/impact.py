"""What a proposed policy change would do: a population evaluated under two policy versions.

Counts of winners and losers, the change in spending by funding level, the distribution of changes
by age band and by tier, the largest changes with the rules that caused them, and the rows that failed.

`compare` runs on the batch machinery: chunks read as `jubao batch` reads them (sized so that each worker gets an
equal share), each evaluated by the column back end under both versions (the interpreter answering the rows the
columns leave to it, exactly as in batch), spread over processes; the comparison is array arithmetic in integer fen. Only the largest changes are evaluated again, by
the scalar back end with its explanation, for their causes. `compare_by_person` is the same report person by
person on the scalar back end: the oracle the fast path is tested against (tests/test_impact.py).
"""
from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
import os
import re
import threading
from collections import defaultdict, deque
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

import attrs

from engine.core import dates
from engine.core.decision import Decision
from engine.core.one_person import evaluate
from engine.core.person import read_as_of, read_person
from engine.core.render import component_json
from engine.core.trace import Step
from engine.language import model
from engine.language.errors import InvalidInput, UnknownRegion
from engine.language.registry import Registry
from engine.populations import batch, files
from engine.populations.batch import Chunk, chunk_persons, column_chunks, column_slices, evaluate_chunk
from engine.populations.files import count_rows, read_rows

AGE_BANDS = ((0, 59, "<60"), (60, 64, "60–64"), (65, 69, "65–69"), (70, 74, "70–74"), (75, 79, "75–79"),
             (80, 200, "80+"))
ZERO = Decimal(0)
FAILURES_SHOWN = 20  # failed rows listed in the report, the first by row number; all are counted


@attrs.define
class Change:
    row: int
    person: dict
    person_id: str | None
    before: Decimal
    after: Decimal
    levels: dict
    age_band: str
    tier: str
    causes: list = attrs.field(factory=list)

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@attrs.define
class Failure:
    """A row that could not be evaluated under one version or both: the problem's text under each (None: it was)."""

    row: int
    person_id: str | None
    base: str | None
    proposal: str | None


@attrs.define
class Impact:
    region: str
    as_of: str
    persons: int = 0
    errors: int = 0
    gain: int = 0
    lose: int = 0
    same: int = 0
    monthly_by_level: dict = attrs.field(factory=lambda: defaultdict(Decimal))
    by_age: dict = attrs.field(factory=lambda: defaultdict(lambda: [0, ZERO]))
    by_tier: dict = attrs.field(factory=lambda: defaultdict(lambda: [0, ZERO]))
    largest: list = attrs.field(factory=list)
    failures: list = attrs.field(factory=list)  # the first FAILURES_SHOWN failed rows by row number
    labels: object = None  # the region's names (policy labels): the report's title names it so, not by its id

    @property
    def monthly_total(self) -> Decimal:
        return sum(self.monthly_by_level.values(), ZERO)


def _levels(decision: Decision) -> dict:
    out: dict = defaultdict(Decimal)
    for c in decision.monthly_pension.components:
        by_level = component_json(c).get("by_level") or {}
        if by_level:
            for level, amount in by_level.items():
                out[level] += Decimal(amount)
        elif c.amount.total:
            out["account" if c.id == "account_pension" else "unassigned"] += c.amount.total
    return out


def _age_band(person: dict, as_of: dt.date) -> str:
    try:
        age = dates.age_on(dt.date.fromisoformat(person["birth_date"]), as_of)
    except (KeyError, TypeError, ValueError):
        return "?"
    return next((label for lo, hi, label in AGE_BANDS if lo <= age <= hi), "?")


def _tier(person: dict) -> str:
    records = [c for c in person.get("contributions") or [] if isinstance(c, dict) and "tier" in c]
    if not records:
        return "none"
    latest = max(records, key=lambda c: c.get("year") or 0)
    return _tier_label(latest["tier"])


def _tier_label(tier) -> str:
    return f"{Decimal(str(tier)):.0f}"


def _problem_text(error: InvalidInput | dict, lang: str) -> str:
    """A problem in one line: its detail, then the fields it names (at most three)."""
    problem = batch.problem_dict(error, lang) if isinstance(error, InvalidInput) else error
    fields = [f"{e['pointer']}: {e['detail']}" for e in problem.get("errors") or []]
    more = len(fields) - 3
    text = " ".join(str(problem.get("detail") or problem.get("title") or "").split())
    if fields:
        text += ("（" if lang == "zh" else " (") + ("；" if lang == "zh" else "; ").join(fields[:3]) \
            + (f" … +{more}" if more > 0 else "") + ("）" if lang == "zh" else ")")
    return text


def _check(base: Registry, proposal: Registry, region: str, as_of_text: str):
    for registry in (base, proposal):
        if region not in registry.sources:
            raise UnknownRegion(region, registry.regions)
    as_of = read_as_of(as_of_text)
    return as_of, base.policy(region), proposal.policy(region)  # PolicyError when either does not check clean


# ── the fast path ──────────────────────────────────────────────────────────
@attrs.define
class _Part:
    """What one chunk adds to the report: counts, fen by funding level / age band / tier, the chunk's largest
    changes (|delta| in fen, row, PERSON) and its first failed rows."""

    rows: int = 0
    errors: int = 0
    gain: int = 0
    lose: int = 0
    same: int = 0
    levels: dict = attrs.field(factory=lambda: defaultdict(Decimal))
    by_age: dict = attrs.field(factory=dict)  # label → [persons, fen]
    by_tier: dict = attrs.field(factory=dict)
    top: list = attrs.field(factory=list)
    failures: list = attrs.field(factory=list)


def compare(base: Registry, proposal: Registry, region: str, as_of_text: str, source: Path, top: int = 10,
            progress=None, workers: int | None = None, lang: str = "zh", charts: bool = False) -> Impact:
    """The impact of `proposal` against `base` on the population in `source` (.jsonl, .csv or .parquet).

    `progress(n)` is called with the number of rows of each chunk done; `workers` processes (default: one per
    core); failed rows' problems in `lang`; `charts`: a report will follow, so matplotlib is imported while the
    workers evaluate. Figures equal `compare_by_person`'s to the fen."""
    as_of, before_policy, after_policy = _check(base, proposal, region, as_of_text)
    impact = Impact(region, as_of_text, labels=after_policy.labels)
    candidates: list = []
    age_fen: dict = defaultdict(lambda: [0, 0])
    tier_fen: dict = defaultdict(lambda: [0, 0])
    warming: list = []
    for part in _parts(base, proposal, region, as_of_text, source, top, workers, lang, warming if charts else None):
        impact.persons += part.rows
        impact.errors += part.errors
        impact.gain += part.gain
        impact.lose += part.lose
        impact.same += part.same
        for level, amount in part.levels.items():
            impact.monthly_by_level[level] += amount
        for into, more in ((age_fen, part.by_age), (tier_fen, part.by_tier)):
            for key, (count, fen) in more.items():
                into[key][0] += count
                into[key][1] += fen
        impact.failures.extend(part.failures[:FAILURES_SHOWN - len(impact.failures)])
        candidates = sorted(candidates + part.top, key=lambda c: (-c[0], c[1]))[:top]
        if progress is not None:
            progress(part.rows)
    for into, fen in ((impact.by_age, age_fen), (impact.by_tier, tier_fen)):
        for key in sorted(fen, key=_sort_key):
            into[key] = [fen[key][0], Decimal(fen[key][1]).scaleb(-2)]
    impact.largest = [_explained_change(before_policy, after_policy, row, person, as_of)
                      for _, row, person in candidates]
    for thread in warming:
        thread.join()
    return impact


def _parts(base: Registry, proposal: Registry, region: str, as_of_text: str, source: Path, top: int,
           workers: int | None, lang: str, warming: list | None = None):
    """Each chunk's _Part in input order: in this process for a single chunk or a single worker, else over a pool
    with a bounded window of chunks in flight (memory stays flat, as in `jubao batch`). With `warming` (a list),
    matplotlib is imported on a thread of this process, mostly idle while the workers evaluate."""
    workers = workers or os.cpu_count() or 1
    chunks = column_chunks(source, _chunk_size(source, workers))
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for chunk in itertools.chain(head, chunks):
            yield _compare_chunk(region, as_of_text, chunk, top, lang, (base, proposal))
        return
    shipped = (base.texts(), str(base.policy_dir), proposal.texts(), str(proposal.policy_dir))
    with ProcessPoolExecutor(workers, initializer=_init_pair, initargs=shipped) as pool:
        window: deque = deque()
        for chunk in itertools.chain(head, chunks):
            window.append(pool.submit(_compare_chunk, region, as_of_text, chunk, top, lang))
            if warming is not None and not warming:  # only now: the workers are started (forked without the thread)
                warming.append(threading.Thread(target=_import_charts, daemon=True))
                warming[0].start()
            if len(window) >= workers * 2:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _chunk_size(source: Path, workers: int) -> int | None:
    """Chunks of equal size, a whole number of them for each worker: 100k rows on two are four of 25k (batch's
    32768 would leave one worker idle for the last chunk's 1,696). None: batch's chunks."""
    rows = count_rows(source) if workers > 1 else None
    if not rows or rows <= batch.COLUMN_CHUNK:
        return None
    rounds = -(-rows // (workers * batch.COLUMN_CHUNK))
    return -(-rows // (workers * rounds))


def _import_charts() -> None:
    """matplotlib takes a second or so to import, the charts' fonts some more: done before the report is asked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        importlib.import_module("matplotlib.pyplot")
    except ImportError:  # the report says so when it is written
        return
    _add_cjk_fonts()


_pair: tuple[Registry, Registry] | None = None


def _init_pair(base_texts: dict, base_dir: str, proposal_texts: dict, proposal_dir: str) -> None:
    """A worker's two registries, from the texts the parent read (the folders are not read again)."""
    global _pair
    _pair = (Registry.from_sources(base_texts, base_dir), Registry.from_sources(proposal_texts, proposal_dir))


def _compare_chunk(region: str, as_of_text: str, chunk: Chunk, top: int, lang: str, registries=None) -> _Part:
    base, proposal = registries or _pair
    part = _Part()
    for piece in column_slices(chunk):
        _compare_slice(part, base, proposal, region, as_of_text, piece, top, lang)
    return part


def _compare_slice(part: _Part, base: Registry, proposal: Registry, region: str, as_of_text: str, piece: Chunk,
                   top: int, lang: str) -> None:
    import numpy as np

    before, before_totals, _ = evaluate_chunk(region, as_of_text, piece, base, "columns", lang)
    after, after_totals, _ = evaluate_chunk(region, as_of_text, piece, proposal, "columns", lang)
    rows = before.column("row").to_numpy()
    failed_before, failed_after = _failed(before), _failed(after)
    failed = failed_before | failed_after
    ok = ~failed
    part.rows += len(rows)
    part.errors += int(failed.sum())
    for i in np.flatnonzero(failed)[:max(0, FAILURES_SHOWN - len(part.failures))]:
        failing = before if failed_before[i] else after
        part.failures.append(Failure(int(rows[i]), failing.column("person_id")[int(i)].as_py(),
                                     _error_text(before, i, lang), _error_text(after, i, lang)))
    if (failed_before != failed_after).any():
        # A row failing under one version only is in the other's totals: those come again from the rows both took.
        keep = np.flatnonzero(ok)
        kept = Chunk(piece.first, piece.table.take(keep) if piece.table is not None else None,
                     [piece.items[i] for i in keep] if piece.items is not None else None)
        if (failed_after & ~failed_before).any():
            before_totals = evaluate_chunk(region, as_of_text, kept, base, "columns", lang)[1] if keep.size else {}
        if (failed_before & ~failed_after).any():
            after_totals = evaluate_chunk(region, as_of_text, kept, proposal, "columns", lang)[1] if keep.size else {}
    levels_before, levels_after = _totals_by_level(before_totals), _totals_by_level(after_totals)
    for level in set(levels_before) | set(levels_after):
        part.levels[level] += levels_after.get(level, ZERO) - levels_before.get(level, ZERO)
    delta = np.where(ok, _fen(after) - _fen(before), 0)
    part.gain += int((ok & (delta > 0)).sum())
    part.lose += int((ok & (delta < 0)).sum())
    part.same += int((ok & (delta == 0)).sum())
    as_of = read_as_of(as_of_text)
    for into, (codes, labels) in ((part.by_age, _age_codes(piece, ok, as_of)), (part.by_tier, _tier_codes(piece, ok))):
        counts = np.bincount(codes[ok], minlength=len(labels))
        sums = np.zeros(len(labels), dtype="int64")
        np.add.at(sums, codes[ok], delta[ok])
        for code in np.flatnonzero(counts):
            persons_fen = into.setdefault(labels[code], [0, 0])
            persons_fen[0] += int(counts[code])
            persons_fen[1] += int(sums[code])
    moved = np.flatnonzero(delta)
    if moved.size:
        size = np.abs(delta[moved])
        best = moved[np.lexsort((rows[moved], -size))[:top]]
        part.top = sorted(part.top + [(int(abs(delta[i])), int(rows[i]), person)
                                      for i, (_, person) in zip(best, _persons(piece, best))],
                          key=lambda c: (-c[0], c[1]))[:top]


def _persons(piece: Chunk, indices) -> list:
    return chunk_persons(piece, [int(i) for i in indices]) if len(indices) else []


def _failed(table):
    import pyarrow.compute as pc

    return pc.not_equal(table.column("error"), "").combine_chunks().fill_null(True).to_numpy(zero_copy_only=False)


def _error_text(table, i: int, lang: str) -> str | None:
    error = table.column("error")[int(i)].as_py()
    return _problem_text(json.loads(error), lang) if error else None


def _fen(table):
    """The monthly pension of each row in integer fen (0 for a failed row): 123.45 → 12345."""
    return files.decimal_fen(table.column("monthly_pension_total"))


def _totals_by_level(totals: dict) -> dict:
    """A chunk's component totals (batch's: component → total and its levels) as `_levels` counts them: the levels
    shown, the account pension as "account", a component without levels as "unassigned"."""
    out: dict = defaultdict(Decimal)
    for component, parts in totals.items():
        if component == "account_pension":
            out["account"] += parts["total"]
            continue
        shown = ZERO
        for level, amount in parts.items():
            if level != "total":
                out[level] += amount
                shown += amount
        if parts["total"] != shown:
            out["unassigned"] += parts["total"] - shown
    return out


def _age_codes(piece: Chunk, ok, as_of: dt.date):
    """(code per row, labels): each row's age band on `as_of`, from the birth dates as arrays (the column back end's
    reading and age rule); rows whose dates it cannot read are read person by person."""
    import numpy as np
    import pyarrow as pa

    from engine.columns.arrays import Unsupported
    from engine.columns.columnar import day_numbers
    from engine.columns.days import DAY_ARRAYS, ymd

    labels = [label for _, _, label in AGE_BANDS] + ["?"]
    n = len(ok)
    codes = np.full(n, len(AGE_BANDS), dtype="int64")
    table = piece.table
    column = table.column("birth_date").combine_chunks() if table is not None and "birth_date" in \
        table.column_names else None
    if column is not None and pa.types.is_date(column.type):
        column = column.cast(pa.string())
    try:
        days, plain = day_numbers(column) if column is not None else (None, np.zeros(n, dtype=bool))
    except Unsupported:
        days, plain = None, np.zeros(n, dtype=bool)
    if days is not None:
        age = DAY_ARRAYS.age_on(*ymd(days), as_of.year, as_of.month, as_of.day)
        for code, (lo, hi, _) in enumerate(AGE_BANDS):
            codes[plain & (age >= lo) & (age <= hi)] = code
    odd = np.flatnonzero(ok & ~plain)
    for i, (_, person) in zip(odd, _persons(piece, odd)):
        codes[i] = labels.index(_age_band(person, as_of))
    return codes, labels


def _tier_codes(piece: Chunk, ok):
    """(code per row, labels): the tier of each row's latest record that has one (the first of that year), or
    "none"; from the contribution arrays, or person by person when they are not plain."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ok)
    codes = np.zeros(n, dtype="int64")
    labels = ["none"]
    table = piece.table
    column = table.column("contributions").combine_chunks() if table is not None and "contributions" in \
        table.column_names else None
    if column is None and table is not None:
        return codes, labels
    fields = {f.name: f.type for f in column.type.value_type} if column is not None and \
        pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type) else None
    if fields is not None and "tier" not in fields:
        return codes, labels
    if fields is None or ("year" in fields and not pa.types.is_integer(fields["year"])):
        for i, (_, person) in zip(np.flatnonzero(ok), _persons(piece, np.flatnonzero(ok))):
            label = _tier(person)
            if label not in labels:
                labels.append(label)
            codes[i] = labels.index(label)
        return codes, labels
    parent = pc.list_parent_indices(column).to_numpy()
    records = pc.list_flatten(column)
    tier = pc.struct_field(records, "tier")
    year = pc.fill_null(pc.struct_field(records, "year"), 0).to_numpy(zero_copy_only=False) \
        if "year" in fields else np.zeros(len(records), dtype="int64")
    has = pc.is_valid(tier).to_numpy(zero_copy_only=False)
    at = np.flatnonzero(has)
    order = at[np.lexsort((at, -year[at], parent[at]))]  # by person, latest year first, then record order
    first = order[np.r_[True, parent[order][1:] != parent[order][:-1]]] if order.size else order
    values = tier.take(pa.array(first, pa.int64()))
    if pa.types.is_dictionary(values.type):  # read from Parquet as a dictionary (engine.populations.batch.read_row_group)
        values = values.dictionary_decode()
    unique = pc.unique(values)
    # a tier's word is its value in whole yuan: two values with one word (500 and "500.00") share a code
    words: dict = {"none": 0}
    remap = np.array([0] + [words.setdefault(_tier_label(v.as_py()), len(words)) for v in unique], dtype="int64")
    codes[parent[first]] = remap[pc.index_in(values, value_set=unique).to_numpy(zero_copy_only=False) + 1]
    return codes, list(words)


def _explained_change(before_policy, after_policy, row: int, person: dict, as_of: dt.date) -> Change:
    """A largest change, evaluated again by the scalar back end with explanations: its figures and causes."""
    before, after = (evaluate(p, read_person(p, person, as_of), as_of, explain=True)
                     for p in (before_policy, after_policy))
    lb, la = _levels(before), _levels(after)
    levels = {k: la.get(k, ZERO) - lb.get(k, ZERO) for k in set(la) | set(lb)}
    return Change(row, person, after.person_id, before.monthly_pension.total, after.monthly_pension.total, levels,
                  _age_band(person, as_of), _tier(person), _differences(before.explanation, after.explanation))


# ── the oracle: person by person on the scalar back end ──────────────────────
def compare_by_person(base: Registry, proposal: Registry, region: str, as_of_text: str, source: Path,
                      top: int = 10, lang: str = "zh") -> Impact:
    """The report as it was first made: every person evaluated twice by the interpreter. Slow; the test oracle."""
    as_of, before_policy, after_policy = _check(base, proposal, region, as_of_text)
    impact = Impact(region, as_of_text, labels=after_policy.labels)
    changes: list[Change] = []
    for number, person in read_rows(source):
        impact.persons += 1
        decisions, problems = [], []
        for policy in (before_policy, after_policy):
            try:
                if isinstance(person, InvalidInput):
                    raise person
                decisions.append(evaluate(policy, read_person(policy, person, as_of), as_of))
                problems.append(None)
            except InvalidInput as error:
                decisions.append(None)
                problems.append(_problem_text(error, lang))
        if None in decisions:
            impact.errors += 1
            if len(impact.failures) < FAILURES_SHOWN:
                pid = person.get("id") if isinstance(person, dict) else None
                impact.failures.append(Failure(number, pid if isinstance(pid, str) else None, *problems))
            continue
        before, after = decisions
        b, a = before.monthly_pension.total, after.monthly_pension.total
        lb, la = _levels(before), _levels(after)
        levels = {k: la.get(k, ZERO) - lb.get(k, ZERO) for k in set(la) | set(lb)}
        change = Change(number, person, after.person_id, b, a, levels, _age_band(person, as_of), _tier(person))
        for level, delta in levels.items():
            impact.monthly_by_level[level] += delta
        if a > b:
            impact.gain += 1
        elif a < b:
            impact.lose += 1
        else:
            impact.same += 1
        for table, key in ((impact.by_age, change.age_band), (impact.by_tier, change.tier)):
            table[key][0] += 1
            table[key][1] += change.delta
        if change.delta:
            changes.append(change)
            changes.sort(key=lambda c: abs(c.delta), reverse=True)
            del changes[top:]
    for change in changes:
        change.causes = _causes(before_policy, after_policy, change.person, as_of)
    impact.largest = changes
    return impact


def _causes(before_policy, after_policy, person: dict, as_of: dt.date) -> list[str]:
    trees = [evaluate(p, read_person(p, person, as_of), as_of, explain=True).explanation
             for p in (before_policy, after_policy)]
    return _differences(*trees)


def _differences(before: Step, after: Step) -> list[str]:
    """The figures that differ between the two explanations: label, old → new, and the policy line."""
    old = dict(_leaves(before))
    causes = []
    for key, step in _leaves(after):
        previous = old.get(key)
        if previous is not None and previous.value != step.value and not step.children:
            where = f"{step.span.file}:{step.span.line}" if step.span else ""
            causes.append(f"{step.label} {previous.value} → {step.value} ({where})")
    return causes[:3]


def _leaves(step: Step, path: str = ""):
    here = f"{path}/{step.id}"
    yield here, step
    for child in step.children:
        yield from _leaves(child, here)


REPORT_WORDS = {  # the report's words: Chinese for the officers who read it, English with --lang en
    "zh": {"by_age": "按年龄段的月支出变化（元）", "by_tier": "按最近缴费档次的月支出变化（元）", "age": "年龄段",
           "tier": "最近缴费档次（元）", "none": "无缴费", "?": "未知", "title": "政策影响测算：{region}，核定日 {as_of}",
           "persons": "人数：{persons}（出错 {errors}）", "gain": "增加：{gain} 人，减少：{lose} 人，不变：{same} 人",
           "spending": "月支出变化：{monthly} 元；年支出变化：{annual} 元",
           "level_table": "| 出资层级 | 月变化 | 年变化 |", "age_heading": "按年龄段",
           "age_table": "| 年龄段 | 人数 | 月变化 |", "tier_heading": "按最近缴费档次", "tier_table": "| 档次 | 人数 | 月变化 |",
           "largest": "变化最大的十人", "largest_table": "| 行 | 参保人 | 调整前 | 调整后 | 变化 | 原因 |",
           "persons_axis": "人数", "failures": "出错的行",
           "failures_count": "出错 {errors} 行（任一版本无法计算即算出错，不计入以上数字）；按行号列出前 {shown} 行：",
           "failures_table": "| 行 | 参保人 | 现行规则 | 调整方案 |", "evaluated": "—"},
    "en": {"by_age": "Monthly change by age band (yuan)", "by_tier": "Monthly change by latest tier (yuan)",
           "age": "age band", "tier": "latest tier (yuan)", "none": "none", "?": "?",
           "title": "Impact: {region}, as of {as_of}", "persons": "persons: {persons} (errors: {errors})",
           "gain": "gain: {gain}, lose: {lose}, same: {same}",
           "spending": "change in monthly spending: {monthly} yuan; annual: {annual} yuan",
           "level_table": "| funding level | monthly change | annual change |", "age_heading": "By age band",
           "age_table": "| age | persons | monthly change |", "tier_heading": "By latest tier",
           "tier_table": "| tier | persons | monthly change |", "largest": "Largest changes",
           "largest_table": "| row | person | before | after | change | because |", "persons_axis": "persons",
           "failures": "Rows that failed",
           "failures_count": "{errors} rows failed (under either version; left out of the figures above); the first "
                             "{shown} by row:",
           "failures_table": "| row | person | current rules | proposal |", "evaluated": "—"},
}
CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "DejaVu Sans"]


def _add_cjk_fonts() -> None:
    """matplotlib's font list is cached when it is first imported: a CJK font installed later (fonts-wqy-microhei)
    is not in it, and Chinese labels would come out as empty boxes. Add the system's CJK fonts when missing."""
    from matplotlib import font_manager

    if {f.name for f in font_manager.fontManager.ttflist} & set(CJK_FONTS[:-1]):
        return
    for path in font_manager.findSystemFonts():
        if re.search(r"wqy|cjk|sourcehan|simhei", path, re.IGNORECASE):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: the next one may do
                continue


def write_report(impact: Impact, folder: Path, lang: str = "zh") -> Path:
    """report.md plus SVG charts (matplotlib) in `folder`, Chinese by default; returns the report path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _add_cjk_fonts()
    words = REPORT_WORDS[lang]
    shown = lambda key: words.get(key, key)  # noqa: E731  ('none' and '?' in the reader's words)
    folder.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS,
                                "axes.unicode_minus": False, "svg.fonttype": "none"}):
        for name, table, axis in (("by_age", impact.by_age, "age"), ("by_tier", impact.by_tier, "tier")):
            keys = sorted(table, key=_sort_key)
            fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(keys) + 2), 3.6))
            bars = ax.bar([shown(k) for k in keys], [float(table[k][1]) for k in keys], color="#0b5cad")
            ax.bar_label(bars, labels=[f"{table[k][1]:.0f}" for k in keys], fontsize=8, padding=2)
            ax.set_title(words[name])
            ax.set_xlabel(words[axis])
            ax.axhline(0, color="#444", linewidth=0.8)
            # tier labels (1000, 1500, 2000, none …) are rotated so that they never run into each other
            ax.tick_params(axis="x", labelrotation=45 if len(keys) > 6 else 0, labelsize=9)
            fig.tight_layout()
            fig.savefig(folder / f"{name}.svg")
            plt.close(fig)
    levels = model.LEVEL_LABELS if lang == "zh" else {}
    lines = [
        "# " + words["title"].format(region=_region_name(impact, lang), as_of=impact.as_of), "",
        "- " + words["persons"].format(persons=impact.persons, errors=impact.errors),
        "- " + words["gain"].format(gain=impact.gain, lose=impact.lose, same=impact.same),
        "- " + words["spending"].format(monthly=f"{impact.monthly_total:.2f}", annual=f"{impact.monthly_total * 12:.2f}"),
        "", words["level_table"], "|---|---:|---:|",
        *[f"| {levels.get(level, level)} | {amount:.2f} | {amount * 12:.2f} |"
          for level, amount in sorted(impact.monthly_by_level.items()) if amount],
        "", "## " + words["age_heading"], "", words["age_table"], "|---|---:|---:|",
        *[f"| {shown(k)} | {impact.by_age[k][0]} | {impact.by_age[k][1]:.2f} |"
          for k in sorted(impact.by_age, key=_sort_key)],
        "", f"![{words['by_age']}](by_age.svg)", "", "## " + words["tier_heading"], "", words["tier_table"],
        "|---|---:|---:|",
        *[f"| {shown(k)} | {impact.by_tier[k][0]} | {impact.by_tier[k][1]:.2f} |"
          for k in sorted(impact.by_tier, key=_sort_key)],
        "", f"![{words['by_tier']}](by_tier.svg)", "", "## " + words["largest"], "",
        words["largest_table"], "|---:|---|---:|---:|---:|---|",
        *[f"| {c.row} | {c.person_id or ''} | {c.before:.2f} | {c.after:.2f} | {c.delta:+.2f} | "
          f"{'; '.join(c.causes)} |" for c in impact.largest],
    ]
    if impact.errors:
        shown_failures = impact.failures[:FAILURES_SHOWN]
        lines += ["", "## " + words["failures"], "",
                  words["failures_count"].format(errors=impact.errors, shown=len(shown_failures)), "",
                  words["failures_table"], "|---:|---|---|---|",
                  *[f"| {f.row} | {f.person_id or ''} | {_cell(f.base) or words['evaluated']} | "
                    f"{_cell(f.proposal) or words['evaluated']} |" for f in shown_failures]]
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def _region_name(impact: Impact, lang: str) -> str:
    labels = impact.labels
    return ((labels.en if lang == "en" else labels.zh) or labels.zh or impact.region) if labels else impact.region


def _cell(text: str | None) -> str:
    """Text for a Markdown table cell: one line, no column bar."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _sort_key(key: str):
    """'<60' first, then bands and tiers by their first number, then words ('none', '?')."""
    first = re.search(r"[0-9]+", key)
    return (0, 0) if key.startswith("<") else (1, int(first.group())) if first else (2, 0)
