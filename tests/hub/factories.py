import factory

from hub.models import SalesChannel


class SalesChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesChannel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.LazyAttribute(lambda o: f"Channel {o.code}")
    kind = SalesChannel.Kind.WEB
    currency = "EUR"
