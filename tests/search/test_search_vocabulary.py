"""The search package's case vocabulary: one definition, shared with bolo.cases, cheap to import."""

from __future__ import annotations

import subprocess
import sys


def test_hint_kind_is_one_definition_shared_with_cases() -> None:
    from bolo.cases import schemas
    from bolo.search import HintKind, case

    assert schemas.HintKind is HintKind is case.HintKind
    assert schemas.Hint(kind="heading", bearing_deg=10).kind is HintKind.HEADING


def test_case_keeps_its_documented_name_beside_search_case() -> None:
    import bolo.search
    from bolo.search import Case, SearchCase, parse_case

    parsed = parse_case(
        {"last_known": {"lat": 1.0, "lon": 2.0, "time_earliest": "2026-01-01T00:00:00+00:00"}}
    )
    assert Case is SearchCase
    assert isinstance(parsed, SearchCase)
    assert bolo.search.SearchPicture.__name__ == "SearchPicture"


def test_the_vocabulary_loads_without_the_picture() -> None:
    code = (
        "import sys\n"
        "from bolo.search import HintKind, SearchCase\n"
        "print(sorted(m for m in sys.modules if m.startswith(('numba', 'scipy', 'bolo.search.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bolo.search.case']"
