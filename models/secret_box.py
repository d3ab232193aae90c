"""Encryption of carrier secrets at rest (Twilio auth tokens, SIP passwords) with Fernet."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(ValueError):
    """The configured key is not usable; the message says how to make one."""


class SecretBox:
    """Encrypts with the first key and decrypts with any, so keys can be rotated.

    Holds key material, so it never prints it.
    """

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyError("at least one key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except (ValueError, TypeError):
            raise SecretKeyError(
                "TRUNKLINE_SECRET_KEY must be one or more comma-separated Fernet keys (32 url-safe base64-encoded bytes); "
                'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        return cls([key for key in value.split(",") if key.strip()])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretKeyError("a stored secret cannot be decrypted with TRUNKLINE_SECRET_KEY (was the key changed?)") from None

    def __repr__(self) -> str:
        return "SecretBox(keys=**********)"
