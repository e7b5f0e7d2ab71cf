"""The access policy as a specification: for every route of ``create_app()``, who may call it.

Every route must appear here (or be public, or be a web page behind the cookie login): a new
route without an entry fails the matrix test, so nothing is reachable by default. Admins may
call every non-public route.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bolo.auth.model import Role
from bolo.clock import now

R = Role
ALL = frozenset(Role)
STAFF = frozenset({R.ADMIN, R.COORDINATOR, R.APPROVER, R.SUPERVISOR, R.VIEWER})
COORD = frozenset({R.ADMIN, R.COORDINATOR})
MANAGE = frozenset({R.ADMIN, R.COORDINATOR, R.SUPERVISOR})
APPROVE = frozenset({R.ADMIN, R.APPROVER, R.COORDINATOR, R.SUPERVISOR})
REPORTERS = frozenset({R.ADMIN, R.POST_OFFICER, R.SUPERVISOR, R.COORDINATOR})
ADMIN = frozenset({R.ADMIN})

API: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/api/v1/me"): ALL,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
    ("POST", "/api/v1/cases"): COORD,
    ("GET", "/api/v1/cases"): STAFF,
    ("GET", "/api/v1/cases/{case_id}"): STAFF,
    ("GET", "/api/v1/cases/{case_id}/picture"): STAFF,
    ("POST", "/api/v1/cases/{case_id}/hints"): COORD,
    ("POST", "/api/v1/cases/{case_id}/resolve"): MANAGE,
    ("POST", "/api/v1/cases/{case_id}/close"): MANAGE,
    ("POST", "/api/v1/cases/{case_id}/children/{child_index}/photo"): COORD,
    ("POST", "/api/v1/cases/{case_id}/alerts"): COORD,
    ("GET", "/api/v1/alerts"): STAFF,
    ("GET", "/api/v1/alerts/{alert_id}"): STAFF,
    ("GET", "/api/v1/alert-versions/{version_id}/cap"): STAFF,
    ("PUT", "/api/v1/alert-versions/{version_id}"): COORD,
    ("POST", "/api/v1/alert-versions/{version_id}/submit"): COORD,
    ("POST", "/api/v1/alert-versions/{version_id}/approve"): APPROVE,
    ("POST", "/api/v1/alert-versions/{version_id}/reject"): APPROVE,
    ("POST", "/api/v1/alerts/{alert_id}/updates"): COORD,
    ("POST", "/api/v1/alerts/{alert_id}/cancel"): APPROVE,
    ("GET", "/api/v1/posts"): STAFF,
    ("GET", "/api/v1/posts/{post_id}"): STAFF,
    ("PUT", "/api/v1/posts/{post_id}"): MANAGE,
    ("POST", "/api/v1/posts/import"): ADMIN,
    ("GET", "/api/v1/posts/{post_id}/alerts"): REPORTERS,
    ("GET", "/api/v1/reports"): STAFF,
    ("GET", "/api/v1/reports/queue"): STAFF,
    ("GET", "/api/v1/reports/evidence"): STAFF,
    ("GET", "/api/v1/reports/{report_id}"): STAFF,
    ("POST", "/api/v1/reports/{report_id}/triage"): MANAGE,
    ("POST", "/api/v1/reports/sightings"): REPORTERS,
    ("POST", "/api/v1/reports/searches"): REPORTERS,
    ("GET", "/api/v1/geocode"): ALL,
    ("GET", "/api/v1/geocode/reverse"): ALL,
    ("GET", "/api/v1/audit/verify"): MANAGE,
    ("POST", "/api/v1/dispatch/versions/{version_id}/posts/{post_id}/ack"): REPORTERS,
    ("POST", "/api/v1/dispatch/posts/{post_id}/heartbeat"): REPORTERS,
    ("GET", "/api/v1/dispatch/heartbeats"): STAFF,
    ("GET", "/api/v1/dispatch/versions/{version_id}/deliveries"): STAFF,
}

# Routes whose allowed callers may still get 403 from the object's state, not their role:
# acknowledging a version that was never delivered to the post is refused (AckRefused).
STATE_403: frozenset[tuple[str, str]] = frozenset(
    {("POST", "/api/v1/dispatch/versions/{version_id}/posts/{post_id}/ack")}
)

# Reachable without a bearer token (each has its own guard where it needs one).
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("GET", "/alerts/{alert_id}.cap"),
        ("GET", "/feed/cap.atom"),
        ("GET", "/feed/cap.rss"),
        ("GET", "/alerts"),
        ("GET", "/alerts/{alert_id}"),
        ("GET", "/"),
        # The printable poster of a public Actual alert while it is active (404 otherwise).
        ("GET", "/alerts/{alert_id}/poster"),
        ("GET", "/alerts/{alert_id}/poster.pdf"),
        ("GET", "/static/{path:path}"),
        ("GET", "/favicon.ico"),
        ("POST", "/api/v1/public/tips"),
        ("GET", "/tips/new"),
        ("POST", "/tips/new"),
        ("GET", "/tips/map.png"),
        # A child's photo: public only while an alert of its case is active (bolo.cases.photos).
        ("GET", "/media/case-photos/{name}"),
        # Authenticated by the post's Standard Webhooks signature instead of a token.
        ("POST", "/api/v1/reports/webhook-reply/{post_id}"),
        # Acknowledgement links in messages: authenticated by the per-delivery token ``t``.
        ("GET", "/api/v1/dispatch/ack/{delivery_id}"),
        ("POST", "/api/v1/dispatch/ack/{delivery_id}"),
    }
)
# Web pages behind the cookie login: without a session they must never answer 2xx.
WEB_PREFIXES = ("/console", "/post", "/login", "/logout", "/account")
WEB_OPEN = frozenset({("GET", "/login"), ("POST", "/login")})
CONSOLE = STAFF
POST_PAGE = frozenset({R.POST_OFFICER})  # the page of the post the user belongs to
# Who may use each web page with a cookie session (the console's actions follow the API's).
WEB: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/logout"): ALL,
    ("GET", "/console"): CONSOLE,
    ("GET", "/console/cases/new"): CONSOLE,
    ("POST", "/console/cases"): COORD,
    ("POST", "/console/cases/{case_id}/photo"): COORD,
    ("GET", "/console/cases/{case_id}"): CONSOLE,
    ("GET", "/console/cases/{case_id}/map.json"): CONSOLE,
    ("GET", "/console/cases/{case_id}/alerts/new"): CONSOLE,
    ("POST", "/console/cases/{case_id}/alerts"): COORD,
    ("GET", "/console/alerts/{alert_id}"): CONSOLE,
    ("POST", "/console/alerts/{alert_id}/approve"): APPROVE,
    ("POST", "/console/alerts/{alert_id}/cancel"): APPROVE,
    ("GET", "/console/alerts/{alert_id}/update"): CONSOLE,
    ("POST", "/console/alerts/{alert_id}/update"): COORD,
    ("GET", "/console/alerts/{alert_id}/edit"): CONSOLE,
    ("POST", "/console/alerts/{alert_id}/edit"): COORD,
    ("POST", "/console/alerts/{alert_id}/reject"): APPROVE,
    ("POST", "/console/cases/{case_id}/hints"): COORD,
    ("POST", "/console/cases/{case_id}/sightings"): MANAGE,
    ("POST", "/console/cases/{case_id}/resolve"): MANAGE,
    ("POST", "/console/cases/{case_id}/close"): MANAGE,
    ("GET", "/console/triage"): CONSOLE,
    ("POST", "/console/triage/{report_id}"): MANAGE,
    ("GET", "/console/deliveries"): CONSOLE,
    ("GET", "/console/posts"): CONSOLE,
    ("GET", "/console/posts/{post_id}"): CONSOLE,
    ("GET", "/console/picker/posts.json"): CONSOLE,
    # Other agencies' alerts; {external_id} names none (a refusal must come before the lookup).
    ("GET", "/console/external"): CONSOLE,
    ("GET", "/console/external/map.json"): CONSOLE,
    ("POST", "/console/external/{external_id}/link"): COORD,
    ("GET", "/console/events"): CONSOLE,
    ("GET", "/post"): POST_PAGE,
    ("POST", "/post/ack"): POST_PAGE,
    ("POST", "/post/sighting"): POST_PAGE,
    ("POST", "/post/search"): POST_PAGE,
    ("POST", "/post/checkin"): POST_PAGE,
    ("GET", "/post/events"): POST_PAGE,
    # The admins' users page; {user_id} is an account no session of the matrix belongs to.
    ("GET", "/console/users"): ADMIN,
    ("POST", "/console/users"): ADMIN,
    ("POST", "/console/users/{user_id}/disable"): ADMIN,
    ("POST", "/console/users/{user_id}/enable"): ADMIN,
    ("POST", "/console/users/{user_id}/password"): ADMIN,
    ("POST", "/console/users/{user_id}/sessions/end"): ADMIN,
    ("POST", "/console/users/{user_id}/totp/remove"): ADMIN,
    ("POST", "/console/users/{user_id}/tokens"): ADMIN,
    # Everyone's own account: password, one-time codes.
    ("GET", "/account"): ALL,
    ("POST", "/account/password"): ALL,
    ("GET", "/account/totp"): ALL,
    ("POST", "/account/totp"): ALL,
    ("POST", "/account/language"): ALL,
}
STREAMS = frozenset({("GET", "/console/events"), ("GET", "/post/events")})


def request_for(
    method: str, path: str, ids: dict[str, str], *, seq: int
) -> tuple[str, dict[str, Any], Any]:
    """(url, query params, JSON body) of a valid request to the route, from the world's ids."""
    url = path.format(**{k: ids[k] for k in ids if "{" + k + "}" in path})
    earlier = (now() - timedelta(hours=2)).isoformat()
    later = (now() - timedelta(hours=1)).isoformat()
    content = {
        "texts": [
            {"headline": "Child taken", "description": "A boy, 8.", "instruction": "Check cars."}
        ],
        "area": {
            "description": "Songchon",
            "circles": [{"lat": 39.2, "lon": 126.2, "radius_km": 20}],
        },
        "target_post_ids": [ids["post_id"]],
    }
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/users"): {"username": f"made-{seq}", "role": "viewer"},
        ("POST", "/api/v1/cases"): {
            "children": [{"name": "Another Child"}],
            "last_known": {
                "lat": 39.2,
                "lon": 126.2,
                "time_earliest": earlier,
                "time_latest": later,
            },
        },
        ("POST", "/api/v1/cases/{case_id}/hints"): {"kind": "heading", "bearing_deg": 10},
        ("POST", "/api/v1/cases/{case_id}/resolve"): {"outcome": "found_safe"},
        ("POST", "/api/v1/cases/{case_id}/alerts"): content,
        ("PUT", "/api/v1/alert-versions/{version_id}"): content,
        ("POST", "/api/v1/alert-versions/{version_id}/approve"): {"sha256": "0" * 64},
        ("POST", "/api/v1/alert-versions/{version_id}/reject"): {"reason": "not yet"},
        ("POST", "/api/v1/alerts/{alert_id}/updates"): content,
        ("POST", "/api/v1/alerts/{alert_id}/cancel"): {"reason": "test"},
        ("PUT", "/api/v1/posts/{post_id}"): {
            "id": ids["post_id"],
            "kind": "checkpoint",
            "name": "Checkpoint 0",
            "lat": 39.3,
            "lon": 126.3,
        },
        ("POST", "/api/v1/reports/{report_id}/triage"): {"state": "credible", "reason": "ok"},
        ("POST", "/api/v1/reports/sightings"): {
            "case_id": ids["case_id"],
            "post_id": ids["post_id"],
            "seen_at": later,
            "text": f"seen {seq}",
            "lat": 39.3,
            "lon": 126.3,
        },
        ("POST", "/api/v1/reports/searches"): {
            "case_id": ids["case_id"],
            "post_id": ids["post_id"],
            "from": earlier,
            "to": later,
            "searched": f"all cars {seq}",
            "result": "nothing_found",
        },
    }
    queries: dict[tuple[str, str], dict[str, Any]] = {
        ("GET", "/api/v1/reports/evidence"): {"case_id": ids["case_id"]},
        ("GET", "/api/v1/geocode"): {"q": "Kilju"},
        ("GET", "/api/v1/geocode/reverse"): {"lat": 40.96, "lon": 129.32},
    }
    return url, queries.get((method, path), {}), bodies.get((method, path))


SWAP_KEYS = ("case_id", "alert_id", "version_id", "post_id", "user_id", "token_id", "report_id")
