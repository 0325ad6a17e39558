from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    name = "connectors.shopify"
    label = "connectors_shopify"
    verbose_name = "Shopify"
