"""Settings read from the environment once, validated at start with messages that name the variable."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from limits import parse_many
from starlette.datastructures import Secret

DEFAULT_DATABASE_URL = "sqlite://./trunkline.sqlite3"
ENVIRONMENTS = ("development", "production")
MIB = 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[^/?#\s@:\[\]]+)(:\d{1,5})?")


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may carry a password
    providers: str = "sandbox"
    secret_key: Secret | None = None
    phone_number_limit: int = 100
    introspection: bool = True
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: Secret | None = None
    livekit_sip_uri: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_trunking_base_url: str = "https://trunking.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: Secret | None = None
    sandbox_state: str | None = None
    sandbox_url: str | None = None
    provider_timeout: float = 10.0
    recovery_grace: float = 600.0
    recovery_interval: float = 60.0
    lease: float = 120.0
    env: str = "development"
    log_format: str = "text"
    metrics: bool = True
    max_body_bytes: int = MIB
    request_read_timeout: float = 10.0
    max_connections: int = 1000
    rate_limit: str = "600/minute"
    auth_failure_limit: str = "30/minute"
    redis_url: Secret | None = None
    redis_prefix: str = "trunkline"
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731

        providers = (get("TRUNKLINE_PROVIDERS") or "sandbox").lower()
        if providers not in ("sandbox", "live"):
            raise SettingsError(f"TRUNKLINE_PROVIDERS must be 'sandbox' or 'live', not {providers!r}")
        environment = (get("TRUNKLINE_ENV") or "development").lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"TRUNKLINE_ENV must be 'development' or 'production', not {environment!r}")
        production = environment == "production"
        introspection = _boolean(env, "TRUNKLINE_INTROSPECTION", not production)
        if production and introspection:
            raise SettingsError("TRUNKLINE_INTROSPECTION must be false (or unset) with TRUNKLINE_ENV=production")
        settings = cls(
            database_url=_database_url(get("TRUNKLINE_DATABASE_URL") or DEFAULT_DATABASE_URL),
            providers=providers,
            secret_key=_secret(get("TRUNKLINE_SECRET_KEY")),
            phone_number_limit=_positive_int(env, "TRUNKLINE_PHONE_NUMBER_LIMIT", 100),
            introspection=introspection,
            livekit_url=get("LIVEKIT_URL"),
            livekit_api_key=get("LIVEKIT_API_KEY"),
            livekit_api_secret=_secret(get("LIVEKIT_API_SECRET")),
            livekit_sip_uri=get("LIVEKIT_SIP_URI"),
            twilio_api_base_url=_http_url(env, "TWILIO_API_BASE_URL", "https://api.twilio.com"),
            twilio_trunking_base_url=_http_url(env, "TWILIO_TRUNKING_BASE_URL", "https://trunking.twilio.com"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_secret(get("TWILIO_AUTH_TOKEN")),
            sandbox_state=get("TRUNKLINE_SANDBOX_STATE"),
            sandbox_url=_http_url(env, "TRUNKLINE_SANDBOX_URL", "") or None,
            provider_timeout=_positive_float(env, "TRUNKLINE_PROVIDER_TIMEOUT", 10.0),
            recovery_grace=_positive_float(env, "TRUNKLINE_RECOVERY_GRACE", 600.0),
            recovery_interval=_positive_float(env, "TRUNKLINE_RECOVERY_INTERVAL", 60.0),
            lease=_positive_float(env, "TRUNKLINE_LEASE", 120.0),
            env=environment,
            log_format=log_format_from_env(env),
            metrics=_boolean(env, "TRUNKLINE_METRICS", True),
            max_body_bytes=_positive_int(env, "TRUNKLINE_MAX_BODY_BYTES", MIB),
            request_read_timeout=_positive_float(env, "TRUNKLINE_REQUEST_READ_TIMEOUT", 10.0),
            max_connections=_positive_int(env, "TRUNKLINE_MAX_CONNECTIONS", 1000),
            rate_limit=_rate(env, "TRUNKLINE_RATE_LIMIT", "600/minute"),
            auth_failure_limit=_rate(env, "TRUNKLINE_AUTH_FAILURE_LIMIT", "30/minute"),
            redis_url=_secret(_redis_url(get("TRUNKLINE_REDIS_URL"))),
            redis_prefix=get("TRUNKLINE_REDIS_PREFIX") or "trunkline",
            trusted_proxies=_networks(get("TRUNKLINE_TRUSTED_PROXIES")),
            cors_origins=_origins(get("TRUNKLINE_CORS_ORIGINS")),
        )
        if settings.is_production:
            settings.check_production()
        if settings.is_live:
            settings.check_live()
        return settings

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_live(self) -> bool:
        return self.providers == "live"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database, None for PostgreSQL or an in-memory database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.removeprefix("sqlite://").split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)

    def check_production(self) -> None:
        """Production runs on real carriers, a key of its own for stored secrets, and PostgreSQL."""
        missing = [
            requirement
            for requirement, met in (
                ("TRUNKLINE_PROVIDERS=live", self.is_live),
                ("TRUNKLINE_SECRET_KEY", self.secret_key is not None),
                ("a postgres:// TRUNKLINE_DATABASE_URL", not self.is_sqlite),
            )
            if not met
        ]
        if missing:
            raise SettingsError(f"TRUNKLINE_ENV=production needs {', '.join(missing)}")

    def check_live(self) -> None:
        """Live carriers need their credentials and a key for stored secrets."""
        required = {
            "TRUNKLINE_SECRET_KEY": self.secret_key,
            "LIVEKIT_URL": self.livekit_url,
            "LIVEKIT_API_KEY": self.livekit_api_key,
            "LIVEKIT_API_SECRET": self.livekit_api_secret,
            "LIVEKIT_SIP_URI": self.livekit_sip_uri,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise SettingsError(f"TRUNKLINE_PROVIDERS=live needs {', '.join(missing)} to be set")
        if not self.livekit_sip_uri.startswith("sip:"):
            raise SettingsError(
                f"LIVEKIT_SIP_URI must look like sip:<project>.sip.livekit.cloud, not {self.livekit_sip_uri!r}"
            )


def _secret(value: str | None) -> Secret | None:
    return Secret(value) if value else None


def _database_url(value: str) -> str:
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in ("sqlite", "postgres", "asyncpg", "psycopg"):
        raise SettingsError(
            "TRUNKLINE_DATABASE_URL must be a sqlite://PATH or postgres://USER@HOST:PORT/DB url, "
            f"not one with scheme {scheme or '(none)'!r}"
        )
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of at least 1, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds above 0, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def log_format_from_env(env: Mapping[str, str]) -> str:
    """TRUNKLINE_LOG_FORMAT: json for log collectors, the default in production; text otherwise."""
    production = (env.get("TRUNKLINE_ENV") or "").strip().lower() == "production"
    raw = (env.get("TRUNKLINE_LOG_FORMAT") or "").strip().lower() or ("json" if production else "text")
    if raw not in ("json", "text"):
        raise SettingsError(f"TRUNKLINE_LOG_FORMAT must be 'json' or 'text', not {raw!r}")
    return raw


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate in the limits library's notation, e.g. 600/minute or "10/second;600/hour"."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        items = parse_many(raw)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise SettingsError(
            f"{name} must be a rate such as 600/minute, 10/second or 10/second;600/hour (limits notation), not {raw!r}"
        )
    return raw


def _redis_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        # The value may hold a password: name the scheme only.
        scheme = value.split("://", 1)[0] if "://" in value else "(none)"
        raise SettingsError(
            f"TRUNKLINE_REDIS_URL must be a redis://, rediss:// or unix:// url, not one with scheme {scheme!r}"
        )
    return value


def _networks(value: str | None) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR blocks, normalised (10.0.0.7 becomes 10.0.0.7/32)."""
    networks = []
    for part in (value or "").split(","):
        if not part.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise SettingsError(
                f"TRUNKLINE_TRUSTED_PROXIES must be comma-separated IP addresses or CIDR blocks, not {part.strip()!r}"
            ) from None
    return tuple(networks)


def _origins(value: str | None) -> tuple[str, ...]:
    """Comma-separated origins as browsers send them (scheme://host[:port], no path, lowercase), or * alone."""
    origins = tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())
    for origin in origins:
        if not (origin == "*" and len(origins) == 1) and not _ORIGIN.fullmatch(origin):
            raise SettingsError(
                "TRUNKLINE_CORS_ORIGINS must be comma-separated origins such as https://app.example.com "
                f"(scheme, host and port, no path), or * alone, not {origin!r}"
            )
    return origins


def _http_url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// url, not {raw!r}")
    return raw.rstrip("/")
