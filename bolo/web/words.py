"""Words the pages show for values of the model (states, CAP types), marked for translation,
and the choice of a CAP message's ``info`` block by language."""

from __future__ import annotations

from bolo import i18n
from bolo.cap import model as cap
from bolo.i18n import N_

MSG_TYPES = {"Alert": N_("Alert"), "Update": N_("Update"), "Cancel": N_("Cancel"),
             "Ack": N_("Ack"), "Error": N_("Error")}
STATE_NAMES = {"active": N_("active"), "cancelled": N_("cancelled"), "expired": N_("expired"),
               "draft": N_("draft"), "pending_approval": N_("pending approval")}
CAP_STATUSES = {"Actual": N_("Actual"), "Exercise": N_("Exercise"), "Test": N_("Test"),
                "System": N_("System"), "Draft": N_("Draft")}


def info_for(infos: list[cap.Info], lang: str | None) -> cap.Info:
    """The ``info`` block in language ``lang`` (primary tag match: "ko" finds "ko-KR"),
    else the first one."""
    return infos[i18n.best_index([i.language for i in infos], lang)]


def infos_first(infos: list[cap.Info], lang: str | None) -> list[cap.Info]:
    """The ``info`` blocks with the one in ``lang`` (or the first) first."""
    chosen = info_for(infos, lang)
    return [chosen, *(i for i in infos if i is not chosen)]
