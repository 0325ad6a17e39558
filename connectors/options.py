"""Per-connector endpoint settings: a Django form is the schema.

A connector declares `settings_form`, a `ConnectorSettings` subclass whose fields are its options
(price list, warehouse → location map, API version, account codes…). The same form validates
`hub_endpoint add … --setting NAME=VALUE`, is shown in the endpoint's admin page, and cleans the
stored JSON into typed values for the flows (`endpoint.config`)."""

import json
from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class ConnectorSettings(forms.Form):
    """Base of every connector's settings form (no fields: a connector without options)."""

    def to_json(self) -> dict:
        """The cleaned values as stored: model instances by their lookup field, dates as ISO text."""
        stored = {}
        for name, value in self.cleaned_data.items():
            field = self.fields[name]
            if isinstance(value, models.Model):
                value = getattr(value, getattr(field, "to_field_name", None) or "pk")
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            stored[name] = value
        return stored


class MappingField(forms.Field):
    """A map of hub codes to vendor ids: `{"LYON-DC": "1001"}` or the text `LYON-DC=1001, 3PL-NORD=1002`."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})
    default_error_messages = {"format": _("Write one CODE=ID pair per line or comma-separated pairs, e.g. LYON-DC=1001.")}

    def __init__(self, *, known_codes=None, code_label=_("code"), **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.known_codes = known_codes
        self.code_label = code_label

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{code}={vendor_id}" for code, vendor_id in value.items())
        return value

    def to_python(self, value):
        if value in (None, "", {}):
            return {}
        if isinstance(value, dict):
            pairs = value.items()
        else:
            text = str(value).strip()
            if text.startswith("{"):
                try:
                    loaded = json.loads(text)
                except json.JSONDecodeError:
                    raise ValidationError(self.error_messages["format"], code="format") from None
                if not isinstance(loaded, dict):
                    raise ValidationError(self.error_messages["format"], code="format")
                pairs = loaded.items()
            else:
                pairs = []
                for item in text.replace("\n", ",").split(","):
                    if not item.strip():
                        continue
                    if "=" not in item:
                        raise ValidationError(self.error_messages["format"], code="format")
                    code, vendor_id = item.split("=", 1)
                    pairs.append((code, vendor_id))
        mapping = {}
        for code, vendor_id in pairs:
            code, vendor_id = str(code).strip(), str(vendor_id).strip()
            if not code or not vendor_id:
                raise ValidationError(self.error_messages["format"], code="format")
            mapping[code] = vendor_id
        return mapping

    def validate(self, value):
        super().validate(value)
        if value and self.known_codes is not None:
            known = set(self.known_codes())
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValidationError(_("Unknown %(what)s: %(codes)s."), code="unknown",
                                      params={"what": self.code_label, "codes": ", ".join(unknown)})


def with_defaults(form_class, values: dict) -> dict:
    """Stored or given values, completed with each field's initial value (its default)."""
    completed = dict(values)
    for name, field in form_class.base_fields.items():
        if name not in completed and field.initial is not None:
            completed[name] = field.initial() if callable(field.initial) else field.initial
    return completed


def settings_clean(*, connector, values: dict) -> dict:
    """Validate settings given as `{name: value}` (command line, API, data migration); returns
    what is stored. Unknown names and invalid values raise a ValidationError naming them."""
    form = connector.settings_form(data=with_defaults(connector.settings_form, values))
    unknown = sorted(set(values) - set(form.fields))
    errors = {}
    if unknown:
        errors["__all__"] = [_("Unknown setting(s) %(names)s; %(kind)s knows: %(known)s.") % {
            "names": ", ".join(unknown), "kind": connector.kind, "known": ", ".join(form.fields) or "none"}]
    if not form.is_valid():
        errors.update({name: [str(message) for message in messages] for name, messages in form.errors.items()})
    if errors:
        raise ValidationError(errors)
    return form.to_json()


class SettingsInvalid(Exception):
    """Stored settings no longer validate (e.g. a mapped warehouse was deleted)."""


def endpoint_config(endpoint) -> dict:
    """The endpoint's settings cleaned by its connector's form; cached on the instance until they change."""
    from connectors.registry import connector_for

    stamp = json.dumps(endpoint.settings or {}, sort_keys=True)
    cached = getattr(endpoint, "_config_cache", None)
    if cached and cached[0] == stamp:
        return cached[1]
    form_class = connector_for(endpoint).settings_form
    form = form_class(data=with_defaults(form_class, endpoint.settings or {}))
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        raise SettingsInvalid(f"the settings of endpoint {endpoint.code} are not valid any more ({problems}); fix them in the admin")
    endpoint._config_cache = (stamp, form.cleaned_data)
    return form.cleaned_data


def price_list_field(**kwargs) -> forms.ModelChoiceField:
    """A hub price list, stored by its code."""
    from catalog.models import PriceList

    kwargs.setdefault("required", False)
    kwargs.setdefault("label", _("Price list"))
    return forms.ModelChoiceField(queryset=PriceList.objects.all(), to_field_name="code", **kwargs)


def warehouse_map_field(**kwargs) -> MappingField:
    """Hub warehouse code → the vendor's location (or fulfilment centre) id."""
    from inventory.models import Warehouse

    kwargs.setdefault("label", _("Warehouse → location map"))
    kwargs.setdefault("help_text", _("One HUB-WAREHOUSE-CODE=VENDOR-LOCATION-ID pair per line."))
    return MappingField(known_codes=lambda: Warehouse.objects.values_list("code", flat=True), code_label=_("warehouse code(s)"), **kwargs)


def warehouse_codes(value: str) -> list[str]:
    """The codes of a comma-separated warehouse list setting, as stored."""
    return [code.strip() for code in (value or "").replace("\n", ",").split(",") if code.strip()]


class WarehouseCodesField(forms.CharField):
    """Hub warehouse codes feeding one stock pool, comma-separated; validated against the
    warehouses and stored as `A,B`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        from inventory.models import Warehouse

        codes = warehouse_codes(super().clean(value))
        unknown = sorted(set(codes) - set(Warehouse.objects.filter(code__in=codes).values_list("code", flat=True)))
        if unknown:
            raise ValidationError(_("Unknown warehouse code(s): %(codes)s."), params={"codes": ", ".join(unknown)})
        return ",".join(codes)
