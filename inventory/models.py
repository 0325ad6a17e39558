from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from hub.models import SalesChannel, code_validator
from hub.texts import text_shown


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        OWN = "own", _("Own warehouse")
        THIRD_PARTY = "3pl", _("3PL")
        SHOP = "shop", _("Shop")

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OWN)
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher is allocated first."))
    is_sellable = models.BooleanField(_("is sellable"), default=True, help_text=_("Its stock counts towards available-to-sell."))
    allow_negative = models.BooleanField(_("allow negative"), default=False, help_text=_("Accept movements that take on-hand below zero."))
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class StockLevel(models.Model):
    """On-hand and reserved units of one product in one warehouse, kept equal to the ledger."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("warehouse"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stocklevel_unique_product_warehouse"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_not_negative"),
        ]
        indexes = [models.Index(fields=["warehouse", "product"])]
        permissions = [("adjust_stocklevel", _("Can adjust stock")), ("transfer_stocklevel", _("Can transfer stock between warehouses"))]

    def __str__(self) -> str:
        return gettext("%(sku)s @ %(warehouse)s: %(on_hand)s on hand, %(reserved)s reserved") % {
            "sku": self.product.sku, "warehouse": self.warehouse.code, "on_hand": self.on_hand, "reserved": self.reserved}

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockLot(models.Model):
    """A lot of an expiry-tracked product in a warehouse."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_lots", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_lots", verbose_name=_("warehouse"))
    lot = models.CharField(_("lot"), max_length=64)
    expiry = models.DateField(_("expiry"), null=True, blank=True)
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)

    class Meta:
        verbose_name = _("stock lot")
        verbose_name_plural = _("stock lots")
        ordering = ["expiry", "lot"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse", "lot"], name="stocklot_unique"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklot_reserved_not_negative"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklot_on_hand_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(sku)s lot %(lot)s (exp. %(expiry)s) @ %(warehouse)s") % {
            "sku": self.product.sku, "lot": self.lot, "expiry": date_format(self.expiry, "SHORT_DATE_FORMAT") if self.expiry else "—",
            "warehouse": self.warehouse.code}


class StockMovement(models.Model):
    """Append-only ledger. On-hand of a (product, warehouse) is the sum of its movements."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        SHIPMENT = "shipment", _("Sale / shipment")
        ADJUSTMENT = "adjustment", _("Adjustment")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        COUNT = "count", _("Stock count variance")
        RETURN_RESTOCK = "return_restock", _("Return restock")
        THIRD_PARTY_CORRECTION = "3pl_correction", _("3PL correction")
        QUARANTINE = "quarantine", _("Quarantine")
        WRITE_OFF = "write_off", _("Write-off")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_movements", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_movements", verbose_name=_("warehouse"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Signed: positive in, negative out."))
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    expiry = models.DateField(_("expiry"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reason_text = models.JSONField(_("translatable reason"), null=True, blank=True, default=None, editable=False,
                                   help_text=_("A reason the hub wrote: its English text and parameters, shown in the reader's language."))
    source = models.CharField(_("source"), max_length=60, blank=True, help_text=_("System the movement came from (hub, 3PL endpoint, import…)."))
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True, help_text=_("Document: order, transfer, RMA, count…"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("user"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "warehouse", "created_at"])]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} {self.product.sku} @ {self.warehouse.code}"

    @property
    def reason_shown(self) -> str:
        """The reason in the active language (what a person typed, and older rows, as stored)."""
        return text_shown(self.reason_text, self.reason)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(gettext("Stock movements are append-only; record a correcting movement instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(gettext("Stock movements are append-only and cannot be deleted."))


class Reservation(models.Model):
    """Units held for one document line (e.g. order SO-000123, line 7) in one warehouse (and lot)."""

    document = models.CharField(_("document"), max_length=50, db_index=True)
    line_ref = models.CharField(_("line ref"), max_length=50)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("warehouse"))
    lot = models.ForeignKey(StockLot, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("lot"))
    quantity = models.PositiveIntegerField(_("quantity"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["document", "line_ref", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "line_ref", "warehouse", "lot"], name="reservation_unique_line_place"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.document}/{self.line_ref}: {self.quantity} × {self.product.sku} @ {self.warehouse.code}"


class ChannelStockPolicy(models.Model):
    """Which warehouses feed a sales channel, and how orders from it are allocated."""

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="stock_policy", verbose_name=_("channel"))
    warehouses = models.ManyToManyField(Warehouse, blank=True, related_name="channel_policies",
                                        help_text=_("Warehouses whose stock this channel sells; none means every sellable warehouse."), verbose_name=_("warehouses"))
    safety_buffer = models.PositiveIntegerField(_("safety buffer"), default=0, help_text=_("Units per SKU held back from available-to-sell."))
    allow_split = models.BooleanField(_("allow split"), default=True, help_text=_("One order line may be served from several warehouses."))

    class Meta:
        verbose_name = _("channel stock policy")
        verbose_name_plural = _("channel stock policies")

    def __str__(self) -> str:
        return gettext("stock policy of %(channel)s") % {"channel": self.channel.code}
