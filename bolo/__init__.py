"""bolo: be on the lookout."""
