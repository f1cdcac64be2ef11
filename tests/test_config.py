"""Settings: sources, precedence, defaults, and one-line errors that name the setting."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from revlens.config import Settings, load_settings, normalize_database_url, normalize_queue_url
from revlens.errors import ConfigError


def test_defaults_live_in_the_data_directory(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings()
    data = tmp_path / "data"
    assert settings.data_dir == data
    assert settings.database_url == f"sqlite:///{data / 'revlens.db'}"
    assert settings.queue_url == f"sqlite:///{data / 'queue.db'}"
    assert settings.env == "development"
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert settings.stripe_connect_base == "https://connect.stripe.com"
    assert settings.stripe_webhook_secrets == ()
    assert settings.stripe_rate_limit is None  # Stripe's documented limit of the key's mode


def test_secret_key_is_generated_once_and_kept_private(make_settings: Any, tmp_path: Path) -> None:
    first = make_settings().secret_key.get_secret_value()
    second = make_settings().secret_key.get_secret_value()
    assert first == second
    assert len(first) >= 32
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first


def test_explicit_secret_key_wins_and_writes_nothing(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(REVLENS_SECRET_KEY="x" * 40)
    assert settings.secret_key.get_secret_value() == "x" * 40
    assert not (tmp_path / "data" / "secret_key").exists()


def test_a_short_stored_secret_key_is_refused(make_settings: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match=r"REVLENS_SECRET_KEY: .* fewer than 32"):
        make_settings()


def test_environment_overrides_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "revlens.toml"
    config.write_text('public_url = "https://from-file.example"\nlog_level = "debug"\n')
    environ = {
        "REVLENS_DATA_DIR": str(tmp_path / "d"),
        "REVLENS_CONFIG": str(config),
        "REVLENS_PUBLIC_URL": "https://from-env.example/",
    }
    settings = load_settings(environ)
    assert settings.public_url == "https://from-env.example"
    assert settings.log_level == "debug"


def test_webhook_secrets_are_comma_separated_for_rolling(make_settings: Any) -> None:
    settings = make_settings(REVLENS_STRIPE_WEBHOOK_SECRETS="whsec_old, whsec_new")
    assert settings.stripe_webhook_secrets == ("whsec_old", "whsec_new")


def test_all_documented_settings_are_accepted(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(
        REVLENS_DATABASE_URL="postgres://u:p@db.example:5432/revlens",
        REVLENS_QUEUE_URL="redis://cache.example:6379/2",
        REVLENS_ENV="production",
        REVLENS_PUBLIC_URL="https://revlens.example",
        REVLENS_ADMIN_TOKEN="a" * 20,
        REVLENS_STRIPE_SECRET_KEY="sk_live_123",
        REVLENS_STRIPE_CLIENT_ID="ca_123",
        REVLENS_STRIPE_API_BASE="http://127.0.0.1:12111",
        REVLENS_STRIPE_CONNECT_BASE="http://127.0.0.1:12111",
        REVLENS_DATABASE_POOL_SIZE="12",
        REVLENS_STRIPE_RATE_LIMIT="250",
    )
    assert settings.database_url == "postgresql+psycopg://u:p@db.example:5432/revlens"
    assert settings.queue_url == "redis://cache.example:6379/2"
    assert settings.is_production
    assert settings.database_pool_size == 12
    assert settings.stripe_client_id == "ca_123"
    assert settings.stripe_rate_limit == 250.0


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("REVLENS_DATABASE_URL", "mysql://x/y", "REVLENS_DATABASE_URL: unsupported database"),
        ("REVLENS_DATABASE_URL", "not a url", "REVLENS_DATABASE_URL: cannot parse"),
        ("REVLENS_DATABASE_URL", "sqlite://", "REVLENS_DATABASE_URL: an SQLite URL needs"),
        ("REVLENS_DATABASE_URL", "postgresql+asyncpg://h/d", "REVLENS_DATABASE_URL: driver"),
        ("REVLENS_QUEUE_URL", "amqp://broker", "REVLENS_QUEUE_URL: unsupported queue 'amqp'"),
        ("REVLENS_QUEUE_URL", "redis://", "REVLENS_QUEUE_URL: the Redis URL names no host"),
        ("REVLENS_QUEUE_URL", "redis://h:port", "REVLENS_QUEUE_URL: the Redis URL has an invalid"),
        ("REVLENS_QUEUE_URL", "sqlite://x", "REVLENS_QUEUE_URL: expected sqlite:///PATH"),
        ("REVLENS_ENV", "staging", "REVLENS_ENV: Input should be 'development' or 'production'"),
        ("REVLENS_PUBLIC_URL", "example.com", "REVLENS_PUBLIC_URL: expected an http"),
        ("REVLENS_ADMIN_TOKEN", "short", "REVLENS_ADMIN_TOKEN: must be at least 16"),
        ("REVLENS_STRIPE_SECRET_KEY", "pk_test_1", "REVLENS_STRIPE_SECRET_KEY: expected"),
        ("REVLENS_STRIPE_CLIENT_ID", "acct_1", "REVLENS_STRIPE_CLIENT_ID: expected"),
        ("REVLENS_STRIPE_WEBHOOK_SECRETS", "whsec_a,nope", "REVLENS_STRIPE_WEBHOOK_SECRETS:"),
        ("REVLENS_DATABASE_POOL_SIZE", "0", "REVLENS_DATABASE_POOL_SIZE: Input should be"),
        ("REVLENS_STRIPE_RATE_LIMIT", "0", "REVLENS_STRIPE_RATE_LIMIT: Input should be greater"),
        ("REVLENS_STRIPE_RATE_LIMIT", "fast", "REVLENS_STRIPE_RATE_LIMIT: Input should be a"),
        ("REVLENS_DATABSE_URL", "x", "REVLENS_DATABSE_URL: unknown setting (did you mean"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    make_settings: Any, variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(**{variable: value})
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_production_requires_https(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match=r"^REVLENS_PUBLIC_URL: must be an https:// URL"):
        make_settings(REVLENS_ENV="production", REVLENS_PUBLIC_URL="http://revlens.example")


def test_config_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "revlens.toml"
    environ = {"REVLENS_DATA_DIR": str(tmp_path / "d"), "REVLENS_CONFIG": str(config)}
    config.write_text("public_url = [unclosed\n")
    with pytest.raises(ConfigError, match=r"revlens\.toml: invalid TOML"):
        load_settings(environ)
    config.write_text('pubic_url = "https://x.example"\n')
    with pytest.raises(ConfigError, match=r"revlens.toml: pubic_url: unknown setting \(did you"):
        load_settings(environ)
    config.write_text('log_level = "loud"\n')
    with pytest.raises(ConfigError, match=r"revlens.toml: log_level: Input should be"):
        load_settings(environ)
    with pytest.raises(ConfigError, match="REVLENS_CONFIG: no such file"):
        load_settings({**environ, "REVLENS_CONFIG": str(tmp_path / "missing.toml")})


def test_an_unusable_data_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"^REVLENS_DATA_DIR: cannot use"):
        load_settings({"REVLENS_DATA_DIR": str(blocker / "sub")})


def test_test_variables_are_not_settings(make_settings: Any) -> None:
    assert make_settings(REVLENS_TEST_SOMETHING="1").env == "development"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h:5433/d", "postgresql+psycopg://u@h:5433/d"),
    ],
)
def test_database_urls_are_normalised(raw: str, normal: str) -> None:
    assert normalize_database_url(raw) == normal


def test_queue_urls_are_kept_as_given() -> None:
    assert normalize_queue_url("rediss://h:6380/3") == "rediss://h:6380/3"
    assert normalize_queue_url("sqlite:////var/lib/q.db") == "sqlite:////var/lib/q.db"


CONNECT_TOML = """
env = "{env}"
public_url = "{public}"

