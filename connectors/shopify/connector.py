import json

from connectors.registry import Connector, register
from connectors.shopify.mapping import order_payload
from connectors.shopify.webhooks import signature_valid
from hub.changes import change_origin

API_VERSION = "2025-01"
ORDER_TOPICS = {"orders/create", "orders/updated", "orders/paid", "orders/cancelled"}


class ShopifyConnector(Connector):
    kind = "shopify"

    def verify_webhook(self, *, endpoint, headers, body):
        return signature_valid(secret=endpoint.webhook_secret, body=body, header_value=headers.get("X-Shopify-Hmac-Sha256", ""))

    def delivery_id(self, headers):
        return headers.get("X-Shopify-Webhook-Id", "")

    def topic(self, headers):
        return headers.get("X-Shopify-Topic", "")

    def check_connection(self, *, endpoint):
        import requests

        token = endpoint.credentials.get("access_token", "")
        if not token:
            raise ValueError("no 'access_token' credential (add it with --credential access_token=…)")
        response = requests.get(f"{endpoint.base_url.rstrip('/')}/admin/api/{API_VERSION}/shop.json",
                                headers={"X-Shopify-Access-Token": token, "Accept": "application/json"}, timeout=10)
        if response.status_code == 401:
            raise ValueError("the shop refused the access token (401)")
        response.raise_for_status()
        shop = response.json().get("shop", {})
        return f"connected to {shop.get('name', '?')} ({shop.get('myshopify_domain', '?')}), API {API_VERSION}"

    def process(self, *, message):
        from orders.models import SalesOrder
        from orders.services import order_cancel, order_import

        if message.topic not in ORDER_TOPICS:
            return "ignored"
        endpoint = message.endpoint
        order_json = json.loads(message.body)
        with change_origin(endpoint.code):
            order, created = order_import(channel=endpoint.channel, data=order_payload(order_json), actor_label=f"shopify:{endpoint.code}")
            if message.topic == "orders/cancelled" or order_json.get("cancelled_at"):
                order = SalesOrder.objects.get(pk=order.pk)
                if order.status != "cancelled":
                    order_cancel(order=order, reason=f"cancelled in Shopify ({order_json.get('cancel_reason') or 'no reason'})",
                                 actor_label=f"shopify:{endpoint.code}")
        return f"{order.number} {'created' if created else 'updated'}"


register(ShopifyConnector())
