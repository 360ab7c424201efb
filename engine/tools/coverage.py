"""Rule coverage (`jubao test --coverage`): which lines of a region's policy files its cases use.

A line is covered when it gave a value to some case's determination: a dated version, a table row (a tier,
a 代缴 or reward row, a band), a component or `let`. A `floor` table is not counted: it bounds the other
tables when `jubao check` runs, and no determination reads it. The cases run with the explanation recorder, which is
told every version and row it reads (the same calls `engine.core.explain.RowsUsed` listens to).
"""
from __future__ import annotations

import attrs

from engine.core.explain import CALLS, RowsUsed, Trace
from engine.language import model
from engine.tools.cases import Case, run_case

CHECKED_ONLY = {"floor"}  # kinds the checker enforces and no evaluation reads


class Covering(Trace):
    """The explanation recorder that also keeps the policy lines each call reads."""

    def __init__(self, policy: model.Policy = None, lang: str = "zh"):
        super().__init__(policy, lang)
        self.lines: set[tuple[str, int]] = set()

    note = RowsUsed.note


def _both(name: str):
    def call(self, *args, **kwargs):
        getattr(RowsUsed, name)(self, *args, **kwargs)
        return getattr(Trace, name)(self, *args, **kwargs)
    return call


for _name in CALLS:
    if _name in vars(RowsUsed):
        setattr(Covering, _name, _both(_name))


@attrs.frozen
class FileCoverage:
    file: str
    lines: tuple[int, ...]  # the coverable lines
    covered: frozenset[int]

    @property
    def uncovered(self) -> tuple[int, ...]:
        return tuple(line for line in self.lines if line not in self.covered)

    @property
    def percent(self) -> float:
        return 100.0 * len(self.covered) / len(self.lines) if self.lines else 100.0


def coverable(policy: model.Policy) -> dict[str, dict[int, tuple[int, ...]]]:
    """For each of the region's own files: each coverable line → the lines that cover it (a table version is
    covered by its own line or by any of its rows)."""
    out: dict[str, dict[int, tuple[int, ...]]] = {}
    for layers in policy.definitions.values():
        for layer in layers:
            if layer.region != policy.region or layer.kind in CHECKED_ONLY:
                continue
            for version in layer.versions:
                # a table looked up by the person's facts counts as its version line: the recorder is told the
                # version, not which key the facts chose
                keyed = any(isinstance(r, model.KeyedRow) for r in version.rows)
                rows = () if keyed else tuple(r.span.line for r in version.rows)
                lines = out.setdefault(version.span.file, {})
                lines[version.span.line] = (version.span.line,) + rows
                for line in rows:
                    lines[line] = (line,)
    for formula in policy.formulas.values():
        if formula.region == policy.region:
            out.setdefault(formula.span.file, {})[formula.span.line] = (formula.span.line,)
    return out


def region_coverage(policy: model.Policy, cases: list[Case]) -> tuple[list[FileCoverage], int]:
    """(per file coverage, failed cases) of `cases` run on `policy`."""
    used: set[tuple[str, int]] = set()
    failed = 0
    for case in cases:
        recorder = Covering(policy)
        if not run_case(policy, case, recorder).passed:
            failed += 1
        used |= recorder.lines
    report = []
    for file, lines in sorted(coverable(policy).items()):
        covered = frozenset(line for line, by in lines.items() if any((file, b) in used for b in by))
        report.append(FileCoverage(file, tuple(sorted(lines)), covered))
    return report, failed
