"""Bench-only URLconf: the hub's routes plus `/bench/bare/`, the reference a plain Django view
returning constant JSON gives under the same server, middleware and settings."""

from django.http import HttpResponse
from django.urls import path

from hub.urls import urlpatterns as hub_urlpatterns

BODY = b'{"customer": "BC-0001", "currency": "EUR", "lines": [{"sku": "BENCH-000001", "quantity": 1, "unit_price": "12.30"}]}'


def bare(request):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("bench/bare/", bare), *hub_urlpatterns]
