"""The Webservice's XML, read and written with the standard library's ElementTree.

Reading: `<prestashop>` holds one resource (`<order>…</order>`), a list (`<orders><order>…`), or
`<errors>`. Every value is text (CDATA or not, surrounding whitespace dropped: the shop may
pretty-print); a multilingual field is `<name><language id="1">…</language>…</name>` and reads
as {language id: text}; `<associations>` holds named lists (`<order_rows><order_row>…`) and reads
as {name: [dict, …]}. Links (`xlink:href`) and the shop's formatting attributes are ignored.

Answers are parsed with defusedxml: an answer from the shop's address is not trusted to be
harmless (a compromised shop, a proxy page, plain HTTP), and the Webservice never sends a DTD
or entity declarations, so any is refused outright.

Writing: values go out as CDATA sections without indentation (the Webservice keeps whitespace
inside tags as part of the value); characters XML 1.0 cannot carry are dropped, since the shop
answers a body it cannot parse with a 500."""

import re
from decimal import Decimal
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

XLINK = "http://www.w3.org/1999/xlink"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DocumentError(RefusedData):
    """The body is not a Webservice XML document."""


class Languages(dict):
    """A multilingual value to write: {language id: text}."""


# --- reading --------------------------------------------------------------------------------------

def parse(body: bytes) -> Element:
    """The `<prestashop>` root of an answer."""
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException) as error:
        raise DocumentError(Text(gettext_noop("not a Webservice XML document (%(error)s)"), error=f"{type(error).__name__}: {error}")) from None
    if root.tag != "prestashop":
        raise DocumentError(Text(gettext_noop("the root element is <%(tag)s>, not <prestashop>"), tag=root.tag))
    return root


def _text(element: Element) -> str:
    return "".join(element.itertext()).strip()


def _value(element: Element):
    children = list(element)
    if not children:
        text = _text(element)
        return text if text or element.get("id") is None else element.get("id")
    if all(child.tag == "language" for child in children):
        return {child.get("id", ""): _text(child) for child in children}
    if element.tag == "associations":
        return {association.tag: [_record(item) for item in association] for association in children}
    return _record(element)


def _record(element: Element) -> dict:
    """An entity's fields; a bare list item (`<order id="5" xlink:href="…"/>`) gives {"id": "5"}."""
    record = {child.tag: _value(child) for child in element}
    if "id" not in record and element.get("id") is not None:
        record["id"] = element.get("id")
    return record


def _not_found(node: str, root: Element) -> Text:
    found = ", ".join(f"<{child.tag}>" for child in root) or Text(gettext_noop("nothing"))
    return Text(gettext_noop("expected <%(node)s> in the answer, found %(found)s"), node=node, found=found)


def read_one(body: bytes, node: str) -> dict:
    """One resource: `<prestashop><order>…</order></prestashop>` → {field: value}."""
    root = parse(body)
    element = root.find(node)
    if element is None:
        raise DocumentError(_not_found(node, root))
    return _record(element)


def read_list(body: bytes, collection: str) -> list[dict]:
    """A list: `<prestashop><orders><order>…</order>…</orders></prestashop>` → [{field: value}, …]."""
    root = parse(body)
    element = root.find(collection)
    if element is None:
        raise DocumentError(_not_found(collection, root))
    return [_record(item) for item in element]


def read_errors(body: bytes) -> list[tuple[str, str]]:
    """The (code, message) pairs of an error answer; [] when the body is not one."""
    try:
        root = parse(body)
    except DocumentError:
        return []
    errors = root.find("errors")
    if errors is None:
        return []
    return [(_text(error.find("code")) if error.find("code") is not None else "",
             _text(error.find("message")) if error.find("message") is not None else "") for error in errors]


def language_value(value, language_id: str = "") -> str:
    """The text of a multilingual field in one language (the first one when not given)."""
    if isinstance(value, dict):
        if language_id and language_id in value:
            return value[language_id]
        return next(iter(value.values()), "")
    return value or ""


# --- writing --------------------------------------------------------------------------------------

def _cdata(value) -> str:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, Decimal):
        value = format(value, "f")
    text = _NOT_XML.sub("", str(value))
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _tag(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a Webservice field name")
    return name


def _fields(fields: dict) -> str:
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        tag = _tag(name)
        if name == "associations":
            inner = "".join(f"<{_tag(association)}>" + "".join(f"<{_tag(item)}>{_fields(entry)}</{item}>" for entry in entries)
                            + f"</{association}>" for association, (item, entries) in value.items())
            parts.append(f"<associations>{inner}</associations>")
        elif isinstance(value, Languages):
            inner = "".join(f'<language id="{int(language)}">{_cdata(text)}</language>' for language, text in value.items())
            parts.append(f"<{tag}>{inner}</{tag}>")
        else:
            parts.append(f"<{tag}>{_cdata(value)}</{tag}>")
    return "".join(parts)


def document(node: str, fields: dict) -> bytes:
    """One resource to POST, PUT or PATCH. `fields` maps names to values (None: left out),
    `Languages` for multilingual ones, and "associations" to {name: (item node, [fields, …])}."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="{XLINK}">'
            f"<{_tag(node)}>{_fields(fields)}</{node}></prestashop>").encode()
