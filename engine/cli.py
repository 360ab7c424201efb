"""The `jubao` command: check, test, eval, serve (contract.md, CLI)."""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import click

from engine import compiled
from engine.core import (
    ENGINE_ERRORS,
    Decision,
    Problem,
    decision_json,
    decision_text,
    evaluate,
    problem_of,
    read_as_of,
    read_person,
)
from engine.language import (
    CATALOGUE,
    DEFAULT_POLICY_DIR,
    FieldError,
    InvalidInput,
    InvalidPerson,
    PolicyError,
    Registry,
    SourceFile,
    UnknownRegion,
    check_texts,
    explain,
    model,
    say,
)
from engine.tools import load_cases, run_case


@click.group()
@click.version_option(package_name="jubao", prog_name="jubao",
                      message=f"%(prog)s, version %(version)s\nengine: {compiled.summary()}")
def main() -> None:
    """jubao 居保 — rules-as-code for the urban-rural residents' basic pension."""


def _registry(policies: str | None) -> Registry:
    return Registry(Path(policies) if policies else DEFAULT_POLICY_DIR)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
@click.option("--list-provisional", is_flag=True, help="list every proposal or provisional value, with its line")
@click.option("--explain", "explain_code", metavar="CODE", help="print what a diagnostic code means and how to fix it")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the messages and hints")
def check(paths: tuple[str, ...], policies: str | None, list_provisional: bool, explain_code: str | None,
          lang: str) -> None:
    """Parse and check policy files or region folders (default: all of policies/)."""
    if explain_code is not None:
        text = explain(explain_code, lang)
        if text is None:
            click.echo(f"没有这个诊断代码 (no such diagnostic code): {explain_code}; 可用 (known): "
                       + ", ".join(sorted(CATALOGUE)), err=True)
            sys.exit(2)
        click.echo(text + "\n详见 docs/language.md (see docs/language.md)")
        return
    registry = _registry(policies)
    diagnostics, sources = [], {}
    targets = list(paths) or [str(registry.policy_dir)]
    for target in targets:
        path = Path(target)
        if path.is_file():
            text = path.read_text(encoding="utf-8-sig")
            name = _display(path)
            sources[name] = SourceFile.from_text(name, text)
            diagnostics += check_texts({name: text}, base=registry)
            continue
        folder_registry = registry if path.resolve() == registry.policy_dir.resolve() else (
            Registry(path.parent) if any(path.glob("*.policy")) else Registry(path))
        regions = [path.name] if any(path.glob("*.policy")) else folder_registry.regions
        for region in regions:
            for name, src in folder_registry.sources.get(region, {}).items():
                sources[name] = src
            for d in folder_registry.diagnostics(region):
                diagnostics.append(d)
            if list_provisional and not folder_registry.diagnostics(region):
                _list_provisional(folder_registry.policy(region))
    seen = set()
    for d in diagnostics:
        key = (d.code, str(d.span), d.message)
        if key in seen:
            continue
        seen.add(key)
        src = sources.get(d.span.file)
        if src is None:
            for region_sources in registry.sources.values():
                src = src or region_sources.get(d.span.file)
        click.echo(d.format(src, lang) + "\n")
    if diagnostics:
        click.echo(f"{len(seen)} problem(s) found", err=True)
        sys.exit(1)
    if not list_provisional:
        click.echo("ok: no problems found")


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="write nothing; list the files that would change and exit 1 if there are any")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the messages")
def fmt_cmd(paths: tuple[Path, ...], check_only: bool, lang: str) -> None:
    """Lay policy files out the canonical way (default: all of policies/): tables aligned by display width,
    versions in date order, comments kept. A file that does not parse is reported and nothing is written."""
    from engine.tools import FormatError, format_paths

    targets = list(paths) or [DEFAULT_POLICY_DIR]
    try:
        changed = format_paths(targets, check=check_only)
    except FormatError as exc:
        for d in exc.diagnostics:
            click.echo(d.format(None, lang) + "\n")
        click.echo("没有改动任何文件：先改正上面的错误 (nothing written: fix the errors above first)", err=True)
        sys.exit(2)
    for path in changed:
        click.echo(f"{'would reformat' if check_only else 'reformatted'} {_display(path)}")
    if check_only and changed:
        click.echo(f"{len(changed)} 个文件需要格式化，运行 jubao fmt (run jubao fmt)", err=True)
        sys.exit(1)
    if not changed:
        click.echo("ok: 格式已规范 (already formatted)")


