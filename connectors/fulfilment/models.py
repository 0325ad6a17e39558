from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ThirdPartyStock(models.Model):
    """What a 3PL last reported for one SKU (and lot) in one of its fulfilment centres, and what
    the hub made of it. The reconciliation report sets it beside the ledger."""

    endpoint = models.ForeignKey("connectors.Endpoint", on_delete=models.CASCADE, related_name="+", verbose_name=_("endpoint"))
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="+", verbose_name=_("warehouse"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product"))
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    expiry = models.DateField(_("expiry"), null=True, blank=True)
    on_hand = models.IntegerField(_("3PL on hand"))
    committed = models.IntegerField(_("3PL committed"), default=0, help_text=_("Held by the 3PL for orders it has not shipped."))
    in_transit = models.IntegerField(_("3PL in transit"), default=0, help_text=_("On its way into the 3PL: not on hand, not counted."))
    hub_on_hand = models.IntegerField(_("hub on hand"), default=0, help_text=_("The ledger when the 3PL's figure was read."))
    awaiting_shipment = models.IntegerField(_("awaiting shipment"), default=0,
                                            help_text=_("Units the hub released to the 3PL and has not seen shipped yet."))
    corrected = models.IntegerField(_("corrected"), default=0, help_text=_("The 3PL correction recorded after this count (0: none)."))
    reason = models.CharField(_("reason"), max_length=200, blank=True, help_text=_("In English, as logged and searched."))
    reason_text = models.JSONField(_("reason text"), null=True, blank=True, editable=False,
                                   help_text=_("The reason as a stored text, shown in the reader's language."))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("3PL stock reconciliation")
        verbose_name_plural = _("3PL stock reconciliation")
        ordering = ["warehouse__code", "product__sku", "lot"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "warehouse", "product", "lot"], name="thirdpartystock_one_per_place")]

    def __str__(self) -> str:
        return gettext("%(sku)s @ %(warehouse)s: %(on_hand)s at the 3PL") % {"sku": self.product.sku, "warehouse": self.warehouse.code, "on_hand": self.on_hand}
