"""SIP trunks: registered by the customer (BYOC) or made on their Twilio account."""

from tortoise import fields

from models.base import PrefixedIdModel
from models.enums import SipTransport, SipTrunkDirection, SipTrunkProvider


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
    twilio_account = fields.ForeignKeyField(
        "trunkline.TwilioAccount", related_name="trunks", null=True, on_delete=fields.RESTRICT
    )
    twilio_trunk_sid = fields.CharField(max_length=34, null=True)
    livekit_inbound_trunk_id = fields.CharField(max_length=64, null=True)
    livekit_outbound_trunk_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "sip_trunk"
