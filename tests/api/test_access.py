"""Every answer of the storefront API, metadata included, goes only to a valid token; every
view runs the shared request checks."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from hub.api.views import CheckedRequestMixin

pytestmark = pytest.mark.django_db

API_URLS = ["/api/v1/prices/", "/api/v1/prices/quote/", "/api/v1/products/", "/api/v1/products/LAMP-1/",
            "/api/v1/stock/", "/api/v1/orders/", "/api/v1/returns/", "/api/v1/returns/RMA-000001/"]


def api_views(resolver=None, prefix=""):
    """(route, view class) of every URL pattern under api/v1/."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route, pattern.callback.view_class


@pytest.mark.parametrize("url", API_URLS)
def test_options_answers_metadata_only_to_a_valid_token(client, storefront, url):
    assert client.options(url).status_code == 401
    refused = client.options(url, HTTP_AUTHORIZATION="Token not-a-key")
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid or revoked token."}
    answered = client.options(url, HTTP_AUTHORIZATION=f"Token {storefront['key']}")
    assert answered.status_code == 200 and "name" in answered.json()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/prices/", "/api/v1/prices/quote/"])
def test_methods_the_price_api_lacks_are_refused_only_to_a_valid_token(client, storefront, url, method):
    assert getattr(client, method)(url, HTTP_AUTHORIZATION="Token not-a-key").status_code == 401
    assert getattr(client, method)(url, HTTP_AUTHORIZATION=f"Token {storefront['key']}").status_code == 405


def test_every_api_view_runs_the_shared_request_checks():
    views = dict(api_views())
    assert {"api/v1/prices/", "api/v1/orders/", "api/v1/stock/", "api/v1/products/", "api/v1/returns/"} <= set(views)
    unchecked = [route for route, view in views.items() if not issubclass(view, CheckedRequestMixin)]
    assert unchecked == []
