"""Hours that end when they start (22:00-22:00) are refused with the fix, wherever hours are set. The
fix must work for those hours: an installer who gives a tariff's night hours 22:00-22:00 was told to
'write the hours the gate opens ... or leave the hours empty for any time', and empty night hours
were refused in turn (review s38b). Each place is asked here as a user meets it (check-config, a CSV
import, the admin API, the central server's snapshot), and its advice is followed."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import ConfigError, parse_config
from gateway.errors import ImportRejected
from gateway.store.admin import import_csv
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.conftest import site_toml, write_csv
from tests.ui.conftest import Site, bearer, make_config, start_site

EXAMPLE = (Path(__file__).parents[2] / "config" / "example-estate.toml").read_text(encoding="utf-8")
SLIP = ["22:00-22:00"]
OR_EMPTY = "give an end different from the start, e.g. 08:00-18:00, or leave the hours empty for any time"
CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
}
CARDS = (f"00555{n:05d}" for n in itertools.count(1))
VERSIONS = itertools.count(1)
ROUTE = '[[patrol.routes]]\nid = "night"\ncheckpoints = ["south-gate-checkpoint"]'  # a patrol reader
IN_A_WEEK = (date.today() + timedelta(days=7)).isoformat()

# One way to set hours and see what is said: the refusal's text, or "" when the hours are taken.
Said = Callable[["Asked", list[str]], str]


class Asked:
    """A started site and its admin API, and a folder for what a case writes."""

    def __init__(self, site: Site, client: TestClient, tmp: Path):
        self.site, self.client, self.tmp = site, client, tmp


@pytest.fixture
def asked(tmp_path: Path) -> Iterator[Asked]:
    site = start_site(make_config(tmp_path / "data"))
    try:
        with TestClient(create_app(site.gw)) as client:
            yield Asked(site, client, tmp_path)
    finally:
        site.gw.stop()


def _check_config(old: str, new: Callable[[list[str]], str]) -> Said:
    """check-config on the example site.toml with `old` written as `new` of the hours."""

    def said(_: Asked, hours: list[str]) -> str:
        assert old in EXAMPLE, f"the example config no longer has {old!r}"
        try:
            parse_config(EXAMPLE.replace(old, new(hours), 1), "site.toml")
        except ConfigError as exc:
            return str(exc)
        return ""

    return said


def _one(hours: list[str]) -> str:
    return hours[0] if hours else ""


def _csv_import(a: Asked, hours: list[str]) -> str:
    tmp = a.tmp / uuid4().hex
    tmp.mkdir()
    residents = write_csv(tmp / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cards = write_csv(tmp / "c.csv", f"card,resident_ref,hours\n0055500555,R1,{';'.join(hours)}\n")
    try:
        import_csv(parse_config(site_toml(tmp / "data"), "site.toml"), [residents, cards])
    except ImportRejected as exc:
        return "\n".join(exc.problems)
    return ""


def _api(path: str, body: Callable[[Asked, list[str]], dict[str, object]]) -> Said:
    def said(a: Asked, hours: list[str]) -> str:
        r = a.client.post(path, json=body(a, hours), headers=bearer(a.site.admin_token))
        return "" if r.is_success else r.text

    return said


def _centre_snapshot(a: Asked, hours: list[str]) -> str:
    gw = a.site.gw
    resident = {
        "kind": "resident",
        "ref": "R1",
        "building": "3栋",
        "unit": "2单元",
        "room": "301",
        "name": "张三丰",
    }
    entries: list[dict[str, Any]] = [
        resident,
        {"kind": "card", "card": next(CARDS), "resident": "R1", "hours": hours},
    ]
    version = next(VERSIONS)
    conn = open_staging(gw.data_dir / STAGING_NAME)
    for i, part in enumerate(parts := encode_snapshot(version, entries, per_part=10)):
        save_part(conn, version, i + 1, len(parts), len(entries), part)
    conn.close()
    job = StageJob(
        gw.data_dir / STAGING_NAME,
        gw.db_path,
        gw.data_dir,
        "Asia/Shanghai",
        ("main",),
        100,
        "snapshot",
        version,
    )
    meta = stage(job)
    problems = json.loads(meta["problems"]) if isinstance(meta["problems"], str) else meta["problems"]
    return "\n".join(problems) if meta["status"] == "rejected" else ""


PLACES: dict[str, tuple[Said, str]] = {
    "a lane's opening hours (site.toml)": (
        _check_config('hours = ["05:00-24:00"]', lambda h: f"hours = {json.dumps(h)}"),
        OR_EMPTY,
    ),
    "a closed-management period's hours (site.toml)": (
        _check_config(  # commented out in the example, as the patrol route is
            "# [[policy.closed_management]]\n# first_day = 2026-12-01\n# last_day = 2026-12-31\n"
            '# hours = ["07:00-21:00"]',
            lambda h: (
                "[[policy.closed_management]]\nfirst_day = 2026-12-01\nlast_day = 2026-12-31\n"
                f"hours = {json.dumps(h)}"
            ),
        ),
        OR_EMPTY,
    ),
    "a tariff's night hours (site.toml)": (
        _check_config('night = { hours = "22:00-07:00"', lambda h: f'night = {{ hours = "{_one(h)}"'),
        "give the hours the night price applies, e.g. 22:00-07:00",
    ),
    "a patrol route's hours (site.toml)": (
        _check_config(
            '# [[patrol.routes]]\n# id = "night"\n# name = "夜间巡更"\n'
            '# checkpoints = ["south-gate-checkpoint"]\n# hours = "22:00-06:00"',
            lambda h: f'{ROUTE}\nhours = "{_one(h)}"',
        ),
        "give the hours rounds are due, e.g. 22:00-06:00",
    ),
    "a card's hours (CSV import)": (_csv_import, OR_EMPTY),
    "a card's hours (admin API)": (
        _api("/api/cards", lambda a, h: {"card": next(CARDS), "resident_id": a.site.resident_id, "hours": h}),
        OR_EMPTY,
    ),
    "a contractor pass's hours (admin API)": (
        _api("/api/contractors", lambda a, h: {**CREW, "valid_to": IN_A_WEEK, "hours": h}),
        OR_EMPTY,
    ),
    "a card's hours (central server's snapshot)": (_centre_snapshot, OR_EMPTY),
}


@pytest.mark.parametrize("place", PLACES)
def test_following_the_fix_for_hours_that_end_when_they_start(asked: Asked, place: str) -> None:
    """Told what to do instead of 22:00-22:00, the user who does it (the example given, or empty
    hours where the message offers them) is not refused again; and no place's fix speaks of a
    gate opening for hours that open none (a night price, a patrol round)."""
    said, fix = PLACES[place]
    refused = said(asked, SLIP)
    assert f"'22:00-22:00' end when they start: {fix}" in refused, refused
    assert "the gate opens" not in refused, refused
    example = re.search(r"e\.g\. (\d\d:\d\d-\d\d:\d\d)", fix)
    assert example is not None, fix
    assert said(asked, [example[1]]) == "", f"told {fix!r}; {example[1]} is refused in turn"
    if "leave the hours empty" in fix:
        assert said(asked, []) == "", f"told {fix!r}; empty hours are refused in turn"
