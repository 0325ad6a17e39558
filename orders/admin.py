from django.contrib import admin, messages
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hub.admin import ReadOnlyAdmin, ServiceActionsMixin, TimelineInline, admin_permission_required, granted_by
from hub.imports.changelist import SpreadsheetAdminMixin, SpreadsheetExportMixin
from inventory.models import Reservation, Warehouse
from orders import services
from orders.fec import ENCODING as FEC_ENCODING
from orders.fec import FecError, fec_build
from orders.forms import FecExportForm, StaffOrderForm
from orders.journal import JournalError
from orders.models import (
    Account, AccountAssignment, Address, ChannelOrderSettings, CompanySettings, CreditNote, Customer, CustomerGroup, CustomerMatch,
    Invoice, OrderLine, Payment, SalesOrder, Shipment, ShippingLine,
)
from orders.selectors import invoices_open


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["price_lists"]


@admin.register(Customer)
class CustomerAdmin(SpreadsheetAdminMixin, admin.ModelAdmin):
    hub_resource = "customers"
    list_display = ["code", "name", "company", "type", "email", "group", "payment_terms", "credit_limit", "is_active"]
    list_filter = ["type", "group", "payment_terms", "channels", "is_active"]
    search_fields = ["code", "name", "company", "email", "vat_number"]
    filter_horizontal = ["price_lists", "channels"]
    inlines = [AddressInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["position", "sku", "name", "quantity", "quantity_shipped", "unit_price", "discount", "tax_rate", "tax_amount", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ShippingLineInline(OrderLineInline):
    model = ShippingLine
    fields = ["title", "code", "price", "tax_amount"]
    readonly_fields = fields


class ShipmentInline(OrderLineInline):
    model = Shipment
    fields = ["number", "warehouse", "carrier", "service", "tracking_numbers", "shipped_at"]
    readonly_fields = fields


class InvoiceInline(OrderLineInline):
    model = Invoice
    fields = ["number", "issued_on", "due_on", "total", "print_link"]
    readonly_fields = fields

    @admin.display(description="")
    def print_link(self, obj):
        return format_html('<a href="{}" target="_blank">print</a>', reverse("admin:orders_invoice_print", args=[obj.pk]))


class PaymentInline(OrderLineInline):
    model = Payment
    fields = ["kind", "method", "amount", "received_on", "reference", "invoice"]
    readonly_fields = fields


@admin.register(SalesOrder)
class SalesOrderAdmin(SpreadsheetExportMixin, ServiceActionsMixin, admin.ModelAdmin):
    hub_resource = "orders"
    service_errors = (services.OrderError,)
    list_display = ["number", "channel", "external_id", "customer", "status_label", "payment_status", "total", "currency", "created_at"]
    list_filter = ["status", "payment_status", "channel", "created_at"]
    search_fields = ["number", "external_id", "customer__code", "customer__name", "customer__email", "lines__sku"]
    list_select_related = ["channel", "customer"]
    date_hierarchy = "created_at"
    readonly_fields = ["number", "channel", "external_id", "customer", "currency", "status", "hold_reason", "payment_status",
                       "prices_include_tax", "billing_address", "shipping_address", "discount_codes", "subtotal", "discount_total",
                       "shipping_total", "tax_total", "total", "placed_at", "created_at", "updated_at"]
    fields = readonly_fields + ["notes"]
    inlines = [OrderLineInline, ShippingLineInline, ShipmentInline, InvoiceInline, PaymentInline, TimelineInline]
    actions = ["confirm", "hold", "release", "cancel", "ship_reserved", "complete"]

    change_list_template = "admin/orders/salesorder/change_list.html"

    has_confirm_permission = granted_by("orders.confirm_salesorder")
    has_hold_permission = granted_by("orders.hold_salesorder")
    has_release_permission = granted_by("orders.release_salesorder")
    has_cancel_permission = granted_by("orders.cancel_salesorder")
    has_ship_permission = granted_by("orders.ship_salesorder")
    has_complete_permission = granted_by("orders.complete_salesorder")
    has_staff_order_permission = granted_by("orders.add_salesorder")

    def has_add_permission(self, request):
        return False  # channel orders arrive through order_import; staff use "New staff order"

    def get_urls(self):
        return [path("staff-order/", self.admin_site.admin_view(self.staff_order_view), name="orders_staff_order")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_staff_order": self.has_staff_order_permission(request), **(extra_context or {})})

    @admin_permission_required("staff_order")
    def staff_order_view(self, request):
        form = StaffOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                order, _ = services.order_import(channel=form.cleaned_data["channel"], data=form.payload(), user=request.user)
            except services.OrderError as exc:
                form.add_error("customer", str(exc))
            else:
                level = messages.WARNING if order.status == "on_hold" else messages.SUCCESS
                self.message_user(request, f"{order.number} created: {order.get_status_display()}"
                                           f"{' — ' + order.hold_reason if order.hold_reason else ''}, total {order.total} {order.currency}.", level)
                return redirect("admin:orders_salesorder_change", order.pk)
        context = {**self.admin_site.each_context(request), "title": "New staff order", "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/inventory/stock_form.html", context)

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        colour = {"on_hold": "#c62828", "cancelled": "#777", "allocated": "#1565c0", "shipped": "#2e7d32", "completed": "#2e7d32"}.get(obj.status, "#333")
        text = obj.get_status_display() + (f" — {obj.hold_reason}" if obj.hold_reason else "")
        return format_html('<b style="color:{}">{}</b>', colour, text)

    def _run(self, request, queryset, service, verb, **kwargs):
        self.run_service(request, queryset, service, verb, subject="order", **kwargs)

    @admin.action(description="Confirm (and allocate stock)", permissions=["confirm"])
    def confirm(self, request, queryset):
        self._run(request, queryset, services.order_confirm, "confirmed")

    @admin.action(description="Put on hold", permissions=["hold"])
    def hold(self, request, queryset):
        self._run(request, queryset, services.order_hold, "put on hold", reason=f"held by {request.user.get_username()} from the admin")

    @admin.action(description="Release hold (check again and allocate)", permissions=["release"])
    def release(self, request, queryset):
        self._run(request, queryset, services.order_release, "released")

    @admin.action(description="Cancel (releases reserved stock)", permissions=["cancel"])
    def cancel(self, request, queryset):
        self._run(request, queryset, services.order_cancel, "cancelled", reason=f"cancelled by {request.user.get_username()}")

    @admin.action(description="Create shipment of everything reserved (per warehouse)", permissions=["ship"])
    def ship_reserved(self, request, queryset):
        for order in queryset:
            reserved = (Reservation.objects.filter(document=order.number).values("warehouse", "line_ref")
                        .annotate(quantity=Sum("quantity")).order_by("warehouse"))
            by_warehouse = {}
            for row in reserved:
                by_warehouse.setdefault(row["warehouse"], []).append((order.lines.get(pk=int(row["line_ref"])), row["quantity"]))
            if not by_warehouse:
                self.message_user(request, f"{order.number}: nothing reserved to ship.", messages.WARNING)
            for warehouse_id, lines in by_warehouse.items():
                try:
                    shipment = services.shipment_create(order=order, warehouse=Warehouse.objects.get(pk=warehouse_id),
                                                        lines=lines, user=request.user)
                    self.message_user(request, f"{shipment.number} created.", messages.SUCCESS)
                except services.OrderError as exc:
                    self.message_user(request, f"{order.number}: {exc}", messages.ERROR)

    @admin.action(description="Mark completed", permissions=["complete"])
    def complete(self, request, queryset):
        self._run(request, queryset, services.order_complete, "completed")


class OverdueFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "balance"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue (due date passed, not fully paid)"), ("open", "Not fully paid")]

    def queryset(self, request, queryset):
        if self.value() in {"overdue", "open"}:
            queryset = invoices_open(queryset)
            if self.value() == "overdue":
                queryset = queryset.filter(due_on__lt=timezone.localdate())
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(SpreadsheetExportMixin, ReadOnlyAdmin):
    hub_resource = "invoices"
    list_display = ["number", "order", "customer", "issued_on", "due_on", "total", "balance", "currency", "print_link"]
    list_filter = [OverdueFilter, "issued_on"]
    search_fields = ["number", "order__number", "customer__code", "customer__name"]
    list_select_related = ["order", "customer"]

    @admin.display(description="Balance")
    def balance(self, obj):
        return services.invoice_balance(invoice=obj)

    @admin.display(description="")
    def print_link(self, obj):
        return format_html('<a href="{}" target="_blank">print</a>', reverse("admin:orders_invoice_print", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/print/", self.admin_site.admin_view(self.print_view), name="orders_invoice_print")] + super().get_urls()

    @admin_permission_required("view")
    def print_view(self, request, pk):
        invoice = get_object_or_404(Invoice.objects.select_related("order", "customer"), pk=pk)
        return TemplateResponse(request, "orders/invoice_print.html", {"document": invoice, "title": "Invoice", "lines": invoice.lines.all(),
                                                                     "balance": services.invoice_balance(invoice=invoice)})


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "order", "issued_on", "total", "reason"]
    search_fields = ["number", "invoice__number", "order__number"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "method", "amount", "currency", "received_on", "reference"]
    list_filter = ["kind", "method", "received_on"]
    search_fields = ["order__number", "reference"]


@admin.register(ChannelOrderSettings)
class ChannelOrderSettingsAdmin(admin.ModelAdmin):
    list_display = ["channel", "invoice_trigger", "confirm_unpaid", "price_tolerance_percent"]


@admin.register(CustomerMatch)
class CustomerMatchAdmin(ServiceActionsMixin, ReadOnlyAdmin):
    """Customers a channel created with another channel's customer's e-mail. Linking shares the
    existing customer (its prices, terms, credit) with the channel, so it needs its own permission."""

    service_errors = (services.OrderError,)
    list_display = ["customer", "customer_channels", "existing", "existing_channels", "reason", "status", "created_at", "decided_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["customer__code", "customer__email", "existing__code", "existing__email"]
    list_select_related = ["customer", "existing", "decided_by"]
    actions = ["link", "dismiss"]

    def has_link_permission(self, request):
        return request.user.has_perm("orders.link_customermatch")

    @admin.display(description=_("channels of the new customer"))
    def customer_channels(self, obj):
        return ", ".join(c.code for c in obj.customer.channels.all())

    @admin.display(description=_("channels of the existing customer"))
    def existing_channels(self, obj):
        return ", ".join(c.code for c in obj.existing.channels.all())

    @admin.action(description=_("Same person: link to the existing customer"), permissions=["link"])
    def link(self, request, queryset):
        self.run_service(request, queryset, services.customer_match_link, _("linked"), subject="match")

    @admin.action(description=_("Not the same person: dismiss"), permissions=["link"])
    def dismiss(self, request, queryset):
        self.run_service(request, queryset, services.customer_match_dismiss, _("dismissed"), subject="match")


class AccountAssignmentInline(admin.TabularInline):
    model = AccountAssignment
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["number", "label", "label_en"]
    search_fields = ["number", "label", "label_en"]
    inlines = [AccountAssignmentInline]


@admin.register(AccountAssignment)
class AccountAssignmentAdmin(admin.ModelAdmin):
    list_display = ["role", "tax_rate", "payment_method", "account"]
    list_filter = ["role"]
    list_select_related = ["account"]
    search_fields = ["payment_method", "account__number", "account__label"]


@admin.register(CompanySettings)
class CompanySettingsAdmin(admin.ModelAdmin):
    list_display = ["name", "siren", "currency", "sales_journal_code", "bank_journal_code"]
    change_list_template = "admin/orders/companysettings/change_list.html"
    has_export_fec_permission = granted_by("orders.export_fec")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CompanySettings.objects.exists()

    def get_urls(self):
        return [path("fec/", self.admin_site.admin_view(self.fec_view), name="orders_companysettings_fec")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_export_fec": self.has_export_fec_permission(request), **(extra_context or {})})

    @admin_permission_required("export_fec")
    def fec_view(self, request):
        form = FecExportForm(request.GET if "export" in request.GET else None)
        if form.is_valid():
            try:
                fec = fec_build(date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"])
            except (FecError, JournalError) as exc:
                form.add_error(None, str(exc))
            else:
                response = HttpResponse(fec.content, content_type=f"text/plain; charset={FEC_ENCODING}")
                response["Content-Disposition"] = f'attachment; filename="{fec.name}"'
                return response
        context = {**self.admin_site.each_context(request), "title": _("Export the FEC"), "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/orders/companysettings/fec.html", context)
