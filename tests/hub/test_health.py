import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_ok(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["broker"]["kind"] == ("redis" if settings.REDIS_URL else "orm")


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert "Error" in body["broker"]["error"]


@pytest.mark.django_db
def test_healthz_shows_the_last_worker_heartbeat(client):
    from hub.tasks import heartbeat

    assert client.get("/healthz").json()["worker"] == {"seen": False}
    heartbeat()
    worker = client.get("/healthz").json()["worker"]
    assert worker["seen"] is True and worker["stale"] is False
