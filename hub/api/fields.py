"""Serializer bounds taken from the model columns a value ends up in, so that every amount the
API accepts can be stored, on SQLite as on PostgreSQL (SQLite would store more digits than the
column declares, PostgreSQL refuses them)."""

from decimal import Decimal


def column_bounds(model, field_name: str) -> dict:
    """`max_digits` and `decimal_places` of the decimal column `model.field_name`, as serializer
    `DecimalField` keyword arguments."""
    field = model._meta.get_field(field_name)
    return {"max_digits": field.max_digits, "decimal_places": field.decimal_places}


def column_max(model, field_name: str) -> Decimal:
    """The largest amount a decimal column holds, e.g. 999999999999.99 for (14, 2)."""
    bounds = column_bounds(model, field_name)
    places = bounds["decimal_places"]
    return Decimal(10) ** (bounds["max_digits"] - places) - Decimal(10) ** -places
