"""Tortoise models of Trunkline (app label `trunkline`; migrations in models.migrations).

Model classes carry comments, not docstrings: Tortoise turns a class docstring into a
table comment, which its SQLite migrations do not quote.
"""

from models.agent import Agent
from models.carrier_step import CarrierStep, StepState
from models.events import (
    PhoneNumberEvent,
    PhoneNumberEventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from models.idempotency_key import IdempotencyKey, IdempotencyState
from models.phone_number import PhoneNumber
from models.sip_trunk import SipTrunk
from models.twilio_account import TwilioAccount
from models.workspace import ApiKey, Workspace

__all__ = [
    "Agent", "ApiKey", "CarrierStep", "IdempotencyKey", "IdempotencyState", "StepState", "PhoneNumber", "PhoneNumberEvent",
    "PhoneNumberEventType", "SipTrunk", "TwilioAccount", "WebhookDelivery", "WebhookEndpoint", "Workspace",
]
