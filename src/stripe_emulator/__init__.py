"""A stateful, multi-account emulator of the Stripe API used by revlens' demo, tests and benchmarks.

It imports nothing from revlens.
"""
