from django.core.management.base import CommandError
from django.utils.module_loading import autodiscover_modules

from hub.registry import resources


def resource_spec(name: str):
    autodiscover_modules("resources")
    spec = resources.get(name)
    if spec is None:
        raise CommandError(f"Unknown resource {name!r}. Known: {', '.join(sorted(resources)) or 'none'}.")
    return spec
