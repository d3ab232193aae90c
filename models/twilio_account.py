"""A customer's Twilio account as known to one workspace; the auth token is encrypted at rest."""

from tortoise import fields

from models.base import PrefixedIdModel


class TwilioAccount(PrefixedIdModel):
    id_prefix = "twacct"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="twilio_accounts", on_delete=fields.CASCADE)
    account_sid = fields.CharField(max_length=34)
    auth_token_encrypted = fields.TextField()

    class Meta:
        table = "twilio_account"
        unique_together = (("workspace", "account_sid"),)
