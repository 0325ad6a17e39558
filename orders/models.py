from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import PriceList
from hub.models import SalesChannel, code_validator
from hub.money import CURRENCY_CHOICES
from hub.texts import text_shown


class PaymentTerms(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediate")
    NET_15 = "net15", _("Net 15")
    NET_30 = "net30", _("Net 30")
    NET_45 = "net45", _("Net 45")
    NET_60 = "net60", _("Net 60")
    NET_30_EOM = "net30eom", _("Net 30 end of month")
    NET_60_EOM = "net60eom", _("Net 60 end of month")


class CustomerGroup(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    price_lists = models.ManyToManyField(PriceList, blank=True, related_name="customer_groups", verbose_name=_("price lists"))

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Type(models.TextChoices):
        B2C = "b2c", _("B2C")
        B2B = "b2b", _("B2B")

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    type = models.CharField(_("type"), max_length=3, choices=Type.choices, default=Type.B2C)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    vat_number = models.CharField(_("EU VAT number"), max_length=20, blank=True, validators=[
        RegexValidator(r"^(AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)[0-9A-Z]{2,13}$",
                       _("Enter an EU VAT number: country prefix and number, no spaces (e.g. FR40303265045)."))])
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    group = models.ForeignKey(CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="customers", verbose_name=_("group"))
    contract_price_list = models.OneToOneField(
        PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="contract_customer",
        help_text=_("Customer-specific contract prices; checked before any other list."),
        verbose_name=_("contract price list"),
    )
    price_lists = models.ManyToManyField(PriceList, blank=True, related_name="customers", verbose_name=_("price lists"))
    payment_terms = models.CharField(_("payment terms"), max_length=10, choices=PaymentTerms.choices, default=PaymentTerms.IMMEDIATE)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    channels = models.ManyToManyField(SalesChannel, blank=True, related_name="customers", verbose_name=_("channels"))
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CustomerChannelIdentity(models.Model):
    """A sales channel's own id for one of its customers: unique per channel, so an id resolves to
    the customer it was first given to, and never to another channel's customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="channel_identities", verbose_name=_("customer"))
    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+", verbose_name=_("channel"))
    external_id = models.CharField(_("external ID"), max_length=100)

    class Meta:
        verbose_name = _("customer channel identity")
        verbose_name_plural = _("customer channel identities")
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="customer_identity_unique_per_channel")]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.external_id} → {self.customer.code}"


class CustomerChannelEmail(models.Model):
    """A channel's customer by e-mail (lower-cased), for orders that carry no customer id. Unique per
    channel, so concurrent orders with the same new e-mail make one customer; another channel's
    customer with the same e-mail is never reached through it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="channel_emails", verbose_name=_("customer"))
    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+", verbose_name=_("channel"))
    email = models.EmailField(_("email"))

    class Meta:
        verbose_name = _("customer channel email")
        verbose_name_plural = _("customer channel emails")
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
    reason_text = models.JSONField(_("translatable reason"), null=True, blank=True, default=None, editable=False,
                                   help_text=_("A reason the hub wrote: its English text and parameters, shown in the reader's language."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False, verbose_name=_("decided by"))

    class Meta:
        verbose_name = _("possible duplicate customer")
        verbose_name_plural = _("possible duplicate customers")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "existing"], name="customer_match_unique_pair")]
        permissions = [("link_customermatch", _("Can link a channel's customer to another channel's customer"))]

    def __str__(self) -> str:
        return f"{self.customer.code} ~ {self.existing.code} ({self.reason_shown})"

    @property
    def reason_shown(self) -> str:
        return text_shown(self.reason_text, self.reason)


class Address(models.Model):
    class Kind(models.TextChoices):
        BILLING = "billing", _("Billing")
        SHIPPING = "shipping", _("Shipping")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    is_default = models.BooleanField(_("is default"), default=False)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="FR")
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.postcode} {self.city} ({self.country})"


class ChannelOrderSettings(models.Model):
    class InvoiceTrigger(models.TextChoices):
        SHIPMENT = "shipment", _("On shipment")
        PAYMENT = "payment", _("On payment")

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="order_settings", verbose_name=_("channel"))
    invoice_trigger = models.CharField(_("invoice trigger"), max_length=10, choices=InvoiceTrigger.choices, default=InvoiceTrigger.SHIPMENT)
    confirm_unpaid = models.BooleanField(_("confirm unpaid"), default=False, help_text=_("Confirm orders that are neither paid nor authorised (B2B on terms are always eligible)."))
    price_tolerance_percent = models.DecimalField(_("price tolerance percent"), max_digits=5, decimal_places=2, default=2, help_text=_("B2B: hold a line priced further than this from the hub's price."))

    class Meta:
        verbose_name = _("channel order settings")
        verbose_name_plural = _("channel order settings")

    def __str__(self) -> str:
        return gettext("order settings of %(channel)s") % {"channel": self.channel.code}


class OrderStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AUTHORISED = "authorised", _("Authorised")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


def money_field(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=2, default=0, **kwargs)


class SalesOrder(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="orders", verbose_name=_("channel"))
    external_id = models.CharField(_("external ID"), max_length=100, blank=True, help_text=_("The channel's own order reference."))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED, db_index=True, editable=False)
    hold_reason = models.CharField(_("hold reason"), max_length=300, blank=True, editable=False, help_text=_("In English, for searching."))
    hold_text = models.JSONField(_("translatable hold reason"), default=list, blank=True, editable=False,
                                 help_text=_("Each reason's English text and parameters, shown in the reader's language."))
    payment_status = models.CharField(_("payment status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True)
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    billing_address = models.JSONField(_("billing address"), default=dict, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    discount_codes = models.JSONField(_("discount codes"), default=list, blank=True)
    subtotal = money_field(help_text=_("Lines after line discounts, before order discounts."), verbose_name=_("subtotal"))
    discount_total = money_field(help_text=_("Order-level discounts."), verbose_name=_("discount total"))
    shipping_total = money_field(verbose_name=_("shipping total"))
    tax_total = money_field(verbose_name=_("tax total"))
    total = money_field(verbose_name=_("total"))
    notes = models.TextField(_("notes"), blank=True)
    payload_fingerprint = models.CharField(_("payload fingerprint"), max_length=64, blank=True, editable=False)
    placed_at = models.DateTimeField(_("placed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("confirm_salesorder", _("Can confirm sales orders")),
            ("hold_salesorder", _("Can put sales orders on hold")),
            ("release_salesorder", _("Can release held sales orders")),
            ("cancel_salesorder", _("Can cancel sales orders")),
            ("ship_salesorder", _("Can ship sales orders")),
            ("complete_salesorder", _("Can complete sales orders")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], condition=~models.Q(external_id=""), name="order_unique_external_id_per_channel"),
        ]
        # The order list's default sort and the overview's "today" and "this week" counts.
        indexes = [models.Index(fields=["-created_at", "-id"], name="order_recent_first")]

    def __str__(self) -> str:
        return self.number

    @property
    def hold_reason_shown(self) -> str:
        """Why the order is held, in the active language (orders held before reasons were translatable: as stored)."""
        return text_shown(self.hold_text, self.hold_reason)


class OrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    position = models.PositiveIntegerField(_("position"), default=1)
    sku = models.CharField(_("SKU"), max_length=64)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product"))
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    discount = money_field(help_text=_("Line discount (amount for the whole line)."), verbose_name=_("discount"))
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4, default=0, help_text=_("e.g. 0.2000 for 20 %."))
    tax_amount = money_field(verbose_name=_("tax amount"))
    line_total = money_field(help_text=_("quantity × unit price − discount, rounded."), verbose_name=_("line total"))
    quantity_shipped = models.PositiveIntegerField(_("quantity shipped"), default=0, editable=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped


class ShippingLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="shipping_lines", verbose_name=_("order"))
    title = models.CharField(_("title"), max_length=200)
    code = models.CharField(_("code"), max_length=100, blank=True)
    price = money_field(verbose_name=_("price"))
    tax_amount = money_field(verbose_name=_("tax amount"))

    class Meta:
        verbose_name = _("shipping line")
        verbose_name_plural = _("shipping lines")

    def __str__(self) -> str:
        return f"{self.title}: {self.price}"


class Shipment(models.Model):
    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order"))
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("warehouse"))
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    service = models.CharField(_("service"), max_length=100, blank=True)
    tracking_numbers = models.JSONField(_("tracking numbers"), default=list, blank=True)
    tracking_urls = models.JSONField(_("tracking urls"), default=list, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-shipped_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("shipment"))
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines", verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")


