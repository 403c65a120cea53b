"""The tariff versions of a site config edited since the gateway first saw them, said at start.

The gateway keeps when it first saw each version and its prices (gateway/store/config_seen.py). A
car pays the prices published when it came in (明码标价): a version whose prices were edited in
place, one added on or after its first day (it prices only the cars that came in after), one taken
out while cars parked under it are still inside, one put back while cars that came in while it was
out are inside (they pay the prices published then), and cars parked since before the oldest
version are said at start, and the first and third in health (tariffs_edited_in_place).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict
from datetime import date, datetime, time, tzinfo

from gateway.core.model import Billing
from gateway.parking.book import BILLABLE
from gateway.parking.fees import Tariff, tariff_of_stay
from gateway.parking.tariffs import known_since
from gateway.site import Site
from gateway.store.config_seen import (
    keep_tariffs_gone,
    keep_tariffs_put_back,
    tariffs_first_seen,
    tariffs_gone,
    tariffs_seen,
)
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

# A stay (`s`) that pays by time: a temporary or visitor car, or a monthly car with a period that
# can end while it is parked (it pays the time past it at the prices of its entry,
# gateway/parking/book.py). The period is as the book reads it: the register's, else the one its
# stay kept (struck off, cleared). Its parameters: BILLABLE.
_PRICED_BY_TIME = f"""(s.billing IN ({", ".join("?" * len(BILLABLE))})
OR (s.billing = '{Billing.MONTHLY.value}' AND coalesce(
    (SELECT v.monthly_until FROM vehicles v WHERE v.id = s.vehicle_id), s.monthly_until) IS NOT NULL))"""
_OPEN_STAYS_BEFORE = (
    f"SELECT count(*) FROM stays s WHERE s.exited_at IS NULL AND s.entered_at < ? AND {_PRICED_BY_TIME}"
)
# Cars parked now that came in from a version's first day before it was seen, and pay by time.
_OPEN_STAYS_PRICED_BETWEEN = f"""
SELECT count(*) FROM stays s WHERE s.exited_at IS NULL AND s.entered_at < ? AND s.entered_at >= ?
AND {_PRICED_BY_TIME}
"""
_OPEN_STAYS = f"SELECT s.id, s.entered_at FROM stays s WHERE s.exited_at IS NULL AND {_PRICED_BY_TIME}"
_OPEN_STAYS_IN = f"""
SELECT s.id, s.plate, s.entered_at FROM stays s WHERE s.exited_at IS NULL AND s.entered_at >= ?
AND s.entered_at < ? AND {_PRICED_BY_TIME}
"""


def stays_before_prices(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site) -> int:
    """Cars parked now, paying by time, that came in before the oldest tariff's first day: they pay
    it from that day (fees.tariff_of_stay), their time before it free."""
    if not tariffs:
        return 0
    first_day = datetime.combine(tariffs[0].effective_from, time(0), site.tz)
    return int(conn.execute(_OPEN_STAYS_BEFORE, (to_db(first_day), *BILLABLE)).fetchone()[0])


def prices(tariff: Tariff) -> str:
    """A version's first day and rates as text that compares equal exactly when they are the same."""
    rates = {vclass: asdict(rate) for vclass, rate in tariff.rates.items()}
    return json.dumps({"from": tariff.effective_from, "rates": rates}, default=str, sort_keys=True)


def tariffs_edited_in_place(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]) -> list[str]:
    """Versions in the config whose first day or prices differ from those the gateway first saw under
    that name: a car parked under the old numbers pays the new ones, its charge stamped with the
    version's name all the same, and the published price (明码标价) no longer says what was charged.
    Then the versions taken out of the config that cars still parked came in under
    (parked_under_gone_tariffs): they pay another version's prices, not those published to them."""
    return _edited(conn, tariffs) + sorted(parked_under_gone_tariffs(conn, tariffs))


def _edited(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]) -> list[str]:
    kept = {version: value for version, (value, _) in tariffs_seen(conn).items()}
    return [t.version for t in tariffs if kept.get(t.version, prices(t)) != prices(t)]


