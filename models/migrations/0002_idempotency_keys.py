from tortoise import migrations
from tortoise.migrations import operations as ops
from models.idempotency_key import IdempotencyState
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('trunkline', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workspace', fields.ForeignKeyField('trunkline.Workspace', source_field='workspace_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('state', fields.CharEnumField(default=IdempotencyState.IN_PROGRESS, description='IN_PROGRESS: IN_PROGRESS\nDONE: DONE', enum_type=IdempotencyState, max_length=16)),
                ('response_body', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'idempotency_key', 'app': 'trunkline', 'unique_together': (('workspace', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
