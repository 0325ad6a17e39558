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


def product_prices_by_list(*, product, on_date=None) -> list[dict]:
    """What each active price list holding the product (or deriving from one that does) gives it
    today for one unit, with its breaks: [{"price_list", "unit_price" (None: no price today),
    "error", "breaks": [PriceEntry]}], in two queries plus one for the lists."""
    from django.utils import timezone

    from catalog.models import PriceEntry, PriceList
    from catalog.pricing import PricingRequest, Tier, fetch, price_line, price_plan

    on_date = on_date or timezone.localdate()
    entries: dict[int, list] = {}
    for entry in PriceEntry.objects.filter(product=product).order_by("price_list_id", "min_quantity", "valid_from"):
        entries.setdefault(entry.price_list_id, []).append(entry)
    lists = list(PriceList.objects.filter(models.Q(pk__in=list(entries)) | models.Q(base_price_list_id__in=list(entries)))
                 .filter(is_active=True).order_by("-priority", "code"))
    if not lists:
        return []
    infos, found = fetch(list_ids=[price_list.pk for price_list in lists], skus=[product.sku], on_date=on_date)
    rows = []
    for price_list in lists:
        plan = price_plan(request=PricingRequest((Tier("list", (price_list.pk,)),), price_list.currency, None), on_date=on_date, lists=infos)
        line = price_line(plan, product.sku, 1, found.get(product.sku))
        rows.append({"price_list": price_list, "unit_price": line.unit_price, "error": line.error, "breaks": entries.get(price_list.pk, [])})
    return rows
