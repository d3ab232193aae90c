"""Settings read from the environment once, validated at start with messages that name the variable."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from limits import parse_many
from starlette.datastructures import Secret

DEFAULT_DATABASE_URL = "sqlite://./trunkline.sqlite3"
ENVIRONMENTS = ("development", "production")
MIB = 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[^/?#\s@:\[\]]+)(:\d{1,5})?")
T = TypeVar("T")
D = TypeVar("D")


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
    carrier_retry_base: float = 0.25  # the first retry of a carrier call waits up to this, doubling after each
    recovery_grace: float = 600.0
    recovery_interval: float = 60.0
    health_check_interval: float | None = None  # seconds between health checks of every ACTIVE number; None: off
    lease: float = 120.0
    env: str = "development"
    log_format: str = "text"
    metrics: bool = True
    max_body_bytes: int = MIB
    request_read_timeout: float = 10.0
    max_connections: int = 1000
    ws_max_connections: int = 500  # WebSocket connections per process (app/subscriptions.py)
    ws_max_connections_per_workspace: int = 20  # per workspace, per process
    ws_max_message_bytes: int = 64 * 1024
    rate_limit: str = "600/minute"
    auth_failure_limit: str = "30/minute"
    redis_url: Secret | None = None
    redis_prefix: str = "trunkline"
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    webhook_allow_private: bool = False  # http:// and private addresses allowed as webhook targets
    webhook_interval: float = 2.0  # seconds between delivery passes
    webhook_timeout: float = 10.0  # for a receiver's answer
    webhook_retry_base: float = 5.0  # the first retry's delay, doubling after each failure
    webhook_retry_max: float = 3600.0
    webhook_give_up_after: float = 86400.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def read(name: str, kind: Kind[T], default: D) -> T | D:
            return _read(env, name, kind, default)

        providers = read("TRUNKLINE_PROVIDERS", one_of("sandbox", "live"), "sandbox")
        environment = read("TRUNKLINE_ENV", one_of(*ENVIRONMENTS), "development")
        production = environment == "production"
        introspection = read("TRUNKLINE_INTROSPECTION", BOOLEAN, not production)
        if production and introspection:
            raise SettingsError("TRUNKLINE_INTROSPECTION must be false (or unset) with TRUNKLINE_ENV=production")
        settings = cls(
            database_url=read("TRUNKLINE_DATABASE_URL", DATABASE_URL, DEFAULT_DATABASE_URL),
            providers=providers,
            secret_key=_secret(read("TRUNKLINE_SECRET_KEY", TEXT, None)),
            phone_number_limit=read("TRUNKLINE_PHONE_NUMBER_LIMIT", COUNT, 100),
            introspection=introspection,
            livekit_url=read("LIVEKIT_URL", TEXT, None),
            livekit_api_key=read("LIVEKIT_API_KEY", TEXT, None),
            livekit_api_secret=_secret(read("LIVEKIT_API_SECRET", TEXT, None)),
            livekit_sip_uri=read("LIVEKIT_SIP_URI", TEXT, None),
            twilio_api_base_url=read("TWILIO_API_BASE_URL", HTTP_URL, "https://api.twilio.com"),
            twilio_trunking_base_url=read("TWILIO_TRUNKING_BASE_URL", HTTP_URL, "https://trunking.twilio.com"),
            twilio_account_sid=read("TWILIO_ACCOUNT_SID", TEXT, None),
            twilio_auth_token=_secret(read("TWILIO_AUTH_TOKEN", TEXT, None)),
            sandbox_state=read("TRUNKLINE_SANDBOX_STATE", TEXT, None),
            sandbox_url=read("TRUNKLINE_SANDBOX_URL", HTTP_URL, None),
            provider_timeout=read("TRUNKLINE_PROVIDER_TIMEOUT", SECONDS, 10.0),
            carrier_retry_base=read("TRUNKLINE_CARRIER_RETRY_BASE", SECONDS, 0.25),
            recovery_grace=read("TRUNKLINE_RECOVERY_GRACE", SECONDS, 600.0),
            recovery_interval=read("TRUNKLINE_RECOVERY_INTERVAL", SECONDS, 60.0),
            health_check_interval=read("TRUNKLINE_HEALTH_CHECK_INTERVAL", SECONDS, None),
            lease=read("TRUNKLINE_LEASE", SECONDS, 120.0),
            env=environment,
            log_format=log_format_from_env(env),
            metrics=read("TRUNKLINE_METRICS", BOOLEAN, True),
            max_body_bytes=read("TRUNKLINE_MAX_BODY_BYTES", COUNT, MIB),
            request_read_timeout=read("TRUNKLINE_REQUEST_READ_TIMEOUT", SECONDS, 10.0),
            max_connections=read("TRUNKLINE_MAX_CONNECTIONS", COUNT, 1000),
            ws_max_connections=read("TRUNKLINE_WS_MAX_CONNECTIONS", COUNT, 500),
            ws_max_connections_per_workspace=read("TRUNKLINE_WS_MAX_CONNECTIONS_PER_WORKSPACE", COUNT, 20),
            ws_max_message_bytes=read("TRUNKLINE_WS_MAX_MESSAGE_BYTES", COUNT, 64 * 1024),
            rate_limit=read("TRUNKLINE_RATE_LIMIT", RATE, "600/minute"),
            auth_failure_limit=read("TRUNKLINE_AUTH_FAILURE_LIMIT", RATE, "30/minute"),
            redis_url=_secret(read("TRUNKLINE_REDIS_URL", REDIS_URL, None)),
            redis_prefix=read("TRUNKLINE_REDIS_PREFIX", TEXT, "trunkline"),
            trusted_proxies=_read_list(env, "TRUNKLINE_TRUSTED_PROXIES", NETWORK),
            cors_origins=_origins(env),
            webhook_allow_private=read("TRUNKLINE_WEBHOOK_ALLOW_PRIVATE", BOOLEAN, False),
            webhook_interval=read("TRUNKLINE_WEBHOOK_INTERVAL", SECONDS, 2.0),
            webhook_timeout=read("TRUNKLINE_WEBHOOK_TIMEOUT", SECONDS, 10.0),
            webhook_retry_base=read("TRUNKLINE_WEBHOOK_RETRY_BASE", SECONDS, 5.0),
            webhook_retry_max=read("TRUNKLINE_WEBHOOK_RETRY_MAX", SECONDS, 3600.0),
            webhook_give_up_after=read("TRUNKLINE_WEBHOOK_GIVE_UP_AFTER", SECONDS, 86400.0),
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


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of setting: how its text becomes a value, and what to say when it cannot."""

    parse: Callable[[str], T]  # raises ValueError for a value it refuses
    must_be: str  # completes "NAME must be …"
    shown: Callable[[str], str] = repr  # how a refused value is quoted; URLs that may hold a password show less


