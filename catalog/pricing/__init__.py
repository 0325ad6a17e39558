"""Pricing, in one package: the rules (`rules`, pure), the one statement that reads what a call
needs (`fetch`), and what each web process keeps, evicted by what changed (`cache`).
`orders.pricing` reads which lists a customer has and hands them to the tiers rule here."""

from catalog.pricing.fetch import fetch, price_lines
from catalog.pricing.rules import (
    CONTRACT, CUSTOMER_LIST, GROUP_LIST, NO_PRICE, PUBLIC_LIST, UNKNOWN_SKU, Break, ListInfo, PriceData, PricedLine, PricePlan,
    PricingRequest, Tier, format_price, price_error_label, price_line, price_plan, resolve_prices, tiers_for,
)

__all__ = ["CONTRACT", "CUSTOMER_LIST", "GROUP_LIST", "NO_PRICE", "PUBLIC_LIST", "UNKNOWN_SKU", "Break", "ListInfo", "PriceData",
           "PricePlan", "PricedLine", "PricingRequest", "Tier", "fetch", "format_price", "price_error_label", "price_line", "price_lines", "price_plan",
           "resolve_prices", "tiers_for"]
