"""Scenario generator: realistic SaaS histories built through the emulator's public API, with
the intended timeline written as ground truth."""
