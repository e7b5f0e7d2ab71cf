"""Dissemination that loses nothing: outbox, signed webhooks, channels, acks, escalation."""
