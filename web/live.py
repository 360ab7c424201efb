"""The live policies every request reads, built from the store; drafts assessed; publishing and rollback.

Each request takes one Registry (`current()`), so it sees one complete set of versions. A publish in any
process changes the store's live pointers and touches a stamp file in the data folder; every process on
the machine notices the stamp on its next request (a stat, not a query), processes elsewhere within
RECHECK seconds, and swaps in a freshly built Registry in one assignment.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path

import attrs
import sqlalchemy as sa

from engine import PolicyError, Registry, load_cases, run_case
from engine.language import FieldError, Span, diagnostic, say
from engine.tools import cases_from_texts
from web.bodies import TEST_FILE_NAME, HttpProblem
from web.store import StaleDraft, Store

RECHECK = 1.0  # seconds between reads of the store's live pointers when the stamp has not moved
SEED_AUTHOR = "policies/"  # versions read from the policy folder on disk
log = logging.getLogger("jubao.policies")


def display_name(region: str, name: str) -> str:
    return f"policies/{region}/{name}"


def own_files(registry: Registry, region: str) -> dict[str, str]:
    return {name.rsplit("/", 1)[-1]: src.text for name, src in registry.sources[region].items()}


TESTS = "tests/"  # a version's files: name.policy → policy text, tests/name.yaml → the region's test cases


def policy_part(files: dict[str, str]) -> dict[str, str]:
    return {n: t for n, t in files.items() if not n.startswith(TESTS)}


def test_part(files: dict[str, str]) -> dict[str, str]:
    return {n: t for n, t in files.items() if n.startswith(TESTS)}


def folder_tests(policy_dir: Path, region: str) -> dict[str, str]:
    """A region's test files on disk, named as a version holds them (tests/<name>.yaml)."""
    found = {f"{TESTS}{p.name}": p for p in sorted((policy_dir / region / "tests").glob("*.yaml"))}
    for name in [n for n in found if not TEST_FILE_NAME.fullmatch(n)]:
        # a name a draft could not send back (the editor submits every file): left on disk, reported
        log.error("policies/%s/%s is not a test file name (letters, digits, '_' or '-', then .yaml): not seeded",
                  region, name)
        del found[name]
    return {name: path.read_text(encoding="utf-8") for name, path in found.items()}


@attrs.frozen
class Assessment:
    ok: bool
    diagnostics: list
    tests: dict
    policy_version: str | None
    bases: dict


