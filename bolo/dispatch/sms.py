"""SMS text within its encoding's limits: GSM 03.38 (7-bit, 160 characters, 153 a segment when
concatenated) or, as soon as one character is outside it (Korean, for one), UCS-2 (70 UTF-16
code units, 67 a segment when concatenated). The acknowledgement link is never cut."""

from __future__ import annotations

# Apprise schemes that send an SMS (the text is one message body, the title inside it).
SMS_SCHEMES = frozenset(
    {
        "twilio",
        "vonage",
        "nexmo",
        "clicksend",
        "sinch",
        "plivo",
        "msgbird",
        "d7sms",
        "bulksms",
        "sns",
        "telnyx",
        "infobip",
        "46elks",
        "elks",
    }
)
# Segments an alert may take: enough for a headline, the start of the text and the link.
MAX_SEGMENTS = 4
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each
ELLIPSIS = "…"


def is_sms(url: str) -> bool:
    """True when an Apprise URL sends an SMS."""
    return url.partition("://")[0].lower() in SMS_SCHEMES


def gsm7(text: str) -> bool:
    """True when ``text`` can be sent in the GSM 7-bit alphabet."""
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def units(text: str) -> int:
    """The length of ``text`` in its encoding's units: septets (GSM) or UTF-16 code units."""
    if gsm7(text):
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes."""
    single, part = (160, 153) if gsm7(text) else (70, 67)
    size = units(text)
    return 1 if size <= single else -(-size // part)


def fit(text: str, link: str | None, max_segments: int = MAX_SEGMENTS) -> str:
    """``text`` followed by ``link`` on its own line, the text shortened (with an ellipsis)
    until the whole takes at most ``max_segments`` segments; the link is always whole."""
    tail = f"\n{link}" if link else ""
    whole = text + tail
    if segments(whole) <= max_segments:
        return whole
    low, high = 0, len(text)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if segments(text[:middle].rstrip() + ELLIPSIS + tail) <= max_segments:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS + tail
