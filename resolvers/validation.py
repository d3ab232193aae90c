"""Pure input checks shared by the mutations: each returns the problems it finds, never does I/O."""

from __future__ import annotations

import re

import phonenumbers

from models.ids import is_valid_id
from resolvers.outcomes import FieldCode, FieldProblem

LABEL_MAX_LENGTH = 255
E164_MAX_DIGITS = 15  # ITU-T E.164; phonenumbers also takes some longer national numbers, which the column cannot hold
NAME_MAX_LENGTH = 255
EXAMPLE_E164 = "+12025551234"
# Unicode category Cc (C0, DEL and C1, NUL and tab and newline among them) and surrogates, which in a
# decoded str are always unpaired. PostgreSQL cannot store NUL and neither database can encode a lone
# surrogate, so refusing them up front gives one answer on both; none belongs in text shown to people.
_INVALID_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_TWILIO_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
_TWILIO_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")
_TWILIO_API_KEY_SECRET = re.compile(r"[0-9A-Za-z]{32}")


def check_text(value: str | None, field: str) -> tuple[FieldProblem, ...]:
    """Every string input: INVALID_CHARACTERS for a control character or a lone surrogate."""
    found = _INVALID_CHARACTER.search(value) if value else None
    if found is None:
        return ()
    # The code point, not the character: the value may be a secret, and the character is invisible anyway.
    message = (
        f"{field} must not contain control characters (such as NUL, tab or newline) or unpaired surrogates; "
        f"found U+{ord(found.group()):04X} at character {found.start() + 1}"
    )
    return (FieldProblem(field, FieldCode.INVALID_CHARACTERS, message),)


def check_e164(value: str, field: str = "e164") -> tuple[FieldProblem, ...]:
    """A valid number written exactly in canonical E.164 (+, country code, ASCII digits, nothing else)."""
    if problems := check_text(value, field):
        return problems
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return (FieldProblem(field, FieldCode.INVALID_FORMAT, _format_message(field, value)),)
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return (
            FieldProblem(field, FieldCode.INVALID_NUMBER, f"{field} {value!r} is not a valid phone number; expected e.g. {EXAMPLE_E164}"),
        )
    if value != canonical:
        # phonenumbers reads any script's digits; we store and compare ASCII ones only.
        how = "with ASCII digits 0-9" if not value.isascii() else "in E.164 form"
        return (FieldProblem(field, FieldCode.INVALID_FORMAT, f"{field} must be written {how}: {canonical}"),)
    if len(canonical) - 1 > E164_MAX_DIGITS:
        message = f"{field} {value!r} has {len(canonical) - 1} digits; an E.164 number has at most {E164_MAX_DIGITS}"
        return (FieldProblem(field, FieldCode.INVALID_NUMBER, message),)
    return ()


def _format_message(field: str, value: str) -> str:
    """Suggest the E.164 form when the value reads as a US number written another way."""
    try:
        guess = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        guess = None
    if guess is not None and phonenumbers.is_valid_number(guess):
        suggestion = phonenumbers.format_number(guess, phonenumbers.PhoneNumberFormat.E164)
        return f"{field} must be in E.164 form, e.g. {suggestion} (not {value!r})"
    return f"{field} must be in E.164 form: +, country code and number, e.g. {EXAMPLE_E164} (not {value!r})"


def region_of(e164: str) -> str | None:
    """The ISO region of a valid E.164 number, e.g. "US"."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))


def check_label(label: str | None, field: str = "label") -> tuple[FieldProblem, ...]:
    if problems := check_text(label, field):
        return problems
    if label is not None and len(label) > LABEL_MAX_LENGTH:
        return (FieldProblem(field, FieldCode.TOO_LONG, f"{field} must be at most {LABEL_MAX_LENGTH} characters, not {len(label)}"),)
    return ()


def check_name(name: str, field: str = "name") -> tuple[FieldProblem, ...]:
    """A display name: 1 to NAME_MAX_LENGTH characters once surrounding spaces are stripped."""
    if problems := check_text(name, field):
        return problems
    stripped = name.strip()
    if not stripped:
        return (FieldProblem(field, FieldCode.REQUIRED, f"{field} must not be empty"),)
    if len(stripped) > NAME_MAX_LENGTH:
        return (FieldProblem(field, FieldCode.TOO_LONG, f"{field} must be at most {NAME_MAX_LENGTH} characters, not {len(stripped)}"),)
    return ()


def check_id_shape(value: str | None, prefix: str, field: str) -> tuple[FieldProblem, ...]:
    if value is not None and not is_valid_id(value, prefix):
        return (
            FieldProblem(field, FieldCode.INVALID_FORMAT, f"{field} must be {prefix}_ followed by 26 Crockford base32 characters"),
        )
    return ()


def not_found(field: str, kind: str, value: str) -> FieldProblem:
    """A reference naming nothing in this workspace; another workspace's id reads exactly the same."""
    return FieldProblem(field, FieldCode.NOT_FOUND, f"no {kind} {value} in this workspace")


def check_twilio_credentials(
    account_sid: str,
    auth_token: str | None,
    prefix: str = "twilio",
    *,
    api_key_sid: str | None = None,
    api_key_secret: str | None = None,
) -> tuple[FieldProblem, ...]:
    """The account SID, and exactly one of: the auth token, or an API key's SID and secret.
    No message ever echoes a secret, not even a malformed one."""
    sid_message = "accountSid must be AC followed by 32 hexadecimal characters"
    problems = [*_check_shape(account_sid, f"{prefix}.accountSid", _TWILIO_ACCOUNT_SID, sid_message)]
    token_field, key_field, secret_field = f"{prefix}.authToken", f"{prefix}.apiKeySid", f"{prefix}.apiKeySecret"
    key_given = api_key_sid is not None or api_key_secret is not None
    if auth_token is not None and key_given:
        message = "give authToken, or apiKeySid with apiKeySecret, not both"
        return (*problems, FieldProblem(token_field, FieldCode.NOT_ALLOWED, message))
    if auth_token is None and not key_given:
        message = "authToken, or apiKeySid with apiKeySecret, is required"
        return (*problems, FieldProblem(token_field, FieldCode.REQUIRED, message))
    if auth_token is not None:
        token_message = "authToken must be 32 hexadecimal characters"
        return (*problems, *_check_shape(auth_token, token_field, _TWILIO_AUTH_TOKEN, token_message))
    if api_key_sid is None:
        problems.append(FieldProblem(key_field, FieldCode.REQUIRED, "apiKeySid is required with apiKeySecret"))
    else:
        key_message = "apiKeySid must be SK followed by 32 hexadecimal characters"
        problems += _check_shape(api_key_sid, key_field, _TWILIO_API_KEY_SID, key_message)
    if api_key_secret is None:
        problems.append(FieldProblem(secret_field, FieldCode.REQUIRED, "apiKeySecret is required with apiKeySid"))
    else:
        secret_message = "apiKeySecret must be 32 letters and digits"
        problems += _check_shape(api_key_secret, secret_field, _TWILIO_API_KEY_SECRET, secret_message)
    return tuple(problems)


def _check_shape(value: str, field: str, shape: re.Pattern[str], message: str) -> tuple[FieldProblem, ...]:
    """INVALID_CHARACTERS or INVALID_FORMAT; neither message includes the value, which may be a secret."""
    if problems := check_text(value, field):
        return problems
    return () if shape.fullmatch(value) else (FieldProblem(field, FieldCode.INVALID_FORMAT, message),)
