"""Loop documents → what the hub's returns services take (pure functions, no database).

A Loop return lists one line item per returned unit, with its SKU and the customer's reason
in words; the outcome (refund, exchange, store credit) is the return's, exchanges list the SKUs
sent instead. Money fields are strings in some examples and numbers in others."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

REASON_WORDS = [  # first match wins: Loop's reasons are the merchant's own words
    (("damag", "broken"), "damaged"), (("defect", "faulty", "not work"), "defective"), (("wrong",), "wrong_item"),
    (("describ", "expected", "quality", "look"), "not_as_described"), (("size", "fit", "small", "large", "big", "tight", "loose"), "size_fit"),
    (("late", "delay"), "late"), (("need", "mind", "want"), "no_longer_needed"),
]
OUTCOMES = {"refund": "refund", "exchange": "exchange", "gift_card": "store_credit", "giftcard": "store_credit", "credit": "store_credit",
            "store_credit": "store_credit"}


@dataclass
class LoopReturn:
    return_id: str
    state: str
    updated_at: datetime | None
    order_reference: str
    outcome: str
    lines: list[dict] = field(default_factory=list)  # [{"sku", "quantity", "reason", "replacement_sku"}]
    total: Decimal | None = None
    currency: str = ""


def money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def stamp(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time") from None


def reason_code(text: str) -> str:
    words = (text or "").lower()
    for needles, code in REASON_WORDS:
        if any(needle in words for needle in needles):
            return code
    return "other"


def updated_at(document: dict) -> datetime | None:
    """When Loop last changed the return: `updated_at`, else `edited_at`, else `created_at`."""
    return stamp(document.get("updated_at") or document.get("edited_at") or document.get("created_at"))


def loop_return(document: dict, *, order_field: str = "provider_order_id") -> LoopReturn:
    if not document.get("id"):
        raise ValueError("the return has no id")
    outcome = OUTCOMES.get(str(document.get("outcome") or "refund").lower())
    if outcome is None:
        raise ValueError(f"unknown outcome {document.get('outcome')!r}")
    exchanges = [str(e.get("sku") or "") for e in document.get("exchanges") or [] if isinstance(e, dict)]
    lines: dict[tuple, dict] = {}
    for index, item in enumerate(document.get("line_items") or []):
        if not isinstance(item, dict) or not item.get("sku"):
            raise ValueError("a line item has no SKU")
        replacement = exchanges[index] if outcome == "exchange" and index < len(exchanges) else ""
        reason = reason_code(item.get("parent_return_reason") or item.get("return_reason") or "")
        key = (str(item["sku"]), reason, replacement)
        line = lines.setdefault(key, {"sku": key[0], "quantity": 0, "reason": reason, "replacement_sku": replacement})
        quantity = item.get("quantity") or 1
        if not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"line item {item.get('line_item_id') or item['sku']}: quantity {quantity!r} is not a positive whole number")
        line["quantity"] += quantity
    if not lines:
        raise ValueError("the return has no line items")
    reference = str(document.get(order_field) or "")
    if not reference:
        raise ValueError(f"the return names no order ({order_field})")
    return LoopReturn(return_id=str(document["id"]), state=str(document.get("state") or "open"), updated_at=updated_at(document),
                      order_reference=reference, outcome=outcome, lines=list(lines.values()),
                      total=money(document.get("return_total") if document.get("return_total") is not None else document.get("total")),
                      currency=str(document.get("currency") or ""))


def label(document: dict) -> dict:
    """A label document: the return it belongs to, carrier, tracking number and status."""
    return_id = document.get("return_id") or (document.get("return") or {}).get("id")
    if not return_id:
        raise ValueError("the label names no return")
    return {"return_id": str(return_id), "carrier": str(document.get("carrier") or ""),
            "tracking_number": str(document.get("tracking_number") or ""), "status": str(document.get("status") or "new"),
            "updated_at": updated_at(document)}
