"""The mirror: stored Stripe objects and events, backfill, event application, reconciliation."""
