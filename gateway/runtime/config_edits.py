"""What the store holds that a site config edited since no longer covers, said at start.

The installer edits site.toml between restarts, and the store keeps what the old config allowed.
Lanes closed or held open under an old id are HandLanes.modes_again's. Here: stays that began before
the oldest tariff, and fixed slots in a zone the config no longer has. Neither stops the start: the
lanes must keep working, and the admin needs the API to put it right.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, time

from gateway.parking.book import BILLABLE
from gateway.parking.fees import Tariff
from gateway.site import Site
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

_SLOT_ZONES = "SELECT zone, fixed FROM zone_slots WHERE fixed > 0 ORDER BY zone"
_OPEN_STAYS_BEFORE = (
    f"SELECT count(*) FROM stays WHERE exited_at IS NULL AND entered_at < ? "
    f"AND billing IN ({', '.join('?' * len(BILLABLE))})"
)


def slots_outside_zones(conn: sqlite3.Connection, site: Site) -> dict[str, int]:
    """Zone -> fixed slots the store has in it, for each zone the site config lacks (renamed or
    removed): the lookup finds no slot in the lane's zone for their cars, which come in as cars
    without a slot (policy.no_slot) and pay, or are refused."""
    zones = {zone.id for zone in site.config.zones}
    return {zone: fixed for zone, fixed in conn.execute(_SLOT_ZONES) if zone not in zones}


def stays_before_prices(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site) -> int:
    """Cars parked now, paying by time, that came in before the oldest tariff's first day: they pay
    it from that day (fees.tariff_of_stay), their time before it free."""
    if not tariffs:
        return 0
    first_day = datetime.combine(tariffs[0].effective_from, time(0), site.tz)
    return int(conn.execute(_OPEN_STAYS_BEFORE, (to_db(first_day), *BILLABLE)).fetchone()[0])


def say_at_start(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site) -> None:
    for zone, fixed in slots_outside_zones(conn, site).items():
        log.error(
            "%d fixed slot(s) are in zone %r, which the site config does not have: their residents' "
            'cars come in without a slot (they pay, or are refused where policy.no_slot = "refuse"); '
            "fix: if the zone was renamed, give it its old id %r again in site.toml, or re-import the "
            "slots (or have the central server send them again) in one of the configured zones %s",
            fixed,
            zone,
            zone,
            sorted(z.id for z in site.config.zones),
        )
    before = stays_before_prices(conn, tariffs, site)
    if before:
        oldest = tariffs[0]
        log.warning(
            "%d car(s) parked now came in before %s, the first day of the oldest tariff (%s) in the "
            "config: they pay it from that day, their time before it free; fix: if an older tariff was "
            "taken out of the config, put it back in [[parking.tariffs]] (kept, its time is charged at "
            "its prices)",
            before,
            oldest.effective_from,
            oldest.version,
        )
