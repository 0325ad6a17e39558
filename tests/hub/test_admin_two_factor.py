"""Two-factor authentication for the admin (TOTP, django-otp): HUB_ADMIN_2FA=required|optional|off."""

import base64
import hashlib
import hmac
import struct
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


def totp(key: bytes, *, step=30, digits=6, at=None) -> str:
    """RFC 6238, written out here so the test does not trust the code it checks."""
    counter = int(at if at is not None else time.time()) // step
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="phone")


def log_in(**fields):
    client = Client()
    response = client.post(reverse("admin:login"), {"username": "clerk", "password": PASSWORD, "next": "/admin/", **fields})
    return client, response


def reaches_admin(client):
    return client.get(reverse("admin:index")).status_code == 200


@pytest.fixture
def required(settings):
    settings.HUB_ADMIN_2FA = "required"


@pytest.mark.django_db
def test_required_refuses_the_password_alone(required, device):
    client, response = log_in()
    assert response.status_code == 200
    assert "Enter the code your authenticator app shows for this account." in response.content.decode()
    assert not reaches_admin(client)


@pytest.mark.django_db
def test_required_lets_in_with_the_password_and_the_current_code(required, device):
    client, response = log_in(otp_token=totp(device.bin_key))
    assert response.status_code == 302
    assert reaches_admin(client)


@pytest.mark.django_db
def test_required_refuses_a_wrong_code(required, device):
    wrong = totp(device.bin_key, at=time.time() - 3600)
    client, response = log_in(otp_token=wrong)
    assert response.status_code == 200
    assert "That code is wrong or was already used" in response.content.decode()
    assert not reaches_admin(client)


@pytest.mark.django_db
def test_required_refuses_a_code_used_once_already(required, device):
    code = totp(device.bin_key)
    assert log_in(otp_token=code)[1].status_code == 302
    client, response = log_in(otp_token=code)
    assert response.status_code == 200
    assert not reaches_admin(client)


@pytest.mark.django_db
def test_required_sends_a_session_without_a_verified_code_back_to_the_login(required, device, staff):
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_required_without_an_enrolled_device_says_how_to_enrol(required, staff):
    client, response = log_in()
    assert response.status_code == 200
    assert "manage.py hub_2fa enrol clerk" in response.content.decode()
    assert not reaches_admin(client)


@pytest.mark.django_db
def test_optional_by_default_lets_staff_without_a_device_in_with_the_password(staff, settings):
    assert settings.HUB_ADMIN_2FA == "optional"
    client, response = log_in()
    assert response.status_code == 302
    assert reaches_admin(client)


@pytest.mark.django_db
def test_optional_asks_enrolled_staff_for_their_code(device):
    client, response = log_in()
    assert response.status_code == 200
    assert not reaches_admin(client)
    client, response = log_in(otp_token=totp(device.bin_key))
    assert response.status_code == 302
    assert reaches_admin(client)


@pytest.mark.django_db
def test_off_ignores_devices(device, settings):
    settings.HUB_ADMIN_2FA = "off"
    client, response = log_in()
    assert response.status_code == 302
    assert reaches_admin(client)


@pytest.mark.django_db
def test_the_enrol_command_prints_an_otpauth_uri_whose_codes_open_the_admin(required, staff, capsys):
    call_command("hub_2fa", "enrol", "clerk")
    printed = capsys.readouterr().out
    uri = next(word for word in printed.split() if word.startswith("otpauth://"))
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    secret = parse_qs(parsed.query)["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    client, response = log_in(otp_token=totp(key))
    assert response.status_code == 302
    assert reaches_admin(client)


@pytest.mark.django_db
def test_the_remove_command_drops_the_devices_of_a_user(device):
    call_command("hub_2fa", "remove", "clerk")
    assert not TOTPDevice.objects.filter(user=device.user).exists()


@pytest.mark.django_db
def test_the_enrol_command_names_an_unknown_user():
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("hub_2fa", "enrol", "nobody")
