from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from hub.models import SalesChannel
from inventory.models import Warehouse
from orders.models import CreditNote, Customer, OrderLine, SalesOrder


class ChannelReturnPolicy(models.Model):
    class RefundTrigger(models.TextChoices):
        CARRIER_SCAN = "carrier_scan", _("When the carrier scans the parcel")
        RECEIVED = "received", _("When the return is received")
        INSPECTED = "inspected", _("After inspection")

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="return_policy", verbose_name=_("channel"))
    refund_trigger = models.CharField(_("refund trigger"), max_length=20, choices=RefundTrigger.choices, default=RefundTrigger.INSPECTED)
    refund_shipping = models.BooleanField(_("refund shipping"), default=False, help_text=_("Refund the original shipping when everything shipped comes back."))
    restocking_fee_percent = models.DecimalField(_("restocking fee percent"), max_digits=5, decimal_places=2, default=0)
    return_window_days = models.PositiveIntegerField(_("return window days"), default=30)

    class Meta:
        verbose_name = _("channel return policy")
        verbose_name_plural = _("channel return policies")

    def __str__(self) -> str:
        return gettext("return policy of %(channel)s") % {"channel": self.channel.code}


class RmaStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    AUTHORISED = "authorised", _("Authorised")
    REJECTED = "rejected", _("Rejected")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Rma(models.Model):
    class Source(models.TextChoices):
        RETURNS_APP = "returns_app", _("Returns app")
        HELPDESK = "helpdesk", _("Helpdesk")
        STOREFRONT = "storefront", _("Storefront")
        SHOP = "shop", _("Shop / POS")
        STAFF = "staff", _("Staff")

    class RefundMethod(models.TextChoices):
        ORIGINAL = "original", _("The way the order was paid")
        STORE_CREDIT = "store_credit", _("Store credit")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="rmas", verbose_name=_("order"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="rmas", verbose_name=_("customer"))
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="rmas", verbose_name=_("channel"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.STAFF)
    status = models.CharField(_("status"), max_length=20, choices=RmaStatus.choices, default=RmaStatus.REQUESTED, editable=False, db_index=True)
    expected_warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("expected warehouse"))
    notes = models.TextField(_("notes"), blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    refunded_total = models.DecimalField(_("refunded total"), max_digits=14, decimal_places=2, default=0, editable=False)
    refund_method = models.CharField(
        _("refund method"), max_length=20, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL,
        help_text=_("How the refund reaches the customer: back the way the order was paid, or as store credit (a gift card)."))
    replacement_order = models.ForeignKey(SalesOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="replaces_rma", editable=False, verbose_name=_("replacement order"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("RMA")
        verbose_name_plural = _("RMAs")
        permissions = [
            ("authorise_rma", _("Can authorise RMAs")),
            ("reject_rma", _("Can reject RMAs")),
            ("cancel_rma", _("Can cancel RMAs")),
            ("receive_rma", _("Can record the receipt of RMAs")),
            ("inspect_rma", _("Can record the inspection of RMAs")),
            ("refund_rma", _("Can refund RMAs")),
            ("close_rma", _("Can close RMAs")),
        ]

    def __str__(self) -> str:
        return self.number


class RmaLine(models.Model):
    class Reason(models.TextChoices):
        DAMAGED = "damaged", _("Arrived damaged")
        DEFECTIVE = "defective", _("Defective")
        WRONG_ITEM = "wrong_item", _("Wrong item sent")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        SIZE_FIT = "size_fit", _("Size / fit")
        NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
        LATE = "late", _("Arrived too late")
        OTHER = "other", _("Other")

    class Condition(models.TextChoices):
        SELLABLE = "sellable", _("Sellable")
        DAMAGED = "damaged", _("Damaged")
        DEFECTIVE = "defective", _("Defective")
        MISSING = "missing", _("Missing")

    class Disposition(models.TextChoices):
        RESTOCK = "restock", _("Restock")
        QUARANTINE = "quarantine", _("Quarantine")
        SCRAP = "scrap", _("Scrap")
        RETURN_TO_VENDOR = "return_to_vendor", _("Return to vendor")

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="lines", verbose_name=_("RMA"))
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="rma_lines", verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.OTHER)
    replacement_product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("replacement product"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), default=0, editable=False)
    condition = models.CharField(_("condition"), max_length=10, choices=Condition.choices, blank=True, editable=False)
    disposition = models.CharField(_("disposition"), max_length=20, choices=Disposition.choices, blank=True, editable=False)
    disposition_warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("disposition warehouse"))

    class Meta:
        verbose_name = _("RMA line")
        verbose_name_plural = _("RMA lines")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.sku}"


class RmaCreditNote(models.Model):
    """The credit notes a return issued (a refund may come in steps with partial receipts)."""

    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("RMA"))
    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="+", verbose_name=_("credit note"))

    class Meta:
        verbose_name = _("RMA credit note")
        verbose_name_plural = _("RMA credit notes")
