"""Which price lists apply to a customer on a channel: the tiers `catalog.pricing` resolves."""

from dataclasses import dataclass

from django.db.models import Subquery, Value

from catalog.models import ChannelCatalog
from catalog.pricing import PricingRequest, Tier
from orders.models import Customer, CustomerGroup

CONTRACT = "contract"
CUSTOMER_LIST = "customer_list"
GROUP_LIST = "group_list"
PUBLIC_LIST = "public_list"


@dataclass(frozen=True)
class CustomerPricing:
    customer_id: int
    customer_code: str
    request: PricingRequest

    @property
    def currency(self) -> str:
        return self.request.currency


def customer_pricing_for(*, customer_code: str, channel) -> CustomerPricing | None:
    """The tiers for an active customer attached to `channel`; None when there is no such customer
    for this channel (whether the code exists elsewhere or not — callers answer 404 either way).

    Two queries: the customer (with the channel's public list), then its and its group's lists.
    """
    public_list = ChannelCatalog.objects.filter(channel_id=channel.pk).values("public_price_list_id")[:1]
    row = (
        Customer.objects.filter(code=customer_code, is_active=True, channels=channel.pk)
        .annotate(public_list_id=Subquery(public_list))
        .values_list("id", "code", "currency", "contract_price_list_id", "group_id", "public_list_id")
        .first()
    )
    if row is None:
        return None
    customer_id, code, currency, contract_id, group_id, public_id = row
    return CustomerPricing(customer_id, code, customer_request(
        customer_id=customer_id, currency=currency, contract_list_id=contract_id, group_id=group_id, public_list_id=public_id,
    ))


def customer_request(*, customer_id: int, currency: str, contract_list_id: int | None, group_id: int | None,
                     public_list_id: int | None) -> PricingRequest:
    customer_lists = Customer.price_lists.through.objects.filter(customer_id=customer_id).annotate(
        source=Value(CUSTOMER_LIST)
    ).values_list("pricelist_id", "source")
    if group_id is not None:
        group_lists = CustomerGroup.price_lists.through.objects.filter(customergroup_id=group_id).annotate(
            source=Value(GROUP_LIST)
        ).values_list("pricelist_id", "source")
        rows = list(customer_lists.union(group_lists, all=True))
    else:
        rows = list(customer_lists)
    tiers = []
    if contract_list_id is not None:
        tiers.append(Tier(CONTRACT, (contract_list_id,)))
    tiers.append(Tier(CUSTOMER_LIST, tuple(sorted(i for i, source in rows if source == CUSTOMER_LIST))))
    tiers.append(Tier(GROUP_LIST, tuple(sorted(i for i, source in rows if source == GROUP_LIST))))
    if public_list_id is not None:
        tiers.append(Tier(PUBLIC_LIST, (public_list_id,)))
    return PricingRequest(tiers=tuple(t for t in tiers if t.list_ids), currency=currency, reference_list_id=public_list_id)


def customer_pricing_for_instance(*, customer, channel=None) -> PricingRequest:
    """For the admin and the order import, which already hold the customer (and maybe a channel)."""
    public_id = None
    if channel is not None:
        public_id = ChannelCatalog.objects.filter(channel_id=channel.pk).values_list("public_price_list_id", flat=True).first()
    return customer_request(customer_id=customer.pk, currency=customer.currency, contract_list_id=customer.contract_price_list_id,
                            group_id=customer.group_id, public_list_id=public_id)


__all__ = ["CustomerPricing", "customer_pricing_for", "customer_pricing_for_instance"]
