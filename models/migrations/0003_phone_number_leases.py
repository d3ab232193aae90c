from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('trunkline', '0002_idempotency_keys')]

    initial = False

    operations = [
        ops.AddField(
            model_name='PhoneNumber',
            name='lease_expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PhoneNumber',
            name='lease_token',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
