"""Hardening: security headers, request size limits, strict input, the SSRF guard."""
