"""The language's words, read from the grammar file: no Lark here, so that what only needs the words (the engine's
package, the editor's highlighting) does not import the parser (engine.language.parse)."""
from __future__ import annotations

import re
from functools import lru_cache

from engine.language.bundled import bundled

GRAMMAR_PATH = bundled("grammar") / "policy.lark"

BLOCK_KINDS = ("value", "tiers", "subsidy", "floor", "daijiao", "reward", "bonus", "raise", "early_start", "table")
TOP_KEYWORDS = ("region", "source", "group", "fact", *BLOCK_KINDS, "component", "let")


@lru_cache(maxsize=1)
def keywords() -> tuple[str, ...]:
    """The language's keywords, read from the grammar so that highlighters cannot drift from it."""
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    rules = "\n".join(line.split("//")[0] for line in text.splitlines())
    return tuple(sorted(set(re.findall(r'"([a-z_]{2,})"', rules))))
