"""Enumerations stored in the database; their values are the GraphQL enum names."""

from enum import StrEnum


class PhoneNumberSource(StrEnum):
    LIVEKIT = "LIVEKIT"
    TWILIO = "TWILIO"
    BYOC = "BYOC"
    TWILIO_PURCHASED = "TWILIO_PURCHASED"
    VERIFIED_CALLER_ID = "VERIFIED_CALLER_ID"


class PhoneNumberStatus(StrEnum):
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    RELEASING = "RELEASING"


class PhoneNumberCapability(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class SipTrunkProvider(StrEnum):
    TWILIO = "TWILIO"
    BYOC = "BYOC"


class SipTrunkDirection(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"
    BOTH = "BOTH"


class SipTransport(StrEnum):
    AUTO = "AUTO"
    UDP = "UDP"
    TCP = "TCP"
    TLS = "TLS"