[connect.development]
client_id = "ca_dev"
redirect_uris = ["http://127.0.0.1:8000/oauth/callback", "http://localhost:8000/oauth/callback"]

[connect.production]
client_id = "ca_prod"
redirect_uris = ["https://revlens.example/oauth/callback"]
scope = "read_write"

[branding]
name = "Acme Insights"
primary_color = "#112233"
support_url = "mailto:help@acme.example"
"""


def _with_toml(tmp_path: Path, text: str, **variables: str) -> Settings:
    config = tmp_path / "revlens.toml"
    config.write_text(text)
    environ = {"REVLENS_DATA_DIR": str(tmp_path / "d"), "REVLENS_CONFIG": str(config)}
    return load_settings({**environ, **variables})


def test_the_running_environment_picks_its_connect_block(tmp_path: Path) -> None:
    dev = _with_toml(
        tmp_path, CONNECT_TOML.format(env="development", public="http://127.0.0.1:8000")
    )
    assert dev.stripe_client_id == "ca_dev"
    assert dev.stripe_scope == "read_only"
    assert dev.oauth_redirect_uri == "http://127.0.0.1:8000/oauth/callback"
    assert dev.branding_name == "Acme Insights"
    assert dev.branding_primary_color == "#112233"
    prod = _with_toml(
        tmp_path,
        CONNECT_TOML.format(env="production", public="https://revlens.example"),
        REVLENS_STRIPE_SECRET_KEY="sk_live_x",
    )
    assert prod.stripe_client_id == "ca_prod"
    assert prod.stripe_scope == "read_write"
    assert prod.registered_redirect_uris == ("https://revlens.example/oauth/callback",)


def test_environment_variables_override_the_connect_block(tmp_path: Path) -> None:
    settings = _with_toml(
        tmp_path,
        CONNECT_TOML.format(env="development", public="http://localhost:8000"),
        REVLENS_STRIPE_CLIENT_ID="ca_override",
        REVLENS_BRANDING_NAME="Override",
    )
    assert settings.stripe_client_id == "ca_override"
    assert settings.branding_name == "Override"


def test_an_unregistered_redirect_uri_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _with_toml(tmp_path, CONNECT_TOML.format(env="development", public="http://other:9000"))
    assert str(caught.value) == (
        "REVLENS_STRIPE_REDIRECT_URIS: http://other:9000/oauth/callback (REVLENS_PUBLIC_URL + "
        "/oauth/callback) is not one of the registered redirect URIs: "
        "http://127.0.0.1:8000/oauth/callback, http://localhost:8000/oauth/callback"
    )


def test_production_redirect_uris_must_be_https(tmp_path: Path) -> None:
    text = CONNECT_TOML.format(env="development", public="http://127.0.0.1:8000").replace(
        "https://revlens.example/oauth", "http://revlens.example/oauth"
    )
    with pytest.raises(ConfigError, match=r"connect\.production\.redirect_uris: production URIs"):
        _with_toml(tmp_path, text)


def test_a_live_key_with_a_test_client_id_is_one_line(tmp_path: Path) -> None:
    text = CONNECT_TOML.format(env="development", public="http://127.0.0.1:8000")
    with pytest.raises(ConfigError) as caught:
        _with_toml(tmp_path, text, REVLENS_STRIPE_SECRET_KEY="sk_live_abc")
    assert str(caught.value) == (
        "REVLENS_STRIPE_SECRET_KEY: a live key cannot be used with the test client_id ca_dev "
        "of the development environment"
    )


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[branding]\nprimary_color = "blue"\n', "branding_primary_color: String should match"),
        ('[branding]\nfont = "x"\n', "branding.font: unknown branding setting"),
        ('[connect.staging]\nclient_id = "ca_x"\n', "connect.staging: expected [connect.develop"),
        ('[connect.development]\nclientid = "ca_x"\n', "connect.development.clientid: unknown"),
        ('[connect.development]\nscope = "all"\n', "stripe_scope: Input should be"),
    ],
)
def test_bad_connect_and_branding_blocks_are_named(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _with_toml(tmp_path, snippet)
    assert expected in str(caught.value)
