"""The `revlens` command as a person runs it: exit status and exactly what it prints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import revlens


def _run(*args: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REVLENS_DATA_DIR": str(tmp_path / "data"),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "revlens", *args],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    for command in ("version", "migrate", "worker", "serve", "sync", "webhooks", "emulator"):
        assert command in result.stdout


def test_version(tmp_path: Path) -> None:
    result = _run("version", tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"revlens {revlens.__version__}"


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    first = _run("migrate", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("database migrated from nothing to ")
    second = _run("migrate", tmp_path=tmp_path)
    assert second.returncode == 0
    assert second.stdout.startswith("database already at ")
    assert (tmp_path / "data" / "revlens.db").exists()


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"REVLENS_DATABASE_URL": "mysql://db/x"},
            "revlens: error: REVLENS_DATABASE_URL: unsupported database 'mysql'; "
            "use sqlite:///PATH or postgresql://USER@HOST/DB",
        ),
        (
            {"REVLENS_QUEUE_URL": "amqp://broker"},
            "revlens: error: REVLENS_QUEUE_URL: unsupported queue 'amqp'; "
            "use sqlite:///PATH or redis://HOST:PORT/DB",
        ),
        (
            {"REVLENS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"},
            "revlens: error: REVLENS_DATABASE_URL: cannot connect to "
            "postgresql+psycopg://nobody@127.0.0.1:1/x: ",
        ),
    ],
)
def test_a_bad_url_stops_start_up_in_one_line(
    tmp_path: Path, variables: dict[str, str], expected: str
) -> None:
    result = _run("migrate", tmp_path=tmp_path, **variables)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)


def test_an_unreachable_redis_stops_the_worker_in_one_line(tmp_path: Path) -> None:
    assert _run("migrate", tmp_path=tmp_path).returncode == 0
    result = _run("worker", tmp_path=tmp_path, REVLENS_QUEUE_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("revlens: error: REVLENS_QUEUE_URL: cannot reach the queue: ")


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = _run("serve", "--port", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("run `revlens migrate`")


def test_revlens_emulator_serves_the_emulator(tmp_path: Path) -> None:
    import signal
    import time

    import httpx

    from tests.live_server import free_port

    port = free_port()
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    with (tmp_path / "emulator.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "revlens", "emulator", "--port", str(port), "--control"],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    platform = httpx.get(f"http://127.0.0.1:{port}/_emulator/platform").json()
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, (tmp_path / "emulator.log").read_text()
                    time.sleep(0.1)
            assert platform["client_id"].startswith("ca_")
            assert platform["secret_key_test"].startswith("sk_test_")
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def test_ctrl_c_while_the_cli_loads_stops_it_without_a_traceback(tmp_path: Path) -> None:
    # `revlens demo` stops its workers with SIGINT, which can arrive while they still import.
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    environ["REVLENS_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "revlens", "worker"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Once the CLI's imports reach SQLAlchemy (its compiled modules are mapped), far from done.
    deadline = time.monotonic() + 30
    while not _loading_sqlalchemy(process.pid):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert b"Traceback" not in output, output


def _loading_sqlalchemy(pid: int) -> bool:
    return "/sqlalchemy/" in Path(f"/proc/{pid}/maps").read_text()
