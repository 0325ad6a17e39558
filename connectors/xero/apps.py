from django.apps import AppConfig


class XeroConfig(AppConfig):
    name = "connectors.xero"
    label = "connectors_xero"
    verbose_name = "Xero"
