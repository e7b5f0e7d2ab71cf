"""Hardened XML parsing: no DTD, no entity expansion, no network, no files, bounded size and depth.

Everything refused raises `CapRefused` with a reason naming the cause (`DTD forbidden`,
`too large`, `too deep`, `not well-formed at line N`, ...).
"""

from __future__ import annotations

import codecs
import functools
import re
import threading
from typing import Any

from lxml import etree

from bolo.cap.errors import CapRefused

DEFAULT_MAX_BYTES = 1_048_576
DEFAULT_MAX_DEPTH = 32

# A DOCTYPE (and so any DTD or entity declaration) can only appear in the prolog, before the root
# element; looking for it in the raw bytes lets us refuse before libxml2 sees the document. The
# parser flags, the refusing resolver and the check of the parsed tree stay as further layers.
# XML 1.0 §2.8: prolog ::= XMLDecl? Misc* (doctypedecl Misc*)?; Misc ::= Comment | PI | S.
_MISC = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
# `<!DOCTYPE html>` (with or without public and system ids) but no internal subset: a web page.
_HTML_DOCTYPE = re.compile(rb"<!DOCTYPE\s+html\b[^\[<>]*>", re.IGNORECASE)
_ENCODING_DECL = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*(['\"])[^'\"]*\2", re.DOTALL)

_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\sencoding\s*=\s*(['\"])([A-Za-z0-9._:-]+)\1")

_local = threading.local()
_BAD = "not-well-formed"  # the rule id of bolo.cap.findings.RULES


class _RefuseResolver(etree.Resolver):
    """Refuses every attempt to load an external resource (DTD, entity, XInclude, stylesheet)."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        raise CapRefused(f"external resource forbidden: {system_url}", "dtd")


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        parser.resolvers.add(_RefuseResolver())
        _local.parser = parser
    return parser


def _to_utf8(data: bytes) -> bytes:
    """UTF-16/32 documents are re-encoded to UTF-8 so the DOCTYPE scan sees every byte."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise CapRefused(f"not well-formed: bad {codec} encoding", _BAD) from exc
            return _ENCODING_DECL.sub(r"\1", text, count=1).encode("utf-8")
    if data.startswith(b"\x00") or data[1:2] == b"\x00":
        raise CapRefused("unsupported encoding: UTF-16 or UTF-32 without a byte-order mark", _BAD)
    declared = _DECLARED.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(2).lower().replace(b"-", b"").startswith((b"utf16", b"utf32")):
        # Single-byte text declaring UTF-16 (a .NET string writer's declaration sent as UTF-8):
        # read it as the UTF-8 it is.
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CapRefused(
                "not well-formed: declares UTF-16 but is single-byte text", _BAD
            ) from exc
        return _ENCODING_DECL.sub(r"\1", text, count=1).encode("utf-8")
    return data


def xml_text(data: bytes) -> str:
    """A parsed document's characters as text, for keeping it in a text column: read in the
    encoding it uses (byte-order mark, else its declaration, else UTF-8) with the byte-order mark
    and the encoding declaration dropped, so ``xml_text(data).encode("utf-8")`` parses to the
    same tree as ``data``. Bytes that are not of that encoding become U+FFFD."""
    data = _to_utf8(bytes(data)).removeprefix(b"\xef\xbb\xbf")  # UTF-16/32 now UTF-8
    declared = _DECLARED.match(data)
    try:
        codec = codecs.lookup(declared.group(2).decode("ascii") if declared else "utf-8").name
    except LookupError:
        codec = "utf-8"
    if codec == "utf-8" or codec.startswith(("utf-16", "utf-32")):  # UTF-16/32 without a BOM
        return data.decode("utf-8", errors="replace")  # is refused by parse_xml
    return _ENCODING_DECL.sub(r"\1", data.decode(codec, errors="replace"), count=1)


@functools.lru_cache(maxsize=8)
def _deeper_than(max_depth: int) -> etree.XPath:
    # An element exists at depth max_depth + 1 (evaluated in C, ~40 us on a 10 kB message).
    return etree.XPath("boolean(/" + "*/" * max_depth + "*)")


def _depth_exceeds(root: etree._Element, max_depth: int) -> bool:
    return bool(_deeper_than(max_depth)(root))


def _doctype(data: bytes) -> bytes | None:
    """The DOCTYPE following the prolog (XML declaration, comments, PIs, space), the only place
    XML allows one: its first bytes, or None when there is none."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    end = _MISC.match(data, start).end()  # type: ignore[union-attr]
    return data[end : end + 200] if data[end : end + 9].upper() == b"<!DOCTYPE" else None


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._Element:
    """Parse untrusted XML safely and return its root element, or raise `CapRefused`.

    Promises: nothing outside `data` is resolved, fetched or read; documents larger than
    `max_bytes` bytes or nested deeper than `max_depth` elements are refused; comments and
    processing instructions are dropped.
    """
    if not isinstance(data, bytes | bytearray):
        raise CapRefused("not bytes", _BAD)
    if len(data) > max_bytes:
        raise CapRefused(f"too large: {len(data)} bytes > limit {max_bytes}", "too-large")
    if not data.strip():
        raise CapRefused("empty document", _BAD)
    data = _to_utf8(bytes(data))
    doctype = _doctype(data)
    if doctype is not None and _HTML_DOCTYPE.match(doctype):
        raise CapRefused("not a CAP alert: an HTML page (e.g. a server's error page)", "not-cap")
    if doctype is not None:
        raise CapRefused("DTD forbidden", "dtd")
    try:
        root = etree.fromstring(data, parser=_parser())
    except CapRefused:
        raise
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else 0
        message = exc.msg.split("\n")[0] if exc.msg else "syntax error"
        raise CapRefused(f"not well-formed at line {line}: {message}", _BAD) from exc
    except (ValueError, etree.LxmlError) as exc:  # e.g. an encoding lxml does not know
        raise CapRefused(f"not well-formed: {exc}", _BAD) from exc
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CapRefused("DTD forbidden", "dtd")
    if _depth_exceeds(root, max_depth):
        raise CapRefused(f"too deep: more than {max_depth} nested elements", "too-deep")
    return root
