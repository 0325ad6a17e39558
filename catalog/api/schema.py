"""OpenAPI description of the storefront token (the kernel's authentication class)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.api.auth.ChannelTokenAuthentication"
    match_subclasses = True  # the price API's prepared-lookup subclass
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; one key per sales channel (`manage.py hub_token`)."}
