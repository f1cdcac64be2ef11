"""Signed webhook delivery: who receives an event, how it is signed, sent and retried."""
