from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from hub.admin import ServiceActionsMixin, TimelineInline
from inventory.models import Warehouse
from returns import services
from returns.models import ChannelReturnPolicy, Rma, RmaLine, RmaStatus


class RmaLineInline(admin.TabularInline):
    model = RmaLine
    extra = 0
    can_delete = False
    fields = ["order_line", "quantity", "reason", "replacement_product", "received_quantity", "condition", "disposition", "disposition_warehouse"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("7", "Open for more than 7 days"), ("14", "Open for more than 14 days")]

    def queryset(self, request, queryset):
        if self.value():
            cutoff = timezone.now() - timezone.timedelta(days=int(self.value()))
            return queryset.filter(created_at__lt=cutoff).exclude(status__in=[RmaStatus.CLOSED, RmaStatus.CANCELLED, RmaStatus.REJECTED])
        return queryset


@admin.register(Rma)
class RmaAdmin(ServiceActionsMixin, admin.ModelAdmin):
    service_errors = (services.ReturnError,)
    list_display = ["number", "order", "customer", "channel", "status", "source", "age_days", "refunded_total", "step_links"]
    list_filter = ["status", AgeFilter, "channel", "source"]
    search_fields = ["number", "order__number", "order__external_id", "customer__code", "customer__name", "customer__email"]
    list_select_related = ["order", "customer", "channel"]
    readonly_fields = ["number", "order", "customer", "channel", "source", "status", "expected_warehouse", "carrier", "tracking_number",
                       "refunded_total", "replacement_order", "created_at", "updated_at"]
    fields = readonly_fields + ["notes"]
    inlines = [RmaLineInline, TimelineInline]
    actions = ["authorise", "reject", "cancel", "refund", "close"]

    def has_add_permission(self, request):
        return False  # returns are requested from an order (services.rma_request), by apps, helpdesk or staff

    @admin.display(description="Age (days)")
    def age_days(self, obj):
        return (timezone.now() - obj.created_at).days

    @admin.display(description="Next step")
    def step_links(self, obj):
        if obj.status in {RmaStatus.AUTHORISED, RmaStatus.IN_TRANSIT, RmaStatus.RECEIVED}:
            link = format_html('<a href="{}">receive</a>', reverse("admin:returns_rma_receive", args=[obj.pk]))
            if obj.status == RmaStatus.RECEIVED:
                link += format_html(' · <a href="{}">inspect</a>', reverse("admin:returns_rma_inspect", args=[obj.pk]))
            return link
        return ""

    def _run(self, request, queryset, service, verb, **kwargs):
        self.run_service(request, queryset, service, verb, subject="rma", **kwargs)

    @admin.action(description="Authorise (creates exchange orders)")
    def authorise(self, request, queryset):
        self._run(request, queryset, services.rma_authorise, "authorised")

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        self._run(request, queryset, services.rma_reject, "rejected", reason=f"rejected by {request.user.get_username()}")

    @admin.action(description="Cancel (before receipt)")
    def cancel(self, request, queryset):
        self._run(request, queryset, services.rma_cancel, "cancelled", reason=f"cancelled by {request.user.get_username()}")

    @admin.action(description="Refund what is due now")
    def refund(self, request, queryset):
        self._run(request, queryset, services.rma_refund, "refunded")

    @admin.action(description="Close")
    def close(self, request, queryset):
        self._run(request, queryset, services.rma_close, "closed")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/receive/", view(self.receive_view), name="returns_rma_receive"),
                path("<int:pk>/inspect/", view(self.inspect_view), name="returns_rma_inspect")] + super().get_urls()

    def _render(self, request, rma, title, form):
        context = {**self.admin_site.each_context(request), "title": f"{title} {rma.number}", "rma": rma, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/returns/step_form.html", context)

    def receive_view(self, request, pk):
        rma = get_object_or_404(Rma, pk=pk)
        lines = list(rma.lines.select_related("order_line"))
        form = forms.Form(request.POST or None)
        for line in lines:
            form.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.order_line.sku} — {line.order_line.name}", min_value=0, max_value=line.quantity - line.received_quantity,
                initial=line.quantity - line.received_quantity, help_text=f"{line.received_quantity} of {line.quantity} received so far")
        if request.method == "POST" and form.is_valid():
            quantities = {line.pk: form.cleaned_data[f"line_{line.pk}"] for line in lines if form.cleaned_data[f"line_{line.pk}"]}
            try:
                services.rma_receive(rma=rma, quantities=quantities, user=request.user)
            except services.ReturnError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"{rma.number}: receipt recorded.", messages.SUCCESS)
                return redirect("admin:returns_rma_change", rma.pk)
        return self._render(request, rma, "Receive", form)

    def inspect_view(self, request, pk):
        rma = get_object_or_404(Rma, pk=pk)
        lines = [line for line in rma.lines.select_related("order_line") if line.received_quantity]
        form = forms.Form(request.POST or None)
        warehouses = Warehouse.objects.filter(is_active=True, is_sellable=True)
        for line in lines:
            label = f"{line.order_line.sku} ({line.received_quantity} received)"
            form.fields[f"condition_{line.pk}"] = forms.ChoiceField(label=f"{label}: condition", choices=RmaLine.Condition.choices)
            form.fields[f"disposition_{line.pk}"] = forms.ChoiceField(label="disposition", choices=RmaLine.Disposition.choices)
            form.fields[f"warehouse_{line.pk}"] = forms.ModelChoiceField(warehouses, label="restock to", initial=rma.expected_warehouse_id, required=False)
        if request.method == "POST" and form.is_valid():
            results = {line.pk: {"condition": form.cleaned_data[f"condition_{line.pk}"], "disposition": form.cleaned_data[f"disposition_{line.pk}"],
                                 "warehouse": form.cleaned_data[f"warehouse_{line.pk}"]} for line in lines}
            try:
                services.rma_inspect(rma=rma, results=results, user=request.user)
            except services.ReturnError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"{rma.number}: inspection recorded.", messages.SUCCESS)
                return redirect("admin:returns_rma_change", rma.pk)
        return self._render(request, rma, "Inspect", form)


@admin.register(ChannelReturnPolicy)
class ChannelReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "refund_trigger", "refund_shipping", "restocking_fee_percent", "return_window_days"]
