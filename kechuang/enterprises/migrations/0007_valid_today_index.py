# Written by hand (makemigrations was blocked by another app's in-progress migrations);
# equivalent to `makemigrations enterprises` for the Meta.indexes change.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0006_register_version'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='qualification',
            index=models.Index(fields=['type', 'expires_on', 'issued_on', 'revoked_on', 'enterprise'], name='qual_type_expiry_idx'),
        ),
    ]
