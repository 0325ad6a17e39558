"""Demo data for the kernel: the merchant's sales channels and their storefront tokens."""

from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder
from hub.services import sales_channel_get_or_create

DEMO_CHANNELS = [
    ("web-fr", "Boutique en ligne (FR)", SalesChannel.Kind.WEB, "EUR"),
    ("b2b-portal", "Portail professionnels", SalesChannel.Kind.B2B, "EUR"),
    ("shop-paris", "Magasin Paris 11e", SalesChannel.Kind.POS, "EUR"),
    ("marketplace", "Marketplace EU", SalesChannel.Kind.MARKETPLACE, "EUR"),
    ("phone", "Commandes téléphone", SalesChannel.Kind.PHONE, "EUR"),
]


def seed(*, scale, rng):
    for code, name, kind, currency in DEMO_CHANNELS:
        sales_channel_get_or_create(code=code, name=name, kind=kind, currency=currency)
    return f"{len(DEMO_CHANNELS)} sales channels"


register_demo_seeder(DemoSeeder(name="channels", seed=seed, order=0))
