from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connectors.vault import seal, unseal
from hub.models import SalesChannel, code_validator


class EndpointHealth(models.TextChoices):
    OK = "ok", _("Healthy")
    FAILING = "failing", _("Failing")


class Endpoint(models.Model):
    """One configured external system: a storefront, a marketplace, a 3PL, an accounting system…

    Vendor options live in `settings`, validated by the connector's settings form; secrets are
    sealed at rest (`connectors.vault`) and never shown back."""

    kind = models.CharField(_("kind"), max_length=30, help_text=_("Connector kind (one per package under connectors/)."))
    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(_("base url"))
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="endpoints", null=True, blank=True,
                                help_text=_("The sales channel a storefront or marketplace sells on; empty for systems that serve "
                                          "every channel (3PL, accounting)."), verbose_name=_("channel"))
    settings = models.JSONField(_("settings"), default=dict, blank=True, help_text=_("Vendor options, validated by the connector's settings form."))
    credentials_sealed = models.TextField(_("credentials sealed"), blank=True, editable=False)
    webhook_secret_sealed = models.TextField(_("webhook secret sealed"), blank=True, editable=False)
    enabled_flows = models.JSONField(_("enabled flows"), default=list, blank=True)
    concurrency_limit = models.PositiveSmallIntegerField(_("concurrency limit"), default=2)
    rate_limit_per_second = models.DecimalField(_("rate limit per second"), max_digits=6, decimal_places=2, default=2)
    is_active = models.BooleanField(_("is active"), default=True)
    alert_emails = models.CharField(_("alert emails"), max_length=500, blank=True, help_text=_("Comma-separated; falls back to HUB_ALERT_EMAILS."))
    health = models.CharField(_("health"), max_length=10, default=EndpointHealth.OK, choices=EndpointHealth.choices, editable=False)
    health_changed_at = models.DateTimeField(_("health changed at"), null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0, editable=False)
    throttle_tat = models.FloatField(_("throttle tat"), default=0, editable=False, help_text=_("Shared request scheduler state (epoch seconds)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")
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

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("endpoint"))
    flow = models.CharField(_("flow"), max_length=60)
    every_minutes = models.PositiveIntegerField(_("every minutes"), help_text=_("0 turns this schedule off."))
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("endpoint schedule")
        verbose_name_plural = _("endpoint schedules")
        ordering = ["endpoint", "flow"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "flow"], name="schedule_one_per_flow")]

    def __str__(self) -> str:
        from connectors.labels import flow_label

        return gettext("%(endpoint)s %(flow)s every %(minutes)s min") % {"endpoint": self.endpoint.code, "flow": flow_label(self.flow),
                                                                          "minutes": self.every_minutes}


class InboxMessage(models.Model):
    """Every webhook delivery, stored before anything else: the body byte for byte (so the
    signature can be checked again), or only an excerpt when it is unsigned or too large."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Duplicate delivery")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        IGNORED = "ignored", _("Ignored (topic not handled)")

    class Rejection(models.TextChoices):
        NONE = "", _("—")
        SIGNATURE = "signature", _("Bad or missing signature")
        TOO_LARGE = "too_large", _("Body too large")
        MALFORMED = "malformed", _("Unreadable body or headers")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="inbox", verbose_name=_("endpoint"))
    delivery_id = models.TextField(_("delivery id"), blank=True, help_text=_("The vendor's delivery id, whole (NUL characters escaped)."))
    delivery_key = models.CharField(_("delivery key"), max_length=64, blank=True, help_text=_("SHA-256 of the whole delivery id: what duplicates are found by."))
    topic = models.CharField(_("topic"), max_length=100, blank=True)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.BinaryField(_("body"), help_text=_("The bytes received; only the first ones when the delivery was unsigned or too large."))
    body_size = models.PositiveIntegerField(_("body size"), default=0, help_text=_("Bytes received (or announced, when too large to read)."))
    remote_addr = models.GenericIPAddressField(_("remote addr"), null=True, blank=True)
    signature_ok = models.BooleanField(_("signature ok"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    rejection = models.CharField(_("rejection"), max_length=10, choices=Rejection.choices, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_text = models.JSONField(_("error text"), null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "delivery_key"], condition=models.Q(status__in=["received", "processed", "failed", "ignored"]) & ~models.Q(delivery_key=""),
                                    name="inbox_one_accepted_delivery"),
        ]
        permissions = [("replay_inboxmessage", _("Can replay webhook deliveries"))]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.topic} {self.delivery_id[:100]}"


class InboxRejection(models.Model):
    """Rejected deliveries counted per endpoint, source address and reason, so a flood of
    unsigned or oversized posts shows up as one line with a count (and only the first ones of
    each hour are kept in the inbox)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="inbox_rejections", verbose_name=_("endpoint"))
    remote_addr = models.CharField(_("remote addr"), max_length=45, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=InboxMessage.Rejection.choices)
    count = models.PositiveBigIntegerField(_("count"), default=0)
    bytes_received = models.PositiveBigIntegerField(_("bytes received"), default=0)
    first_at = models.DateTimeField(_("first at"), auto_now_add=True)
    last_at = models.DateTimeField(_("last at"))
    window_start = models.DateTimeField(_("window start"), null=True, blank=True, help_text=_("Start of the hour whose deliveries are being kept."))
    window_kept = models.PositiveIntegerField(_("window kept"), default=0, help_text=_("Deliveries of that hour kept in the inbox; past the cap, only counted."))

    class Meta:
        verbose_name = _("inbox rejection")
        verbose_name_plural = _("inbox rejections")
        ordering = ["-last_at"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "remote_addr", "reason"], name="inbox_rejection_one_per_source")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.remote_addr or '?'} {self.reason}: {self.count}"


