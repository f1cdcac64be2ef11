"""Settings, read by each entry point from `REVLENS_*` variables and an optional revlens.toml."""

from __future__ import annotations

import difflib
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from revlens.billing.plans import BillingConfig, PlanError, parse_billing
from revlens.errors import ConfigError

ENV_PREFIX = "REVLENS_"
# Variables under these prefixes belong to other readers (the test suite), not to Settings.
FOREIGN_PREFIXES = ("REVLENS_TEST_",)
CONFIG_FILE_VARIABLE = "REVLENS_CONFIG"
DEFAULT_CONFIG_FILE = "revlens.toml"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_LENGTH = 32
OAUTH_CALLBACK_PATH = "/oauth/callback"
# revlens.toml sections whose keys become settings with a prefix.
BRANDING_SECTION = "branding"
BILLING_SECTION = "billing"
CONNECT_SECTION = "connect"
CONNECT_KEYS = {
    "client_id": "stripe_client_id",
    "redirect_uris": "stripe_redirect_uris",
    "scope": "stripe_scope",
    "mode": "stripe_client_id_mode",
}


def default_data_dir() -> Path:
    """Return the per-user data directory (XDG), used when REVLENS_DATA_DIR is not set."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "revlens"


class Settings(BaseModel):
    """Every setting revlens reads; built by an entry point and passed down, never global."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["development", "production"] = "development"
    data_dir: Path
    database_url: str
    database_pool_size: int = Field(default=5, ge=1, le=200)
    queue_url: str
    secret_key: SecretStr
    public_url: str = "http://127.0.0.1:8000"
    admin_token: SecretStr | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    stripe_secret_key: SecretStr | None = None
    stripe_client_id: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    stripe_connect_base: str = "https://connect.stripe.com"
    stripe_webhook_secrets: tuple[str, ...] = ()
    # The Connect application of the running environment ([connect.<env>] in revlens.toml).
    stripe_redirect_uris: tuple[str, ...] = ()
    stripe_scope: Literal["read_only", "read_write"] = "read_only"
    stripe_client_id_mode: Literal["test", "live"] | None = None
    # Requests/s revlens allows itself per Stripe account; None: Stripe's documented limit for
    # the key's mode (25 test, 100 live). Raise it only when Stripe has raised the account's.
    stripe_rate_limit: float | None = Field(default=None, gt=0, le=10_000)
    # Branding shown on every page ([branding] in revlens.toml).
    branding_name: str = Field(default="revlens", min_length=1, max_length=60)
    branding_logo_url: str | None = None
    branding_icon_url: str | None = None
    branding_primary_color: str = Field(default="#4f46e5", pattern=r"^#[0-9a-fA-F]{6}$")
    branding_support_url: str | None = None
    # Plans revlens charges for ([billing] in revlens.toml); none means billing is off.
    billing: BillingConfig = BillingConfig()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("queue_url")
    @classmethod
    def _queue_url(cls, value: str) -> str:
        return normalize_queue_url(value)

    @field_validator("public_url", "stripe_api_base", "stripe_connect_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        _check_http_url(value)
        return value.rstrip("/")

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
        ):
            raise ValueError("expected a secret key starting with sk_test_, sk_live_ or rk_")
        return value

    @field_validator("stripe_client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("ca_"):
            raise ValueError("expected a Connect client_id starting with ca_")
        return value

    @field_validator("stripe_redirect_uris", mode="before")
    @classmethod
    def _redirect_uris(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            for uri in value:
                _check_http_url(str(uri))
        return value

    @field_validator("branding_logo_url", "branding_icon_url")
    @classmethod
    def _asset_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            _check_http_url(value)
        return value

    @field_validator("branding_support_url")
    @classmethod
    def _support_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("mailto:"):
            _check_http_url(value)
        return value

    @field_validator("stripe_webhook_secrets", mode="before")
    @classmethod
    def _webhook_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            for secret in value:
                if not isinstance(secret, str) or not secret.startswith("whsec_"):
                    raise ValueError("expected comma-separated secrets starting with whsec_")
        return value

    @property
    def is_production(self) -> bool:
        """Whether revlens runs in production (Secure cookies, https URLs)."""
        return self.env == "production"

    @property
    def oauth_redirect_uri(self) -> str:
        """The redirect URI revlens sends: its public URL's /oauth/callback."""
        return self.public_url + OAUTH_CALLBACK_PATH

    @property
    def registered_redirect_uris(self) -> tuple[str, ...]:
        """The redirect URIs registered for the client_id (the callback when none is listed)."""
        return self.stripe_redirect_uris or (self.oauth_redirect_uri,)


def _check_http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL such as https://example.com, got {value!r}")


def normalize_database_url(raw: str) -> str:
    """Return a SQLAlchemy URL for SQLite or PostgreSQL (psycopg 3), or raise ValueError."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError(
            f"cannot parse {raw!r}; expected sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise ValueError(f"driver {driver!r} is not supported; use postgresql+psycopg://")
        if not url.database:
            raise ValueError("the PostgreSQL URL names no database")
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise ValueError(f"driver {driver!r} is not supported; use sqlite:///PATH")
        if not url.database or url.database == ":memory:":
            raise ValueError("an SQLite URL needs a file path (sqlite:///PATH)")
    else:
        raise ValueError(
            f"unsupported database {backend!r}; use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    return url.render_as_string(hide_password=False)


def normalize_queue_url(raw: str) -> str:
    """Return a queue URL (sqlite:///PATH or redis[s]://HOST[:PORT][/DB]), or raise ValueError."""
    parts = urlsplit(raw)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.lstrip("/"):
            raise ValueError(
                f"expected sqlite:///PATH (three slashes, then a file path), got {raw!r}"
            )
        return raw
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise ValueError(f"the Redis URL names no host: {raw!r}")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError(f"the Redis URL has an invalid port: {raw!r}") from None
        database = parts.path.lstrip("/")
        if database and not database.isdigit():
            raise ValueError(f"the Redis database must be a number, got {database!r}")
        return raw
    raise ValueError(
        f"unsupported queue {parts.scheme or raw!r}; use sqlite:///PATH or redis://HOST:PORT/DB"
    )


def sqlite_queue_path(queue_url: str) -> Path:
    """Return the file path of an sqlite:/// queue URL."""
    path = urlsplit(queue_url).path
    # sqlite:///relative → "/relative"; sqlite:////absolute → "//absolute"
    return Path(path[1:]) if path.startswith("/") else Path(path)


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from revlens.toml, then the environment, then explicit overrides."""
    environ = os.environ if environ is None else environ
    file_values, file_name = _read_config_file(environ, config_file)
    env_values = _read_environment(environ)
    values: dict[str, Any] = {**file_values, **env_values, **(overrides or {})}
    sources = {key: f"{file_name}: {key}" for key in file_values}
    sources.update({key: ENV_PREFIX + key.upper() for key in env_values})
    sources.update({key: f"--{key.replace('_', '-')}" for key in overrides or {}})

    data_dir = Path(values.get("data_dir") or default_data_dir()).expanduser()
    values["data_dir"] = data_dir
    values.setdefault("database_url", f"sqlite:///{data_dir / 'revlens.db'}")
    values.setdefault("queue_url", f"sqlite:///{data_dir / 'queue.db'}")
    if not values.get("secret_key"):
        values["secret_key"] = _stored_secret_key(data_dir)
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise _one_line(exc, sources) from None
    _check_production(settings)
    _check_connect(settings)
    return settings


def _read_config_file(
    environ: Mapping[str, str], config_file: Path | None
) -> tuple[dict[str, Any], str]:
    if config_file is None and environ.get(CONFIG_FILE_VARIABLE):
        config_file = Path(environ[CONFIG_FILE_VARIABLE])
        if not config_file.is_file():
            raise ConfigError(CONFIG_FILE_VARIABLE, f"no such file: {config_file}")
    if config_file is None:
        candidate = Path(DEFAULT_CONFIG_FILE)
        if not candidate.is_file():
            return {}, DEFAULT_CONFIG_FILE
        config_file = candidate
    try:
        with config_file.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(str(config_file), f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(config_file), f"invalid TOML: {exc}") from None
    return _flatten(data, config_file, environ), str(config_file)


def _flatten(data: dict[str, Any], config_file: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """Map [branding] and the running environment's [connect.<env>] onto flat settings."""
    flat: dict[str, Any] = {}
    branding = data.pop(BRANDING_SECTION, {})
    connect = data.pop(CONNECT_SECTION, {})
    flat.update(_billing(data.pop(BILLING_SECTION, None), config_file))
    for key in data:
        if key not in Settings.model_fields:
            raise ConfigError(f"{config_file}: {key}", _unknown(key, Settings.model_fields))
    flat.update(data)
    if not isinstance(branding, dict) or not isinstance(connect, dict):
        raise ConfigError(f"{config_file}: {BRANDING_SECTION}/{CONNECT_SECTION}", "must be tables")
    for key, value in branding.items():
        name = f"branding_{key}"
        if name not in Settings.model_fields:
            raise ConfigError(f"{config_file}: branding.{key}", "unknown branding setting")
        flat[name] = value
    running = environ.get(ENV_PREFIX + "ENV") or data.get("env") or "development"
    for env, block in connect.items():
        where = f"{config_file}: connect.{env}"
        if env not in ("development", "production") or not isinstance(block, dict):
            raise ConfigError(where, "expected [connect.development] or [connect.production]")
        for key in block:
            if key not in CONNECT_KEYS:
                raise ConfigError(f"{where}.{key}", _unknown(key, CONNECT_KEYS))
        for uri in block.get("redirect_uris", []):
            if env == "production" and not str(uri).startswith("https://"):
                raise ConfigError(f"{where}.redirect_uris", f"production URIs must be https: {uri}")
        if env == running:
            flat.update({CONNECT_KEYS[key]: value for key, value in block.items()})
    return flat


def _billing(raw: object, config_file: Path) -> dict[str, BillingConfig]:
    """Return the [billing] section as the `billing` setting (nothing when it is absent)."""
    if raw is None:
        return {}
    try:
        return {"billing": parse_billing(raw)}
    except PlanError as error:
        raise ConfigError(f"{config_file}: {error.where}", error.problem) from None


def _read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    names = {
        ENV_PREFIX + field.upper(): field
        for field in Settings.model_fields
        if field != BILLING_SECTION  # plans are tables: revlens.toml only
    }
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_VARIABLE:
            continue
        if name.startswith(FOREIGN_PREFIXES):
            continue
        if name not in names:
            raise ConfigError(name, _unknown(name, names))
        if value != "":
            values[names[name]] = value
    return values


def _unknown(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown setting{hint}"


def _stored_secret_key(data_dir: Path) -> str:
    """Return the secret key kept in the data directory, generating it on first use."""
    path = data_dir / SECRET_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text(encoding="ascii").strip()
        else:
            key = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
    except OSError as exc:
        raise ConfigError("REVLENS_DATA_DIR", f"cannot use {data_dir}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError("REVLENS_SECRET_KEY", f"{path} is not a text file") from None
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            "REVLENS_SECRET_KEY", f"{path} holds fewer than {MIN_SECRET_LENGTH} characters"
        )
    return key


def _check_connect(settings: Settings) -> None:
    """Refuse a Connect application that cannot work: unregistered redirect, mixed modes."""
    if settings.oauth_redirect_uri not in settings.registered_redirect_uris:
        raise ConfigError(
            "REVLENS_STRIPE_REDIRECT_URIS",
            f"{settings.oauth_redirect_uri} (REVLENS_PUBLIC_URL + {OAUTH_CALLBACK_PATH}) is not "
            f"one of the registered redirect URIs: {', '.join(settings.registered_redirect_uris)}",
        )
    if settings.is_production:
        for uri in settings.registered_redirect_uris:
            if not uri.startswith("https://"):
                raise ConfigError(
                    "REVLENS_STRIPE_REDIRECT_URIS", f"production URIs must be https: {uri}"
                )
    key = settings.stripe_secret_key.get_secret_value() if settings.stripe_secret_key else None
    if key is None or settings.stripe_client_id is None:
        return
    key_mode = "live" if key.startswith(("sk_live_", "rk_live_")) else "test"
    client_mode = settings.stripe_client_id_mode or ("live" if settings.is_production else "test")
    if key_mode != client_mode:
        raise ConfigError(
            "REVLENS_STRIPE_SECRET_KEY",
            f"a {key_mode} key cannot be used with the {client_mode} client_id "
            f"{settings.stripe_client_id} of the {settings.env} environment",
        )


def _check_production(settings: Settings) -> None:
    if not settings.is_production:
        return
    if not settings.public_url.startswith("https://"):
        raise ConfigError("REVLENS_PUBLIC_URL", "must be an https:// URL in production")
    if len(settings.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
        raise ConfigError("REVLENS_SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters")


def _one_line(exc: ValidationError, sources: Mapping[str, str]) -> ConfigError:
    """Turn pydantic's report into one line that names the setting as the user wrote it."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    setting = sources.get(field, ENV_PREFIX + field.upper())
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = _unknown(field, Settings.model_fields)
    extra = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return ConfigError(setting, message + extra)
