"""The search picture: a probabilistic model of where the suspects can be, and which posts to alert.

Pure package (numpy, numba, h3); see docs/search-api.md for the stable entry point.
The picture itself (numba kernels, scipy) is imported on first use, so that code needing only
the case vocabulary (``HintKind``, ``SearchCase``) does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bolo.search.case import CaseError, HintKind, SearchCase, parse_case, parse_evidence

if TYPE_CHECKING:
    from bolo.search.picture import SearchPicture, Strategy

# The name this package's case had before ``bolo.cases`` had its own ``Case``: kept so that
# code written against docs/search-api.md keeps working.
Case = SearchCase

__all__ = [
    "Case",
    "CaseError",
    "HintKind",
    "SearchCase",
    "SearchPicture",
    "Strategy",
    "parse_case",
    "parse_evidence",
]


def __getattr__(name: str) -> Any:
    if name in ("SearchPicture", "Strategy"):
        from bolo.search import picture

        return getattr(picture, name)
    raise AttributeError(f"module 'bolo.search' has no attribute {name!r}")
