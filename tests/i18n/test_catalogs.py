"""Catalogs are complete and compiled; templates keep their text in translation calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bolo import i18n
from tests.i18n.template_text import templates, untranslated

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "bolo"


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "bolo.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _extracted() -> set[str]:
    with (REPO / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO),
        method_map,
        options_map,
        keywords={
            "_": None,
            "gettext": None,
            "N_": None,
            "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2),
        },
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_korean_catalog_is_complete_and_not_fuzzy() -> None:
    catalog = _catalog("ko")
    bad = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert not bad, f"untranslated or fuzzy in the Korean catalog: {bad}"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_message_of_the_code_is_in_the_catalog(lang: str) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
    missing = sorted(_extracted() - ids)
    assert not missing, f"run `make i18n` and translate: {missing}"


def test_compiled_catalogs_match_their_sources() -> None:
    for lang in ("ko", "en"):
        with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "bolo.mo").open("rb") as fh:
            compiled = {m.id: m.string for m in read_mo(fh) if m.id and m.string}
        source = {m.id: m.string for m in _catalog(lang) if m.id and m.string and not m.fuzzy}
        assert compiled == source, f"bolo/locale/{lang}: the .mo is stale; run `make i18n`"


def test_korean_is_used_for_korean_readers() -> None:
    assert i18n.translate("Sign in", "ko") == "로그인"
    assert i18n.translate("Sign in", "en") == "Sign in"
    assert i18n.choose(None, accept_language="fr;q=1, ko-KR;q=0.8, en;q=0.5") == "ko"
    assert i18n.choose("en", accept_language="ko") == "en"
    assert i18n.choose("xx", None, accept_language=None) == i18n.DEFAULT


def test_checker_finds_text_outside_translation_calls() -> None:
    assert untranslated('<p>{{ _("Sign in") }}</p>') == []
    assert untranslated("<p>{% trans %}Hello <b>you</b>{% endtrans %}</p>") == []
    assert untranslated("<p>Sign in</p>") == ["Sign in"]
    assert untranslated('<img alt="A photo" src="x.png">') == ["A photo"]
    assert untranslated('<p>{{ "취소됨" if lang == "ko" else "Cancelled now" }}</p>') == [
        '"취소됨"',
        '"Cancelled now"',
    ]
    assert untranslated('<a href="/a?lang={{ lang }}">{{ x | when("%d %H:%M") }}</a>') == []


@pytest.mark.parametrize("template", templates(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_templates_keep_their_text_in_translation_calls(template: Path) -> None:
    assert untranslated(template.read_text(encoding="utf-8")) == []