class LivePolicies:
    def __init__(self, store: Store, policy_dir: Path, stamp: Path | None = None):
        self.store = store
        self.policy_dir = Path(policy_dir)
        self.stamp = Path(stamp) if stamp else None
        self._stamp_path = str(self.stamp) if stamp else None
        if self.stamp is not None:
            # made now if missing (never touched here): every request stats it, and a stamp that is not there
            # costs each of them a FileNotFoundError raised and caught
            try:
                self.stamp.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self._stamp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except OSError:  # already there (the usual case), or a folder that cannot be written: stat as before
                pass
        self._seen: tuple[int, float] = (-1, 0.0)  # (stamp, monotonic time) of the last read of the store
        self._lock = threading.Lock()
        self._state: tuple[dict, Registry] | None = None
        self._publishing = threading.Lock()
        self._built: dict[tuple, Registry] = {}  # past version sets, for decisions re-evaluated or decided on a day
        self.folder_problems: dict[str, list[dict]] = {}  # regions whose policy folder did not check at start

    # ── reading ────────────────────────────────────────────────────────────
    def current(self) -> Registry:
        stamp = self._stamp()
        if self._state is not None and stamp == self._seen[0] and time.monotonic() - self._seen[1] < RECHECK:
            return self._state[1]
        try:
            self._seen = (stamp, time.monotonic())
            live = self.store.live()
        except sa.exc.SQLAlchemyError:
            if self._state is None:
                raise
            return self._state[1]  # the database is away: keep serving the last complete version
        state = self._state
        if state is None or state[0] != live:
            with self._lock:
                state = self._state
                if state is None or state[0] != live:
                    state = (live, self.build(live))
                    self._state = state
        return state[1]

    def _stamp(self) -> int:
        try:
            return os.stat(self._stamp_path).st_mtime_ns if self._stamp_path else 0
        except FileNotFoundError:
            return 0

    def _touch(self) -> None:
        if self.stamp:
            self.stamp.parent.mkdir(parents=True, exist_ok=True)
            self.stamp.write_text(str(time.time_ns()), encoding="utf-8")

    def build(self, versions: dict[str, str]) -> Registry:
        sources = {}
        for region, version_id in versions.items():
            files = policy_part(self.store.version(version_id)["files"])
            sources[region] = {display_name(region, n): t for n, t in files.items()}
        registry = Registry.from_sources(sources, self.policy_dir)
        for region in registry.regions:
            registry.diagnostics(region)  # parse and check once, before any request uses it
        return registry

    def registry_on(self, day: dt.date) -> Registry:
        """The registry as it was live at the end of `day` (decisions 'as decided on' that day)."""
        versions = self.store.live_on(day)
        if not versions:
            first = self.store.first_live()
            raise HttpProblem(422, say("http.nothing-live"), [FieldError(
                "/decided_on", say("http.store-starts", day=first.date()) if first else say("http.store-empty"))])
        return self._remembered(tuple(sorted(versions.items())), lambda: self.build(versions))

    def _remembered(self, key: tuple, make) -> Registry:
        if key not in self._built:
            if len(self._built) >= 16:
                self._built.pop(next(iter(self._built)))
            self._built[key] = make()
        return self._built[key]

    def registry_of(self, region: str, policy_version: str) -> Registry | None:
        """The registry a stored decision was made with (its region's files and its bases' files then)."""
        version = self.store.version_by_digest(region, policy_version)
        return self.registry_of_version(version) if version is not None else None

    def registry_of_version(self, version: dict) -> Registry:
        """A stored version (draft or published) with the bases it was checked against."""
        region, policy_version = version["region"], version["id"]
        sources = {b: {display_name(b, n): t for n, t in policy_part(files).items()}
                   for b, files in version["bases"].items()}
        sources[region] = {display_name(region, n): t for n, t in policy_part(version["files"]).items()}
        return self._remembered(("version", region, policy_version),
                                lambda: Registry.from_sources(sources, self.policy_dir))

    # ── seeding from disk ──────────────────────────────────────────────────
    def seed(self, disk: Registry) -> None:
        """Publish regions the store lacks, and those whose live version came from disk and changed there.

        A region whose folder does not check is not published: the store's live version goes on being served,
        and the folder's problems are logged and shown on /readyz (`folder_problems`)."""
        live = self.store.live()
        for region in disk.regions:
            current = self.store.version(live[region]) if region in live else None
            try:
                files = {**own_files(disk, region), **folder_tests(disk.policy_dir, region)}
            except UnicodeDecodeError:  # as a broken policy file: the store's version is served, the folder reported
                self._folder_problem(region, [diagnostic("bad-test-file", "bad-test-file",
                                                         Span(f"policies/{region}/tests/", 1, 1),
                                                         "bad-test-file.hint", a="UTF-8")], current)
                continue
            unreadable = disk.unreadable(region)
            if unreadable:
                self._folder_problem(region, unreadable, current)
                continue
            if current is not None and (current["files"] == files or current["author"] != SEED_AUTHOR):
                continue
            try:
                policy = disk.policy(region)
            except PolicyError as exc:
                self._folder_problem(region, exc.diagnostics, current)
                continue
            bases = {b: own_files(disk, b) for b in policy.chain[1:]}
            self._seen = (-1, 0.0)
            version_id = self.store.add_version(region, files, bases, policy.digest, SEED_AUTHOR,
                                                "读自 policies/ 目录", status="published",
                                                parent=current["id"] if current else None)
            self.store.publish(version_id, SEED_AUTHOR, policy.digest, bases, action="seed")

    def _folder_problem(self, region: str, diagnostics: list, current: dict | None) -> None:
        self.folder_problems[region] = [d.as_dict() for d in diagnostics]
        log.error("policies/%s does not check clean; %s: %s", region,
                  "serving the store's live version" if current else "the region is not served",
                  "; ".join(f"{d.span}: {d.code}: {d.message}" for d in diagnostics[:5]))

    # ── drafts and publishing ──────────────────────────────────────────────
    def cases(self, region: str, files: dict[str, str] | None = None) -> list:
        """A region's test cases: those its version's files carry (`files`, else its live version's), else the
        policy folder's (versions stored before drafts carried their tests)."""
        if files is None:
            live_id = self.store.live().get(region)
            files = self.store.version(live_id)["files"] if live_id else {}
        carried = test_part(files)
        if carried:
            return cases_from_texts({display_name(region, n): t for n, t in carried.items()}, region)
        return load_cases(self.policy_dir / region, region, self.policy_dir.parent)

    def assess(self, region: str, files: dict[str, str], draft: bool = True) -> Assessment:
        """Check `files` as the region's new text with the other regions as live, and run the tests it affects:
        the draft's own test files for its region, the live versions' for the regions built on it."""
        base = self.current()
        sources = base.texts()
        sources[region] = {display_name(region, n): t for n, t in policy_part(files).items()}
        registry = Registry.from_sources(sources, self.policy_dir)
        diagnostics = [d for r in registry.regions for d in registry.diagnostics(r)
                       if r == region or region in _chain(registry, r)]
        tests = {"passed": 0, "failed": 0, "failures": []}
        policy_version, bases = None, {}
        if not diagnostics:
            policy = registry.policy(region)
            policy_version = policy.digest
            bases = {b: own_files(registry, b) for b in policy.chain[1:]}
            for r in registry.regions:
                if r != region and region not in registry.policy(r).chain:
                    continue
                try:
                    cases = self.cases(r, files if r == region else None)
                except PolicyError as exc:  # a test file that cannot be read fails the assessment, with where
                    diagnostics.extend(exc.diagnostics)
                    continue
                if r == region and not cases:
                    # a change nothing tests cannot be reviewed on evidence: no cases, no approval
                    diagnostics.append(diagnostic("no-tests", "no-tests", Span(f"policies/{region}/tests/", 1, 1),
                                                  "no-tests.hint", a=region))
                elif r == region and draft:  # a rollback returns to a version that was reviewed with its cases
                    self._no_fewer_cases(region, len(cases), diagnostics)
                for outcome in (run_case(registry.policy(r), case) for case in cases):
                    if outcome.passed:
                        tests["passed"] += 1
                    else:
                        tests["failed"] += 1
                        tests["failures"].append({"region": r, "case": outcome.case.name, "file": outcome.case.file,
                                                  "line": outcome.case.line, "failures": list(outcome.failures)})
        return Assessment(not diagnostics and not tests["failed"], [d.as_dict() for d in diagnostics], tests,
                          policy_version, bases)

    def _no_fewer_cases(self, region: str, count: int, diagnostics: list) -> None:
        """A draft runs at least the cases its live version holds: dropping cases would let a change through
        unseen (a reviewer who wants fewer has the live version's cases changed in a draft of their own)."""
        try:
            live_count = len(self.cases(region))
        except PolicyError:
            return  # the live version's tests cannot be read: nothing to compare with
        if count < live_count:
            diagnostics.append(diagnostic("fewer-tests", "fewer-tests", Span(f"policies/{region}/tests/", 1, 1),
                                          "fewer-tests.hint", a=count, b=live_count))

    def publish(self, version_id: str, by: str, remote: str | None, action: str = "publish") -> dict:
        """Re-assess against today's live bases and, if clean, make it live; 409 with the reasons otherwise."""
        with self._publishing:  # one publish at a time per process; the store transaction guards across processes
            version = self.store.version(version_id)
            assessment = self.assess(version["region"], version["files"], draft=action != "rollback")
            if not assessment.ok:
                raise HttpProblem(409, say("http.not-published-unclean"),
                              extra={"diagnostics": assessment.diagnostics, "tests": assessment.tests})
            try:
                self.store.publish(version_id, by, assessment.policy_version, assessment.bases, remote, action)
            except StaleDraft as stale:
                raise HttpProblem(409, say("http.stale-draft", parent=stale.parent, live=stale.live,
                                           draft=version_id), extra={"live_version_id": stale.live,
                                                      "parent_version_id": stale.parent}) from None
            self._touch()
            self._seen = (-1, 0.0)
        self.current()
        return {"region": version["region"], "policy_version": assessment.policy_version, "live": True,
                "version_id": version_id}


def _chain(registry: Registry, region: str) -> tuple[str, ...]:
    try:
        return registry.policy(region).chain
    except Exception:  # a region that does not check has no chain to follow
        return (region,)
