from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "connectors.fulfilment"
    label = "connectors_fulfilment"
    verbose_name = _("3PL fulfilment")
