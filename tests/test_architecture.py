"""Imports flow one way: nothing in engine imports flask or web; only engine.parse imports lark."""
import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_the_web_layer():
    for path in ENGINE.glob("*.py"):
        assert not imported_modules(path) & {"flask", "web", "werkzeug", "jinja2"}, path.name


def test_only_the_parse_module_imports_lark():
    users = {p.name for p in ENGINE.glob("*.py") if "lark" in imported_modules(p)}
    assert users == {"parse.py"}


def test_no_region_names_in_the_engine():
    # Region differences live in policy files, never in Python.
    for path in ENGINE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for region in ("anhui", "ningxia", "yuxi", "安徽", "宁夏", "玉溪"):
            assert region not in text, f"{path.name} mentions {region}"



def _private_imports(path: Path) -> list[str]:
    """`from x import _name` of a project module: another module's private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("engine", "web"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_module_imports_another_modules_private_names():
    root = ENGINE.parent
    offenders = {p.relative_to(root).as_posix(): _private_imports(p)
                 for folder in ("engine", "web") for p in (root / folder).glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}
