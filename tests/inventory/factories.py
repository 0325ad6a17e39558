import factory

from inventory.models import Warehouse


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH-{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    kind = Warehouse.Kind.OWN
    country = "FR"
    priority = 0
