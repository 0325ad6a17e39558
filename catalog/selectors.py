"""Reads on the catalogue."""

from django.db import models
from django.db.models import Prefetch, QuerySet

from catalog.models import Product, ProductImage


def products_for_api(*, updated_since=None) -> QuerySet[Product]:
    """Products a storefront may see (drafts are not published), with what the API shows."""
    queryset = (
        Product.objects.exclude(status=Product.Status.DRAFT)
        .select_related("parent", "category")
        .prefetch_related("translations", Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")))
    )
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def category_descendants(category) -> QuerySet:
    from catalog.models import Category

    return Category.objects.filter(path__startswith=category.path + Category.PATH_SEPARATOR)


def price_changes_for_list(*, price_list_id: int, changes: list[str]) -> tuple[bool, set[int]]:
    """What the `catalog.price` change ids `changes` mean for the prices of one list:
    (whole list changed, ids of products whose prices changed). A list derived from another
    prices from its base list, so changes on the base count for it too."""
    from catalog.models import PriceList

    base_id = PriceList.objects.filter(pk=price_list_id).values_list("base_price_list_id", flat=True).first()
    concerned = {str(price_list_id)} | ({str(base_id)} if base_id else set())
    whole_list, product_ids = False, set()
    for change in changes:
        head, _, tail = change.partition(":")
        if head == "list" and tail in concerned:
            whole_list = True
        elif head in concerned and tail.isdigit():
            product_ids.add(int(tail))
    return whole_list, product_ids


def price_list_for_channel(*, channel, price_list=None):
    """The list a connected system publishes: the one its settings name, else the channel's public list."""
    from catalog.models import ChannelCatalog

    if price_list is not None:
        return price_list
    if channel is None:
        return None
    catalog = ChannelCatalog.objects.filter(channel=channel).select_related("public_price_list").first()
    return catalog.public_price_list if catalog else None


def parent_skus(*, product_ids) -> dict[str, str]:
    """Product id (as text) of each product's parent (itself when it has none) → the parent's SKU."""
    ids = sorted(set(product_ids))
    keys: dict[str, str] = {}
    for start in range(0, len(ids), 5000):  # a 100 000-row import must stay under SQLite's variable limit
        rows = Product.objects.filter(pk__in=ids[start:start + 5000]).values_list("pk", "parent_id", "parent__sku", "sku")
        keys.update({str(parent or pk): (parent_sku or sku) for pk, parent, parent_sku, sku in rows})
    return keys


def sellable_skus(*, product_ids) -> dict[str, str]:
    """Product id (as text) → SKU of the sellable products these changes concern: a product
    without variants itself, a variant itself, and every variant of a parent."""
    ids = sorted({int(i) for i in product_ids})
    found: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        rows = Product.objects.filter(models.Q(pk__in=chunk) | models.Q(parent_id__in=chunk)).values_list("pk", "sku", "parent_id")
        parents_with_variants = set(Product.objects.filter(parent_id__in=chunk).values_list("parent_id", flat=True))
        found.update({str(pk): sku for pk, sku, parent in rows if pk not in parents_with_variants})
    return found
