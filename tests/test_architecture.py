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

