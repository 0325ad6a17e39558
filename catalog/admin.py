import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from catalog import services
from catalog.pricing import PricingRequest, Tier, price_error_label, price_lines
from catalog.models import Category, ChannelCatalog, PriceEntry, PriceList, Product, ProductImage, ProductTranslation
from catalog.selectors import product_prices_by_list
from hub.admin import PanelsAdminMixin, granted_by
from hub.money import money_format
from hub.imports.changelist import SpreadsheetAdminMixin
from hub.display import EMPTY, badge, chips, truncated

PRODUCT_STATUS_TONES = {"draft": "warning", "active": "success", "archived": "muted"}


def validity(valid_from, valid_to) -> str:
    """A validity period in one cell: "from 01/01/2026", "until 31/12/2026", "01/01/2026 – 31/12/2026"."""
    from django.utils.formats import date_format

    if valid_from and valid_to:
        return f"{date_format(valid_from, 'SHORT_DATE_FORMAT')} – {date_format(valid_to, 'SHORT_DATE_FORMAT')}"
    if valid_from:
        return gettext("from %(date)s") % {"date": date_format(valid_from, "SHORT_DATE_FORMAT")}
    if valid_to:
        return gettext("until %(date)s") % {"date": date_format(valid_to, "SHORT_DATE_FORMAT")}
    return gettext("always")

PRODUCT_SERVICE_FIELDS = services.PRODUCT_FIELDS


def _plain_value(text: str):
    """"5" -> 5, "2.5" -> 2.5, anything else stays text (as the JSON used to store it)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _json_of(text: str, kind: type, error: str):
    """`text` read as the JSON these fields used to hold, when it is JSON of that kind."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, kind):
        raise forms.ValidationError(error, code="invalid")
    return parsed


class NamedValuesField(forms.Field):
    """A product's attributes or a variant's option values as lines "name: value" instead of JSON
    (a JSON object is still accepted)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, dict):
            return "\n".join(f"{name}: {item}" for name, item in value.items())
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return {}
        if text.startswith("{"):
            return _json_of(text, dict, gettext("Write one “name: value” per line."))
        values = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, separator, item = line.partition(":")
            if not separator or not name.strip():
                raise forms.ValidationError(gettext("Line %(number)s: write “name: value”.") % {"number": number}, code="invalid")
            values[name.strip()] = _plain_value(item.strip())
        return values


class NamesField(forms.Field):
    """A parent's option axes as names separated by commas instead of JSON (a JSON list is still accepted)."""

    widget = forms.TextInput(attrs={"size": 40})

    def prepare_value(self, value):
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, (list, tuple)):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return []
        if text.startswith("["):
            return _json_of(text, list, gettext("Separate the names with commas."))
        return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


READABLE_JSON_FIELDS = {
    "option_values": (NamedValuesField, _("One “name: value” per line, e.g. “size: M”.")),
    "attributes": (NamedValuesField, _("One “name: value” per line, e.g. “power_w: 5”.")),
    "option_axes": (NamesField, _("For a parent: the option names of its variants, separated by commas, e.g. “size, colour”.")),
}


def readable_json_formfield(db_field, formfield):
    """The form field people type into for the product's JSON fields (see READABLE_JSON_FIELDS)."""
    if db_field.name not in READABLE_JSON_FIELDS or formfield is None:
        return formfield
    field_class, help_text = READABLE_JSON_FIELDS[db_field.name]
    return field_class(label=formfield.label, required=False, help_text=help_text)


def _error_text(error: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in error.message_dict.items()) \
        if hasattr(error, "error_dict") else " ".join(error.messages)


