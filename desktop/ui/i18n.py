"""The window's strings: one catalogue per language (pt-BR first), like the extension's.

A catalogue is every ``strings/<lang>/*.json`` merged (one file per area of the window, so
each tab keeps its own keys); a key missing in English falls back to pt-BR, then to the key."""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from pathlib import Path

_DIR = Path(__file__).with_name("strings")
LANGUAGES = ("pt_BR", "en")


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((_DIR / lang).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def pick_language(setting: str = "") -> str:
    """`CONVERSA_LANG`/setting first, then the OS locale; pt-BR unless it is clearly English."""
    wanted = setting or os.environ.get("CONVERSA_LANG") or (locale.getlocale()[0] or "")
    return "en" if wanted.lower().startswith("en") else "pt_BR"


class Strings:
    def __init__(self, lang: str = "pt_BR") -> None:
        self.lang = lang if lang in LANGUAGES else "pt_BR"

    def __call__(self, key: str, **kw: object) -> str:
        text = catalogue(self.lang).get(key) or catalogue("pt_BR").get(key) or key
        return text.format(**kw) if kw else text
