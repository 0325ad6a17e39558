"""The OpenAPI description of what the API really does: drf-spectacular's, plus the error answers
every operation can give and the list bounds and decimal signs DRF enforces but drf-spectacular
leaves out. Views declare only the answers particular to them (a 404 customer, a 422 order)."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny

ERROR = ResolvedComponent(
    name="Error", type=ResolvedComponent.SCHEMA, object="Error",
    schema={"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"],
            "description": "What went wrong, in words."},
)
INVALID = ResolvedComponent(
    name="ValidationErrors", type=ResolvedComponent.SCHEMA, object="ValidationErrors",
    schema={
        "type": "object", "minProperties": 1,
        "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
        "description": "Each invalid field, query parameter or header by name, with its messages: a list of "
                       "strings, or for a nested object or list the same shape inside (one entry per list item, "
                       "`{}` for the valid ones); `non_field_errors` for the request as a whole. A body that "
                       "cannot be read as JSON gets `{\"detail\": …}` instead.",
        "example": {"lines": [{}, {"quantity": ["Ensure this value is greater than or equal to 1."]}]},
    },
)

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: a field, query parameter or header (a NUL character, a value out of range, "
           "unreadable JSON…), named with its messages.",
    "401": "No token, or one that is invalid, revoked or of an inactive channel.",
    "403": "The caller may not do this (e.g. a staff session where a channel token is needed).",
    "404": "Not found.",
    "406": "The Accept header asks for something other than JSON.",
    "413": "The request body is over the size limit.",
    "415": "The body is not `application/json`.",
    "429": "Too many requests; retry after the `Retry-After` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:  # views declare theirs without a body
                component = INVALID if code == "400" else ERROR
                self.registry.register_on_missing(component)
                response["content"] = {"application/json": {"schema": component.ref}}
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        """The error statuses this operation can answer, from how the view is set up."""
        view = self.view
        codes = ["400", "406"]  # every request's headers and parameters are checked; JSON only
        if not all(isinstance(p, AllowAny) for p in view.get_permissions()):
            codes.append("401")
        if any(isinstance(a, SessionAuthentication) for a in view.get_authenticators()) and self.method not in ("GET", "HEAD"):
            codes.append("403")  # CSRF
        if "{" in self.path or isinstance(getattr(view, "paginator", None), CursorPagination):
            codes.append("404")  # no such object, or an invalid cursor
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if view.get_throttles():
            codes.append("429")
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not schema:
            return schema
        if schema.get("type") == "array" and isinstance(field, (serializers.ListSerializer, serializers.ListField)):
            if not field.allow_empty:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
            if isinstance(field, serializers.ListSerializer):  # ListField's bounds are validators, already mapped
                if field.min_length is not None:
                    schema["minItems"] = max(schema.get("minItems", 0), field.min_length)
                if field.max_length is not None:
                    schema["maxItems"] = field.max_length
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = _decimal_pattern(field)
        return schema


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings DRF accepts for the field: at least one digit, no more whole digits or
    decimal places than it allows, and no sign when it has a non-negative minimum."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    places, whole = field.decimal_places, field.max_whole_digits
    if not places:
        return rf"^{sign}\d{{1,{whole}}}$"
    fraction = rf"\.\d{{1,{places}}}"
    number = rf"\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|{fraction}" if whole else rf"0?{fraction}|0"
    return rf"^{sign}(?:{number})$"

