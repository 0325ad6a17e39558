"""The shared kernel: sales channels and their API tokens, gapless number series, the change
feed (outbox) that connectors read, and timelines of business events."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.money import CURRENCY_CHOICES
from hub.texts import text_shown

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$",
    "Use letters, digits, '.', '_' or '-' (up to 50 characters, starting with a letter or digit).",
)


class SalesChannel(models.Model):
    class Kind(models.TextChoices):
        WEB = "web", _("Online store")
        MARKETPLACE = "marketplace", _("Marketplace")
        POS = "pos", _("Shop / POS")
        B2B = "b2b", _("B2B portal")
        PHONE = "phone", _("Phone / staff orders")

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WEB)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    country = models.CharField(_("country"), max_length=2, default="FR", help_text=_("ISO 3166-1 alpha-2 home market."))
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ApiToken(models.Model):
    """A storefront's key. Only a SHA-256 of the key is stored; the key is shown once."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("channel"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, help_text=_("First characters of the key, to recognise it."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("created by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        permissions = [("issue_apitoken", _("Can issue API tokens")), ("revoke_apitoken", _("Can revoke API tokens"))]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.channel.code})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class NumberSequence(models.Model):
    """Gapless numbering per series (e.g. `INV-2026`). Values are taken inside the transaction
    that issues the document, under a row lock, so a rollback gives the number back."""

    series = models.CharField(_("series"), max_length=50, unique=True)
    last_value = models.PositiveBigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_value}"


class ChangeEvent(models.Model):
    """The change feed: written in the same transaction as the change it describes.

    Connectors read it (by increasing id) to learn what to push; `origin` names the system a
    change came from so that it is never echoed back there.
    """

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        DELETED = "deleted"

    topic = models.CharField(_("topic"), max_length=60, help_text=_("What changed, e.g. 'catalog.price' or 'inventory.stock'."))
    object_id = models.CharField(_("object id"), max_length=64)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, default=Action.UPDATED)
    origin = models.CharField(_("origin"), max_length=60, blank=True, help_text=_("Source system (endpoint code), blank for the hub."))
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("change event")
        verbose_name_plural = _("change events")
        indexes = [models.Index(fields=["topic", "id"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic}:{self.object_id} {self.action}"


class TimelineEvent(models.Model):
    """Who did what to a business document, when and why (orders, RMAs, …)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, verbose_name=_("content type"))
    object_id = models.CharField(_("object id"), max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    event = models.CharField(_("event"), max_length=60)
    message = models.TextField(_("message"), blank=True, help_text=_("In English, for searching."))
    message_text = models.JSONField(_("translatable message"), null=True, blank=True, default=None, editable=False,
                                    help_text=_("The message's English text and parameters, shown in the reader's language."))
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor"))
    actor_label = models.CharField(_("actor label"), max_length=100, blank=True, help_text=_("System actor when no user, e.g. 'shopify:main'."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return gettext("%(event)s at %(when)s") % {"event": self.event, "when": date_format(timezone.localtime(self.created_at), "SHORT_DATETIME_FORMAT")}

    @property
    def message_shown(self) -> str:
        """The message in the active language (entries written before messages were translatable: as stored)."""
        return text_shown(self.message_text, self.message)

    @property
    def who(self) -> str:
        if self.actor_id:
            return self.actor.get_username()
        return self.actor_label or "system"


class Heartbeat(models.Model):
    """Last time a task worker ran the heartbeat task (shown by `/healthz`)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    seen_at = models.DateTimeField(_("seen at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
from hub.imports.models import ImportJob  # noqa: E402,F401  (import history lives with the import engine)
