import hashlib

import django.db.models.deletion
from django.db import migrations, models


def copy_bodies(apps, schema_editor):
    """Text bodies become bytes (UTF-8); whole-id keys for dedupe; old rejections were signatures."""
    InboxMessage = apps.get_model("connectors", "InboxMessage")
    batch = []
    for message in InboxMessage.objects.only("pk", "body", "delivery_id", "status").iterator(chunk_size=1000):
        message.raw = message.body.encode("utf-8", errors="surrogatepass")
        message.body_size = len(message.raw)
        message.delivery_key = hashlib.sha256(message.delivery_id.encode("utf-8")).hexdigest() if message.delivery_id else ""
        message.rejection = "signature" if message.status == "rejected" else ""
        batch.append(message)
        if len(batch) >= 1000:
            InboxMessage.objects.bulk_update(batch, ["raw", "body_size", "delivery_key", "rejection"])
            batch = []
    if batch:
        InboxMessage.objects.bulk_update(batch, ["raw", "body_size", "delivery_key", "rejection"])


class Migration(migrations.Migration):
    dependencies = [("connectors", "0004_admin_permissions")]

    operations = [
        migrations.RemoveConstraint(model_name="inboxmessage", name="inbox_one_accepted_delivery"),
        migrations.AddField(model_name="inboxmessage", name="raw", field=models.BinaryField(default=b"")),
        migrations.AddField(model_name="inboxmessage", name="body_size",
                            field=models.PositiveIntegerField(default=0, help_text="Bytes received (or announced, when too large to read).")),
        migrations.AddField(model_name="inboxmessage", name="remote_addr", field=models.GenericIPAddressField(blank=True, null=True)),
        migrations.AddField(model_name="inboxmessage", name="rejection", field=models.CharField(
            blank=True, max_length=10, choices=[("", "—"), ("signature", "Bad or missing signature"), ("too_large", "Body too large"),
                                                ("malformed", "Unreadable body or headers")])),
        migrations.AddField(model_name="inboxmessage", name="delivery_key", field=models.CharField(
            blank=True, max_length=64, help_text="SHA-256 of the whole delivery id: what duplicates are found by.")),
        migrations.AlterField(model_name="inboxmessage", name="delivery_id",
                              field=models.TextField(blank=True, help_text="The vendor's delivery id, whole (NUL characters escaped).")),
        migrations.AlterField(model_name="inboxmessage", name="status", field=models.CharField(
            choices=[("received", "Received"), ("rejected", "Rejected"), ("duplicate", "Duplicate delivery"), ("processed", "Processed"),
                     ("failed", "Failed"), ("ignored", "Ignored (topic not handled)")], db_index=True, default="received", max_length=10)),
        migrations.RunPython(copy_bodies, migrations.RunPython.noop),
        migrations.RemoveField(model_name="inboxmessage", name="body"),
        migrations.RenameField(model_name="inboxmessage", old_name="raw", new_name="body"),
        migrations.AlterField(model_name="inboxmessage", name="body", field=models.BinaryField(
            help_text="The bytes received; only the first ones when the delivery was unsigned or too large.")),
        migrations.AddConstraint(model_name="inboxmessage", constraint=models.UniqueConstraint(
            condition=models.Q(("status__in", ["received", "processed", "failed", "ignored"]), models.Q(("delivery_key", ""), _negated=True)),
            fields=("endpoint", "delivery_key"), name="inbox_one_accepted_delivery")),
        migrations.CreateModel(
            name="InboxRejection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("remote_addr", models.CharField(blank=True, max_length=45)),
                ("reason", models.CharField(choices=[("", "—"), ("signature", "Bad or missing signature"), ("too_large", "Body too large"),
                                                     ("malformed", "Unreadable body or headers")], max_length=10)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("bytes_received", models.PositiveBigIntegerField(default=0)),
                ("first_at", models.DateTimeField(auto_now_add=True)),
                ("last_at", models.DateTimeField()),
                ("window_start", models.DateTimeField(blank=True, null=True, help_text="Start of the hour whose deliveries are being kept.")),
                ("window_kept", models.PositiveIntegerField(default=0, help_text="Deliveries of that hour kept in the inbox; past the cap, only counted.")),
                ("endpoint", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="inbox_rejections", to="connectors.endpoint")),
            ],
            options={"ordering": ["-last_at"], "constraints": [models.UniqueConstraint(fields=("endpoint", "remote_addr", "reason"),
                                                                                        name="inbox_rejection_one_per_source")]},
        ),
    ]
