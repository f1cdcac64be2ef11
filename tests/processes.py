"""Start revlens processes for tests, their output in a log file (never an unread pipe)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def revlens_process(
    *args: str, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m revlens ARGS` until the block ends, then stop it with SIGINT.

    Output goes to `log`: a pipe nobody reads fills up and blocks the process on its next write.
    """
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "revlens", *args],
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
