"""Reads on the catalogue."""

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
