"""Live B2B prices for storefronts: thin views over orders.pricing (who) and catalog.pricing (how much).

A channel token may quote only customers attached to its channel; any other code, existing or
not, answers the same 404. Each call is one statement (`orders.pricing.token_quote`): the token,
the pricing generation and whatever this process does not hold yet for this generation, so a
change to a price, list, customer or assignment shows on the very next call.
"""

import json

from django.core.exceptions import TooManyFieldsSent
from django.db import connection
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, gettext_noop
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.compat import LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.pricing import format_price
from catalog.sql import execute_prepared, prepared_statements_enabled
from hub.api.auth import ChannelTokenAuthentication
from hub.api.text import NUL_MESSAGE, text_problem
from hub.api.views import CheckedRequestMixin, nul_in_headers
from hub.models import ApiToken, SalesChannel
from hub.services import hash_token_key
from orders.pricing import ChannelToken, token_quote

MAX_GET_SKUS = 100
MAX_QUOTE_LINES = 500
MAX_QUANTITY = 1_000_000
MAX_CUSTOMER_LENGTH = 50
MAX_SKU_LENGTH = 64
NOT_FOUND = gettext_noop("No such customer for this channel.")
INVALID_TOKEN = "Invalid or revoked token."
LEAN_MAX_BODY = 256 * 1024  # a 500-line quote is about 25 kB


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=MAX_SKU_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class QuoteSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=MAX_CUSTOMER_LENGTH)
    lines = QuoteLineSerializer(many=True, allow_empty=False, max_length=MAX_QUOTE_LINES)


PRICED_LINE = inline_serializer("PricedLine", {
    "sku": serializers.CharField(),
    "quantity": serializers.IntegerField(required=False, help_text="Absent on an unknown_sku line."),
    "unit_price": serializers.DecimalField(max_digits=14, decimal_places=4, required=False,
                                           help_text="Decimal string; absent when the line has an error."),
    "reference_price": serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True, required=False,
                                                help_text="The channel public list's price for the same quantity."),
    "price_list": serializers.CharField(required=False, help_text="Code of the list that gave the price."),
    "source": serializers.ChoiceField(["contract", "customer_list", "group_list", "public_list"], required=False),
    "error": serializers.ChoiceField(["unknown_sku", "no_price"], required=False,
                                     help_text="unknown_sku: no active product with this SKU; no_price: no applicable price."),
})
PRICES_RESPONSE = inline_serializer("PricesResponse", {
    "customer": serializers.CharField(),
    "currency": serializers.CharField(),
    "lines": PRICED_LINE.__class__(many=True),
})
# 400, 401… are described for every operation (hub.api.schema); this one is the price API's own.
ERRORS = {404: OpenApiResponse(description="No such customer for this channel (whether the code exists elsewhere or not).")}


def _answer(pricing, priced):
    currency = pricing.currency
    out = []
    append = out.append
    for line in priced:
        error = line.error
        reference = line.reference_price
        if error is None:
            append({"sku": line.sku, "quantity": line.quantity, "unit_price": format_price(line.unit_price, currency),
                    "reference_price": None if reference is None else format_price(reference, currency),
                    "price_list": line.price_list, "source": line.source})
        elif error == "unknown_sku":
            append({"sku": line.sku, "error": error})
        else:
            append({"sku": line.sku, "quantity": line.quantity, "error": error,
                    "reference_price": None if reference is None else format_price(reference, currency)})
    return {"customer": pricing.customer_code, "currency": currency, "lines": out}


