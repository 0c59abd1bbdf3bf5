from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("secrets_app", "0014_access_reviews"),
    ]

    operations = [
        migrations.AddField(
            model_name="clustersweep",
            name="readiness",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
