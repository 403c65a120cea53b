"""Checks across sections that one model alone cannot make."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.config.devicecheck import check_devices
from gateway.config.devices import SerialReaderDevice
from gateway.config.models import Lane, SiteConfig, Zone
from gateway.config.parking import CARD_FORM_READERS, guard_cards_never_read
from gateway.config.problems import Loc, Problem


def cross_check(cfg: SiteConfig) -> list[Problem]:
    problems: list[Problem] = []
    problems += _unique("zones", (z.id for z in cfg.zones))
    problems += _unique("gates", (g.id for g in cfg.gates))
    problems += _unique("lanes", (lane.id for lane in cfg.lanes))
    problems += _unique("devices", (d.id for d in cfg.devices))
    gates = [g.id for g in cfg.gates]
    zones = [z.id for z in cfg.zones]
    lanes = [lane.id for lane in cfg.lanes]
    for i, lane in enumerate(cfg.lanes):
        problems += _reference(("lanes", i, "gate"), lane.gate, gates, "gate")
        if lane.type == "vehicle" and lane.zone is None:
            problems.append(
                Problem(
                    ("lanes", i, "zone"),
                    "a vehicle lane needs the zone it leads to",
                    fix=f"add zone = one of {zones}" if zones else "add a [[zones]] table and name it here",
                )
            )
        if lane.zone is not None:
            problems += _reference(("lanes", i, "zone"), lane.zone, zones, "zone")
        if lane.type == "pedestrian" and lane.vehicle_class is not None:
            problems.append(
                Problem(
                    ("lanes", i, "vehicle_class"),
                    "a pedestrian lane has no vehicles",
                    lane.vehicle_class,
                    fix='remove vehicle_class, or make the lane type = "vehicle"',
                )
            )
    lane_types = {lane.id: lane.type for lane in cfg.lanes}
    for i, device in enumerate(cfg.devices):
        problems += _reference(("devices", i, "lane"), device.lane, lanes, "lane")
        inputs = getattr(device, "inputs", None)
        button = getattr(inputs, "exit_button", None)
        if button is not None and lane_types.get(device.lane) == "vehicle":
            problems.append(
                Problem(
                    ("devices", i, "inputs", "exit_button"),
                    "an exit button lets a person out through a door: a vehicle lane has none",
                    button,
                    fix="wire it on a device of the pedestrian lane whose door it opens, or remove it",
                )
            )
    for i, period in enumerate(cfg.policy.closed_management):
        if period.last_day < period.first_day:
            problems.append(
                Problem(
                    ("policy", "closed_management", i, "last_day"),
                    "the period ends before it starts",
                    str(period.last_day),
                    fix=f"set last_day on or after {period.first_day}",
                )
            )
    problems += _parking(cfg)
    problems += check_devices(cfg)
    if cfg.mqtt.enabled and (cfg.mqtt.cert_file is None) != (cfg.mqtt.key_file is None):
        problems.append(
            Problem(
                ("mqtt", "cert_file"),
                "a client certificate needs its key and the key its certificate",
                fix="set both cert_file and key_file, or neither",
            )
        )
    if (cfg.http.tls_cert_file is None) != (cfg.http.tls_key_file is None):
        problems.append(
            Problem(
                ("http", "tls_cert_file"),
                "HTTPS needs both the certificate and its key",
                fix="set both tls_cert_file and tls_key_file, or neither",
            )
        )
    return problems


def _entrance_zone(lane: Lane, zone_by_id: dict[str, Zone]) -> Zone | None:
    """The zone a vehicle entrance leads to (None for an exit: no exit is refused for a full zone)."""
    if lane.type != "vehicle" or lane.direction != "entrance" or lane.zone is None:
        return None
    return zone_by_id.get(lane.zone)


def _no_spaces_for_class(i: int, lane: Lane, zone_by_id: dict[str, Zone]) -> str | None:
    """A motorcycle or bicycle entrance into a zone with no spaces of its class: every vehicle of the
    class read there is refused 车位已满 (zone_full) in an empty car park, a registered one too, as
    fixed slots are car slots (core.decide)."""
    zone = _entrance_zone(lane, zone_by_id)
    vclass = lane.vehicle_class
    if zone is None or vclass is None or vclass == "car" or getattr(zone.capacity, vclass) > 0:
        return None
    others = [z.id for z in zone_by_id.values() if getattr(z.capacity, vclass) > 0]
    elsewhere = f", lead the lane to a zone that has some ({', '.join(others)})" if others else ""
    return (
        f"lanes[{i}] {lane.id}: takes {vclass}s into zone {zone.id!r}, which has no {vclass} spaces (its "
        f"capacity.{vclass} is 0): every {vclass} read there, a registered one too (fixed slots are car "
        f"slots), is refused 车位已满 (zone_full); add {vclass} = (its {vclass} spaces) to the capacity "
        f"of zone {zone.id!r}{elsewhere}, or remove vehicle_class (unregistered vehicles there are then cars)"
    )


def _no_car_spaces(i: int, lane: Lane, zone_by_id: dict[str, Zone]) -> str | None:
    """A car entrance into a zone with no car spaces (capacity.car = 0): cars on their own fixed
    slots there still come in (a zone of the slot holders alone may be meant)."""
    zone = _entrance_zone(lane, zone_by_id)
    if zone is None or lane.vehicle_class not in (None, "car") or zone.capacity.car > 0:
        return None
    return (
        f"lanes[{i}] {lane.id}: leads into zone {zone.id!r}, whose capacity.car is 0: only cars "
        "on their own fixed slots there come in; every other car (a visitor's, a monthly or a "
        "temporary one) is refused 车位已满 (zone_full); set capacity.car to the zone's car "
        "spaces, fixed slots included"
    )


def capacity_warnings(cfg: SiteConfig) -> list[str]:
    """An entrance into a zone with no spaces for the vehicles it takes, for check-config to say.
    A warning, not a refusal: a site upgraded with such a lane keeps running (its other lanes with
    it), and a zone of slot holders alone may be meant."""
    zone_by_id = {z.id: z for z in cfg.zones}
    found = []
    for i, lane in enumerate(cfg.lanes):
        for said in (_no_spaces_for_class(i, lane, zone_by_id), _no_car_spaces(i, lane, zone_by_id)):
            if said is not None:
                found.append(said)
    return found


# The estates' management plans ask camera footage kept one week (REQUIREMENTS 7).
SNAPSHOTS_DAYS_ASKED = 7


def retention_warnings(cfg: SiteConfig) -> list[str]:
    """Snapshots kept less than the week the management plans ask: a warning, not a refusal (an
    estate may choose fewer, a small card may need it), said in the journal as the config loads."""
    days = cfg.retention.snapshots_days
    if days >= SNAPSHOTS_DAYS_ASKED:
        return []
    return [
        f"retention.snapshots_days = {days}: camera snapshots are kept {days} day{'s' if days > 1 else ''}, "
        f"less than the one week the estate management plans ask; fix: set snapshots_days = "
        f"{SNAPSHOTS_DAYS_ASKED} (or more) under [retention] in the site config, unless the estate "
        "chose fewer"
    ]


# Etc/GMT+8 and the like: POSIX names, whose sign is the inverse of the offset (Etc/GMT+8 is UTC-8).
_ETC_GMT = re.compile(r"Etc/GMT([+-])(\d{1,2})")
CHINA_ZONE = "Asia/Shanghai"


def timezone_warnings(cfg: SiteConfig) -> list[str]:
    """An Etc/GMT+N or Etc/GMT-N zone (N not 0): valid, but its sign is the inverse of what it reads,
    so an installer who knows China's time as "GMT+8" writes Etc/GMT+8, UTC-8, and the site's clock
    (opening hours, closed-management days, fees, reports) runs 16 hours behind Beijing. A
    warning, not a refusal, as for retention_warnings: a site may keep such a zone on purpose."""
    name = cfg.site.timezone
    found = _ETC_GMT.fullmatch(name)
    if found is None or int(found[2]) == 0:
        return []
    now = datetime.now(UTC)
    here, china = now.astimezone(ZoneInfo(name)), now.astimezone(ZoneInfo(CHINA_ZONE))
    behind = round(
        ((china.utcoffset() or timedelta()) - (here.utcoffset() or timedelta())) / timedelta(hours=1)
    )
    offset = here.strftime("%z")
    if behind == 0:
        where, fix = "Beijing time", "the same time, named as it reads"
    else:
        side = "behind" if behind > 0 else "ahead of"
        where, fix = f"{abs(behind)} hours {side} Beijing time", "China's time"
    return [
        f'site.timezone = "{name}" is UTC{offset[:3]}:{offset[3:]}, {where}: the sign of an Etc/GMT '
        "name is the inverse of the offset (China's GMT+8 is Etc/GMT-8), "
        "and the site's opening hours, closed-management days, fees and reports follow it; fix: set "
        f'timezone = "{CHINA_ZONE}" under [site] in the site config ({fix}), unless the site keeps '
        "this offset on purpose"
    ]


def _unique(section: str | tuple[str, ...], ids: Iterable[str]) -> list[Problem]:
    listed = list(ids)
    counts = Counter(listed)
    where = (section,) if isinstance(section, str) else section
    return [
        Problem(
            (*where, listed.index(i, listed.index(i) + 1), "id"),
            f"id {i!r} is used twice",
            i,
            fix="give each one its own id",
        )
        for i, n in counts.items()
        if n > 1
    ]


def _reference(path: Loc, value: str, known: list[str], what: str) -> list[Problem]:
    if value in known:
        return []
    guess = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return [Problem(path, f"no {what} has this id", value, fix=f"{hint}known {what}s: {known}")]


def _unknown_checkpoint(path: Loc, value: str, cfg: SiteConfig) -> Problem:
    # Only a patrol reader is offered: a door reader taken from the fix would be refused next
    # (devicecheck: its reads are access requests, never patrol taps).
    patrol = [d.id for d in cfg.devices if isinstance(d, SerialReaderDevice) and d.role == "patrol"]
    if not patrol:
        fix = 'add role = "patrol" to the checkpoint\'s reader in [[devices]], and give its id here'
    else:
        guess = difflib.get_close_matches(value, patrol, n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        fix = (
            f'{hint}known readers: {patrol} (those with role = "patrol": a door reader is never a checkpoint)'
        )
    return Problem(path, "no reader has this id", value, fix=fix)


def _parking(cfg: SiteConfig) -> list[Problem]:
    problems = _unique(("patrol", "routes"), (r.id for r in cfg.patrol.routes))
    readers = [d.id for d in cfg.devices if d.kind == "reader"]
    for i, route in enumerate(cfg.patrol.routes):
        for j, checkpoint in enumerate(route.checkpoints):
            if checkpoint not in readers:
                problems.append(
                    _unknown_checkpoint(("patrol", "routes", i, "checkpoints", j), checkpoint, cfg)
                )
    problems += _guard_cards_never_read(cfg)
    if cfg.policy.exit_without_entry == "charge":
        rates = [t.car for t in cfg.parking.tariffs]
        # A day of a tariff without a car rate is free: charge would let such a car out as open does.
        if not rates or any(r is None for r in rates):
            problems.append(
                Problem(
                    ("policy", "exit_without_entry"),
                    "charge needs every tariff to price cars: such a car pays a day of the car rate "
                    "(its daily_cap_fen, or a 24-hour stay by it)",
                    "charge",
                    fix="add a [parking.tariffs.car] to each tariff, or use guard or open",
                )
            )
    return problems


def _guard_cards_never_read(cfg: SiteConfig) -> list[Problem]:
    """A guard card no checkpoint of the site would read (its leading zeros lost, 372653390), where
    every checkpoint is an EM4100 or Wiegand reader; where some are line readers, check-config warns
    (filecheck.py): such a reader may give that number."""
    formats = {d.format for d in cfg.devices if isinstance(d, SerialReaderDevice) and d.role == "patrol"}
    if not formats or not formats <= set(CARD_FORM_READERS):
        return []
    return [
        Problem(("patrol", "guard_cards", i), what, fix=fix)
        for i, what, fix in guard_cards_never_read(cfg.patrol.guard_cards)
    ]


def guard_card_warnings(cfg: SiteConfig) -> list[str]:
    """`gateway check-config`'s word of a guard card the EM4100 and Wiegand checkpoints would never
    read, where others are line readers (refused where all are: _guard_cards_never_read)."""
    patrol = [d for d in cfg.devices if isinstance(d, SerialReaderDevice) and d.role == "patrol"]
    cards = sorted(d.id for d in patrol if d.format in CARD_FORM_READERS)
    if not cards or len(cards) == len(patrol):
        return []
    return [
        f"patrol.guard_cards[{i}]: {what} at checkpoints {', '.join(cards)}; {fix}"
        for i, what, fix in guard_cards_never_read(cfg.patrol.guard_cards)
    ]
