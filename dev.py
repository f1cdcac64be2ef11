#!/usr/bin/env python3
"""Set up revlens' virtual environment when needed, then run revlens or the test suite.

    python3 dev.py demo         run revlens end to end on a seeded Stripe emulator
    python3 dev.py serve        migrate the database and serve the web app
    python3 dev.py test         lint, type-check and run the whole test suite
    python3 dev.py revlens ARGS run any revlens command in the environment
    python3 dev.py lock         refresh requirements.lock from the current environment

Only the standard library is used here: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("REVLENS_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".revlens-installed"
MINIMUM = (3, 11)


def _say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def _run(*command: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(part) for part in command], cwd=ROOT, env=env)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", LOCK):
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv and install revlens with its development tools when anything changed."""
    if sys.version_info < MINIMUM:
        sys.exit(f"dev.py: Python {'.'.join(map(str, MINIMUM))} or newer is needed")
    if not (BIN / "python").exists():
        _say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    fingerprint = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    _say("installing revlens and its development tools (first run, or dependencies changed)")
    pip = [BIN / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    if _run(*pip, "install", "--upgrade", "pip") != 0:
        sys.exit("dev.py: upgrading pip failed")
    constraints = ["-c", str(LOCK)] if LOCK.exists() else []
    if _run(*pip, "install", *constraints, "-e", f"{ROOT}[dev]") != 0:
        sys.exit("dev.py: installing revlens failed (see pip's message above)")
    STAMP.write_text(fingerprint)


def run_tests(pytest_args: list[str]) -> int:
    """Run ruff, mypy --strict and pytest; return non-zero when any of them fails."""
    sources = [name for name in ("src", "tests", "bench", "dev.py") if (ROOT / name).exists()]
    checks: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [BIN / "ruff", "check", *sources]),
        ("ruff format", [BIN / "ruff", "format", "--check", *sources]),
        ("mypy --strict", [BIN / "mypy", "--strict", "src/"]),
    ]
    failed = [name for name, command in checks if _run(*command) != 0]
    status = _run(BIN / "pytest", *pytest_args)
    # pytest's 5 means it collected no test: that is a failure, not a pass.
    if status != 0:
        failed.append(f"pytest (exit {status})")
    if failed:
        _say("FAILED: " + ", ".join(failed))
        return 1
    _say("all checks passed")
    return 0


def main(argv: list[str]) -> int:
    """Dispatch the sub-command."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "test":
        return run_tests(rest)
    if command == "serve":
        status = _run(BIN / "revlens", "migrate")
        return status or _run(BIN / "revlens", "serve", *rest)
    if command in ("demo", "revlens"):
        return _run(BIN / "revlens", *([command] if command == "demo" else []), *rest)
    if command == "lock":
        frozen = subprocess.run(
            [BIN / "python", "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        LOCK.write_text(frozen)
        STAMP.write_text(_fingerprint())
        _say(f"wrote {LOCK.name}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
