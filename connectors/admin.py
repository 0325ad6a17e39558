import copy
import json
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from connectors.models import Binding, Endpoint, EndpointSchedule, InboxMessage, InboxRejection, SyncAttempt, SyncJob
from connectors.labels import connector_label, flow_label
from connectors.registry import CONNECTORS
from connectors.selectors import endpoint_dashboard
from connectors.services import credentials_parse, escape_nul, inbox_process, inbox_signature_check
from connectors.sync import JobActionError, schedules_ensure, sync_job_resolve, sync_job_retry
from hub.admin import ReadOnlyAdmin, Workflow, WorkflowAdminMixin, admin_permission_required, granted_by
from hub.display import badge, clipped, pretty_json, truncated
from hub.texts import text_shown

JOB_TONES = {SyncJob.Status.PENDING: "info", SyncJob.Status.RUNNING: "info", SyncJob.Status.DONE: "success", SyncJob.Status.FAILED: "danger",
             SyncJob.Status.RESOLVED: "muted"}
RETRYABLE = {SyncJob.Status.FAILED, SyncJob.Status.PENDING, SyncJob.Status.RESOLVED}



def _duration(value) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value, not even the one just typed when the form comes back with an error."""

    def format_value(self, value):
        return None


class EndpointForm(forms.ModelForm):
    """Secrets are write-only: empty keeps the current ones; `Endpoint.clean` requires them again
    when the base URL moves to another host."""

    kind = forms.ChoiceField(label=_("System"), choices=lambda: sorted(((kind, connector_label(kind)) for kind in CONNECTORS),
                                                                       key=lambda choice: str(choice[1]).lower()))
    credentials = forms.CharField(
        label=_("Credentials"), required=False, widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("NAME=VALUE, one per line (e.g. access_token=…). Never shown back: leave empty to keep the current "
                    "ones. Required again when the host of the base URL changes."))
    webhook_secret = forms.CharField(
        label=_("Webhook secret"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Never shown back: leave empty to keep the current one. Required again when the host of the base URL changes."))

    enabled_flows = forms.MultipleChoiceField(
        label=_("Enabled flows"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("What the hub exchanges with this system. None ticked: the connector's usual flows."))

    class Meta:
        model = Endpoint
        exclude = ["credentials", "webhook_secret", "settings"]
        field_classes = {"base_url": partial(forms.URLField, assume_scheme="https")}

    settings_names: tuple[str, ...] = ()  # the connector's settings, shown as `setting_<name>` fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        connector = CONNECTORS.get(self.instance.kind)
        flows = connector.flows if connector is not None else {f.name: f for c in CONNECTORS.values() for f in c.flows}.values()
        self.fields["enabled_flows"].choices = [(flow.name, flow_label(flow.name)) for flow in flows]
        stored = self.instance.settings or {}
        for name in self.settings_names:
            if name in stored:
                self.initial[f"setting_{name}"] = stored[name]

    def clean(self):
        cleaned = super().clean()
        connector = CONNECTORS.get(self.instance.kind)
        if connector is not None and self.settings_names:
            raw = {name: self.data.get(self.add_prefix(f"setting_{name}")) for name in self.settings_names
                   if self.add_prefix(f"setting_{name}") in self.data}
            settings_form = connector.settings_form(data=raw)
            if settings_form.is_valid():
                self.instance.settings = settings_form.to_json()
            else:
                for name, messages in settings_form.errors.items():
                    self.add_error(f"setting_{name}" if name in self.settings_names else None, messages)
        text = cleaned.get("credentials") or ""
        try:
            credentials = credentials_parse(text.splitlines()) if text.strip() else None
        except ValidationError as exc:
            self.add_error("credentials", exc)
            return cleaned
        self.instance.secrets_replace(credentials=credentials, webhook_secret=cleaned.get("webhook_secret") or None)
        return cleaned


class EndpointScheduleInline(admin.TabularInline):
    model = EndpointSchedule
    fields = ["flow_name", "every_minutes", "last_run_at"]
    readonly_fields = ["flow_name", "last_run_at"]
    classes = ["hub-rows"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("flow"))
    def flow_name(self, obj):
        return flow_label(obj.flow)


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    inlines = [EndpointScheduleInline]
    list_display = ["code", "name_short", "kind_label", "channel_code", "health_badge", "queue_depth", "open_errors", "is_active"]
    list_filter = ["kind", "is_active", "health"]
    search_fields = ["code", "name"]
    exclude = ["credentials", "webhook_secret"]  # model fields never shown back; the form has write-only inputs for them
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["secrets", "health", "health_changed_at", "consecutive_failures"]

    def get_form(self, request, obj=None, **kwargs):
        """The connector's own settings (price list, warehouse map, account codes…) as fields of the
        endpoint's page once its kind is known."""
        connector = CONNECTORS.get(obj.kind) if obj is not None else None
        if connector is None:
            return super().get_form(request, obj, **kwargs)
        fields = {f"setting_{name}": copy.deepcopy(field) for name, field in connector.settings_form.base_fields.items()}
        base = type("EndpointSettingsForm", (EndpointForm,), {**fields, "settings_names": tuple(connector.settings_form.base_fields)})
        kwargs["form"] = base
        if fields:  # the connector's own fields replace the raw JSON of its settings
            kwargs["exclude"] = [*(self.get_exclude(request, obj) or []), *self.get_readonly_fields(request, obj), "settings"]
        return super().get_form(request, obj, **kwargs)

    def get_inline_instances(self, request, obj=None):
        if obj is not None:
            schedules_ensure(endpoint=obj)
        return super().get_inline_instances(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel").annotate(
            pending_jobs=Count("jobs", filter=Q(jobs__status=SyncJob.Status.PENDING)),
            failed_jobs=Count("jobs", filter=Q(jobs__status=SyncJob.Status.FAILED)))

    def get_urls(self):
        return [path("console/", self.admin_site.admin_view(self.console_view), name="connectors_console")] + super().get_urls()

    @admin_permission_required("view")
    def console_view(self, request):
        cards = []
        for endpoint in Endpoint.objects.order_by("code"):
            card = endpoint_dashboard(endpoint=endpoint)
            tallest = max([b["ok"] + b["failed"] for b in card["series"]] + [1])
            bars = []
            for index, bucket in enumerate(card["series"]):
                ok_h, failed_h = round(60 * bucket["ok"] / tallest), round(60 * bucket["failed"] / tallest)
                bars.append({"x": 4 + index * 16, "ok_h": ok_h, "ok_y": 70 - ok_h, "failed_h": failed_h, "failed_y": 70 - ok_h - failed_h,
                             "ok": bucket["ok"], "failed": bucket["failed"], "label": f"{bucket['hour']:%H:00}"})
            card.update(kind_label=connector_label(endpoint.kind),
                        last_error_flow=flow_label(card["last_error"]["flow"]) if card.get("last_error") else "",
                        bars=bars, chart_width=8 + 16 * len(bars), lag_text=_duration(card["lag"]), median_text=_duration(card["median_sync_time"]))
            cards.append(card)
        context = {**self.admin_site.each_context(request), "title": gettext("Operator console"), "cards": cards, "hours": 24}
        return TemplateResponse(request, "admin/connectors/console.html", context)

    @admin.display(description=_("Secrets"))
    def secrets(self, obj):
        names = [f"{name}=••••" for name in sorted(obj.credentials)]
        names.append(gettext("webhook secret set") if obj.webhook_secret else gettext("no webhook secret"))
        return ", ".join(names)

    @admin.display(description=_("name"), ordering="name")
    def name_short(self, obj):
        return truncated(obj.name, 18)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj):
        return connector_label(obj.kind)

    @admin.display(description=_("channel"), ordering="channel__code")
    def channel_code(self, obj):
        return obj.channel.code if obj.channel_id else "—"

    @admin.display(description=_("Health"), ordering="health")
    def health_badge(self, obj):
        colour = "#2e7d32" if obj.health == "ok" else "#c62828"
        return format_html('<span style="color:{}">●</span> {}', colour, obj.get_health_display())

    @admin.display(description=_("Queued"), ordering="pending_jobs")
    def queue_depth(self, obj):
        return obj.pending_jobs

    @admin.display(description=_("Open errors"), ordering="failed_jobs")
    def open_errors(self, obj):
        if not obj.failed_jobs:
            return 0
        url = reverse("admin:connectors_syncjob_changelist") + f"?status__exact=failed&endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.failed_jobs)