@main.command("lsp")
def lsp_cmd() -> None:
    """Run the policy language server on stdin/stdout (for editors: diagnostics, hover, go to definition,
    completion, formatting). See editors/vscode/."""
    from engine.tools import serve_stdio

    serve_stdio()


def _coverage(registry: Registry, regions, minimum: float | None) -> int:
    """Run each region's cases with the coverage recorder; print per file and region; the exit code."""
    from engine.tools import region_coverage

    code = 0
    for region in regions:
        try:
            policy = registry.policy(region)
            cases = load_cases(registry.policy_dir / region, region, registry.policy_dir.parent)
        except (PolicyError, UnknownRegion) as exc:
            click.echo(f"{region}: {exc}")
            code = 1
            continue
        files, failed = region_coverage(policy, cases)
        total = sum(len(f.lines) for f in files)
        covered = sum(len(f.covered) for f in files)
        percent = 100.0 * covered / total if total else 100.0
        click.echo(f"{region}: {covered}/{total} lines covered ({percent:.1f}%) by {len(cases)} cases"
                   + (f", {failed} failing" if failed else ""))
        for f in files:
            click.echo(f"  {f.file}: {len(f.covered)}/{len(f.lines)} ({f.percent:.1f}%)")
            if f.uncovered:
                click.echo("    uncovered: " + ", ".join(f"{f.file}:{line}" for line in f.uncovered))
        if failed or (minimum is not None and percent < minimum):
            code = 1
    return code


def _list_provisional(policy: model.Policy) -> None:
    for name, layers in policy.definitions.items():
        own = [layer for layer in layers if layer.region == policy.region]
        for layer in own:
            for v in layer.versions:
                if v.cite.status in model.UNCONFIRMED:
                    period = f"{v.start or '…'}–{v.end or ''}"
                    figure = "" if v.figure is None else f" {v.figure}"
                    note = f" ({v.cite.note})" if v.cite.note else ""
                    click.echo(f"{v.span.file}:{v.span.line}: {v.cite.status}: {policy.region} "
                               f"{layer.label()}{figure} [{period}]{note}")
    for f in policy.formulas.values():
        if f.region == policy.region and f.cite and f.cite.status in model.UNCONFIRMED:
            click.echo(f"{f.span.file}:{f.span.line}: {f.cite.status}: {policy.region} {f.label()}")


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@main.command("test")
@click.argument("regions", nargs=-1)
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
@click.option("--coverage", is_flag=True, help="report which policy lines (versions, table rows, formulas) the "
              "cases use, per file and region, with the uncovered lines")
@click.option("--coverage-min", type=click.FloatRange(0, 100), default=None,
              help="with --coverage: exit 1 when a region's coverage is below this percentage")
