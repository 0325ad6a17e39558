"""Root URLconf: the composition root, which names every app by dotted path."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from hub import views

DOMAIN_APP_URLCONFS = ["catalog.urls", "inventory.urls", "orders.urls", "returns.urls", "connectors.urls"]
# Matched first: storefronts call the price API on every page, and each pattern tried before
# it costs every one of those calls.
HOT_URLCONFS = ["orders.api.price_urls"]

urlpatterns = [path("", include(urlconf)) for urlconf in HOT_URLCONFS] + [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the admin's language switcher
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # drf-spectacular's ReDoc page asks Google for fonts; ours is the same page without them.
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="hub/redoc.html"), name="api-redoc"),
] + [path("", include(urlconf)) for urlconf in DOMAIN_APP_URLCONFS]
