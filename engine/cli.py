"""The `jubao` command: check, test, eval, serve (docs/api.md, the command line).

Every command that reads policies takes `--policies DIR` (default: ./policies when the current folder has one, else
the policies installed with jubao) and says on stderr where its rules come from; check, test, eval and batch also
take `--store DATA_DIR|DATABASE_URL`, the live versions of a jubao service's policy store.
"""
from __future__ import annotations

import json
import os
import sys
import time
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
    answered,
    check_texts,
    explain,
    model,
    say,
)
from engine.tools import cases_from_texts, load_cases, run_case


@click.group()
@click.version_option(package_name="jubao", prog_name="jubao",
                      message=f"%(prog)s, version %(version)s\nengine: {compiled.summary()}")
def main() -> None:
    """jubao 居保 — rules-as-code for the urban-rural residents' basic pension."""


POLICIES_HELP = "policy folder (default: ./policies when the current folder has one, else the policies installed " \
                "with jubao)"
STORE_HELP = "read the live versions of a jubao service's policy store instead of a folder: its data folder (the " \
             "SQLite file in it) or its database URL"


def policies_option(command):
    return click.option("--policies", type=click.Path(exists=True, file_okay=False), help=POLICIES_HELP)(command)


def store_option(command):
    return click.option("--store", metavar="DATA_DIR|DATABASE_URL", help=STORE_HELP)(command)


def policy_folder(given: str | Path | None) -> tuple[Path, str]:
    """The policy folder a command reads and how it was chosen: given (--policies), the current folder's
    policies/, or the policies installed with jubao."""
    if given:
        return Path(given), "given"
    here = Path("policies")
    if here.is_dir():
        return here, "here"
    return DEFAULT_POLICY_DIR, "installed"


class Rules:
    """Where a command's rules come from: a policy folder, or a service's store (its live versions, their test
    files with them)."""

    def __init__(self, registry: Registry, where: str, tests: dict[str, dict[str, str]] | None = None):
        self.registry, self.where, self.tests = registry, where, tests

    def cases(self, region: str) -> list:
        if self.tests is None:
            return load_cases(self.registry.policy_dir / region, region, self.registry.policy_dir.parent)
        return cases_from_texts(self.tests.get(region, {}), region)


def _rules(policies: str | None, lang: str = "zh", store: str | None = None) -> Rules:
    """The rules a command reads, said on stderr (so that an officer knows whose files were checked)."""
    if store is not None:
        if policies:
            raise click.UsageError("--policies 与 --store 只能用一个 (give either --policies or --store)")
        rules = _store_rules(store, lang)
    else:
        folder, how = policy_folder(policies)
        shown = _display(folder)
        where = {"given": (f"规则来自政策目录 {shown}", f"rules from the policy folder {shown}"),
                 "here": (f"规则来自当前目录下的 {shown}/", f"rules from {shown}/ in the current folder"),
                 "installed": (f"规则来自随 jubao 安装的政策 {folder}（当前目录下没有 policies/）",
                               f"rules from the policies installed with jubao, {folder} (no policies/ here)")}[how]
        rules = Rules(Registry(folder), where[lang == "en"])
    click.echo(rules.where, err=True)
    return rules


def _registry(policies: str | None, lang: str = "zh", store: str | None = None) -> Registry:
    return _rules(policies, lang, store).registry


def _store_rules(store: str, lang: str) -> Rules:
    """The live versions of a service's store. The engine never imports the web layer: the service's `policies`
    command (a plugin, web/cli.py) carries the store reader as `live_files`."""
    reader = getattr(main.commands.get("policies"), "live_files", None)
    if reader is None:
        raise click.UsageError("--store 需要 jubao 的服务部分（web），本安装没有 (the service part of jubao is not "
                               "installed)")
    try:
        where, live = reader(store)
    except (OSError, ValueError) as exc:
        click.echo((f"错误：无法读取政策库 {store}：{exc}" if lang == "zh" else
                    f"error: cannot read the policy store {store}: {exc}"), err=True)
        sys.exit(2)
    sources = {region: {f"policies/{region}/{name}": text for name, text in files.items()
                        if not name.startswith("tests/")} for region, files in live.items()}
    tests = {region: {f"policies/{region}/{name}": text for name, text in files.items() if name.startswith("tests/")}
             for region, files in live.items()}
    said = (f"规则来自政策库 {where} 的现行版本（{len(live)} 个地区）" if lang == "zh" else
            f"rules from the live versions in the policy store {where} ({len(live)} regions)")
    return Rules(Registry.from_sources(sources), said, tests)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@policies_option
