"""Bench-only URLconf: the hub's routes plus a bare constant view, served at `/bench/bare/`
without middleware (bench.price_api.wsgi) and at `/bench/bare-stack/` through the hub's stack."""

from django.http import HttpResponse
from django.urls import path

from hub.urls import urlpatterns as hub_urlpatterns

BODY = b'{"customer": "BC-0001", "currency": "EUR", "lines": [{"sku": "BENCH-000001", "quantity": 1, "unit_price": "12.30"}]}'


def bare(request):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("bench/bare/", bare), path("bench/bare-stack/", bare), *hub_urlpatterns]
