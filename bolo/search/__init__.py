"""The search picture: a probabilistic model of where the suspects can be, and which posts to alert.

Pure package (numpy, numba, h3); see docs/search-api.md for the stable entry point.
"""

from bolo.search.case import Case, CaseError, parse_case, parse_evidence
from bolo.search.picture import SearchPicture, Strategy

__all__ = ["Case", "CaseError", "SearchPicture", "Strategy", "parse_case", "parse_evidence"]
