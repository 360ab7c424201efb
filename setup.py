"""The build's one addition to pyproject.toml: the engine's hot path compiled with Cython, where it can be.

The modules below are plain Python (no Cython syntax, no type declarations); Cython turns each into a C
extension beside its .py, which runs one person in about two thirds of the time (0.65–0.72× in
benchmarks/eval_latency.py, README's performance section). Nothing depends on it: where there is no C compiler, or JUBAO_PURE_PYTHON=1 is set at
build time, or a module fails to compile, the build says so and the .py runs. `engine/compiled.py` uses an
extension only while its .py is the very text it was built from (the digests in engine/compiled-sources.json),
so an edited module runs as edited until the next `pip install -e .`.
"""
import importlib.util
import json
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
# The modules one evaluation runs through (person read → pricing → mechanics → plan → decision → JSON); the
# column back end (NumPy), the checker and the parser are left as they are: compiling them buys little.
COMPILED = ("core.one_person", "core.person_formulas", "core.schedules", "core.prepared", "core.pricing", "core.person",
            "core.mechanics", "core.lookup", "core.money", "core.memo", "core.plan", "core.algebra", "core.decision",
            "core.explain", "language.model", "core.dates", "core.render", "tools.fmt", "language.text", "core.trace")


def _rules():
    """engine/compiled.py, the module that reads the manifest this build writes (its digest and file name, one
    definition): loaded by path, since it imports nothing of the engine and the build has none of its
    dependencies."""
    spec = importlib.util.spec_from_file_location("jubao_compiled_rules", HERE / "engine" / "compiled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RULES = _rules()


def _extensions() -> list:
    if os.environ.get("JUBAO_PURE_PYTHON") == "1":
        print("jubao: JUBAO_PURE_PYTHON=1, the engine stays pure Python", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("jubao: Cython is not installed, the engine stays pure Python", file=sys.stderr)
        return []
    # -g0: no C debug information (Python's tracebacks name the .py line either way): a third of the build time and
    # most of the extensions' size
    modules = [Extension(f"engine.{name}", [f"engine/{name.replace('.', '/')}.py"], extra_compile_args=["-g0"])
               for name in COMPILED]
    # annotation_typing off: the annotations are documentation, never checked or used as C types (Python's own
    # semantics, e.g. a LazyPointer where `str` is written); binding: functions behave like Python's
    # (introspection, pickling).
    return cythonize(modules, language_level=3, quiet=True,
                     compiler_directives={"annotation_typing": False, "binding": True})


class OptionalBuildExt(build_ext):
    """Builds what compiles (both cores at once) and records the source each extension was built from; a
    module that does not compile stays pure Python instead of failing the install."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self):
        self.built = []
        try:
            super().run()
        except Exception as exc:  # no compiler at all: the engine runs as Python
            print(f"jubao: the compiled engine was not built ({exc}); the engine stays pure Python", file=sys.stderr)
        self.write_manifest()

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"jubao: {ext.name} was not compiled ({exc}); it stays pure Python", file=sys.stderr)
            return
        self.built.append(ext.name)

    def copy_extensions_to_source(self):  # an in-place build (pip install -e .) copies what was built, only
        every = self.extensions
        self.extensions = [ext for ext in every if ext.name in self.built]
        try:
            super().copy_extensions_to_source()
        finally:
            self.extensions = every

    def write_manifest(self):
        if not self.extensions:
            return
        first = self.extensions[0].name  # engine.<room>.<module>: the manifest goes in the package's own folder
        folder = Path(self.get_ext_fullpath(first)).parents[first.count(".") - 1]
        digests = {name.split(".", 1)[1]: RULES.digest((HERE / Path(*name.split("."))).with_suffix(".py"))
                   for name in sorted(self.built)}
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RULES.MANIFEST.name).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n",
                                                  encoding="utf-8")
        print(f"jubao: compiled {len(digests)} of {len(self.extensions)} engine modules", file=sys.stderr)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
