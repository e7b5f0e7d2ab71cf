"""CAP delivered inside an EDXL-DE distribution (OASIS EDXL-DE 1.0 and 2.0, as IPAWS-OPEN and
other aggregators send it): the one CAP alert it carries, as a message of its own."""

from __future__ import annotations

from lxml import etree

from bolo.cap.errors import CapRefused
from bolo.cap.reader import VERSIONS
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_xml

EDXL_DE_NAMESPACES = frozenset(
    {"urn:oasis:names:tc:emergency:EDXL:DE:1.0", "urn:oasis:names:tc:emergency:EDXL:DE:2.0"}
)
_CAP_ALERTS = {"{" + ns + "}alert" for ns in VERSIONS}


def unwrap(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The CAP message in ``data``: ``data`` itself unless it is an EDXL-DE distribution, else
    the one CAP alert embedded in it (`contentObject/xmlContent/embeddedXMLContent`) written as a
    UTF-8 document of its own, its enveloped signature intact.

    Raises `CapRefused` (rule `not-cap`) for a distribution carrying no CAP alert or more than
    one, and for anything `parse_xml` refuses in a distribution.
    """
    if b"EDXLDistribution" not in data:  # the common case costs no second parse
        return data
    root = parse_xml(data, max_bytes=max_bytes)
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "EDXLDistribution" or namespace not in EDXL_DE_NAMESPACES:
        return data
    alerts = [e for e in root.iter() if isinstance(e.tag, str) and e.tag in _CAP_ALERTS]
    if len(alerts) != 1:
        raise CapRefused(
            f"not a CAP alert: an EDXL-DE distribution carrying {len(alerts)} CAP alerts "
            "(one is imported at a time)",
            "not-cap",
        )
    return etree.tostring(alerts[0], encoding="UTF-8", xml_declaration=True)
