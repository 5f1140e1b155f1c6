from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("holder", "0005_retries_and_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="correctionrequest",
            name="item",
            field=models.JSONField(
                help_text="For a field in a list: the whole item as it was then, to find it again on accept.",
                null=True,
            ),
        ),
    ]
