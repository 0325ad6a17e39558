from django.urls import path

from orders.api.prices import PricesView, QuoteView

urlpatterns = [
    path("api/v1/prices/", PricesView.as_view(), name="api-prices"),
    path("api/v1/prices/quote/", QuoteView.as_view(), name="api-prices-quote"),
]
