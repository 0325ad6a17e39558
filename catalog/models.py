from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from hub.models import SalesChannel, code_validator
from hub.money import CURRENCY_CHOICES


def gtin_is_valid(value: str) -> bool:
    """GS1 check digit for GTIN-8/12/13/14."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in value]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def validate_gtin(value: str) -> None:
    if value and not gtin_is_valid(value):
        raise ValidationError(f"{value!r} is not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit).")


customs_code_validator = RegexValidator(r"^\d{6,10}$", "A customs (HS/CN/TARIC) code is 6 to 10 digits, without spaces or dots.")
country_code_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. 'FR'.")

LANGUAGES = [("fr", "Français"), ("en", "English")]


class Category(models.Model):
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=1000, unique=True, editable=False, help_text="Full path, e.g. 'Lighting > Outdoor > Garlands'.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent")]

    PATH_SEPARATOR = " > "

    def __str__(self) -> str:
        return self.path


class Product(models.Model):
    """One row per SKU. A product with variants is a parent row (not sellable) whose children
    are the sellable variants, each with its own SKU and option values (size, colour…)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=255)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="variants")
    option_values = models.JSONField(default=dict, blank=True, help_text="For a variant, e.g. {\"size\": \"M\", \"colour\": \"Red\"}.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    gtin = models.CharField("GTIN", max_length=14, blank=True, validators=[validate_gtin], db_index=True)
    description = models.TextField(blank=True)
    weight_g = models.PositiveIntegerField("weight (g)", null=True, blank=True)
    track_expiry = models.BooleanField(default=False, help_text="Track lots and expiry dates; allocate first-expiring first.")
    allow_backorder = models.BooleanField(default=False, help_text="Accept orders beyond available stock.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Added after 0001.
    option_axes = models.JSONField(default=list, blank=True, help_text="For a parent, the option axes of its variants, e.g. [\"size\", \"colour\"].")
    attributes = models.JSONField(default=dict, blank=True, help_text="Free attributes, e.g. {\"power_w\": 5, \"ip_rating\": \"IP44\"}.")
    length_mm = models.PositiveIntegerField("length (mm)", null=True, blank=True)
    width_mm = models.PositiveIntegerField("width (mm)", null=True, blank=True)
    height_mm = models.PositiveIntegerField("height (mm)", null=True, blank=True)
    storage_temp_min_c = models.SmallIntegerField("storage min (°C)", null=True, blank=True)
    storage_temp_max_c = models.SmallIntegerField("storage max (°C)", null=True, blank=True)
    hazardous = models.BooleanField(default=False, help_text="Dangerous goods (batteries, flammables…): special transport rules.")
    shelf_life_days = models.PositiveIntegerField(null=True, blank=True, help_text="Shelf life from production, in days.")
    country_of_origin = models.CharField(max_length=2, blank=True, validators=[country_code_validator])
    customs_code = models.CharField(max_length=10, blank=True, validators=[customs_code_validator], help_text="HS / CN code.")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["sku"]
        permissions = [("activate_product", "Can activate products"), ("archive_product", "Can archive products")]
        constraints = [
            models.CheckConstraint(
                condition=Q(storage_temp_min_c__isnull=True) | Q(storage_temp_max_c__isnull=True) | Q(storage_temp_max_c__gte=models.F("storage_temp_min_c")),
                name="product_storage_temperature_range",
            )
        ]

    def clean(self):
        if self.storage_temp_min_c is not None and self.storage_temp_max_c is not None and self.storage_temp_max_c < self.storage_temp_min_c:
            raise ValidationError({"storage_temp_max_c": "The maximum storage temperature must not be below the minimum."})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "A product cannot be its own parent."})

    def name_in(self, language: str) -> str:
        for translation in self.translations.all():
            if translation.language == language and translation.name:
                return translation.name
        return self.name

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"

    @property
    def is_parent(self) -> bool:
        return self.parent_id is None and self.variants.exists()


class ProductTranslation(models.Model):
    """Name and description in one language; `Product.name/description` stay the default."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=5, choices=LANGUAGES)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["product", "language"]
        constraints = [models.UniqueConstraint(fields=["product", "language"], name="producttranslation_one_per_language")]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    url = models.URLField(max_length=500)
    position = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["product", "position", "id"]

    def __str__(self) -> str:
        return self.url


class PriceList(models.Model):
    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    prices_include_tax = models.BooleanField(default=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    priority = models.IntegerField(default=0, help_text="Higher wins when several lists of the same rank apply.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Added after 0001: a derived list ("public − 12 %") prices from its base list at query time.
    base_price_list = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived_lists",
        help_text="Derive prices from this list (same currency, itself not derived). Own entries override.",
    )
    base_adjustment_percent = models.DecimalField(
        max_digits=6, decimal_places=2, default=0, validators=[MinValueValidator(-100), MaxValueValidator(1000)],
        help_text="Applied to the base list's prices, e.g. -12 for 'base − 12 %'.",
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="pricelist_valid_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code}, {self.currency})"


class PriceEntry(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_entries")
    min_quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "price entries"
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity", "valid_from"], name="priceentry_unique_break"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="priceentry_price_not_negative"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="priceentry_min_quantity_positive"),
        ]
        indexes = [models.Index(fields=["product", "price_list"])]

    def __str__(self) -> str:
        return f"{self.price_list.code} {self.product.sku} ≥{self.min_quantity}: {self.unit_price}"


class ChannelCatalog(models.Model):
    """Catalogue settings of a sales channel (the kernel's channel knows nothing of catalogues)."""

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="catalog")
    public_price_list = models.ForeignKey(PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"catalogue of {self.channel.code}"
