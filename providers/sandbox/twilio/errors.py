"""Twilio's error codes and the error the emulator raises to answer with one."""

from __future__ import annotations

# Codes Twilio documents for these cases. For a missing or malformed parameter Twilio's own
# per-field code is not documented, so the generic 20001 stands in; attaching a number that is
# already on a trunk uses 21245 from the same trunking range as 21248.
AUTHENTICATE = 20003
MISSING_PARAMETER = 20001
NOT_FOUND = 20404
INVALID_DOMAIN = 21232
NUMBER_ON_TRUNK = 21245
DOMAIN_TAKEN = 21248
NUMBER_INVALID = 21421
NUMBER_NOT_AVAILABLE = 21422


class TwilioError(Exception):
    """An error answer: HTTP status, Twilio error code, message and extra headers."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def invalid_parameter(message: str) -> TwilioError:
    return TwilioError(400, MISSING_PARAMETER, message)


def missing_parameter(name: str) -> TwilioError:
    return invalid_parameter(f"Missing required parameter {name} in the post body")


def resource_not_found(what: str) -> TwilioError:
    """404 for `what`: a request path, or a resource named in the request body."""
    return TwilioError(404, NOT_FOUND, f"The requested resource {what} was not found")
