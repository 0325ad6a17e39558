from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from inventory.models import StockMovement, Warehouse


def autocomplete(model, field_name: str):
    """The admin's search-as-you-type select for a foreign key of `model`; it lists only what the
    target's admin lets this user view, searched on its `search_fields`."""
    return AutocompleteSelect(model._meta.get_field(field_name), admin.site)


def warehouse_field(label):
    return forms.ModelChoiceField(Warehouse.objects.filter(is_active=True), label=label, widget=autocomplete(StockMovement, "warehouse"))


class _StockForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.all(), label=_("Product or variant"), widget=autocomplete(StockMovement, "product"),
                                     help_text=_("Type a SKU or a name."))


class AdjustmentForm(_StockForm):
    warehouse = warehouse_field(_("Warehouse"))
    quantity_delta = forms.IntegerField(label=_("Change (+ in, − out)"))
    kind = forms.ChoiceField(label=_("Kind"), choices=[(StockMovement.Kind.ADJUSTMENT, _("Adjustment")),
                                                       (StockMovement.Kind.THIRD_PARTY_CORRECTION, _("3PL correction"))])
    reason = forms.CharField(label=_("Reason"), max_length=200)
    lot = forms.CharField(label=_("Lot"), max_length=64, required=False, help_text=_("Required for lot-tracked products."))

    def clean_quantity_delta(self):
        value = self.cleaned_data["quantity_delta"]
        if value == 0:
            raise forms.ValidationError(gettext("Enter a non-zero change."))
        return value


class TransferForm(_StockForm):
    from_warehouse = warehouse_field(_("From warehouse"))
    to_warehouse = warehouse_field(_("To warehouse"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def clean(self):
        data = super().clean()
        if data.get("from_warehouse") and data.get("from_warehouse") == data.get("to_warehouse"):
            raise forms.ValidationError(gettext("Choose two different warehouses."))
        return data
