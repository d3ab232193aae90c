"""The key that encrypts carrier secrets: from the environment, or a private file beside SQLite in sandbox mode."""

import stat

import pytest
from cryptography.fernet import Fernet
from starlette.datastructures import Secret

from app.secret_key import key_file_for, load_secret_box
from app.settings import Settings, SettingsError


def test_sandbox_on_sqlite_makes_a_private_key_file_once_and_reuses_it(tmp_path):
    settings = Settings(database_url=f"sqlite://{tmp_path}/trunkline.sqlite3")

    first = load_secret_box(settings)
    sealed = first.encrypt("0123456789abcdef0123456789abcdef")
    second = load_secret_box(settings)

    key_file = key_file_for(settings)
    assert key_file == tmp_path / "trunkline.sqlite3.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second.decrypt(sealed) == "0123456789abcdef0123456789abcdef"
    assert "0123456789abcdef" not in sealed


def test_a_configured_key_is_used_and_keys_can_be_rotated(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_with_old = load_secret_box(Settings(database_url="postgres://db/x", secret_key=Secret(old))).encrypt("token")

    rotated = load_secret_box(Settings(database_url="postgres://db/x", secret_key=Secret(f"{new},{old}")))

    assert rotated.decrypt(sealed_with_old) == "token"
    assert Fernet(new.encode()).decrypt(rotated.encrypt("token").encode()) == b"token"
    assert not (tmp_path / "trunkline.sqlite3.key").exists()


@pytest.mark.parametrize(
    "settings",
    [
        Settings(database_url="postgres://db/x"),
        Settings(database_url="sqlite://:memory:"),
        Settings(database_url="sqlite://./x.sqlite3", providers="live"),
    ],
    ids=["postgres", "in-memory-sqlite", "live"],
)
def test_without_a_key_file_beside_sqlite_a_key_must_be_set(settings):
    with pytest.raises(SettingsError, match="TRUNKLINE_SECRET_KEY must be set"):
        load_secret_box(settings)


def test_a_malformed_key_is_refused_with_how_to_make_one():
    with pytest.raises(SettingsError, match="Fernet.generate_key"):
        load_secret_box(Settings(database_url="postgres://db/x", secret_key=Secret("not-a-key")))
