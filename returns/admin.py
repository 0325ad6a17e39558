from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from hub.admin import TimelineInline, Workflow, WorkflowAdminMixin, admin_permission_required, granted_by
from hub.display import badge, truncated
from hub.money import money_format
from hub.imports.changelist import SpreadsheetExportMixin
from hub.texts import Text
from inventory.models import Warehouse
from returns import services
from returns.models import ChannelReturnPolicy, Rma, RmaLine, RmaStatus


class RmaLineInline(admin.TabularInline):
    model = RmaLine
    extra = 0
    can_delete = False
    classes = ["hub-rows"]
    fields = ["order_line", "quantity", "reason", "replacement_product", "received_quantity", "condition", "disposition", "disposition_warehouse"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("7", _("Open for more than 7 days")), ("14", _("Open for more than 14 days"))]

    def queryset(self, request, queryset):
        if self.value():
            cutoff = timezone.now() - timezone.timedelta(days=int(self.value()))
            return queryset.filter(created_at__lt=cutoff).exclude(status__in=[RmaStatus.CLOSED, RmaStatus.CANCELLED, RmaStatus.REJECTED])
        return queryset


R = RmaStatus
RECEIVABLE = {R.AUTHORISED, R.IN_TRANSIT, R.RECEIVED}
NEXT_STEPS = [("receive", RECEIVABLE), ("inspect", {R.RECEIVED})]
STEP_LABELS = {"receive": _("Receive"), "inspect": _("Inspect")}
STATUS_TONES = {R.REQUESTED: "warning", R.AUTHORISED: "info", R.IN_TRANSIT: "info", R.RECEIVED: "warning", R.INSPECTED: "info",
                R.REFUNDED: "success", R.CLOSED: "muted", R.REJECTED: "muted", R.CANCELLED: "muted"}


