"""The time-driven billing engine: a schedule of due work derived from the store, run as the
emulator's clock (or a test clock) passes."""
