from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"

    def ready(self):
        from connectors.shopify import connector  # noqa: F401  (registers the Shopify connector)