class HistoryAdmin(SimpleHistoryAdmin):
    """Past versions are shown, never written back: a revert would save every field of the old
    version past the services (an archived product active again, prices rolled back unchecked)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        if not (object_id.isdigit() and version_id.isdigit()):
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Category)
class CategoryAdmin(SpreadsheetAdminMixin, admin.ModelAdmin):
    hub_resource = "categories"
    list_display = ["path", "position", "product_count"]
    search_fields = ["path"]
    fields = ["name", "parent", "position", "path"]
    readonly_fields = ["path"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description=_("Products"), ordering="product_total")
    def product_count(self, obj):
        return obj.product_total

    def save_model(self, request, obj, form, change):
        # The path of the whole subtree is maintained by the service, never by hand.
        if change:
            saved = services.category_move(category=obj, parent=obj.parent, name=obj.name)
        else:
            saved = services.category_create(name=obj.name, parent=obj.parent, position=obj.position)
        obj.pk, obj.path = saved.pk, saved.path
        if change and obj.position != saved.position:
            Category.objects.filter(pk=obj.pk).update(position=obj.position)


class VariantInline(admin.TabularInline):
    model = Product
    fk_name = "parent"
    fields = ["sku", "name", "options", "option_values", "status", "gtin"]
    readonly_fields = ["options", "status"]
    extra = 0
    show_change_link = True
    verbose_name = _("variant")
    verbose_name_plural = _("Variants")

    @admin.display(description=_("options"))
    def options(self, obj):
        return chips(obj.option_values)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return readable_json_formfield(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    fields = ["position", "url", "alt_text"]
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ProductTranslationInline(admin.TabularInline):
    model = ProductTranslation
    fields = ["language", "name", "description"]
    extra = 0

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "language":
            kwargs["choices"] = [("", "---------"), ("fr", _("French")), ("en", _("English"))]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Product)
class ProductAdmin(PanelsAdminMixin, SpreadsheetAdminMixin, HistoryAdmin):
    hub_resource = "products"
    list_display = ["sku", "name_short", "category_short", "brand", "status_label", "updated_on"]
    list_filter = ["status", "category", "brand", "hazardous", "track_expiry"]
    search_fields = ["sku", "name", "gtin", "translations__name"]
    list_select_related = ["category", "parent"]
    autocomplete_fields = ["category", "parent"]
    readonly_fields = ["status", "created_at", "updated_at", "channel_prices", "option_chips", "attribute_chips"]
    inlines = [ProductTranslationInline, ProductImageInline, VariantInline]
    panels = ["prices_panel"]
    actions = ["activate", "archive"]
    history_list_display = ["status", "name"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "status", "category", "brand", "gtin", "description"]}),
        (_("Variants"), {"fields": ["parent", "option_chips", "option_axes", "option_values"]}),
        (_("Logistics"), {"fields": ["weight_g", ("length_mm", "width_mm", "height_mm"), ("storage_temp_min_c", "storage_temp_max_c"),
                                  "hazardous", "shelf_life_days", "track_expiry", "allow_backorder", "country_of_origin", "customs_code"]}),
        (_("Attributes"), {"fields": ["attribute_chips", "attributes"]}),
        (_("Prices"), {"fields": ["channel_prices"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("name"), ordering="name")
    def name_short(self, obj):
        return truncated(obj.name, 28)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return readable_json_formfield(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))

    @admin.display(description=_("category"), ordering="category__path")
    def category_short(self, obj):
        return truncated(obj.category, 26) if obj.category_id else EMPTY

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        return badge(obj.get_status_display(), PRODUCT_STATUS_TONES.get(obj.status, "neutral"))

    @admin.display(description=_("updated at"), ordering="updated_at")
    def updated_on(self, obj):
        return timezone.localtime(obj.updated_at).date()

    @admin.display(description=_("Public prices today (quantity 1)"))
    def channel_prices(self, obj):
        if not obj.pk:
            return "—"
        rows = []
        for catalog in ChannelCatalog.objects.select_related("channel", "public_price_list").filter(public_price_list__isnull=False):
            price_list = catalog.public_price_list
            request = PricingRequest(tiers=(Tier("public_list", (price_list.pk,)),), currency=price_list.currency)
            line = price_lines(lines=[(obj.sku, 1)], request=request)[0]
            shown = money_format(line.unit_price, price_list.currency, max_places=4) if line.unit_price is not None \
                else price_error_label(line.error)
            rows.append((catalog.channel.code, price_list.code, line.why, shown))
        if not rows:
            return gettext("No channel has a public price list.")
        return format_html_join(mark_safe("<br>"), '{} ({}): <b title="{}">{}</b>', rows)

    @admin.display(description=_("options"))
    def option_chips(self, obj):
        return chips(obj.option_values)

    @admin.display(description=_("attributes (as shown)"))
    def attribute_chips(self, obj):
        return chips(obj.attributes)

    @admin.display(description=_("Price in each price list (1 unit, today)"))
    def prices_panel(self, request, product):
        rows = [{**row, "shown": money_format(row["unit_price"], row["price_list"].currency, max_places=4)
                 if row["unit_price"] is not None else price_error_label(row["error"]),
                 "entries_url": reverse("admin:catalog_priceentry_changelist") + f"?price_list__id__exact={row['price_list'].pk}&q={product.sku}"}
                for row in product_prices_by_list(product=product)]
        return render_to_string("admin/catalog/product_prices_panel.html", {"rows": rows}, request=request)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in PRODUCT_SERVICE_FIELDS}
        if change:
            services.product_update(product=obj, **fields)
        else:
            data = {name: getattr(obj, name) for name in PRODUCT_SERVICE_FIELDS if name != "status"}
            created = services.product_create(sku=obj.sku, **data)
            for field in Product._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))

    def save_formset(self, request, form, formset, change):
        if formset.model is Product:  # variants go through the services like any product
            for variant in formset.save(commit=False):
                values = {"name": variant.name, "option_values": variant.option_values, "gtin": variant.gtin}
                try:
                    if variant.pk:
                        services.product_update(product=variant, **values)
                    else:
                        services.product_create(sku=variant.sku, parent=form.instance, category=form.instance.category,
                                                brand=form.instance.brand, **values)
                except ValidationError as error:
                    self.message_user(request, gettext("%(sku)s: %(error_text)s") % {"sku": variant.sku, "error_text": _error_text(error)}, messages.ERROR)
            return
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            services.product_touch(product=form.instance, reason=formset.model._meta.model_name)

    has_activate_permission = granted_by("catalog.activate_product")
    has_archive_permission = granted_by("catalog.archive_product")

    @admin.action(description=_("Activate selected products"), permissions=["activate"])
    def activate(self, request, queryset):
        done = 0
        for product in queryset.exclude(status=Product.Status.ACTIVE):
            if product.status == Product.Status.ARCHIVED:
                continue
            services.product_update(product=product, status=Product.Status.ACTIVE)
            done += 1
        self.message_user(request, gettext("%(count)s product(s) activated (archived products stay archived).") % {"count": done})

    @admin.action(description=_("Archive selected products (and their variants)"), permissions=["archive"])
    def archive(self, request, queryset):
        for product in queryset:
            services.product_archive(product=product)
        self.message_user(request, gettext("%(count)s product(s) archived; they stay on past orders but stop selling.") % {"count": queryset.count()})

    def has_delete_permission(self, request, obj=None):
        # Referenced products are archived, never deleted; drafts never referenced may go.
        if obj is not None and (obj.status != Product.Status.DRAFT or obj.price_entries.exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(PriceList)
class PriceListAdmin(SpreadsheetAdminMixin, HistoryAdmin):
    hub_resource = "price-lists"
    list_display = ["code", "name_short", "currency_and_tax", "priority", "validity_period", "is_active", "derived_from", "entry_count"]
    list_filter = ["currency", "is_active", "prices_include_tax"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["base_price_list"]
    readonly_fields = ["entries_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries")).select_related("base_price_list")

    def entries_url(self, obj) -> str:
        return reverse("admin:catalog_priceentry_changelist") + f"?price_list__id__exact={obj.pk}"

    @admin.display(description=_("name"), ordering="name")
    def name_short(self, obj):
        return truncated(obj.name, 22)

    @admin.display(description=_("prices"), ordering="currency")
    def currency_and_tax(self, obj):
        tax = gettext("incl. tax") if obj.prices_include_tax else gettext("excl. tax")
        return f"{obj.currency} {tax}"

    @admin.display(description=_("validity"), ordering="valid_from")
    def validity_period(self, obj):
        return format_html('<span class="hub-wrap">{}</span>', validity(obj.valid_from, obj.valid_to))

    @admin.display(description=_("derived from"), ordering="base_price_list__code")
    def derived_from(self, obj):
        if obj.base_price_list_id is None:
            return EMPTY
        adjustment = obj.base_adjustment_percent or 0
        if not adjustment:
            return obj.base_price_list.code
        return f"{obj.base_price_list.code} {'+' if adjustment > 0 else '−'} {abs(adjustment).normalize():f} %"

    @admin.display(description=_("Price breaks"), ordering="entry_total")
    def entry_count(self, obj):
        return format_html('<a href="{}">{}</a>', self.entries_url(obj), obj.entry_total)

    @admin.display(description=_("Price breaks"))
    def entries_link(self, obj):
        if obj.pk is None:
            return gettext("Save the list first, then add its prices.")
        count = obj.entries.count()
        return format_html('<a class="button" id="price-list-entries" href="{}">{}</a> <a href="{}?price_list={}">{}</a>', self.entries_url(obj),
                           ngettext("Edit its %(count)d price break", "Edit its %(count)d price breaks", count) % {"count": count},
                           reverse("admin:catalog_priceentry_add"), obj.pk, gettext("Add a price"))

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.PRICE_LIST_FIELDS if name in form.cleaned_data}
        if change:
            services.price_list_update(price_list=obj, **{k: v for k, v in fields.items() if k in form.changed_data})
        else:
            created = services.price_list_create(code=obj.code, **fields)
            for field in PriceList._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))


class PriceBreakValidity(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [("now", _("Valid today")), ("future", _("Starts later")), ("past", _("Ended"))]

    def queryset(self, request, queryset):
        from django.db.models import Q
        from django.utils import timezone

        today = timezone.localdate()
        if self.value() == "now":
            return queryset.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today), Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        if self.value() == "past":
            return queryset.filter(valid_to__lt=today)
        return queryset


class PriceEntryForm(forms.ModelForm):
    """The service's own rules, checked before saving so that a refusal is a form error."""

    class Meta:
        model = PriceEntry
        fields = "__all__"

    def clean(self):
        data = super().clean()
        start = data.get("valid_from", self.instance.valid_from)
        end = data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", gettext("The end of validity must not be before its start (%(start)s).") % {"start": start})
        return data


