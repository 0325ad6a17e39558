from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from hub.admin import (
    PanelsAdminMixin, ReadOnlyAdmin, ServiceActionsMixin, TimelineInline, Workflow, WorkflowAdminMixin, admin_permission_required,
    granted_by,
)
from hub.display import EMPTY, address_block, badge, chips, clipped, percent, truncated
from hub.imports.changelist import SpreadsheetAdminMixin, SpreadsheetExportMixin
from hub.money import money_format
from hub.texts import Text
from orders import services
from orders.fec import ENCODING as FEC_ENCODING
from orders.fec import FecError, fec_build
from orders.forms import FecExportForm, StaffOrderForm, StaffOrderLineFormSet
from orders.journal import JournalError
from orders.models import (
    Account, AccountAssignment, Address, ChannelOrderSettings, CompanySettings, CreditNote, CreditNoteLine, Customer, CustomerGroup,
    CustomerMatch, Invoice, InvoiceLine, OrderLine, Payment, SalesOrder, Shipment, ShippingLine,
)
from orders.models import OrderStatus, PaymentStatus
from orders.selectors import customer_account, hold_kinds, invoices_open, orders_on_hold

S = OrderStatus
STATUS_TONES = {S.RECEIVED: "info", S.CONFIRMED: "info", S.ALLOCATED: "info", S.PARTIALLY_SHIPPED: "warning", S.SHIPPED: "success",
                S.COMPLETED: "success", S.ON_HOLD: "danger", S.CANCELLED: "muted"}
PAYMENT_TONES = {PaymentStatus.PENDING: "warning", PaymentStatus.AUTHORISED: "info", PaymentStatus.PAID: "success",
                 PaymentStatus.PARTIALLY_REFUNDED: "warning", PaymentStatus.REFUNDED: "muted"}


def money(amount, currency) -> str:
    return money_format(amount, currency) if amount is not None else EMPTY


def order_status_badge(order):
    return badge(order.get_status_display(), STATUS_TONES.get(order.status, "neutral"), title=order.hold_reason_shown)


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["price_lists"]


