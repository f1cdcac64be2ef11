"""A mirror on an emulator whose clock starts at a known instant (see shop.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.metrics.shop import START
from tests.mirror.conftest import mirror  # noqa: F401  (the fixture, reused here)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """An emulator whose clock starts on a Monday morning and only jumps when a test moves it."""
    with EmulatorServer(EmulatorConfig(control=True, now=START)) as server:
        yield server
