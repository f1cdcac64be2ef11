"""Analytics inside revlens: derived metrics stored per account, kept fresh, and read back.

The pure core (`revlens.analytics`) computes; this package feeds it from the mirror, stores each
customer's contribution so that a change to one customer rewrites only that customer's rows, and
answers series, movements, customer timelines and cohorts from the stored rows.
"""
