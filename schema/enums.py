"""GraphQL enums. Each member's value is the value models.enums stores, so either converts to the other by
value: SipTrunkProvider(row.provider) on the way out, StoredSource(source.value) on the way in."""

from enum import Enum

import strawberry


@strawberry.enum(description="Where a number came from; decides how it is provisioned and released.")
class PhoneNumberSource(Enum):
    LIVEKIT = strawberry.enum_value("LIVEKIT", description="LiveKit bought the number for the workspace; US, inbound only.")
    TWILIO = strawberry.enum_value(
        "TWILIO", description="The customer's own Twilio number, bridged through an Elastic SIP Trunk."
    )
    BYOC = strawberry.enum_value("BYOC", description="Any SIP provider, through a trunk the customer registered.")
    TWILIO_PURCHASED = strawberry.enum_value(
        "TWILIO_PURCHASED", description="Bought through purchasePhoneNumber on the platform's Twilio account."
    )
    VERIFIED_CALLER_ID = strawberry.enum_value(
        "VERIFIED_CALLER_ID",
        description="Set by the server: a Twilio verified outbound caller ID; outbound only, never bound to an agent.",
    )


@strawberry.enum(description="What a number can do.")
class PhoneNumberCapability(Enum):
    INBOUND = strawberry.enum_value("INBOUND", description="Receives calls.")
    OUTBOUND = strawberry.enum_value("OUTBOUND", description="Places calls as caller ID.")


@strawberry.enum(description="Where a number is in its life.")
class PhoneNumberStatus(Enum):
    PROVISIONING = strawberry.enum_value("PROVISIONING", description="Carrier-side work is in flight.")
    ACTIVE = strawberry.enum_value("ACTIVE", description="Ready for calls.")
    RELEASING = strawberry.enum_value("RELEASING", description="Being removed at the carriers.")


@strawberry.enum(description="Who runs a SIP trunk.")
class SipTrunkProvider(Enum):
    TWILIO = strawberry.enum_value("TWILIO", description="Made by the server on the customer's Twilio account.")
    BYOC = strawberry.enum_value("BYOC", description="Registered by the customer.")


@strawberry.enum(description="Which way calls flow over a SIP trunk.")
class SipTrunkDirection(Enum):
    INBOUND = strawberry.enum_value("INBOUND", description="Calls come in from the carrier.")
    OUTBOUND = strawberry.enum_value("OUTBOUND", description="Calls go out to the carrier.")
    BOTH = strawberry.enum_value("BOTH", description="Both ways.")


@strawberry.enum(description="SIP transport for outbound calls.")
class SipTransport(Enum):
    AUTO = strawberry.enum_value("AUTO", description="Let the SIP stack choose.")
    UDP = strawberry.enum_value("UDP", description="UDP.")
    TCP = strawberry.enum_value("TCP", description="TCP.")
    TLS = strawberry.enum_value("TLS", description="TLS.")


@strawberry.enum(description="A carrier the server talks to.")
class Provider(Enum):
    TWILIO = strawberry.enum_value("TWILIO", description="Twilio.")
    LIVEKIT = strawberry.enum_value("LIVEKIT", description="LiveKit.")


@strawberry.enum(description="What happened to a phone number; the type of a lifecycle event and of a webhook delivery.")
class PhoneNumberEventType(Enum):
    IMPORTED = strawberry.enum_value(
        "IMPORTED", description="A number was imported or purchased and is ACTIVE (webhook type phone_number.imported)."
    )
    UPDATED = strawberry.enum_value("UPDATED", description="A number's label or agent changed (phone_number.updated).")
    DELETED = strawberry.enum_value("DELETED", description="A number was released and removed (phone_number.deleted).")
    PROVISIONING_FAILED = strawberry.enum_value(
        "PROVISIONING_FAILED",
        description="An import was undone, or given up by recovery; the number was not kept (phone_number.provisioning_failed).",
    )
    HEALTH_CHANGED = strawberry.enum_value(
        "HEALTH_CHANGED", description="A health check found a number newly healthy or unhealthy (phone_number.health_changed)."
    )