def _read(env: Mapping[str, str], name: str, kind: Kind[T], default: D) -> T | D:
    """env[name] as `kind`; `default` when it is unset or blank."""
    raw = (env.get(name) or "").strip()
    return _parse(name, raw, kind) if raw else default


def _read_list(env: Mapping[str, str], name: str, kind: Kind[T]) -> tuple[T, ...]:
    """env[name] as comma-separated items of `kind`; blank items are skipped."""
    return tuple(_parse(name, part.strip(), kind) for part in (env.get(name) or "").split(",") if part.strip())


def _parse(name: str, raw: str, kind: Kind[T]) -> T:
    try:
        return kind.parse(raw)
    except ValueError:
        raise _refused(name, kind, raw) from None


def _refused(name: str, kind: Kind, raw: str) -> SettingsError:
    return SettingsError(f"{name} must be {kind.must_be}, not {kind.shown(raw)}")


def _checked(parse: Callable[[str], T], holds: Callable[[T], bool]) -> Callable[[str], T]:
    """`parse`, refusing a value for which `holds` is false as if it had not parsed."""

    def checked(raw: str) -> T:
        value = parse(raw)
        if not holds(value):
            raise ValueError(raw)
        return value

    return checked


def one_of(*choices: str) -> Kind[str]:
    """One of `choices`, in any case; the value is lowercased."""
    return Kind(_checked(str.lower, lambda value: value in choices), " or ".join(map(repr, choices)))


def _boolean(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(raw)


def _rate(raw: str) -> str:
    """A rate in the limits library's notation, e.g. 600/minute or "10/second;600/hour"."""
    items = parse_many(raw)
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(raw)
    return raw


def _url(schemes: tuple[str, ...], must_be: str) -> Kind[str]:
    """A url with one of `schemes`; a refused one is shown by its scheme only, as it may hold a password."""
    return Kind(
        _checked(str, lambda url: _scheme(url) in schemes),
        must_be,
        shown=lambda url: f"one with scheme {_scheme(url) or '(none)'!r}",
    )


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else ""


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(raw)
    return raw.rstrip("/")


TEXT = Kind(str, "text")
COUNT = Kind(_checked(int, lambda value: value >= 1), "a whole number of at least 1")
SECONDS = Kind(_checked(float, lambda value: value > 0), "a number of seconds above 0")
BOOLEAN = Kind(_boolean, "true or false")
RATE = Kind(_rate, "a rate such as 600/minute, 10/second or 10/second;600/hour (limits notation)")
HTTP_URL = Kind(_http_url, "an http:// or https:// url")
DATABASE_URL = _url(
    ("sqlite", "postgres", "asyncpg", "psycopg"), "a sqlite://PATH or postgres://USER@HOST:PORT/DB url"
)
REDIS_URL = _url(("redis", "rediss", "unix"), "a redis://, rediss:// or unix:// url")
# 10.0.0.7 becomes 10.0.0.7/32.
NETWORK = Kind(lambda raw: str(ipaddress.ip_network(raw, strict=False)), "comma-separated IP addresses or CIDR blocks")
# As browsers send them: scheme://host[:port], no path, lowercase; or * alone.
ORIGIN = Kind(
    _checked(str.lower, lambda origin: origin == "*" or _ORIGIN.fullmatch(origin) is not None),
    "comma-separated origins such as https://app.example.com (scheme, host and port, no path), or * alone",
)


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = _read_list(env, "TRUNKLINE_CORS_ORIGINS", ORIGIN)
    if "*" in origins and len(origins) > 1:
        raise _refused("TRUNKLINE_CORS_ORIGINS", ORIGIN, "*")
    return origins


def log_format_from_env(env: Mapping[str, str]) -> str:
    """TRUNKLINE_LOG_FORMAT: json for log collectors, the default in production; text otherwise."""
    production = (env.get("TRUNKLINE_ENV") or "").strip().lower() == "production"
    return _read(env, "TRUNKLINE_LOG_FORMAT", one_of("json", "text"), "json" if production else "text")
