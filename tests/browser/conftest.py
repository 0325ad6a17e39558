"""Browser tests: Debian's Chromium driven by Playwright against a live hub.

- `live_server` (pytest-django): the hub in a thread of the test process, on the test database
  (transactional: what the test writes is committed, so the server and the task cluster see it).
- `task_cluster`: a real `manage.py qcluster` process on the same database, for journeys that
  need background work.
- `staff_page`: a Chromium page 1366 × 900 px, French (`Accept-Language: fr`, locale fr-FR, Paris
  time), logged in through the admin's login form as a staff user holding every permission (not
  a superuser: permission checks run as they do for real staff).
- Every test leaves a screenshot of its last screen in `var/screenshots/<test>.png` (ignored by
  git); `tour(page, "name")` saves a step too, and with HUB_TOUR_SCREENSHOTS=docs/images also
  writes it there as `name.png` (the illustrated tour in docs/back-office.md).

No browser is downloaded: Playwright drives the system's Chromium (HUB_CHROMIUM, default
/usr/bin/chromium). Where it is missing the tests are skipped and say how to install it.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 900}
SCREENSHOTS = ROOT / "var" / "screenshots"
PASSWORD = "une-phrase-de-passe-solide"
# A loaded 2-core machine: every wait is generous; Playwright's auto-waiting does the rest (no sleeps).
ACTION_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 60_000

# Playwright's sync API runs its event loop in the test's thread; Django's ORM would take that for an
# async context and refuse. The loop never runs ORM calls itself, so the calls the test makes are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def _missing_browser() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"no browser: {CHROMIUM} is missing; install Debian's Chromium with `apt-get install -y chromium` "
                f"(.ci/run does it) or set HUB_CHROMIUM to a Chromium executable")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no browser driver: the `playwright` package is missing; install the dev dependencies (`pip install -e '.[dev]'`)"
    return None


@pytest.fixture(scope="session")
def browser():
    if reason := _missing_browser():
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ACTION_TIMEOUT_MS)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=NAVIGATION_TIMEOUT_MS)
        yield chromium
        chromium.close()


def _test_file_name(nodeid: str) -> str:
    name = nodeid.split("::")[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:150]


@pytest.fixture
def page(browser, live_server, request):
    """A fresh French-speaking browser (own cookies and storage) on the live hub."""
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR", timezone_id=settings.TIME_ZONE,
                                  extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"}, base_url=live_server.url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for number, open_page in enumerate(context.pages):
            suffix = "" if number == 0 else f"-{number}"
            open_page.screenshot(path=SCREENSHOTS / f"{_test_file_name(request.node.nodeid)}{suffix}.png", full_page=True)
    finally:
        context.close()


@pytest.fixture
def staff_user(django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("claire", password=PASSWORD, is_staff=True, first_name="Claire", last_name="Dubois")
    user.user_permissions.set(Permission.objects.all())
    return user


def log_in(page, user, password=PASSWORD):
    page.goto("/admin/login/?next=/admin/")
    page.locator("input[name=username]").fill(user.get_username())
    page.locator("input[name=password]").fill(password)
    page.locator("form#login-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


@pytest.fixture
def staff_page(page, staff_user):
    log_in(page, staff_user)
    return page


@pytest.fixture
def tour(request):
    """`tour(page, "name")`: keep this screen under var/screenshots, and in HUB_TOUR_SCREENSHOTS
    (e.g. docs/images) as `name.png` when that is set."""
    target = os.environ.get("HUB_TOUR_SCREENSHOTS", "")

    def shoot(page, name: str, *, full_page: bool = False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_test_file_name(request.node.nodeid)}--{name}.png"
        page.screenshot(path=path, full_page=full_page)
        if target:
            folder = Path(target) if Path(target).is_absolute() else ROOT / target
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / f"{name}.png")
        return path

    return shoot


def fr(text) -> str:
    """What a French reader sees for this text (a model's choice label, a gettext message)."""
    from django.utils import translation

    with translation.override("fr"):
        return str(text)


def database_url_of_test_db() -> str:
    from tests.hub.test_task_cluster import database_url_of_test_db as url

    return url()


@pytest.fixture
def task_cluster(live_server):
    """A real django-q2 cluster (and its scheduler) on the test database, in its own process group."""
    from django.db import connection

    from hub.services import schedules_sync

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("a task cluster runs in its own process, which cannot open an in-memory SQLite database: "
                    "leave SQLITE_TEST_NAME unset (a file database) or use PostgreSQL")
    schedules_sync()
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "Q_WORKERS": "1", "DEBUG": "1"}
    process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_for(condition, *, timeout: float, what: str, cluster=None):
    """Poll the database for what a background worker does (the browser side waits through Playwright)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if cluster is not None:
            assert cluster.poll() is None, "the task cluster stopped: " + cluster.stderr.read().decode()[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s")
