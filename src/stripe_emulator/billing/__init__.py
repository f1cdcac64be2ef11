"""Payments and billing logic shared by the HTTP handlers and, later, a clock-driven engine.

Handlers parse parameters and call these functions; a scheduler calls the same functions with
`system_ctx(emulator, scope)` so automatic changes record events with a null `request`.
"""
