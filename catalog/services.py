"""Writes on the catalogue and price lists. Each records a change-feed row in its transaction."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext

from catalog.models import Category, PriceEntry, PriceList, Product
from hub.changes import change_record
from hub.models import ChangeEvent

PRODUCT_TOPIC = "catalog.product"
PRICE_TOPIC = "catalog.price"
CATEGORY_TOPIC = "catalog.category"

PRODUCT_FIELDS = {
    "name", "parent", "option_values", "option_axes", "status", "category", "brand", "gtin", "description", "weight_g",
    "track_expiry", "allow_backorder", "attributes", "length_mm", "width_mm", "height_mm", "storage_temp_min_c",
    "storage_temp_max_c", "hazardous", "shelf_life_days", "country_of_origin", "customs_code",
}
PRICE_LIST_FIELDS = {
    "name", "currency", "prices_include_tax", "valid_from", "valid_to", "priority", "is_active", "base_price_list",
    "base_adjustment_percent",
}


# --- Categories --------------------------------------------------------------------------------

def _category_name(name: str) -> str:
    return " ".join((name or "").split())


def category_path_normalise(path: str) -> str:
    """'Home>Garden', ' Home  >  Garden ' → 'Home > Garden': paths equal up to spacing are one path
    (an empty level stays empty, for the caller to refuse)."""
    return Category.PATH_SEPARATOR.join(_category_name(part) for part in path.split(Category.PATH_SEPARATOR.strip()))


def _category_path(name: str, parent: Category | None) -> str:
    if Category.PATH_SEPARATOR.strip() in name:
        raise ValidationError({"name": gettext("A category name cannot contain %(separator)s.") % {"separator": repr(Category.PATH_SEPARATOR.strip())}})
    return f"{parent.path}{Category.PATH_SEPARATOR}{name}" if parent else name


@transaction.atomic
def category_create(*, name: str, parent: Category | None = None, position: int = 0) -> Category:
    name = _category_name(name)
    category = Category(name=name, parent=parent, position=position, path=_category_path(name, parent))
    category.full_clean()
    category.save()
    change_record(topic=CATEGORY_TOPIC, object_id=category.pk, action=ChangeEvent.Action.CREATED)
    return category


def category_get_or_create_path(*, path: str) -> Category:
    """'Lighting > Outdoor > Garlands' → the leaf, creating missing levels (used by imports)."""
    parent = None
    for name in [part for part in category_path_normalise(path).split(Category.PATH_SEPARATOR) if part]:
        existing = Category.objects.filter(parent=parent, name=name).first()
        parent = existing or category_create(name=name, parent=parent)
    if parent is None:
        raise ValidationError({"path": gettext("A category path needs at least one name.")})
    return parent


@transaction.atomic
def category_move(*, category: Category, parent: Category | None = None, name: str | None = None) -> Category:
    """Rename and/or move a category; the paths of its whole subtree follow in one statement."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if parent is not None:
        ancestor = parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise ValidationError({"parent": gettext("A category cannot move under itself or one of its descendants.")})
            ancestor = ancestor.parent
    old_path = category.path
    category.name = _category_name(name or category.name)
    category.parent = parent
    category.path = _category_path(category.name, parent)
    category.full_clean()
    category.save()
    if old_path != category.path:
        prefix = old_path + Category.PATH_SEPARATOR
        Category.objects.filter(path__startswith=prefix).update(
            path=Concat(Value(category.path), Substr("path", len(old_path) + 1))
        )
    change_record(topic=CATEGORY_TOPIC, object_id=category.pk, data={"path": category.path, "old_path": old_path})
    return category


# --- Products -----------------------------------------------------------------------------------

def _check_product_fields(fields: dict) -> None:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise ValidationError(gettext("Unknown product field(s): %(choices)s.") % {"choices": ', '.join(sorted(unknown))})


def _validate_variant(product: Product) -> None:
    parent = product.parent
    if parent is None:
        return
    if parent.parent_id is not None:
        raise ValidationError({"parent": gettext("Variants are one level deep: the parent cannot itself be a variant.")})
    axes = set(parent.option_axes or [])
    if axes and set(product.option_values or {}) - axes:
        raise ValidationError({"option_values": gettext("Option values must use the parent's axes: %(choices)s.") % {"choices": ', '.join(sorted(axes))}})


@transaction.atomic
def product_create(*, sku: str, name: str, **fields) -> Product:
    _check_product_fields(fields)
    product = Product(sku=(sku or "").strip(), name=name, **fields)
    product.full_clean()
    _validate_variant(product)
    product.save()
    change_record(topic=PRODUCT_TOPIC, object_id=product.pk, action=ChangeEvent.Action.CREATED, data={"sku": product.sku})
    return product


@transaction.atomic
def product_update(*, product: Product, **fields) -> Product:
    _check_product_fields(fields)
    if fields.get("status") == Product.Status.ARCHIVED and product.status != Product.Status.ARCHIVED:
        raise ValidationError({"status": gettext("Use product_archive to archive a product.")})
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    _validate_variant(product)
    product.save()
    change_record(topic=PRODUCT_TOPIC, object_id=product.pk, data={"sku": product.sku, "fields": sorted(fields)})
    return product


