import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from connectors.models import Binding, Endpoint, InboxMessage, SyncAttempt, SyncJob
from connectors.selectors import endpoint_dashboard
from connectors.services import inbox_process
from connectors.sync import JobActionError, sync_job_resolve, sync_job_retry
from hub.admin import ReadOnlyAdmin, admin_permission_required, granted_by


def _duration(value) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "channel", "health_badge", "queue_depth", "open_errors", "is_active"]
    list_filter = ["kind", "is_active", "health"]
    search_fields = ["code", "name"]
    exclude = ["credentials", "webhook_secret"]  # secrets are set from the command line and never shown back
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["secrets", "health", "health_changed_at", "consecutive_failures"]

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
            card.update(bars=bars, chart_width=8 + 16 * len(bars), lag_text=_duration(card["lag"]), median_text=_duration(card["median_sync_time"]))
            cards.append(card)
        context = {**self.admin_site.each_context(request), "title": "Operator console", "cards": cards, "hours": 24}
        return TemplateResponse(request, "admin/connectors/console.html", context)

    @admin.display(description="Secrets")
    def secrets(self, obj):
        names = [f"{name}=••••" for name in sorted(obj.credentials)]
        names.append("webhook secret " + ("set" if obj.webhook_secret else "not set"))
        return ", ".join(names)

    @admin.display(description="Health", ordering="health")
    def health_badge(self, obj):
        colour = "#2e7d32" if obj.health == "ok" else "#c62828"
        return format_html('<span style="color:{}">●</span> {}', colour, obj.get_health_display())

    @admin.display(description="Queued", ordering="pending_jobs")
    def queue_depth(self, obj):
        return obj.pending_jobs

    @admin.display(description="Open errors", ordering="failed_jobs")
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
    fields = ["number", "finished_at", "outcome", "response_status", "duration_ms", "error", "request_summary", "response_excerpt"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PayloadForm(forms.Form):
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family:monospace"}))

    def clean_payload(self):
        try:
            value = json.loads(self.cleaned_data["payload"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The payload must be a JSON object ({…}).")
        return value


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "endpoint", "flow", "record_label", "status", "error_class", "attempts", "next_attempt_at", "error_excerpt", "updated_at"]
    list_filter = ["status", "error_class", "endpoint", "flow"]
    search_fields = ["record_key", "record_label", "last_error"]
    list_select_related = ["endpoint"]
    inlines = [SyncAttemptInline]
    actions = ["retry", "resolve"]
    readonly_fields = ["endpoint", "flow", "record_key", "record_label", "status", "error_class", "last_error", "outcome", "attempts",
                       "changes", "next_attempt_at", "created_at", "updated_at", "started_at", "finished_at", "payload_pretty", "payload_edited",
                       "resolution", "resolved_by", "edit_link"]
    fields = readonly_fields

    has_retry_permission = granted_by("connectors.retry_syncjob")
    has_resolve_permission = granted_by("connectors.resolve_syncjob")
    has_edit_payload_permission = granted_by("connectors.edit_payload_syncjob")

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != "edit_link" or self.has_edit_payload_permission(request)]

    @admin.display(description="Last error")
    def error_excerpt(self, obj):
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error

    @admin.display(description="Payload")
    def payload_pretty(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False)) if obj.payload else "—"

    @admin.display(description="Edit and retry")
    def edit_link(self, obj):
        if obj.status not in (SyncJob.Status.FAILED, SyncJob.Status.PENDING):
            return "—"
        return format_html('<a class="button" href="{}">Edit the payload and retry</a>', reverse("admin:connectors_syncjob_edit_payload", args=[obj.pk]))

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
                self.message_user(request, f"Job #{job.pk}: edited payload queued; it is sent on the next run.", messages.SUCCESS)
                return redirect("admin:connectors_syncjob_change", job.pk)
        context = {**self.admin_site.each_context(request), "title": f"Edit payload of job #{job.pk}", "job": job, "form": form}
        return TemplateResponse(request, "admin/connectors/edit_payload.html", context)

    @admin.action(description="Retry now", permissions=["retry"])
    def retry(self, request, queryset):
        self._each(request, queryset, lambda job: sync_job_retry(job=job, user=request.user), "queued again")

    @admin.action(description="Resolve (no retry: fixed elsewhere or not needed)", permissions=["resolve"])
    def resolve(self, request, queryset):
        self._each(request, queryset, lambda job: sync_job_resolve(job=job, user=request.user, note=f"resolved by {request.user}"), "resolved")

    def _each(self, request, queryset, action, verb):
        done = 0
        for job in queryset:
            try:
                action(job)
                done += 1
            except JobActionError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if done:
            self.message_user(request, f"{done} job{'s' if done > 1 else ''} {verb}.", messages.SUCCESS)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "endpoint", "job_link", "flow", "outcome", "response_status", "duration_ms", "error_excerpt"]
    list_filter = ["outcome", "endpoint"]
    date_hierarchy = "finished_at"
    list_select_related = ["endpoint", "job"]
    search_fields = ["error", "request_summary", "job__record_label"]

    @admin.display(description="Job")
    def job_link(self, obj):
        return format_html('<a href="{}">#{} {}</a>', reverse("admin:connectors_syncjob_change", args=[obj.job_id]), obj.job_id, obj.job.record_label)

    @admin.display(description="Flow")
    def flow(self, obj):
        return obj.job.flow

    @admin.display(description="Error")
    def error_excerpt(self, obj):
        return obj.error[:120]


@admin.register(Binding)
class BindingAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "model", "local_id", "external_id", "synced_at"]
    list_filter = ["endpoint", "model"]
    search_fields = ["local_id", "external_id", "data"]


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "endpoint", "topic", "delivery_id", "status", "signature_ok", "attempts", "error"]
    list_filter = ["status", "endpoint", "topic", "signature_ok"]
    search_fields = ["delivery_id", "error", "body"]
    readonly_fields = [f.name for f in InboxMessage._meta.fields]
    actions = ["replay"]

    has_replay_permission = granted_by("connectors.replay_inboxmessage")

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay (process again)", permissions=["replay"])
    def replay(self, request, queryset):
        for message in queryset:
            result = inbox_process(message_id=message.pk, replay=True)
            level = messages.SUCCESS if result.status in {"processed", "ignored"} else messages.WARNING
            self.message_user(request, f"#{message.pk}: {result.get_status_display()} — {result.error}", level)
