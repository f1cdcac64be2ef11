"""Operational records of revlens itself (heartbeats)."""
