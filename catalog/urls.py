from django.urls import path

from catalog.api.products import ProductDetailView, ProductListView

urlpatterns = [
    path("api/v1/products/", ProductListView.as_view(), name="api-products"),
    path("api/v1/products/<str:sku>/", ProductDetailView.as_view(), name="api-product-detail"),
]
