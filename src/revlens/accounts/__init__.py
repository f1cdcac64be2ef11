"""Workspaces: connected accounts, OAuth state, disconnection and purge."""
