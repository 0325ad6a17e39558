from django.urls import include, path

urlpatterns = [
    path("", include("orders.api.price_urls")),
    path("", include("orders.api.order_urls")),
]
