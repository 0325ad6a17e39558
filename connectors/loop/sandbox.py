"""A Loop Returns account on localhost, speaking what Loop's documentation (docs.loopreturns.com:
authentication, rate limits, return actions, webhook reference) describes:

- The API key in `X-Authorization`; a missing or wrong key is 401 `{"errors": {"message": …}}`.
- 300 requests per minute per key (a fixed window); over it, 429 with no `Retry-After`.
- `GET /api/v1/warehouse/return/list`; `POST /api/v1/warehouse/return/<id>/process|close|flag|
  cancel` (process answers 422 with `UNPROCESSABLE_FLAGGED_RETURN` for a flagged return; an
  action on a closed or cancelled return is 422).
- Webhooks, shaped as Loop's webhook reference shows them: topic `return` (`return.created|updated|
  closed`; `id` a string, `edited_at` null until edited, `total` and `return_total`, per line
  item `outcome`, `return_reason`, `parent_return_reason`, `exchange_variant`, the `exchanges`
  with their `variant_id`, `status_page_url`), topic `label` (`label.created|updated`; the return
  named by `id`, `carrier`, `tracking_number`, `label_status`, `label_updated_at`,
  `shipment_id`) and topic `restock` (`restock.requested` after a return is processed, its
  `restock_items`). The JSON is sent pretty-printed (newlines, slashes as they are) and
  `X-Loop-Signature` is base64(HMAC-SHA256(secret, the body with slashes escaped and newlines
  removed)), as Loop tells receivers to hash. No delivery id header.

The control API (`/_sandbox/…`) acts as the shopper and the carrier: start a return (refund,
exchange or store credit; its totals as given, so a test can send ones that do not add up),
create or move its label, change it, resend the last delivery of a return, hold a delivery
back and release it after newer ones (out of order).

Standard library and the harness only: no hub code, no Django."""

import argparse
import base64
import copy
import hashlib
import hmac
import json
import re

from connectors.testing.harness import FixedWindow, Request, Sandbox, control, json_response, route

API = "/api/v1"
SHOP_ID = 9876
ACTIONS = {"process": "closed", "close": "closed", "flag": "needs review", "cancel": "cancelled"}
_ESCAPE_OR_SLASH = re.compile(rb"\\.|/", re.DOTALL)


def loop_signed_bytes(body: bytes) -> bytes:
    return _ESCAPE_OR_SLASH.sub(lambda m: rb"\/" if m.group(0) == b"/" else m.group(0), body).replace(b"\r", b"").replace(b"\n", b"")


def loop_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), loop_signed_bytes(body), hashlib.sha256).digest()).decode()


