"""Fixtures of the web tests: the mirror tests' emulator and connected account."""

from tests.mirror.conftest import emulator, mirror

__all__ = ["emulator", "mirror"]
