from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("secrets_app", "0011_binding_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="clustersweep",
            name="readiness",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