class LoopSandbox(Sandbox):
    name = "loop"

    def __init__(self, *, api_key: str, webhook_url: str = "", webhook_secret: str = "", requests_per_minute: int = 300,
                 restock_webhooks: bool = True, **kwargs):
        self.api_key, self.webhook_url, self.webhook_secret = api_key, webhook_url, webhook_secret
        self.restock_webhooks = restock_webhooks
        self.requests_per_minute = requests_per_minute
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        self.returns: dict[int, dict] = {}
        self.labels: dict[int, dict] = {}
        self.sent: dict[int, list[bytes]] = {}
        self.held: dict[int, list[bytes]] = {}
        self.actions: list[tuple[int, str]] = []
        self.window = FixedWindow(self.requests_per_minute, 60)

    def state(self) -> dict:
        return {"returns": list(self.returns.values()), "actions": self.actions}

    # --- protocol ----------------------------------------------------------------------------------
    def authenticate(self, request: Request):
        if request.header("X-Authorization") != self.api_key:
            return json_response({"errors": {"message": "Unauthenticated."}}, 401)
        return None

    def throttle(self, request: Request):
        allowed, _ = self.window.take()
        return None if allowed else json_response({"message": "Too Many Attempts."}, 429)

    @route("GET", f"{API}/warehouse/return/list")
    def return_list(self, request):
        return [self._public(r) for r in self.returns.values()]

    @route("POST", f"{API}/warehouse/return/<int:return_id>/<action>")
    def return_action(self, request, return_id, action):
        loop_return = self.returns.get(return_id)
        if loop_return is None or action not in ACTIONS:
            return json_response({"errors": {"message": "Not found."}}, 404)
        if loop_return["state"] in ("closed", "cancelled"):
            return json_response({"errors": {"message": f"Return is {loop_return['state']}.", "code": "UNPROCESSABLE_RETURN"}}, 422)
        if action == "process" and loop_return["state"] == "needs review":
            return json_response({"errors": {"message": "Return is flagged and therefore cannot be processed.",
                                             "code": "UNPROCESSABLE_FLAGGED_RETURN"}}, 422)
        loop_return["state"] = ACTIONS[action]
        self.actions.append((return_id, action))
        self._touch(loop_return)
        self._send(loop_return, "return.closed" if loop_return["state"] == "closed" else "return.updated")
        if action == "process" and self.restock_webhooks:
            self._restock(loop_return)
        return "true"

    # --- control: the shopper and the carrier ---------------------------------------------------------
    @control("POST", "returns")
    def start_return(self, request):
        """Body: order_id (the shop's order id), order_name, currency, outcome (refund, exchange,
        credit; the default for lines that name none), lines [{sku, price, reason, parent_reason?,
        quantity?, outcome?}], exchanges [{sku, price?}] (paired in order with the exchanged
        lines), return_total and total (default: the lines' prices; give them to send figures
        that do not add up, as Loop's own examples do)."""
        spec = request.json_object()
        return_id = self.ids.next("return")
        default = spec.get("outcome") or "refund"
        exchanges = [{"exchange_id": self.ids.next("exchange"), "product_id": self.ids.next("product"),
                      "variant_id": self.ids.next("variant"), "sku": e["sku"], "title": e.get("title") or e["sku"],
                      "price": str(e.get("price") or "0.00"), "discount": "0.00", "tax": "0.00", "total": str(e.get("price") or "0.00"),
                      "type": "variant", "out_of_stock": False} for e in spec.get("exchanges") or []]
        pairs = iter(exchanges)
        items = []
        for line in spec.get("lines") or []:
            for _ in range(int(line.get("quantity") or 1)):
                outcome = line.get("outcome") or default
                exchange = next(pairs, None) if outcome == "exchange" else None
                items.append({"line_item_id": self.ids.next("line"), "provider_line_item_id": str(self.ids.next("provider_line")),
                              "product_id": self.ids.next("product"), "variant_id": self.ids.next("variant"), "sku": line["sku"],
                              "title": line.get("title") or line["sku"], "price": str(line.get("price") or "0.00"), "discount": "0.00",
                              "tax": "0.00", "refund": "0.00" if outcome == "exchange" else str(line.get("price") or "0.00"),
                              "returned_at": None, "exchange_variant": exchange["variant_id"] if exchange else None,
                              "outcome": outcome, "return_reason": line.get("reason") or "Other",
                              "parent_return_reason": line.get("parent_reason"), "return_comment": None, "barcode": None})
        products = f"{sum(float(i['price']) for i in items):.2f}"
        credit = f"{sum(float(i['price']) for i in items if i['outcome'] in ('credit', 'gift_card', 'store_credit')):.2f}"
        refund = f"{sum(float(i['price']) for i in items if i['outcome'] == 'refund'):.2f}"
        return_total = str(spec.get("return_total") or products)
        order_id = str(spec.get("provider_order_id") or spec.get("order_id") or "")
        loop_return = {
            "id": str(return_id), "state": "open", "created_at": self._now(), "edited_at": None,
            "total": str(spec.get("total") or return_total), "order_id": self.ids.next("order"),
            "order_name": spec.get("order_name") or f"#{order_id}", "provider_order_id": order_id,
            "order_number": str(spec.get("order_number") or order_id), "customer": spec.get("customer") or "shopper@example.com",
            "currency": spec.get("currency") or "EUR",
            "return_product_total": products, "return_discount_total": "0.00", "return_tax_total": "0.00",
            "return_total": return_total, "return_credit_total": return_total,
            "status_page_url": f"https://shop.loopreturns.com/#/return/{return_id}",
            "exchange_total": f"{sum(float(e['total']) for e in exchanges):.2f}", "gift_card": credit, "refund": refund,
            "handling_fee": "0.00", "upsell": "0.00", "is_gift_return": False, "refunds": [], "labels": [],
            "line_items": items, "exchanges": exchanges,
        }
        self.returns[return_id] = loop_return
        self._send(loop_return, "return.created")
        return self._public(loop_return)

    @control("POST", "returns/<int:return_id>/label")
    def label(self, request, return_id):
        """Body: carrier, tracking_number, status (Loop's `label_status`: N/A, pre_transit,
        in_transit, out_for_delivery, delivered, error, failure). A label webhook names its return
        by `id`, as Loop's label reference shows."""
        spec = request.json_object()
        loop_return = self.returns[return_id]
        label = self.labels.get(return_id)
        trigger = "label.updated" if label else "label.created"
        self.clock.advance(1)
        label = {**(label or {"shipment_id": str(self.ids.next("shipment"))}),
                 "carrier": spec.get("carrier") or "USPS", "tracking_number": spec.get("tracking_number") or "",
                 "label_status": spec.get("status") or "N/A", "label_updated_at": self._now(millis=True)}
        self.labels[return_id] = label
        loop_return["labels"] = [{"status": label["label_status"], "updated_at": label["label_updated_at"],
                                  "url": f"https://shop.loopreturns.com/label/{label['shipment_id']}", "rate": 690,
                                  "carrier": label["carrier"], "tracking_number": label["tracking_number"],
                                  "line_items": [i["line_item_id"] for i in loop_return["line_items"]]}]
        payload = {"topic": "label", "trigger": trigger, "shop_id": SHOP_ID, "id": int(return_id), "order_id": loop_return["order_id"],
                   "provider_order_id": loop_return["provider_order_id"], **label}
        self._deliver(return_id, payload, hold=bool(spec.get("hold")))
        return payload

    @control("POST", "returns/<int:return_id>/update")
    def update(self, request, return_id):
        """The merchant changes the return in Loop (e.g. `{"state": "cancelled"}`): return.updated.
        `"hold": true` keeps that delivery back until `release` (it then arrives late)."""
        changes = request.json_object()
        hold = changes.pop("hold", False)
        loop_return = self.returns[return_id]
        loop_return.update(changes)
        self._touch(loop_return)
        self._send(loop_return, "return.updated", hold=hold)
        return self._public(loop_return)

    @control("POST", "returns/<int:return_id>/release")
    def release(self, request, return_id):
        """Deliver the deliveries held back for the return, now."""
        held = self.held.pop(return_id, [])
        for body in held:
            self._post(body, "late")
        return {"released": len(held)}

    @control("POST", "returns/<int:return_id>/resend")
    def resend(self, request, return_id):
        """Deliver the return's last webhook again, byte for byte (a retry)."""
        body = self.sent[return_id][-1]
        self._post(body, "resend")
        return {"resent": len(body)}

    # --- helpers ------------------------------------------------------------------------------------
    def _now(self, *, millis: bool = False) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ")

    def _touch(self, loop_return: dict) -> None:
        self.clock.advance(1)
        loop_return["edited_at"] = self._now()

    @staticmethod
    def _public(loop_return: dict) -> dict:
        return copy.deepcopy(loop_return)

    def _send(self, loop_return: dict, trigger: str, *, hold: bool = False) -> None:
        self._deliver(int(loop_return["id"]), {"topic": "return", "trigger": trigger, "shop_id": SHOP_ID, **self._public(loop_return)},
                      hold=hold)

    def _restock(self, loop_return: dict) -> None:
        """Loop's restock request (when restocking is set to webhooks): one item per returned unit."""
        items = [{"location_id": 10123456789, "variant_id": i["variant_id"], "inventory_item_id": i["product_id"],
                  "available_adjustment": 1, "inventory_management": "third_party"} for i in loop_return["line_items"]]
        self._deliver(int(loop_return["id"]), {"topic": "restock", "trigger": "restock.requested", "id": int(loop_return["id"]),
                                               "order_id": loop_return["order_id"], "provider_order_id": loop_return["provider_order_id"],
                                               "restock_items": items})

    def _deliver(self, return_id: int, payload: dict, *, hold: bool = False) -> None:
        body = json.dumps(payload, indent=2).encode()
        self.sent.setdefault(return_id, []).append(body)
        if hold:
            self.held.setdefault(return_id, []).append(body)
        else:
            self._post(body, payload["trigger"])

    def _post(self, body: bytes, topic: str) -> None:
        if self.webhook_url:
            headers = {"Content-Type": "application/json", "X-Loop-Signature": loop_signature(self.webhook_secret, body)}
            self.webhooks.send_now(self.webhook_url, body, headers=headers, topic=topic)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run a Loop Returns sandbox in the foreground.")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-secret", default="")
    args = parser.parse_args(argv)
    LoopSandbox(port=args.port, api_key=args.api_key, webhook_url=args.webhook_url, webhook_secret=args.webhook_secret).serve_forever()


if __name__ == "__main__":
    main()
