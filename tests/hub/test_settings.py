import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from hub.production import production_problems

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(64)
PRODUCTION = {"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "hub.example.com"}
SETTINGS_VARIABLES = {
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "HUB_PLAIN_HTTP",
    "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "HUB_ADMIN_2FA",
    "HUB_LOGIN_FAILURE_LIMIT", "HUB_LOGIN_COOLOFF_MINUTES",
}


def run_python(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )


def start_django(**env):
    return run_python("manage.py", "check", **env)


def setting_of(name, **env):
    result = run_python("-c", f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))",
                        DJANGO_SETTINGS_MODULE="hub.settings", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_debug_variable_the_hub_runs_as_production_and_asks_for_a_secret_key():
    result = start_django(ALLOWED_HOSTS="hub.example.com")
    assert result.returncode != 0
    assert "Refusing to start in production mode (DEBUG is off unless DEBUG=1): SECRET_KEY is not set" in result.stderr
    assert "For development, set DEBUG=1 (make run does)." in result.stderr


def test_debug_is_on_only_when_asked_for():
    assert setting_of("DEBUG", **PRODUCTION) == "False"
    assert setting_of("DEBUG", DEBUG="1") == "True"


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    result = start_django(DEBUG="0", ALLOWED_HOSTS="hub.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe(64)" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = start_django(DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


@pytest.mark.parametrize("hosts", ["*", "hub.example.com,*", "*.example.com"])
def test_production_with_a_wildcard_host_refuses_to_start(hosts):
    result = start_django(SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS contains a wildcard" in result.stderr


@pytest.mark.parametrize("key, message", [
    ("dev-only-insecure-key-never-use-in-production-0123456789abcdef", "SECRET_KEY is a published development or placeholder value"),
    ("django-insecure-" + secrets.token_urlsafe(50), "SECRET_KEY is a published development or placeholder value"),
    ("change-me-" + secrets.token_urlsafe(50), "SECRET_KEY is a published development or placeholder value"),
    ("short", "SECRET_KEY is too short (5 characters; 50+ random characters needed)"),
    ("".join(sorted("abcdefgh" * 8)), "SECRET_KEY has too few distinct characters (8; 10+ needed)"),
    ("Zq8#vR2!mW9$xT4&pL7*nB3^cF6(hJ1)dG5-" * 2, "SECRET_KEY repeats a shorter pattern"),
])
def test_production_with_a_weak_secret_key_refuses_to_start(key, message):
    result = start_django(SECRET_KEY=key, ALLOWED_HOSTS="hub.example.com")
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("variable", ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"])
def test_production_refuses_cookies_without_secure_flag_unless_plain_http_is_declared(variable):
    refused = start_django(**PRODUCTION, **{variable: "0"})
    assert refused.returncode != 0
    assert f"{variable}=0 sends the cookie over plain HTTP" in refused.stderr
    assert "HUB_PLAIN_HTTP=1" in refused.stderr
    assert setting_of(variable, **PRODUCTION, HUB_PLAIN_HTTP="1") == "False"


def test_production_sets_secure_cookies_and_the_proxy_header_by_default():
    assert setting_of("SESSION_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting_of("CSRF_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting_of("SECURE_PROXY_SSL_HEADER", **PRODUCTION) == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert setting_of("SECURE_PROXY_SSL_HEADER", **PRODUCTION, SECURE_PROXY_SSL_HEADER="off") == "None"
    assert setting_of("SECURE_PROXY_SSL_HEADER", **PRODUCTION, SECURE_PROXY_SSL_HEADER="X-Scheme") == "('HTTP_X_SCHEME', 'https')"


def test_hsts_and_ssl_redirect_come_from_the_environment():
    assert setting_of("SECURE_HSTS_SECONDS", **PRODUCTION) == "0"
    assert setting_of("SECURE_HSTS_SECONDS", **PRODUCTION, SECURE_HSTS_SECONDS="31536000") == "31536000"
    assert setting_of("SECURE_SSL_REDIRECT", **PRODUCTION, SECURE_SSL_REDIRECT="1") == "True"


def test_production_with_a_strong_key_starts():
    result = start_django(**PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_a_hex_key_from_openssl_is_strong_enough():
    assert production_problems(
        secret_key=secrets.token_hex(32), allowed_hosts=["hub.example.com"],
        session_cookie_secure=True, csrf_cookie_secure=True, plain_http=False,
    ) == []


def test_every_problem_is_reported_at_once():
    problems = production_problems(
        secret_key="", allowed_hosts=["*"], session_cookie_secure=False, csrf_cookie_secure=True, plain_http=False,
    )
    assert len(problems) == 3


def test_a_malformed_boolean_is_reported_by_name():
    result = start_django(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_demo_mode_refuses_to_run_in_production(tmp_path):
    result = run_python("manage.py", "hub_run", "--demo", "--no-migrate", "--bind", "127.0.0.1:1",
                        **PRODUCTION, HUB_VAR_DIR=str(tmp_path), DATABASE_URL="", REDIS_URL="")
    assert result.returncode != 0
    assert "--demo creates the admin/admin login: development only (DEBUG=1, as make run sets)" in result.stderr


def test_login_throttling_thresholds_come_from_the_environment():
    assert setting_of("AXES_FAILURE_LIMIT", DEBUG="1") == "5"
    assert setting_of("AXES_FAILURE_LIMIT", DEBUG="1", HUB_LOGIN_FAILURE_LIMIT="8") == "8"
    assert setting_of("AXES_COOLOFF_TIME", DEBUG="1", HUB_LOGIN_COOLOFF_MINUTES="30") == "datetime.timedelta(seconds=1800)"
    refused = start_django(DEBUG="1", HUB_LOGIN_FAILURE_LIMIT="0")
    assert "HUB_LOGIN_FAILURE_LIMIT and HUB_LOGIN_COOLOFF_MINUTES must be 1 or more" in refused.stderr


def test_an_unknown_two_factor_mode_is_refused_by_name():
    assert setting_of("HUB_ADMIN_2FA", DEBUG="1") == "'optional'"
    refused = start_django(DEBUG="1", HUB_ADMIN_2FA="sometimes")
    assert refused.returncode != 0
    assert "HUB_ADMIN_2FA='sometimes': use 'required', 'optional' or 'off'" in refused.stderr


def test_production_keeps_database_connections_and_checks_them_before_reuse(tmp_path):
    database = setting_of("DATABASES['default']", **PRODUCTION, HUB_VAR_DIR=str(tmp_path), DATABASE_URL="", DB_CONN_MAX_AGE="")
    assert "'CONN_MAX_AGE': 600" in database and "'CONN_HEALTH_CHECKS': True" in database
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "mmap_size=268435456", "temp_store=MEMORY"):
        assert pragma in database


def test_the_production_web_server_layout_is_printed_and_scales_with_the_cores(tmp_path):
    layout = run_python("-c", "from hub import gunicorn_conf; print(gunicorn_conf.layout())", **PRODUCTION,
                        HUB_VAR_DIR=str(tmp_path), DATABASE_URL="", WEB_WORKERS="", WEB_THREADS="")
    assert layout.returncode == 0, layout.stderr
    assert f"{os.cpu_count()} workers × 4 threads (gthread)" in layout.stdout


def test_the_production_server_refuses_development_mode(tmp_path):
    result = run_python("manage.py", "hub_run", "--production", "--no-migrate", "--bind", "127.0.0.1:1", DEBUG="1",
                        HUB_VAR_DIR=str(tmp_path), DATABASE_URL="", REDIS_URL="")
    assert result.returncode != 0 and "--production runs with DEBUG off" in result.stderr
