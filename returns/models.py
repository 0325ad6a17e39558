from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from hub.models import SalesChannel
from inventory.models import Warehouse
from orders.models import CreditNote, Customer, OrderLine, SalesOrder


class ChannelReturnPolicy(models.Model):
    class RefundTrigger(models.TextChoices):
        CARRIER_SCAN = "carrier_scan", "When the carrier scans the parcel"
        RECEIVED = "received", "When the return is received"
        INSPECTED = "inspected", "After inspection"

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="return_policy")
    refund_trigger = models.CharField(max_length=20, choices=RefundTrigger.choices, default=RefundTrigger.INSPECTED)
    refund_shipping = models.BooleanField(default=False, help_text="Refund the original shipping when everything shipped comes back.")
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    return_window_days = models.PositiveIntegerField(default=30)

    class Meta:
        verbose_name_plural = "channel return policies"

    def __str__(self) -> str:
        return f"return policy of {self.channel.code}"


class RmaStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    AUTHORISED = "authorised", "Authorised"
    REJECTED = "rejected", "Rejected"
    IN_TRANSIT = "in_transit", "In transit"
    RECEIVED = "received", "Received"
    INSPECTED = "inspected", "Inspected"
    REFUNDED = "refunded", "Refunded"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Rma(models.Model):
    class Source(models.TextChoices):
        RETURNS_APP = "returns_app", "Returns app"
        HELPDESK = "helpdesk", "Helpdesk"
        STOREFRONT = "storefront", "Storefront"
        SHOP = "shop", "Shop / POS"
        STAFF = "staff", "Staff"

    class RefundMethod(models.TextChoices):
        ORIGINAL = "original", _("The way the order was paid")
        STORE_CREDIT = "store_credit", _("Store credit")

    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="rmas")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="rmas")
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="rmas")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    status = models.CharField(max_length=20, choices=RmaStatus.choices, default=RmaStatus.REQUESTED, editable=False, db_index=True)
    expected_warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    refunded_total = models.DecimalField(max_digits=14, decimal_places=2, default=0, editable=False)
    refund_method = models.CharField(
        _("refund method"), max_length=20, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL,
        help_text=_("How the refund reaches the customer: back the way the order was paid, or as store credit (a gift card)."))
    replacement_order = models.ForeignKey(SalesOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="replaces_rma", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "RMA"
        verbose_name_plural = "RMAs"
        permissions = [
            ("authorise_rma", "Can authorise RMAs"),
            ("reject_rma", "Can reject RMAs"),
            ("cancel_rma", "Can cancel RMAs"),
            ("receive_rma", "Can record the receipt of RMAs"),
            ("inspect_rma", "Can record the inspection of RMAs"),
            ("refund_rma", "Can refund RMAs"),
            ("close_rma", "Can close RMAs"),
        ]

    def __str__(self) -> str:
        return self.number


class RmaLine(models.Model):
    class Reason(models.TextChoices):
        DAMAGED = "damaged", "Arrived damaged"
        DEFECTIVE = "defective", "Defective"
        WRONG_ITEM = "wrong_item", "Wrong item sent"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        SIZE_FIT = "size_fit", "Size / fit"
        NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
        LATE = "late", "Arrived too late"
        OTHER = "other", "Other"

    class Condition(models.TextChoices):
        SELLABLE = "sellable", "Sellable"
        DAMAGED = "damaged", "Damaged"
        DEFECTIVE = "defective", "Defective"
        MISSING = "missing", "Missing"

    class Disposition(models.TextChoices):
        RESTOCK = "restock", "Restock"
        QUARANTINE = "quarantine", "Quarantine"
        SCRAP = "scrap", "Scrap"
        RETURN_TO_VENDOR = "return_to_vendor", "Return to vendor"

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="rma_lines")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.OTHER)
    replacement_product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_quantity = models.PositiveIntegerField(default=0, editable=False)
    condition = models.CharField(max_length=10, choices=Condition.choices, blank=True, editable=False)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True, editable=False)
    disposition_warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False)

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.sku}"


class RmaCreditNote(models.Model):
    """The credit notes a return issued (a refund may come in steps with partial receipts)."""

    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="credit_notes")
    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="+")
