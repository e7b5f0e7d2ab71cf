"""Users, roles and API tokens (minimal in the spine: enough for the two-person rule)."""
