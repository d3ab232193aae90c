"""Where the key for stored carrier secrets comes from: the environment, or a file beside SQLite."""

import os
from pathlib import Path

from app.settings import Settings, SettingsError
from resolvers.secret_box import SecretBox, SecretKeyError


def key_file_for(settings: Settings) -> Path | None:
    """The sandbox key file beside a SQLite database file; None when there is no such file."""
    path = settings.sqlite_path
    return path.with_name(path.name + ".key") if path else None


def load_secret_box(settings: Settings) -> SecretBox:
    """TRUNKLINE_SECRET_KEY when set; in sandbox mode on a SQLite file, a key kept beside it."""
    if settings.secret_key:
        try:
            return SecretBox.from_setting(str(settings.secret_key))
        except SecretKeyError as exc:
            raise SettingsError(str(exc)) from None
    key_file = key_file_for(settings)
    if settings.is_live or key_file is None:
        raise SettingsError(
            "TRUNKLINE_SECRET_KEY must be set (live carriers, or a database that is not a SQLite file); "
            'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    if not key_file.exists():
        _write_new_key(key_file)
    return SecretBox.from_setting(key_file.read_text())


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
