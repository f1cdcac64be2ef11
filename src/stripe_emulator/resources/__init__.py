"""Emulated Stripe resources, each a small declarative `Resource` definition."""