class ImmutableDocument(models.Model):
    """Issued documents never change: corrections are new documents (credit notes)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("allow_update", False):
            raise ValidationError(gettext("%(document)s %(number)s is issued and cannot be changed; issue a credit note.")
                                  % {"document": self._meta.verbose_name, "number": self})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(gettext("%(document)s %(number)s is issued and cannot be deleted.")
                              % {"document": self._meta.verbose_name, "number": self})


class LineKind(models.TextChoices):
    """What a document line bills, which decides its revenue account in the journal."""

    GOODS = "goods", _("Goods")
    SHIPPING = "shipping", _("Shipping")
    DISCOUNT = "discount", _("Discount")
    FEE = "fee", _("Fee")


class Invoice(ImmutableDocument):
    number = models.CharField(_("number"), max_length=30, unique=True)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("order"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("customer"))
    shipment = models.OneToOneField(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice", verbose_name=_("shipment"))
    currency = models.CharField(_("currency"), max_length=3)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    billing_address = models.JSONField(_("billing address"), default=dict)
    subtotal = money_field(verbose_name=_("subtotal"))
    tax_total = money_field(verbose_name=_("tax total"))
    total = money_field(verbose_name=_("total"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-number"]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(ImmutableDocument):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name=_("invoice"))
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("order line"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices, default=LineKind.GOODS)
    description = models.CharField(_("description"), max_length=255)
    description_text = models.JSONField(_("translatable description"), null=True, blank=True, default=None, editable=False,
                                        help_text=_("A description the hub wrote: its English text and parameters, shown in the reader's language."))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4, default=0)
    tax_amount = money_field(verbose_name=_("tax amount"))
    line_total = money_field(verbose_name=_("line total"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")

    @property
    def description_shown(self) -> str:
        return text_shown(self.description_text, self.description)


class CreditNote(ImmutableDocument):
    number = models.CharField(_("number"), max_length=30, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice"))
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("order"))
    currency = models.CharField(_("currency"), max_length=3)
    issued_on = models.DateField(_("issued on"))
    reason = models.CharField(_("reason"), max_length=300)
    reason_text = models.JSONField(_("translatable reason"), null=True, blank=True, default=None, editable=False,
                                   help_text=_("A reason the hub wrote: its English text and parameters, shown in the reader's language."))
    subtotal = money_field(verbose_name=_("subtotal"))
    tax_total = money_field(verbose_name=_("tax total"))
    total = money_field(verbose_name=_("total"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_on", "-number"]

    def __str__(self) -> str:
        return self.number

    @property
    def reason_shown(self) -> str:
        return text_shown(self.reason_text, self.reason)


class CreditNoteLine(ImmutableDocument):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines", verbose_name=_("credit note"))
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices, default=LineKind.GOODS)
    description = models.CharField(_("description"), max_length=255)
    description_text = models.JSONField(_("translatable description"), null=True, blank=True, default=None, editable=False,
                                        help_text=_("A description the hub wrote: its English text and parameters, shown in the reader's language."))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4, default=0)
    tax_amount = money_field(verbose_name=_("tax amount"))
    line_total = money_field(verbose_name=_("line total"))

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")

    @property
    def description_shown(self) -> str:
        return text_shown(self.description_text, self.description)


class Payment(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order"))
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    method = models.CharField(_("method"), max_length=50, help_text=_("card, transfer, cheque, marketplace…"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.method})"


class IdempotencyKey(models.Model):
    """An API request's `Idempotency-Key`: the same key and body get the same answer again."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+", verbose_name=_("channel"))
    key = models.CharField(_("key"), max_length=100)
    body_hash = models.CharField(_("body hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
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
    address = models.TextField(_("address"), blank=True, help_text=_("Printed under the company name on invoices and credit notes, one line per line."))
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True, help_text=_("Intra-community VAT number, e.g. FR32842519373."))
    registration = models.CharField(_("registration"), max_length=200, blank=True,
                                    help_text=_("Legal form, share capital, RCS city… as the printed documents must state them."))
    invoice_note = models.TextField(_("invoice note"), blank=True, help_text=_(
        "Printed at the foot of every invoice and credit note: payment terms, late-payment penalties and the 40 € fixed "
        "recovery fee that French B2B invoices must state."))
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
        verbose_name_plural = _("accounts")
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
        verbose_name_plural = _("account assignments")
        ordering = ["role", "tax_rate", "payment_method"]
        verbose_name = _("account assignment")
        constraints = [
            models.UniqueConstraint(fields=["role", "payment_method"], condition=models.Q(tax_rate__isnull=True), name="account_assignment_unique_without_rate"),
            models.UniqueConstraint(fields=["role", "tax_rate", "payment_method"], condition=models.Q(tax_rate__isnull=False), name="account_assignment_unique_with_rate"),
        ]

    def __str__(self) -> str:
        key = " ".join(p for p in [f"{self.tax_rate:.2%}" if self.tax_rate is not None else "", self.payment_method] if p)
        return f"{self.get_role_display()}{f' ({key})' if key else ''} → {self.account.number}"
