"""Minimal customer factories for pricing tests (tests/orders/factories.py did not exist yet)."""

import factory

from orders.models import Customer, CustomerGroup


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    code = factory.Sequence(lambda n: f"GRP-{n}")
    name = factory.LazyAttribute(lambda o: f"Group {o.code}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"C-{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    type = Customer.Type.B2B
    currency = "EUR"

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if create and extracted:
            self.channels.add(*extracted)
