"""Checks of the emulator against third-party oracles (Stripe OpenAPI spec, stripe-cli fixtures)."""
