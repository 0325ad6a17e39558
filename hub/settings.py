"""Settings, all from environment variables (see `.env.example`).

Development defaults need no service at all: SQLite under `var/`, django-q2's ORM broker and a
local-memory cache. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hub.env import env_bool, env_int, env_list, env_str, load_dotenv
from hub.production import DEVELOPMENT_SECRET_KEY, production_problems, refusal_message

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HUB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
load_dotenv(BASE_DIR / ".env")

# Off unless asked for: `make run` and the test suite set DEBUG=1.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Production is served over HTTPS (usually by a reverse proxy in front of gunicorn). HUB_PLAIN_HTTP=1
# declares a private network where browsers reach the hub over plain HTTP: cookies then lose the
# Secure flag, which production otherwise refuses.
HUB_PLAIN_HTTP = env_bool("HUB_PLAIN_HTTP", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not HUB_PLAIN_HTTP)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and not HUB_PLAIN_HTTP)
# The header the proxy sets to say the browser used HTTPS; "off" when nothing in front sets (and
# strips) it, since a client could otherwise claim HTTPS itself.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "" if DEBUG else "X-Forwarded-Proto")
SECURE_PROXY_SSL_HEADER = (
    None if _proxy_ssl_header.lower() in {"", "off", "none"}
    else ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP

# The DEBUG page and error mails: secrets hidden by name everywhere (hub/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "hub.error_reports.HubExceptionReporterFilter"

if not DEBUG:
    _problems = production_problems(
        secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS, session_cookie_secure=SESSION_COOKIE_SECURE,
        csrf_cookie_secure=CSRF_COOKIE_SECURE, plain_http=HUB_PLAIN_HTTP,
    )
    if _problems:
        raise ImproperlyConfigured(refusal_message(_problems))

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files: the API docs work offline
    "django_q",
    "import_export",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Domain apps, lowest first: each may import only the ones above it.
    "hub",
    "catalog",
    "inventory",
    "orders",
    "returns",
    "connectors",
    # One app per connected system, found on disk so that adding a system touches only its package.
    *sorted(f"connectors.{apps.parent.name}" for apps in (BASE_DIR / "connectors").glob("*/apps.py")),
]

MIDDLEWARE = [
    "hub.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Searched before the apps' folders, so that hub's admin/base_site.html (the header with the
        # language switcher) overrides Django's own, which comes from an app listed before hub.
        "DIRS": [BASE_DIR / "hub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "hub.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
# Persistent connections, checked before reuse: opening one costs more than most requests.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and task workers write to the same file: WAL lets readers run beside the
    # writer (synchronous=NORMAL is durable in WAL mode but for the last commits on power loss),
    # IMMEDIATE takes the write lock at BEGIN (no lock-upgrade deadlocks) and the busy timeout
    # makes a second writer wait instead of failing. 64 MB page cache and 256 MB memory map per
    # connection, temporary tables in memory.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                        "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;",
    }
    # Tests use a file (not memory) so that a real task cluster in another process can share it.
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))}
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
# Price API: how many SKUs each web process keeps in its price cache (0 turns it off; docs/pricing.md).
HUB_PRICE_CACHE_SKUS = env_int("HUB_PRICE_CACHE_SKUS", 200_000)
# Retention, in days (0 keeps for ever): API idempotency keys, settled webhook deliveries,
# finished sync jobs with their attempts.
HUB_RETENTION_IDEMPOTENCY_DAYS = env_int("HUB_RETENTION_IDEMPOTENCY_DAYS", 7)
HUB_RETENTION_INBOX_DAYS = env_int("HUB_RETENTION_INBOX_DAYS", 90)
HUB_RETENTION_SYNC_DAYS = env_int("HUB_RETENTION_SYNC_DAYS", 90)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task broker -----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hub"}}

Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "hub"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 300),
    # A task is handed out again only after `retry` seconds without an acknowledgement: longer
    # than `timeout`, so a slow task is never run twice while still running.
    "retry": env_int("Q_RETRY", 360),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 5),
    "ack_failures": True,
    "save_limit": env_int("Q_SAVE_LIMIT", 1000),
    "catch_up": False,
    "label": "Tasks",
    "poll": 0.5,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if env_bool("HUB_TASKS_SYNC", False):
    Q_CLUSTER["sync"] = True

# --- Spreadsheet imports (docs/import-formats.md) -------------------------------------------
HUB_IMPORT_BACKGROUND_BYTES = env_int("HUB_IMPORT_BACKGROUND_BYTES", 256 * 1024)
# A cell longer than this is refused (Excel's own limit); an error quotes at most this much of a value.
HUB_IMPORT_MAX_CELL_CHARS = env_int("HUB_IMPORT_MAX_CELL_CHARS", 32_767)
HUB_IMPORT_EXCERPT_CHARS = env_int("HUB_IMPORT_EXCERPT_CHARS", 50)
# An XLSX file (a zip archive) that would unpack to more than this, or a member compressed more
# than RATIO to 1, is refused before it is read (zip bombs).
HUB_IMPORT_XLSX_MAX_MB = env_int("HUB_IMPORT_XLSX_MAX_MB", 256)
HUB_IMPORT_XLSX_MAX_RATIO = env_int("HUB_IMPORT_XLSX_MAX_RATIO", 100)
# A background import holds a lease that its progress renews; a worker that dies lets it expire,
# and the job is then run again (at most MAX_ATTEMPTS runs in all) or failed. A task cannot run
# longer than Q_TIMEOUT, so by default the lease outlives any live worker.
HUB_IMPORT_LEASE_SECONDS = env_int("HUB_IMPORT_LEASE_SECONDS", Q_CLUSTER["timeout"] + 60)
HUB_IMPORT_MAX_ATTEMPTS = env_int("HUB_IMPORT_MAX_ATTEMPTS", 3)

# --- Auth, i18n, static ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
SESSION_ENGINE = "hub.sessions"  # database sessions; keys Django never issues are no session
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username+address before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

# Admin login throttling (django-axes): after HUB_LOGIN_FAILURE_LIMIT failures for one username from
# one address, that pair is refused (even with the right password) for HUB_LOGIN_COOLOFF_MINUTES; a
# success resets the count. Attempts are kept in the database, so every web process shares them.
AXES_FAILURE_LIMIT = env_int("HUB_LOGIN_FAILURE_LIMIT", 5)
_cooloff_minutes = env_int("HUB_LOGIN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or _cooloff_minutes < 1:
    raise ImproperlyConfigured("HUB_LOGIN_FAILURE_LIMIT and HUB_LOGIN_COOLOFF_MINUTES must be 1 or more")
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hub.admin_site.login_locked"
# Behind N reverse proxies that append to X-Forwarded-For, the browser's address is the N-th from the right.
HUB_TRUSTED_PROXIES = env_int("HUB_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "hub.admin_site.client_address"
AXES_VERBOSE = False  # no start-up banner on every command; failures and lockouts are still logged

# Two-factor authentication for the admin (django-otp, TOTP): required, optional or off (hub/admin_site.py).
HUB_ADMIN_2FA = env_str("HUB_ADMIN_2FA", "optional").lower()
if HUB_ADMIN_2FA not in {"required", "optional", "off"}:
    raise ImproperlyConfigured(f"HUB_ADMIN_2FA={HUB_ADMIN_2FA!r}: use 'required', 'optional' or 'off'")
OTP_TOTP_ISSUER = "ERP Hub"  # the name authenticator apps show
# A TOTP device's key and QR code are never shown in the admin (anyone who may view devices could
# read another person's second factor); `manage.py hub_2fa enrol USER` shows them to the operator.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGES = [("en", "English"), ("fr", "Français")]
# The hub's own language: pages for browsers that ask for neither English nor French, operator
# e-mails, and messages written by background tasks (import summaries use their author's language).
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r}: use one of {', '.join(dict(LANGUAGES))}")
# One catalogue for the whole project (docs/ARCHITECTURE.md "Languages"); the compiled .mo files are
# committed, so no system gettext is needed to run the hub.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
# Numbers, dates and money in the reader's language: 1 234,50 and 31/12/2026 in French,
# 1,234.50 and Dec. 31, 2026 in English (Django's locale formats).
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["hub.formats"]  # French dates as 31/12/2026 (hub/formats/fr/formats.py)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.api.auth.ChannelTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # JSON only; bodies too deep or too large are 4xx answers (hub.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["hub.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "hub.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "hub.api.schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ERP Hub API",
    "DESCRIPTION": "Catalogue, live B2B prices, stock, orders and returns for storefronts. "
    "Authenticate with `Authorization: Token <key>` (one key per sales channel).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so that request-only rules (non-blank strings
    # have minLength 1, list bounds) describe what the API accepts and not what it answers.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public online validator (swagger.io) from a browser reading the docs.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hub@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
HUB_ALERT_EMAILS = env_list("HUB_ALERT_EMAILS", [])
# Connected systems' secrets are sealed at rest with these Fernet keys (first seals, all open;
# docs/connectors.md "Secrets at rest"); unset: a key derived from SECRET_KEY.
HUB_CREDENTIALS_KEYS = env_list("HUB_CREDENTIALS_KEYS", [])
HUB_ALERT_AFTER_FAILURES = env_int("HUB_ALERT_AFTER_FAILURES", 5)
# Webhook bodies past this size are refused (413) and only their first bytes kept.
HUB_WEBHOOK_MAX_BYTES = env_int("HUB_WEBHOOK_MAX_BYTES", 2_621_440)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use 'text' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "hub.logging.ContextFilter"}},
    "formatters": {
        "json": {"()": "hub.logging.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s task=%(task_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},  # failed logins and lockouts, not each step of counting them
        "django-q": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
