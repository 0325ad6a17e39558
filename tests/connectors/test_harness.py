"""The sandbox harness over real HTTP: routing, auth, faults, limits, control API, webhook sender."""

import json
import re
import time
from datetime import datetime, timezone

import pytest
import requests

from connectors.testing.harness import (
    Abort,
    Clock,
    DeliveryPolicy,
    FixedWindow,
    Ids,
    Keyed,
    LeakyBucket,
    Sandbox,
    TokenBucket,
    WebhookSender,
    control,
    cursor_token,
    empty_response,
    hmac_sha256_base64,
    raw_response,
    read_cursor,
    route,
)
from connectors.testing.receiver import WebhookReceiver

TOKEN = "toy-token"
SECRET = "toy-secret"


class ToyShop(Sandbox):
    """A made-up vendor: token auth, items, a quota announced in headers, signed webhooks."""

    name = "toy"
    extra_faults = {"link_base": lambda value: _http_url(value)}

    def __init__(self, *, webhook_url=None, quota=None, **options):
        self.webhook_url = webhook_url
        self.quota = quota
        super().__init__(**options)

    def reset_state(self):
        self.items = {}

    def authenticate(self, request):
        if request.header("X-Toy-Token") != TOKEN:
            return self.json({"error": "bad token"}, 401)
        return None

    def is_write(self, request):
        return super().is_write(request) and request.path != "/api/search"

    def throttle(self, request):
        if self.quota is None:
            return None
        allowed, retry_after = self.quota.take()
        request.reply_headers.append(("X-Rate-Limit-Remaining", str(self.quota.remaining())))
        return None if allowed else self.throttled_response(request, retry_after)

    @route("POST", "/api/items")
    def item_create(self, request):
        data = request.json_object()
        if not data.get("name"):
            raise Abort(self.json({"error": "name is required"}, 422))
        item = {"id": self.ids.next("item"), "name": data["name"]}
        self.items[item["id"]] = item
        if self.webhook_url:
            body = json.dumps(item).encode()
            self.webhooks.enqueue(self.webhook_url, body, topic="item.created", subscription="hooks",
                                  headers={"Content-Type": "application/json", "X-Toy-Signature": hmac_sha256_base64(SECRET, body)})
        return self.json(item, 201)

    @route("GET", "/api/items/<int:item_id>")
    def item_get(self, request, item_id):
        if item_id not in self.items:
            raise Abort(self.json({"error": "no such item"}, 404))
        return self.items[item_id]

    @route("DELETE", "/api/items/<int:item_id>")
    def item_delete(self, request, item_id):
        self.items.pop(item_id, None)
        return empty_response()

    @route("POST", "/api/search")
    def search(self, request):
        wanted = (request.json() or {}).get("name")
        return {"items": [item for item in self.items.values() if item["name"] == wanted]}

    @route("GET", "/api/items")
    def item_list(self, request):
        return self.json({"items": list(self.items.values())}, headers={"Link": f'<{self.faults.value("link_base") or self.url}/api/items?page=2>; rel="next"'})

    @route("GET", "/api/echo/<path:rest>")
    def echo(self, request, rest):
        return {"rest": rest, "tags": request.args("tag"), "last": request.arg("tag"), "missing": request.arg("nope", "default")}

    @route("POST", "/api/form")
    def form(self, request):
        return {"form": request.form(), "content_type": request.content_type}

    @route("GET", "/api/logo.png", auth=False)
    def logo(self, request):
        return raw_response(b"\x89PNG\r\n", content_type="image/png", headers=[("Link", "<a>; rel=a"), ("Link", "<b>; rel=b")])

    @route("GET", "/api/crash")
    def crash(self, request):
        raise RuntimeError("boom")

    @control("POST", "items")
    def seed(self, request):
        for name in request.json()["names"]:
            item = {"id": self.ids.next("item"), "name": name}
            self.items[item["id"]] = item
        return {"items": len(self.items)}

    def state(self):
        return {"items": len(self.items)}


