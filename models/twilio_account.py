"""A customer's Twilio account as known to one workspace, with what opens it: the auth token, or an API
key (its SID, and its secret in the encrypted column the token uses)."""

from tortoise import fields

from models.base import PrefixedIdModel


class TwilioAccount(PrefixedIdModel):
    id_prefix = "twacct"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="twilio_accounts", on_delete=fields.CASCADE)
    account_sid = fields.CharField(max_length=34)
    # The auth token or, with api_key_sid, the API key's secret; encrypted (models/secret_box.py).
    auth_token_encrypted = fields.TextField()
    api_key_sid = fields.CharField(max_length=34, null=True)
    # When Twilio last accepted the stored credentials: an import replaces them only with ones it proved later.
    credentials_verified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "twilio_account"
        unique_together = (("workspace", "account_sid"),)
