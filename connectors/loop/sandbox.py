"""A Loop Returns account on localhost, speaking what Loop's documentation (docs.loopreturns.com:
authentication, rate limits, return actions, webhook reference) describes:

- The API key in `X-Authorization`; a missing or wrong key is 401 `{"errors": {"message": …}}`.
- 300 requests per minute per key (a fixed window); over it, 429 with no `Retry-After`.
- `GET /api/v1/warehouse/return/list`; `POST /api/v1/warehouse/return/<id>/process|close|flag|
  cancel` (process answers 422 with `UNPROCESSABLE_FLAGGED_RETURN` for a flagged return; an
  action on a closed or cancelled return is 422).
- Webhooks (topic `return` with triggers `return.created|updated|closed`, topic `label` with
  `label.created|updated`): the JSON is sent pretty-printed (newlines, slashes as they are) and
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
ACTIONS = {"process": "closed", "close": "closed", "flag": "needs review", "cancel": "cancelled"}
_ESCAPE_OR_SLASH = re.compile(rb"\\.|/", re.DOTALL)


def loop_signed_bytes(body: bytes) -> bytes:
    return _ESCAPE_OR_SLASH.sub(lambda m: rb"\/" if m.group(0) == b"/" else m.group(0), body).replace(b"\r", b"").replace(b"\n", b"")


def loop_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), loop_signed_bytes(body), hashlib.sha256).digest()).decode()


class LoopSandbox(Sandbox):
    name = "loop"

    def __init__(self, *, api_key: str, webhook_url: str = "", webhook_secret: str = "", requests_per_minute: int = 300, **kwargs):
        self.api_key, self.webhook_url, self.webhook_secret = api_key, webhook_url, webhook_secret
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
        return "true"

    # --- control: the shopper and the carrier ---------------------------------------------------------
    @control("POST", "returns")
    def start_return(self, request):
        """Body: order_id, order_name, currency, outcome, lines [{sku, price, reason, quantity?}],
        exchanges [{sku}], return_total (default: the lines' prices)."""
        spec = request.json_object()
        return_id = self.ids.next("return")
        items = []
        for line in spec.get("lines") or []:
            for _ in range(int(line.get("quantity") or 1)):
                items.append({"line_item_id": self.ids.next("line"), "sku": line["sku"], "price": str(line.get("price") or "0.00"),
                              "return_reason": line.get("reason") or "Other", "parent_return_reason": line.get("reason") or "Other"})
        default_total = f"{sum(float(i['price']) for i in items):.2f}"
        loop_return = {
            "id": str(return_id), "state": "open", "outcome": spec.get("outcome") or "refund",
            "order_id": int(spec.get("order_id") or 0), "order_name": spec.get("order_name") or "",
            "provider_order_id": str(spec.get("provider_order_id") or spec.get("order_id") or ""),
            "currency": spec.get("currency") or "EUR", "line_items": items, "exchanges": spec.get("exchanges") or [],
            "return_total": str(spec.get("return_total") or default_total), "total": str(spec.get("return_total") or default_total),
            "customer": "https://shop.example/account", "created_at": self._now(), "updated_at": self._now(),
        }
        self.returns[return_id] = loop_return
        self._send(loop_return, "return.created")
        return self._public(loop_return)

    @control("POST", "returns/<int:return_id>/label")
    def label(self, request, return_id):
        """Body: carrier, tracking_number, status (new, in_transit, delivered…)."""
        spec = request.json_object()
        label = self.labels.get(return_id)
        trigger = "label.updated" if label else "label.created"
        label = {**(label or {"id": self.ids.next("label"), "return_id": return_id, "created_at": self._now()}),
                 "carrier": spec.get("carrier") or "USPS", "tracking_number": spec.get("tracking_number") or "",
                 "status": spec.get("status") or "new", "updated_at": self._now()}
        self.labels[return_id] = label
        self._deliver(return_id, {"topic": "label", "trigger": trigger, **label})
        return label

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
    def _now(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def _touch(self, loop_return: dict) -> None:
        self.clock.advance(1)
        loop_return["updated_at"] = self._now()

    @staticmethod
    def _public(loop_return: dict) -> dict:
        return copy.deepcopy(loop_return)

    def _send(self, loop_return: dict, trigger: str, *, hold: bool = False) -> None:
        self._deliver(int(loop_return["id"]), {"topic": "return", "trigger": trigger, **self._public(loop_return)}, hold=hold)

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
