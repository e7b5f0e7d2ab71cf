"""Languages: the Babel catalogs in ``bolo/locale`` and the reader's language.

A page or message picks its language with ``choose`` (the staff member's setting, the post's
language, ``?lang=``, then the browser's ``Accept-Language``), renders inside ``use(lang)``, and
every translation call (``gettext``/``_`` in Python, ``{% trans %}``/``_()`` in templates) reads
the language in use. Adding a language is adding a catalog: ``bolo/locale/XX/LC_MESSAGES``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from jinja2 import Environment

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "bolo"
# The language of the message ids: what a reader whose language bolo lacks gets.
DEFAULT = "en"
_current: ContextVar[str] = ContextVar("bolo_language", default=DEFAULT)


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """The languages with a compiled catalog (plus the default), sorted."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(found | {DEFAULT}))


def supported(tag: str | None) -> str | None:
    """The available language for a BCP 47 tag (``ko-KR`` -> ``ko``), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in available() else None


def from_accept_language(header: str | None) -> str | None:
    """The available language the browser prefers most (``Accept-Language`` with q-values),
    or None when it names none of ours."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag))
    for quality, _, tag in sorted(ranked):
        if quality < 0 and (found := supported(tag)):
            return found
    return None


def choose(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first of ``candidates`` (most specific first: a user's setting, a post's language,
    ``?lang=``) that bolo has a catalog for, else the browser's choice, else the default."""
    for candidate in candidates:
        if found := supported(candidate):
            return found
    return from_accept_language(accept_language) or DEFAULT


def best_index(languages: Sequence[str], wanted: str | None) -> int:
    """The index of the language tag in ``languages`` whose primary tag is ``wanted``'s
    ("ko" finds "ko-KR"), else 0 (the first: a CAP message's fallback)."""
    if wanted:
        primary = wanted.replace("_", "-").split("-")[0].lower()
        for index, tag in enumerate(languages):
            if tag.split("-")[0].lower() == primary:
                return index
    return 0


@lru_cache(maxsize=16)
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (the message ids themselves when there is none)."""
    if lang == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], DOMAIN)


def current() -> str:
    """The language in use in this context (thread or task)."""
    return _current.get()


@contextmanager
def use(lang: str) -> Iterator[str]:
    """Translate into ``lang`` inside the block (restored after it)."""
    token = _current.set(supported(lang) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the language in use."""
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the language in use."""
    return translations(_current.get()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the language in use, told apart from the same words elsewhere by
    ``context``."""
    return translations(_current.get()).upgettext(context, message)


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang`` (outside any page: messages to posts)."""
    with use(lang):
        return gettext(message)


_ = gettext
N_ = str  # marks a message id for extraction; translated later, where it is shown


def install_jinja(env: Environment) -> Environment:
    """Give a Jinja2 environment the i18n extension, bound to the language in use
    (new-style calls: ``{{ _("Sign in") }}``, ``{{ _("%(n)s posts", n=3) }}``, autoescaped)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )
    env.globals["ui_language"] = current
    # A message that is data (an error, a state name marked with N_): translated when the
    # catalog has it, and escaped like any value (never taken as markup or a format string).
    env.filters["t"] = gettext
    return env
