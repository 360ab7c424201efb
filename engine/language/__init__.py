"""The policy language: text → nodes → checked model.

Owns: source files and spans (`source`), the grammar's words (`grammar`, no Lark) and the parser (`parse`, the only
module that imports Lark; `parsed_files` keeps parsed nodes between processes), the tree as written (`nodes`), the
checker (`check`) and the checked, layered model of a region (`model`), units of figures (`units`), the message
catalogue in Chinese and English (`catalogue`, `text`), the errors every layer raises (`errors`), the regions on
disk (`registry`) and what changed between two versions of a region (`changes`).

May import: nothing of the engine outside this package. Everything else imports it.
"""

from engine.language.catalogue import CATALOGUE, answered, diagnostic, explain, say, title_in
from engine.language.changes import rule_changes
from engine.language.errors import (
           Diagnostic,
           FieldError,
           InvalidInput,
           InvalidPerson,
           InvalidRecord,
           PolicyError,
           UnknownRegion,
           pointer,
)
from engine.language.grammar import keywords
from engine.language.model import UNCONFIRMED, AmountRange, Policy
from engine.language.registry import DEFAULT_POLICY_DIR, Registry, check_texts, policy_from_texts
from engine.language.source import SourceFile, Span
from engine.language.text import Text
from engine.language.units import share_text

__all__ = ["CATALOGUE", "DEFAULT_POLICY_DIR", "UNCONFIRMED", "AmountRange", "Diagnostic", "FieldError", "InvalidInput",
           "InvalidPerson", "InvalidRecord", "Policy", "PolicyError", "Registry", "SourceFile", "Span", "Text",
           "UnknownRegion", "answered", "check_texts", "diagnostic", "explain", "keywords", "pointer",
           "policy_from_texts", "rule_changes", "say", "share_text", "title_in"]
