"""Error answers of the API: always JSON, always DRF's shapes (`{"detail": …}` or field messages)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def exception_handler(exc, context):
    """DRF's handler, plus Django's own refusals of a request's size, which Django would answer
    with an HTML 400: a body over the limit is a 413, too many parameters a 400."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError(gettext("Too many parameters: at most %(DATA_UPLOAD_MAX_NUMBER_FIELDS)s.") % {"DATA_UPLOAD_MAX_NUMBER_FIELDS": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})
    return drf_exception_handler(exc, context)