def test_cmd(regions: tuple[str, ...], policies: str | None, coverage: bool, coverage_min: float | None) -> None:
    """Run the policy test cases in policies/<region>/tests/."""
    registry = _registry(policies)
    if coverage or coverage_min is not None:
        sys.exit(_coverage(registry, regions or registry.regions, coverage_min))
    passed = failed = 0
    for region in regions or registry.regions:
        if region not in registry.sources:
            click.echo(f"unknown region '{region}': one of {', '.join(registry.regions)}")
            failed += 1
            continue
        try:
            policy = registry.policy(region)
        except PolicyError as exc:
            click.echo(f"{region}: policy does not check clean:\n{exc}")
            failed += 1
            continue
        try:
            cases = load_cases(registry.policy_dir / region, region, registry.policy_dir.parent)
        except PolicyError as exc:
            click.echo(f"{region}: test cases cannot be read:\n{exc}")
            failed += 1
            continue
        for case in cases:
            outcome = run_case(policy, case)
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            click.echo(f"FAIL {case.file}:{case.line} {case.name}")
            for f in outcome.failures:
                click.echo(f"  {f}")
            if outcome.lines:
                click.echo("  policy lines: " + ", ".join(outcome.lines))
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@main.command("eval")
@click.option("--region", required=True, help="region id: the name of its folder under policies/")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--explain", is_flag=True, help="include the explanation tree")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the text and the explanation")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="text for people, json for the DETERMINATION of contract.md")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
def eval_cmd(region, as_of, file, explain, lang, fmt, policies) -> None:
    """Evaluate one person (FILE holds the PERSON JSON; - for stdin)."""
    registry = _registry(policies)
    try:
        decision = _evaluate(registry, region, as_of, file.read(), explain, lang)
    except ENGINE_ERRORS as error:
        _fail(problem_of(error), fmt, lang)
        return
    _print(decision, fmt, lang)


@main.command("plan")
@click.argument("region")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
def plan_cmd(region: str, policies: str | None) -> None:
    """Show REGION's compiled plan: each component and `let` with every name resolved."""
    from engine.core import compile_plan

    registry = _registry(policies)
    try:
        if region not in registry.sources:
            raise UnknownRegion(region, registry.regions)
        click.echo(compile_plan(registry.policy(region)).describe())
    except ENGINE_ERRORS as error:
        _fail(problem_of(error), "text")


def _print(decision: Decision, fmt: str, lang: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(decision_json(decision), ensure_ascii=False, indent=2))
    else:
        click.echo(decision_text(decision, lang))


def _evaluate(registry: Registry, region: str, as_of_text: str, body: str, explain: bool, lang: str) -> Decision:
    if region not in registry.sources:
        raise UnknownRegion(region, registry.regions)
    errors = []
    as_of = None
    try:
        as_of = read_as_of(as_of_text)
    except InvalidInput as error:
        errors = error.errors
    try:
        data = json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidPerson(say("cli.person-not-json", reason=exc.msg, line=exc.lineno, column=exc.colno),
                            [FieldError("/person", say("http.malformed-json"))], malformed=True) from None
    if as_of is None:
        raise InvalidInput(say("cli.as-of-invalid"), errors)
    policy = registry.policy(region)
    person = read_person(policy, data, as_of)
    return evaluate(policy, person, as_of, explain=explain, lang=lang)


