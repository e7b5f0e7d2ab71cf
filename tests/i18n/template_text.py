"""The checker of templates: user-visible text outside a translation call.

A template's literal text (outside ``{% trans %}`` blocks) is parsed as HTML; every text node and
every attribute a person reads (``alt``, ``title``, ``placeholder``, ``aria-label``, a button's
``value``) that holds a word is a finding. String literals inside ``{{ }}`` and ``{% %}`` that
read as prose (a space between words, or letters outside ASCII) count too, unless they are the
argument of ``_``/``gettext``/``ngettext``/``pgettext``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

# Not translated on purpose: the product's name, and each language's own name for itself.
ALLOWED = {"bolo", "UTC", "English", "한국어"}
_CALLS = {"_", "gettext", "ngettext", "pgettext"}
_READ_ATTRS = {"alt", "title", "placeholder", "aria-label", "label"}
_MARK = "\x00"
# Blocks that fill an attribute value (a class name, a language code), not text.
_ATTRIBUTE_BLOCKS = {"body_class", "lang"}
_WORD = re.compile(r"[^\W\d_]{2,}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        named = dict(attrs)
        for key, value in attrs:
            readable = key in _READ_ATTRS or (
                key == "value" and named.get("type") in ("submit", "button", "reset")
            )
            if readable and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        for piece in text.split(_MARK):
            piece = " ".join(piece.split())
            if any(word not in ALLOWED for word in _WORD.findall(piece)):
                self.found.append(piece)


def _prose(literal: str) -> bool:
    inner = literal[1:-1].strip()  # without its quotes: ' open' is an attribute, not prose
    return bool(_WORD.search(inner)) and (" " in inner or not inner.isascii())


def untranslated(source: str) -> list[str]:
    """The user-visible texts of a template's source that no translation call wraps."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    html: list[str] = []
    found: list[str] = []
    in_trans = False
    in_attribute = False
    previous: list[str] = []  # names/operators just before, to see a call's argument
    calls: list[bool] = []  # for each open parenthesis: is it a translation call's?
    for _, kind, value in env.lex(source):
        if kind == "name" and value == "trans":
            in_trans = True
        elif kind == "name" and value == "endtrans":
            in_trans = False
        if kind == "name" and previous[-1:] == ["block"]:
            in_attribute = value in _ATTRIBUTE_BLOCKS
        elif kind == "name" and value == "endblock":
            in_attribute = False
        if kind == "data" and not in_trans and not in_attribute:
            html.append(value)
            continue
        if not html or html[-1] != _MARK:
            html.append(_MARK)
        if kind == "operator" and value == "(":
            calls.append(bool(previous) and previous[-1] in _CALLS)
        elif kind == "operator" and value == ")" and calls:
            calls.pop()
        elif kind == "string" and not in_trans and not any(calls) and _prose(value):
            found.append(value)
        if kind in ("name", "operator"):
            previous.append(value)
    parser = _Text()
    parser.feed("".join(html))
    parser.close()
    return found + parser.found


def templates(root: Path) -> list[Path]:
    """Every HTML template of the package under ``root``."""
    return sorted(p for p in root.rglob("templates/**/*.html"))
