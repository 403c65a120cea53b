"""Checks across sections that one model alone cannot make."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable

from gateway.config.devicecheck import check_devices
from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
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
    for i, device in enumerate(cfg.devices):
        problems += _reference(("devices", i, "lane"), device.lane, lanes, "lane")
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
