import django.db.models.deletion
from django.db import migrations, models

from connectors.vault import seal

# The intervals the engine kept in columns, now one schedule row per (endpoint, flow).
INTERVAL_COLUMNS = {"poll_minutes": "orders.poll", "reconcile_minutes": "stock.reconcile"}


def columns_to_settings(apps, schema_editor):
    Endpoint = apps.get_model("connectors", "Endpoint")
    EndpointSchedule = apps.get_model("connectors", "EndpointSchedule")
    SyncCursor = apps.get_model("connectors", "SyncCursor")
    for endpoint in Endpoint.objects.select_related("price_list"):
        options = dict(endpoint.settings or {})
        if endpoint.warehouse_map:
            options["warehouse_map"] = endpoint.warehouse_map
        if endpoint.price_list_id:
            options["price_list"] = endpoint.price_list.code
        endpoint.settings = options
        endpoint.credentials_sealed = seal(endpoint.credentials or {})
        endpoint.webhook_secret_sealed = seal(endpoint.webhook_secret or "")
        endpoint.save(update_fields=["settings", "credentials_sealed", "webhook_secret_sealed"])
        for column, flow in INTERVAL_COLUMNS.items():
            last_run = SyncCursor.objects.filter(endpoint=endpoint, name=f"{flow}.schedule").values_list("last_run_at", flat=True).first()
            EndpointSchedule.objects.get_or_create(endpoint=endpoint, flow=flow,
                                                   defaults={"every_minutes": getattr(endpoint, column), "last_run_at": last_run})
    SyncCursor.objects.filter(name__endswith=".schedule").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0004_pricing_generation_free_slot"),
        ("connectors", "0005_inbox_raw_bodies"),
        ("hub", "0002_import_jobs"),
    ]

    operations = [
        migrations.AddField(model_name="endpoint", name="credentials_sealed", field=models.TextField(blank=True, editable=False)),
        migrations.AddField(model_name="endpoint", name="webhook_secret_sealed", field=models.TextField(blank=True, editable=False)),
        migrations.AddField(model_name="endpoint", name="settings",
                            field=models.JSONField(blank=True, default=dict, help_text="Vendor options, validated by the connector's settings form.")),
        migrations.AlterField(
            model_name="endpoint", name="channel",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="endpoints",
                                    to="hub.saleschannel",
                                    help_text="The sales channel a storefront or marketplace sells on; empty for systems that serve every channel (3PL, accounting).")),
        migrations.AlterField(model_name="endpoint", name="kind",
                              field=models.CharField(help_text="Connector kind (one per package under connectors/).", max_length=30)),
        migrations.CreateModel(
            name="EndpointSchedule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("flow", models.CharField(max_length=60)),
                ("every_minutes", models.PositiveIntegerField(help_text="0 turns this schedule off.")),
                ("last_run_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("endpoint", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="schedules", to="connectors.endpoint")),
            ],
            options={"ordering": ["endpoint", "flow"],
                     "constraints": [models.UniqueConstraint(fields=("endpoint", "flow"), name="schedule_one_per_flow")]},
        ),
        migrations.RunPython(columns_to_settings, migrations.RunPython.noop),
        migrations.RemoveField(model_name="endpoint", name="credentials"),
        migrations.RemoveField(model_name="endpoint", name="webhook_secret"),
        migrations.RemoveField(model_name="endpoint", name="warehouse_map"),
        migrations.RemoveField(model_name="endpoint", name="price_list"),
        migrations.RemoveField(model_name="endpoint", name="poll_minutes"),
        migrations.RemoveField(model_name="endpoint", name="reconcile_minutes"),
    ]
