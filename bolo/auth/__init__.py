"""Users, roles, API tokens, passwords, web sessions and one-time codes; the login throttle and
the two-person rule across accounts and credentials."""
