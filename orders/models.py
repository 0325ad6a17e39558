from django.db import models

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
    vat_number = models.CharField("EU VAT number", max_length=20, blank=True)
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
