"""Reading what a vendor sends: a JSON document the hub can store and process, or a ValueError
whose message says what is wrong. Never a RecursionError, whatever the nesting."""

import json

from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

MAX_DEPTH = 100


def json_document(body: bytes):
    """The JSON document in `body`: UTF-8, at most MAX_DEPTH levels deep, no NUL character in
    any key or string (PostgreSQL text refuses them)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RefusedData(Text(gettext_noop("the body is not UTF-8 (invalid byte at position %(position)s)"), position=exc.start)) from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise RefusedData(Text(gettext_noop("the JSON is nested too deeply"))) from None
    except json.JSONDecodeError as exc:
        raise RefusedData(Text(gettext_noop("the body is not JSON: %(error)s (line %(line)s, column %(column)s)"), error=exc.msg,
                               line=exc.lineno, column=exc.colno)) from None
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise RefusedData(Text(gettext_noop("the JSON contains a NUL character")))
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise RefusedData(Text(gettext_noop("the JSON is nested too deeply (more than %(levels)s levels)"), levels=MAX_DEPTH))
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                stack.append((item, depth + 1))
                if key is not None:
                    stack.append((key, depth + 1))
    return document
