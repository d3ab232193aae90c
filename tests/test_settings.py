"""Settings come from the environment and a bad value stops the start with a message naming it."""

import pytest

from app.settings import Settings, SettingsError


def test_defaults_are_sqlite_and_sandbox_carriers():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite://./trunkline.sqlite3"
    assert (settings.providers, settings.phone_number_limit, settings.introspection) == ("sandbox", 100, True)
    assert (settings.provider_timeout, settings.carrier_retry_base) == (10.0, 0.25)


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"TRUNKLINE_PHONE_NUMBER_LIMIT": "lots"}, "TRUNKLINE_PHONE_NUMBER_LIMIT must be a whole number of at least 1, not 'lots'"),
        ({"TRUNKLINE_PHONE_NUMBER_LIMIT": "0"}, "TRUNKLINE_PHONE_NUMBER_LIMIT must be a whole number of at least 1, not '0'"),
        ({"TRUNKLINE_PROVIDERS": "prod"}, "TRUNKLINE_PROVIDERS must be 'sandbox' or 'live', not 'prod'"),
        ({"TRUNKLINE_INTROSPECTION": "maybe"}, "TRUNKLINE_INTROSPECTION must be true or false, not 'maybe'"),
        ({"TRUNKLINE_DATABASE_URL": "mysql://db/x"}, "TRUNKLINE_DATABASE_URL must be a sqlite://PATH or postgres://"),
        ({"TWILIO_API_BASE_URL": "api.twilio.com"}, "TWILIO_API_BASE_URL must be an http:// or https:// url"),
        ({"TRUNKLINE_PROVIDER_TIMEOUT": "-1"}, "TRUNKLINE_PROVIDER_TIMEOUT must be a number of seconds above 0"),
        ({"TRUNKLINE_CARRIER_RETRY_BASE": "soon"}, "TRUNKLINE_CARRIER_RETRY_BASE must be a number of seconds above 0"),
        ({"TRUNKLINE_PROVIDERS": "live"}, "TRUNKLINE_PROVIDERS=live needs TRUNKLINE_SECRET_KEY, LIVEKIT_URL"),
    ],
    ids=[
        "limit-text", "limit-zero", "providers", "introspection", "database-scheme", "twilio-url", "timeout", "retry-base",
        "live-missing",
    ],
)
def test_bad_value_is_refused_with_a_message_naming_the_variable(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith(message)


def test_secrets_never_print():
    settings = Settings.from_env(
        {
            "TRUNKLINE_DATABASE_URL": "postgres://app:db-password-1@db:5432/trunkline",
            "TRUNKLINE_SECRET_KEY": "secret-key-material",
            "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef",
            "LIVEKIT_API_SECRET": "livekit-secret-value",
        }
    )
    shown = repr(settings) + str(settings)
    for secret in ("db-password-1", "secret-key-material", "0123456789abcdef0123456789abcdef", "livekit-secret-value"):
        assert secret not in shown
