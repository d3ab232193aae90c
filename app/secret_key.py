"""Where the key for stored carrier secrets comes from: the environment, or a file beside SQLite."""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings, SettingsError
from models.secret_box import SecretBox, SecretKeyError


def key_file_for(settings: Settings) -> Path | None:
    """The sandbox key file beside a SQLite database file; None when there is no such file."""
    path = settings.sqlite_path
    return path.with_name(path.name + ".key") if path else None


def load_secret_box(settings: Settings) -> SecretBox:
    """TRUNKLINE_SECRET_KEY when set; in sandbox mode on a SQLite file, a key kept beside it."""
    try:
        return SecretBox.from_setting(secret_keys(settings))
    except SecretKeyError as exc:
        raise SettingsError(str(exc)) from None


def secret_keys(settings: Settings) -> str:
    """The comma-separated Fernet keys, first the one that encrypts; made on first use in sandbox mode."""
    if settings.secret_key:
        return str(settings.secret_key)
    key_file = key_file_for(settings)
    if settings.is_live or key_file is None:
        raise SettingsError(
            "TRUNKLINE_SECRET_KEY must be set (live carriers, or a database that is not a SQLite file); "
            'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    if not key_file.exists():
        _write_new_key(key_file)
    return key_file.read_text()


def derived_keys(settings: Settings, purpose: str) -> list[bytes]:
    """One 32-byte key per configured Fernet key, first the current one, each for `purpose` alone:
    HKDF-SHA256 separates them, so no derived key reveals anything of the key that encrypts."""
    load_secret_box(settings)  # the keys are valid Fernet keys, or a SettingsError says how to make one
    return [
        HKDF(algorithm=SHA256(), length=32, salt=None, info=f"trunkline {purpose}".encode()).derive(
            base64.urlsafe_b64decode(key.strip())
        )
        for key in secret_keys(settings).split(",")
        if key.strip()
    ]


def _write_new_key(key_file: Path) -> None:
    """Write a fresh key readable by its owner only; a concurrent writer's key wins if it was first."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(SecretBox.generate_key() + "\n")
    try:
        os.link(draft, key_file)  # atomic, and refuses to replace a key another process made
    except FileExistsError:
        pass
    finally:
        draft.unlink()
