from django.apps import AppConfig


class QuickBooksConfig(AppConfig):
    name = "connectors.quickbooks"
    label = "connectors_quickbooks"
    verbose_name = "QuickBooks Online"
