import json

from django.utils.translation import gettext_lazy as _

from connectors.options import ConnectorSettings, price_list_field, warehouse_map_field
from connectors.registry import Connector, register
from connectors.services import binding_save
from connectors.shopify.client import API_VERSION, ShopifyClient
from connectors.shopify.flows import FLOWS
from connectors.shopify.inbound import TOPIC_HANDLERS
from connectors.shopify.mapping import order_payload
from connectors.shopify.webhooks import signature_valid
from hub.changes import change_origin

ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")


class ShopifySettings(ConnectorSettings):
    price_list = price_list_field(help_text=_("Prices published to the shop; empty: the sales channel's public list."))
    warehouse_map = warehouse_map_field(help_text=_("Hub warehouse code → Shopify location id (one pair per line); "
                                                    "stock is pushed only for mapped warehouses."))


class ShopifyConnector(Connector):
    kind = "shopify"
    label = "Shopify"
    flows = FLOWS
    settings_form = ShopifySettings
    credential_names = ("access_token",)

    def client(self, *, endpoint, recorder):
        return ShopifyClient(endpoint=endpoint, recorder=recorder)

    def verify_webhook(self, *, endpoint, headers, body):
        return signature_valid(secret=endpoint.webhook_secret, body=body, header_value=headers.get("X-Shopify-Hmac-Sha256", ""))

    def delivery_id(self, headers):
        return headers.get("X-Shopify-Webhook-Id", "")

    def topic(self, headers):
        return headers.get("X-Shopify-Topic", "")

    def check_connection(self, *, endpoint):
        from connectors.errors import PermanentError
        from connectors.http import Recorder

        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            shop = client.rest("GET", "shop.json").get("shop", {})
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"the shop refused the access token ({exc.status})") from None
            raise
        return f"connected to {shop.get('name', '?')} ({shop.get('myshopify_domain', '?')}), API {API_VERSION}"

    def topic_handlers(self) -> dict:
        return {**{topic: self._order_handler(topic) for topic in ORDER_TOPICS}, **TOPIC_HANDLERS}

    def _order_handler(self, topic):
        def handle(*, endpoint, payload):
            created = self.apply_order(endpoint=endpoint, order_json=payload, topic=topic)
            return f"order {payload.get('name') or payload.get('id')} {'created' if created else 'updated'}"
        return handle

    def process(self, *, message):
        handler = self.topic_handlers().get(message.topic)
        if handler is None:
            return "ignored"
        return handler(endpoint=message.endpoint, payload=json.loads(message.body))

    def apply_order(self, *, endpoint, order_json: dict, topic: str) -> bool:
        """Create or update the hub order from Shopify's order JSON (webhook or poll); cancel it
        when Shopify did. Attributed to the endpoint so nothing is sent back. Returns True if new."""
        from orders.models import SalesOrder
        from orders.services import order_cancel, order_import

        with change_origin(endpoint.code):
            order, created = order_import(channel=endpoint.channel, data=order_payload(order_json), actor_label=f"shopify:{endpoint.code}")
            binding_save(endpoint=endpoint, model="order", local_id=order.pk, external_id=order_json["id"])
            if topic == "orders/cancelled" or order_json.get("cancelled_at"):
                order = SalesOrder.objects.get(pk=order.pk)
                if order.status != "cancelled":
                    order_cancel(order=order, reason=f"cancelled in Shopify ({order_json.get('cancel_reason') or 'no reason'})",
                                 actor_label=f"shopify:{endpoint.code}")
        return created


register(ShopifyConnector())
