"""ShipStation API v1 speaks Pacific time without an offset, both ways ("all responses in PST/PDT
and requests expected in PST/PDT"): `2015-06-29T08:46:27.0000000` in answers, `2016-11-29
23:59:59` in filters. Converted with the real rules of America/Los_Angeles, so a summer
timestamp is seven hours behind UTC and a winter one eight, across both daylight-saving changes.
In the hour that repeats in November the text cannot say which of the two is meant: it is read as
the first (daylight) one, and polls read back far enough to cover the other."""

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

PACIFIC = ZoneInfo("America/Los_Angeles")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$")


def pacific_to_utc(text: str | None) -> datetime | None:
    """A ShipStation timestamp (Pacific, no offset) as an aware UTC datetime."""
    if not text:
        return None
    match = _STAMP.match(text.strip())
    if not match:
        raise RefusedData(Text(gettext_noop("not a ShipStation timestamp: %(text)s"), text=repr(text)))
    day, hour, minute, second, fraction = match.groups()
    year, month, date_ = (int(part) for part in day.split("-"))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    local = datetime(year, month, date_, int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=PACIFIC, fold=0)
    return local.astimezone(timezone.utc)


def utc_to_pacific(moment: datetime) -> str:
    """A moment as ShipStation wants it in a filter: Pacific wall-clock time, `YYYY-MM-DD HH:MM:SS`."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime")
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S")


def pacific_stamp(moment: datetime) -> str:
    """A moment as ShipStation writes it in its answers (seven decimals, no offset)."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"
