from django.contrib import admin, messages
from django.db.models import F
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.admin import ReadOnlyAdmin, admin_permission_required, granted_by
from hub.display import badge, clipped, truncated
from hub.imports.changelist import SpreadsheetAdminMixin
from inventory import services
from inventory.forms import AdjustmentForm, TransferForm
from inventory.models import ChannelStockPolicy, Reservation, StockLevel, StockLot, StockMovement, Warehouse
from inventory.selectors import LOW_STOCK_THRESHOLD, stock_levels_by_availability



@admin.register(Warehouse)
class WarehouseAdmin(SpreadsheetAdminMixin, admin.ModelAdmin):
    hub_resource = "warehouses"
    list_display = ["code", "name", "kind", "country", "priority", "is_sellable", "allow_negative", "is_active"]
    list_filter = ["kind", "is_sellable", "is_active", "country"]
    search_fields = ["code", "name"]
    list_editable = ["priority"]


class AvailabilityFilter(admin.SimpleListFilter):
    title = _("availability")
    parameter_name = "availability"

    def lookups(self, request, model_admin):
        return [("low", _("Low (≤ %(threshold)s available)") % {"threshold": LOW_STOCK_THRESHOLD}), ("out", _("Out of stock")),
                ("negative", _("Negative on hand")), ("reserved", _("Has reservations"))]

    def queryset(self, request, queryset):
        if self.value() in {"low", "out", "negative", "reserved"}:
            return stock_levels_by_availability(queryset, self.value())
        return queryset


@admin.register(StockLevel)
class StockLevelAdmin(SpreadsheetAdminMixin, ReadOnlyAdmin):
    hub_resource = "stock"
    list_display = ["product_short", "warehouse_code", "on_hand", "reserved", "available_units", "movements_link", "updated_at"]
    list_filter = [AvailabilityFilter, "warehouse", "product__status"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]
    change_list_template = "admin/inventory/stocklevel/change_list.html"

    class Media:
        css = {"all": ["hub/admin.css"]}

    @admin.display(description=_("product"), ordering="product__sku")
    def product_short(self, obj):
        return format_html('<b>{}</b><span class="hub-sub">{}</span>', obj.product.sku, truncated(obj.product.name, 26))

    @admin.display(description=_("warehouse"), ordering="warehouse__code")
    def warehouse_code(self, obj):
        return obj.warehouse.code

    @admin.display(description=_("available"), ordering=F("on_hand") - F("reserved"))
    def available_units(self, obj):
        free = obj.available
        tone = "danger" if free <= 0 else "warning" if free <= LOW_STOCK_THRESHOLD else "success"
        return badge(free, tone)

    @admin.display(description=_("history"))
    def movements_link(self, obj):
        url = reverse("admin:inventory_stockmovement_changelist")
        return format_html('<a href="{}?product__id__exact={}&warehouse__id__exact={}">{}</a>', url, obj.product_id, obj.warehouse_id,
                           gettext("movements"))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("inventory.view_stocklevel")

    has_adjust_permission = granted_by("inventory.adjust_stocklevel")
    has_transfer_permission = granted_by("inventory.transfer_stocklevel")

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="inventory_stock_adjust"),
            path("transfer/", self.admin_site.admin_view(self.transfer_view), name="inventory_stock_transfer"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        permitted = {"can_adjust": self.has_adjust_permission(request), "can_transfer": self.has_transfer_permission(request)}
        return super().changelist_view(request, {**permitted, **(extra_context or {})})

    def _form_view(self, request, form_class, title, apply):
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                message = apply(form.cleaned_data, request.user)
            except services.StockError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, message)
                return redirect("admin:inventory_stocklevel_changelist")
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "opts": self.model._meta,
                   "media": self.media + form.media}
        return TemplateResponse(request, "admin/inventory/stock_form.html", context)

    @admin_permission_required("adjust")
    def adjust_view(self, request):
        def apply(data, user):
            movement = services.stock_adjust(
                product=data["product"], warehouse=data["warehouse"], quantity_delta=data["quantity_delta"],
                reason=data["reason"], kind=data["kind"], lot=data["lot"], user=user, source="admin",
            )
            return gettext("Recorded %(movement)s.") % {"movement": movement}
        return self._form_view(request, AdjustmentForm, _("Adjust stock"), apply)

    @admin_permission_required("transfer")
    def transfer_view(self, request):
        def apply(data, user):
            services.stock_transfer(
                product=data["product"], from_warehouse=data["from_warehouse"], to_warehouse=data["to_warehouse"],
                quantity=data["quantity"], reference=data["reference"], user=user,
            )
            return gettext("Transferred %(quantity)s × %(sku)s from %(source)s to %(destination)s.") % {
                "quantity": data["quantity"], "sku": data["product"].sku, "source": data["from_warehouse"].code,
                "destination": data["to_warehouse"].code}
        return self._form_view(request, TransferForm, _("Transfer stock"), apply)


