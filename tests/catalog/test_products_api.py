from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product, ProductImage, ProductTranslation
from hub.services import api_token_create
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return api_token_create(channel=SalesChannelFactory())[1]


def fetch(client, key, url):
    return client.get(url, HTTP_AUTHORIZATION=f"Token {key}")


def test_products_are_cursor_paginated_without_drafts(client, key):
    for i in range(7):
        ProductFactory(sku=f"P{i}")
    ProductFactory(sku="DRAFT", status=Product.Status.DRAFT)
    seen, url = [], "/api/v1/products/?page_size=3"
    while url:
        body = fetch(client, key, url).json()
        seen += [p["sku"] for p in body["results"]]
        url = body["next"]
    assert sorted(seen) == [f"P{i}" for i in range(7)]


def test_updated_since_returns_only_recent_changes(client, key):
    old = ProductFactory(sku="OLD")
    Product.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))
    ProductFactory(sku="NEW")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    body = fetch(client, key, f"/api/v1/products/?updated_since={since.replace('+', '%2B')}").json()
    assert [p["sku"] for p in body["results"]] == ["NEW"]
    assert fetch(client, key, "/api/v1/products/?updated_since=yesterday").status_code == 400


def test_product_detail_shows_variants_images_translations_and_logistics(client, key):
    category = CategoryFactory(name="Lighting")
    parent = ProductFactory(sku="GAR", option_axes=["length"], category=category)
    ProductFactory(sku="GAR-10", parent=parent, option_values={"length": "10 m"}, hazardous=True, country_of_origin="FR")
    ProductImage.objects.create(product=parent, url="https://img.example.com/gar.jpg", position=1, alt_text="Garland")
    ProductTranslation.objects.create(product=parent, language="fr", name="Guirlande")
    body = fetch(client, key, "/api/v1/products/GAR/").json()
    assert body["category"] == "Lighting" and body["option_axes"] == ["length"]
    assert body["images"] == [{"url": "https://img.example.com/gar.jpg", "position": 1, "alt_text": "Garland"}]
    assert body["names"] == {"fr": "Guirlande"}
    variant = fetch(client, key, "/api/v1/products/GAR-10/").json()
    assert (variant["parent_sku"], variant["hazardous"], variant["country_of_origin"]) == ("GAR", True, "FR")
    assert fetch(client, key, "/api/v1/products/NOPE/").status_code == 404


def test_the_products_api_needs_a_token(client):
    assert client.get("/api/v1/products/").status_code == 401
