"""Sales channels are tenants: a channel sees and changes only customers that are its own, whatever
e-mail, code or id it sends, through every API and webhook path that resolves a customer."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.models import Binding, Endpoint, InboxMessage
from connectors.services import inbox_process
from connectors.shopify.webhooks import signature
from hub.services import api_token_create
from inventory import services as stock
from orders import services
from orders.models import Customer, CustomerMatch, OrderStatus, PaymentTerms, SalesOrder
from tests.catalog.factories import ChannelCatalogFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory, order_payload
from tests.orders.threads import run_concurrently

pytestmark = pytest.mark.django_db

SECRET = "shpss_tenancy"


@pytest.fixture
def world(client):
    """Channel A (web shop) and channel B (B2B portal), each with a token; B has a B2B customer on
    net-30 terms with a credit limit and a private price; A has a Shopify endpoint."""
    web, portal = SalesChannelFactory(code="web"), SalesChannelFactory(code="b2b")
    public = PriceListFactory(code="PUBLIC")
    for channel in (web, portal):
        ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp = ProductFactory(sku="LAMP-1", name="Lampe")
    stock.stock_receive(product=lamp, warehouse=WarehouseFactory(code="LYON"), quantity=50)
    PriceEntryFactory(price_list=public, product=lamp, unit_price=Decimal("25.00"))
    private = PriceListFactory(code="ACME-PRIVATE")
    PriceEntryFactory(price_list=private, product=lamp, unit_price=Decimal("9.99"))
    acme = CustomerFactory(code="ACME-BUYER", name="Acme Buyer", email="buyer@acme.example", channels=[portal],
                           payment_terms=PaymentTerms.NET_30, credit_limit=Decimal("1000.00"))
    acme.price_lists.add(private)
    _, web_key = api_token_create(channel=web)
    _, portal_key = api_token_create(channel=portal)
    endpoint = Endpoint.objects.create(kind="shopify", code="shop-web", name="Web shop", base_url="https://web.myshopify.com",
                                       channel=web, webhook_secret=SECRET)
    return {"web": web, "portal": portal, "acme": acme, "web_key": web_key, "portal_key": portal_key, "endpoint": endpoint,
            "client": client}


def post_order(world, body, key="web_key", **headers):
    return world["client"].post("/api/v1/orders/", data=json.dumps(body), content_type="application/json",
                                HTTP_AUTHORIZATION=f"Token {world[key]}", **headers)


def get_prices(world, customer, key="web_key"):
    return world["client"].get(f"/api/v1/prices/?customer={customer}&sku=LAMP-1", HTTP_AUTHORIZATION=f"Token {world[key]}")


def quote(world, customer, key="web_key"):
    return world["client"].post("/api/v1/prices/quote/", {"customer": customer, "lines": [{"sku": "LAMP-1", "quantity": 1}]},
                                content_type="application/json", HTTP_AUTHORIZATION=f"Token {world[key]}")


def webhook(world, topic, payload, delivery):
    body = json.dumps(payload).encode()
    response = world["client"].post("/webhooks/shop-web/", data=body, content_type="application/json", headers={
        "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": delivery, "X-Shopify-Hmac-Sha256": signature(SECRET, body)})
    assert response.status_code == 200
    return inbox_process(message_id=InboxMessage.objects.get(delivery_id=delivery).pk)


def untouched(acme):
    fresh = Customer.objects.get(pk=acme.pk)
    assert (fresh.name, fresh.email, fresh.is_active) == ("Acme Buyer", "buyer@acme.example", True)
    assert list(fresh.channels.values_list("code", flat=True)) == ["b2b"]
    assert not fresh.channel_identities.exists() and not fresh.orders.exists()


def test_an_order_with_another_channels_customers_email_makes_a_new_customer_of_its_own(world):
    response = post_order(world, order_payload("A-1", payment_status="pending",
                                               customer={"external_id": "shopper-9", "email": "BUYER@acme.example", "name": "Mallory"}))
    assert response.status_code == 201
    order = SalesOrder.objects.get(external_id="A-1")
    assert order.customer != world["acme"]
    assert list(order.customer.channels.values_list("code", flat=True)) == ["web"]
    assert (order.customer.type, order.customer.payment_terms, order.customer.credit_limit) == ("b2c", PaymentTerms.IMMEDIATE, None)
    # Not confirmed on the other customer's net-30 terms: an unpaid web order waits for payment.
    assert order.status == OrderStatus.RECEIVED
    assert services.customer_exposure(customer=world["acme"]) == 0
    untouched(world["acme"])


def test_an_order_with_only_that_email_also_makes_a_new_customer(world):
    assert post_order(world, order_payload("A-2", customer={"email": "buyer@acme.example"})).status_code == 201
    assert SalesOrder.objects.get(external_id="A-2").customer != world["acme"]
    untouched(world["acme"])


def test_after_such_an_order_the_other_channels_customers_prices_are_still_404_like_an_unknown_customer(world):
    post_order(world, order_payload("A-1", customer={"external_id": "shopper-9", "email": "buyer@acme.example"}))
    unknown = [get_prices(world, "GHOST"), quote(world, "GHOST")]
    foreign = [get_prices(world, "ACME-BUYER"), quote(world, "ACME-BUYER")]
    assert [(r.status_code, r.content) for r in foreign] == [(r.status_code, r.content) for r in unknown]
    assert {r.status_code for r in foreign} == {404}
    assert get_prices(world, "ACME-BUYER", key="portal_key").json()["lines"][0]["unit_price"] == "9.99"


def test_the_price_api_scopes_the_customer_inside_its_customer_statement(world, django_assert_num_queries):
    get_prices(world, "ACME-BUYER", key="portal_key")  # the token's first use also stamps last_used_at
    with CaptureQueriesContext(connection) as captured:
        assert get_prices(world, "ACME-BUYER", key="portal_key").status_code == 200
    assert any("ch.saleschannel_id = " in query["sql"] for query in captured.captured_queries)
    get_prices(world, "GHOST")
    with CaptureQueriesContext(connection) as foreign:
        get_prices(world, "ACME-BUYER")
    with CaptureQueriesContext(connection) as unknown:
        get_prices(world, "GHOST")
    assert len(foreign) == len(unknown)  # refusing another channel's customer does no extra lookup


def test_naming_another_channels_customer_by_code_is_refused_like_an_unknown_code(world):
    foreign = post_order(world, order_payload("A-3", customer={"code": "ACME-BUYER"}))
    unknown = post_order(world, order_payload("A-3", customer={"code": "GHOST"}))
    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json()["detail"].replace("ACME-BUYER", "GHOST") == unknown.json()["detail"]
    assert not SalesOrder.objects.exists()
    untouched(world["acme"])


def test_a_generated_customer_code_never_lands_on_an_existing_customer(world):
    """New customers are coded <CHANNEL>-<their id>: an id chosen to spell an existing code must
    not reach that customer."""
    vip = CustomerFactory(code="WEB-VIP", name="Staff-made VIP", email="vip@example.com", channels=[world["portal"]],
                          payment_terms=PaymentTerms.NET_60, credit_limit=Decimal("50000"))
    assert post_order(world, order_payload("A-4", customer={"external_id": "VIP", "email": "x@example.com"})).status_code == 201
    customer = SalesOrder.objects.get(external_id="A-4").customer
    assert customer != vip and customer.code != "WEB-VIP"
    assert list(vip.channels.values_list("code", flat=True)) == ["b2b"] and not vip.orders.exists()


def test_the_same_customer_id_or_order_id_in_two_channels_are_separate_records(world):
    assert post_order(world, order_payload("SAME-1", customer={"external_id": "c-1"}), key="portal_key").status_code == 201
    assert post_order(world, order_payload("SAME-1", customer={"external_id": "c-1"})).status_code == 201
    web_order, portal_order = (SalesOrder.objects.get(external_id="SAME-1", channel=world[c]) for c in ("web", "portal"))
    assert web_order.customer != portal_order.customer


def test_a_shopify_customer_webhook_with_that_email_creates_a_customer_and_renames_nobody(world):
    message = webhook(world, "customers/create", {"id": 42, "email": "buyer@acme.example", "first_name": "Mal", "last_name": "Lory"}, "d-1")
    assert message.status == "processed", message.error
    assert "created" in message.error
    customer = Customer.objects.get(channel_identities__external_id="42")
    assert customer != world["acme"] and customer.name == "Mal Lory"
    assert Binding.objects.get(endpoint=world["endpoint"], model="customer").local_id == str(customer.pk)
    message = webhook(world, "customers/update", {"id": 42, "email": "buyer@acme.example", "first_name": "Renamed"}, "d-2")
    assert message.status == "processed", message.error
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"
    untouched(world["acme"])


def test_a_shopify_order_webhook_with_that_email_creates_a_customer_of_the_shop(world):
    order = {"id": 5001, "email": "buyer@acme.example", "currency": "EUR", "financial_status": "pending", "taxes_included": True,
             "total_price": "25.00", "total_tax": "4.17", "created_at": "2026-11-22T10:15:00+01:00", "customer": {"id": 77, "email": "buyer@acme.example", "first_name": "M"},
             "line_items": [{"id": 1, "variant_id": 2, "sku": "LAMP-1", "title": "Lampe", "quantity": 1, "price": "25.00"}]}
    assert webhook(world, "orders/create", order, "d-3").status == "processed"
    assert SalesOrder.objects.get(external_id="5001").customer != world["acme"]
    untouched(world["acme"])


def test_a_refund_webhook_cannot_reach_another_channels_order(world):
    other = Endpoint.objects.create(kind="shopify", code="shop-b2b", name="B2B shop", base_url="https://b2b.myshopify.com",
                                    channel=world["portal"], webhook_secret="other")
    order, _ = services.order_import(channel=world["portal"], data=order_payload("B-1", customer={"code": "ACME-BUYER"}))
    Binding.objects.create(endpoint=other, model="order", local_id=str(order.pk), external_id="9001")
    refund = {"id": 1, "order_id": 9001, "transactions": [{"kind": "refund", "status": "success", "amount": "10.00"}]}
    message = webhook(world, "refunds/create", refund, "d-4")
    assert message.status == "failed" and "not in the hub" in message.error
    assert not order.payments.filter(kind="refund").exists()  # only the channel's own payment


def test_within_a_channel_customers_are_still_one_per_id_and_per_email(world):
    own = CustomerFactory(code="WEB-CAMILLE", email="camille@example.com", type="b2c", channels=[world["web"]])
    first, _ = services.order_import(channel=world["web"], data=order_payload("1", customer={"external_id": "cust-77", "email": "camille@example.com"}))
    second, _ = services.order_import(channel=world["web"], data=order_payload("2", customer={"external_id": "cust-77"}))
    third, _ = services.order_import(channel=world["web"], data=order_payload("3", customer={"email": "CAMILLE@example.com"}))
    fourth, _ = services.order_import(channel=world["web"], data=order_payload("4", customer={"email": "new@example.com"}))
    fifth, _ = services.order_import(channel=world["web"], data=order_payload("5", customer={"email": "New@Example.com"}))
    assert first.customer == second.customer == third.customer == own
    assert fourth.customer == fifth.customer != own
    assert Customer.objects.filter(channels=world["web"]).count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_ids", [True, False], ids=["each-with-its-own-customer-id", "email-only"])
def test_sixteen_concurrent_orders_with_one_new_email_make_one_customer_per_channel(with_ids):
    channels = SalesChannelFactory(code="web"), SalesChannelFactory(code="b2b")
    ProductFactory(sku="LAMP-1")

    def place(n):
        customer = {"external_id": f"guest-{n}", "email": "New@Example.com"} if with_ids else {"email": "New@Example.com"}
        return services.order_import(channel=channels[n % 2], data=order_payload(f"RUSH-{n}", customer=customer))[0]

    orders, errors = run_concurrently(16, place)
    assert errors == []
    assert SalesOrder.objects.count() == 16
    for channel in channels:
        customers = Customer.objects.filter(email="new@example.com", channels=channel)
        assert customers.count() == 1
        assert {o.customer_id for o in orders if o.channel_id == channel.pk} == {customers.get().pk}
    assert Customer.objects.count() == 2


class TestPossibleDuplicates:
    @pytest.fixture
    def duplicate(self, world):
        post_order(world, order_payload("A-1", customer={"external_id": "shopper-9", "email": "buyer@acme.example"}))
        return SalesOrder.objects.get(external_id="A-1").customer

    def test_a_new_customer_with_another_channels_email_is_flagged_for_review(self, world, duplicate):
        match = CustomerMatch.objects.get()
        assert (match.customer, match.existing, match.status) == (duplicate, world["acme"], CustomerMatch.Status.OPEN)

    def test_why_two_customers_may_be_one_person_reads_in_the_readers_language(self, world, duplicate, admin_client):
        assert CustomerMatch.objects.get().reason == "same e-mail as ACME-BUYER"
        french = admin_client.get("/admin/orders/customermatch/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "même e-mail que ACME-BUYER" in french and "same e-mail" not in french

    def test_linking_needs_the_permission(self, world, duplicate, django_user_model):
        clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
        with pytest.raises(PermissionDenied):
            services.customer_match_link(match=CustomerMatch.objects.get(), user=clerk)
        assert CustomerMatch.objects.get().status == CustomerMatch.Status.OPEN
        untouched(world["acme"])

    def test_a_link_a_person_approves_makes_the_channel_use_the_existing_customer(self, world, duplicate, django_user_model):
        manager = django_user_model.objects.create_user("manager", password="x", is_staff=True)
        manager.user_permissions.add(Permission.objects.get(codename="link_customermatch"))
        manager = django_user_model.objects.get(pk=manager.pk)
        services.customer_match_link(match=CustomerMatch.objects.get(), user=manager)
        match = CustomerMatch.objects.get()
        assert (match.status, match.decided_by) == (CustomerMatch.Status.LINKED, manager)
        assert set(world["acme"].channels.values_list("code", flat=True)) == {"b2b", "web"}
        assert not Customer.objects.get(pk=duplicate.pk).is_active
        post_order(world, order_payload("A-5", customer={"external_id": "shopper-9"}))
        post_order(world, order_payload("A-6", customer={"email": "buyer@acme.example"}))
        assert {o.customer for o in SalesOrder.objects.filter(external_id__in=["A-5", "A-6"])} == {world["acme"]}
        assert get_prices(world, "ACME-BUYER").json()["lines"][0]["unit_price"] == "9.99"

    def test_a_dismissed_match_changes_nothing(self, world, duplicate, django_user_model):
        manager = django_user_model.objects.create_superuser("boss", password="x")
        services.customer_match_dismiss(match=CustomerMatch.objects.get(), user=manager)
        assert CustomerMatch.objects.get().status == CustomerMatch.Status.DISMISSED
        assert get_prices(world, "ACME-BUYER").status_code == 404
        untouched(world["acme"])

    def test_in_the_admin_only_a_user_with_the_permission_gets_the_link_action(self, world, duplicate, django_user_model, client):
        def staff(name, *codenames):
            user = django_user_model.objects.create_user(name, password="x", is_staff=True)
            user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
            return user

        match = CustomerMatch.objects.get()
        url = "/admin/orders/customermatch/"
        client.force_login(staff("viewer", "view_customermatch"))
        page = client.get(url)
        assert page.status_code == 200 and "ACME-BUYER" in page.text and 'value="link"' not in page.text
        response = client.post(url, {"action": "link", "_selected_action": [match.pk]})
        assert response.status_code in (200, 302)
        assert CustomerMatch.objects.get().status == CustomerMatch.Status.OPEN
        untouched(world["acme"])
        client.force_login(staff("manager", "view_customermatch", "link_customermatch"))
        assert 'value="link"' in client.get(url).text
        client.post(url, {"action": "link", "_selected_action": [match.pk]})
        assert CustomerMatch.objects.get().status == CustomerMatch.Status.LINKED
        assert world["web"] in world["acme"].channels.all()
