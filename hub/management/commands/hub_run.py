import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules

from hub.registry import processes
from hub.services import schedules_sync

DEMO_ADMIN = ("admin", "admin")


class Command(BaseCommand):
    help = (
        "Run the whole hub in the foreground: web server, task cluster (workers + scheduler) and, "
        "with --demo, the demo data, a demo admin and the connector sandboxes. Ctrl-C stops everything."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("HUB_BIND", "127.0.0.1:8000"))
        parser.add_argument("--demo", action="store_true", help="Seed demo data once, create the demo admin, start sandboxes.")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument("--production", action="store_true",
                            help="Serve with gunicorn (hub/gunicorn_conf.py: workers, threads; printed) after collectstatic.")

    def handle(self, *args, bind, demo, no_migrate, production, **options):
        if demo and not settings.DEBUG:
            raise CommandError("--demo creates the admin/admin login: development only (DEBUG=1, as make run sets)")
        if production and (demo or settings.DEBUG):
            raise CommandError("--production runs with DEBUG off, without --demo")
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        if demo:
            call_command("seed_demo", if_empty=True, stdout=self.stdout)
            self._ensure_demo_admin()
        autodiscover_modules("runtime")
        schedules_sync()

        python = sys.executable
        web = [python, "manage.py", "runserver", bind, "--noreload"]
        if production:
            call_command("collectstatic", interactive=False, verbosity=0)
            os.environ["HUB_BIND"] = bind
            from hub import gunicorn_conf
            self.stdout.write(gunicorn_conf.layout())
            web = [python, "-m", "gunicorn", "-c", gunicorn_conf.__file__]
        commands = {
            "web": web,
            "tasks": [python, "manage.py", "qcluster"],
        }
        for spec in processes.values():
            if demo or not spec.when_demo_only:
                commands[spec.name] = spec.argv
        children = {}
        for name, argv in commands.items():
            children[name] = subprocess.Popen(argv, cwd=settings.BASE_DIR, env={**os.environ})
            self.stdout.write(f"started {name}: pid {children[name].pid}")
        self.stdout.write(self.style.SUCCESS(f"ERP Hub on http://{bind}/admin/ — health at http://{bind}/healthz — Ctrl-C stops."))

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with status {child.returncode}; stopping the hub.")
                        exit_code = child.returncode or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        self.stdout.write("stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _ensure_demo_admin(self):
        username, password = DEMO_ADMIN
        User = get_user_model()
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(username=username, email="admin@example.com", password=password)
        self.stdout.write(self.style.WARNING(f"Demo admin: http://{os.environ.get('HUB_BIND', '127.0.0.1:8000')}/admin/  login '{username}' / password '{password}'"))
