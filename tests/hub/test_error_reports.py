"""The technical 500 page (DEBUG=1) and error mails never show a secret."""

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

WEBHOOK_SECRET = "whsec-7Hq2LmX9pR4vT8nK"
ACCESS_TOKEN = "shpat-5Jd8Wq3Zr6Yb1Nc0"
SIGNATURES = {
    "X-Shopify-Hmac-Sha256": "c2hvcGlmeS1zaWduYXR1cmUtdmFsdWU=",
    "X-WC-Webhook-Signature": "d29vLXNpZ25hdHVyZS12YWx1ZQ==",
    "Webhook-Signature": "v1,c3RhbmRhcmQtd2ViaG9va3MtdmFsdWU=",
}
BEARER = "Token 9f8e7d6c5b4a39281706"
SESSION_VALUE = "sess-4Rt6Yu8Io0Pa2Sd4"
DATABASE_PASSWORD = "pg-pass-3Fg5Hj7Kl9"
FORM_TOKEN = "form-token-1Qa2Ws3Ed"


@csrf_exempt
def webhook_that_crashes(request):
    webhook_secret = WEBHOOK_SECRET
    credentials = {"access_token": ACCESS_TOKEN}
    headers = dict(request.headers)
    signature_header = headers.get("X-Shopify-Hmac-Sha256")
    raise ValueError(f"cannot compare the signature ({len(webhook_secret)}, {len(credentials)}, {len(signature_header)})")


def unused(request):
    return HttpResponse()


urlpatterns = [path("webhooks/shop/", webhook_that_crashes), path("", unused)]


@pytest.fixture
def technical_500(settings):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    settings.DATABASE_URL = f"postgres://hub:{DATABASE_PASSWORD}@db.internal:5432/hub"
    client = Client(raise_request_exception=False)
    client.cookies["shop_session"] = SESSION_VALUE
    response = client.post(
        "/webhooks/shop/", {"api_token": FORM_TOKEN, "note": "visible-form-field"},
        headers={**SIGNATURES, "Authorization": BEARER, "X-Request-Id": "visible-request-id"},
    )
    assert response.status_code == 500
    return response.content.decode()


def test_the_debug_page_is_still_a_useful_traceback(technical_500):
    assert "cannot compare the signature" in technical_500
    assert "visible-request-id" in technical_500
    assert "visible-form-field" in technical_500


@pytest.mark.parametrize("secret", [
    WEBHOOK_SECRET, ACCESS_TOKEN, *SIGNATURES.values(), BEARER.split()[1], SESSION_VALUE, DATABASE_PASSWORD, FORM_TOKEN,
])
def test_the_debug_page_hides_secrets_in_locals_headers_cookies_settings_and_forms(technical_500, secret):
    assert secret not in technical_500
