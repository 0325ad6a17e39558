from django.apps import AppConfig


class WooCommerceConfig(AppConfig):
    name = "connectors.woocommerce"
    label = "connectors_woocommerce"
    verbose_name = "WooCommerce"
