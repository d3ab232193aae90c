from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('trunkline', '0003_phone_number_leases')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TwilioAccount',
            name='api_key_sid',
            field=fields.CharField(null=True, max_length=34),
        ),
        ops.AddField(
            model_name='TwilioAccount',
            name='credentials_verified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
