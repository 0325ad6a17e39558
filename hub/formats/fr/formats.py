"""French formats the back office reads: 31/12/2026 and 31/12/2026 14:05 everywhere (Django's own
French formats write dates out in words); numbers 1 234,50 come from Django's French formats."""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
