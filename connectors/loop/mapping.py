"""Loop documents → what the hub's returns services take (pure functions, no database).

As Loop's webhook reference documents them: a return lists one line item per returned unit,
each with its SKU, the customer's reason in the merchant's words (`return_reason`, under a
`parent_return_reason`) and its own `outcome` (refund, exchange, store credit); an exchanged
unit names the variant sent instead (`exchange_variant`), found among the return's
`exchanges` by `variant_id`. Money fields are strings in some examples and numbers in others;
the return's `edited_at` is null until it is edited. A label names its return by `id` (older
pages: `return_id`) and carries `carrier`, `tracking_number`, `label_status` and
`label_updated_at`."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

REASON_WORDS = [  # first match wins: Loop's reasons are the merchant's own words
    (("damag", "broken"), "damaged"), (("defect", "faulty", "not work"), "defective"), (("wrong",), "wrong_item"),
    (("describ", "expected", "quality", "look"), "not_as_described"), (("size", "fit", "small", "large", "big", "tight", "loose"), "size_fit"),
    (("late", "delay"), "late"), (("need", "mind", "want"), "no_longer_needed"),
]
OUTCOMES = {"refund": "refund", "exchange": "exchange", "gift_card": "store_credit", "giftcard": "store_credit", "credit": "store_credit",
            "store_credit": "store_credit"}
TOLERANCE = Decimal("0.01")


@dataclass
class LoopReturn:
    return_id: str
    state: str
    updated_at: datetime | None
    order_reference: str
    outcome: str  # refund, exchange, store_credit, or mixed (refund and store credit in one return)
    lines: list[dict] = field(default_factory=list)  # [{"sku", "quantity", "reason", "replacement_sku"}]
    total: Decimal | None = None
    currency: str = ""
    inconsistency: str = ""  # Loop's own figures that do not add up, in words


def money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RefusedData(Text(gettext_noop("%(value)s is not an amount"), value=repr(value))) from None


def stamp(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise RefusedData(Text(gettext_noop("%(value)s is not a date and time"), value=repr(value))) from None


def reason_code(text: str) -> str:
    words = (text or "").lower()
    for needles, code in REASON_WORDS:
        if any(needle in words for needle in needles):
            return code
    return "other"


def updated_at(document: dict) -> datetime | None:
    """When Loop last changed the return: `edited_at` (null until edited), else `created_at`
    (`updated_at` first where a payload has one)."""
    return stamp(document.get("updated_at") or document.get("edited_at") or document.get("created_at"))


def _line_outcome(item: dict, *, default: str) -> str:
    given = item.get("outcome")
    if given in (None, ""):
        return "exchange" if item.get("exchange_variant") else default
    outcome = OUTCOMES.get(str(given).lower())
    if outcome is None:
        raise RefusedData(Text(gettext_noop("line item %(item)s: unknown outcome %(outcome)s"), item=item.get("line_item_id") or item.get("sku"),
                               outcome=repr(given)))
    return outcome


def _default_outcome(document: dict) -> str:
    """For line items that state no outcome: the return's own (older payloads), else store credit
    when Loop issues a gift card and refunds nothing, else refund."""
    if document.get("outcome"):
        outcome = OUTCOMES.get(str(document["outcome"]).lower())
        if outcome is None:
            raise RefusedData(Text(gettext_noop("unknown outcome %(outcome)s"), outcome=repr(document["outcome"])))
        return outcome
    gift_card, refund = money(document.get("gift_card")) or 0, money(document.get("refund")) or 0
    return "store_credit" if gift_card > 0 and refund == 0 else "refund"


def _inconsistency(document: dict, total: Decimal | None) -> str:
    """Loop's figures that contradict each other: `total` ≠ `return_total`, or product − discount
    + tax ≠ `return_total`."""
    other = money(document.get("total"))
    if total is not None and other is not None and abs(other - total) > TOLERANCE:
        return f"Loop's total {other} and return_total {total} differ"
    product, discount, tax = (money(document.get(k)) for k in ("return_product_total", "return_discount_total", "return_tax_total"))
    if total is not None and product is not None:
        computed = product - (discount or 0) + (tax or 0)
        if abs(computed - total) > TOLERANCE:
            return f"Loop's products {product} − discounts {discount or 0} + tax {tax or 0} = {computed}, not its return_total {total}"
    return ""


def loop_return(document: dict, *, order_field: str = "provider_order_id") -> LoopReturn:
    if not document.get("id"):
        raise RefusedData(Text(gettext_noop("the return has no id")))
    default = _default_outcome(document)
    exchanges = [e for e in document.get("exchanges") or [] if isinstance(e, dict)]
    by_variant = {str(e.get("variant_id")): str(e.get("sku") or "") for e in exchanges if e.get("variant_id") not in (None, "")}
    unpaired = [str(e.get("sku") or "") for e in exchanges if e.get("variant_id") in (None, "")]
    lines: dict[tuple, dict] = {}
    outcomes = set()
    for item in document.get("line_items") or []:
        if not isinstance(item, dict) or not item.get("sku"):
            raise RefusedData(Text(gettext_noop("a line item has no SKU")))
        outcome = _line_outcome(item, default=default)
        replacement = ""
        if outcome == "exchange":
            variant = item.get("exchange_variant")
            replacement = by_variant.get(str(variant), "") if variant not in (None, "") else ""
            if not replacement and unpaired:
                replacement = unpaired.pop(0)
            if not replacement:
                raise RefusedData(Text(gettext_noop("line item %(item)s is exchanged for a variant (%(variant)s) that is not among the return's "
                                                    "exchanges"), item=item.get("line_item_id") or item["sku"], variant=repr(variant)))
        else:
            outcomes.add(outcome)
        reason = reason_code(item.get("return_reason") or "")
        if reason == "other":  # the category the reason sits under may say more
            reason = reason_code(item.get("parent_return_reason") or "")
        key = (str(item["sku"]), reason, replacement)
        line = lines.setdefault(key, {"sku": key[0], "quantity": 0, "reason": reason, "replacement_sku": replacement})
        quantity = item.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise RefusedData(Text(gettext_noop("line item %(item)s: quantity %(quantity)s is not a positive whole number"),
                                   item=item.get("line_item_id") or item["sku"], quantity=repr(quantity)))
        line["quantity"] += quantity
    if not lines:
        raise RefusedData(Text(gettext_noop("the return has no line items")))
    reference = str(document.get(order_field) or "")
    if not reference:
        raise RefusedData(Text(gettext_noop("the return names no order (%(field)s)"), field=order_field))
    outcome = "exchange" if not outcomes else outcomes.pop() if len(outcomes) == 1 else "mixed"
    total = money(document.get("return_total")) if document.get("return_total") not in (None, "") else money(document.get("total"))
    return LoopReturn(return_id=str(document["id"]), state=str(document.get("state") or "open"), updated_at=updated_at(document),
                      order_reference=reference, outcome=outcome, lines=list(lines.values()), total=total,
                      currency=str(document.get("currency") or ""), inconsistency=_inconsistency(document, total))


def label(document: dict) -> dict:
    """A label document: the return it belongs to (`id`, or `return_id` in older pages), carrier,
    tracking number, `label_status` and `label_updated_at`."""
    return_id = document.get("return_id") or document.get("id") or (document.get("return") or {}).get("id")
    if not return_id:
        raise RefusedData(Text(gettext_noop("the label names no return")))
    return {"return_id": str(return_id), "carrier": str(document.get("carrier") or ""),
            "tracking_number": str(document.get("tracking_number") or ""),
            "status": str(document.get("label_status") or document.get("status") or "N/A"),
            "updated_at": stamp(document.get("label_updated_at") or document.get("updated_at") or document.get("created_at"))}
