"""`revlens sync ACCOUNT` with a real `revlens worker` process, both on the same settings."""

from __future__ import annotations

import subprocess
import sys

from revlens.config import Settings
from tests.mirror.conftest import WEBHOOK_SECRET, Mirror
from tests.processes import process_environ, revlens_process


def settings_environ(settings: Settings) -> dict[str, str]:
    """Return the environment that makes a revlens process use these settings."""
    assert settings.stripe_secret_key is not None
    assert settings.stripe_client_id is not None
    return {
        **process_environ(settings),
        "REVLENS_STRIPE_SECRET_KEY": settings.stripe_secret_key.get_secret_value(),
        "REVLENS_STRIPE_CLIENT_ID": settings.stripe_client_id,
        "REVLENS_STRIPE_API_BASE": settings.stripe_api_base,
        "REVLENS_STRIPE_CONNECT_BASE": settings.stripe_connect_base,
        "REVLENS_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
    }


def test_sync_command_shows_progress_until_complete(mirror: Mirror) -> None:
    for n in range(150):
        mirror.platform.v1.customers.create({"email": f"s{n}@x.example"}, mirror.opts)
    environ = settings_environ(mirror.settings)
    log = mirror.settings.data_dir / "worker.log"
    with revlens_process("worker", "--workers", "2", env=environ, log=log):
        result = subprocess.run(
            [sys.executable, "-m", "revlens", "sync", mirror.account],
            env={**environ, "COLUMNS": "140"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"backfill of {mirror.account} queued" in result.stdout
    assert f"{mirror.account}: every stream complete" in result.stdout
    assert len(mirror.stored("customer")) == 150


def test_sync_refuses_an_unknown_account(mirror: Mirror) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "revlens", "sync", "acct_nobody"],
        env=settings_environ(mirror.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "revlens: error: acct_nobody is not a connected account"
