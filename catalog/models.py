from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
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
        raise ValidationError(gettext("%(value)s is not a valid GTIN (8, 12, 13 or 14 digits with a correct check "
                                      "digit).") % {"value": repr(value)})


customs_code_validator = RegexValidator(r"^\d{6,10}$", "A customs (HS/CN/TARIC) code is 6 to 10 digits, without spaces or dots.")
country_code_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 country code in capitals, e.g. 'FR'.")

LANGUAGES = [("fr", "Français"), ("en", "English")]


class Category(models.Model):
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent"))
    path = models.CharField(_("path"), max_length=1000, unique=True, editable=False, help_text=_("Full path, e.g. 'Lighting > Outdoor > Garlands'."))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        ordering = ["path"]
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent")]

    PATH_SEPARATOR = " > "

    def __str__(self) -> str:
        return self.path


class Product(models.Model):
    """One row per SKU. A product with variants is a parent row (not sellable) whose children
    are the sellable variants, each with its own SKU and option values (size, colour…)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="variants", verbose_name=_("parent"))
    option_values = models.JSONField(_("option values"), default=dict, blank=True, help_text=_("For a variant, e.g. {\"size\": \"M\", \"colour\": \"Red\"}."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products", verbose_name=_("category"))
    brand = models.CharField(_("brand"), max_length=100, blank=True, db_index=True)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True, validators=[validate_gtin], db_index=True)
    description = models.TextField(_("description"), blank=True)
    weight_g = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    track_expiry = models.BooleanField(_("track expiry"), default=False, help_text=_("Track lots and expiry dates; allocate first-expiring first."))
    allow_backorder = models.BooleanField(_("allow backorder"), default=False, help_text=_("Accept orders beyond available stock."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # Added after 0001.
    option_axes = models.JSONField(_("option axes"), default=list, blank=True, help_text=_("For a parent, the option axes of its variants, e.g. [\"size\", \"colour\"]."))
    attributes = models.JSONField(_("attributes"), default=dict, blank=True, help_text=_("Free attributes, e.g. {\"power_w\": 5, \"ip_rating\": \"IP44\"}."))
    length_mm = models.PositiveIntegerField(_("length (mm)"), null=True, blank=True)
    width_mm = models.PositiveIntegerField(_("width (mm)"), null=True, blank=True)
    height_mm = models.PositiveIntegerField(_("height (mm)"), null=True, blank=True)
    storage_temp_min_c = models.SmallIntegerField(_("storage min (°C)"), null=True, blank=True)
    storage_temp_max_c = models.SmallIntegerField(_("storage max (°C)"), null=True, blank=True)
    hazardous = models.BooleanField(_("hazardous"), default=False, help_text=_("Dangerous goods (batteries, flammables…): special transport rules."))
    shelf_life_days = models.PositiveIntegerField(_("shelf life days"), null=True, blank=True, help_text=_("Shelf life from production, in days."))
    country_of_origin = models.CharField(_("country of origin"), max_length=2, blank=True, validators=[country_code_validator])
    customs_code = models.CharField(_("customs code"), max_length=10, blank=True, validators=[customs_code_validator], help_text=_("HS / CN code."))
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        permissions = [("activate_product", _("Can activate products")), ("archive_product", _("Can archive products"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(storage_temp_min_c__isnull=True) | Q(storage_temp_max_c__isnull=True) | Q(storage_temp_max_c__gte=models.F("storage_temp_min_c")),
                name="product_storage_temperature_range",
            )
        ]

    def clean(self):
        if self.storage_temp_min_c is not None and self.storage_temp_max_c is not None and self.storage_temp_max_c < self.storage_temp_min_c:
            raise ValidationError({"storage_temp_max_c": gettext("The maximum storage temperature must not be below the minimum.")})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": gettext("A product cannot be its own parent.")})

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

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations", verbose_name=_("product"))
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product translation")
        verbose_name_plural = _("product translations")
        ordering = ["product", "language"]
        constraints = [models.UniqueConstraint(fields=["product", "language"], name="producttranslation_one_per_language")]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product"))
    url = models.URLField(_("URL"), max_length=500)
    position = models.PositiveIntegerField(_("position"), default=0)
    alt_text = models.CharField(_("alt text"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["product", "position", "id"]

    def __str__(self) -> str:
        return self.url


class PriceList(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    prices_include_tax = models.BooleanField(_("prices include tax"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher wins when several lists of the same rank apply."))
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Added after 0001: a derived list ("public − 12 %") prices from its base list at query time.
    base_price_list = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived_lists",
        help_text=_("Derive prices from this list (same currency, itself not derived). Own entries override."),
        verbose_name=_("base price list"),
    )
    base_adjustment_percent = models.DecimalField(_("base adjustment percent"), 
        max_digits=6, decimal_places=2, default=0, validators=[MinValueValidator(-100), MaxValueValidator(1000)],
        help_text=_("Applied to the base list's prices, e.g. -12 for 'base − 12 %'."),
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
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
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="entries", verbose_name=_("price list"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_entries", verbose_name=_("product"))
    min_quantity = models.PositiveIntegerField(_("min quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("price entry")
        verbose_name_plural = _("price entries")
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

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="catalog", verbose_name=_("channel"))
    public_price_list = models.ForeignKey(PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("public price list"))

    class Meta:
        verbose_name = _("channel catalogue")
        verbose_name_plural = _("channel catalogues")

    def __str__(self) -> str:
        return gettext("catalogue of %(channel)s") % {"channel": self.channel.code}