@transaction.atomic
def product_touch(*, product: Product, reason: str) -> Product:
    """Images or translations changed: bump `updated_at` (API `updated_since`) and tell the feed."""
    from django.utils import timezone

    product.updated_at = timezone.now()
    Product.objects.filter(pk=product.pk).update(updated_at=product.updated_at)
    change_record(topic=PRODUCT_TOPIC, object_id=product.pk, data={"sku": product.sku, "fields": [reason]})
    return product


@transaction.atomic
def product_archive(*, product: Product) -> Product:
    """Archive a product and its variants: they stop selling but stay for orders that reference them."""
    targets = [product, *product.variants.exclude(status=Product.Status.ARCHIVED)]
    for target in targets:
        if target.status != Product.Status.ARCHIVED:
            target.status = Product.Status.ARCHIVED
            target.save(update_fields=["status", "updated_at"])
            change_record(topic=PRODUCT_TOPIC, object_id=target.pk, data={"sku": target.sku, "fields": ["status"]})
    return product


# --- Price lists and entries ---------------------------------------------------------------------

def _validate_derivation(price_list: PriceList) -> None:
    base = price_list.base_price_list
    if base is None:
        return
    if base.pk == price_list.pk:
        raise ValidationError({"base_price_list": gettext("A price list cannot derive from itself.")})
    if base.base_price_list_id is not None:
        raise ValidationError({"base_price_list": gettext("The base list must not itself be derived (one level only).")})
    if price_list.pk and price_list.derived_lists.exists():
        raise ValidationError({"base_price_list": gettext("Other lists derive from this one; it cannot become derived.")})
    if base.currency != price_list.currency:
        raise ValidationError({"base_price_list": gettext("The base list is in %(currency)s, this list in %(list_currency)s.") % {"currency": base.currency, "list_currency": price_list.currency}})


@transaction.atomic
def price_list_create(*, code: str, name: str, currency: str = "EUR", **fields) -> PriceList:
    unknown = set(fields) - PRICE_LIST_FIELDS
    if unknown:
        raise ValidationError(gettext("Unknown price list field(s): %(choices)s.") % {"choices": ', '.join(sorted(unknown))})
    price_list = PriceList(code=code, name=name, currency=currency, **fields)
    price_list.full_clean()
    _validate_derivation(price_list)
    price_list.save()
    change_record(topic=PRICE_TOPIC, object_id=f"list:{price_list.pk}", action=ChangeEvent.Action.CREATED, data={"price_list": code})
    return price_list


@transaction.atomic
def price_list_update(*, price_list: PriceList, **fields) -> PriceList:
    unknown = set(fields) - PRICE_LIST_FIELDS
    if unknown:
        raise ValidationError(gettext("Unknown price list field(s): %(choices)s.") % {"choices": ', '.join(sorted(unknown))})
    for name, value in fields.items():
        setattr(price_list, name, value)
    price_list.full_clean()
    _validate_derivation(price_list)
    price_list.save()
    change_record(topic=PRICE_TOPIC, object_id=f"list:{price_list.pk}", data={"price_list": price_list.code, "fields": sorted(fields)})
    return price_list


@transaction.atomic
def price_entry_set(*, price_list: PriceList, product: Product, unit_price, min_quantity: int = 1,
                    valid_from: date | None = None, valid_to: date | None = None) -> PriceEntry:
    """Create or update the break (list, product, min quantity, valid_from)."""
    try:
        unit_price = Decimal(str(unit_price))
    except Exception:
        raise ValidationError({"unit_price": gettext("%(unit_price)s is not a decimal number.") % {"unit_price": repr(unit_price)}}) from None
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError({"valid_to": gettext("The end of validity must not be before its start.")})
    entry = PriceEntry.objects.filter(price_list=price_list, product=product, min_quantity=min_quantity, valid_from=valid_from).first()
    created = entry is None
    entry = entry or PriceEntry(price_list=price_list, product=product, min_quantity=min_quantity, valid_from=valid_from)
    entry.unit_price = unit_price
    entry.valid_to = valid_to
    entry.full_clean(validate_unique=False)
    entry.save()
    change_record(
        topic=PRICE_TOPIC, object_id=f"{price_list.pk}:{product.pk}",
        action=ChangeEvent.Action.CREATED if created else ChangeEvent.Action.UPDATED,
        data={"price_list": price_list.code, "sku": product.sku, "min_quantity": min_quantity, "unit_price": str(unit_price)},
    )
    return entry


@transaction.atomic
def price_entry_delete(*, entry: PriceEntry) -> None:
    data = {"price_list": entry.price_list.code, "sku": entry.product.sku, "min_quantity": entry.min_quantity}
    object_id = f"{entry.price_list_id}:{entry.product_id}"
    entry.delete()
    change_record(topic=PRICE_TOPIC, object_id=object_id, action=ChangeEvent.Action.DELETED, data=data)
