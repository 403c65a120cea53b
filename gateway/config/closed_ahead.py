"""A closed-management period in force or near, said by `gateway check-config` and at each start.

Every release's config/example-estate.toml until this one had a live period, 2026-12-01 to
2026-12-31, 07:00-21:00: a site copied from it keeps that period through upgrades, and from its
first day turns every temporary car away. A period the property office ordered is said just the
same: a month ahead is when an installer can still take out one that is not meant.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.config.models import ClosedManagement, SiteConfig
from gateway.core.windows import ClosedPeriod, Window, asked_of_each_occupant

CLOSED_AHEAD = timedelta(days=30)
# The period of the old example (commented out there since 97a5dc42), as sites copied it.
_OLD_EXAMPLE = (date(2026, 12, 1), date(2026, 12, 31), ["07:00-21:00"])


def closed_management_ahead(cfg: SiteConfig, now: datetime) -> list[str]:
    """A warning for each period in force at `now` (the box's clock; its days are the site's), or
    beginning within CLOSED_AHEAD, that keeps anyone out; none for one over or further off."""
    now = now.astimezone(ZoneInfo(cfg.site.timezone))
    today = now.date()
    found = []
    for i, period in enumerate(cfg.policy.closed_management):
        does = _what_it_does(period)
        if not does:
            continue
        windows = tuple(Window.parse(h) for h in period.hours)
        first, last = period.first_day, period.last_day
        if ClosedPeriod(first, last, windows).active(now):
            when = f"is in force now, to {last}"
        elif today < first or (today == first and all(now.time() < w.start for w in windows)):
            if first - today > CLOSED_AHEAD:
                continue
            days = (first - today).days
            when = {0: "begins today", 1: "begins tomorrow"}.get(days, f"begins in {days} days")
        elif today < last or (
            today == last and any(w.crosses_midnight or now.time() < w.end for w in windows)
        ):
            when = f"is in force, to {last}"  # between its hours; on its last day, some still to come
        else:
            continue
        hours = ", ".join(period.hours) + " each day" if period.hours else "all day"
        old = (
            " (the example config of releases before this one had this period live: a site copied "
            "from it keeps it)"
            if (period.first_day, period.last_day, period.hours) == _OLD_EXAMPLE
            else ""
        )
        found.append(
            f"policy.closed_management[{i}]: closed management (封闭管理) from {period.first_day} to "
            f"{period.last_day}, {hours}, {when}: {does}; if it is not meant{old}, delete this "
            "[[policy.closed_management]] block from the site config and restart the gateway "
            "(sudo systemctl restart estate-gateway)"
        )
    return found


def _what_it_does(period: ClosedManagement) -> str:
    """Whom it keeps out within its hours, in words; "" for one that keeps nobody out."""
    refused = []
    if period.temporary_vehicles == "refuse":
        refused.append("temporary (unregistered) cars")
    if period.contractors == "refuse":
        refused.append("contractors")
    said = f"{' and '.join(refused)} are refused (closed_management)" if refused else ""
    if period.visitor_fields:
        visitors = f"a visitor is let in only registered with {', '.join(period.visitor_fields)}"
        if each := sorted(asked_of_each_occupant(period.visitor_fields)):
            visitors += f" (each person in the vehicle with their own {' and '.join(each)})"
        said = f"{said}, and {visitors}" if said else visitors
    return said
