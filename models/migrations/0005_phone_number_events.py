import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.events import PhoneNumberEventType


class Migration(migrations.Migration):
    dependencies = [('trunkline', '0004_twilio_api_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PhoneNumberEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='phone_number_events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='IMPORTED: IMPORTED\nUPDATED: UPDATED\nDELETED: DELETED\nPROVISIONING_FAILED: PROVISIONING_FAILED\nHEALTH_CHANGED: HEALTH_CHANGED', enum_type=PhoneNumberEventType, max_length=24)),
                ('phone_number_id', fields.CharField(max_length=40)),
                ('number', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('fanned_out', fields.BooleanField(default=False, db_index=True)),
            ],
            options={'table': 'phone_number_event', 'app': 'trunkline', 'indexes': [Index(fields=['workspace_id', 'id'])], 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2048)),
                ('events', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret_encrypted', fields.TextField(unique=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'trunkline', 'pk_attr': 'id'},
            bases=['PrefixedIdModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('trunkline.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('trunkline.PhoneNumberEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=32)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('given_up_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'trunkline', 'unique_together': (('endpoint', 'event'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PhoneNumber',
            name='health_checked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PhoneNumber',
            name='healthy',
            field=fields.BooleanField(null=True),
        ),
    ]
