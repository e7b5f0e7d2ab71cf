"""A ranked post's reason in the reader's language, from the search picture's structured reason
(a rank item's ``why``, docs/search-api.md): what the post adds over the posts above it while
alerted, its probability and expected time, and the evidence that moved it most.

The search package stays free of translation; its English ``reason`` is shown as it is when an
item carries no ``why``. The evidence that moved a post is named from its data (``why``'s
``evidence``: kind, time, post, bearing, place); a caller's own label for a piece of evidence
is shown as it is, after its kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bolo.i18n import _, zones
from bolo.search.explain import EvidenceRef, WhyCode


def _percent(value: float) -> str:
    return f"{100.0 * value:.1f} %"


def _window(seconds: float) -> str:
    minutes = seconds / 60.0
    if minutes < 120:
        return _("%(n)d min") % {"n": round(minutes)}
    return _("%(n)s h") % {"n": f"{minutes / 60:g}"}


def iso_when(iso: str | None) -> str:
    """An ISO time (a rank item's ``eta``) for people, as ``zones.show``; "-" for none."""
    return zones.show(datetime.fromisoformat(iso)) if iso else "-"


def _weight(ref: Mapping[str, Any]) -> str:
    return _("weight %(w)s") % {"w": f"{float(ref['weight']):.2f}"}


def evidence_name(ref: EvidenceRef | Mapping[str, Any]) -> str:
    """A piece of evidence or a case hint (an ``EvidenceRef``) named in the language in use:
    its kind and its time, post, bearing or place (or the caller's own label)."""
    kind, label = ref["kind"], str(ref.get("label") or "")
    if kind == "search":
        if label:
            return _("search report %(name)s") % {"name": label}
        return _("searches at %(post)s found nothing") % {"post": ref["post_id"]}
    if kind in ("sighting", "vehicle_found"):
        text = _("sighting %(name)s") if kind == "sighting" else _("vehicle found %(name)s")
        return text % {"name": label or iso_when(ref["time"])}
    if kind == "heading":
        return _("heading tip %(deg)s° (%(weight)s)") % {
            "deg": f"{float(ref['bearing_deg']):.0f}",
            "weight": _weight(ref),
        }
    if kind == "destination":
        return _("destination tip %(lat)s, %(lon)s (%(weight)s)") % {
            "lat": f"{float(ref['lat']):.4f}",
            "lon": f"{float(ref['lon']):.4f}",
            "weight": _weight(ref),
        }
    return label


def _moved_by(why: Mapping[str, Any]) -> str:
    """The evidence that moved the post, each with its change in probability (percentage
    points); the English labels of ``moved_by`` when the ``why`` does not describe them all
    (``evidence``)."""
    refs = why.get("evidence") or []
    if len(refs) == len(why["moved_by"]):
        named = [(evidence_name(ref), float(ref["change"])) for ref in refs]
    else:
        named = [(str(label), float(d)) for label, d in why["moved_by"]]
    return ", ".join(f"{name} ({100.0 * d:+.0f} %)" for name, d in named)


def _placement(why: Mapping[str, Any]) -> str:
    window = _window(float(why["window_s"]))
    if why["code"] == WhyCode.AHEAD:
        return _(
            "adds nothing in the next %(window)s (the posts above catch its passes, or it has "
            "none); ordered by its passes further ahead"
        ) % {"window": window}
    text = _("adds %(new)s of the passes in the next %(window)s that no post above catches") % {
        "new": _percent(why["new"]),
        "window": window,
    }
    if why["above"] >= 0.005:
        text += _(" (its chance %(p)s, %(above)s caught above)") % {
            "p": _percent(why["alert_probability"]),
            "above": _percent(why["above"]),
        }
    if why["hedge"] > 0:
        text += _(", on the reachability frontier (+%(hedge)s)") % {"hedge": _percent(why["hedge"])}
    return text


def rank_reason(item: Mapping[str, Any]) -> str:
    """Why the post has its rank, in the language in use (``bolo.i18n.use``); the item's
    English ``reason`` when it has no structured ``why``."""
    why = item.get("why")
    if not why:
        return str(item.get("reason", ""))
    if why["code"] == WhyCode.RADIUS:
        return _("near the edge of the %(km)s km radius circle") % {"km": f"{why['radius_km']:.0f}"}
    if why["code"] == WhyCode.REACHABILITY:
        return _("earliest possible arrival is just ahead of now")
    parts = [
        _("Rank %(rank)d: %(placement)s") % {"rank": why["rank"], "placement": _placement(why)},
        _("chance of a pass within %(window)s: %(p)s")
        % {
            "window": _window(float(why["horizon_s"])),
            "p": _percent(why["probability"]),
        },
    ]
    if why["eta"]:
        parts[-1] += _(", expected %(when)s") % {"when": iso_when(why["eta"])}
    if why["moved_by"]:
        parts.append(_("moved most by %(evidence)s") % {"evidence": _moved_by(why)})
    return "; ".join(parts)
