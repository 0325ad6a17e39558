import factory
from decimal import Decimal

from catalog.models import Category, ChannelCatalog, PriceEntry, PriceList, Product
from tests.hub.factories import SalesChannelFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path} > {o.name}" if o.parent else o.name)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    status = Product.Status.ACTIVE
    brand = "Lumière"


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    code = factory.Sequence(lambda n: f"PL-{n}")
    name = factory.LazyAttribute(lambda o: f"List {o.code}")
    currency = "EUR"


class PriceEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceEntry

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    min_quantity = 1
    unit_price = Decimal("10.00")


class ChannelCatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelCatalog

    channel = factory.SubFactory(SalesChannelFactory)
    public_price_list = factory.SubFactory(PriceListFactory)
