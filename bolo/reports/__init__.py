"""Reports: public tips, post sightings and search reports; geocoding, triage, evidence."""
