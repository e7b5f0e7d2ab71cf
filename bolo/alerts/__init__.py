"""Alerts: versions, two-person approval, expiry, CAP rendering."""
