from django.urls import include, path

# The price API's routes (orders.api.price_urls) are mounted first by the root URLconf.
urlpatterns = [
    path("", include("orders.api.order_urls")),
]
