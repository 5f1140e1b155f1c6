from django.db import migrations, models


def close_random_lists(apps, schema_editor):
    # Lists from before took random indexes; new credentials go into a fresh, shuffled list instead.
    StatusListRecord = apps.get_model("holder", "StatusListRecord")
    StatusListRecord.objects.update(allocated=models.F("size"))


class Migration(migrations.Migration):
    dependencies = [("holder", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="statuslistrecord",
            name="size",
            field=models.PositiveIntegerField(
                default=131072, help_text="How many credentials this list holds; fixed when it is made."
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="statuslistrecord",
            name="allocated",
            field=models.PositiveIntegerField(default=0, help_text="How many positions were handed out."),
        ),
        migrations.AddField(
            model_name="statuslistrecord",
            name="shuffle_key",
            field=models.BinaryField(default=b"", max_length=32, help_text="Secret that turns positions into indexes."),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="usedassertion",
            name="expires_at",
            field=models.DateTimeField(db_index=True, help_text="After this, the assertion fails verification."),
        ),
        migrations.RunPython(close_random_lists, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="statuslistrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("allocated__lte", models.F("size"))), name="allocated_within_size"
            ),
        ),
    ]
