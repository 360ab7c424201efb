"""Syntax highlighting of policy text for the browser, with the keyword list read from the grammar."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

from engine import keywords

TOKEN = re.compile(r"""
    (?P<comment>\#.*$)
  | (?P<string>"[^"\n]*")
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})
  | (?P<number>[0-9]+(?:\.[0-9]+)?%?\+?(?:\s*[-–~]\s*[0-9]+)?)
  | (?P<pipe>\|)
  | (?P<word>[^\W0-9][\w.]*)
""", re.VERBOSE)
STATUS_WORDS = {"provisional", "proposal", "暂定值", "建议值"}


def highlight_line(line: str) -> Markup:
    words = set(keywords())
    out, pos = [], 0
    for m in TOKEN.finditer(line):
        out.append(escape(line[pos:m.start()]))
        kind, text = m.lastgroup, m.group()
        if kind == "word":
            kind = "status" if text in STATUS_WORDS else "keyword" if text in words else None
        out.append(Markup(f'<span class="tok-{kind}">{escape(text)}</span>') if kind else escape(text))
        pos = m.end()
    out.append(escape(line[pos:]))
    return Markup("").join(out)
