from django.apps import AppConfig


class ShipStationConfig(AppConfig):
    name = "connectors.shipstation"
    label = "connectors_shipstation"
    verbose_name = "ShipStation"
