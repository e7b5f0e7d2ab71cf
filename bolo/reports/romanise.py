"""Korean place-name spelling: fold McCune-Reischauer and Revised Romanisation to one key.

The same town is written Kilju, Kilchu, Gilju or 길주 depending on the system, the era and whether
the writer kept the breves and apostrophes. ``fold`` maps every Latin spelling to a phonetic key in
which those differences vanish (voiced/unvoiced pairs merge, ``eo``/``ŏ`` and ``eu``/``ŭ`` merge,
aspiration marks drop); ``hangul_to_rr`` writes Hangul in Revised Romanisation so that Korean-only
names can be matched by Latin queries too. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb`\u00b4"
# Administrative or generic suffixes that people drop or add at will ("Kilju-up", "Hyesan-si").
_SUFFIXES = frozenset(
    {
        "up",
        "eup",
        "ni",
        "ri",
        "li",
        "il",
        "dong",
        "tong",
        "si",
        "shi",
        "gun",
        "kun",
        "ku",
        "gu",
        "county",
        "city",
        "town",
        "station",
        "yok",
        "yeok",
        "nodongjagu",
        "rodongjagu",
        "lodongjagu",
        "district",
        "village",
        "junction",
        "1",
    }
)
_HANGUL_SUFFIXES = ("노동자구", "역", "시", "군", "읍", "리", "동", "구")

# Order matters: digraphs first, then single letters.
_FOLD_RULES: tuple[tuple[str, str], ...] = (
    ("eo", "o"),
    ("eu", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("tch", "c"),
    ("ch", "c"),
    ("sh", "s"),
    ("ph", "p"),
    ("th", "t"),
    ("kh", "k"),
    ("j", "c"),
    ("g", "k"),
    ("d", "t"),
    ("b", "p"),
    ("r", "l"),
)
_REPEAT = re.compile(r"(.)\1+")
_SPLIT = re.compile(r"[\s\-_/.,]+")
_PAREN = re.compile(r"\(([^)]*)\)")


def strip_marks(text: str) -> str:
    """Return ``text`` lower-cased without diacritics (ŏ -> o, ŭ -> u) or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and c not in _APOSTROPHES)
    return kept.lower()


def latin_tokens(name: str) -> list[str]:
    """Split a Latin place name into lower-case tokens, dropping generic suffix words."""
    tokens = [t for t in _SPLIT.split(strip_marks(name)) if t]
    while len(tokens) > 1 and tokens[-1] in _SUFFIXES:
        tokens.pop()
    return tokens


def fold(name: str) -> str:
    """Return the phonetic key of a Latin place name (empty when nothing is left).

    ``fold("Kilju") == fold("Gilju") == fold("Kilchu")`` and
    ``fold("Songch'ŏn") == fold("Seongcheon")``.
    """
    key = "".join(latin_tokens(name))
    key = "".join(c for c in key if c.isalnum())
    for old, new in _FOLD_RULES:
        key = key.replace(old, new)
    return _REPEAT.sub(r"\1", key)


def fold_variants(name: str) -> set[str]:
    """Keys under which ``name`` is indexed: its fold, the fold without a leading r/l
    (the DPRK writes Ryonggang, the South Yonggang) and any parenthesised alias."""
    variants: set[str] = set()
    for part in [_PAREN.sub(" ", name), *_PAREN.findall(name)]:
        key = fold(part)
        if not key:
            continue
        variants.add(key)
        if key.startswith("l") and len(key) > 3:
            variants.add(key[1:])
        if key.startswith("n") and len(key) > 3:
            variants.add("l" + key[1:])
    return variants


def has_hangul(text: str) -> bool:
    """True when ``text`` contains at least one precomposed Hangul syllable."""
    return any("\uac00" <= c <= "\ud7a3" for c in text)


def hangul_key(name: str) -> str:
    """Return a Hangul name without spaces, punctuation or a trailing generic suffix (시, 군)."""
    key = "".join(c for c in unicodedata.normalize("NFC", name) if "\uac00" <= c <= "\ud7a3")
    for suffix in _HANGUL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_VOWELS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "",
    "k",
    "k",
    "k",
    "n",
    "n",
    "n",
    "t",
    "l",
    "k",
    "m",
    "l",
    "l",
    "l",
    "p",
    "l",
    "m",
    "p",
    "p",
    "t",
    "t",
    "ng",
    "t",
    "t",
    "k",
    "t",
    "p",
    "t",
]


def hangul_to_rr(text: str) -> str:
    """Write the Hangul syllables of ``text`` in (simplified) Revised Romanisation.

    Letter-by-letter, without the sound-change rules; good enough as input to ``fold``.
    Non-Hangul characters are kept as they are.
    """
    out: list[str] = []
    for char in text:
        code = ord(char) - 0xAC00
        if 0 <= code < 11172:
            initial, rest = divmod(code, 588)
            vowel, final = divmod(rest, 28)
            out.append(_INITIALS[initial] + _VOWELS[vowel] + _FINALS[final])
        else:
            out.append(char)
    return "".join(out)
