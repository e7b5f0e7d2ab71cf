"""Reference incidents and their replays."""
