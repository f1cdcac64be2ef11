"""Charging for revlens itself: plans, subscriptions in its own account, entitlements."""