class SyncAttemptInline(admin.TabularInline):
    model = SyncAttempt
    fk_name = "job"
    extra = 0
    ordering = ["-number"]
    fields = ["number", "finished_at", "outcome", "response_status", "duration_ms", "error_shown", "request_summary", "response_excerpt"]
    readonly_fields = fields
    can_delete = False
    classes = ["hub-rows"]

    @admin.display(description=_("Error"))
    def error_shown(self, obj):
        return text_shown(obj.error_text, obj.error)

    def has_add_permission(self, request, obj=None):
        return False


class PayloadForm(forms.Form):
    payload = forms.CharField(label=_("Payload (JSON)"), widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family:monospace"}))

    def clean_payload(self):
        try:
            value = json.loads(self.cleaned_data["payload"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(gettext("This is not valid JSON: %(msg)s (line %(lineno)s, column %(colno)s).") % {"msg": exc.msg, "lineno": exc.lineno, "colno": exc.colno}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext("The payload must be a JSON object ({…})."))
        return value


class FlowFilter(admin.SimpleListFilter):
    title = _("flow")
    parameter_name = "flow"

    def lookups(self, request, model_admin):
        flows = SyncJob.objects.order_by().values_list("flow", flat=True).distinct()
        return sorted(((flow, flow_label(flow)) for flow in flows), key=lambda choice: choice[1].lower())

    def queryset(self, request, queryset):
        return queryset.filter(flow=self.value()) if self.value() else queryset


@admin.register(SyncJob)
class SyncJobAdmin(WorkflowAdminMixin, ReadOnlyAdmin):
    service_errors = (JobActionError,)
    list_display = ["id", "endpoint_code", "flow_name", "record_short", "status_label", "attempts", "error_excerpt"]
    list_filter = ["status", "error_class", "endpoint", FlowFilter]
    search_fields = ["record_key", "record_label", "last_error"]
    list_select_related = ["endpoint"]
    inlines = [SyncAttemptInline]
    actions = ["retry", "resolve"]
    readonly_fields = ["endpoint", "flow_name", "record_key", "record_shown", "status_label", "error_class", "last_error_shown", "outcome_shown", "attempts",
                       "changes_pretty", "next_attempt_at", "created_at", "updated_at", "started_at", "finished_at", "payload_pretty", "payload_edited",
                       "resolution_shown", "resolved_by"]
    fields = readonly_fields
    workflows = (
        Workflow("retry", _("Retry now"), "retry", lambda job: job.status in RETRYABLE),
        Workflow("edit_payload", _("Edit the payload and retry"), "edit_payload",
                 lambda job: job.status in (SyncJob.Status.FAILED, SyncJob.Status.PENDING), url_name="connectors_syncjob_edit_payload"),
        Workflow("resolve", _("Resolve (no retry)"), "resolve", lambda job: job.status == SyncJob.Status.FAILED,
                 confirm=_("Mark this error as resolved without sending the record again?")),
    )

    has_retry_permission = granted_by("connectors.retry_syncjob")
    has_resolve_permission = granted_by("connectors.resolve_syncjob")
    has_edit_payload_permission = granted_by("connectors.edit_payload_syncjob")

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != "edit_link" or self.has_edit_payload_permission(request)]

    @admin.display(description=_("Last error"))
    def error_excerpt(self, obj):
        return clipped(text_shown(obj.error_text, obj.last_error), 60)

    @admin.display(description=_("Last error"))
    def last_error_shown(self, obj):
        return text_shown(obj.error_text, obj.last_error)

    @admin.display(description=_("Outcome"))
    def outcome_shown(self, obj):
        return text_shown(obj.outcome_text, obj.outcome)

    @admin.display(description=_("Resolution"))
    def resolution_shown(self, obj):
        return text_shown(obj.resolution_text, obj.resolution)

    @admin.display(description=_("Record"), ordering="record_label")
    def record_short(self, obj):
        return truncated(obj.record_name, 16)

    @admin.display(description=_("record label"))
    def record_shown(self, obj):
        return obj.record_name

    @admin.display(description=_("connector"), ordering="endpoint__code")
    def endpoint_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.endpoint.name, truncated(obj.endpoint.code, 14))

    @admin.display(description=_("flow"), ordering="flow")
    def flow_name(self, obj):
        return format_html('<span class="hub-wrap" title="{}">{}</span>', obj.flow, flow_label(obj.flow))

    @admin.display(description=_("Status"), ordering="status")
    def status_label(self, obj):
        label = badge(obj.get_status_display(), JOB_TONES.get(obj.status, "neutral"), title=obj.get_error_class_display() if obj.error_class else "")
        if obj.status == SyncJob.Status.PENDING and obj.next_attempt_at:
            when = date_format(timezone.localtime(obj.next_attempt_at), "SHORT_DATETIME_FORMAT")
            return format_html('{}<span class="hub-sub">{}</span>', label, gettext("next try %(when)s") % {"when": when})
        return label

    @admin.display(description=_("Payload"))
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description=_("Changes"))
    def changes_pretty(self, obj):
        return pretty_json(obj.changes)

    @admin.display(description=_("Edit and retry"))
    def edit_link(self, obj):
        if obj.status not in (SyncJob.Status.FAILED, SyncJob.Status.PENDING):
            return "—"
        return format_html('<a class="button" href="{}">{}</a>', reverse("admin:connectors_syncjob_edit_payload", args=[obj.pk]),
                           gettext("Edit the payload and retry"))

    def get_urls(self):
        return [path("<int:job_id>/edit-payload/", self.admin_site.admin_view(self.edit_payload_view), name="connectors_syncjob_edit_payload")] + super().get_urls()

    @admin_permission_required("edit_payload")
    def edit_payload_view(self, request, job_id):
        job = get_object_or_404(SyncJob.objects.select_related("endpoint"), pk=job_id)
        initial = json.dumps(job.payload, indent=2, ensure_ascii=False) if job.payload is not None else "{}"
        form = PayloadForm(request.POST or None, initial={"payload": initial})
        if request.method == "POST" and form.is_valid():
            try:
                sync_job_retry(job=job, user=request.user, payload=form.cleaned_data["payload"])
            except JobActionError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, gettext("Job #%(job_pk)s: edited payload queued; it is sent on the next "
                                                   "run.") % {"job_pk": job.pk}, messages.SUCCESS)
                return redirect("admin:connectors_syncjob_change", job.pk)
        context = {**self.admin_site.each_context(request), "title": gettext("Edit payload of job #%(job)s") % {"job": job.pk}, "job": job, "form": form,
                   "error_shown": text_shown(job.error_text, job.last_error)}
        return TemplateResponse(request, "admin/connectors/edit_payload.html", context)

    # --- Steps: one function each, for the page's button and the list's action ---

    def do_retry(self, request, job):
        sync_job_retry(job=job, user=request.user)
        return gettext("Job #%(id)s queued again; it is sent on the next run.") % {"id": job.pk}

    def do_resolve(self, request, job):
        sync_job_resolve(job=job, user=request.user)
        return gettext("Job #%(id)s resolved.") % {"id": job.pk}

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry(self, request, queryset):
        self._each(request, queryset, "retry", "queued again")

    @admin.action(description=_("Resolve (no retry: fixed elsewhere or not needed)"), permissions=["resolve"])
    def resolve(self, request, queryset):
        self._each(request, queryset, "resolve", "resolved")

    def _each(self, request, queryset, name, verb):
        done = 0
        for job in queryset:
            try:
                self.workflow_run(request, job, name)
                done += 1
            except JobActionError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if done:
            texts = {"queued again": ngettext("%(count)d job queued again.", "%(count)d jobs queued again.", done),
                     "resolved": ngettext("%(count)d job resolved.", "%(count)d jobs resolved.", done)}
            self.message_user(request, texts[verb] % {"count": done}, messages.SUCCESS)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "endpoint_code", "job_link", "flow", "outcome_label", "duration_ms", "error_excerpt"]
    list_filter = ["outcome", "endpoint"]
    date_hierarchy = "finished_at"
    list_select_related = ["endpoint", "job"]
    search_fields = ["error", "request_summary", "job__record_label"]
    exclude = ["error"]
    readonly_fields = ["error_shown"]

    @admin.display(description=_("Error"))
    def error_shown(self, obj):
        return text_shown(obj.error_text, obj.error)

    @admin.display(description=_("Job"))
    def job_link(self, obj):
        return format_html('<a href="{}">#{} {}</a>', reverse("admin:connectors_syncjob_change", args=[obj.job_id]), obj.job_id, truncated(obj.job.record_label, 10))

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_label(self, obj):
        label = format_html('<span class="hub-wrap">{}</span>', obj.get_outcome_display())
        if obj.response_status:
            return format_html('{}<span class="hub-sub">HTTP {}</span>', label, obj.response_status)
        return label

    @admin.display(description=_("Flow"))
    def flow(self, obj):
        return format_html('<span class="hub-wrap" title="{}">{}</span>', obj.job.flow, flow_label(obj.job.flow))

    @admin.display(description=_("connector"), ordering="endpoint__code")
    def endpoint_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.endpoint.name, truncated(obj.endpoint.code, 14))

    @admin.display(description=_("Error"))
    def error_excerpt(self, obj):
        return clipped(text_shown(obj.error_text, obj.error), 60)


