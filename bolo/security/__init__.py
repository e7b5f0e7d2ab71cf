"""Hardening: security headers, request size limits, the SSRF guard, the retention purge."""
