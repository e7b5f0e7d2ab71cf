"""Posts: the units that receive alerts (checkpoints, stations, patrols, guard posts, public)."""