@admin.register(Binding)
class BindingAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "model", "local_id", "external_id", "synced_at"]
    list_filter = ["endpoint", "model"]
    search_fields = ["local_id", "external_id", "data"]


BODY_SHOWN_BYTES = 100_000


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "endpoint", "topic", "delivery", "status", "rejection", "signature_ok", "remote_addr", "body_size",
                    "attempts", "error_excerpt"]
    list_filter = ["status", "rejection", "endpoint", "topic", "signature_ok"]
    search_fields = ["delivery_id", "error", "topic", "remote_addr"]
    readonly_fields = [f.name if f.name != "error" else "error_shown" for f in InboxMessage._meta.fields
                       if f.name not in ("body", "error_text")] + ["body_text", "signature_now"]
    exclude = ["error"]  # shown in the reader's language by error_shown
    actions = ["replay"]

    class Media:
        css = {"all": ["hub/admin.css"]}

    has_replay_permission = granted_by("connectors.replay_inboxmessage")

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Replay (process again)"), permissions=["replay"])
    def replay(self, request, queryset):
        for message in queryset:
            result = inbox_process(message_id=message.pk, replay=True)
            level = messages.SUCCESS if result.status in {"processed", "ignored"} else messages.WARNING
            self.message_user(request, gettext("#%(message_pk)s: %(status)s — %(error)s") % {"message_pk": message.pk, "status": result.get_status_display(), "error": text_shown(result.error_text, result.error)}, level)

    @admin.display(description=_("Delivery id"), ordering="delivery_id")
    def delivery(self, obj):
        return obj.delivery_id if len(obj.delivery_id) <= 60 else obj.delivery_id[:60] + "…"

    @admin.display(description=_("Outcome or error"))
    def error_excerpt(self, obj):
        return truncated(text_shown(obj.error_text, obj.error), 60)

    @admin.display(description=_("Outcome or error"))
    def error_shown(self, obj):
        return text_shown(obj.error_text, obj.error)

    @admin.display(description=_("Body"))
    def body_text(self, obj):
        shown = bytes(obj.body)[:BODY_SHOWN_BYTES]
        size = max(obj.body_size, len(bytes(obj.body)))
        note = "" if len(shown) == size else _("(the first %(shown)s of %(size)s bytes)") % {"shown": len(shown), "size": size}
        text = escape_nul(shown.decode("utf-8", errors="replace"))
        if not note:
            try:
                return pretty_json(json.loads(text))  # a JSON body, indented for reading
            except ValueError:
                pass
        return format_html("<pre class='hub-json'>{}</pre>{}", text, note)

    @admin.display(description=_("Signature, checked again now"))
    def signature_now(self, obj):
        if len(bytes(obj.body)) < obj.body_size:
            return _("cannot be checked: only the start of the body was kept")
        return _("matches the stored body") if inbox_signature_check(message=obj) else _("does not match the stored body")

@admin.register(InboxRejection)
class InboxRejectionAdmin(ReadOnlyAdmin):
    """Rejected webhook deliveries counted per endpoint, source address and reason."""

    list_display = ["endpoint", "remote_addr", "reason", "count", "bytes_received", "first_at", "last_at"]
    list_filter = ["reason", "endpoint"]
    search_fields = ["remote_addr"]
