import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    result = start_django(DEBUG="0", ALLOWED_HOSTS="hub.example.com")
    assert result.returncode != 0
    assert "Refusing to start with DEBUG=0: SECRET_KEY is not set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = start_django(DEBUG="0", SECRET_KEY="Zq8#vR2!mW9$xT4&pL7*nB3^cF6(hJ1)dG5-" * 2)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


def test_production_with_the_development_key_refuses_to_start():
    result = start_django(DEBUG="0", SECRET_KEY="dev-only-insecure-key-never-use-in-production-0123456789abcdef")
    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr


def test_production_with_a_short_key_refuses_to_start():
    result = start_django(DEBUG="0", SECRET_KEY="short")
    assert result.returncode != 0
    assert "too short" in result.stderr


def test_production_with_a_strong_key_starts():
    result = start_django(DEBUG="0", SECRET_KEY="Zq8#vR2!mW9$xT4&pL7*nB3^cF6(hJ1)dG5-" * 2, ALLOWED_HOSTS="hub.example.com")
    assert result.returncode == 0, result.stderr


def test_a_malformed_boolean_is_reported_by_name():
    result = start_django(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
