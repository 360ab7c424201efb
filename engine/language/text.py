"""A text in Chinese and English: what a diagnostic, a problem's detail or a field error says.

engine.language.catalogue holds every such text by key (`say(key, **args)` makes one); a front end shows the Chinese
unless English is asked for (`--lang en`, `?lang=en`).
"""
from __future__ import annotations

import attrs


@attrs.frozen
class Text:
    """A message in both languages."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.zh

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def in_lang(text: "Text | str | None", lang: str = "zh") -> str | None:
    """`text` as shown in `lang`: a Text in that language; a plain str (a text that is data) as it is."""
    if isinstance(text, Text):
        return text.in_lang(lang)
    return text