def tariffs_known(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], now: datetime) -> tuple[Tariff, ...]:
    """The config's versions, each with when the gateway first saw it (tariffs.known_since)."""
    return known_since(tariffs, tariffs_first_seen(conn, now))


def tariffs_dated_back(
    conn: sqlite3.Connection, known: tuple[Tariff, ...], site: Site
) -> list[tuple[Tariff, int]]:
    """Versions (`known`: tariffs_known's) first seen when their first day had begun ("from today",
    or dated back): they price only the cars in after they were seen (fees.tariff_at), each with how
    many cars parked now came in from its first day before that, and pay what was published then
    (monthly cars among them, for the time past their period)."""
    dated_back = []
    for t in known:
        if t.known_from is None or t.effective_from > t.known_from.astimezone(site.tz).date():
            continue  # known for ever, or published ahead of its day, as prices should be
        first_day = datetime.combine(t.effective_from, time(0), site.tz)
        args = (to_db(t.known_from), to_db(first_day), *BILLABLE)
        dated_back.append((t, int(conn.execute(_OPEN_STAYS_PRICED_BETWEEN, args).fetchone()[0])))
    return dated_back


def parked_while_out(
    conn: sqlite3.Connection, known: tuple[Tariff, ...]
) -> dict[str, list[tuple[int, str | None, datetime]]]:
    """Versions (`known`: tariffs_known's) put back in the config while cars that came in when they
    were out (Tariff.out) are parked, paying by time: those cars' stays (id, plate, entry). They pay
    the version published when they came in, not the one put back (fees.tariff_at)."""
    parked = {}
    for t in known:
        rows = [
            row
            for start, end in t.out
            for row in conn.execute(_OPEN_STAYS_IN, (to_db(start), to_db(end), *BILLABLE)).fetchall()
        ]
        if rows:
            parked[t.version] = [(sid, plate, datetime.fromisoformat(at)) for sid, plate, at in rows]
    return parked


def _every_version_seen(conn: sqlite3.Connection, now: datetime) -> tuple[Tariff, ...]:
    """Every version the gateway has seen, gone from the config or not, by its first day as first
    seen and with when it was first seen: without prices, to tell which one a stay came in under."""
    seen = tariffs_seen(conn)
    first_days = {
        version: date.fromisoformat(json.loads(value)["from"]) for version, (value, _) in seen.items()
    }
    in_order = sorted(seen, key=lambda version: (first_days[version], seen[version][1]))
    every = tuple(Tariff(version, first_days[version]) for version in in_order)
    return known_since(every, tariffs_first_seen(conn, now))


def _find_gone(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    """Versions gone from the config since the last start: the stays parked under them, kept
    (config_seen.keep_tariffs_gone). A version is under a stay's entry as fees.tariff_of_stay finds
    it among the versions then in the config: all seen, less those found gone before it."""
    in_config = {t.version for t in tariffs}
    keep_tariffs_put_back(conn, sorted(in_config), now)
    before = tariffs_gone(conn)
    every = _every_version_seen(conn, now)
    under: dict[str, list[int]] = {
        t.version: [] for t in every if t.version not in in_config and t.version not in before
    }
    if not under:
        return
    for stay_id, entered_at in conn.execute(_OPEN_STAYS, BILLABLE).fetchall():
        entered = datetime.fromisoformat(entered_at).astimezone(site.tz)
        then = tuple(t for t in every if t.version not in before or before[t.version][1] > entered)
        priced = tariff_of_stay(then, entered)
        if priced is not None and priced[0].version in under:
            under[priced[0].version].append(stay_id)
    keep_tariffs_gone(conn, under, now)


def parked_under_gone_tariffs(
    conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]
) -> dict[str, list[tuple[int, str | None, datetime]]]:
    """Versions taken out of the config that cars still parked came in under: their stays (id,
    plate, entry). Those cars pay the version the config gives their entry now."""
    in_config = {t.version for t in tariffs}
    parked = {}
    for version, (stay_ids, _) in tariffs_gone(conn).items():
        if version in in_config or not stay_ids:
            continue
        marks = ",".join("?" * len(stay_ids))
        rows = conn.execute(
            f"SELECT id, plate, entered_at FROM stays WHERE exited_at IS NULL AND id IN ({marks})",
            stay_ids,
        ).fetchall()
        if rows:
            parked[version] = [(sid, plate, datetime.fromisoformat(at)) for sid, plate, at in rows]
    return parked


