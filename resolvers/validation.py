"""Pure input checks shared by the mutations: each returns the problems it finds, never does I/O."""

from __future__ import annotations

import re

import phonenumbers

from models.ids import is_valid_id
from resolvers.outcomes import FieldProblem

LABEL_MAX_LENGTH = 255
EXAMPLE_E164 = "+12025551234"
_TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_TWILIO_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")


def check_e164(value: str, field: str = "e164") -> tuple[FieldProblem, ...]:
    """A valid number written exactly in canonical E.164 (+, country code, digits, nothing else)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return (FieldProblem(field, "INVALID_FORMAT", _format_message(field, value)),)
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return (
            FieldProblem(field, "INVALID_NUMBER", f"{field} {value!r} is not a valid phone number; expected e.g. {EXAMPLE_E164}"),
        )
    if value != canonical:
        return (FieldProblem(field, "INVALID_FORMAT", f"{field} must be written in E.164 form: {canonical}"),)
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
    if label is not None and len(label) > LABEL_MAX_LENGTH:
        return (FieldProblem(field, "TOO_LONG", f"{field} must be at most {LABEL_MAX_LENGTH} characters, not {len(label)}"),)
    return ()


def check_id_shape(value: str | None, prefix: str, field: str) -> tuple[FieldProblem, ...]:
    if value is not None and not is_valid_id(value, prefix):
        return (
            FieldProblem(field, "INVALID_FORMAT", f"{field} must be {prefix}_ followed by 26 Crockford base32 characters"),
        )
    return ()


def check_twilio_credentials(account_sid: str, auth_token: str, prefix: str = "twilio") -> tuple[FieldProblem, ...]:
    problems = []
    if not _TWILIO_ACCOUNT_SID.fullmatch(account_sid):
        problems.append(
            FieldProblem(f"{prefix}.accountSid", "INVALID_FORMAT", "accountSid must be AC followed by 32 hexadecimal characters")
        )
    if not _TWILIO_AUTH_TOKEN.fullmatch(auth_token):
        # Never echo the token back, not even a malformed one.
        problems.append(FieldProblem(f"{prefix}.authToken", "INVALID_FORMAT", "authToken must be 32 hexadecimal characters"))
    return tuple(problems)
