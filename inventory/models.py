from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from catalog.models import Product
from hub.models import SalesChannel, code_validator


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        OWN = "own", "Own warehouse"
        THIRD_PARTY = "3pl", "3PL"
        SHOP = "shop", "Shop"

    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OWN)
    address = models.TextField(blank=True)
    country = models.CharField(max_length=2, default="FR")
    priority = models.IntegerField(default=0, help_text="Higher is allocated first.")
    is_sellable = models.BooleanField(default=True, help_text="Its stock counts towards available-to-sell.")
    allow_negative = models.BooleanField(default=False, help_text="Accept movements that take on-hand below zero.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class StockLevel(models.Model):
    """On-hand and reserved units of one product in one warehouse, kept equal to the ledger."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stocklevel_unique_product_warehouse"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_not_negative"),
        ]
        indexes = [models.Index(fields=["warehouse", "product"])]
        permissions = [("adjust_stocklevel", "Can adjust stock"), ("transfer_stocklevel", "Can transfer stock between warehouses")]

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.warehouse.code}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockLot(models.Model):
    """A lot of an expiry-tracked product in a warehouse."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_lots")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_lots")
    lot = models.CharField(max_length=64)
    expiry = models.DateField(null=True, blank=True)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        ordering = ["expiry", "lot"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse", "lot"], name="stocklot_unique"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklot_reserved_not_negative"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklot_on_hand_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} lot {self.lot} (exp. {self.expiry or '—'}) @ {self.warehouse.code}"


class StockMovement(models.Model):
    """Append-only ledger. On-hand of a (product, warehouse) is the sum of its movements."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SHIPMENT = "shipment", "Sale / shipment"
        ADJUSTMENT = "adjustment", "Adjustment"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        TRANSFER_IN = "transfer_in", "Transfer in"
        COUNT = "count", "Stock count variance"
        RETURN_RESTOCK = "return_restock", "Return restock"
        THIRD_PARTY_CORRECTION = "3pl_correction", "3PL correction"
        QUARANTINE = "quarantine", "Quarantine"
        WRITE_OFF = "write_off", "Write-off"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Signed: positive in, negative out.")
    lot = models.CharField(max_length=64, blank=True)
    expiry = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=60, blank=True, help_text="System the movement came from (hub, 3PL endpoint, import…).")
    reference = models.CharField(max_length=100, blank=True, db_index=True, help_text="Document: order, transfer, RMA, count…")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "warehouse", "created_at"])]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} {self.product.sku} @ {self.warehouse.code}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Stock movements are append-only; record a correcting movement instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Stock movements are append-only and cannot be deleted.")


class Reservation(models.Model):
    """Units held for one document line (e.g. order SO-000123, line 7) in one warehouse (and lot)."""

    document = models.CharField(max_length=50, db_index=True)
    line_ref = models.CharField(max_length=50)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations")
    lot = models.ForeignKey(StockLot, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "line_ref", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "line_ref", "warehouse", "lot"], name="reservation_unique_line_place"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.document}/{self.line_ref}: {self.quantity} × {self.product.sku} @ {self.warehouse.code}"


class ChannelStockPolicy(models.Model):
    """Which warehouses feed a sales channel, and how orders from it are allocated."""

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="stock_policy")
    warehouses = models.ManyToManyField(Warehouse, blank=True, related_name="channel_policies",
                                        help_text="Warehouses whose stock this channel sells; none means every sellable warehouse.")
    safety_buffer = models.PositiveIntegerField(default=0, help_text="Units per SKU held back from available-to-sell.")
    allow_split = models.BooleanField(default=True, help_text="One order line may be served from several warehouses.")

    class Meta:
        verbose_name_plural = "channel stock policies"

    def __str__(self) -> str:
        return f"stock policy of {self.channel.code}"
