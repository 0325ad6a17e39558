"""The API's one request parser: JSON, with every unreadable body a 4xx with a message."""

import io

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from hub.api.exceptions import PayloadTooLarge


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (invalid JSON or UTF-8 is a 400), plus: nesting deeper than the decoder
    can follow is a 400 instead of a RecursionError, and a body over Django's
    `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 without being read whole (DRF reads from the stream,
    so Django's own limit on `request.body` does not apply)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge()
            stream = io.BytesIO(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(gettext("JSON parse error - nested too deeply.")) from None

