"""Cases: one abduction, from report to purge."""