class PriceCaller:
    """The caller of the price API once its key is read, before the key is looked up: the price
    views check the token in the same statement as the prices (`orders.pricing.token_quote`).
    Anything that asks for `token` or `channel` first gets the kernel's lookup (401 if invalid)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, authentication: "PriceTokenAuthentication", key_hash: str):
        self._authentication = authentication
        self.key_hash = key_hash
        self._found: ChannelToken | None = None
        self._token: ApiToken | None = None

    def found(self, token: ChannelToken) -> None:
        """The quote statement found this active token: stamp its use like the kernel does."""
        self._found = token
        if token.needs_stamp:
            ChannelTokenAuthentication.stamp_last_used(ApiToken(id=token.token_id, last_used_at=None))

    @property
    def token(self) -> ApiToken:
        if self._token is None:
            if self._found is not None:
                found = self._found
                channel = SalesChannel(id=found.channel_id, code=found.channel_code, currency=found.channel_currency, is_active=True)
                self._token = ApiToken(id=found.token_id, channel=channel, revoked_at=None)
            else:
                token = self._authentication.find_active_token(self.key_hash)
                if token is None:
                    raise exceptions.AuthenticationFailed(INVALID_TOKEN)
                self._authentication.stamp_last_used(token)
                self._token = token
        return self._token

    @property
    def channel(self) -> SalesChannel:
        return self.token.channel

    def __str__(self) -> str:
        return f"channel:{self.channel.code}"

    def get_username(self) -> str:
        return str(self)


class PriceTokenAuthentication(ChannelTokenAuthentication):
    """The kernel's channel-token rules (hashed key, not revoked, active channel, `last_used_at`
    stamped at most every few minutes), applied by the price views in their one statement; the
    lookup alone, for error answers, is one prepared statement on PostgreSQL."""

    _SQL = (
        f"SELECT t.id, t.last_used_at, c.id, c.code, c.currency FROM {ApiToken._meta.db_table} t "
        f"JOIN {SalesChannel._meta.db_table} c ON c.id = t.channel_id "
        "WHERE t.key_hash = $1 AND t.revoked_at IS NULL AND c.is_active"
    )

    def authenticate(self, request):
        key = self.key_from_request(request)
        if key is None:
            return None
        return PriceCaller(self, hash_token_key(key)), None

    def find_active_token(self, key_hash):
        if not prepared_statements_enabled():
            return super().find_active_token(key_hash)
        with connection.cursor() as cursor:
            execute_prepared(cursor, name="hub_token_lookup", sql=self._SQL, params=[key_hash], types=["text"])
            row = cursor.fetchone()
        if row is None:
            return None
        token_id, last_used_at, channel_id, channel_code, channel_currency = row
        channel = SalesChannel(id=channel_id, code=channel_code, currency=channel_currency, is_active=True)
        return ApiToken(id=token_id, channel=channel, revoked_at=None, last_used_at=last_used_at)


class _PriceView(CheckedRequestMixin, APIView):
    """The price views. A well-formed request with a valid token for a customer of its channel (a
    storefront's every call) is answered without DRF's request wrapping, negotiation and
    rendering machinery, which cost more than pricing one SKU; anything else (no or bad token,
    malformed request, unknown customer, another Accept, OPTIONS…) goes through DRF, so every
    error answer is DRF's. Both paths price with `token_quote` and answer with `_answer`.

    The pricing statement checks the token of the methods that price (`priced_methods`); every
    other answer (OPTIONS and its metadata, 405, 400) is given only to a valid token."""

    authentication_classes = [PriceTokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer = JSONRenderer()
    priced_methods: frozenset = frozenset()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in self.priced_methods:
            request.user.token  # noqa: B018 — raises AuthenticationFailed for an invalid token

    def refuse_input(self, request, errors):
        request.user.token  # noqa: B018 — 401 before any field message, as in `refuse`
        super().refuse_input(request, errors)

    def dispatch(self, request, *args, **kwargs):
        answer = self.lean_answer(request) if _lean_headers(request) and not nul_in_headers(request.META) else None
        if answer is not None:
            return answer
        return super().dispatch(request, *args, **kwargs)

    def lean_answer(self, request):
        return None

    def lean_quote(self, request, customer, lines):
        """The 200 answer DRF would give, or None to let DRF answer."""
        key = _token_key(request)
        if key is None:
            return None
        quoted = token_quote(key_hash=hash_token_key(key), customer_code=customer, lines=lines)
        if quoted.token is None or quoted.pricing is None:
            return None
        if quoted.token.needs_stamp:
            ChannelTokenAuthentication.stamp_last_used(ApiToken(id=quoted.token.token_id, last_used_at=None))
        response = HttpResponse(_render(_answer(quoted.pricing, quoted.lines)), content_type="application/json")
        headers = type(self).__dict__.get("_lean_response_headers")
        if headers is None:
            headers = type(self)._lean_response_headers = dict(self.default_response_headers)
        for name, value in headers.items():
            if name == "Vary":
                patch_vary_headers(response, [value])
            else:
                response[name] = value
        return response

    def refuse(self, request, errors):
        """400 with field messages, but only to a valid token (401 first, as for any request)."""
        request.user.token  # noqa: B018 — raises AuthenticationFailed for an invalid token
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)

    def quote(self, request, customer, lines):
        caller = request.user
        quoted = token_quote(key_hash=caller.key_hash, customer_code=customer, lines=lines)
        if quoted.token is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        caller.found(quoted.token)
        if quoted.pricing is None:
            return Response({"detail": gettext(NOT_FOUND)}, status=status.HTTP_404_NOT_FOUND)
        return Response(_answer(quoted.pricing, quoted.lines))


_ENCODER = json.JSONEncoder(ensure_ascii=JSONRenderer.ensure_ascii, allow_nan=not JSONRenderer.strict,
                            separators=SHORT_SEPARATORS if JSONRenderer.compact else LONG_SEPARATORS)


def _render(answer) -> bytes:
    """The bytes JSONRenderer gives for an answer (plain strings, integers and None), without
    the per-call encoder set-up."""
    text = _ENCODER.encode(answer)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


class PricesView(_PriceView):
    priced_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="prices_get", tags=["prices"],
        summary="Prices of up to 100 SKUs for one customer, quantity 1",
        parameters=[
            OpenApiParameter("customer", {"type": "string", "minLength": 1, "maxLength": MAX_CUSTOMER_LENGTH}, required=True,
                             description="Customer code (attached to the token's channel)."),
            OpenApiParameter("sku", {"type": "array", "minItems": 1, "maxItems": MAX_GET_SKUS,
                                     "items": {"type": "string", "minLength": 1, "maxLength": MAX_SKU_LENGTH}},
                             required=True, description=f"Repeat for each SKU, 1 to {MAX_GET_SKUS}."),
        ],
        responses={200: PRICES_RESPONSE, **ERRORS},
    )
    def get(self, request):
        customer, skus, errors = validate_get(request.query_params)
        if errors:
            return self.refuse(request, errors)
        return self.quote(request, customer, [(sku, 1) for sku in skus])

    def lean_answer(self, request):
        if request.method != "GET":
            return None
        plain = _plain_query(request.META.get("QUERY_STRING", ""))
        if plain is not None:
            customer, skus = plain
            errors = _get_errors(customer, skus)
        else:
            try:
                query = request.GET
            except TooManyFieldsSent:
                return None  # DRF words the 400
            if "format" in query:
                return None
            customer, skus, errors = validate_get(query)
        if errors:
            return None
        return self.lean_quote(request, customer, [(sku, 1) for sku in skus])


class QuoteView(_PriceView):
    priced_methods = frozenset({"POST"})

    @extend_schema(
        operation_id="prices_quote", tags=["prices"],
        summary="Prices of up to 500 (sku, quantity) lines for one customer",
        request=QuoteSerializer, responses={200: PRICES_RESPONSE, **ERRORS},
        examples=[OpenApiExample("quote", request_only=True,
                                 value={"customer": "C-1001", "lines": [{"sku": "LGT-GAR-10M", "quantity": 12}]})],
    )
    def post(self, request):
        customer, lines, errors = validate_quote(request.data)
        if errors:
            return self.refuse(request, errors)
        return self.quote(request, customer, lines)

    def lean_answer(self, request):
        if request.method != "POST" or "format" in request.GET:
            return None
        content_type, _, charset = request.META.get("CONTENT_TYPE", "").partition(";")
        if content_type.strip() != "application/json" or charset.strip().lower() not in ("", "charset=utf-8"):
            return None
        length = request.META.get("CONTENT_LENGTH", "")
        if not length.isdigit() or int(length) > LEAN_MAX_BODY:
            return None  # DRF reads big bodies as a stream, without Django's request.body size limit
        try:
            data = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            return None  # DRF's parser words the 400
        customer, lines, errors = validate_quote(data)
        if errors:
            return None
        return self.lean_quote(request, customer, lines)


def _lean_headers(request) -> bool:
    """Whether DRF would negotiate JSON without looking further: no Accept, or JSON/any."""
    accept = request.META.get("HTTP_ACCEPT", "")
    return accept in ("", "*/*", "application/json")


def _token_key(request) -> str | None:
    """The key of a well-formed `Authorization: Token <key>` header, else None (DRF decides)."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "token" or not parts[1].isascii():
        return None
    return parts[1]


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def validate_get(params):
    """The GET's rules: (customer, skus, field errors)."""
    customer = params.get("customer", "").strip()
    skus = [s.strip() for s in params.getlist("sku")]
    return customer, skus, _get_errors(customer, skus)


def _plain_query(query_string: str) -> tuple[str, list[str]] | None:
    """(customer, skus) of a query string made only of `customer=…` once and `sku=…` pairs with
    nothing to unescape, read as `validate_get` reads Django's QueryDict; None for anything else
    (escapes, other or repeated keys), which then goes through the QueryDict."""
    if not query_string.isascii() or "%" in query_string or "+" in query_string:
        return None
    customer = None
    skus = []
    for pair in query_string.split("&"):
        key, equals, value = pair.partition("=")
        if not equals:
            return None
        if key == "sku":
            skus.append(value.strip())
        elif key == "customer" and customer is None:
            customer = value.strip()
        else:
            return None
    return customer or "", skus


def _get_errors(customer: str, skus: list[str]) -> dict:
    """A query string carries no lone surrogates (Django decodes it with replacement): NUL is the
    one character to refuse."""
    errors = {}
    if not customer:
        errors["customer"] = ["This field is required."]
    elif len(customer) > MAX_CUSTOMER_LENGTH:
        errors["customer"] = [f"Ensure this field has no more than {MAX_CUSTOMER_LENGTH} characters."]
    elif "\x00" in customer:
        errors["customer"] = [NUL_MESSAGE]
    if not skus:
        errors["sku"] = ["Give at least one sku parameter."]
    elif len(skus) > MAX_GET_SKUS:
        errors["sku"] = [f"At most {MAX_GET_SKUS} SKUs per request (got {len(skus)}); use POST /api/v1/prices/quote/."]
    elif any(not s or len(s) > MAX_SKU_LENGTH for s in skus):
        errors["sku"] = [f"Each sku must be 1 to {MAX_SKU_LENGTH} characters."]
    elif any("\x00" in s for s in skus):
        errors["sku"] = [NUL_MESSAGE]
    return errors


def _well_formed_lines(raw_lines):
    """The (sku, quantity) pairs when every line is plainly valid (the usual case, checked in
    one tight pass), else None: `validate_quote`'s full pass then words each problem."""
    out = []
    append = out.append
    for item in raw_lines:
        if type(item) is not dict:
            return None
        sku, quantity = item.get("sku"), item.get("quantity")
        if type(sku) is not str or type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY or len(sku) > MAX_SKU_LENGTH:
            return None
        if "\x00" in sku or not sku.isascii() and text_problem(sku):
            return None
        sku = sku.strip()
        if not sku:
            return None
        append((sku, quantity))
    return out


def validate_quote(data):
    """`QuoteSerializer`'s rules and error shape, checked by hand: DRF's nested serializer
    took longer than pricing the 500 lines it validated. Returns (customer, lines, errors)."""
    errors = {}
    if not isinstance(data, dict):
        return None, None, {"non_field_errors": ["Send a JSON object with 'customer' and 'lines'."]}
    customer = data.get("customer")
    if customer is None or customer == "":
        errors["customer"] = ["This field is required." if customer is None else "This field may not be blank."]
    elif not isinstance(customer, str):
        errors["customer"] = ["Not a valid string."]
    elif len(customer) > MAX_CUSTOMER_LENGTH:
        errors["customer"] = [f"Ensure this field has no more than {MAX_CUSTOMER_LENGTH} characters."]
    elif problem := text_problem(customer):
        errors["customer"] = [problem]
    raw_lines = data.get("lines")
    lines = []
    if raw_lines is None:
        errors["lines"] = ["This field is required."]
    elif not isinstance(raw_lines, list):
        errors["lines"] = {"non_field_errors": [f'Expected a list of items but got type "{type(raw_lines).__name__}".']}
    elif not raw_lines:
        errors["lines"] = {"non_field_errors": ["This list may not be empty."]}
    elif len(raw_lines) > MAX_QUOTE_LINES:
        errors["lines"] = {"non_field_errors": [f"Ensure this field has no more than {MAX_QUOTE_LINES} elements."]}
    elif (well_formed := _well_formed_lines(raw_lines)) is not None:
        lines = well_formed
    else:
        line_errors = []
        for item in raw_lines:
            problems = {}
            if not isinstance(item, dict):
                line_errors.append({"non_field_errors": ["Each line must be an object with 'sku' and 'quantity'."]})
                continue
            sku, quantity = item.get("sku"), item.get("quantity")
            if not isinstance(sku, str) or not sku.strip():
                problems["sku"] = ["This field is required." if sku is None else "Give the SKU as a non-empty string."]
            elif len(sku) > MAX_SKU_LENGTH:
                problems["sku"] = [f"Ensure this field has no more than {MAX_SKU_LENGTH} characters."]
            elif problem := text_problem(sku):
                problems["sku"] = [problem]
            if isinstance(quantity, str) and quantity.strip().isdigit():
                quantity = int(quantity)
            if quantity is None:
                problems["quantity"] = ["This field is required."]
            elif isinstance(quantity, bool) or not isinstance(quantity, int):
                problems["quantity"] = ["A valid integer is required."]
            elif not 1 <= quantity <= MAX_QUANTITY:
                problems["quantity"] = [f"Ensure the quantity is between 1 and {MAX_QUANTITY}."]
            line_errors.append(problems)
            if not problems:
                lines.append((sku.strip(), quantity))
        if any(line_errors):
            errors["lines"] = line_errors
    return customer, lines, errors
