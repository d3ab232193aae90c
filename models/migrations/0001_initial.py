from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.carrier_step import StepState
from models.enums import PhoneNumberSource, PhoneNumberStatus, SipTransport, SipTrunkDirection, SipTrunkProvider
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Workspace',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('name', fields.CharField(max_length=255)),
                ('phone_number_limit', fields.IntField()),
            ],
            options={'table': 'workspace', 'app': 'trunkline', 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='Agent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='agents', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
            ],
            options={'table': 'agent', 'app': 'trunkline', 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('prefix', fields.CharField(max_length=16)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'trunkline', 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='CarrierStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner_id', fields.CharField(db_index=True, max_length=40)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='carrier_steps', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('action', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=StepState.STARTED, description='STARTED: STARTED\nDONE: DONE', enum_type=StepState, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'carrier_step', 'app': 'trunkline', 'unique_together': (('owner_id', 'seq'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TwilioAccount',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='twilio_accounts', on_delete=OnDelete.CASCADE)),
                ('account_sid', fields.CharField(max_length=34)),
                ('auth_token_encrypted', fields.TextField(unique=False)),
            ],
            options={'table': 'twilio_account', 'app': 'trunkline', 'unique_together': (('workspace', 'account_sid'),), 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='SipTrunk',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='sip_trunks', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
                ('provider', fields.CharEnumField(description='TWILIO: TWILIO\nBYOC: BYOC', enum_type=SipTrunkProvider, max_length=16)),
                ('direction', fields.CharEnumField(description='INBOUND: INBOUND\nOUTBOUND: OUTBOUND\nBOTH: BOTH', enum_type=SipTrunkDirection, max_length=16)),
                ('sip_address', fields.CharField(null=True, max_length=255)),
                ('transport', fields.CharEnumField(default=SipTransport.AUTO, description='AUTO: AUTO\nUDP: UDP\nTCP: TCP\nTLS: TLS', enum_type=SipTransport, max_length=8)),
                ('auth_username', fields.CharField(null=True, max_length=255)),
                ('auth_password_encrypted', fields.TextField(null=True, unique=False)),
                ('allowed_addresses', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('twilio_account', fields.OneToOneField('trunkline.TwilioAccount', source_field='twilio_account_id', null=True, db_constraint=True, to_field='id', related_name='shared_trunk', on_delete=OnDelete.RESTRICT)),
                ('twilio_trunk_sid', fields.CharField(null=True, max_length=34)),
                ('twilio_domain_name', fields.CharField(null=True, max_length=255)),
                ('twilio_origination_url_sid', fields.CharField(null=True, max_length=34)),
                ('twilio_credential_list_sid', fields.CharField(null=True, max_length=34)),
                ('livekit_inbound_trunk_id', fields.CharField(null=True, max_length=64)),
                ('livekit_outbound_trunk_id', fields.CharField(null=True, max_length=64)),
                ('lease_token', fields.CharField(null=True, max_length=32)),
                ('lease_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sip_trunk', 'app': 'trunkline', 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='PhoneNumber',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.CASCADE)),
                ('e164', fields.CharField(unique=True, max_length=16)),
                ('source', fields.CharEnumField(description='LIVEKIT: LIVEKIT\nTWILIO: TWILIO\nBYOC: BYOC\nTWILIO_PURCHASED: TWILIO_PURCHASED\nVERIFIED_CALLER_ID: VERIFIED_CALLER_ID', enum_type=PhoneNumberSource, max_length=24)),
                ('status', fields.CharEnumField(default=PhoneNumberStatus.PROVISIONING, description='PROVISIONING: PROVISIONING\nACTIVE: ACTIVE\nRELEASING: RELEASING', enum_type=PhoneNumberStatus, max_length=16)),
                ('capabilities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('label', fields.CharField(null=True, max_length=255)),
                ('trunk', fields.ForeignKeyField('trunkline.SipTrunk', source_field='trunk_id', null=True, db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.RESTRICT)),
                ('agent', fields.ForeignKeyField('trunkline.Agent', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.SET_NULL)),
                ('twilio_account', fields.ForeignKeyField('trunkline.TwilioAccount', source_field='twilio_account_id', null=True, db_constraint=True, to_field='id', related_name='phone_numbers', on_delete=OnDelete.RESTRICT)),
                ('livekit_phone_number_id', fields.CharField(null=True, max_length=64)),
                ('livekit_dispatch_rule_id', fields.CharField(null=True, max_length=64)),
                ('twilio_phone_number_sid', fields.CharField(null=True, max_length=34)),
            ],
            options={'table': 'phone_number', 'app': 'trunkline', 'indexes': [Index(fields=['workspace_id', 'id'])], 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
    ]
