from decimal import Decimal

from tests.pricing.factories import CustomerFactory, CustomerGroupFactory  # noqa: F401  (one customer factory for all tests)


def order_payload(external_id="1001", *, lines=None, total=None, payment_status="paid", customer=None, shipping="4.90", order_discount="0", **extra):
    """A consistent storefront order (prices include tax): lines + shipping − discount = total."""
    lines = lines or [{"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]
    computed = sum(Decimal(str(l["quantity"])) * Decimal(str(l["unit_price"])) - Decimal(str(l.get("discount", "0"))) for l in lines)
    computed += Decimal(shipping) - Decimal(order_discount)
    return {
        "external_id": external_id, "currency": "EUR",
        "customer": customer or {"external_id": "cust-77", "email": "camille@example.com", "name": "Camille Martin"},
        "shipping_address": {"name": "Camille Martin", "line1": "3 rue des Lilas", "postcode": "69003", "city": "Lyon", "country": "FR"},
        "billing_address": {"name": "Camille Martin", "line1": "3 rue des Lilas", "postcode": "69003", "city": "Lyon", "country": "FR"},
        "lines": lines, "shipping_lines": [{"title": "Colissimo", "price": shipping}] if Decimal(shipping) else [],
        "order_discount": order_discount, "total": str(total if total is not None else computed), "payment_status": payment_status,
        **extra,
    }