@store_option
@click.option("--list-provisional", is_flag=True, help="list every proposal or provisional value, with its line")
@click.option("--explain", "explain_code", metavar="CODE", help="print what a diagnostic code means and how to fix it")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the messages and hints")
def check(paths: tuple[str, ...], policies: str | None, store: str | None, list_provisional: bool,
          explain_code: str | None, lang: str) -> None:
    """Parse and check policy files or region folders (default: every region of the policy folder)."""
    if explain_code is not None:
        text = explain(explain_code, lang)
        if text is None:
            click.echo(f"没有这个诊断代码 (no such diagnostic code): {explain_code}; 可用 (known): "
                       + ", ".join(sorted(CATALOGUE)), err=True)
            sys.exit(2)
        click.echo(text + "\n详见 docs/language.md (see docs/language.md)")
        return
    registry = _registry(policies, lang, store)
    diagnostics, sources = [], {}
    targets = list(paths) or ([] if store else [str(registry.policy_dir)])
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
        diagnostics += _check_regions(folder_registry, regions, sources, list_provisional)
    if not targets:  # the store's live versions, every region
        diagnostics += _check_regions(registry, registry.regions, sources, list_provisional)
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
        click.echo(f"发现 {len(seen)} 个问题" if lang == "zh" else f"{len(seen)} problem(s) found", err=True)
        sys.exit(1)
    if not list_provisional:
        click.echo("检查通过：未发现问题" if lang == "zh" else "ok: no problems found")


def _check_regions(registry: Registry, regions, sources: dict, list_provisional: bool) -> list:
    diagnostics = []
    for region in regions:
        sources.update(registry.sources.get(region, {}))
        found = registry.diagnostics(region)
        diagnostics += found
        if list_provisional and not found:
            _list_provisional(registry.policy(region))
    return diagnostics


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@policies_option
@click.option("--check", "check_only", is_flag=True,
              help="write nothing; list the files that would change and exit 1 if there are any")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the messages")
def fmt_cmd(paths: tuple[Path, ...], policies: str | None, check_only: bool, lang: str) -> None:
    """Lay policy files out the canonical way (default: every file of the policy folder): tables aligned by display
    width, versions in date order, comments kept. A file that does not parse is reported and nothing is written."""
    from engine.tools import FormatError, format_paths

    zh = lang == "zh"
    if paths:
        targets = list(paths)
    else:
        folder, how = policy_folder(policies)
        targets = [folder]
        click.echo((f"格式化政策目录 {_display(folder)}" if zh else f"formatting the policy folder {_display(folder)}")
                   + ("（随 jubao 安装的政策）" if zh and how == "installed" else
                      " (the policies installed with jubao)" if how == "installed" else ""), err=True)
    try:
        changed = format_paths(targets, check=check_only)
    except FormatError as exc:
        for d in exc.diagnostics:
            click.echo(d.format(None, lang) + "\n")
        click.echo("没有改动任何文件：先改正上面的错误" if zh else "nothing written: fix the errors above first", err=True)
        sys.exit(2)
    for path in changed:
        if zh:
            click.echo(f"{'需要格式化' if check_only else '已格式化'} {_display(path)}")
        else:
            click.echo(f"{'would reformat' if check_only else 'reformatted'} {_display(path)}")
    if check_only and changed:
        click.echo(f"{len(changed)} 个文件需要格式化：运行 jubao fmt" if zh else
                   f"{len(changed)} file(s) would change: run jubao fmt", err=True)
        sys.exit(1)
    if not changed:
        click.echo("格式已规范" if zh else "ok: already formatted")


