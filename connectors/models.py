from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from connectors.vault import seal, unseal
from hub.models import SalesChannel, code_validator


class EndpointHealth(models.TextChoices):
    OK = "ok", "Healthy"
    FAILING = "failing", "Failing"


class Endpoint(models.Model):
    """One configured external system: a storefront, a marketplace, a 3PL, an accounting system…

    Vendor options live in `settings`, validated by the connector's settings form; secrets are
    sealed at rest (`connectors.vault`) and never shown back."""

    kind = models.CharField(max_length=30, help_text="Connector kind (one per package under connectors/).")
    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    base_url = models.URLField()
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="endpoints", null=True, blank=True,
                                help_text="The sales channel a storefront or marketplace sells on; empty for systems that serve "
                                          "every channel (3PL, accounting).")
    settings = models.JSONField(default=dict, blank=True, help_text="Vendor options, validated by the connector's settings form.")
    credentials_sealed = models.TextField(blank=True, editable=False)
    webhook_secret_sealed = models.TextField(blank=True, editable=False)
    enabled_flows = models.JSONField(default=list, blank=True)
    concurrency_limit = models.PositiveSmallIntegerField(default=2)
    rate_limit_per_second = models.DecimalField(max_digits=6, decimal_places=2, default=2)
    is_active = models.BooleanField(default=True)
    alert_emails = models.CharField(max_length=500, blank=True, help_text="Comma-separated; falls back to HUB_ALERT_EMAILS.")
    health = models.CharField(max_length=10, default=EndpointHealth.OK, choices=EndpointHealth.choices, editable=False)
    health_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    throttle_tat = models.FloatField(default=0, editable=False, help_text="Shared request scheduler state (epoch seconds).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}:{self.code})"

    @property
    def credentials(self) -> dict:
        if getattr(self, "_credentials_cache", None) is None or self._credentials_cache[0] != self.credentials_sealed:
            self._credentials_cache = (self.credentials_sealed, unseal(self.credentials_sealed, empty={}))
        return dict(self._credentials_cache[1])

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_sealed = seal(dict(value or {}))

    @property
    def webhook_secret(self) -> str:
        return unseal(self.webhook_secret_sealed, empty="")

    @webhook_secret.setter
    def webhook_secret(self, value: str) -> None:
        self.webhook_secret_sealed = seal(value or "")

    @property
    def config(self):
        """The settings as the connector's form cleans them (model instances, dicts, dates)."""
        from connectors.options import endpoint_config

        return endpoint_config(self)

    @classmethod
    def from_db(cls, db, field_names, values):
        endpoint = super().from_db(db, field_names, values)
        endpoint._stored_base_url = endpoint.__dict__.get("base_url")
        return endpoint

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._stored_base_url, self._secrets_entered = self.base_url, set()

    def secrets_replace(self, *, credentials: dict | None = None, webhook_secret: str | None = None) -> None:
        """Set new credentials and/or webhook secret (None keeps the current one). Entering them
        is what allows the base URL to move to another host (see `clean`)."""
        entered = getattr(self, "_secrets_entered", set())
        if credentials is not None:
            self.credentials = credentials
            entered.add("credentials")
        if webhook_secret is not None:
            self.webhook_secret = webhook_secret
            entered.add("webhook_secret")
        self._secrets_entered = entered

    def clean(self):
        """What every way of saving an endpoint checks (the admin form, `hub_endpoint add`)."""
        from connectors.http import origin_text, url_origin
        from connectors.options import settings_clean
        from connectors.registry import CONNECTORS

        super().clean()
        errors: dict[str, list] = {}
        connector = CONNECTORS.get(self.kind)
        if connector is None:
            errors.setdefault("kind", []).append(_("unknown kind %(kind)r; known: %(known)s.") % {
                "kind": self.kind, "known": ", ".join(sorted(CONNECTORS)) or "none"})
        if url_origin(self.base_url or "") is None:
            errors.setdefault("base_url", []).append(_("%(url)r is not a URL with an http or https scheme and a host.") % {
                "url": (self.base_url or "")[:200]})
        credentials = self.credentials if isinstance(self.credentials, dict) else None
        if credentials is None:
            errors.setdefault("credentials", []).append(_("Credentials must be NAME=VALUE pairs."))
        else:
            empty = sorted(name for name, value in credentials.items() if not str(value or "").strip() or not str(name).strip())
            if empty:
                errors.setdefault("credentials", []).append(_("Empty credential: %(names)s.") % {"names": ", ".join(empty)})
            missing = [name for name in getattr(connector, "credential_names", ()) if name not in credentials]
            if missing:
                errors.setdefault("credentials", []).append(_("%(kind)s needs the credential(s): %(names)s.") % {
                    "kind": self.kind, "names": ", ".join(missing)})
        if connector is not None:
            if connector.needs_channel and self.channel_id is None:
                errors.setdefault("channel", []).append(_("%(kind)s sells on a sales channel: choose one.") % {"kind": self.kind})
            try:
                self.settings = settings_clean(connector=connector, values=dict(self.settings or {}))
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault("settings", []).extend(messages if field == "__all__" else [f"{field}: {m}" for m in messages])
        if self.webhook_secret and not self.webhook_secret.strip():
            errors.setdefault("webhook_secret", []).append(_("The webhook secret cannot be blank."))
        stored = getattr(self, "_stored_base_url", None)
        if stored and self.pk and url_origin(stored) != url_origin(self.base_url or "") and not errors.get("base_url"):
            entered = getattr(self, "_secrets_entered", set())
            needed = {"credentials"} | ({"webhook_secret"} if Endpoint.objects.filter(pk=self.pk).exclude(webhook_secret_sealed="").exists() else set())
            if not needed <= entered:
                errors.setdefault("base_url", []).append(_(
                    "The host changes from %(old)s to %(new)s: enter the credentials and the webhook secret again, "
                    "or the current ones would be sent to the new host.") % {"old": origin_text(stored), "new": origin_text(self.base_url)})
        if errors:
            raise ValidationError(errors)


class EndpointSchedule(models.Model):
    """How often one scheduled flow (orders poll, stock reconcile, daily batch…) runs for one endpoint."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="schedules")
    flow = models.CharField(max_length=60)
    every_minutes = models.PositiveIntegerField(help_text="0 turns this schedule off.")
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["endpoint", "flow"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "flow"], name="schedule_one_per_flow")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.flow} every {self.every_minutes} min"


class InboxMessage(models.Model):
    """Every webhook delivery, stored before anything else: the body byte for byte (so the
    signature can be checked again), or only an excerpt when it is unsigned or too large."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate delivery"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (topic not handled)"

    class Rejection(models.TextChoices):
        NONE = "", "—"
        SIGNATURE = "signature", "Bad or missing signature"
        TOO_LARGE = "too_large", "Body too large"
        MALFORMED = "malformed", "Unreadable body or headers"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="inbox")
    delivery_id = models.TextField(blank=True, help_text="The vendor's delivery id, whole (NUL characters escaped).")
    delivery_key = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the whole delivery id: what duplicates are found by.")
    topic = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(help_text="The bytes received; only the first ones when the delivery was unsigned or too large.")
    body_size = models.PositiveIntegerField(default=0, help_text="Bytes received (or announced, when too large to read).")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    signature_ok = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    rejection = models.CharField(max_length=10, choices=Rejection.choices, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "delivery_key"], condition=models.Q(status__in=["received", "processed", "failed", "ignored"]) & ~models.Q(delivery_key=""),
                                    name="inbox_one_accepted_delivery"),
        ]
        permissions = [("replay_inboxmessage", "Can replay webhook deliveries")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.topic} {self.delivery_id[:100]}"


