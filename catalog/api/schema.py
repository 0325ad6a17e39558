"""OpenAPI description of the storefront token (the kernel's authentication class)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.api.auth.ChannelTokenAuthentication"
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; one key per sales channel (`manage.py hub_token`)."}


class PriceTokenScheme(ChannelTokenScheme):
    """The price API's subclass (same header and keys; its own component name, as drf-spectacular
    names one security scheme per authentication class)."""

    target_class = "orders.api.prices.PriceTokenAuthentication"
    name = "priceToken"