@main.command("lsp")
def lsp_cmd() -> None:
    """Run the policy language server on stdin/stdout (for editors: diagnostics, hover, go to definition,
    completion, formatting). See editors/vscode/."""
    from engine.tools import serve_stdio

    serve_stdio()


def _coverage(rules: Rules, regions, minimum: float | None, lang: str = "zh") -> int:
    """Run each region's cases with the coverage recorder; print per file and region; the exit code."""
    from engine.tools import region_coverage

    zh, code = lang == "zh", 0
    for region in regions:
        try:
            if region not in rules.registry.sources:
                raise UnknownRegion(region, rules.registry.regions)
            policy = rules.registry.policy(region)
            cases = rules.cases(region)
        except (PolicyError, UnknownRegion) as exc:
            click.echo(f"{region}: {exc}")
            code = 1
            continue
        files, failed = region_coverage(policy, cases)
        total = sum(len(f.lines) for f in files)
        covered = sum(len(f.covered) for f in files)
        percent = 100.0 * covered / total if total else 100.0
        if zh:
            click.echo(f"{region}：{len(cases)} 个用例覆盖 {total} 行中的 {covered} 行（{percent:.1f}%）"
                       + (f"，{failed} 个用例失败" if failed else ""))
        else:
            click.echo(f"{region}: {covered}/{total} lines covered ({percent:.1f}%) by {len(cases)} cases"
                       + (f", {failed} failing" if failed else ""))
        for f in files:
            click.echo(f"  {f.file}: {len(f.covered)}/{len(f.lines)} ({f.percent:.1f}%)")
            if f.uncovered:
                click.echo(("    未覆盖：" if zh else "    uncovered: ")
                           + ", ".join(f"{f.file}:{line}" for line in f.uncovered))
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
@policies_option
@store_option
@click.option("--coverage", is_flag=True, help="report which policy lines (versions, table rows, formulas) the "
              "cases use, per file and region, with the uncovered lines")
@click.option("--coverage-min", type=click.FloatRange(0, 100), default=None,
              help="with --coverage: exit 1 when a region's coverage is below this percentage")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the failure lines")
def test_cmd(regions: tuple[str, ...], policies: str | None, store: str | None, coverage: bool,
             coverage_min: float | None, lang: str) -> None:
    """Run the policy test cases of each region (its tests/*.yaml); the last line is `N passed, N failed`."""
    rules = _rules(policies, lang, store)
    registry, zh = rules.registry, lang == "zh"
    if coverage or coverage_min is not None:
        sys.exit(_coverage(rules, regions or registry.regions, coverage_min, lang))
    passed = failed = 0
    for region in regions or registry.regions:
        if region not in registry.sources:
            click.echo(f"未知地区 '{region}'；已有地区：{'、'.join(registry.regions)}" if zh else
                       f"unknown region '{region}': one of {', '.join(registry.regions)}")
            failed += 1
            continue
        try:
            policy = registry.policy(region)
        except PolicyError as exc:
            click.echo(f"{region}：政策未通过检查：\n{exc}" if zh else f"{region}: policy does not check clean:\n{exc}")
            failed += 1
            continue
        try:
            cases = rules.cases(region)
        except PolicyError as exc:
            click.echo(f"{region}：测试用例无法读取：\n{exc}" if zh else f"{region}: test cases cannot be read:\n{exc}")
            failed += 1
            continue
        for case in cases:
            outcome = run_case(policy, case, lang=lang)
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            click.echo(f"{'未通过' if zh else 'FAIL'} {case.file}:{case.line} {case.name}")
            for f in outcome.failures:
                click.echo(f"  {f}")
            if outcome.lines:
                click.echo(("  相关条文：" if zh else "  policy lines: ") + ", ".join(outcome.lines))
    click.echo(f"{passed} passed, {failed} failed")  # the contract's last line, in every language (docs/api.md)
    sys.exit(1 if failed else 0)