def _fail(problem: Problem, fmt: str, lang: str = "zh") -> None:
    """Print the problem (in `lang`: Chinese unless --lang en) and exit 2."""
    shown = problem.as_dict(lang)
    if fmt == "json":
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        # in words, not an HTTP status (exit code 2 says "bad input"); the title names the kind of problem
        title = shown["title"].split(" ", 1)
        kind = title[0] if lang == "zh" else (title[1] if len(title) > 1 else title[0])
        click.echo(f"错误（{kind}）：{shown['detail']}" if lang == "zh" else f"error ({kind}): {shown['detail']}",
                   err=True)
        for e in shown["errors"]:
            click.echo(f"  {e['pointer']}: {e['detail']}", err=True)
    sys.exit(2)


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder under policies/")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--workers", type=int, default=None, help="processes (default: one per core)")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local processes, or Dask (a local cluster, or --scheduler tcp://host:8786)")
@click.option("--scheduler", default=None, help="address of a running Dask scheduler")
@click.option("--method", type=click.Choice(["columns", "interpreter"]), default="columns", show_default=True,
              help="columns: arrays of integer fen, the interpreter answering rows outside the common shape; "
                   "interpreter: person by person (same rows, slower)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the problems in the error column and of the error printed")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
def batch(region, as_of, source, target, workers, engine, scheduler, method, lang, policies) -> None:
    """Evaluate a population file (.jsonl, .csv or .parquet) into TARGET, one row per person."""
    from engine.populations import count_rows, run_batch

    registry = _registry(policies)
    total = count_rows(source)
    # the same bar as `jubao population` and `jubao impact` (click's: shown on a terminal, quiet in a pipe)
    with click.progressbar(length=total, label="persons", show_pos=True, file=sys.stderr) as bar:
        try:
            summary = run_batch(registry, region, as_of, source, target, workers, bar.update, engine, scheduler,
                                    method, lang)
        except ENGINE_ERRORS as error:
            bar.render_finish()
            _fail(problem_of(error), "text", lang)
            return
    for line in summary.lines(lang):
        click.echo(line)
    sys.exit(1 if summary.errors else 0)


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder under policies/")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("row", type=int)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the text and the explanation")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="text for people, json for the DETERMINATION of contract.md")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
def why(region, as_of, source, row, lang, fmt, policies) -> None:
    """Explain one ROW of a population file (the row number of `jubao batch` output), with the interpreter."""
    from engine.populations import read_rows

    registry = _registry(policies)
    person = next((p for number, p in read_rows(source) if number == row), None)
    try:
        if person is None:
            count = sum(1 for _ in read_rows(source))
            raise InvalidInput(say("cli.no-row", source=source, row=row), [FieldError(
                "/row", say("cli.rows-from-1", source=source, count=count, s="s" if count != 1 else ""))])
        if isinstance(person, InvalidInput):
            raise person
        decision = _evaluate(registry, region, as_of, json.dumps(person, ensure_ascii=False, default=str), True, lang)
    except ENGINE_ERRORS as error:
        _fail(problem_of(error), fmt, lang)
        return
    _print(decision, fmt, lang)


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder under policies/")
@click.option("--size", type=click.IntRange(min=0), required=True, help="how many persons")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed: the same seed gives the same persons")
@click.option("--as-of", "as_of", default="2020-12-31", show_default=True, help="the date the population is drawn for")
@click.option("--mean-contribution", type=str, default="338", show_default=True,
              help="target average contribution in yuan/year (seed 000: Anhui 338 at end 2020)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help=".parquet, .jsonl or .csv (flat columns; groups and contributions as JSON)")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="policy folder (default: policies/)")
def population(region, size, seed, as_of, mean_contribution, output, policies) -> None:
    """Write a synthetic population of SIZE persons shaped by the region's tiers."""
    from engine.populations import write

    registry = _registry(policies)
    policy = registry.policy(region)
    with click.progressbar(length=size, label="persons", show_pos=True, file=sys.stderr) as bar:
        written = write(policy, size, seed, read_as_of(as_of), output, Decimal(mean_contribution), bar.update)
    click.echo(f"wrote {written} persons to {output}")


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder under policies/")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.option("--base", "base_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="policy folder of the current rules (e.g. policies/)")
@click.option("--proposal", "proposal_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="policy folder with the proposed change")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("impact"),
              show_default=True, help="folder for report.md and its SVG charts")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the report, its charts and the failed rows' problems")
@click.option("--workers", type=int, default=None, help="processes (default: one per core)")
def impact(region, as_of, base_dir, proposal_dir, source, report_dir, lang, workers) -> None:
    """Evaluate a population under two versions of a region's policy and report the difference."""
    from engine.populations import compare, count_rows, write_report

    label = "测算中 evaluating" if lang == "zh" else "evaluating"
    with click.progressbar(length=count_rows(source), label=label, file=sys.stderr, show_pos=True) as bar:
        try:
            result = compare(Registry(Path(base_dir)), Registry(Path(proposal_dir)), region, as_of, source,
                             progress=bar.update, workers=workers, lang=lang, charts=True)
        except ENGINE_ERRORS as exc:
            click.echo(f"错误 error: {exc}", err=True)
            sys.exit(2)
    report = write_report(result, report_dir, lang)
    click.echo(report.read_text(encoding="utf-8"))
    click.echo(f"report: {report}")


def _plugins() -> None:
    """Commands other packages add (e.g. `serve` from web), so the engine never imports them."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="jubao.commands"):
        try:
            main.add_command(ep.load(), ep.name)
        except (ImportError, AttributeError):  # a plugin registered by another install of jubao
            continue


_plugins()

if __name__ == "__main__":
    main()
