"""The engine's rooms and the direction of imports (docs/architecture.md).

    engine.language  →  engine.core  →  engine.columns  →  engine.populations
                              ↑                 engine.tools (language, core)
    web, engine.cli: through the packages' faces (`engine`, `engine.<room>`), never a module inside a room.

Nothing in engine imports flask or web; only engine.language.parse imports lark; `engine.core` and
`engine.language` never import NumPy or pyarrow (one person needs neither).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
ROOMS = ("language", "core", "columns", "populations", "tools")
# what each room may import of the engine (besides itself and `engine.compiled`)
MAY_IMPORT = {
    "language": set(),
    "core": {"language"},
    "columns": {"language", "core"},
    "populations": {"language", "core", "columns"},
    "tools": {"language", "core"},
}


def engine_modules():
    return sorted(ENGINE.rglob("*.py"))


def room_of(path: Path) -> str | None:
    parts = path.relative_to(ENGINE).parts
    return parts[0] if len(parts) > 1 else None


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every absolute import in the file, at any depth (imports inside functions count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
    return found


def top_packages(path: Path) -> set[str]:
    return {module.split(".")[0] for module, _ in imports_of(path)}


def engine_rooms_used(path: Path) -> set[str]:
    """The rooms a file imports from: `engine.core.plan`, `from engine.core import plan` and `from engine import core`."""
    rooms = set()
    for module, names in imports_of(path):
        parts = module.split(".")
        if parts[0] != "engine":
            continue
        if len(parts) > 1:
            rooms.add(parts[1])
        else:
            rooms |= {n for n in names if n in ROOMS}
    return rooms & set(ROOMS)


def test_the_engine_is_in_rooms():
    loose = sorted(p.name for p in ENGINE.glob("*.py"))
    assert loose == ["__init__.py", "cli.py", "compiled.py"]
    for room in ROOMS:
        face = ENGINE / room / "__init__.py"
        assert face.exists(), room
        doc = ast.get_docstring(ast.parse(face.read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"engine/{room}/__init__.py says what it owns and what it may import"


@pytest.mark.parametrize("room", ROOMS)
def test_imports_flow_one_way(room):
    offenders = {}
    for path in (ENGINE / room).rglob("*.py"):
        wrong = engine_rooms_used(path) - MAY_IMPORT[room] - {room}
        if wrong:
            offenders[path.relative_to(ROOT).as_posix()] = sorted(wrong)
    assert offenders == {}


def test_the_web_and_the_cli_use_the_faces():
    """`engine`, `engine.<room>`: never a module inside a room (what a room exports is its face's list)."""
    deep = {}
    for path in [*sorted((ROOT / "web").rglob("*.py")), ENGINE / "cli.py"]:
        for module, _ in imports_of(path):
            parts = module.split(".")
            if parts[0] == "engine" and len(parts) > 2:
                deep.setdefault(path.relative_to(ROOT).as_posix(), []).append(module)
    assert deep == {}


def test_no_module_over_700_lines():
    """Small modules with one job each; the message catalogue is data."""
    long = {p.relative_to(ENGINE).as_posix(): n for p in engine_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700 and p.name != "catalogue.py"}
    assert long == {}


def test_engine_never_imports_the_web_layer():
    for path in engine_modules():
        assert not top_packages(path) & {"flask", "web", "werkzeug", "jinja2"}, path


def test_only_the_parse_module_imports_lark():
    users = {p.relative_to(ENGINE).as_posix() for p in engine_modules() if "lark" in top_packages(p)}
    assert users == {"language/parse.py"}


@pytest.mark.parametrize("room", ["language", "core"])
def test_one_person_needs_no_arrays(room):
    users = {p.name for p in (ENGINE / room).rglob("*.py") if top_packages(p) & {"numpy", "pyarrow", "pandas"}}
    assert users == set()


def test_import_engine_loads_no_arrays_and_no_parser():
    code = "import sys, engine; print(sorted(m for m in ('numpy', 'pyarrow', 'lark') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_no_region_names_in_the_engine():
    # Region differences live in policy files, never in Python.
    for path in engine_modules():
        text = path.read_text(encoding="utf-8")
        for region in ("anhui", "ningxia", "yuxi", "chongqing", "nanjing", "安徽", "宁夏", "玉溪", "重庆", "南京"):
            assert region not in text, f"{path.name} mentions {region}"


def _private_imports(path: Path) -> list[str]:
    """`from x import _name` of a project module: another module's private name."""
    return [f"{module}.{name}" for module, names in imports_of(path) if module.split(".")[0] in ("engine", "web")
            for name in names if name.startswith("_")]


def test_no_module_imports_another_modules_private_names():
    offenders = {p.relative_to(ROOT).as_posix(): _private_imports(p)
                 for folder in ("engine", "web") for p in (ROOT / folder).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_package_travels_in_the_wheel():
    """pyproject.toml lists the packages by hand (two are mapped from top-level folders): a room or a package inside
    one that is not listed is missing from an installed jubao, which then cannot import engine."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(p.parent.relative_to(ROOT).parts) for folder in ("engine", "web")
                for p in (ROOT / folder).rglob("__init__.py")}
    assert packages - listed == set()
