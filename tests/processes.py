"""Start revlens processes for tests (the same helper the demo uses)."""

import os

from revlens.config import Settings
from revlens.subprocess_runner import revlens_process

__all__ = ["process_environ", "revlens_process"]


def process_environ(settings: Settings) -> dict[str, str]:
    """Return the environment that gives a revlens process these settings' data and queue."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "REVLENS_DATA_DIR": str(settings.data_dir),
        "REVLENS_DATABASE_URL": settings.database_url,
        "REVLENS_QUEUE_URL": settings.queue_url,
        "REVLENS_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