@admin.register(Rma)
class RmaAdmin(WorkflowAdminMixin, SpreadsheetExportMixin, admin.ModelAdmin):
    hub_resource = "returns"
    service_errors = (services.ReturnError,)
    list_display = ["number", "order", "customer_short", "channel_code", "status_label", "age_days", "refunded_amount"]  # + next steps
    list_filter = ["status", AgeFilter, "channel", "source"]
    search_fields = ["number", "order__number", "order__external_id", "customer__code", "customer__name", "customer__email"]
    list_select_related = ["order", "customer", "channel"]
    readonly_fields = ["number", "order", "customer", "channel", "source", "status", "expected_warehouse", "carrier", "tracking_number",
                       "refunded_total", "replacement_order", "created_at", "updated_at"]
    fields = readonly_fields + ["refund_method", "notes"]
    inlines = [RmaLineInline, TimelineInline]
    actions = ["authorise", "reject", "cancel", "refund", "close"]
    workflows = (
        Workflow("authorise", _("Authorise"), "authorise", lambda rma: rma.status == R.REQUESTED),
        Workflow("reject", _("Reject"), "reject", lambda rma: rma.status == R.REQUESTED, danger=True,
                 confirm=_("Reject this return request?")),
        Workflow("receive", _("Receive goods"), "receive", lambda rma: rma.status in RECEIVABLE, url_name="returns_rma_receive"),
        Workflow("inspect", _("Inspect"), "inspect", lambda rma: rma.status == R.RECEIVED, url_name="returns_rma_inspect"),
        Workflow("refund", _("Refund what is due"), "refund", lambda rma: rma.status in {R.IN_TRANSIT, R.RECEIVED, R.INSPECTED}),
        Workflow("close", _("Close"), "close", lambda rma: rma.status in {R.INSPECTED, R.REFUNDED}),
        Workflow("cancel", _("Cancel return"), "cancel", lambda rma: rma.status in {R.REQUESTED, R.AUTHORISED, R.IN_TRANSIT}, danger=True,
                 confirm=_("Cancel this return?")),
    )

    has_authorise_permission = granted_by("returns.authorise_rma")
    has_reject_permission = granted_by("returns.reject_rma")
    has_cancel_permission = granted_by("returns.cancel_rma")
    has_receive_permission = granted_by("returns.receive_rma")
    has_inspect_permission = granted_by("returns.inspect_rma")
    has_refund_permission = granted_by("returns.refund_rma")
    has_close_permission = granted_by("returns.close_rma")

    def has_add_permission(self, request):
        return False  # returns are requested from an order (services.rma_request), by apps, helpdesk or staff

    def get_readonly_fields(self, request, obj=None):
        settled = obj is not None and (obj.refunded_total or obj.status in {"refunded", "closed", "rejected", "cancelled"})
        return [*self.readonly_fields, "refund_method"] if settled else self.readonly_fields

    @admin.display(description=_("Age (days)"))
    def age_days(self, obj):
        return (timezone.now() - obj.created_at).days

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_short(self, obj):
        return truncated(obj.customer.company or obj.customer.name, 20)

    @admin.display(description=_("channel"), ordering="channel__code")
    def channel_code(self, obj):
        return obj.channel.code

    @admin.display(description=_("refunded"), ordering="refunded_total")
    def refunded_amount(self, obj):
        return money_format(obj.refunded_total, obj.order.currency)

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        return badge(obj.get_status_display(), STATUS_TONES.get(obj.status, "neutral"))

    def get_list_display(self, request):
        """The next-step links offer only the steps this user may take."""
        steps = [(step, statuses) for step, statuses in NEXT_STEPS if getattr(self, f"has_{step}_permission")(request)]

        @admin.display(description=_("Next step"))
        def step_links(obj):
            links = format_html_join(" · ", '<a class="rma-step" href="{}">{}</a>', ((reverse(f"admin:returns_rma_{step}", args=[obj.pk]), STEP_LABELS[step])
                                                                                     for step, statuses in steps if obj.status in statuses))
            return format_html('<span class="hub-wrap">{}</span>', links) if links else ""

        return [*super().get_list_display(request), step_links]

    # --- Steps: one function each, for the page's button and the list's action ---

    def do_authorise(self, request, rma):
        services.rma_authorise(rma=rma, user=request.user)

    def do_reject(self, request, rma):
        services.rma_reject(rma=rma, reason=Text(gettext_noop("rejected by %(user)s"), user=request.user.get_username()), user=request.user)

    def do_cancel(self, request, rma):
        services.rma_cancel(rma=rma, reason=Text(gettext_noop("cancelled by %(user)s"), user=request.user.get_username()), user=request.user)

    def do_refund(self, request, rma):
        amount = services.rma_refund(rma=rma, user=request.user)
        return gettext("%(rma)s: %(amount)s %(currency)s refunded.") % {"rma": rma.number, "amount": amount, "currency": rma.order.currency} \
            if amount else gettext("%(rma)s: nothing is due now.") % {"rma": rma.number}

    def do_close(self, request, rma):
        services.rma_close(rma=rma, user=request.user)

    @admin.action(description=_("Authorise (creates exchange orders)"), permissions=["authorise"])
    def authorise(self, request, queryset):
        self.workflow_each(request, queryset, "authorise", gettext("authorised"))

    @admin.action(description=_("Reject"), permissions=["reject"])
    def reject(self, request, queryset):
        self.workflow_each(request, queryset, "reject", gettext("rejected"))

    @admin.action(description=_("Cancel (before receipt)"), permissions=["cancel"])
    def cancel(self, request, queryset):
        self.workflow_each(request, queryset, "cancel", gettext("cancelled"))

    @admin.action(description=_("Refund what is due now"), permissions=["refund"])
    def refund(self, request, queryset):
        self.workflow_each(request, queryset, "refund", gettext("refunded"))

    @admin.action(description=_("Close"), permissions=["close"])
    def close(self, request, queryset):
        self.workflow_each(request, queryset, "close", gettext("closed"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/receive/", view(self.receive_view), name="returns_rma_receive"),
                path("<int:pk>/inspect/", view(self.inspect_view), name="returns_rma_inspect")] + super().get_urls()

    def _render(self, request, rma, title, form):
        context = {**self.admin_site.each_context(request), "title": gettext("%(step)s %(number)s") % {"step": title, "number": rma.number}, "rma": rma, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/returns/step_form.html", context)

    @admin_permission_required("receive")
    def receive_view(self, request, pk):
        rma = get_object_or_404(Rma, pk=pk)
        lines = list(rma.lines.select_related("order_line"))
        form = forms.Form(request.POST or None)
        for line in lines:
            form.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.order_line.sku} — {line.order_line.name}", min_value=0, max_value=line.quantity - line.received_quantity,
                initial=line.quantity - line.received_quantity, help_text=gettext("%(received)d of %(quantity)d received so far") % {"received": line.received_quantity, "quantity": line.quantity})
        if request.method == "POST" and form.is_valid():
            quantities = {line.pk: form.cleaned_data[f"line_{line.pk}"] for line in lines if form.cleaned_data[f"line_{line.pk}"]}
            try:
                services.rma_receive(rma=rma, quantities=quantities, user=request.user)
            except services.ReturnError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, gettext("%(number)s: receipt recorded.") % {"number": rma.number}, messages.SUCCESS)
                return redirect("admin:returns_rma_change", rma.pk)
        return self._render(request, rma, gettext("Receive"), form)

    @admin_permission_required("inspect")
    def inspect_view(self, request, pk):
        rma = get_object_or_404(Rma, pk=pk)
        lines = [line for line in rma.lines.select_related("order_line") if line.received_quantity]
        form = forms.Form(request.POST or None)
        warehouses = Warehouse.objects.filter(is_active=True, is_sellable=True)
        for line in lines:
            label = gettext("%(sku)s (%(received)d received)") % {"sku": line.order_line.sku, "received": line.received_quantity}
            form.fields[f"condition_{line.pk}"] = forms.ChoiceField(label=gettext("%(line)s: condition") % {"line": label}, choices=RmaLine.Condition.choices)
            form.fields[f"disposition_{line.pk}"] = forms.ChoiceField(label=_("disposition"), choices=RmaLine.Disposition.choices)
            form.fields[f"warehouse_{line.pk}"] = forms.ModelChoiceField(warehouses, label=_("restock to"), initial=rma.expected_warehouse_id, required=False)
        if request.method == "POST" and form.is_valid():
            results = {line.pk: {"condition": form.cleaned_data[f"condition_{line.pk}"], "disposition": form.cleaned_data[f"disposition_{line.pk}"],
                                 "warehouse": form.cleaned_data[f"warehouse_{line.pk}"]} for line in lines}
            try:
                services.rma_inspect(rma=rma, results=results, user=request.user)
            except services.ReturnError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, gettext("%(number)s: inspection recorded.") % {"number": rma.number}, messages.SUCCESS)
                return redirect("admin:returns_rma_change", rma.pk)
        return self._render(request, rma, gettext("Inspect"), form)


@admin.register(ChannelReturnPolicy)
class ChannelReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "refund_trigger", "refund_shipping", "restocking_fee_percent", "return_window_days"]
