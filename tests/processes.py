"""Start revlens processes for tests (the same helper the demo uses)."""

from revlens.subprocess_runner import revlens_process

__all__ = ["revlens_process"]
