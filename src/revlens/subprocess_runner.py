"""Run another revlens command as a child process, its output in a log file."""

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

    Output goes to `log`: a pipe nobody reads fills up and blocks the child on its next write.
    """
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 (a fixed command: this Python, revlens)
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
