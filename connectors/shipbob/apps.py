from django.apps import AppConfig


class ShipBobConfig(AppConfig):
    name = "connectors.shipbob"
    label = "connectors_shipbob"
    verbose_name = "ShipBob"
