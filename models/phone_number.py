"""Phone numbers held by workspaces, with the carrier ids needed to undo them."""

from tortoise import fields

from models.base import PrefixedIdModel
from models.enums import PhoneNumberSource, PhoneNumberStatus

# Statuses that hold one of the workspace's slots under its phone-number limit.
SLOT_HOLDING_STATUSES = (PhoneNumberStatus.PROVISIONING, PhoneNumberStatus.ACTIVE, PhoneNumberStatus.RELEASING)


class PhoneNumber(PrefixedIdModel):
    id_prefix = "phone"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="phone_numbers", on_delete=fields.CASCADE)
    # Unique on the whole server: one live row per number, enforced by the database.
    e164 = fields.CharField(max_length=16, unique=True)
    source = fields.CharEnumField(PhoneNumberSource, max_length=24)
    status = fields.CharEnumField(PhoneNumberStatus, max_length=16, default=PhoneNumberStatus.PROVISIONING)
    capabilities = fields.JSONField(default=list)
    label = fields.CharField(max_length=255, null=True)
    trunk = fields.ForeignKeyField("trunkline.SipTrunk", related_name="phone_numbers", null=True, on_delete=fields.RESTRICT)
    agent = fields.ForeignKeyField("trunkline.Agent", related_name="phone_numbers", null=True, on_delete=fields.SET_NULL)
    twilio_account = fields.ForeignKeyField(
        "trunkline.TwilioAccount", related_name="phone_numbers", null=True, on_delete=fields.RESTRICT
    )
    livekit_phone_number_id = fields.CharField(max_length=64, null=True)
    livekit_dispatch_rule_id = fields.CharField(max_length=64, null=True)
    twilio_phone_number_sid = fields.CharField(max_length=34, null=True)
    # Held while an update or delete changes the number at the carriers (resolvers/leases.py).
    lease_token = fields.CharField(max_length=32, null=True)
    lease_expires_at = fields.DatetimeField(null=True)
    # The last carrier health check (resolvers/check_phone_number.py): None until one ran.
    healthy = fields.BooleanField(null=True)
    health_checked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "phone_number"
        indexes = (("workspace_id", "id"),)
