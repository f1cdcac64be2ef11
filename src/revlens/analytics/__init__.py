"""Pure subscription analytics: timelines, MRR, movements, rates, cohorts and cash.

Plain data in (dataclasses, dicts of Stripe JSON), plain data out; no database, no Stripe SDK.
The specification of every number is shared/docs/metrics.md.
"""