def _pays(known: tuple[Tariff, ...], plate: str | None, stay_id: int, entered: datetime, tz: tzinfo) -> str:
    """A car parked under a version gone, and what it pays now, in a start's warning."""
    local = entered.astimezone(tz)
    priced = tariff_of_stay(known, local)
    pays = "nothing (no tariff left)"
    if priced is not None:
        version, since = priced[0].version, priced[1]
        pays = f"{version!r}" + ("" if since == local else f" from {since:%Y-%m-%d %H:%M}")
    return f"{plate or f'stay {stay_id}'} (in {local:%Y-%m-%d %H:%M}) pays {pays}"


def _cars_and_what_they_pay(
    known: tuple[Tariff, ...], stays: list[tuple[int, str | None, datetime]], tz: tzinfo
) -> str:
    """The first ten of these cars and what each pays (_pays), and how many more, for a warning."""
    cars = [_pays(known, plate, stay_id, entered, tz) for stay_id, plate, entered in stays]
    more = f" and {len(cars) - 10} more" if len(cars) > 10 else ""
    return "; ".join(cars[:10]) + more


def say_of_tariffs(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    """What a start says of the tariff versions, once it has kept those it sees (config_seen): edited
    in place, added on or after their first day (said at the start that first sees one, then while
    cars it does not price are parked), taken out while cars parked under them are still inside, and
    cars parked since before the oldest; put back while cars that came in when it was out are
    parked (said while they are)."""
    _find_gone(conn, tariffs, site, now)
    for version in _edited(conn, tariffs):
        log.error(
            "tariff version %r has other prices (or another first day) in site.toml than when the "
            "gateway first charged by it: cars parked under the old prices pay the new ones, their "
            "charges stamped %r all the same; fix: put version %r back as it was and add the new "
            "prices as a new [[parking.tariffs]] version (a new name, a later effective_from), or, if "
            "the old prices were never in force, give the edited one a new name",
            version,
            version,
            version,
        )
    known = tariffs_known(conn, tariffs, now)
    # Seen first by this start: its time is the start's, whatever tariffs_first_seen makes of it.
    seen_now = {version for version, (_, at) in tariffs_seen(conn).items() if at == now}
    for tariff, parked in tariffs_dated_back(conn, known, site):
        if parked == 0 and tariff.version not in seen_now:
            continue
        seen = tariff.known_from.astimezone(site.tz) if tariff.known_from else now
        log.warning(
            "tariff version %r is dated %s, but the gateway first saw it at %s: it prices the cars "
            "that came in from then on, and %d car(s) parked now that came in before pay the prices "
            "published when they came in (明码标价; a monthly car, for the time past its period); "
            "fix: nothing, if that is what was meant; publish new prices ahead, dated from a later day "
            "than the day they are added",
            tariff.version,
            tariff.effective_from,
            f"{seen:%Y-%m-%d %H:%M}",
            parked,
        )
    for version, stays in parked_while_out(conn, known).items():
        log.warning(
            "tariff version %r is back in site.toml, but %d car(s) parked now came in while it was "
            "out: they pay the prices published when they came in (明码标价), not %r's: %s; fix: "
            "nothing, if that is what was meant",
            version,
            len(stays),
            version,
            _cars_and_what_they_pay(known, stays, site.tz),
        )
    for version, stays in parked_under_gone_tariffs(conn, tariffs).items():
        log.warning(
            "tariff version %r is gone from site.toml, but %d car(s) parked now came in under it: "
            "they pay another version now, not the prices published when they came in: %s; fix: "
            "put version %r back in [[parking.tariffs]] as it was, and take it out once they have "
            "left (GET /api/parking/stays lists the cars inside)",
            version,
            len(stays),
            _cars_and_what_they_pay(known, stays, site.tz),
            version,
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
