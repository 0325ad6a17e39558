import random

import pytest

from catalog import demo
from catalog.models import ChannelCatalog, PriceList, Product
from catalog.pricing import PricingRequest, Tier, price_lines
from hub import demo as hub_demo

pytestmark = pytest.mark.django_db


def test_demo_catalogue_seeds_products_variants_channel_lists_and_a_derived_list():
    hub_demo.seed(scale=1, rng=random.Random(1))
    summary = demo.seed(scale=2, rng=random.Random(1))
    assert "158 products" in summary
    assert Product.objects.filter(parent__isnull=False).exists()
    assert ChannelCatalog.objects.get(channel__code="b2b-portal").public_price_list.code == "B2B-HT"
    reseller = PriceList.objects.get(code="B2B-RESELLER")
    b2b = PriceList.objects.get(code="B2B-HT")
    request = PricingRequest(tiers=(Tier("customer_list", (reseller.pk,)), Tier("public_list", (b2b.pk,))),
                             currency="EUR", reference_list_id=b2b.pk)
    line = price_lines(lines=[("LAN-SOL-0001", 50)], request=request)[0]
    assert line.price_list == "B2B-RESELLER" and line.unit_price < line.reference_price
