from django.apps import AppConfig


class PrestaShopConfig(AppConfig):
    name = "connectors.prestashop"
    label = "connectors_prestashop"
    verbose_name = "PrestaShop"
