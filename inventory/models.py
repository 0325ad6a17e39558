from django.db import models

from hub.models import code_validator


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        OWN = "own", "Own warehouse"
        THIRD_PARTY = "3pl", "3PL"
        SHOP = "shop", "Shop"

    code = models.CharField(max_length=50, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OWN)
    address = models.TextField(blank=True)
    country = models.CharField(max_length=2, default="FR")
    priority = models.IntegerField(default=0, help_text="Higher is allocated first.")
    is_sellable = models.BooleanField(default=True, help_text="Its stock counts towards available-to-sell.")
    allow_negative = models.BooleanField(default=False, help_text="Accept movements that take on-hand below zero.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
