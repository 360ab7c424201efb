"""The compiled engine (setup.py compiles the hot path with Cython): the same answers as the .py files, and never
a compiled module that is older than its source.

A copy of the engine package in a temporary folder stands for a checkout: a fake extension file there is either
tried (its source unchanged since the manifest's digest: the import fails, proving the extension was chosen) or
passed over for the .py (edited source, no manifest entry, or JUBAO_PURE_PYTHON=1).
"""
import ast
import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import compiled

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _setup_modules() -> set[str]:
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    start = text.index("COMPILED = (")
    return set(ast.literal_eval(text[start + len("COMPILED = "):text.index(")", start) + 1]))  # the tuple literal


def test_ci_runs_the_compiled_engine():
    """CI sets JUBAO_EXPECT_COMPILED=1: there, every module setup.py lists must be compiled and in use, so the suite
    tests what production runs (and test_the_two_engines_give_the_same_answers compares it with the .py files)."""
    if os.environ.get("JUBAO_EXPECT_COMPILED") != "1":
        pytest.skip("JUBAO_EXPECT_COMPILED is not set (CI sets it)")
    assert compiled.status() == {name: "compiled" for name in _setup_modules()}, compiled.summary()
    assert compiled.summary() == f"compiled ({len(_setup_modules())} modules, Cython)"
    assert isinstance(sys.modules["engine.core.one_person"].__loader__, importlib.machinery.ExtensionFileLoader)


def test_the_two_engines_give_the_same_answers():
    """Every region's policy cases and 60 synthetic persons per region, with and without the explanation (JSON and
    the Chinese text), errors included: the compiled engine and the .py files answer alike, byte for byte."""
    if not compiled.EXTENSIONS:
        pytest.skip("no compiled modules in this checkout (pip install -e . with a C compiler builds them)")

    def dump(pure: str) -> list[str]:
        env = {**os.environ, "JUBAO_PURE_PYTHON": pure, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, str(ROOT / "tests" / "answers_dump.py"), "60"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.splitlines()

    native, pure = dump("0"), dump("1")
    assert json.loads(pure[0])["engine"].startswith("pure Python")
    assert json.loads(native[0])["engine"] == compiled.summary()
    assert len(native) > 1000 and sum('"error"' in line for line in native) > 50  # answers and refusals both
    assert native[1:] == pure[1:]


def _copy_engine(tmp_path: Path) -> Path:
    """The engine package as a checkout without compiled modules; returns its folder."""
    folder = tmp_path / "engine"
    shutil.copytree(Path(engine.__file__).parent, folder,
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__", "compiled-sources.json"))
    return folder


def _loaders(tmp_path: Path, pure: str = "0") -> dict:
    code = ("import json, engine, engine.core.money, engine.core.dates; from engine import compiled; "
            "print(json.dumps({'money': type(engine.core.money.__loader__).__name__, "
            "'dates': type(engine.core.dates.__loader__).__name__, 'summary': compiled.summary(), "
            "'status': compiled.status()}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path), "JUBAO_PURE_PYTHON": pure})
    return {"ok": done.returncode == 0, "stderr": done.stderr, **(json.loads(done.stdout) if done.stdout else {})}


def test_an_up_to_date_extension_is_the_one_imported(tmp_path):
    folder = _copy_engine(tmp_path)
    (folder / "core" / f"money{SUFFIX}").write_bytes(b"not a shared object")
    digest = hashlib.sha256((folder / "core" / "money.py").read_bytes()).hexdigest()
    (folder / "compiled-sources.json").write_text(json.dumps({"core.money": digest}))
    found = _loaders(tmp_path)
    assert not found["ok"] and "money" in found["stderr"] and "ImportError" in found["stderr"]


def test_an_edited_module_runs_as_written(tmp_path):
    folder = _copy_engine(tmp_path)
    (folder / "core" / f"money{SUFFIX}").write_bytes(b"not a shared object")
    digest = hashlib.sha256((folder / "core" / "money.py").read_bytes()).hexdigest()
    (folder / "compiled-sources.json").write_text(json.dumps({"core.money": digest}))
    with open(folder / "core" / "money.py", "a", encoding="utf-8") as f:
        f.write("\n# an officer's edit after the build\n")
    found = _loaders(tmp_path)
    assert found["ok"], found["stderr"]
    assert found["money"] == "SourceFileLoader" and found["dates"] == "SourceFileLoader"
    assert found["status"] == {"core.money": "python (edited since it was compiled: pip install -e . to compile again)"}
    assert found["summary"].startswith("0 of 1 modules compiled; as Python: core.money (edited since")


def test_a_stray_extension_without_a_manifest_entry_is_passed_over(tmp_path):
    folder = _copy_engine(tmp_path)
    (folder / "core" / f"money{SUFFIX}").write_bytes(b"not a shared object")
    found = _loaders(tmp_path)
    assert found["ok"], found["stderr"]
    assert found["money"] == "SourceFileLoader"
    assert "not in compiled-sources.json" in found["status"]["core.money"]


def test_pure_python_on_request(tmp_path):
    folder = _copy_engine(tmp_path)
    (folder / "core" / f"money{SUFFIX}").write_bytes(b"not a shared object")
    digest = hashlib.sha256((folder / "core" / "money.py").read_bytes()).hexdigest()
    (folder / "compiled-sources.json").write_text(json.dumps({"core.money": digest}))
    found = _loaders(tmp_path, pure="1")
    assert found["ok"], found["stderr"]
    assert found["money"] == "SourceFileLoader"
    assert found["summary"] == "pure Python (JUBAO_PURE_PYTHON=1; 1 compiled modules not used)"


def test_no_extensions_is_plain_python(tmp_path):
    _copy_engine(tmp_path)
    found = _loaders(tmp_path)
    assert found["ok"] and found["money"] == "SourceFileLoader" and found["status"] == {}
    assert found["summary"].startswith("pure Python (no compiled modules")


def test_without_a_compiler_the_install_goes_on_in_pure_python(tmp_path):
    """setup.py where nothing compiles (CC=false): the build succeeds, says which modules stay Python, writes an
    empty manifest, leaves no extension behind, and the engine imports and runs as Python."""
    pytest.importorskip("Cython")
    shutil.copy(ROOT / "setup.py", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    _copy_engine(tmp_path)
    env = {**os.environ, "CC": "false"}
    env.pop("JUBAO_PURE_PYTHON", None)
    done = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.count("was not compiled") == len(_setup_modules())
    assert "jubao: compiled 0 of %d engine modules" % len(_setup_modules()) in done.stderr
    assert json.loads((tmp_path / "engine" / "compiled-sources.json").read_text()) == {}
    assert not list((tmp_path / "engine").rglob(f"*{SUFFIX}"))
    found = _loaders(tmp_path)
    assert found["ok"] and found["money"] == "SourceFileLoader"
    assert found["summary"].startswith("pure Python (no compiled modules")
