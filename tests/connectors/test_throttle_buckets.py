"""Per-operation request buckets shared through the database, and clients that wait for them."""

import pytest

from connectors.http import ApiClient
from connectors.models import Endpoint, ThrottleBucket
from connectors.testing.harness import Keyed, Sandbox, TokenBucket, route
from connectors.throttle import OperationBuckets, Quota, throttle_reserve
from tests.hub.factories import SalesChannelFactory


class MeteredVendor(Sandbox):
    """Each operation has its own bucket; an empty bucket answers 429 with no Retry-After."""

    name = "metered"

    def reset_state(self):
        self.buckets = Keyed(lambda: TokenBucket(2, 5))
        self.served = 0

    def throttle(self, request):
        allowed, _ = self.buckets[request.path].take()
        request.reply_headers.append(("X-Rate-Granted", "5"))
        if not allowed:
            return self.json({"errors": [{"code": "QuotaExceeded"}]}, 429)
        return None

    @route("GET", "/items")
    def items(self, request):
        self.served += 1
        return {"ok": True}

    @route("GET", "/other")
    def other(self, request):
        return {"ok": True}


class MeteredClient(OperationBuckets, ApiClient):
    quotas = {"listItems": Quota(1000.0, 50)}  # wrong on purpose: the vendor's header and 429s correct it
    rate_limit_header = "X-Rate-Granted"


@pytest.fixture
def vendor():
    sandbox = MeteredVendor().start()
    yield sandbox
    sandbox.stop()


def _endpoint(url):
    return Endpoint.objects.create(kind="echo-test", code="metered", name="Metered", base_url=url, channel=SalesChannelFactory())


@pytest.mark.django_db(transaction=True)
def test_each_operation_has_its_own_bucket_in_the_database(vendor):
    endpoint = _endpoint(vendor.url)
    waits = [throttle_reserve(endpoint_id=endpoint.pk, rate_per_second=1, burst=2, bucket="slow") for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and 0.9 < waits[2] <= 1.0
    assert throttle_reserve(endpoint_id=endpoint.pk, rate_per_second=1, burst=2, bucket="other") == 0.0
    assert throttle_reserve(endpoint_id=endpoint.pk, rate_per_second=1, burst=2) == 0.0  # the endpoint's own bucket
    assert set(ThrottleBucket.objects.filter(endpoint=endpoint).values_list("name", flat=True)) == {"slow", "other"}


@pytest.mark.django_db(transaction=True)
def test_quota_exceeded_is_waited_out_and_the_announced_rate_followed(vendor):
    endpoint = _endpoint(vendor.url)
    client = MeteredClient(endpoint=endpoint)
    with client.operation("listItems"):
        answers = [client.json("GET", "items") for _ in range(12)]
    assert answers == [{"ok": True}] * 12 and vendor.served == 12
    assert vendor.stats["429 sent"] >= 1  # the documented quota was too generous: the vendor said no, nothing failed
    assert ThrottleBucket.objects.get(endpoint=endpoint, name="listItems").rate_per_second == 5
    sent_before = vendor.stats["429 sent"]
    with client.operation("listItems"):
        for _ in range(10):
            client.json("GET", "items")
    assert vendor.stats["429 sent"] - sent_before <= 1  # at the announced rate the bucket keeps up