@admin.register(PriceEntry)
class PriceEntryAdmin(SpreadsheetAdminMixin, HistoryAdmin):
    """Price breaks, one row each: searched, filtered by list, paginated and edited in place
    (price and end date; a new quantity or start date is a new break)."""

    hub_resource = "prices"
    list_display = ["product_short", "price_list_code", "min_quantity", "unit_price", "valid_from", "valid_to"]
    list_display_links = ["product_short"]
    list_editable = ["unit_price", "valid_to"]
    list_filter = ["price_list", PriceBreakValidity, "product__status", "product__category"]
    search_fields = ["product__sku", "product__name", "price_list__code"]
    list_select_related = ["price_list", "product"]
    autocomplete_fields = ["price_list", "product"]
    list_per_page = 100
    ordering = ["price_list__code", "product__sku", "min_quantity", "valid_from"]
    form = PriceEntryForm

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=PriceEntryForm, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            original = PriceEntry.objects.get(pk=obj.pk)
            if (original.min_quantity, original.valid_from, original.product_id, original.price_list_id) != (
                    obj.min_quantity, obj.valid_from, obj.product_id, obj.price_list_id):
                services.price_entry_delete(entry=original)
        saved = services.price_entry_set(price_list=obj.price_list, product=obj.product, unit_price=obj.unit_price,
                                         min_quantity=obj.min_quantity, valid_from=obj.valid_from, valid_to=obj.valid_to)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.price_entry_delete(entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.price_entry_delete(entry=entry)

    @admin.display(description=_("product"), ordering="product__sku")
    def product_short(self, obj):
        return format_html('<b>{}</b><span class="hub-sub">{}</span>', obj.product.sku, truncated(obj.product.name, 26))

    @admin.display(description=_("price list"), ordering="price_list__code")
    def price_list_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.price_list.name, obj.price_list.code)


@admin.register(ChannelCatalog)
class ChannelCatalogAdmin(admin.ModelAdmin):
    list_display = ["channel", "public_price_list"]
    autocomplete_fields = ["public_price_list"]
