"""Reading what a vendor sends: a JSON document the hub can store and process, or a ValueError
whose message says what is wrong. Never a RecursionError, whatever the nesting."""

import json

MAX_DEPTH = 100


def json_document(body: bytes):
    """The JSON document in `body`: UTF-8, at most MAX_DEPTH levels deep, no NUL character in
    any key or string (PostgreSQL text refuses them)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8 (invalid byte at position {exc.start})") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("the JSON contains a NUL character")
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"the JSON is nested too deeply (more than {MAX_DEPTH} levels)")
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                stack.append((item, depth + 1))
                if key is not None:
                    stack.append((key, depth + 1))
    return document
