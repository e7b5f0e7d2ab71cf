"""Imports every table module so Base.metadata knows them all (migrations, create_all)."""

from bolo.alerts import external as external_alerts_model
from bolo.alerts import model as alerts_model
from bolo.audit import model as audit_model
from bolo.auth import model as auth_model
from bolo.cases import model as cases_model
from bolo.dispatch import model as dispatch_model
from bolo.dispatch.runner import liveness as dispatch_liveness_model
from bolo.posts import model as posts_model
from bolo.reports import model as reports_model
from bolo.store import leases as leases_model

__all__ = [
    "alerts_model",
    "audit_model",
    "auth_model",
    "cases_model",
    "dispatch_liveness_model",
    "dispatch_model",
    "external_alerts_model",
    "leases_model",
    "posts_model",
    "reports_model",
]