class InboxRejection(models.Model):
    """Rejected deliveries counted per endpoint, source address and reason, so a flood of
    unsigned or oversized posts shows up as one line with a count (and only the first ones of
    each hour are kept in the inbox)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="inbox_rejections")
    remote_addr = models.CharField(max_length=45, blank=True)
    reason = models.CharField(max_length=10, choices=InboxMessage.Rejection.choices)
    count = models.PositiveBigIntegerField(default=0)
    bytes_received = models.PositiveBigIntegerField(default=0)
    first_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField()
    window_start = models.DateTimeField(null=True, blank=True, help_text="Start of the hour whose deliveries are being kept.")
    window_kept = models.PositiveIntegerField(default=0, help_text="Deliveries of that hour kept in the inbox; past the cap, only counted.")

    class Meta:
        ordering = ["-last_at"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "remote_addr", "reason"], name="inbox_rejection_one_per_source")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.remote_addr or '?'} {self.reason}: {self.count}"


class Binding(models.Model):
    """A local record ↔ its id in one external system, with the fingerprint of what was last synced."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="bindings")
    model = models.CharField(max_length=60, help_text="What is bound, e.g. 'product', 'variant', 'order', 'customer', 'shipment'.")
    local_id = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Hash of what was last pushed; unchanged → nothing is sent.")
    data = models.JSONField(default=dict, blank=True, help_text="Vendor ids that go with the record (e.g. inventory item id).")
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["endpoint", "model", "local_id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "model", "external_id"], name="binding_unique_external"),
            models.UniqueConstraint(fields=["endpoint", "model", "local_id"], name="binding_unique_local"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.model} {self.local_id} ↔ {self.external_id}"


class SyncJob(models.Model):
    """One record (or one scheduled run) to sync with one endpoint through one flow.

    Jobs are written in the transaction that changes the record; a pending job absorbs later
    changes of the same record (one pending job per endpoint, flow and record)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed — waiting for a person"
        RESOLVED = "resolved", "Resolved"

    class ErrorClass(models.TextChoices):
        NONE = "", "—"
        TRANSIENT = "transient", "Transient (retried)"
        PERMANENT = "permanent", "Permanent (needs a person)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="jobs")
    flow = models.CharField(max_length=60, db_index=True)
    record_key = models.CharField(max_length=100, help_text="The record this job syncs (or '*' for a scheduled run).")
    record_label = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    payload = models.JSONField(null=True, blank=True, help_text="What was (or will be) sent.")
    payload_edited = models.BooleanField(default=False, help_text="Set when a person edited the payload: it is sent as is.")
    changes = models.PositiveIntegerField(default=1, help_text="Changes absorbed by this job.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_token = models.CharField(max_length=36, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_class = models.CharField(max_length=10, choices=ErrorClass.choices, blank=True)
    last_error = models.TextField(blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "status", "next_attempt_at"]),
                   models.Index(fields=["endpoint", "flow", "record_key"])]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "flow", "record_key"], condition=models.Q(status="pending"),
                                    name="syncjob_one_pending_per_record"),
        ]
        permissions = [
            ("retry_syncjob", "Can retry sync jobs"),
            ("resolve_syncjob", "Can resolve sync jobs"),
            ("edit_payload_syncjob", "Can edit a sync job's payload and send it again"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.flow} {self.record_label or self.record_key}"


class SyncAttempt(models.Model):
    """One try of a job: what was asked, what came back, how long it took, what went wrong."""

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        TRANSIENT = "transient", "Transient failure"
        PERMANENT = "permanent", "Permanent failure"
        LOST = "lost", "Worker lost"

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="attempt_log")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    request_summary = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.job} #{self.number} {self.outcome}"


class SyncCursor(models.Model):
    """Where a scheduled flow got to (e.g. the last 'updated_at' polled) and when it last ran."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="cursors")
    name = models.CharField(max_length=60)
    value = models.CharField(max_length=100, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="cursor_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.name} = {self.value}"


class EngineClock(models.Model):
    """A shared timestamp that lets exactly one process, across every task cluster, do a periodic
    chore per period (e.g. waking jobs whose backoff has ended)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%H:%M:%S}"


class ThrottleBucket(models.Model):
    """One named request bucket of an endpoint (a vendor operation with its own quota), shared by
    every worker process: its GCRA "theoretical arrival time" and the rate the vendor last announced."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="throttle_buckets")
    name = models.CharField(max_length=80)
    tat = models.FloatField(default=0)
    rate_per_second = models.FloatField(null=True, blank=True, help_text="The vendor's announced rate, when it sent one.")
    size = models.FloatField(null=True, blank=True, help_text="The vendor's announced bucket size, when it sent one.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="throttle_bucket_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.name}"