def _http_url(value):
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("link_base must be an http(s) URL")
    return value.rstrip("/")


def api(shop, method, path, token=TOKEN, **kwargs):
    kwargs.setdefault("timeout", 5)
    return requests.request(method, f"{shop.url}{path}", headers={"X-Toy-Token": token, **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def shop(receiver):
    with ToyShop(webhook_url=f"{receiver.url}/hooks", clock=Clock(start=datetime(2025, 3, 1, 9, tzinfo=timezone.utc))) as sandbox:
        yield sandbox


# --- routing and requests -------------------------------------------------------------------------

def test_routes_convert_path_parameters_and_keep_every_value_of_a_query_parameter(shop):
    created = api(shop, "POST", "/api/items", json={"name": "lamp"})
    assert created.status_code == 201 and created.json() == {"id": 1, "name": "lamp"}
    assert api(shop, "GET", "/api/items/1").json() == {"id": 1, "name": "lamp"}
    echo = api(shop, "GET", "/api/echo/a/b%20c", params=[("tag", "x"), ("tag", "y")]).json()
    assert echo == {"rest": "a/b c", "tags": ["x", "y"], "last": "y", "missing": "default"}


def test_an_unknown_path_is_404_and_a_known_path_with_another_method_is_405_with_allow(shop):
    assert api(shop, "GET", "/api/nothing").status_code == 404
    wrong_method = api(shop, "PUT", "/api/items/1")
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "DELETE, GET"
    assert api(shop, "GET", "/api/items/abc").status_code == 404  # <int:…> only matches digits


def test_the_auth_hook_guards_vendor_routes_but_not_public_ones(shop):
    assert api(shop, "GET", "/api/items/1", token="wrong").status_code == 401
    logo = api(shop, "GET", "/api/logo.png", token="wrong")
    assert logo.status_code == 200 and logo.content == b"\x89PNG\r\n" and logo.headers["Content-Type"] == "image/png"
    assert set(logo.links) == {"a", "b"}  # a header name may repeat


def test_bodies_parse_as_json_or_form_and_invalid_json_gets_the_sandbox_error_shape(shop):
    form = api(shop, "POST", "/api/form", data={"webhook_id": "12", "x": ["1", "2"]}).json()
    assert form == {"form": {"webhook_id": ["12"], "x": ["1", "2"]}, "content_type": "application/x-www-form-urlencoded"}
    broken = api(shop, "POST", "/api/items", data=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    assert shop.items == {}
    not_an_object = api(shop, "POST", "/api/items", json=["lamp"])
    assert not_an_object.status_code == 400 and "not a JSON object" in not_an_object.json()["error"]
    assert shop.items == {}


def test_a_chunked_request_body_is_read(shop):
    chunks = (part for part in [b'{"name":', b' "chunked"}'])
    assert api(shop, "POST", "/api/items", data=chunks, headers={"Content-Type": "application/json"}).json()["name"] == "chunked"


def test_a_cursor_token_carries_its_position_and_a_forged_one_is_refused():
    token = cursor_token({"offset": 50, "filters": {"status": "any"}})
    assert re.fullmatch(r"[A-Za-z0-9_-]+=*", token) and read_cursor(token) == {"offset": 50, "filters": {"status": "any"}}
    for forged in ("not-a-cursor", cursor_token([1, 2]), "", "%%%"):
        with pytest.raises(ValueError):
            read_cursor(forged)


def test_abort_answers_the_vendor_error_and_a_crash_answers_500_and_is_kept_for_the_test(shop):
    refused = api(shop, "POST", "/api/items", json={})
    assert refused.status_code == 422 and refused.json() == {"error": "name is required"}
    assert api(shop, "DELETE", "/api/items/9").status_code == 204
    crashed = api(shop, "GET", "/api/crash")
    assert crashed.status_code == 500
    assert "RuntimeError: boom" in shop.errors[-1]


# --- faults ---------------------------------------------------------------------------------------

def test_a_5xx_window_of_n_requests_answers_server_errors_without_applying_then_heals(shop):
    shop.set_faults(fail_5xx={"requests": 2, "status": 503})
    statuses = [api(shop, "POST", "/api/items", json={"name": f"n{i}"}).status_code for i in range(3)]
    assert statuses == [503, 503, 201]
    assert [item["name"] for item in shop.items.values()] == ["n2"]
    assert shop.stats["5xx sent"] == 2


def test_a_5xx_window_in_seconds_follows_the_sandbox_clock(shop):
    shop.set_faults(fail_5xx={"seconds": 30})
    assert api(shop, "GET", "/api/items/1").status_code in (500, 502, 503)
    shop.clock.advance(31)
    assert api(shop, "GET", "/api/items/1").status_code == 404
    assert "fail_5xx" not in shop.faults.describe()


def test_slow_after_applies_the_change_and_answers_after_the_clients_timeout(shop):
    shop.set_faults(slow_after={"ms": 600, "requests": 1})
    with pytest.raises(requests.ReadTimeout):
        api(shop, "POST", "/api/items", json={"name": "late"}, timeout=0.2)
    assert [item["name"] for item in shop.items.values()] == ["late"]  # applied although the client saw a timeout


def test_slow_before_waits_before_applying(shop):
    shop.set_faults(slow_before={"ms": 250, "requests": 1})
    started = time.monotonic()
    assert api(shop, "POST", "/api/items", json={"name": "slow"}).status_code == 201
    assert time.monotonic() - started >= 0.25


def test_drop_after_applies_the_change_and_closes_the_connection_without_an_answer(shop):
    shop.set_faults(drop_after={"requests": 1})
    with pytest.raises(requests.ConnectionError):
        api(shop, "POST", "/api/items", json={"name": "dropped"})
    assert [item["name"] for item in shop.items.values()] == ["dropped"]
    assert shop.journal[-1].status is None and shop.stats["connections dropped"] == 1


def test_malformed_applies_the_change_and_answers_a_body_that_is_not_json(shop):
    shop.set_faults(malformed={"requests": 1})
    answer = api(shop, "POST", "/api/items", json={"name": "cut"})
    assert answer.status_code == 201
    with pytest.raises(ValueError):
        answer.json()
    assert len(shop.items) == 1


def test_a_forced_429_comes_with_or_without_retry_after_and_does_not_apply(shop):
    shop.set_faults(throttle={"requests": 1, "retry_after": 1.5})
    first = api(shop, "POST", "/api/items", json={"name": "a"})
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    shop.set_faults(throttle={"requests": 1})
    second = api(shop, "POST", "/api/items", json={"name": "b"})
    assert second.status_code == 429 and "Retry-After" not in second.headers
    assert shop.items == {}


def test_a_fault_can_target_one_route_with_match(shop):
    shop.set_faults(fail_5xx={"match": r"^POST /api/items$"})
    assert api(shop, "GET", "/api/items/1").status_code == 404
    assert api(shop, "POST", "/api/items", json={"name": "x"}).status_code in (500, 502, 503)


def test_a_fault_limited_to_writes_leaves_reads_alone_and_the_sandbox_says_what_a_write_is(shop):
    api(shop, "POST", "/api/items", json={"name": "lamp"})
    shop.set_faults(fail_5xx={"writes": True, "requests": 1})
    assert api(shop, "GET", "/api/items/1").status_code == 200
    assert api(shop, "POST", "/api/search", json={"name": "lamp"}).json() == {"items": [{"id": 1, "name": "lamp"}]}  # a read over POST
    assert api(shop, "POST", "/api/items", json={"name": "refused"}).status_code in (500, 502, 503)
    assert api(shop, "POST", "/api/items", json={"name": "accepted"}).status_code == 201  # the one request was a write
    assert [item["name"] for item in shop.items.values()] == ["lamp", "accepted"]


def test_a_sandboxs_own_fault_switch_is_validated_shown_used_and_cleared(shop):
    with pytest.raises(ValueError):
        shop.set_faults(link_base="ftp://elsewhere")
    assert requests.post(f"{shop.url}/_sandbox/faults", json={"link_base": 12}, timeout=5).status_code == 400
    answer = requests.post(f"{shop.url}/_sandbox/faults", json={"link_base": "http://elsewhere.test/"}, timeout=5)
    assert answer.json() == {"faults": {"link_base": "http://elsewhere.test"}}
    assert api(shop, "GET", "/api/items").links["next"]["url"] == "http://elsewhere.test/api/items?page=2"
    requests.delete(f"{shop.url}/_sandbox/faults", timeout=5)
    assert api(shop, "GET", "/api/items").links["next"]["url"] == f"{shop.url}/api/items?page=2"
    shop.set_faults(link_base="http://elsewhere.test")
    shop.set_faults(link_base=None)
    assert shop.faults.describe() == {} and shop.faults.value("link_base") is None


def test_bad_fault_switches_are_refused_and_change_nothing(shop):
    shop.set_faults(throttle={"requests": 1})
    for bad in ({"fail_5xx": {"requests": 0}}, {"slow_after": {"requests": 1}}, {"nope": True},
                {"webhook_duplicate_rate": 2}, {"fail_5xx": {"status": 404}}, {"throttle": {"match": "("}},
                {"malformed": {"writes": "yes"}}):
        with pytest.raises(ValueError):
            shop.set_faults(**bad)
        answer = requests.post(f"{shop.url}/_sandbox/faults", json=bad, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    assert shop.faults.describe() == {"throttle": {"requests": 1}}


# --- control API ----------------------------------------------------------------------------------

def test_the_control_api_reports_state_sets_faults_runs_actions_and_resets(shop):
    assert requests.post(f"{shop.url}/_sandbox/items", json={"names": ["a", "b"]}, timeout=5).json() == {"items": 2}
    set_answer = requests.post(f"{shop.url}/_sandbox/faults", json={"fail_5xx": {"requests": 1}}, timeout=5)
    assert set_answer.json() == {"faults": {"fail_5xx": {"requests": 1}}}
    assert api(shop, "GET", "/api/items/1").status_code >= 500
    state = requests.get(f"{shop.url}/_sandbox/state", timeout=5).json()
    assert state["sandbox"] == "toy" and state["items"] == 2 and state["stats"]["5xx sent"] == 1 and state["faults"] == {}
    journal = requests.get(f"{shop.url}/_sandbox/requests", timeout=5).json()["requests"]
    assert journal[-1]["route"] == "/api/items/<int:item_id>" and journal[-1]["status"] >= 500
    requests.post(f"{shop.url}/_sandbox/faults", json={"slow_before": {"ms": 10}}, timeout=5)
    assert requests.delete(f"{shop.url}/_sandbox/faults", timeout=5).json() == {"faults": {}}
    assert requests.post(f"{shop.url}/_sandbox/reset", timeout=5).json() == {"reset": True}
    assert shop.items == {} and shop.stats == {} and requests.get(f"{shop.url}/_sandbox/nothing", timeout=5).status_code == 404
    assert api(shop, "POST", "/api/items", json={"name": "again"}).json()["id"] == 1  # ids restart too


def test_a_control_action_with_a_missing_field_answers_400(shop):
    answer = requests.post(f"{shop.url}/_sandbox/items", json={}, timeout=5)
    assert answer.status_code == 400 and "names" in answer.json()["error"]


# --- rate limits ----------------------------------------------------------------------------------

def test_a_fixed_window_quota_announces_what_is_left_refuses_when_spent_and_restores_at_reset():
    clock = Clock(start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    quota = FixedWindow(2, 60, clock=clock.monotonic)
    with ToyShop(quota=quota, clock=clock) as shop:
        answers = [api(shop, "GET", "/api/items/1") for _ in range(3)]
        assert [a.status_code for a in answers] == [404, 404, 429]
        assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["1", "0", "0"]
        assert answers[2].headers["Retry-After"] == "60"
        clock.advance(60)
        assert api(shop, "GET", "/api/items/1").status_code == 404


def test_a_leaky_bucket_refuses_when_full_and_says_how_long_until_it_fits():
    clock = Clock(start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    bucket = LeakyBucket(4, 2.0, clock=clock.monotonic)
    assert [bucket.take()[0] for _ in range(5)] == [True, True, True, True, False]
    assert bucket.used() == 4 and bucket.take() == (False, 0.5)
    clock.advance(0.5)
    assert bucket.take() == (True, 0.0)


def test_a_token_bucket_needs_the_whole_cost_available_and_refills_over_time():
    clock = Clock(start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    bucket = TokenBucket(20, 5, clock=clock.monotonic)
    assert bucket.take(12) == (True, 0.0)
    allowed, wait = bucket.take(12)
    assert not allowed and wait == pytest.approx(0.8)
    clock.advance(0.8)
    assert bucket.take(12)[0] and bucket.available() == pytest.approx(0)


def test_keyed_limiters_are_independent_per_key():
    clock = Clock(start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    per_operation = Keyed(lambda: TokenBucket(1, 0.5, clock=clock.monotonic))
    assert per_operation["getOrders"].take()[0] and not per_operation["getOrders"].take()[0]
    assert per_operation["getOrderItems"].take()[0]
    assert sorted(per_operation.keys()) == ["getOrderItems", "getOrders"]


# --- clock and ids --------------------------------------------------------------------------------

def test_ids_are_deterministic_per_seed_and_restart_on_reset():
    first, second = Ids(seed=7), Ids(seed=7)
    first.begin("order", 1000)
    assert [first.next("order"), first.next("order"), first.next()] == [1000, 1001, 1]
    assert first.uuid() == second.uuid() and first.hex(4) == second.hex(4)
    first.reset()
    assert first.next("order") == 1000 and first.uuid() == Ids(seed=7).uuid()


def test_a_frozen_clock_only_moves_when_advanced():
    clock = Clock(start=datetime(2025, 6, 1, 12, tzinfo=timezone.utc))
    assert clock.now() == datetime(2025, 6, 1, 12, tzinfo=timezone.utc) and clock.monotonic() == 0
    clock.advance(90)
    assert clock.now().minute == 1 and clock.monotonic() == 90
    with pytest.raises(ValueError):
        Clock(start=datetime(2025, 6, 1))


# --- webhooks -------------------------------------------------------------------------------------

def test_webhooks_are_posted_with_the_sandboxs_signature_and_logged(shop, receiver):
    item = api(shop, "POST", "/api/items", json={"name": "signed"}).json()
    received = receiver.wait_for(1)[0]
    assert json.loads(received.body) == item and received.path == "/hooks"
    assert received.header("X-Toy-Signature") == hmac_sha256_base64(SECRET, received.body)
    assert shop.webhooks.wait_idle()
    deliveries = requests.get(f"{shop.url}/_sandbox/deliveries", timeout=5).json()["deliveries"]
    assert [(d["topic"], d["outcome"], d["status"]) for d in deliveries] == [("item.created", "delivered", 200)]


def sender_for(receiver, **policy):
    return WebhookSender(policy=DeliveryPolicy(timeout=2, **policy), seed=1).start()


def test_a_failed_delivery_is_retried_with_backoff_until_accepted(receiver):
    receiver.answer(500, 502)
    sender = sender_for(receiver, retry_delays=(0.05, 0.1, 0.2))
    try:
        sender.enqueue(receiver.url, b"{}", headers={"X-Id": "1"}, topic="t")
        assert sender.wait_idle()
        assert [(r.attempt, r.outcome, r.status) for r in sender.records()] == [(0, "failed", 500), (1, "failed", 502), (2, "delivered", 200)]
        assert len(receiver.received) == 3
    finally:
        sender.stop()


def test_without_retries_a_subscription_is_disabled_after_n_failures_and_then_nothing_is_sent(receiver):
    receiver.answer(*[500] * 10)
    disabled = []
    sender = WebhookSender(policy=DeliveryPolicy(disable_after=3, timeout=2), on_disable=disabled.append).start()
    try:
        for n in range(4):
            sender.enqueue(receiver.url, b"{}", headers={}, topic="order.updated", subscription=42)
            assert sender.wait_idle()
        assert disabled == [42] and sender.disabled(42) and len(receiver.received) == 3
        assert [r.outcome for r in sender.records()] == ["failed", "failed", "failed", "skipped"]
        sender.enable(42, reset_failures=False)
        assert sender.failures(42) == 3
        receiver.answers.clear()
        sender.enqueue(receiver.url, b"{}", headers={}, subscription=42)
        assert sender.wait_idle() and sender.failures(42) == 0  # a success resets the count
    finally:
        sender.stop()


def test_duplicates_repeat_the_same_delivery_and_drops_never_reach_the_receiver(receiver):
    sender = sender_for(receiver, duplicate_rate=1.0, duplicate_delay=0.01)
    try:
        sender.enqueue(receiver.url, b'{"n":1}', headers={"X-Delivery": "abc"})
        assert sender.wait_idle()
        assert [r.header("X-Delivery") for r in receiver.received] == ["abc", "abc"]
        assert sender.records()[1].duplicate_of == sender.records()[0].delivery_id
        sender.faults.set(webhook_drop_rate=1.0)
        assert sender.enqueue(receiver.url, b"{}", headers={}) is None
        assert sender.wait_idle() and len(receiver.received) == 2 and sender.records()[-1].outcome == "dropped"
    finally:
        sender.stop()


def test_before_send_adds_per_attempt_headers_and_redirects_count_as_the_policy_says(receiver):
    receiver.answer(302)
    attempts = []

    def stamp(delivery, headers):
        attempts.append(delivery.attempt)
        return {**headers, "X-Attempt": str(delivery.attempt)}

    sender = WebhookSender(policy=DeliveryPolicy(success=range(200, 303), retry_delays=(0.05,)), before_send=stamp).start()
    try:
        sender.enqueue(receiver.url, b"{}", headers={})
        assert sender.wait_idle()
        assert attempts == [0] and receiver.received[0].header("X-Attempt") == "0"
        assert sender.records()[0].outcome == "delivered"
    finally:
        sender.stop()


def test_held_deliveries_are_released_in_reverse_order(receiver):
    sender = sender_for(receiver)
    try:
        sender.hold()
        for n in range(3):
            sender.enqueue(receiver.url, str(n).encode(), headers={})
        assert sender.wait_idle() and receiver.received == []
        assert sender.release(order="reverse") == 3
        assert [r.body for r in receiver.wait_for(3)] == [b"2", b"1", b"0"]
    finally:
        sender.stop()


def test_send_now_is_synchronous_and_outside_the_policy(receiver):
    receiver.answer(500)
    sender = WebhookSender(policy=DeliveryPolicy(disable_after=1))
    record = sender.send_now(receiver.url, b"webhook_id=3", headers={"Content-Type": "application/x-www-form-urlencoded"},
                             topic="ping", subscription=3)
    assert record.status == 500 and not record.ok and not sender.disabled(3)
    assert receiver.received[0].body == b"webhook_id=3"


def test_a_receiver_that_is_too_slow_counts_as_a_failed_delivery(receiver):
    receiver.set_faults(slow_before={"ms": 500, "requests": 1})
    sender = WebhookSender(policy=DeliveryPolicy(timeout=0.2)).start()
    try:
        sender.enqueue(receiver.url, b"{}", headers={})
        assert sender.wait_idle()
        record = sender.records()[0]
        assert record.outcome == "failed" and record.status is None and "Timeout" in record.error
    finally:
        sender.stop()