@admin.register(Customer)
class CustomerAdmin(PanelsAdminMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    hub_resource = "customers"
    list_display = ["code", "name_and_company", "type", "email_short", "group", "payment_terms_label", "credit_limit_amount", "is_active"]
    list_filter = ["type", "group", "payment_terms", "channels", "is_active"]
    search_fields = ["code", "name", "company", "email", "vat_number"]
    filter_horizontal = ["price_lists", "channels"]
    inlines = [AddressInline]
    panels = ["account_panel"]

    @admin.display(description=_("name"), ordering="name")
    def name_and_company(self, obj):
        if obj.company and obj.company != obj.name:
            return format_html("{}<span class=\"hub-sub\">{}</span>", truncated(obj.name, 26), truncated(obj.company, 26))
        return truncated(obj.name, 26)

    @admin.display(description=_("e-mail"), ordering="email")
    def email_short(self, obj):
        return truncated(obj.email, 16)

    @admin.display(description=_("payment terms"), ordering="payment_terms")
    def payment_terms_label(self, obj):
        return format_html('<span class="hub-wrap">{}</span>', obj.get_payment_terms_display())

    @admin.display(description=_("credit limit"), ordering="credit_limit")
    def credit_limit_amount(self, obj):
        return money(obj.credit_limit, obj.currency)

    @admin.display(description=_("Orders and balance"))
    def account_panel(self, request, customer):
        from django.template.loader import render_to_string

        account = customer_account(customer=customer)
        orders_url = reverse("admin:orders_salesorder_changelist") + f"?customer__id__exact={customer.pk}"
        invoices_url = reverse("admin:orders_invoice_changelist") + f"?customer__id__exact={customer.pk}"
        rows = [{"order": order, "url": reverse("admin:orders_salesorder_change", args=[order.pk]), "status": order_status_badge(order)}
                for order in account.orders]
        return render_to_string("admin/orders/customer/account_panel.html", {
            "account": account, "customer": customer, "rows": rows, "orders_url": orders_url, "invoices_url": invoices_url,
            "credit_tone": "danger" if (account.credit_used_percent or 0) > 100 else "warning" if (account.credit_used_percent or 0) >= 80 else "success",
        }, request=request)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    classes = ["hub-rows"]
    fields = ["position", "sku", "name", "quantity", "quantity_shipped", "unit_price_amount", "discount", "tax_rate_percent", "tax_amount",
              "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("unit price"))
    def unit_price_amount(self, obj):
        return money_format(obj.unit_price, obj.order.currency, max_places=4)

    @admin.display(description=_("tax rate"))
    def tax_rate_percent(self, obj):
        return percent(obj.tax_rate)


class ShippingLineInline(OrderLineInline):
    model = ShippingLine
    fields = ["title", "code", "price", "tax_amount"]
    readonly_fields = fields


class ShipmentInline(OrderLineInline):
    model = Shipment
    fields = ["number", "warehouse", "carrier", "service", "tracking", "shipped_at"]
    readonly_fields = fields

    @admin.display(description=_("tracking numbers"))
    def tracking(self, obj):
        return chips(obj.tracking_numbers)


class InvoiceInline(OrderLineInline):
    model = Invoice
    fields = ["number", "issued_on", "due_on", "total_amount", "print_link"]
    readonly_fields = fields

    @admin.display(description="")
    def print_link(self, obj):
        return invoice_print_link(obj)

    @admin.display(description=_("total"))
    def total_amount(self, obj):
        return money(obj.total, obj.currency)


def invoice_print_link(invoice):
    return _print_link("admin:orders_invoice_print", invoice)


def credit_note_print_link(note):
    return _print_link("admin:orders_creditnote_print", note)


def _print_link(url_name, document):
    return format_html('<a class="invoice-print" href="{}" target="_blank">{}</a>', reverse(url_name, args=[document.pk]), gettext("Print"))


def document_print_response(request, document, *, title, lines, balance=None):
    """The printable invoice or credit note (orders/invoice_print.html), headed by the company settings."""
    return TemplateResponse(request, "orders/invoice_print.html", {"document": document, "title": title, "lines": lines, "balance": balance,
                                                                 "seller": CompanySettings.objects.first()})


class PaymentInline(OrderLineInline):
    model = Payment
    fields = ["kind", "method", "amount_paid", "received_on", "reference", "invoice"]
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount_paid(self, obj):
        return money(obj.amount, obj.currency)


ORDER_CANCELLABLE = {S.RECEIVED, S.CONFIRMED, S.ALLOCATED, S.ON_HOLD}


class HoldReasonFilter(admin.SimpleListFilter):
    """Orders on hold for one kind of reason (the overview's links use it)."""

    title = _("hold reason")
    parameter_name = "hold"

    def lookups(self, request, model_admin):
        return [(kind.code, kind.label) for kind in hold_kinds()]

    def queryset(self, request, queryset):
        return orders_on_hold(queryset, kind=self.value()) if self.value() else queryset


@admin.register(SalesOrder)
class SalesOrderAdmin(WorkflowAdminMixin, PanelsAdminMixin, SpreadsheetExportMixin, admin.ModelAdmin):
    hub_resource = "orders"
    service_errors = (services.OrderError,)
    list_display = ["number", "customer_short", "status_label", "payment_label", "total_amount", "created_on", "channel_code"]
    list_filter = ["status", HoldReasonFilter, "payment_status", "channel", "created_at"]
    search_fields = ["number", "external_id", "customer__code", "customer__name", "customer__email", "lines__sku"]
    list_select_related = ["channel", "customer"]
    date_hierarchy = "created_at"
    readonly_fields = ["number", "channel", "external_id", "customer", "status_label", "hold_reason_label", "payment_label",
                       "prices_include_tax", "billing_address_block", "shipping_address_block", "discount_chips", "subtotal", "discount_total",
                       "shipping_total", "tax_total", "total_amount", "placed_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["number", "channel", "external_id", "customer", "status_label", "hold_reason_label", "payment_label"]}),
        (_("Addresses"), {"fields": [("billing_address_block", "shipping_address_block")]}),
        (_("Amounts"), {"fields": ["prices_include_tax", "discount_chips", "subtotal", "discount_total", "shipping_total", "tax_total",
                                   "total_amount"]}),
        (_("Record"), {"fields": ["placed_at", "created_at", "updated_at", "notes"]}),
    ]
    inlines = [OrderLineInline, ShippingLineInline, ShipmentInline, InvoiceInline, PaymentInline, TimelineInline]
    actions = ["confirm", "allocate", "hold", "release", "cancel", "ship_reserved", "complete"]
    workflows = (
        Workflow("confirm", _("Confirm"), "confirm", lambda o: o.status == S.RECEIVED),
        Workflow("allocate", _("Allocate stock"), "confirm", lambda o: o.status == S.CONFIRMED),
        Workflow("release", _("Release hold"), "release", lambda o: o.status == S.ON_HOLD),
        Workflow("ship", _("Ship what is reserved"), "ship", lambda o: o.status in {S.ALLOCATED, S.PARTIALLY_SHIPPED}),
        Workflow("complete", _("Mark completed"), "complete", lambda o: o.status == S.SHIPPED),
        Workflow("hold", _("Put on hold"), "hold", lambda o: o.status in {S.RECEIVED, S.CONFIRMED, S.ALLOCATED}),
        Workflow("cancel", _("Cancel order"), "cancel", lambda o: o.status in ORDER_CANCELLABLE, danger=True,
                 confirm=_("Cancel this order? Its reserved stock is released.")),
    )

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

    def has_delete_permission(self, request, obj=None):
        """An order that was invoiced or shipped is part of the books and the stock ledger."""
        if obj is not None and (obj.invoices.exists() or obj.shipments.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one page at a time, where the rule above applies
        return actions

    def get_urls(self):
        return [path("staff-order/", self.admin_site.admin_view(self.staff_order_view), name="orders_staff_order")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_staff_order": self.has_staff_order_permission(request), **(extra_context or {})})

    @admin_permission_required("staff_order")
    def staff_order_view(self, request):
        lines = StaffOrderLineFormSet(request.POST or None, prefix="lines")
        form = StaffOrderForm(request.POST or None, lines=lines)
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            try:
                order, _created = services.order_import(channel=form.cleaned_data["channel"], data=form.payload(), user=request.user)
            except services.OrderError as exc:
                form.add_error("customer", str(exc))
            else:
                level = messages.WARNING if order.status == "on_hold" else messages.SUCCESS
                self.message_user(request, gettext("%(number)s created: %(status)s%(hold)s, total %(total)s.") % {
                    "number": order.number, "status": order.get_status_display(),
                    "hold": f" — {order.hold_reason_shown}" if order.hold_reason else "", "total": money_format(order.total, order.currency)}, level)
                return redirect("admin:orders_salesorder_change", order.pk)
        context = {**self.admin_site.each_context(request), "title": _("New staff order"), "form": form, "lines": lines,
                   "opts": self.model._meta, "media": self.media + form.media + lines.media}
        return TemplateResponse(request, "admin/orders/staff_order_form.html", context)

    # --- Readable values ---

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_short(self, obj):
        return truncated(obj.customer.company or obj.customer.name, 28)

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        if not obj.hold_reason:
            return order_status_badge(obj)
        return format_html("{} {}", order_status_badge(obj), clipped(obj.hold_reason_shown, 40))

    @admin.display(description=_("hold reason"))
    def hold_reason_label(self, obj):
        return obj.hold_reason_shown

    @admin.display(description=_("payment"), ordering="payment_status")
    def payment_label(self, obj):
        return badge(obj.get_payment_status_display(), PAYMENT_TONES.get(obj.payment_status, "neutral"))

    @admin.display(description=_("total"), ordering="total")
    def total_amount(self, obj):
        return money(obj.total, obj.currency)

    @admin.display(description=_("date"), ordering="created_at")
    def created_on(self, obj):
        return timezone.localtime(obj.created_at).date()

    @admin.display(description=_("channel"), ordering="channel__code")
    def channel_code(self, obj):
        return obj.channel.code

    @admin.display(description=_("billing address"))
    def billing_address_block(self, obj):
        return address_block(obj.billing_address)

    @admin.display(description=_("shipping address"))
    def shipping_address_block(self, obj):
        return address_block(obj.shipping_address)

    @admin.display(description=_("discount codes"))
    def discount_chips(self, obj):
        return chips(obj.discount_codes)

    # --- Steps: one function each, for the page's button and the list's action ---

    def do_confirm(self, request, order):
        order = services.order_confirm(order=order, user=request.user)
        return _after(order)

    def do_allocate(self, request, order):
        return _after(services.order_allocate(order=order, user=request.user))

    def do_hold(self, request, order):
        services.order_hold(order=order, reason=Text(gettext_noop("held by %(user)s from the admin"), user=request.user.get_username()),
                            user=request.user)
        return gettext("%(order)s put on hold.") % {"order": order.number}

    def do_release(self, request, order):
        return _after(services.order_release(order=order, user=request.user))

    def do_cancel(self, request, order):
        services.order_cancel(order=order, reason=Text(gettext_noop("cancelled by %(user)s"), user=request.user.get_username()), user=request.user)
        return gettext("%(order)s cancelled; its reserved stock is released.") % {"order": order.number}

    def do_ship(self, request, order):
        shipments = services.order_ship_reserved(order=order, user=request.user)
        return " ".join(gettext("%(shipment)s created.") % {"shipment": shipment.number} for shipment in shipments)

    def do_complete(self, request, order):
        services.order_complete(order=order, user=request.user)
        return gettext("%(order)s completed.") % {"order": order.number}

    @admin.action(description=_("Confirm (and allocate stock)"), permissions=["confirm"])
    def confirm(self, request, queryset):
        self.workflow_each(request, queryset, "confirm", gettext("confirmed"))

    @admin.action(description=_("Allocate stock (confirmed orders)"), permissions=["confirm"])
    def allocate(self, request, queryset):
        self.workflow_each(request, queryset, "allocate")

    @admin.action(description=_("Put on hold"), permissions=["hold"])
    def hold(self, request, queryset):
        self.workflow_each(request, queryset, "hold", gettext("put on hold"))

    @admin.action(description=_("Release hold (check again and allocate)"), permissions=["release"])
    def release(self, request, queryset):
        self.workflow_each(request, queryset, "release", gettext("released"))

    @admin.action(description=_("Cancel (releases reserved stock)"), permissions=["cancel"])
    def cancel(self, request, queryset):
        self.workflow_each(request, queryset, "cancel", gettext("cancelled"))

    @admin.action(description=_("Create shipment of everything reserved (per warehouse)"), permissions=["ship"])
    def ship_reserved(self, request, queryset):
        self.workflow_each(request, queryset, "ship")

    @admin.action(description=_("Mark completed"), permissions=["complete"])
    def complete(self, request, queryset):
        self.workflow_each(request, queryset, "complete", gettext("completed"))


def _after(order) -> str:
    """What a confirm / allocate / release ended in: allocated, or held again and why."""
    order.refresh_from_db(fields=["status", "hold_reason", "hold_text"])
    if order.status == S.ON_HOLD:
        return gettext("%(order)s is on hold: %(reason)s") % {"order": order.number, "reason": order.hold_reason_shown}
    return gettext("%(order)s is now %(status)s.") % {"order": order.number, "status": order.get_status_display().lower()}


class OverdueFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "balance"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue (due date passed, not fully paid)")), ("open", _("Not fully paid"))]

    def queryset(self, request, queryset):
        if self.value() in {"overdue", "open"}:
            queryset = invoices_open(queryset)
            if self.value() == "overdue":
                queryset = queryset.filter(due_on__lt=timezone.localdate())
        return queryset


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    classes = ["hub-rows"]
    fields = ["sku", "kind", "description_label", "quantity", "unit_price", "tax_rate_percent", "tax_amount", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tax rate"))
    def tax_rate_percent(self, obj):
        return percent(obj.tax_rate)

    @admin.display(description=_("description"))
    def description_label(self, obj):
        return obj.description_shown


class CreditNoteLineInline(InvoiceLineInline):
    model = CreditNoteLine
    fields = ["kind", "description_label", "quantity", "unit_price", "tax_rate_percent", "tax_amount", "line_total"]
    readonly_fields = fields


class CreditForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, help_text=_("Printed on the credit note, e.g. “order cancelled after invoicing”."))


@admin.register(Invoice)
class InvoiceAdmin(WorkflowAdminMixin, SpreadsheetExportMixin, ReadOnlyAdmin):
    hub_resource = "invoices"
    service_errors = (services.OrderError,)
    list_display = ["number", "customer_short", "issued_on", "due_on", "total_amount", "balance", "print_link"]
    list_filter = [OverdueFilter, "issued_on"]
    search_fields = ["number", "order__number", "customer__code", "customer__name"]
    list_select_related = ["order", "customer"]
    fields = ["number", "order", "customer", "issued_on", "due_on", "billing_address_block", "subtotal", "tax_total", "total_amount",
              "balance", "credit_notes_list"]
    readonly_fields = fields
    inlines = [InvoiceLineInline]
    workflows = (
        Workflow("print", _("Print"), "view", url_name="orders_invoice_print"),
        Workflow("credit", _("Credit in full"), "credit", lambda invoice: not invoice.credit_notes.exists(), url_name="orders_invoice_credit"),
    )
    has_credit_permission = granted_by("orders.add_creditnote")

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_short(self, obj):
        return truncated(obj.customer.company or obj.customer.name, 28)

    @admin.display(description=_("total"), ordering="total")
    def total_amount(self, obj):
        return money(obj.total, obj.currency)

    @admin.display(description=_("balance"))
    def balance(self, obj):
        due = services.invoice_balance(invoice=obj)
        return badge(money(due, obj.currency), "success" if due <= 0 else "danger" if obj.due_on < timezone.localdate() else "warning")

    @admin.display(description=_("billing address"))
    def billing_address_block(self, obj):
        return address_block(obj.billing_address)

    @admin.display(description=_("credit notes"))
    def credit_notes_list(self, obj):
        notes = list(obj.credit_notes.order_by("issued_on", "number"))
        if not notes:
            return EMPTY
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> {} — {} {}', (
            (reverse("admin:orders_creditnote_change", args=[note.pk]), note.number, money(note.total, note.currency), note.reason_shown,
             credit_note_print_link(note)) for note in notes))

    @admin.display(description="")
    def print_link(self, obj):
        return invoice_print_link(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/print/", view(self.print_view), name="orders_invoice_print"),
                path("<int:pk>/credit/", view(self.credit_view), name="orders_invoice_credit")] + super().get_urls()

    @admin_permission_required("view")
    def print_view(self, request, pk):
        invoice = get_object_or_404(Invoice.objects.select_related("order", "customer"), pk=pk)
        return document_print_response(request, invoice, title=gettext("Invoice"), lines=invoice.lines.all(),
                                       balance=services.invoice_balance(invoice=invoice))

    @admin_permission_required("credit")
    def credit_view(self, request, pk):
        invoice = get_object_or_404(Invoice.objects.select_related("order", "customer"), pk=pk)
        form = CreditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = services.invoice_credit_in_full(invoice=invoice, reason=form.cleaned_data["reason"], user=request.user)
            except services.OrderError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, gettext("%(note)s issued: %(total)s %(currency)s credited on %(invoice)s.")
                                  % {"note": note.number, "total": note.total, "currency": note.currency, "invoice": invoice.number}, messages.SUCCESS)
                return redirect("admin:orders_invoice_change", invoice.pk)
        context = {**self.admin_site.each_context(request), "title": gettext("Credit invoice %(number)s in full") % {"number": invoice.number},
                   "form": form, "opts": self.model._meta, "invoice": invoice, "media": self.media}
        return TemplateResponse(request, "admin/inventory/stock_form.html", context)


@admin.register(CreditNote)
class CreditNoteAdmin(WorkflowAdminMixin, ReadOnlyAdmin):
    list_display = ["number", "invoice", "order", "issued_on", "total_amount", "reason_short", "print_link"]
    list_filter = ["issued_on"]
    search_fields = ["number", "invoice__number", "order__number"]
    list_select_related = ["invoice", "order"]
    fields = ["number", "invoice", "order", "issued_on", "reason_label", "subtotal", "tax_total", "total_amount"]
    readonly_fields = fields
    inlines = [CreditNoteLineInline]
    workflows = (Workflow("print", _("Print"), "view", url_name="orders_creditnote_print"),)

    @admin.display(description="")
    def print_link(self, obj):
        return credit_note_print_link(obj)

    def get_urls(self):
        return [path("<int:pk>/print/", self.admin_site.admin_view(self.print_view), name="orders_creditnote_print")] + super().get_urls()

    @admin_permission_required("view")
    def print_view(self, request, pk):
        note = get_object_or_404(CreditNote.objects.select_related("invoice", "order__customer"), pk=pk)
        return document_print_response(request, note, title=gettext("Credit note"), lines=note.lines.all())

    @admin.display(description=_("total"), ordering="total")
    def total_amount(self, obj):
        return money(obj.total, obj.currency)

    @admin.display(description=_("reason"))
    def reason_short(self, obj):
        return truncated(obj.reason_shown, 50)

    @admin.display(description=_("reason"))
    def reason_label(self, obj):
        return obj.reason_shown


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
    list_display = ["customer", "customer_channels", "existing", "existing_channels", "reason_label", "status", "created_at", "decided_by"]
    exclude = ["reason"]
    readonly_fields = ["reason_label"]
    list_filter = ["status", "created_at"]
    search_fields = ["customer__code", "customer__email", "existing__code", "existing__email"]
    list_select_related = ["customer", "existing", "decided_by"]
    actions = ["link", "dismiss"]

    def has_link_permission(self, request):
        return request.user.has_perm("orders.link_customermatch")

    @admin.display(description=_("reason"))
    def reason_label(self, obj):
        return obj.reason_shown

    @admin.display(description=_("channels of the new customer"))
    def customer_channels(self, obj):
        return ", ".join(c.code for c in obj.customer.channels.all())

    @admin.display(description=_("channels of the existing customer"))
    def existing_channels(self, obj):
        return ", ".join(c.code for c in obj.existing.channels.all())

    @admin.action(description=_("Same person: link to the existing customer"), permissions=["link"])
    def link(self, request, queryset):
        self.run_service(request, queryset, services.customer_match_link, pgettext_lazy("possible duplicate customers", "linked"), subject="match")

    @admin.action(description=_("Not the same person: dismiss"), permissions=["link"])
    def dismiss(self, request, queryset):
        self.run_service(request, queryset, services.customer_match_dismiss, pgettext_lazy("possible duplicate customers", "dismissed"), subject="match")


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
    list_display = ["name", "siren", "vat_number", "currency", "sales_journal_code", "bank_journal_code"]
    fieldsets = [
        (_("On printed invoices and credit notes"), {"fields": ["name", "address", "siren", "vat_number", "registration", "invoice_note"]}),
        (_("Accounting"), {"fields": ["currency", "sales_journal_code", "sales_journal_label", "bank_journal_code", "bank_journal_label"]}),
    ]
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
