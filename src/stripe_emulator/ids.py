"""Object ids shaped like Stripe's: deterministic from a seed, unguessable otherwise."""

from __future__ import annotations

import random
import secrets
import string
import threading

_ALPHABET = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits


def _byte_table(alphabet: str) -> bytes:
    """Map each byte value to a character of `alphabet` (as evenly as 256 allows)."""
    return bytes(ord(alphabet[value % len(alphabet)]) for value in range(256))


_TABLES = {_ALPHABET: _byte_table(_ALPHABET), _UPPER: _byte_table(_UPPER)}


class IdGenerator:
    """Makes `prefix_random` ids; a seed makes the sequence reproducible across runs."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None

    def reseed(self, seed: int | str) -> None:
        """Continue from a new seed (each part of a history played in parts has its own)."""
        with self._lock:
            self._rng = random.Random(seed)

    def _choose(self, alphabet: str, length: int) -> str:
        # Random bytes mapped through a table: one C call per id instead of one per character.
        if self._rng is None:
            return secrets.token_bytes(length).translate(_TABLES[alphabet]).decode()
        with self._lock:
            return self._rng.randbytes(length).translate(_TABLES[alphabet]).decode()

    def make(self, prefix: str, length: int = 14) -> str:
        """Return a new id such as `cus_Ab3…` with `length` random characters."""
        return f"{prefix}_{self._choose(_ALPHABET, length)}"

    def code(self, length: int = 8) -> str:
        """Return an upper-case code, the shape Stripe uses for coupon ids."""
        return self._choose(_UPPER, length)

    def request_id(self) -> str:
        """Return a `req_…` id; always random so replays never collide with seeded ids."""
        # One system call per id: every API request makes one (14 `secrets.choice` were 14).
        return "req_" + secrets.token_bytes(14).translate(_TABLES[_ALPHABET]).decode()
