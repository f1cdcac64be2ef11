"""The server wrapper, persistence across restarts, deterministic ids, and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import stripe
from typer.testing import CliRunner

from stripe_emulator.cli import app, parse_time
from stripe_emulator.config import ConfigError, EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import make_client


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    with EmulatorServer(EmulatorConfig(state_file=state)) as first:
        client = make_client(first)
        account = client.v1.accounts.create({"type": "standard"})
        customer = client.v1.customers.create(
            {"email": "keep@x.test"}, {"stripe_account": account.id}
        )
        keys = first.emulator.platform
    with EmulatorServer(EmulatorConfig(state_file=state)) as second:
        assert second.emulator.platform == keys
        again = make_client(second).v1.customers.retrieve(
            customer.id, {}, {"stripe_account": account.id}
        )
        assert again.email == "keep@x.test"


def test_in_memory_state_is_gone_after_a_restart() -> None:
    with EmulatorServer(EmulatorConfig(secret_key="sk_test_fixedfixedfixed1")) as first:
        customer = make_client(first).v1.customers.create({})
    second = EmulatorServer(EmulatorConfig(secret_key="sk_test_fixedfixedfixed1"))
    with second, pytest.raises(stripe.InvalidRequestError):
        make_client(second).v1.customers.retrieve(customer.id)


def test_seeded_ids_are_deterministic_and_do_not_repeat_after_restart(tmp_path: Path) -> None:
    def ids(config: EmulatorConfig) -> list[str]:
        with EmulatorServer(config) as server:
            client = make_client(server)
            return [
                server.emulator.platform.account_id,
                *(client.v1.customers.create({}).id for _ in range(3)),
            ]

    assert ids(EmulatorConfig(seed=42)) == ids(EmulatorConfig(seed=42))
    state = str(tmp_path / "s.sqlite3")
    before = ids(EmulatorConfig(seed=42, state_file=state))
    after = ids(EmulatorConfig(seed=42, state_file=state))
    assert before[0] == after[0]
    assert not set(before[1:]) & set(after[1:])


def test_configured_keys_and_clock_start(tmp_path: Path) -> None:
    config = EmulatorConfig(
        secret_key="sk_test_configured1234", client_id="ca_configured1234", now=1_600_000_000
    )
    with EmulatorServer(config) as server:
        assert server.emulator.platform.secret_key_test == "sk_test_configured1234"
        customer = make_client(server).v1.customers.create({})
        assert 1_600_000_000 <= customer.created < 1_600_000_100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret_key": "sk_live_nope12345678"},
        {"client_id": "nope"},
        {"port": 70000},
        {"redirect_uris": ("ftp://x",)},
    ],
)
def test_bad_config_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        EmulatorConfig(**kwargs)  # type: ignore[arg-type]


def test_parse_time_accepts_unix_and_iso() -> None:
    assert parse_time("1700000000") == 1_700_000_000
    assert parse_time("2023-11-14T22:13:20Z") == 1_700_000_000
    assert parse_time("2023-11-14T22:13:20") == 1_700_000_000
    with pytest.raises(ConfigError):
        parse_time("yesterday")


def test_cli_bad_options_give_one_line_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--secret-key", "pk_test_x", "--port", "0"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "error:" in result.output
    result = runner.invoke(app, ["--now", "soon", "--port", "0"])
    assert result.exit_code == 2
    assert "--now" in result.output


def test_python_m_stripe_emulator_prints_url_keys_and_client_id(tmp_path: Path) -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stripe_emulator",
            "--port",
            "0",
            "--client-id",
            "ca_fromthecli12345",
            "--secret-key",
            "sk_test_fromthecli12345",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(7)]
        finally:
            process.terminate()
            process.wait(timeout=10)
    text = "".join(lines)
    assert "listening on http://127.0.0.1:" in lines[0]
    assert "sk_test_fromthecli12345" in text
    assert "ca_fromthecli12345" in text
    assert "pk_test_" in text
