from django.urls import path

from inventory.api.stock import StockView

urlpatterns = [path("api/v1/stock/", StockView.as_view(), name="api-stock")]
