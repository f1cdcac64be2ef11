"""Tests of the Stripe emulator, driven through the real SDK over HTTP."""
