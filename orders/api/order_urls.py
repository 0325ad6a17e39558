from django.urls import path

from orders.api.orders import OrdersView

urlpatterns = [path("api/v1/orders/", OrdersView.as_view(), name="api-orders")]
