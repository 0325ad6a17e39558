from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from inventory.models import StockMovement, Warehouse


class _StockForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(gettext("No product with SKU %(sku)s.") % {"sku": repr(sku)})
        self.cleaned_data["product"] = product
        return sku


class AdjustmentForm(_StockForm):
    warehouse = forms.ModelChoiceField(Warehouse.objects.filter(is_active=True))
    quantity_delta = forms.IntegerField(label=_("Change (+ in, − out)"))
    kind = forms.ChoiceField(choices=[(StockMovement.Kind.ADJUSTMENT, "Adjustment"),
                                      (StockMovement.Kind.THIRD_PARTY_CORRECTION, "3PL correction")])
    reason = forms.CharField(max_length=200)
    lot = forms.CharField(max_length=64, required=False, help_text=_("Required for lot-tracked products."))

    def clean_quantity_delta(self):
        value = self.cleaned_data["quantity_delta"]
        if value == 0:
            raise forms.ValidationError(gettext("Enter a non-zero change."))
        return value


class TransferForm(_StockForm):
    from_warehouse = forms.ModelChoiceField(Warehouse.objects.filter(is_active=True))
    to_warehouse = forms.ModelChoiceField(Warehouse.objects.filter(is_active=True))
    quantity = forms.IntegerField(min_value=1)
    reference = forms.CharField(max_length=100, required=False)

    def clean(self):
        data = super().clean()
        if data.get("from_warehouse") and data.get("from_warehouse") == data.get("to_warehouse"):
            raise forms.ValidationError(gettext("Choose two different warehouses."))
        return data