class Binding(models.Model):
    """A local record ↔ its id in one external system, with the fingerprint of what was last synced."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="bindings", verbose_name=_("endpoint"))
    model = models.CharField(_("model"), max_length=60, help_text=_("What is bound, e.g. 'product', 'variant', 'order', 'customer', 'shipment'."))
    local_id = models.CharField(_("local id"), max_length=64)
    external_id = models.CharField(_("external ID"), max_length=100)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True, help_text=_("Hash of what was last pushed; unchanged → nothing is sent."))
    data = models.JSONField(_("data"), default=dict, blank=True, help_text=_("Vendor ids that go with the record (e.g. inventory item id)."))
    synced_at = models.DateTimeField(_("synced at"), auto_now=True)

    class Meta:
        verbose_name = _("binding")
        verbose_name_plural = _("bindings")
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
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed — waiting for a person")
        RESOLVED = "resolved", _("Resolved")

    class ErrorClass(models.TextChoices):
        NONE = "", _("—")
        TRANSIENT = "transient", _("Transient (retried)")
        PERMANENT = "permanent", _("Permanent (needs a person)")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("endpoint"))
    flow = models.CharField(_("flow"), max_length=60, db_index=True)
    record_key = models.CharField(_("record key"), max_length=100, help_text=_("The record this job syncs (or '*' for a scheduled run)."))
    record_label = models.CharField(_("record label"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    payload = models.JSONField(_("payload"), null=True, blank=True, help_text=_("What was (or will be) sent."))
    payload_edited = models.BooleanField(_("payload edited"), default=False, help_text=_("Set when a person edited the payload: it is sent as is."))
    changes = models.PositiveIntegerField(_("changes"), default=1, help_text=_("Changes absorbed by this job."))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    lease_token = models.CharField(_("lease token"), max_length=36, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    error_class = models.CharField(_("error class"), max_length=10, choices=ErrorClass.choices, blank=True)
    last_error = models.TextField(_("last error"), blank=True, help_text=_("In English, as logged and searched."))
    error_text = models.JSONField(_("error text"), null=True, blank=True, editable=False,
                                  help_text=_("The last error as a stored text, shown in the reader's language."))
    outcome = models.CharField(_("outcome"), max_length=300, blank=True, help_text=_("In English, as logged and searched."))
    outcome_text = models.JSONField(_("outcome text"), null=True, blank=True, editable=False,
                                    help_text=_("The outcome as a stored text, shown in the reader's language."))
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("resolved by"))
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    resolution_text = models.JSONField(_("resolution text"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("sync job")
        verbose_name_plural = _("sync jobs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "status", "next_attempt_at"]),
                   models.Index(fields=["endpoint", "flow", "record_key"])]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "flow", "record_key"], condition=models.Q(status="pending"),
                                    name="syncjob_one_pending_per_record"),
        ]
        permissions = [
            ("retry_syncjob", _("Can retry sync jobs")),
            ("resolve_syncjob", _("Can resolve sync jobs")),
            ("edit_payload_syncjob", _("Can edit a sync job's payload and send it again")),
        ]

    def __str__(self) -> str:
        from connectors.labels import flow_label

        return f"{self.endpoint.code} · {flow_label(self.flow)} · {self.record_name}"

    @property
    def record_name(self) -> str:
        """What the job syncs, as people read it: a scheduled run has no record of its own."""
        from connectors.sync import SCHEDULED_KEY

        if self.record_key == SCHEDULED_KEY:
            return gettext("Scheduled run")
        return self.record_label or self.record_key


class SyncAttempt(models.Model):
    """One try of a job: what was asked, what came back, how long it took, what went wrong."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Succeeded")
        TRANSIENT = "transient", _("Transient failure")
        PERMANENT = "permanent", _("Permanent failure")
        LOST = "lost", _("Worker lost")

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("job"))
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+", verbose_name=_("endpoint"))
    number = models.PositiveIntegerField(_("number"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    request_summary = models.TextField(_("request summary"), blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    error_text = models.JSONField(_("error text"), null=True, blank=True, editable=False)
    duration_ms = models.PositiveIntegerField(_("duration ms"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), db_index=True)

    class Meta:
        verbose_name = _("sync attempt")
        verbose_name_plural = _("sync attempts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.job} #{self.number} {self.get_outcome_display()}"


class SyncCursor(models.Model):
    """Where a scheduled flow got to (e.g. the last 'updated_at' polled) and when it last ran."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="cursors", verbose_name=_("endpoint"))
    name = models.CharField(_("name"), max_length=60)
    value = models.CharField(_("value"), max_length=100, blank=True)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="cursor_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.name} = {self.value}"


class EngineClock(models.Model):
    """A shared timestamp that lets exactly one process, across every task cluster, do a periodic
    chore per period (e.g. waking jobs whose backoff has ended)."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("engine clock")
        verbose_name_plural = _("engine clocks")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%H:%M:%S}"


class ThrottleBucket(models.Model):
    """One named request bucket of an endpoint (a vendor operation with its own quota), shared by
    every worker process: its GCRA "theoretical arrival time" and the rate the vendor last announced."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="throttle_buckets", verbose_name=_("endpoint"))
    name = models.CharField(_("name"), max_length=80)
    tat = models.FloatField(_("tat"), default=0)
    rate_per_second = models.FloatField(_("rate per second"), null=True, blank=True, help_text=_("The vendor's announced rate, when it sent one."))
    size = models.FloatField(_("size"), null=True, blank=True, help_text=_("The vendor's announced bucket size, when it sent one."))

    class Meta:
        verbose_name = _("throttle bucket")
        verbose_name_plural = _("throttle buckets")
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="throttle_bucket_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.code} {self.name}"
