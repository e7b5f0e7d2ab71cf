"""XSD validation against the CAP 1.0, 1.1 and 1.2 schemas vendored in `bolo/cap/schemas/`."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

from bolo.cap.errors import CapRefused
from bolo.cap.findings import Finding, Level
from bolo.cap.xmlsafe import parse_xml

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {
    "1.2": "CAP-v1.2.xsd",
    "1.1": "CAP-v1.1.xsd",
    "1.0": "CAP-v1.0.xsd",
    # The IPAWS profile of CAP 1.2 (stricter: code, info, eventCode, expires, area).
    "ipaws": "capv1.2-ipaws-profile-v1.0-pr02.xsd",
}

_local = threading.local()
_REPEATABLE = frozenset(
    {
        "info",
        "area",
        "resource",
        "polygon",
        "circle",
        "geocode",
        "parameter",
        "eventCode",
        "category",
        "responseType",
        "code",
    }
)


@cache
def _schema_doc(version: str) -> etree._ElementTree:
    if version not in SCHEMA_FILES:
        raise ValueError(f"unknown CAP version {version!r}; known: {sorted(SCHEMA_FILES)}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(SCHEMA_DIR / SCHEMA_FILES[version]), parser)


def _schema(version: str) -> etree.XMLSchema:
    # lxml schema objects are not safe to share between threads; one per thread, built once.
    cached: dict[str, etree.XMLSchema] = _local.__dict__.setdefault("schemas", {})
    if version not in cached:
        cached[version] = etree.XMLSchema(_schema_doc(version))
    return cached[version]


def element_schema_errors(
    root: etree._Element, version: str = "1.2", rule: str = "schema"
) -> list[Finding]:
    """Schema errors (as `rule`) of an already parsed `alert` element; empty when valid.
    `version` is a CAP version or "ipaws" (the IPAWS profile schema).

    Each finding's path names the element the schema complains about (`/alert/info[1]/urgency`).
    """
    schema = _schema(version)
    if schema.validate(root):
        return []
    tree = root.getroottree()
    found = []
    for error in schema.error_log:  # type: ignore[attr-defined]
        hit = _element_at(tree, error.path)
        path = readable_path(hit) if hit is not None else "/alert"
        found.append(
            Finding(Level.ERROR, path, rule, f"{rule}: line {error.line}: {_short(error.message)}")
        )
    return found


def _element_at(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    """The element at the schema error's `path`, which uses the document's own prefixes, some
    of them declared below the root (an extension element `<ext:foo xmlns:ext=...>`); None
    when the path cannot be evaluated."""
    if not path:
        return None
    prefixes = {p: ns for e in tree.iter() if isinstance(e.tag, str) for p, ns in e.nsmap.items()}
    try:
        hits = tree.xpath(path, namespaces={p: ns for p, ns in prefixes.items() if p})
    except etree.XPathError:
        return None
    return (
        hits[0] if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element) else None
    )


def readable_path(element: etree._Element) -> str:
    """`/alert/info[1]/area[2]`: local names, with a position among same-named siblings for
    CAP's repeatable elements."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        local = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None and local in _REPEATABLE:
            same = [c for c in parent if c.tag == node.tag]
            local += f"[{same.index(node) + 1}]"
        steps.append(local)
        node = parent
    return "/" + "/".join(reversed(steps))


def _short(message: str) -> str:
    return message.replace("{" + "urn:oasis:names:tc:emergency:cap:1.2" + "}", "cap:")


def schema_errors(xml: bytes, version: str = "1.2") -> list[str]:
    """Schema errors of the message `xml` against the CAP `version` schema; empty when valid.

    The document is parsed with the hardened parser first; a refusal is returned as one error.
    """
    try:
        root = parse_xml(xml)
    except CapRefused as exc:
        return [exc.reason]
    return [str(f) for f in element_schema_errors(root, version)]
