"""Schema-based fuzzing: schemathesis generates requests from the live OpenAPI schema
(`/api/schema/`) for every operation, valid ones and ones that break the schema, and sends them
to the WSGI app with a valid channel token. No answer may be a 500, and every answer must be
one the schema documents: its status code, content type, headers and body.

Runs on SQLite and PostgreSQL outside a test transaction, as a web request runs (the price API's
cache and its libpq path included). Examples are derandomised, so a run is repeatable; a
failure prints the request to reproduce it.
"""

import random

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from tests.api.conftest import SKUS, seed_storefront

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = 100  # per operation and generation mode: 8 operations × 2 modes × 100 = 1 600 cases
# Not negative_data_rejection: DRF's lenient coercions (a number for a string, "1.0" for an
# integer) are accepted on purpose.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def storefront(settings, transactional_db):
    settings.HUB_PREPARED_STATEMENTS = True  # the price API's production path on PostgreSQL
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis's WSGI client
    return seed_storefront(shipped_order=True)


@pytest.fixture
def api_schema(storefront):
    from hub.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def known_data(case, rng: random.Random):
    """Most generated SKUs and customer codes exist nowhere; swap most for the seeded ones so that
    pricing, stock and order import are reached, not only their not-found branches."""
    if rng.random() < 0.25:
        return case
    if isinstance(case.query, dict):
        if "sku" in case.query:
            case.query["sku"] = rng.sample(SKUS, rng.randint(1, len(SKUS)))
        if "customer" in case.query:
            case.query["customer"] = "ACME"
    if isinstance(case.body, dict):
        customer = case.body.get("customer")
        if isinstance(customer, str):
            case.body["customer"] = "ACME"
        elif isinstance(customer, dict):  # an order: a storefront's customer, known or new
            customer.pop("code", None)
            customer["external_id"] = f"shopper-{rng.randint(1, 20)}"
        lines = case.body.get("lines")
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict) and "sku" in line:
                line["sku"] = rng.choice(SKUS)
                if "tax_rate" in line:
                    line["tax_rate"] = "0.2000"
        if "order_external_id" in case.body or "order_number" in case.body:  # a return: of the shipped order
            case.body.pop("order_number", None)
            case.body["order_external_id"] = "SHIPPED-1"
    if isinstance(case.path_parameters, dict) and "sku" in case.path_parameters:
        case.path_parameters["sku"] = rng.choice(SKUS)
    if isinstance(case.path_parameters, dict) and "number" in case.path_parameters and rng.random() < 0.5:
        case.path_parameters["number"] = "RMA-000001"
    return case


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(api_schema, storefront):
    auth = {"Authorization": f"Token {storefront['key']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 8
    sent = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE:  # negative cases are left as generated, to be refused
                cases = st.builds(known_data, cases, st.randoms(use_true_random=False))

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=cases)
            def check(case):
                sent.append(case.operation.label)
                case.call_and_validate(headers=auth, checks=CHECKS)

            check()

    assert len(sent) >= 1_400
