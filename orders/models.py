from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import PriceList
from hub.models import SalesChannel, code_validator
from hub.money import CURRENCY_CHOICES


class PaymentTerms(models.TextChoices):
    IMMEDIATE = "immediate", "Immediate"
    NET_15 = "net15", "Net 15"
    NET_30 = "net30", "Net 30"
    NET_45 = "net45", "Net 45"
    NET_60 = "net60", "Net 60"
    NET_30_EOM = "net30eom", "Net 30 end of month"
    NET_60_EOM = "net60eom", "Net 60 end of month"


class CustomerGroup(models.Model):
    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    price_lists = models.ManyToManyField(PriceList, blank=True, related_name="customer_groups")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Type(models.TextChoices):
        B2C = "b2c", "B2C"
        B2B = "b2b", "B2B"

    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    type = models.CharField(max_length=3, choices=Type.choices, default=Type.B2C)
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    vat_number = models.CharField("EU VAT number", max_length=20, blank=True, validators=[
        RegexValidator(r"^(AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)[0-9A-Z]{2,13}$",
                       "Enter an EU VAT number: country prefix and number, no spaces (e.g. FR40303265045).")])
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    group = models.ForeignKey(CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="customers")
    contract_price_list = models.OneToOneField(
        PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="contract_customer",
        help_text="Customer-specific contract prices; checked before any other list.",
    )
    price_lists = models.ManyToManyField(PriceList, blank=True, related_name="customers")
    payment_terms = models.CharField(max_length=10, choices=PaymentTerms.choices, default=PaymentTerms.IMMEDIATE)
    credit_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    channels = models.ManyToManyField(SalesChannel, blank=True, related_name="customers")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CustomerChannelIdentity(models.Model):
    """A sales channel's own id for one of its customers: unique per channel, so an id resolves to
    the customer it was first given to, and never to another channel's customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="channel_identities")
    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="customer_identity_unique_per_channel")]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.external_id} → {self.customer.code}"


class CustomerChannelEmail(models.Model):
    """A channel's customer by e-mail (lower-cased), for orders that carry no customer id. Unique per
    channel, so concurrent orders with the same new e-mail make one customer; another channel's
    customer with the same e-mail is never reached through it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="channel_emails")
    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "email"], name="customer_email_unique_per_channel")]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.email} → {self.customer.code}"


class CustomerMatch(models.Model):
    """A customer a channel created with the e-mail of a customer that is not that channel's: maybe
    one person. Nothing is shared until a person with the permission links them."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        LINKED = "linked", _("Linked")
        DISMISSED = "dismissed", _("Not the same person")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="matches", verbose_name=_("new customer"))
    existing = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("existing customer"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)

    class Meta:
        verbose_name = _("possible duplicate customer")
        verbose_name_plural = _("possible duplicate customers")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "existing"], name="customer_match_unique_pair")]
        permissions = [("link_customermatch", _("Can link a channel's customer to another channel's customer"))]

    def __str__(self) -> str:
        return f"{self.customer.code} ~ {self.existing.code} ({self.reason})"


class Address(models.Model):
    class Kind(models.TextChoices):
        BILLING = "billing", "Billing"
        SHIPPING = "shipping", "Shipping"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    is_default = models.BooleanField(default=False)
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.postcode} {self.city} ({self.country})"


class ChannelOrderSettings(models.Model):
    class InvoiceTrigger(models.TextChoices):
        SHIPMENT = "shipment", "On shipment"
        PAYMENT = "payment", "On payment"

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="order_settings")
    invoice_trigger = models.CharField(max_length=10, choices=InvoiceTrigger.choices, default=InvoiceTrigger.SHIPMENT)
    confirm_unpaid = models.BooleanField(default=False, help_text="Confirm orders that are neither paid nor authorised (B2B on terms are always eligible).")
    price_tolerance_percent = models.DecimalField(max_digits=5, decimal_places=2, default=2, help_text="B2B: hold a line priced further than this from the hub's price.")

    class Meta:
        verbose_name_plural = "channel order settings"

    def __str__(self) -> str:
        return f"order settings of {self.channel.code}"


class OrderStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    CONFIRMED = "confirmed", "Confirmed"
    ALLOCATED = "allocated", "Allocated"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    ON_HOLD = "on_hold", "On hold"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORISED = "authorised", "Authorised"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


def money_field(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=2, default=0, **kwargs)


class SalesOrder(models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=100, blank=True, help_text="The channel's own order reference.")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED, db_index=True, editable=False)
    hold_reason = models.CharField(max_length=300, blank=True, editable=False)
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True)
    prices_include_tax = models.BooleanField(default=True)
    billing_address = models.JSONField(default=dict, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    discount_codes = models.JSONField(default=list, blank=True)
    subtotal = money_field(help_text="Lines after line discounts, before order discounts.")
    discount_total = money_field(help_text="Order-level discounts.")
    shipping_total = money_field()
    tax_total = money_field()
    total = money_field()
    notes = models.TextField(blank=True)
    payload_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    placed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("confirm_salesorder", "Can confirm sales orders"),
            ("hold_salesorder", "Can put sales orders on hold"),
            ("release_salesorder", "Can release held sales orders"),
            ("cancel_salesorder", "Can cancel sales orders"),
            ("ship_salesorder", "Can ship sales orders"),
            ("complete_salesorder", "Can complete sales orders"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], condition=~models.Q(external_id=""), name="order_unique_external_id_per_channel"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=1)
    sku = models.CharField(max_length=64)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines")
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    discount = money_field(help_text="Line discount (amount for the whole line).")
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0, help_text="e.g. 0.2000 for 20 %.")
    tax_amount = money_field()
    line_total = money_field(help_text="quantity × unit price − discount, rounded.")
    quantity_shipped = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["order", "position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped


class ShippingLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="shipping_lines")
    title = models.CharField(max_length=200)
    code = models.CharField(max_length=100, blank=True)
    price = money_field()
    tax_amount = money_field()

    def __str__(self) -> str:
        return f"{self.title}: {self.price}"


class Shipment(models.Model):
    number = models.CharField(max_length=30, unique=True, editable=False)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=100, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_urls = models.JSONField(default=list, blank=True)
    shipped_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()


class ImmutableDocument(models.Model):
    """Issued documents never change: corrections are new documents (credit notes)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("allow_update", False):
            raise ValidationError(f"{self._meta.verbose_name} {self} is issued and cannot be changed; issue a credit note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self._meta.verbose_name} {self} is issued and cannot be deleted.")


class Invoice(ImmutableDocument):
    number = models.CharField(max_length=30, unique=True)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    shipment = models.OneToOneField(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice")
    currency = models.CharField(max_length=3)
    issued_on = models.DateField()
    due_on = models.DateField()
    billing_address = models.JSONField(default=dict)
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-number"]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(ImmutableDocument):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    tax_amount = money_field()
    line_total = money_field()


class CreditNote(ImmutableDocument):
    number = models.CharField(max_length=30, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="credit_notes")
    currency = models.CharField(max_length=3)
    issued_on = models.DateField()
    reason = models.CharField(max_length=300)
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-number"]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(ImmutableDocument):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    tax_amount = money_field()
    line_total = money_field()


class Payment(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    method = models.CharField(max_length=50, help_text="card, transfer, cheque, marketplace…")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.method})"


class IdempotencyKey(models.Model):
    """An API request's `Idempotency-Key`: the same key and body get the same answer again."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="idempotency_key_unique_per_channel")]
