"""Catalogue pull for storefronts: active/archived products, cursor-paginated, `updated_since`."""

from datetime import datetime, timezone as dt_timezone

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from catalog.api import schema  # noqa: F401  (registers the token scheme)
from catalog.models import Product
from catalog.selectors import products_for_api
from hub.api.views import CheckedRequestMixin


class ProductImageSerializer(serializers.Serializer):
    url = serializers.URLField()
    position = serializers.IntegerField()
    alt_text = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    names = serializers.SerializerMethodField(help_text="Per-language names, e.g. {\"fr\": …, \"en\": …}.")
    descriptions = serializers.SerializerMethodField()
    description = serializers.CharField()
    status = serializers.CharField()
    parent_sku = serializers.CharField(source="parent.sku", default=None, allow_null=True)
    option_axes = serializers.JSONField()
    option_values = serializers.JSONField()
    category = serializers.CharField(source="category.path", default=None, allow_null=True)
    brand = serializers.CharField()
    gtin = serializers.CharField()
    weight_g = serializers.IntegerField(allow_null=True)
    length_mm = serializers.IntegerField(allow_null=True)
    width_mm = serializers.IntegerField(allow_null=True)
    height_mm = serializers.IntegerField(allow_null=True)
    storage_temp_min_c = serializers.IntegerField(allow_null=True)
    storage_temp_max_c = serializers.IntegerField(allow_null=True)
    hazardous = serializers.BooleanField()
    shelf_life_days = serializers.IntegerField(allow_null=True)
    track_expiry = serializers.BooleanField()
    country_of_origin = serializers.CharField()
    customs_code = serializers.CharField()
    attributes = serializers.JSONField()
    images = ProductImageSerializer(many=True)
    updated_at = serializers.DateTimeField()

    def get_names(self, product) -> dict[str, str]:
        return {t.language: t.name for t in product.translations.all()}

    def get_descriptions(self, product) -> dict[str, str]:
        return {t.language: t.description for t in product.translations.all()}


def parse_instant(raw: str) -> datetime | None:
    """An ISO 8601 date-time (or date, at midnight in the hub's time zone) as a UTC datetime, or
    None when it is not one or falls outside the years 1 to 9999 once in UTC (which no database
    column holds). Converting in Python keeps offsets PostgreSQL refuses (beyond ±15:59) out of SQL."""
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                return None
            value = datetime(day.year, day.month, day.day)
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return value.astimezone(dt_timezone.utc)
    except (ValueError, OverflowError):  # well-formed but no such date, or out of range
        return None


class ProductCursorPagination(CursorPagination):
    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """1 to `max_page_size`: anything else is a 400 rather than silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        field = serializers.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return field.run_validation(raw)
        except ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.detail}) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request):
        """DRF's cursor, whose position (the last `updated_at` seen) must also be a date-time:
        a cursor is base64 the client can forge, and the position goes into the query."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and parse_instant(cursor.position) is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor


def _parse_updated_since(raw: str):
    value = parse_instant(raw)
    if value is None:
        raise ValidationError({"updated_since": [gettext("Use an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z.")]})
    return value


@extend_schema(tags=["products"], parameters=[
    OpenApiParameter("updated_since", str, description="Only products changed at or after this ISO 8601 date-time."),
])
class ProductListView(CheckedRequestMixin, generics.ListAPIView):
    serializer_class = ProductSerializer
    pagination_class = ProductCursorPagination

    def get_queryset(self):
        raw = self.request.query_params.get("updated_since")
        return products_for_api(updated_since=_parse_updated_since(raw) if raw else None)


@extend_schema(tags=["products"], parameters=[
    OpenApiParameter("sku", {"type": "string", "minLength": 1, "maxLength": Product._meta.get_field("sku").max_length},
                     OpenApiParameter.PATH),
])
class ProductDetailView(CheckedRequestMixin, generics.RetrieveAPIView):
    serializer_class = ProductSerializer
    lookup_field = "sku"
    lookup_url_kwarg = "sku"

    def get_queryset(self):
        return products_for_api()
