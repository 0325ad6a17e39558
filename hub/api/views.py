"""What every view of the API shares (tests/api checks that each one uses it)."""

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework.exceptions import ValidationError

NUL_MESSAGE = str(ProhibitNullCharactersValidator.message)

_UNPREFIXED_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def nul_errors(request, path_params: dict) -> dict:
    """{parameter or header name: [message]} for each one holding a NUL character. Query strings
    and headers cannot carry lone surrogates (Django decodes them with replacement), so NUL is
    the only character to look for outside bodies, whose fields DRF checks."""
    errors = {}
    for key, value in request.META.items():
        if type(value) is str and "\x00" in value:
            name = _UNPREFIXED_HEADERS.get(key) or (key[5:].replace("_", "-").title() if key.startswith("HTTP_") else None)
            if name:
                errors[name] = [NUL_MESSAGE]
    for name, value in path_params.items():
        if isinstance(value, str) and "\x00" in value:
            errors[name] = [NUL_MESSAGE]
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                errors[name] = [NUL_MESSAGE]
    return errors


class CheckedRequestMixin:
    """The first check of every API view after authentication: a NUL character in a query
    parameter (name or value), a path parameter or a header is refused with a 400 naming it.
    PostgreSQL can neither store nor compare such text, and no caller has a reason to send it;
    checking the whole request covers the parameters a view reads late (a cursor, a page size)
    and any added later."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        errors = nul_errors(request, kwargs)
        if errors:
            self.refuse_input(request, errors)

    def refuse_input(self, request, errors: dict):
        raise ValidationError(errors)
