# Written by hand (equivalent to `makemigrations enterprises` for the Meta.indexes change).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0007_valid_today_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='qualification',
            name='enterprises_enterpr_1cdf25_idx',
        ),
        migrations.AddIndex(
            model_name='qualification',
            index=models.Index(fields=['enterprise', 'type', 'expires_on', 'issued_on', 'revoked_on'], name='qual_enterprise_valid_idx'),
        ),
    ]
