"""Tools for policy officers: the formatter (`fmt`), the language server (`lsp`), officers' test cases (`cases`)
and rule coverage (`coverage`).

May import: `engine.core`, `engine.language`.
"""

import importlib

# Named here, imported on first use: the formatter imports the parser (Lark), the language server pygls.
_WHERE = {
    "FormatError": "engine.tools.fmt", "format_paths": "engine.tools.fmt", "format_text": "engine.tools.fmt",
    "Case": "engine.tools.cases", "cases_from_texts": "engine.tools.cases", "load_cases": "engine.tools.cases",
    "run_case": "engine.tools.cases", "region_coverage": "engine.tools.coverage", "serve_stdio": "engine.tools.lsp",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_WHERE)
