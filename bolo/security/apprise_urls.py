"""Which Apprise URLs a post may use, and the host each one makes bolo connect to.

Apprise knows more than a hundred schemes; some reach a local file, a local syslog or any
host the URL names. bolo takes an allow-list only:

* services at fixed public addresses (chat, SMS and e-mail APIs), whose URL host part is a
  token or an account, not a host to connect to;
* self-hosted services that name their host (``json://``, ``ntfy://host/topic``,
  ``mailto://...?smtp=host``, ``gotify://``, ``mmost://``, ``matrix://`` ...): the host Apprise
  will connect to (for e-mail the SMTP server, not the address's domain) is resolved and
  checked like a webhook's, at registration and, through ``guarded_resolution``, at send time.
"""

from __future__ import annotations

from bolo.errors import InvalidInput
from bolo.security.urls import Resolver, UnsafeUrl, check_addresses, system_resolve

# Public services at fixed addresses (the URL's host part is an id or a token).
FIXED_SERVICE_SCHEMES = frozenset(
    {
        "tgram",
        "discord",
        "slack",
        "workflow",
        "workflows",
        "pover",
        "pbul",
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
        "ses",
        "whatsapp",
        "pagerduty",
        "opsgenie",
        "gchat",
        "wxteams",
        "webex",
        "sendgrid",
        "mailgun",
        "sparkpost",
        "smtp2go",
        "postmark",
        "brevo",
        "resend",
        "line",
        "viber",
        "threema",
        "telnyx",
        "infobip",
        "46elks",
        "elks",
        "signl4",
    }
)
# Self-hosted services: the URL names the host bolo connects to.
HOST_NAMING_SCHEMES = frozenset(
    {
        "json",
        "jsons",
        "xml",
        "xmls",
        "form",
        "forms",
        "ntfy",
        "ntfys",
        "gotify",
        "gotifys",
        "mailto",
        "mailtos",
        "mmost",
        "mmosts",
        "matrix",
        "matrixs",
        "rocket",
        "rockets",
        "signal",
        "signals",
        "apprise",
        "apprises",
        "nctalk",
        "nctalks",
        "ncloud",
        "nclouds",
    }
)
ALLOWED_SCHEMES = FIXED_SERVICE_SCHEMES | HOST_NAMING_SCHEMES


def apprise_scheme(url: str) -> str:
    """The URL's scheme when bolo allows it for Apprise; UnsafeUrl otherwise (file, syslog,
    MQTT, AMQP, media centres... and anything unknown)."""
    scheme, sep, _ = url.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrl(
            f"Apprise scheme {scheme!r} is not allowed (use one of "
            f"{', '.join(sorted(ALLOWED_SCHEMES))})"
        )
    return scheme


def apprise_target(url: str) -> tuple[str, int] | None:
    """(host, port) an allowed host-naming Apprise URL makes Apprise connect to, as Apprise
    itself reads the URL; None for a fixed-service URL or one without a host (ntfy.sh's own
    topics). UnsafeUrl when the scheme is not allowed, InvalidInput (422) when Apprise cannot
    read the URL (it could never be sent)."""
    scheme = apprise_scheme(url)
    import apprise  # imported here: only posts with Apprise channels need it

    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        raise InvalidInput(
            f"Apprise cannot read this {scheme}:// URL (see Apprise's "
            "documentation of the service for its form)"
        )
    if scheme not in HOST_NAMING_SCHEMES:
        return None
    # E-mail connects to its SMTP server (``?smtp=`` or the provider's), not the address's
    # domain; every other plugin to ``host``.
    host = str(getattr(plugin, "smtp_host", None) or getattr(plugin, "host", None) or "")
    if not host:
        return None
    port = getattr(plugin, "port", None)
    return host, int(port) if port else (443 if getattr(plugin, "secure", False) else 80)


def check_apprise_url(
    url: str, *, allow_private: bool = False, resolve: Resolver | None = None
) -> None:
    """Refuse (UnsafeUrl) an Apprise URL whose scheme is not allowed or whose named host
    resolves to any non-public address (unless ``allow_private``); InvalidInput when Apprise
    cannot read it."""
    target = apprise_target(url)
    if target is None:
        return
    host, port = target[0].strip("[]"), target[1]
    addresses = (resolve or system_resolve)(host, port)
    if not allow_private:
        check_addresses(host, addresses)