@main.command("eval")
@click.option("--region", required=True, help="region id: the name of its folder in the policy folder")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--explain", is_flag=True, help="include the explanation tree")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the text and the explanation")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="text for people, json for the DETERMINATION (docs/api.md)")
@policies_option
@store_option
def eval_cmd(region, as_of, file, explain, lang, fmt, policies, store) -> None:
    """Evaluate one person (FILE holds the PERSON JSON, - for stdin; its fields in docs/api.md)."""
    registry = _registry(policies, lang, store)
    try:
        decision = _evaluate(registry, region, as_of, file.read(), explain, lang)
    except ENGINE_ERRORS as error:
        _fail(problem_of(error), fmt, lang)
        return
    _print(decision, fmt, lang)


@main.command("plan")
@click.argument("region")
@policies_option
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
    shown = answered(problem.as_dict(lang), lang)  # the title in `lang`, the type a service's page (docs/api.md)
    if fmt == "json":
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        # in words, not an HTTP status (exit code 2 says "bad input"); the title names the kind of problem
        kind = shown["title"]
        click.echo(f"错误（{kind}）：{shown['detail']}" if lang == "zh" else f"error ({kind}): {shown['detail']}",
                   err=True)
        for e in shown["errors"]:
            click.echo(f"  {e['pointer']}: {e['detail']}", err=True)
    sys.exit(2)


class Progress:
    """Progress of a long run on stderr: click's bar on a terminal; in a pipe or a log (stderr not a terminal), one
    line every JUBAO_PROGRESS_SECONDS (default 10) and one at the end, so that the lines never run into the text."""

    def __init__(self, total: int | None, lang: str = "zh", noun: tuple[str, str] = ("人", "persons")):
        self.total, self.lang, self.noun = total, lang, noun
        self.done, self.started = 0, time.monotonic()
        self.every = float(os.environ.get("JUBAO_PROGRESS_SECONDS") or 10)
        self.said, self.said_done = self.started, -1
        self.bar = None
        if sys.stderr.isatty():
            label = noun[0] if lang == "zh" else noun[1]
            self.bar = click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr)

    def __enter__(self) -> "Progress":
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif exc[0] is None and self.said_done != self.done:
            self.line()

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.said >= self.every:
            self.said = now
            self.line()

    def finish(self) -> None:
        """Before an error is printed: the bar ends its line (the lines need nothing)."""
        if self.bar is not None:
            self.bar.render_finish()

    def line(self) -> None:
        self.said_done = self.done
        seconds = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / seconds
        share = f"{100 * self.done / self.total:.1f}" if self.total else None
        left = (self.total - self.done) / rate if self.total and rate > 0 else None
        zh = self.lang == "zh"
        if zh:
            text = f"已处理 {self.done:,}" + (f"/{self.total:,}" if self.total else "") + f" {self.noun[0]}" + \
                (f"（{share}%）" if share else "") + f"，每秒 {rate:,.0f} {self.noun[0]}，用时 {seconds:.0f} 秒" + \
                (f"，预计还需 {left:.0f} 秒" if left is not None and self.done < self.total else "")
        else:
            text = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "") + f" {self.noun[1]}" + \
                (f" ({share}%)" if share else "") + f", {rate:,.0f}/s, {seconds:.0f} s" + \
                (f", about {left:.0f} s left" if left is not None and self.done < self.total else "")
        click.echo(text, err=True)


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder in the policy folder")
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
              help="language of the problems in the error column, of the summary and of the error printed")
