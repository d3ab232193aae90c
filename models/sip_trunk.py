"""SIP trunks: registered by the customer (BYOC) or made on their Twilio account (one per account)."""

from tortoise import fields

from models.base import PrefixedIdModel
from models.enums import SipTransport, SipTrunkDirection, SipTrunkProvider


# The carrier side of a trunk changes under a lease (lease_token until lease_expires_at), so that
# concurrent imports and deletes in any process add and remove its numbers one at a time.
class SipTrunk(PrefixedIdModel):
    id_prefix = "trunk"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="sip_trunks", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=255)
    provider = fields.CharEnumField(SipTrunkProvider, max_length=16)
    direction = fields.CharEnumField(SipTrunkDirection, max_length=16)
    sip_address = fields.CharField(max_length=255, null=True)
    transport = fields.CharEnumField(SipTransport, max_length=8, default=SipTransport.AUTO)
    auth_username = fields.CharField(max_length=255, null=True)
    auth_password_encrypted = fields.TextField(null=True)
    allowed_addresses = fields.JSONField(default=list)
    # Provider TWILIO: the customer's account this trunk was made on (one shared trunk per account).
    twilio_account = fields.OneToOneField(
        "trunkline.TwilioAccount", related_name="shared_trunk", null=True, on_delete=fields.RESTRICT
    )
    twilio_trunk_sid = fields.CharField(max_length=34, null=True)
    twilio_domain_name = fields.CharField(max_length=255, null=True)
    twilio_origination_url_sid = fields.CharField(max_length=34, null=True)
    twilio_credential_list_sid = fields.CharField(max_length=34, null=True)
    livekit_inbound_trunk_id = fields.CharField(max_length=64, null=True)
    livekit_outbound_trunk_id = fields.CharField(max_length=64, null=True)
    lease_token = fields.CharField(max_length=32, null=True)
    lease_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sip_trunk"