class MovementSourceFilter(admin.SimpleListFilter):
    """Where movements came from, named for people; a connected system keeps its endpoint code."""

    title = _("source")
    parameter_name = "source"
    NAMES = {"admin": _("Back office"), "import": _("Spreadsheet import"), "return": _("Returns"), "demo": _("Demo data"),
             "bench": _("Benchmark"), "prices": _("Spreadsheet import"), "products": _("Spreadsheet import")}

    def lookups(self, request, model_admin):
        sources = StockMovement.objects.exclude(source="").order_by().values_list("source", flat=True).distinct()
        return sorted(((source, str(self.NAMES.get(source, source))) for source in sources), key=lambda choice: choice[1].lower())

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The stock ledger: never changed, never deleted (corrections are new movements)."""

    list_display = ["created_at", "kind_label", "product_short", "warehouse_code", "quantity", "reference", "reason_short", "user"]
    list_filter = ["kind", "warehouse", MovementSourceFilter, "created_at"]
    search_fields = ["product__sku", "reference", "lot", "reason"]
    list_select_related = ["product", "warehouse", "user"]
    date_hierarchy = "created_at"
    exclude = ["reason"]
    readonly_fields = ["reason_label"]

    @admin.display(description=_("reason"), ordering="reason")
    def reason_short(self, obj):
        return clipped(obj.reason_shown, 40)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj):
        return format_html('<span class="hub-wrap">{}</span>', obj.get_kind_display())

    @admin.display(description=_("product"), ordering="product__sku")
    def product_short(self, obj):
        """The SKU, its name on hover, and the lot when there is one."""
        sku = format_html('<span title="{}">{}</span>', obj.product.name, obj.product.sku)
        if obj.lot:
            return format_html('{}<span class="hub-sub">{} {}</span>', sku, gettext("lot"), obj.lot)
        return sku

    @admin.display(description=_("warehouse"), ordering="warehouse__code")
    def warehouse_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.warehouse.name, obj.warehouse.code)

    @admin.display(description=_("reason"))
    def reason_label(self, obj):
        return obj.reason_shown


@admin.register(StockLot)
class StockLotAdmin(ReadOnlyAdmin):
    list_display = ["product", "warehouse", "lot", "expiry", "on_hand", "reserved"]
    list_filter = ["warehouse", "expiry"]
    search_fields = ["product__sku", "lot"]
    list_select_related = ["product", "warehouse"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["document", "line_ref", "product", "warehouse", "lot", "quantity", "created_at"]
    list_filter = ["warehouse"]
    search_fields = ["document", "product__sku"]
    list_select_related = ["product", "warehouse", "lot"]


@admin.register(ChannelStockPolicy)
class ChannelStockPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "safety_buffer", "allow_split", "warehouse_codes"]
    filter_horizontal = ["warehouses"]

    @admin.display(description=_("Warehouses"))
    def warehouse_codes(self, obj):
        return ", ".join(w.code for w in obj.warehouses.all()) or "all sellable"
