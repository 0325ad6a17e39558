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


class LineKind(models.TextChoices):
    """What a document line bills, which decides its revenue account in the journal."""

    GOODS = "goods", _("Goods")
    SHIPPING = "shipping", _("Shipping")
    DISCOUNT = "discount", _("Discount")
    FEE = "fee", _("Fee")


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
    kind = models.CharField(max_length=10, choices=LineKind.choices, default=LineKind.GOODS)
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
    kind = models.CharField(max_length=10, choices=LineKind.choices, default=LineKind.GOODS)
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


# --- Books: the account plan and the company ---------------------------------------------------

def validate_siren(value: str) -> None:
    """Nine digits whose Luhn checksum is right (the INSEE's rule)."""
    if not (len(value) == 9 and value.isdigit()):
        raise ValidationError(_("A SIREN is 9 digits."))
    total = 0
    for position, digit in enumerate(int(c) for c in reversed(value)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    if total % 10:
        raise ValidationError(_("This SIREN's check digit is wrong."))


journal_code_validator = RegexValidator(r"^[A-Z0-9]{1,10}$", _("Use 1 to 10 capital letters or digits (e.g. VE)."))


class CompanySettings(models.Model):
    """The merchant as its books and the tax authority know it (one record)."""

    name = models.CharField(_("company name"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[validate_siren],
                             help_text=_("9-digit French company number; names the FEC file."))
    currency = models.CharField(_("accounting currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    sales_journal_code = models.CharField(_("sales journal code"), max_length=10, default="VE", validators=[journal_code_validator])
    sales_journal_label = models.CharField(_("sales journal name"), max_length=100, default="Journal des ventes")
    bank_journal_code = models.CharField(_("bank journal code"), max_length=10, default="BQ", validators=[journal_code_validator])
    bank_journal_label = models.CharField(_("bank journal name"), max_length=100, default="Journal de banque")

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")
        permissions = [("export_fec", _("Can export the FEC"))]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.sales_journal_code == self.bank_journal_code:
            raise ValidationError({"bank_journal_code": _("Each journal needs its own code.")})


class Account(models.Model):
    """A general-ledger account of the merchant's chart (French PCG by default)."""

    number = models.CharField(_("number"), max_length=20, unique=True, validators=[RegexValidator(
        r"^[1-8][0-9]{2}[0-9A-Z]*$", _("Start with the 3 digits of a PCG class account (e.g. 411000, 707100)."))])
    label = models.CharField(_("label (French)"), max_length=200, help_text=_("As the FEC shows it (CompteLib)."))
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("account")

    def __str__(self) -> str:
        return f"{self.number} {self.label}"


class AccountAssignment(models.Model):
    """Which account the journal uses for a role; a row with a tax rate or payment method
    applies to those only and wins over the role's general row (no rate, no method)."""

    class Role(models.TextChoices):
        RECEIVABLE = "receivable", _("Customers (receivables)")
        GOODS = "goods", _("Sales of goods")
        SHIPPING = "shipping", _("Shipping charged")
        FEES = "fees", _("Fees charged (restocking…)")
        DISCOUNT = "discount", _("Discounts granted on invoices")
        VAT = "vat", _("VAT collected")
        PAYMENT = "payment", _("Money received (bank, payment provider, marketplace)")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4, null=True, blank=True,
                                   help_text=_("Sales, shipping, VAT: only lines at this rate (0.2000 for 20 %)."))
    payment_method = models.CharField(_("payment method or channel"), max_length=50, blank=True,
                                      help_text=_("Money received: a payment method (card, transfer, shopify_payments…) or a sales channel's code."))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("account"))

    class Meta:
        ordering = ["role", "tax_rate", "payment_method"]
        verbose_name = _("account assignment")
        constraints = [
            models.UniqueConstraint(fields=["role", "payment_method"], condition=models.Q(tax_rate__isnull=True), name="account_assignment_unique_without_rate"),
            models.UniqueConstraint(fields=["role", "tax_rate", "payment_method"], condition=models.Q(tax_rate__isnull=False), name="account_assignment_unique_with_rate"),
        ]

    def __str__(self) -> str:
        key = " ".join(p for p in [f"{self.tax_rate:.2%}" if self.tax_rate is not None else "", self.payment_method] if p)
        return f"{self.get_role_display()}{f' ({key})' if key else ''} → {self.account.number}"
