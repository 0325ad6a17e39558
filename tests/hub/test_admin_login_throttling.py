"""Admin logins are throttled per username and address (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(password, *, username="clerk", address="127.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})
    return client, response


def fail(times, **who):
    return [log_in("wrong password", **who)[1].status_code for _ in range(times)]


def logged_in(client):
    return client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_after_the_failure_limit_even_the_right_password_is_refused_with_a_clear_message(staff, settings):
    assert fail(settings.AXES_FAILURE_LIMIT) == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    client, response = log_in(PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    assert not logged_in(client)


@pytest.mark.django_db
def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(staff, settings):
    fail(settings.AXES_FAILURE_LIMIT - 1)
    client, response = log_in(PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_the_lock_lifts_after_the_cool_off(staff, settings):
    fail(settings.AXES_FAILURE_LIMIT)
    assert log_in(PASSWORD)[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    client, response = log_in(PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(staff, settings):
    fail(settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(PASSWORD)[1].status_code == 302
    fail(settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(PASSWORD)[1].status_code == 302


@pytest.mark.django_db
def test_the_lock_holds_one_username_from_one_address(staff, django_user_model, settings):
    django_user_model.objects.create_user("buyer", password=PASSWORD, is_staff=True)
    fail(settings.AXES_FAILURE_LIMIT)
    assert log_in(PASSWORD)[1].status_code == 429
    assert log_in(PASSWORD, address="127.0.0.2")[1].status_code == 302
    assert log_in(PASSWORD, username="buyer")[1].status_code == 302


@pytest.mark.django_db
def test_behind_trusted_proxies_the_lock_holds_the_browser_address_they_forwarded(staff, settings):
    settings.HUB_TRUSTED_PROXIES = 1

    def through_proxy(password, forwarded_for):
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
        return client.post(reverse("admin:login"), {"username": "clerk", "password": password}).status_code

    # The client chose the left entries; the proxy appended the address it saw.
    statuses = [through_proxy("wrong password", f"127.0.1.{n}, 127.0.0.5") for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[-1] == 429
    assert through_proxy(PASSWORD, "127.0.0.5") == 429
    assert through_proxy(PASSWORD, "127.0.0.6") == 302


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_lock(staff, settings):
    fail(settings.AXES_FAILURE_LIMIT)
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.7")
    assert client.post(reverse("admin:login"), {"username": "clerk", "password": PASSWORD}).status_code == 429
