"""Serializer bounds taken from the model columns a value ends up in, so that every value the
API accepts can be stored, on SQLite as on PostgreSQL."""

from decimal import Decimal

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations


def column_bounds(model, field_name: str) -> dict:
    """Serializer field keyword arguments for `model.field_name`: max_digits and decimal_places
    for a decimal column, min_value and max_value for an integer column (the portable SQL ranges:
    SQLite would store more, PostgreSQL would refuse it)."""
    field = model._meta.get_field(field_name)
    if isinstance(field, models.DecimalField):
        return {"max_digits": field.max_digits, "decimal_places": field.decimal_places}
    if isinstance(field, models.IntegerField):
        low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
        return {"min_value": low, "max_value": high}
    raise TypeError(f"{model.__name__}.{field_name} is neither a decimal nor an integer column")


def column_max(model, field_name: str) -> Decimal:
    """The largest amount a decimal column holds, e.g. 999999999999.99 for (14, 2)."""
    bounds = column_bounds(model, field_name)
    places = bounds["decimal_places"]
    return Decimal(10) ** (bounds["max_digits"] - places) - Decimal(10) ** -places
