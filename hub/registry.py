"""Extension points the kernel offers to higher apps, which register in `AppConfig.ready()`.

The kernel never imports a higher app; apps plug themselves in here.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceSpec:
    """A spreadsheet resource for `hub_import` / `hub_export` and the admin.

    `importer(path, *, dry_run, options)` and `exporter(path, *, options)` are callables provided
    by the owning app (or by the import engine on its behalf). An exporter returns the number of
    rows written, or (rows, path written) when it names the file itself. `target` says whether
    the path is a file or a folder; `takes_period` that it reads `--from`/`--to` (options
    `date_from`/`date_to`).
    """

    name: str
    label: str
    importer: object | None = None
    exporter: object | None = None
    order: int = 100
    target: str = "file"
    takes_period: bool = False


@dataclass(frozen=True)
class ProcessSpec:
    """A companion process that `hub_run` starts beside the web server and task cluster."""

    name: str
    argv: list[str]
    when_demo_only: bool = True
    env: dict = field(default_factory=dict)


resources: dict[str, ResourceSpec] = {}
processes: dict[str, ProcessSpec] = {}


def register_resource(spec: ResourceSpec) -> None:
    resources[spec.name] = spec


def register_process(spec: ProcessSpec) -> None:
    processes[spec.name] = spec


@dataclass(frozen=True)
class ScheduleSpec:
    """A recurring task, kept in django-q2's schedule table by `schedules_sync`."""

    name: str
    func: str
    minutes: int


schedules: dict[str, ScheduleSpec] = {}


def register_schedule(spec: ScheduleSpec) -> None:
    schedules[spec.name] = spec


register_schedule(ScheduleSpec(name="hub.heartbeat", func="hub.tasks.heartbeat", minutes=1))
register_schedule(ScheduleSpec(name="hub.imports.sweep", func="hub.imports.tasks.import_job_sweep_task", minutes=1))
register_schedule(ScheduleSpec(name="hub.retention", func="hub.tasks.retention_purge_task", minutes=60))


@dataclass(frozen=True)
class RetentionSpec:
    """Rows an app lets go once they are older than `setting` days (a Django setting; 0 keeps
    them for ever): `expired(cutoff)` returns the queryset of such rows."""

    name: str
    setting: str
    expired: object


retention: dict[str, RetentionSpec] = {}


def register_retention(spec: RetentionSpec) -> None:
    retention[spec.name] = spec


@dataclass(frozen=True)
class DemoSeeder:
    """`seed(*, scale, rng) -> str` adds an app's demo records; runs by increasing `order`."""

    name: str
    seed: object
    order: int


demo_seeders: dict[str, DemoSeeder] = {}


def register_demo_seeder(spec: DemoSeeder) -> None:
    demo_seeders[spec.name] = spec


@dataclass(frozen=True)
class AdminPanelSpec:
    """A read-only panel a higher app adds to a lower app's admin page (e.g. inventory's stock
    per warehouse on catalog's product page). `render(request, obj)` returns HTML; `permission`
    ("app_label.codename") hides the panel from staff without it."""

    model: str  # "app_label.ModelName"
    name: str
    title: str
    render: object
    permission: str = ""
    order: int = 100


admin_panels: dict[str, dict[str, AdminPanelSpec]] = {}


def register_admin_panel(spec: AdminPanelSpec) -> None:
    admin_panels.setdefault(spec.model, {})[spec.name] = spec


def admin_panels_for(model_label: str) -> list[AdminPanelSpec]:
    return sorted(admin_panels.get(model_label, {}).values(), key=lambda spec: (spec.order, spec.name))


@dataclass(frozen=True)
class OverviewPanelSpec:
    """A block of figures on the admin index, contributed by the app that owns the data.

    `build(*, request, now) -> hub.overview.Panel | None` reads through the app's selectors with a
    fixed number of queries, whatever the amount of data, and returns None when the user may not
    see what the panel counts. Panels are shown by increasing `order`; apps register them in an
    `overview.py` module, found when the admin index is first drawn.
    """

    name: str
    build: object
    order: int = 100


overview_panels: dict[str, OverviewPanelSpec] = {}


def register_overview_panel(spec: OverviewPanelSpec) -> None:
    overview_panels[spec.name] = spec