@policies_option
@store_option
def batch(region, as_of, source, target, workers, engine, scheduler, method, lang, policies, store) -> None:
    """Evaluate a population file (.jsonl, .csv or .parquet) into TARGET, one row per person."""
    from engine.populations import count_rows, run_batch

    registry = _registry(policies, lang, store)
    with Progress(count_rows(source), lang) as progress:
        try:
            summary = run_batch(registry, region, as_of, source, target, workers, progress.update, engine, scheduler,
                                method, lang)
        except ENGINE_ERRORS as error:
            progress.finish()
            _fail(problem_of(error), "text", lang)
            return
        except Exception as error:  # noqa: BLE001 — a Dask cluster's failure, whatever it raises: one line, no trace
            if engine != "dask":
                raise
            progress.finish()
            _dask_failed(error, scheduler, lang)
            return
    policy = registry.policy(region)
    labels = {name: policy.formulas[name].label(lang) for name in policy.components}
    for line in summary.lines(lang, labels):
        click.echo(line)
    sys.exit(1 if summary.errors else 0)


def _dask_failed(error: Exception, scheduler: str | None, lang: str) -> None:
    """A Dask run that failed, in one line: where, and the error's own words (its first line)."""
    reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}".rstrip(": ")
    where = scheduler or ("本机的 Dask 集群" if lang == "zh" else "the local Dask cluster")
    click.echo(f"错误：在 {where} 上的批量计算失败（{reason}）；输出文件不完整" if lang == "zh" else
               f"error: the batch on {where} failed ({reason}); the output file is incomplete", err=True)
    sys.exit(2)


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder in the policy folder")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("row", type=int)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the text and the explanation")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="text for people, json for the DETERMINATION (docs/api.md)")
@policies_option
def why(region, as_of, source, row, lang, fmt, policies) -> None:
    """Explain one ROW of a population file (the row number of `jubao batch` output), with the interpreter."""
    from engine.populations import read_rows

    registry = _registry(policies, lang)
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
@click.option("--region", required=True, help="region id: the name of its folder in the policy folder")
@click.option("--size", type=click.IntRange(min=0), required=True, help="how many persons")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed: the same seed gives the same persons")
@click.option("--as-of", "as_of", default="2020-12-31", show_default=True, help="the date the population is drawn for")
@click.option("--mean-contribution", type=str, default="338", show_default=True,
              help="target average contribution in yuan/year (seed 000: Anhui 338 at end 2020)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help=".parquet, .jsonl or .csv (flat columns; groups and contributions as JSON)")
@policies_option
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the progress and of the last line")
def population(region, size, seed, as_of, mean_contribution, output, policies, lang) -> None:
    """Write a synthetic population of SIZE persons shaped by the region's tiers."""
    from engine.populations import write

    registry = _registry(policies, lang)
    try:
        if region not in registry.sources:
            raise UnknownRegion(region, registry.regions)
        policy = registry.policy(region)
    except ENGINE_ERRORS as error:
        _fail(problem_of(error), "text", lang)
        return
    with Progress(size, lang) as progress:
        written = write(policy, size, seed, read_as_of(as_of), output, Decimal(mean_contribution), progress.update)
    click.echo(f"已写入 {written:,} 人：{output}" if lang == "zh" else f"wrote {written} persons to {output}")


@main.command()
@click.option("--region", required=True, help="region id: the name of its folder in the policy folder")
@click.option("--as-of", "as_of", required=True, help="the date the figures are for, YYYY-MM-DD")
@click.option("--base", "--policies", "base_dir", type=click.Path(exists=True, file_okay=False),
              help="policy folder of the current rules (default: ./policies when the current folder has one, else "
                   "the policies installed with jubao)")
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

    base = _registry(base_dir, lang)
    click.echo(f"调整方案来自政策目录 {_display(Path(proposal_dir))}" if lang == "zh" else
               f"the proposal from the policy folder {_display(Path(proposal_dir))}", err=True)
    with Progress(count_rows(source), lang) as progress:
        try:
            result = compare(base, Registry(Path(proposal_dir)), region, as_of, source,
                             progress=progress.update, workers=workers, lang=lang, charts=True)
        except ENGINE_ERRORS as error:
            progress.finish()
            _fail(problem_of(error), "text", lang)
            return
    report = write_report(result, report_dir, lang)
    click.echo(report.read_text(encoding="utf-8"))
    click.echo(f"报告：{report}" if lang == "zh" else f"report: {report}")


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
