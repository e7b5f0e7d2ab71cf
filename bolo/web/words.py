"""Words the pages show for values of the model (states, kinds, roles, CAP types), marked for
translation, and the choice of a CAP message's ``info`` block by language."""

from __future__ import annotations

from bolo import i18n
from bolo.cap import model as cap
from bolo.i18n import N_

MSG_TYPES = {
    "Alert": N_("Alert"),
    "Update": N_("Update"),
    "Cancel": N_("Cancel"),
    "Ack": N_("Ack"),
    "Error": N_("Error"),
}
STATE_NAMES = {
    "active": N_("active"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
    "draft": N_("draft"),
    "pending_approval": N_("pending approval"),
}
CAP_STATUSES = {
    "Actual": N_("Actual"),
    "Exercise": N_("Exercise"),
    "Test": N_("Test"),
    "System": N_("System"),
    "Draft": N_("Draft"),
}
# Every other value a page shows as a word: case states and outcomes, roles, report kinds and
# states, delivery states, hint kinds, timeline kinds. A value not listed is shown as it is.
OTHER_WORDS = {
    "open": N_("open"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "purged": N_("purged"),
    "found_safe": N_("found safe"),
    "found_harmed": N_("found harmed"),
    "found_deceased": N_("found deceased"),
    "false_report": N_("false report"),
    "other": N_("other"),
    "admin": N_("admin"),
    "coordinator": N_("coordinator"),
    "approver": N_("approver"),
    "supervisor": N_("supervisor"),
    "post_officer": N_("post officer"),
    "viewer": N_("viewer"),
    "tip": N_("tip"),
    "sighting": N_("sighting"),
    "search": N_("search"),
    "new": N_("new"),
    "credible": N_("credible"),
    "dismissed": N_("dismissed"),
    "confirmed": N_("confirmed"),
    "nothing_found": N_("nothing found"),
    "found": N_("found"),
    "pending": N_("pending"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed_temporary": N_("failed, will retry"),
    "failed_permanent": N_("failed"),
    "standby": N_("standby"),
    "stopped": N_("stopped"),
    "no_channel": N_("unreachable: no channel"),
    "not_sent_standby": N_("not sent (standby)"),
    "no_delivery": N_("no delivery recorded"),
    "acknowledged": N_("acknowledged"),
    "exhausted": N_("exhausted"),
    "heading": N_("heading"),
    "destination": N_("destination"),
    "case": N_("case"),
    "version": N_("version"),
    "delivery": N_("delivery"),
    "ack": N_("ack"),
    "report": N_("report"),
    "issued": N_("issued"),
    "superseded": N_("superseded"),
    "rejected": N_("rejected"),
    "webhook": N_("webhook"),
    "apprise": N_("apprise"),
    "mqtt": N_("mqtt"),
    "ok": N_("ok"),
    "slow": N_("slow"),
    "checkpoint": N_("checkpoint"),
    "station": N_("station"),
    "patrol": N_("patrol"),
    "border_crossing": N_("border crossing"),
    "guard_post": N_("guard post"),
    "police": N_("police"),
    "public": N_("public"),
    "road": N_("road"),
    "rail": N_("rail"),
    "foot": N_("foot"),
    "transfer": N_("transfer"),
    "web": N_("web"),
    "api": N_("api"),
    "link": N_("link"),
}
# The channels an acknowledgement comes through (``bolo.dispatch.acks.AckVia``), as the
# timeline names them.
ACK_CHANNELS = {
    "post_page": N_("the post page"),
    "link": N_("the signed link"),
    "api": N_("the API"),
}


def ack_channel(value: str) -> str:
    """The channel an acknowledgement came through, in the language in use (as it is when
    bolo has no word for it)."""
    label = ACK_CHANNELS.get(value)
    return i18n.gettext(label) if label else value


# Each language's name for itself (shown untranslated, in its own language).
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
WORDS = {**MSG_TYPES, **STATE_NAMES, **CAP_STATUSES, **OTHER_WORDS}


def word(value: object) -> str:
    """A model value (``"pending_approval"``, ``"Exercise"``) as a word in the language in
    use; a value bolo has no word for is shown as it is."""
    text = str(value)
    label = WORDS.get(text)
    return i18n.gettext(label) if label else text


def info_for(infos: list[cap.Info], lang: str | None) -> cap.Info:
    """The ``info`` block in language ``lang`` (primary tag match: "ko" finds "ko-KR"),
    else the first one."""
    return infos[i18n.best_index([i.language for i in infos], lang)]


def infos_first(infos: list[cap.Info], lang: str | None) -> list[cap.Info]:
    """The ``info`` blocks with the one in ``lang`` (or the first) first."""
    chosen = info_for(infos, lang)
    return [chosen, *(i for i in infos if i is not chosen)]


def interface_languages() -> list[tuple[str, str]]:
    """(code, name) of every language the pages are translated into."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in i18n.available()]
