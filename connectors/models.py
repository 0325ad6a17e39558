from django.db import models

from catalog.models import PriceList
from hub.models import SalesChannel, code_validator


class Endpoint(models.Model):
    """One configured external system."""

    kind = models.CharField(max_length=30, help_text="Connector kind, e.g. 'shopify'.")
    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    base_url = models.URLField()
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="endpoints")
    credentials = models.JSONField(default=dict, blank=True, help_text="Never shown back in the admin.")
    webhook_secret = models.CharField(max_length=200, blank=True)
    enabled_flows = models.JSONField(default=list, blank=True)
    concurrency_limit = models.PositiveSmallIntegerField(default=2)
    rate_limit_per_second = models.DecimalField(max_digits=6, decimal_places=2, default=2)
    warehouse_map = models.JSONField(default=dict, blank=True, help_text="Hub warehouse code → vendor location id.")
    price_list = models.ForeignKey(PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirm_only_paid = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}:{self.code})"


class InboxMessage(models.Model):
    """Every webhook delivery, stored raw before anything else."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        REJECTED = "rejected", "Rejected (bad signature)"
        DUPLICATE = "duplicate", "Duplicate delivery"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (topic not handled)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="inbox")
    delivery_id = models.CharField(max_length=100, blank=True)
    topic = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    signature_ok = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "delivery_id"], condition=models.Q(status__in=["received", "processed", "failed", "ignored"]) & ~models.Q(delivery_id=""),
                                    name="inbox_one_accepted_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.topic} {self.delivery_id}"
