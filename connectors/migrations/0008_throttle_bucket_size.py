from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("connectors", "0007_throttle_buckets")]

    operations = [
        migrations.AddField(
            model_name="throttlebucket",
            name="size",
            field=models.FloatField(blank=True, help_text="The vendor's announced bucket size, when it sent one.", null=True),
        ),
    ]
