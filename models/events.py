"""The outbox of lifecycle events, and the webhook endpoints and deliveries that carry them out.

An event is written in the same transaction as the change it describes, so a change and its event are
never one without the other; deliveries are made from it afterwards, at least once.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import PrefixedIdModel


class PhoneNumberEventType(StrEnum):
    IMPORTED = "IMPORTED"  # also for purchases
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"  # an import undone, or given up by recovery
    HEALTH_CHANGED = "HEALTH_CHANGED"


# One row per change to a number; `number` is the number as the change left it (as the webhook payload's
# data.phone_number), since the row itself may be gone. `fanned_out` turns true once a delivery row was
# made for every endpoint subscribed when the event was read.
class PhoneNumberEvent(PrefixedIdModel):
    id_prefix = "evt"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="phone_number_events", on_delete=fields.CASCADE)
    type = fields.CharEnumField(PhoneNumberEventType, max_length=24)
    phone_number_id = fields.CharField(max_length=40)
    number = fields.JSONField()
    fanned_out = fields.BooleanField(default=False, db_index=True)

    class Meta:
        table = "phone_number_event"
        indexes = (("workspace_id", "id"),)


# A workspace's webhook receiver; the signing secret is encrypted (models/secret_box.py) and shown once.
class WebhookEndpoint(PrefixedIdModel):
    id_prefix = "whk"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="webhook_endpoints", on_delete=fields.CASCADE)
    url = fields.CharField(max_length=2048)
    events = fields.JSONField()  # PhoneNumberEventType values
    secret_encrypted = fields.TextField()

    class Meta:
        table = "webhook_endpoint"


# One event to one endpoint: retried with backoff until a 2xx answer or 24 hours. A worker claims an
# attempt by setting claim_token and claimed_until in one conditional update, so two never send it.
class WebhookDelivery(Model):
    id = fields.IntField(primary_key=True)
    endpoint = fields.ForeignKeyField("trunkline.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    event = fields.ForeignKeyField("trunkline.PhoneNumberEvent", related_name="deliveries", on_delete=fields.CASCADE)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claim_token = fields.CharField(max_length=32, null=True)
    claimed_until = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    given_up_at = fields.DatetimeField(null=True)
    last_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint", "event"),)
